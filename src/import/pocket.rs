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
