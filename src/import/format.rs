//! The formats `nj import` reads, and telling them apart.

use std::path::Path;

use serde::Serialize;

use super::item::Entry;
use crate::error::{Error, Result};

/// The formats `nj import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// newsjournal's own JSON export (`nj export --format json`)
    Newsjournal,
    /// Pocket's export: a ZIP of part_*.csv files, or one CSV
    Pocket,
    /// Pocket's legacy ril_export.html
    PocketHtml,
    /// Netscape bookmark HTML (browsers, buku, linkding, Shiori)
    Netscape,
    /// wallabag's JSON export
    Wallabag,
    /// Instapaper's CSV export
    Instapaper,
    /// Omnivore's export ZIP
    Omnivore,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Newsjournal => "newsjournal JSON",
            Format::Pocket => "Pocket CSV",
            Format::PocketHtml => "Pocket HTML",
            Format::Netscape => "Netscape bookmarks",
            Format::Wallabag => "wallabag JSON",
            Format::Instapaper => "Instapaper CSV",
            Format::Omnivore => "Omnivore ZIP",
        }
    }
}

/// Tells a file's format from its contents. `None` when it is none nj
/// reads. Only the first 16 KiB are read, and for a ZIP its directory.
pub fn detect(path: &Path) -> Result<Option<Format>> {
    use std::io::Read;
    let mut head = Vec::with_capacity(HEAD);
    std::fs::File::open(path)
        .and_then(|f| f.take(HEAD as u64).read_to_end(&mut head))
        .map_err(|e| {
            Error::BadInput(format!(
                "cannot read {} ({e}); check the path",
                path.display()
            ))
        })?;
    if head.is_empty() {
        return Err(Error::BadInput(format!(
            "{} is empty; export the library again",
            path.display()
        )));
    }
    if head.starts_with(b"PK\x03\x04") {
        return detect_zip(path);
    }
    Ok(detect_text(&head))
}

/// How much of a file detection reads: enough for a CSV header, an HTML
/// head, or the first keys of a JSON object.
const HEAD: usize = 16 * 1024;

/// A ZIP is Omnivore's when it has metadata files, Pocket's when it has
/// CSVs.
fn detect_zip(path: &Path) -> Result<Option<Format>> {
    let zip = super::archive::open(path)?;
    let names = super::archive::file_names(&zip);
    if names.iter().any(|n| super::omnivore::is_metadata(n)) {
        Ok(Some(Format::Omnivore))
    } else if names.iter().any(|n| n.to_lowercase().ends_with(".csv")) {
        Ok(Some(Format::Pocket))
    } else {
        Ok(None)
    }
}

/// What a file nj cannot import probably is, when that is one of the
/// mistakes people make: one metadata file out of an unzipped Omnivore
/// export.
pub fn unknown_hint(path: &Path) -> Option<&'static str> {
    use std::io::Read;
    let mut head = Vec::with_capacity(HEAD);
    std::fs::File::open(path)
        .and_then(|f| f.take(HEAD as u64).read_to_end(&mut head))
        .ok()?;
    let text = String::from_utf8_lossy(&head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    (text.starts_with('[') && text.contains("\"slug\"") && text.contains("\"savedAt\""))
        .then_some(
            "it looks like one metadata file of an unzipped Omnivore export; import the export's ZIP, which holds the texts and highlights too",
        )
}

fn detect_text(head: &[u8]) -> Option<Format> {
    if super::newsjournal::looks_like(head) {
        return Some(Format::Newsjournal);
    }
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start();
    let lower = text.to_lowercase();
    if lower.starts_with('<') {
        if lower.contains("<!doctype netscape-bookmark-file") {
            return Some(Format::Netscape);
        }
        if lower.contains("<title>pocket export</title>") || lower.contains("<h1>unread</h1>") {
            return Some(Format::PocketHtml);
        }
        // Some tools leave out the doctype but keep the structure.
        if lower.contains("<dl") && lower.contains("<dt") && lower.contains("<a href") {
            return Some(Format::Netscape);
        }
        return None;
    }
    if text.starts_with('[') {
        // The first entry's keys; wallabag's own ones, not generic ones
        // like `url` and `title`.
        let wallabag_keys = [
            "\"is_archived\"",
            "\"is_starred\"",
            "\"reading_time\"",
            "\"domain_name\"",
            "\"annotations\"",
            "\"given_url\"",
        ];
        // An article's `content` can push them past what is read, so an
        // array of objects with `url` and `content` counts too: no other
        // format nj reads is a JSON array.
        let wallabag = wallabag_keys.iter().any(|k| text.contains(k))
            || (text.contains("\"url\"") && text.contains("\"content\""));
        return wallabag.then_some(Format::Wallabag);
    }
    let header: Vec<String> = text
        .lines()
        .next()
        .unwrap_or("")
        .split(',')
        .map(|c| c.trim().trim_matches('"').to_lowercase())
        .collect();
    let has = |c: &str| header.iter().any(|h| h == c);
    if has("url") && has("time_added") {
        Some(Format::Pocket)
    } else if has("url") && has("selection") && has("folder") {
        Some(Format::Instapaper)
    } else {
        None
    }
}

/// Reads a bookmark-style file (every format but newsjournal's own),
/// handing each item to `sink` in the file's order. A file that cannot be
/// read at all (not a ZIP, cut off, no header) is an error; an item that
/// cannot be read is an [`Entry`] with its reason, and reading goes on.
pub fn read_bookmarks(
    format: Format,
    path: &Path,
    sink: &mut dyn FnMut(Entry) -> Result<()>,
) -> Result<()> {
    match format {
        Format::Pocket => super::pocket::read(path, sink),
        Format::PocketHtml => super::pocket::read_html(path, sink),
        Format::Netscape => super::netscape::read(path, sink),
        Format::Wallabag => super::wallabag::read(path, sink),
        Format::Instapaper => super::instapaper::read(path, sink),
        Format::Omnivore => super::omnivore::read(path, sink),
        Format::Newsjournal => Err(Error::BadInput(
            "a newsjournal export is not a bookmark file; import it without --format".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::item::testing::{fixture, write_zip};

    #[test]
    fn detects_every_format() {
        for (file, want) in [
            ("pocket.csv", Some(Format::Pocket)),
            ("pocket_no_cursor.csv", Some(Format::Pocket)),
            ("ril_export.html", Some(Format::PocketHtml)),
            ("bookmarks.html", Some(Format::Netscape)),
            ("bookmarks_linkding.html", Some(Format::Netscape)),
            ("wallabag.json", Some(Format::Wallabag)),
            ("instapaper.csv", Some(Format::Instapaper)),
            ("instapaper_tags.csv", Some(Format::Instapaper)),
            ("omnivore/highlights/garden-paths-18c2.md", None),
            ("omnivore/metadata_0_to_2.json", None),
        ] {
            assert_eq!(detect(&fixture(file)).unwrap(), want, "{file}");
        }
    }

    #[test]
    fn detects_zips_and_newsjournal_exports() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.zip");
        write_zip(&path, &[("part_000000.csv", b"title,url\n")]);
        assert_eq!(detect(&path).unwrap(), Some(Format::Pocket));
        write_zip(
            &path,
            &[("metadata_0_to_20.json", b"[]"), ("content/a.html", b"")],
        );
        assert_eq!(detect(&path).unwrap(), Some(Format::Omnivore));
        write_zip(&path, &[("photo.jpg", b"")]);
        assert_eq!(detect(&path).unwrap(), None);

        let empty = dir.path().join("empty.csv");
        std::fs::write(&empty, "").unwrap();
        let msg = detect(&empty).unwrap_err().to_string();
        assert!(
            msg.ends_with("empty.csv is empty; export the library again"),
            "{msg}"
        );

        let long = dir.path().join("long.json");
        let content = "x".repeat(HEAD);
        std::fs::write(
            &long,
            format!("[{{\"title\": \"t\", \"url\": \"https://a.example/\", \"content\": \"{content}\", \"is_archived\": 0}}]"),
        )
        .unwrap();
        assert_eq!(detect(&long).unwrap(), Some(Format::Wallabag));

        let json = dir.path().join("nj.json");
        std::fs::write(&json, "{\n  \"format\": \"newsjournal\", \"version\": 1}").unwrap();
        assert_eq!(detect(&json).unwrap(), Some(Format::Newsjournal));
    }
}
