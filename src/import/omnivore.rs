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

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

use super::archive::{self, Member};
use super::item::{self, Body, Bookmark, Entry};
use super::jsonarray::{each_element, Stopped};
use crate::error::{Error, Result};
use crate::time::parse_published;

/// The largest metadata file read. Omnivore writes 20 items to one, a few
/// tens of kilobytes; this is room for thousands, from a tool that writes
/// them all to one file.
const MAX_METADATA_BYTES: u64 = 64 << 20;

/// The largest highlights file an item may bring: far more than the
/// highlights of any article (a long book's whole text is a few MB), and
/// each highlight is a note of at most 1 MB anyway.
const MAX_HIGHLIGHTS_BYTES: u64 = 16 << 20;

/// Reads an Omnivore export ZIP.
///
/// Each member is read only up to its cap (README, "nj import"): the
/// metadata file's, an article's text (the journal's 50 MB), the
/// highlights'. A text or highlights over theirs rejects the item without
/// being read further; a metadata file over its cap stops the import. An
/// item whose slug an earlier item had gets neither text nor highlights
/// (it is imported as a pending article): the export has the slug's files
/// once, so they are the first item's, and reading them again for each
/// repeat let 2,000 items that share one 20 MB page read 40 GB.
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
    let mut slugs_read: HashSet<String> = HashSet::new();
    for (_, member) in metadata {
        let text = match archive::read_text(&mut zip, &name, &member, MAX_METADATA_BYTES)? {
            Member::Text(text) => text,
            Member::Missing => String::new(),
            Member::Over => {
                return Err(Error::Refused(format!(
                    "{member} in {name} is more than {} MB, and Omnivore writes a few tens of kilobytes to one, so nothing was imported; download the export again",
                    MAX_METADATA_BYTES >> 20
                )))
            }
        };
        let dir = &member[..member.len() - archive::base_name(&member).len()];
        let base = archive::base_name(&member);
        let mut i = 0;
        // Parsed an item at a time: the file is held, not a tree of it.
        let result = each_element(
            &mut serde_json::Deserializer::from_str(&text),
            "a list of Omnivore items",
            &|| {},
            &mut |value| {
                i += 1;
                let place = format!("{base} entry {i}");
                let it = match serde_json::from_value::<Item>(value) {
                    Ok(it) => it,
                    Err(e) => {
                        return sink(Entry::rejected(place, format!("not an Omnivore item: {e}")))
                    }
                };
                let mut item = bookmark(&it);
                if let (Ok(b), Some(slug)) =
                    (&mut item, it.slug.as_deref().filter(|s| !s.is_empty()))
                {
                    if slugs_read.insert(slug.to_string()) {
                        if let Err(reason) = files(&mut zip, &name, dir, slug, b)? {
                            item = Err(reason);
                        }
                    }
                }
                sink(Entry { place, item })
            },
        );
        match result {
            Ok(()) => {}
            Err(Stopped::Handler(e)) => return Err(e),
            Err(Stopped::Parse(e)) => {
                return Err(archive::damaged(
                    &name,
                    format!("{member} is not a list of items: {e}"),
                ))
            }
        }
    }
    Ok(())
}

/// Gives `b` the text and highlights of `slug` in the export's `dir`, or
/// the reason to reject the item (a file over its cap); an error is a ZIP
/// that cannot be read.
fn files(
    zip: &mut archive::Zip,
    name: &str,
    dir: &str,
    slug: &str,
    b: &mut Bookmark,
) -> Result<std::result::Result<(), String>> {
    let html = format!("{dir}content/{slug}.html");
    let cap = crate::clip::MAX_INPUT_BYTES;
    match archive::read_text(zip, name, &html, cap)? {
        Member::Text(text) if !text.trim().is_empty() => b.content = Some(Body::Html(text)),
        Member::Text(_) | Member::Missing => {}
        Member::Over => {
            return Ok(Err(format!(
                "the article's text ({html}) is more than {} MB, and an article's text holds at most {} MB; clip the article from its page instead",
                cap >> 20,
                cap >> 20
            )))
        }
    }
    let md = format!("{dir}highlights/{slug}.md");
    match archive::read_text(zip, name, &md, MAX_HIGHLIGHTS_BYTES)? {
        Member::Text(md) => b.notes = highlights(&md),
        Member::Missing => {}
        Member::Over => {
            return Ok(Err(format!(
                "its highlights ({md}) are more than {} MB, far more than an article's; check that file in the export",
                MAX_HIGHLIGHTS_BYTES >> 20
            )))
        }
    }
    Ok(Ok(()))
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
