//! wallabag's JSON export: one array of entries, each with `url`, `title`,
//! `content` (HTML), `tags`, `is_archived`, `created_at`, `archived_at`,
//! `updated_at` and `annotations` (`{quote, text, ...}`).
//!
//! The array is streamed: an export with the articles' text runs to
//! gigabytes, so only one entry is held at a time, and none over
//! [`MAX_ENTRY_BYTES`]. An entry that is valid
//! JSON but not a usable entry is rejected with its reason; a file that is
//! not JSON or is cut off is an error.

use std::cell::Cell;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use serde::{Deserialize, Deserializer};

use super::bounded::{bounded, is_over_cap};
use super::item::{self, Body, Bookmark, Entry};
use super::jsonarray::{each_element, Stopped};
use crate::error::{Error, Result};
use crate::time::parse_published;

/// The largest entry read (README, "nj import"). serde_json holds a whole
/// string before it hands it over, so a 512 MB `content` took that and
/// more. An entry is an article's text, which an item may bring up to 50
/// MB of (more is rejected), its annotations and a few small fields, with
/// JSON's escapes on top; past this the file is broken or hostile, and the
/// import stops rather than read on.
pub(crate) const MAX_ENTRY_BYTES: u64 = 64 << 20;

/// Reads a wallabag export.
pub fn read(path: &Path, sink: &mut dyn FnMut(Entry) -> Result<()>) -> Result<()> {
    let name = path.display().to_string();
    let file = File::open(path)
        .map_err(|e| Error::BadInput(format!("cannot read {name} ({e}); check the path")))?;
    if file.metadata().map(|m| m.len()).unwrap_or(1) == 0 {
        return Err(Error::BadInput(format!(
            "{name} is empty; export the entries from wallabag again"
        )));
    }
    read_from(file, &name, sink)
}

fn read_from(
    input: impl std::io::Read,
    name: &str,
    sink: &mut dyn FnMut(Entry) -> Result<()>,
) -> Result<()> {
    let (input, entry_start) = bounded(input, MAX_ENTRY_BYTES);
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, input));
    let n = Cell::new(0);
    let result = each_element(
        &mut de,
        "a list of wallabag entries",
        &|| {
            entry_start.start();
            n.set(n.get() + 1);
        },
        &mut |value| {
            let item = serde_json::from_value::<WallabagEntry>(value)
                .map_err(|e| format!("not a wallabag entry: {e}"))
                .and_then(bookmark);
            sink(Entry {
                place: format!("entry {}", n.get()),
                item,
            })
        },
    )
    .and_then(|()| de.end().map_err(Stopped::Parse));
    let e = match result {
        Ok(()) => return Ok(()),
        Err(Stopped::Handler(e)) => return Err(e),
        Err(Stopped::Parse(e)) => e,
    };
    use serde_json::error::Category;
    Err(match e.classify() {
        Category::Eof => Error::Refused(format!(
            "{name} is cut off ({e}), so nothing was imported; export the entries from wallabag again"
        )),
        Category::Io => {
            let e = std::io::Error::from(e);
            if is_over_cap(&e) {
                Error::Refused(format!(
                    "entry {} of {name} is more than {} MB, more than an article's text (at most {} MB) and its annotations take, so nothing was imported; export the entries from wallabag again",
                    n.get(),
                    MAX_ENTRY_BYTES >> 20,
                    crate::clip::MAX_INPUT_BYTES >> 20
                ))
            } else {
                Error::BadInput(format!("cannot read {name} ({e}); check the file"))
            }
        }
        Category::Syntax | Category::Data => Error::Refused(format!(
            "{name} is not a wallabag JSON export ({e}), so nothing was imported; pass the file wallabag's \"Export: JSON\" gives, or --format if nj guessed wrong"
        )),
    })
}

#[derive(Deserialize)]
struct WallabagEntry {
    url: Option<String>,
    title: Option<String>,
    content: Option<String>,
    tags: Option<Vec<TagName>>,
    #[serde(default, deserialize_with = "flag")]
    is_archived: bool,
    created_at: Option<String>,
    updated_at: Option<String>,
    archived_at: Option<String>,
    annotations: Option<Vec<Annotation>>,
}

/// A tag: a string in wallabag 2's exports, an object with a `label` in
/// some others.
#[derive(Deserialize)]
#[serde(untagged)]
enum TagName {
    Name(String),
    Labelled { label: String },
}

#[derive(Deserialize)]
struct Annotation {
    text: Option<String>,
    quote: Option<String>,
}

/// `is_archived` is 0/1 in wallabag's exports, a boolean in some versions
/// and tools, and sometimes a string.
fn flag<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => b,
        serde_json::Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        serde_json::Value::String(s) => matches!(s.trim(), "1" | "true"),
        _ => false,
    })
}

fn bookmark(e: WallabagEntry) -> std::result::Result<Bookmark, String> {
    let url = item::web_url(e.url.as_deref().unwrap_or(""))?;
    let mut tags = Vec::new();
    for t in e.tags.unwrap_or_default() {
        let (TagName::Name(t) | TagName::Labelled { label: t }) = t;
        item::push_tag(&mut tags, &t);
    }
    // wallabag writes its offsets without a colon (`+0100`), which
    // parse_published reads; a time that does not parse is left out
    // rather than losing the entry.
    let time = |s: &Option<String>| s.as_deref().and_then(parse_published);
    let read_at = if e.is_archived {
        time(&e.archived_at).or_else(|| time(&e.updated_at))
    } else {
        None
    };
    let notes = e
        .annotations
        .unwrap_or_default()
        .into_iter()
        .filter_map(|a| annotation_note(a.quote.as_deref(), a.text.as_deref()))
        .collect();
    Ok(Bookmark {
        title: item::title(e.title.as_deref().unwrap_or(""), &url),
        tags,
        added_at: time(&e.created_at),
        read: e.is_archived,
        read_at,
        content: e.content.filter(|c| !c.trim().is_empty()).map(Body::Html),
        notes,
        url,
    })
}

/// An annotation as a Markdown note: the quoted passage as a blockquote,
/// then what the reader wrote about it. `None` when both are empty.
fn annotation_note(quote: Option<&str>, text: Option<&str>) -> Option<String> {
    let quote = quote.map(str::trim).unwrap_or("");
    let text = text.map(str::trim).unwrap_or("");
    let quoted: Vec<String> = quote
        .lines()
        .map(|l| {
            let l = l.trim_end();
            if l.is_empty() {
                ">".to_string()
            } else {
                format!("> {l}")
            }
        })
        .collect();
    let parts: Vec<String> = [quoted.join("\n"), text.to_string()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::item::testing::{fixture, message, read_all};
    use crate::time::Timestamp;
    use chrono::{TimeZone, Utc};

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<Timestamp> {
        Some(Timestamp::from_datetime(
            Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap(),
        ))
    }

    #[test]
    fn reads_every_field_and_rejects_bad_entries_alone() {
        let entries = read_all(read, &fixture("wallabag.json")).unwrap();
        let places: Vec<&str> = entries.iter().map(|e| e.place.as_str()).collect();
        assert_eq!(
            places,
            ["entry 1", "entry 2", "entry 3", "entry 4", "entry 5"]
        );
        assert_eq!(
            entries[0].item,
            Ok(Bookmark {
                url: "https://moss.example/walls".into(),
                title: Some("Moss on northern walls".into()),
                tags: vec!["science".into(), "Ünï".into()],
                // +0100 without a colon.
                added_at: at(2019, 3, 1, 9, 2, 3),
                read: true,
                read_at: at(2019, 3, 4, 8, 30, 0),
                content: Some(Body::Html("<p>Moss grows <em>slowly</em>.</p>".into())),
                notes: vec![
                    "> Moss grows slowly.\n> Very slowly.\n\nCheck this later".into(),
                    "> Only a quote".into(),
                    "Only text".into(),
                ],
            })
        );
        assert_eq!(
            entries[1].item,
            Ok(Bookmark {
                url: "https://plain.example/".into(),
                ..Bookmark::default()
            })
        );
        assert_eq!(entries[2].item, Err("no URL".into()));
        let bad = entries[3].item.as_ref().unwrap_err();
        assert!(bad.starts_with("not a wallabag entry: "), "{bad}");
        let last = entries[4].item.as_ref().unwrap();
        assert_eq!(last.title.as_deref(), Some("Last — ünïcode"));
        assert_eq!(last.tags, ["old-style"]);
        assert_eq!((last.read, last.read_at), (true, at(2020, 1, 1, 0, 0, 0)));
    }

    #[test]
    fn cut_off_empty_and_foreign_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wallabag.json");
        let whole = std::fs::read_to_string(fixture("wallabag.json")).unwrap();
        std::fs::write(&path, &whole[..whole.len() / 2]).unwrap();
        let msg = message(read_all(read, &path));
        assert!(msg.contains("wallabag.json is cut off ("), "{msg}");
        assert!(
            msg.ends_with("export the entries from wallabag again"),
            "{msg}"
        );

        std::fs::write(&path, "").unwrap();
        let msg = message(read_all(read, &path));
        assert!(
            msg.ends_with("wallabag.json is empty; export the entries from wallabag again"),
            "{msg}"
        );

        for foreign in ["hello", "{\"entries\": []}"] {
            std::fs::write(&path, foreign).unwrap();
            let msg = message(read_all(read, &path));
            assert!(
                msg.contains("wallabag.json is not a wallabag JSON export ("),
                "{msg}"
            );
        }
        std::fs::write(&path, "[]").unwrap();
        assert!(read_all(read, &path).unwrap().is_empty());
    }
}
