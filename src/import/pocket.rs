//! Pocket's exports: the current one, a ZIP of `part_*.csv` files (or one
//! of those CSVs on its own), and the legacy `ril_export.html`.
//!
//! CSV columns are `title,url,time_added,cursor,tags,status`, found by
//! name (older files lack `cursor`); `tags` is `|`-separated and `status`
//! is `unread` or `archive`. The HTML has an `<h1>Unread</h1>` list and an
//! `<h1>Read Archive</h1>` list of links carrying `time_added` and `tags`
//! (comma-separated) attributes.

use std::fs::File;
use std::path::Path;

use html5ever::tokenizer::{TagKind, Token};

use super::archive;
use super::csvfile::{self, Row};
use super::html::{self, Handler};
use super::item::{self, Bookmark, Entry};
use crate::error::{Error, Result};

/// Reads a Pocket export, ZIP or CSV: which one is told by the ZIP
/// signature, not the file's name.
pub fn read(path: &Path, sink: &mut dyn FnMut(Entry) -> Result<()>) -> Result<()> {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let is_zip = File::open(path)
        .and_then(|mut f| f.read(&mut magic))
        .map(|n| n == 4 && &magic == b"PK\x03\x04")
        .unwrap_or(false);
    if is_zip {
        read_zip(path, sink)
    } else {
        read_csv(path, sink)
    }
}

/// Reads one Pocket CSV.
pub fn read_csv(path: &Path, sink: &mut dyn FnMut(Entry) -> Result<()>) -> Result<()> {
    let name = path.display().to_string();
    let file = File::open(path)
        .map_err(|e| Error::BadInput(format!("cannot read {name} ({e}); check the path")))?;
    read_csv_from(file, &name, "", sink)
}

/// Reads the CSVs in a Pocket export ZIP, in name order (Pocket numbers
/// them `part_000000.csv`, `part_000001.csv`, ...). Every CSV in the ZIP
/// is read when none is named `part_*`, as when someone re-zips the files.
pub fn read_zip(path: &Path, sink: &mut dyn FnMut(Entry) -> Result<()>) -> Result<()> {
    let name = path.display().to_string();
    let mut zip = archive::open(path)?;
    let csvs: Vec<String> = archive::file_names(&zip)
        .into_iter()
        .filter(|n| n.to_lowercase().ends_with(".csv"))
        .collect();
    let parts: Vec<String> = csvs
        .iter()
        .filter(|n| archive::base_name(n).starts_with("part_"))
        .cloned()
        .collect();
    let mut members = if parts.is_empty() { csvs } else { parts };
    if members.is_empty() {
        return Err(Error::BadInput(format!(
            "{name} holds no CSV file, so it is not a Pocket export; pass the right file, or --format if nj guessed wrong"
        )));
    }
    members.sort();
    for member in members {
        let file = zip
            .by_name(&member)
            .map_err(|e| archive::damaged(&name, format!("{member}: {e}")))?;
        let place = format!("{} ", archive::base_name(&member));
        read_csv_from(file, &format!("{name}: {member}"), &place, sink)?;
    }
    Ok(())
}

const TITLE: usize = 0;
const URL: usize = 1;
const TIME_ADDED: usize = 2;
const TAGS: usize = 3;
const STATUS: usize = 4;

fn read_csv_from(
    input: impl std::io::Read,
    name: &str,
    place: &str,
    sink: &mut dyn FnMut(Entry) -> Result<()>,
) -> Result<()> {
    csvfile::read(
        input,
        name,
        place,
        &["title", "url", "time_added", "tags", "status"],
        &["url"],
        &mut bookmark,
        sink,
    )
}

fn bookmark(row: &Row) -> std::result::Result<Bookmark, String> {
    let url = item::web_url(&row.get(URL))?;
    let mut tags = Vec::new();
    for tag in row.get(TAGS).split('|') {
        item::push_tag(&mut tags, tag);
    }
    Ok(Bookmark {
        title: item::title(&row.get(TITLE), &url),
        tags,
        // A time that does not parse loses only the date: the link is
        // what the user saved, so it is kept.
        added_at: item::parse_unix_time(&row.get(TIME_ADDED)),
        read: row.get(STATUS).trim().eq_ignore_ascii_case("archive"),
        url,
        ..Bookmark::default()
    })
}

/// Reads Pocket's legacy `ril_export.html`.
pub fn read_html(path: &Path, sink: &mut dyn FnMut(Entry) -> Result<()>) -> Result<()> {
    html::read(path, &mut RilExport::default(), sink)
}

/// Where the tokenizer is in a `ril_export.html`.
#[derive(Default)]
struct RilExport {
    /// Under `<h1>Read Archive</h1>` rather than `<h1>Unread</h1>`.
    archive: bool,
    /// The text of the `<h1>` being read.
    heading: Option<String>,
    /// The link being read: its line, bookmark (or why not) and title text.
    link: Option<(u64, std::result::Result<Bookmark, String>, String)>,
    done: Vec<Entry>,
}

impl Handler for RilExport {
    fn token(&mut self, token: Token, line: u64) {
        match token {
            Token::TagToken(tag) => match (tag.kind, &*tag.name) {
                (TagKind::StartTag, "h1") => self.heading = Some(String::new()),
                (TagKind::EndTag, "h1") => {
                    if let Some(h) = self.heading.take() {
                        // "Read Archive"; anything else with "archive" in
                        // it is taken as that too, anything without as
                        // unread.
                        self.archive = h.to_lowercase().contains("archive");
                    }
                }
                (TagKind::StartTag, "a") => {
                    self.finish_link();
                    let attr = |n: &str| {
                        tag.attrs
                            .iter()
                            .find(|a| &*a.name.local == n)
                            .map(|a| a.value.to_string())
                            .unwrap_or_default()
                    };
                    let item = item::web_url(&attr("href")).map(|url| {
                        let mut tags = Vec::new();
                        for t in attr("tags").split(',') {
                            item::push_tag(&mut tags, t);
                        }
                        Bookmark {
                            url,
                            tags,
                            added_at: item::parse_unix_time(&attr("time_added")),
                            read: self.archive,
                            ..Bookmark::default()
                        }
                    });
                    self.link = Some((line, item, String::new()));
                }
                (TagKind::EndTag, "a") => self.finish_link(),
                _ => {}
            },
            Token::CharacterTokens(text) => {
                if let Some((_, _, title)) = &mut self.link {
                    title.push_str(&text);
                } else if let Some(h) = &mut self.heading {
                    h.push_str(&text);
                }
            }
            _ => {}
        }
    }

    fn take(&mut self) -> Vec<Entry> {
        std::mem::take(&mut self.done)
    }

    fn end(&mut self) {
        self.finish_link();
    }
}

impl RilExport {
    fn finish_link(&mut self) {
        if let Some((line, item, text)) = self.link.take() {
            let item = item.map(|mut b| {
                b.title = item::title(&text, &b.url);
                b
            });
            self.done.push(Entry {
                place: format!("line {line}"),
                item,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::item::testing::{fixture, message, read_all, write_zip};
    use crate::time::Timestamp;

    fn ok(e: &Entry) -> &Bookmark {
        e.item.as_ref().expect("a bookmark")
    }

    #[test]
    fn csv_reads_every_field_quoting_newlines_and_non_ascii() {
        let entries = read_all(read, &fixture("pocket.csv")).unwrap();
        let places: Vec<&str> = entries.iter().map(|e| e.place.as_str()).collect();
        assert_eq!(
            places,
            ["line 2", "line 3", "line 5", "line 6", "line 7", "line 8", "line 9"]
        );
        assert_eq!(
            entries[0].item,
            Ok(Bookmark {
                url: "https://harbour.example/tides?a=1&b=2".into(),
                title: Some("Harbour lights, and the tide table".into()),
                tags: vec!["boats".into(), "coast".into()],
                added_at: Some(Timestamp(1_700_000_000_000)),
                read: false,
                read_at: None,
                content: None,
                notes: vec![],
            })
        );
        let quoted = ok(&entries[1]);
        assert_eq!(
            quoted.title.as_deref(),
            Some("A title with \"quotes\"\nand a second line")
        );
        assert!(quoted.read);
        assert!(quoted.tags.is_empty());
        let unicode = ok(&entries[2]);
        assert_eq!(unicode.title.as_deref(), Some("Ünïcode — café naïve 東京"));
        assert_eq!(unicode.url, "https://unicode.example/ü");
        assert_eq!(unicode.tags, ["日本", "café"]);
        assert!(unicode.read, "status is matched in any case");
        // A title that is the URL is no title; a bad time loses only the time.
        let untitled = ok(&entries[3]);
        assert_eq!(untitled.title, None);
        assert_eq!(untitled.added_at, None);
        assert_eq!(untitled.tags, ["spaced"]);
        assert_eq!(
            entries[4].item,
            Err(
                "has 4 fields where the header has 6; a field with a comma may lack its quotes"
                    .into()
            )
        );
        assert_eq!(entries[5].item, Err("no URL".into()));
        assert_eq!(ok(&entries[6]).url, "https://last.example/");
    }

    #[test]
    fn csv_columns_are_found_by_name_in_any_case_after_a_bom() {
        let entries = read_all(read, &fixture("pocket_no_cursor.csv")).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].place, "line 2");
        assert_eq!(
            entries[0].item,
            Ok(Bookmark {
                url: "https://bom.example/one".into(),
                title: Some("First without cursor".into()),
                tags: vec!["news".into()],
                added_at: Some(Timestamp(1_600_000_000_000)),
                read: true,
                ..Bookmark::default()
            })
        );
    }

    #[test]
    fn empty_and_headless_files() {
        assert!(read_all(read, &fixture("pocket_header_only.csv"))
            .unwrap()
            .is_empty());
        let empty = message(read_all(read, &fixture("empty.csv")));
        assert!(
            empty.ends_with("empty.csv is empty; download the export again"),
            "{empty}"
        );
        let no_url = message(read_all(read, &fixture("pocket_no_url.csv")));
        assert!(
            no_url.contains(
                "has no `url` column (its columns are: title, link, time_added, tags, status)"
            ),
            "{no_url}"
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_do_not_lose_the_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latin1.csv");
        std::fs::write(
            &path,
            b"title,url,time_added,tags,status\nCaf\xe9,https://latin.example/,1700000000,,unread\n",
        )
        .unwrap();
        let entries = read_all(read, &path).unwrap();
        assert_eq!(ok(&entries[0]).title.as_deref(), Some("Caf\u{fffd}"));
    }

    #[test]
    fn zip_reads_its_parts_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pocket.zip");
        write_zip(
            &path,
            &[
                (
                    "part_000001.csv",
                    b"title,url,time_added,cursor,tags,status\nSecond,https://two.example/,1700000001,b,x,archive\n",
                ),
                (
                    "part_000000.csv",
                    "title,url,time_added,cursor,tags,status\nPremi\u{e8}re,https://one.example/,1700000000,a,,unread\n,,,,,\n".as_bytes(),
                ),
                ("readme.txt", b"not a CSV"),
            ],
        );
        let entries = read_all(read, &path).unwrap();
        let got: Vec<(&str, std::result::Result<&str, &str>)> = entries
            .iter()
            .map(|e| {
                (
                    e.place.as_str(),
                    e.item
                        .as_ref()
                        .map(|b| b.url.as_str())
                        .map_err(|e| e.as_str()),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("part_000000.csv line 2", Ok("https://one.example/")),
                ("part_000000.csv line 3", Err("no URL")),
                ("part_000001.csv line 2", Ok("https://two.example/")),
            ]
        );
        assert_eq!(ok(&entries[0]).title.as_deref(), Some("Première"));
        assert!(ok(&entries[2]).read);
    }

    #[test]
    fn a_truncated_zip_is_an_error_that_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pocket.zip");
        let rows: String = (0..200)
            .map(|i| format!("T{i},https://t.example/{i},1700000000,c,,unread\n"))
            .collect();
        let csv = format!("title,url,time_added,cursor,tags,status\n{rows}");
        write_zip(&path, &[("part_000000.csv", csv.as_bytes())]);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let msg = message(read_all(read, &path));
        assert!(msg.contains("pocket.zip is cut off or damaged ("), "{msg}");
        assert!(
            msg.ends_with("so nothing was imported; download the export again"),
            "{msg}"
        );
    }

    #[test]
    fn ril_export_html_reads_both_lists() {
        let entries = read_all(read_html, &fixture("ril_export.html")).unwrap();
        assert_eq!(entries.len(), 4);
        assert_eq!(entries[0].place, "line 11");
        assert_eq!(
            entries[0].item,
            Ok(Bookmark {
                url: "https://unread.example/a?x=1&y=2".into(),
                title: Some("Seeds & soil — notes".into()),
                tags: vec!["garden".into(), "spring".into()],
                added_at: Some(Timestamp(1_500_000_000_000)),
                read: false,
                ..Bookmark::default()
            })
        );
        assert_eq!(ok(&entries[1]).title, None);
        assert!(!ok(&entries[1]).read);
        assert_eq!(
            entries[2].item,
            Ok(Bookmark {
                url: "https://read.example/c".into(),
                title: Some("Café au lait".into()),
                tags: vec!["Ünï".into()],
                added_at: Some(Timestamp(1_400_000_000_000)),
                read: true,
                ..Bookmark::default()
            })
        );
        assert_eq!(
            entries[3].item,
            Err("not a web address (javascript:alert(1))".into())
        );
    }
}
