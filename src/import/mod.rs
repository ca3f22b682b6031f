//! Bringing a library in from a file. So far: newsjournal's own JSON
//! export, which restores the journal it came from (same ids, hashes and
//! times).
//!
//! An import runs in one transaction: it lands whole or not at all, so an
//! import that stops (a truncated file, a full disk, Ctrl-C) leaves the
//! journal as it was and can simply be run again. Within a file that
//! parses, each item stands alone: an item that cannot be imported is
//! rejected with its reason and the others go on. Re-importing adds nothing
//! twice (see [`crate::journal::Tx::import_article`] for how items are
//! matched). Nothing here prints: the caller gets an [`ImportReport`].

pub mod newsjournal;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::journal::{Journal, Restored};
use crate::time::Timestamp;

/// The formats `nj import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// newsjournal's own JSON export (`nj export --format json`)
    Newsjournal,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Newsjournal => "newsjournal JSON",
        }
    }

    /// Tells the format from the start of a file.
    pub fn detect(head: &[u8]) -> Option<Format> {
        newsjournal::looks_like(head).then_some(Format::Newsjournal)
    }
}

/// One item that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// Where it is in the file, e.g. `article 12`.
    pub item: String,
    /// Its id, when it has one.
    pub id: Option<String>,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// New articles, notes and follow-ups.
    pub added: usize,
    /// Articles already in the journal that got versions, URLs, tags,
    /// notes or follow-ups they lacked.
    pub updated: usize,
    /// Items the journal already had.
    pub skipped_duplicate: usize,
    pub rejected: Vec<Rejected>,
}

impl ImportReport {
    pub(crate) fn count(&mut self, restored: Restored) {
        match restored {
            Restored::Added => self.added += 1,
            Restored::Updated => self.updated += 1,
            Restored::Duplicate => self.skipped_duplicate += 1,
        }
    }
}

/// Imports what `input` reads (the contents of `name`, which messages use)
/// in `format`, or the format detected from its start. The input is read
/// as it is imported, never held whole: an export of 100,000 articles is
/// over half a gigabyte.
pub fn import(
    journal: &mut Journal,
    name: &str,
    mut input: impl std::io::BufRead + Send,
    format: Option<Format>,
    now: Timestamp,
) -> Result<(Format, ImportReport)> {
    let format = match format {
        Some(f) => f,
        None => Format::detect(input.fill_buf().map_err(|e| {
            Error::BadInput(format!("cannot read {name} ({e}); check the file"))
        })?)
        .ok_or_else(|| {
            Error::BadInput(format!(
                "cannot tell what kind of file {name} is; nj imports newsjournal JSON (from `nj export --format json`) so far: pass --format newsjournal if it is one"
            ))
        })?,
    };
    let report = match format {
        Format::Newsjournal => newsjournal::import(journal, name, input, now)?,
    };
    Ok((format, report))
}
