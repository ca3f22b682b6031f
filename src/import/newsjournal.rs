//! Reading newsjournal's own JSON export (see [`crate::export::json`]).
//!
//! The file is read as a stream of items: each article, note and follow-up
//! is parsed and restored on its own, so a malformed item is rejected with
//! its reason while the rest import, and a large file is never held as one
//! parsed tree. A file that is not well-formed JSON (most often, one cut
//! off) stops the import, and the transaction takes back what it wrote.
//!
//! Into an empty journal the file is restored as it is: the journal it
//! came from, with the same ids, hashes and times. That is the path a
//! large import takes, so it leaves search indexing to one rebuild at the
//! end. Into a journal with articles, an item also matches an article
//! clipped from the same (normalised) URL or holding the same text.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{ImportReport, Rejected};
use crate::error::{Error, Result};
use crate::export::json::FORMAT_NAME;
use crate::journal::{ArticleRecord, FollowupRecord, Journal, NoteRecord, Tx, FORMAT_VERSION};
use crate::time::Timestamp;

/// Whether the file starts the way an export does: an object whose first
/// key is `"format"` with the value `"newsjournal"`. (A file whose keys
/// were reordered still imports with `--format newsjournal`: the format is
/// checked wherever it is, and the transaction is taken back if it is
/// wrong.)
pub fn looks_like(head: &[u8]) -> bool {
    let head = &head[..head.len().min(256)];
    let compact: Vec<u8> = head
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    compact.starts_with(format!("{{\"format\":\"{FORMAT_NAME}\"").as_bytes())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Articles,
    Notes,
    Followups,
}

impl Section {
    fn item(self) -> &'static str {
        match self {
            Section::Articles => "article",
            Section::Notes => "note",
            Section::Followups => "follow-up",
        }
    }
}

/// The parse's state, shared by the visitors: they only see `&self`
/// through serde, so what they change sits in cells.
struct Run<'a, 't> {
    tx: RefCell<&'a mut Tx<'t>>,
    report: RefCell<ImportReport>,
    /// Match items against what the journal held by URL and text too.
    by_content: bool,
    /// The first error that is not the file's fault (or is, but is better
    /// said than serde would say it); the parse stops on it.
    failed: RefCell<Option<Error>>,
}

impl Run<'_, '_> {
    fn fail<E: de::Error>(&self, e: Error) -> E {
        self.failed.borrow_mut().get_or_insert(e);
        E::custom("stopped")
    }

    /// Restores one item; a record the journal cannot take is rejected.
    fn item(&self, section: Section, n: usize, value: serde_json::Value) -> Result<()> {
        let id = value.get("id").and_then(|v| v.as_str()).map(str::to_owned);
        let reject = |reason: String| {
            self.report.borrow_mut().rejected.push(Rejected {
                item: format!("{} {n}", section.item()),
                id: id.clone(),
                reason,
            });
        };
        let mut tx = self.tx.borrow_mut();
        let restored = match section {
            Section::Articles => serde_json::from_value::<ArticleRecord>(value)
                .map_err(|e| Error::BadInput(e.to_string()))
                .and_then(|a| tx.import_article(&a, self.by_content)),
            Section::Notes => serde_json::from_value::<NoteRecord>(value)
                .map_err(|e| Error::BadInput(e.to_string()))
                .and_then(|note| tx.import_note(&note)),
            Section::Followups => serde_json::from_value::<FollowupRecord>(value)
                .map_err(|e| Error::BadInput(e.to_string()))
                .and_then(|f| tx.import_followup(&f)),
        };
        match restored {
            Ok(r) => self.report.borrow_mut().count(r),
            // What is wrong with this item; the others go on.
            Err(Error::BadInput(reason)) => reject(reason),
            // The journal's trouble (a full disk): the import stops.
            Err(e) => return Err(e),
        }
        Ok(())
    }
}

struct File<'r, 'a, 't>(&'r Run<'a, 't>);

impl<'de> Visitor<'de> for File<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a newsjournal export: an object starting with \"format\": \"newsjournal\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let run = self.0;
        let mut format = false;
        while let Some(key) = map.next_key::<String>()? {
            let section = match key.as_str() {
                "format" => {
                    let name: String = map.next_value()?;
                    if name != FORMAT_NAME {
                        return Err(run.fail(Error::BadInput(format!(
                            "the file's format is {name:?}, not {FORMAT_NAME:?}; pass the --format it is in"
                        ))));
                    }
                    format = true;
                    continue;
                }
                "version" => {
                    let version: u64 = map.next_value()?;
                    if version > u64::from(FORMAT_VERSION) {
                        return Err(run.fail(Error::BadInput(format!(
                            "the file is newsjournal JSON version {version}, and this nj reads up to version {FORMAT_VERSION}; upgrade nj to import it"
                        ))));
                    }
                    continue;
                }
                "articles" => Section::Articles,
                "notes" => Section::Notes,
                "followups" => Section::Followups,
                _ => {
                    // A later version's addition this one does not know.
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            map.next_value_seed(Items { run, section })?;
        }
        if !format {
            return Err(run.fail(Error::BadInput(
                "the file has no \"format\": \"newsjournal\"; it is not a newsjournal export"
                    .into(),
            )));
        }
        Ok(())
    }
}

/// One of the arrays, read an item at a time.
struct Items<'r, 'a, 't> {
    run: &'r Run<'a, 't>,
    section: Section,
}

impl<'de> DeserializeSeed<'de> for Items<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Items<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an array of {}s", self.section.item())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut n = 0;
        while let Some(value) = seq.next_element::<serde_json::Value>()? {
            n += 1;
            if let Err(e) = self.run.item(self.section, n, value) {
                return Err(self.run.fail(e));
            }
        }
        Ok(())
    }
}

/// Imports an export's bytes (`name` is what messages call the file).
pub fn import(
    journal: &mut Journal,
    name: &str,
    bytes: &[u8],
    now: Timestamp,
) -> Result<ImportReport> {
    let empty = journal.is_empty()?;
    let report = journal.write(now, |tx| {
        if empty {
            tx.defer_index_for_bulk()?;
        }
        let run = Run {
            tx: RefCell::new(tx),
            report: RefCell::new(ImportReport::default()),
            by_content: !empty,
            failed: RefCell::new(None),
        };
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let parsed = de.deserialize_map(File(&run)).and_then(|()| de.end());
        if let Some(e) = run.failed.take() {
            return Err(match e {
                Error::BadInput(why) => {
                    Error::BadInput(format!("cannot import {name}: {why}; nothing was imported"))
                }
                other => other,
            });
        }
        if let Err(e) = parsed {
            return Err(malformed(name, &e));
        }
        Ok(run.report.into_inner())
    })?;
    // Committed: now the search index, which a failure here leaves for
    // `nj search` or `nj verify` to finish (they do when it waits).
    journal.finish_index()?;
    Ok(report)
}

/// Says what is wrong with a file that does not parse, and what to do.
fn malformed(name: &str, e: &serde_json::Error) -> Error {
    use serde_json::error::Category;
    Error::BadInput(match e.classify() {
        Category::Eof => format!(
            "{name} ends too early ({e}): it is cut off, so nothing was imported; export it again, or check that it was copied whole"
        ),
        Category::Syntax => format!(
            "{name} is not valid JSON ({e}), so nothing was imported; export it again, or repair it at that place"
        ),
        Category::Data => format!(
            "{name} does not follow newsjournal's JSON format ({e}), so nothing was imported; export it again with `nj export --format json`"
        ),
        Category::Io => format!("cannot read {name}: {e}"),
    })
}
