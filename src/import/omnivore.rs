//! Omnivore's export ZIP: `metadata_<from>_to_<to>.json` files, each an
//! array of items (`slug`, `title`, `url`, `labels`, `state`, `savedAt`,
//! `updatedAt`, ...), with each item's article in `content/<slug>.html`
//! and its highlights, as Markdown, in `highlights/<slug>.md`.
//!
//! Omnivore writes each highlight as `> quote`, then optionally a line of
//! `#labels` and the reader's note, each after a blank line, and puts a
//! blank line between highlights; a quote's own blank lines it writes as
//! `> `. So a paragraph that opens with `>` starts a new highlight and any
//! other paragraph belongs to the one before: one note per highlight. (A
//! page note that follows a highlight is joined to it; Omnivore's file
//! does not tell them apart.)
//!
//! The item's `description` is the page's own summary, not the reader's,
//! and the article itself comes with it, so it is not made a note.

use std::path::Path;

use serde::Deserialize;

use super::archive;
use super::item::{self, Body, Bookmark, Entry};
use crate::error::{Error, Result};
use crate::time::parse_published;

/// Reads an Omnivore export ZIP.
pub fn read(path: &Path, sink: &mut dyn FnMut(Entry) -> Result<()>) -> Result<()> {
    let name = path.display().to_string();
    let mut zip = archive::open(path)?;
    let mut metadata: Vec<(u64, String)> = archive::file_names(&zip)
        .into_iter()
        .filter(|n| is_metadata(n))
        .map(|n| (first_number(archive::base_name(&n)), n))
        .collect();
    if metadata.is_empty() {
        return Err(Error::BadInput(format!(
            "{name} holds no metadata_*.json file, so it is not an Omnivore export; pass the right file, or --format if nj guessed wrong"
        )));
    }
    // metadata_20_to_40.json comes before metadata_100_to_120.json.
    metadata.sort();
    for (_, member) in metadata {
        let text = archive::read_text(&mut zip, &name, &member)?.unwrap_or_default();
        let items: Vec<serde_json::Value> = serde_json::from_str(&text).map_err(|e| {
            archive::damaged(&name, format!("{member} is not a list of items: {e}"))
        })?;
        let dir = &member[..member.len() - archive::base_name(&member).len()];
        let base = archive::base_name(&member);
        for (i, value) in items.into_iter().enumerate() {
            let place = format!("{base} entry {}", i + 1);
            let it = match serde_json::from_value::<Item>(value) {
                Ok(it) => it,
                Err(e) => {
                    sink(Entry::rejected(place, format!("not an Omnivore item: {e}")))?;
                    continue;
                }
            };
            let item = match bookmark(&it) {
                Ok(mut b) => {
                    if let Some(slug) = it.slug.as_deref().filter(|s| !s.is_empty()) {
                        let html = format!("{dir}content/{slug}.html");
                        b.content = archive::read_text(&mut zip, &name, &html)?
                            .filter(|c| !c.trim().is_empty())
                            .map(Body::Html);
                        let md = format!("{dir}highlights/{slug}.md");
                        if let Some(md) = archive::read_text(&mut zip, &name, &md)? {
                            b.notes = highlights(&md);
                        }
                    }
                    Ok(b)
                }
                Err(e) => Err(e),
            };
            sink(Entry { place, item })?;
        }
    }
    Ok(())
}

/// Whether a member is one of the metadata files.
pub(crate) fn is_metadata(member: &str) -> bool {
    let base = archive::base_name(member);
    base.starts_with("metadata") && base.ends_with(".json")
}

fn first_number(s: &str) -> u64 {
    s.split(|c: char| !c.is_ascii_digit())
        .find(|p| !p.is_empty())
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    slug: Option<String>,
    title: Option<String>,
    url: Option<String>,
    labels: Option<Vec<Label>>,
    state: Option<String>,
    saved_at: Option<String>,
    updated_at: Option<String>,
}

/// A label: a string in the export, an object with a `name` in Omnivore's
/// API, which some tools copy.
#[derive(Deserialize)]
#[serde(untagged)]
enum Label {
    Name(String),
    Named { name: String },
}

fn bookmark(it: &Item) -> std::result::Result<Bookmark, String> {
    let url = item::web_url(it.url.as_deref().unwrap_or(""))?;
    let mut tags = Vec::new();
    for l in it.labels.iter().flatten() {
        let (Label::Name(l) | Label::Named { name: l }) = l;
        item::push_tag(&mut tags, l);
    }
    let read = it
        .state
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("archived"));
    let time = |s: &Option<String>| s.as_deref().and_then(parse_published);
    Ok(Bookmark {
        title: item::title(it.title.as_deref().unwrap_or(""), &url),
        tags,
        added_at: time(&it.saved_at),
        read,
        // Omnivore keeps no time of archiving; the last change to an
        // archived item is the nearest it has.
        read_at: if read { time(&it.updated_at) } else { None },
        url,
        ..Bookmark::default()
    })
}

/// One note per highlight in Omnivore's highlights Markdown (see the
/// module's doc for how they are told apart).
fn highlights(md: &str) -> Vec<String> {
    let mut notes: Vec<String> = Vec::new();
    let mut paragraph = String::new();
    let finish = |paragraph: &mut String, notes: &mut Vec<String>| {
        let p = paragraph.trim();
        if !p.is_empty() {
            match notes.last_mut() {
                Some(last) if !p.starts_with('>') => {
                    last.push_str("\n\n");
                    last.push_str(p);
                }
                _ => notes.push(p.to_string()),
            }
        }
        paragraph.clear();
    };
    for line in md.lines() {
        if line.trim().is_empty() {
            finish(&mut paragraph, &mut notes);
        } else {
            paragraph.push_str(line.trim_end());
            paragraph.push('\n');
        }
    }
    finish(&mut paragraph, &mut notes);
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::item::testing::{fixture, message, read_all, write_zip};
    use crate::time::Timestamp;
    use chrono::{TimeZone, Utc};

    /// The fixture directory zipped as Omnivore does, in the given order.
    fn omnivore_zip(dir: &Path) -> std::path::PathBuf {
        let members = [
            "metadata_0_to_2.json",
            "metadata_10_to_11.json",
            "content/garden-paths-18c2.html",
            "highlights/garden-paths-18c2.md",
            "metadata_2_to_3.json",
        ];
        let data: Vec<(&str, Vec<u8>)> = members
            .iter()
            .map(|m| {
                (
                    *m,
                    std::fs::read(fixture(&format!("omnivore/{m}"))).unwrap(),
                )
            })
            .collect();
        let refs: Vec<(&str, &[u8])> = data.iter().map(|(m, d)| (*m, d.as_slice())).collect();
        let path = dir.join("omnivore.zip");
        write_zip(&path, &refs);
        path
    }

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Option<Timestamp> {
        Some(Timestamp::from_datetime(
            Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap(),
        ))
    }

    #[test]
    fn reads_items_content_and_highlights() {
        let dir = tempfile::tempdir().unwrap();
        let entries = read_all(read, &omnivore_zip(dir.path())).unwrap();
        let places: Vec<&str> = entries.iter().map(|e| e.place.as_str()).collect();
        assert_eq!(
            places,
            [
                "metadata_0_to_2.json entry 1",
                "metadata_0_to_2.json entry 2",
                "metadata_2_to_3.json entry 1",
                "metadata_10_to_11.json entry 1",
            ]
        );
        assert_eq!(
            entries[0].item,
            Ok(Bookmark {
                url: "https://garden.example/paths".into(),
                title: Some("Garden paths in winter".into()),
                tags: vec!["garden".into(), "Ünï".into()],
                added_at: at(2024, 5, 1, 10, 0),
                read: true,
                read_at: at(2024, 5, 3, 12, 30),
                content: Some(Body::Html(
                    "<div class=\"page\"><p>Paths curve — ünï.</p></div>\n".into()
                )),
                notes: vec![
                    "> Paths should curve.\n>\nGently, like water.\n\n#design\n\nMy note on curves."
                        .into(),
                    "> A second highlight".into(),
                    "> Third, with a note\n\nWhy not?".into(),
                ],
            })
        );
        assert_eq!(
            entries[1].item,
            Ok(Bookmark {
                url: "https://plain.example/x".into(),
                added_at: at(2024, 5, 2, 10, 0),
                ..Bookmark::default()
            })
        );
        assert_eq!(
            entries[2].item.as_ref().unwrap().url,
            "https://third.example/"
        );
        assert_eq!(entries[3].item, Err("no URL".into()));
    }

    #[test]
    fn a_truncated_or_foreign_zip_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = omnivore_zip(dir.path());
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 30]).unwrap();
        let msg = message(read_all(read, &path));
        assert!(
            msg.contains("omnivore.zip is cut off or damaged ("),
            "{msg}"
        );

        write_zip(&path, &[("notes.txt", b"hello")]);
        let msg = message(read_all(read, &path));
        assert!(msg.contains("holds no metadata_*.json file"), "{msg}");
    }

    #[test]
    fn highlights_without_quotes_are_one_note() {
        assert_eq!(
            highlights("Just a page note.\n\nSecond paragraph.\n"),
            ["Just a page note.\n\nSecond paragraph."]
        );
        assert!(highlights("\n\n").is_empty());
    }
}
