//! Reading newsjournal's own JSON export (see [`crate::export::json`]).
//!
//! The file is read as a stream of items: each article, note and follow-up
//! is parsed and restored on its own, so a malformed item is rejected with
//! its reason while the rest import, and the file is never held as one
//! parsed tree. A file that is not well-formed JSON (most often, one cut
//! off) stops the import, and the transaction takes back what it wrote.
//!
//! Two threads share the work: one parses the items and makes them ready
//! to store (checks each text against its hash, compresses it), the other
//! writes them. Most of an import's time is those two halves, so on two
//! cores it takes about as long as the larger one.
//!
//! Into an empty journal the file is restored as it is: the journal it
//! came from, with the same ids, hashes and times. That is the path a
//! large import takes, so it leaves search indexing to one rebuild at the
//! end. Into a journal with articles, an item also matches an article
//! clipped from the same (normalised) URL or holding the same text.

use std::cell::RefCell;
use std::fmt;
use std::sync::mpsc::{sync_channel, SyncSender};

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{ImportReport, Rejected};
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::export::json::FORMAT_NAME;
use crate::journal::{
    row_from_json, ArticleRecord, Journal, PreparedArticle, Row, StoryRecord, FORMAT_VERSION,
};
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
    Stories,
    Notes,
    Followups,
}

impl Section {
    fn item(self) -> &'static str {
        match self {
            Section::Articles => "article",
            Section::Stories => "story",
            Section::Notes => "note",
            Section::Followups => "follow-up",
        }
    }
}

/// An item parsed and made ready to store.
enum Ready {
    // Boxed: most items are articles, and the channel moves each one.
    Article(Box<PreparedArticle>),
    Story(Box<StoryRecord>),
    Note(Row),
    Followup(Row),
}

/// What the parsing thread hands the writing one: an item, or why it
/// cannot be imported.
struct Item {
    section: Section,
    /// Its place in its array, from 1.
    n: usize,
    id: Option<String>,
    ready: std::result::Result<Ready, String>,
}

/// The parsing thread's state, shared by the visitors: they only see
/// `&self` through serde, so what they change sits in cells.
struct Parse {
    items: SyncSender<Item>,
    /// Why the parse stopped, when it is better said than serde would say
    /// it (a wrong format), or `None` with `stopped` when the writer did.
    failed: RefCell<Option<Error>>,
    stopped: std::cell::Cell<bool>,
}

impl Parse {
    fn fail<E: de::Error>(&self, e: Error) -> E {
        self.failed.borrow_mut().get_or_insert(e);
        E::custom("stopped")
    }

    fn prepare(&self, section: Section, value: serde_json::Value) -> Result<Ready> {
        Ok(match section {
            Section::Articles => {
                let record = ArticleRecord::from_json(value)?;
                Ready::Article(Box::new(PreparedArticle::new(record)?))
            }
            Section::Stories => Ready::Story(Box::new(StoryRecord::from_json(value)?)),
            Section::Notes => Ready::Note(row_from_json(Entity::Note, value)?),
            Section::Followups => Ready::Followup(row_from_json(Entity::Followup, value)?),
        })
    }

    /// Hands one item to the writer. False when the writer has stopped.
    fn item(&self, section: Section, n: usize, value: serde_json::Value) -> Result<bool> {
        let id = value.get("id").and_then(|v| v.as_str()).map(str::to_owned);
        let ready = match self.prepare(section, value) {
            Ok(r) => Ok(r),
            // What is wrong with this item; the others go on.
            Err(Error::BadInput(reason)) => Err(reason),
            Err(e) => return Err(e),
        };
        Ok(self
            .items
            .send(Item {
                section,
                n,
                id,
                ready,
            })
            .is_ok())
    }
}

struct File<'p>(&'p Parse);

impl<'de> Visitor<'de> for File<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a newsjournal export: an object starting with \"format\": \"newsjournal\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let parse = self.0;
        let mut format = false;
        while let Some(key) = map.next_key::<String>()? {
            let section = match key.as_str() {
                "format" => {
                    let name: String = map.next_value()?;
                    if name != FORMAT_NAME {
                        return Err(parse.fail(Error::BadInput(format!(
                            "the file's format is {name:?}, not {FORMAT_NAME:?}; pass the --format it is in"
                        ))));
                    }
                    format = true;
                    continue;
                }
                "version" => {
                    let version: u64 = map.next_value()?;
                    if version > u64::from(FORMAT_VERSION) {
                        return Err(parse.fail(Error::BadInput(format!(
                            "the file is newsjournal JSON version {version}, and this nj reads up to version {FORMAT_VERSION}; upgrade nj to import it"
                        ))));
                    }
                    continue;
                }
                "articles" => Section::Articles,
                "stories" => Section::Stories,
                "notes" => Section::Notes,
                "followups" => Section::Followups,
                _ => {
                    // A later version's addition this one does not know.
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            map.next_value_seed(Items { parse, section })?;
        }
        if !format {
            return Err(parse.fail(Error::BadInput(
                "the file has no \"format\": \"newsjournal\"; it is not a newsjournal export"
                    .into(),
            )));
        }
        Ok(())
    }
}

/// One of the arrays, read an item at a time.
struct Items<'p> {
    parse: &'p Parse,
    section: Section,
}

impl<'de> DeserializeSeed<'de> for Items<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Items<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an array of {}s", self.section.item())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut n = 0;
        while let Some(value) = seq.next_element::<serde_json::Value>()? {
            n += 1;
            match self.parse.item(self.section, n, value) {
                Ok(true) => {}
                Ok(false) => {
                    self.parse.stopped.set(true);
                    return Err(de::Error::custom("stopped"));
                }
                Err(e) => return Err(self.parse.fail(e)),
            }
        }
        Ok(())
    }
}

/// Parses the file, handing each item to `items`. `Ok` when the whole file
/// was read (or the writer stopped first, which reports its own error).
fn parse(name: &str, input: impl std::io::Read, items: SyncSender<Item>) -> Result<()> {
    let parse = Parse {
        items,
        failed: RefCell::new(None),
        stopped: std::cell::Cell::new(false),
    };
    let mut de = serde_json::Deserializer::from_reader(input);
    let parsed = de.deserialize_map(File(&parse)).and_then(|()| de.end());
    if let Some(e) = parse.failed.take() {
        return Err(match e {
            Error::BadInput(why) => {
                Error::Refused(format!("cannot import {name}: {why}; nothing was imported"))
            }
            other => other,
        });
    }
    if parse.stopped.get() {
        return Ok(());
    }
    parsed.map_err(|e| malformed(name, &e))
}

/// Imports an export's bytes (`name` is what messages call the file).
pub fn import(
    journal: &mut Journal,
    name: &str,
    input: impl std::io::Read + Send,
    now: Timestamp,
) -> Result<ImportReport> {
    std::thread::scope(|scope| {
        // A few items in flight keep both threads busy without holding
        // many texts in memory.
        let (send, receive) = sync_channel::<Item>(64);
        let parser = scope.spawn(move || parse(name, input, send));
        // An export keeps its ids, so the journal makes few new ones.
        journal.bulk_write(now, 0, |tx, empty| {
            let mut report = ImportReport::default();
            // Ends when the parser is done (or fails) and drops its end.
            for item in receive {
                let restored = item
                    .ready
                    .map_err(Error::BadInput)
                    .and_then(|ready| match ready {
                        // Into an empty journal nothing can be the same
                        // article under another id.
                        Ready::Article(a) => tx.import_article(*a, !empty),
                        Ready::Story(st) => tx.import_story(&st),
                        Ready::Note(n) => tx.import_note(&n),
                        Ready::Followup(f) => tx.import_followup(&f),
                    });
                match restored {
                    Ok(r) => report.count(r),
                    Err(Error::BadInput(reason)) => report.reject(Rejected {
                        item: format!("{} {}", item.section.item(), item.n),
                        id: item.id,
                        reason,
                    }),
                    // The journal's trouble (a full disk): the import stops,
                    // and so does the parser, at its next item.
                    Err(e) => return Err(e),
                }
            }
            // A file that does not parse takes everything back.
            parser
                .join()
                .map_err(|_| Error::Other(anyhow::anyhow!("the import's parser failed")))??;
            Ok(report)
        })
    })
}

/// Says what is wrong with a file that does not parse, and what to do.
fn malformed(name: &str, e: &serde_json::Error) -> Error {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => Error::Refused(format!(
            "{name} ends too early ({e}): it is cut off, so nothing was imported; export it again, or check that it was copied whole"
        )),
        Category::Syntax => Error::Refused(format!(
            "{name} is not valid JSON ({e}), so nothing was imported; export it again, or repair it at that place"
        )),
        Category::Data => Error::Refused(format!(
            "{name} does not follow newsjournal's JSON format ({e}), so nothing was imported; export it again with `nj export --format json`"
        )),
        Category::Io => Error::BadInput(format!("cannot read {name}: {e}")),
    }
}
