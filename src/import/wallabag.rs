//! wallabag's JSON export: one array of entries, each with `url`, `title`,
//! `content` (HTML), `tags`, `is_archived`, `created_at`, `archived_at`,
//! `updated_at` and `annotations` (`{quote, text, ...}`).
//!
//! The array is streamed: an export with the articles' text runs to
//! gigabytes, so only one entry is held at a time. An entry that is valid
//! JSON but not a usable entry is rejected with its reason; a file that is
//! not JSON or is cut off is an error.

use std::fmt;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

use super::item::{self, Body, Bookmark, Entry};
use crate::error::{Error, Result};
use crate::time::parse_published;

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
    read_from(BufReader::with_capacity(1 << 16, file), &name, sink)
}

fn read_from(
    input: impl std::io::Read,
    name: &str,
    sink: &mut dyn FnMut(Entry) -> Result<()>,
) -> Result<()> {
    let mut de = serde_json::Deserializer::from_reader(input);
    let mut stopped = None;
    let result = de
        .deserialize_seq(Entries {
            sink,
            stopped: &mut stopped,
        })
        .and_then(|()| de.end());
    if let Some(e) = stopped {
        return Err(e);
    }
    result.map_err(|e| {
        use serde_json::error::Category;
        Error::BadInput(match e.classify() {
            Category::Eof => format!(
                "{name} is cut off ({e}), so nothing was imported; export the entries from wallabag again"
            ),
            Category::Io => format!("cannot read {name} ({e}); check the file"),
            Category::Syntax | Category::Data => format!(
                "{name} is not a wallabag JSON export ({e}), so nothing was imported; pass the file wallabag's \"Export: JSON\" gives, or --format if nj guessed wrong"
            ),
        })
    })
}

/// Hands each element of the array to the sink as it is parsed.
struct Entries<'a> {
    sink: &'a mut dyn FnMut(Entry) -> Result<()>,
    /// The sink's error, which stops the parse.
    stopped: &'a mut Option<Error>,
}

impl<'de> Visitor<'de> for Entries<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of wallabag entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let mut n = 0;
        // Each element is parsed as generic JSON first, so that one with
        // a field of the wrong type is rejected alone; the value is moved,
        // not copied, into the entry.
        while let Some(value) = seq.next_element::<serde_json::Value>()? {
            n += 1;
            let item = serde_json::from_value::<WallabagEntry>(value)
                .map_err(|e| format!("not a wallabag entry: {e}"))
                .and_then(bookmark);
            if let Err(e) = (self.sink)(Entry {
                place: format!("entry {n}"),
                item,
            }) {
                *self.stopped = Some(e);
                return Err(de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
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
