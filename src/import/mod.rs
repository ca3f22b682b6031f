//! Bringing a library in from a file: newsjournal's own JSON export, which
//! restores the journal it came from (same ids, hashes and times), and the
//! exports of the tools people leave: Pocket (ZIP, CSV, ril_export.html),
//! Netscape bookmark HTML (browsers, buku, linkding, Shiori), wallabag,
//! Instapaper and Omnivore. Each of those has a reader that turns the file
//! into [`Bookmark`]s (see [`item`]); the `bookmarks` module stores them, as pending
//! articles when the file has no text.
//!
//! An import runs in one transaction: it lands whole or not at all, so an
//! import that stops (a truncated file, a full disk, Ctrl-C) leaves the
//! journal as it was and can simply be run again. Within a file that
//! parses, each item stands alone: an item that cannot be imported is
//! rejected with its reason and the others go on. Re-importing adds nothing
//! twice (see [`crate::journal::Tx::import_article`] and
//! [`crate::journal::Tx::import_bookmark`] for how items are matched).
//! Nothing here prints: the caller gets an [`ImportReport`].

mod archive;
mod bookmarks;
mod bounded;
mod csvfile;
mod flight;
pub mod format;
mod html;
pub mod instapaper;
pub mod item;
mod jsonarray;
pub mod netscape;
pub mod newsjournal;
pub mod omnivore;
pub mod pocket;
#[cfg(test)]
mod props;
pub mod wallabag;

pub use format::Format;
pub use item::{Body, Bookmark, Entry};

use serde::Serialize;

use std::path::Path;

use crate::error::{Error, Result};
use crate::journal::{Journal, Restored};
use crate::time::Timestamp;

/// One item that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// Where it is in the file, e.g. `article 12`.
    pub item: String,
    /// Its id, when it has one.
    pub id: Option<String>,
    pub reason: String,
}

/// How many rejected items a report lists with their reasons (README,
/// "nj import"); the rest are only counted. A 261 KB ZIP can hold 134
/// million bad rows, and keeping each one's place and reason ran out of
/// memory; nobody reads past the first screenful anyway.
pub const MAX_LISTED_REJECTIONS: usize = 100;

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
    /// The first [`MAX_LISTED_REJECTIONS`] items that were not imported,
    /// in the file's order.
    pub rejected: Vec<Rejected>,
    /// How many items were not imported, listed or not.
    pub rejected_count: usize,
}

impl ImportReport {
    pub(crate) fn count(&mut self, restored: Restored) {
        match restored {
            Restored::Added => self.added += 1,
            Restored::Updated => self.updated += 1,
            Restored::Duplicate => self.skipped_duplicate += 1,
        }
    }

    /// Counts a rejected item, and lists it while the list is short.
    pub(crate) fn reject(&mut self, rejected: Rejected) {
        self.rejected_count += 1;
        if self.rejected.len() < MAX_LISTED_REJECTIONS {
            self.rejected.push(rejected);
        }
    }
}

/// Imports the file at `path` (which messages call `name`) in `format`,
/// or the format detected from its contents. The file is read as it is
/// imported, never held whole: an export of 100,000 articles is over half
/// a gigabyte.
pub fn import(
    journal: &mut Journal,
    path: &Path,
    format: Option<Format>,
    now: Timestamp,
) -> Result<(Format, ImportReport)> {
    let name = path.display().to_string();
    let format = match format {
        Some(f) => f,
        None => format::detect(path)?.ok_or_else(|| match format::unknown_hint(path) {
            Some(hint) => Error::Refused(format!(
                "cannot import {name}: {hint}; nothing was imported"
            )),
            None => Error::BadInput(format!(
                "cannot tell what kind of file {name} is; nj imports {}: pass --format if it is one of them",
                FORMATS_READ
            )),
        })?,
    };
    let report = match format {
        Format::Newsjournal => {
            let file = std::fs::File::open(path).map_err(|e| {
                Error::BadInput(format!("cannot read {name} ({e}); check the path"))
            })?;
            let input = std::io::BufReader::with_capacity(1 << 16, file);
            newsjournal::import(journal, &name, input, now)?
        }
        other => bookmarks::import(journal, other, path, now)?,
    };
    Ok((format, report))
}

/// What detection knows, for the message when it knows none.
const FORMATS_READ: &str = "newsjournal JSON, Pocket (ZIP, CSV or ril_export.html), Netscape bookmark HTML, wallabag JSON, Instapaper CSV and Omnivore ZIP";
