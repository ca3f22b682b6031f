//! Importing read-later and bookmark exports: each format's reader gives
//! [`Entry`]s, which become articles here (pending ones when the file has
//! no text), in one transaction.

use std::path::Path;

use super::{Body, Bookmark, Entry, Format, ImportReport, Rejected};
use crate::clip::{html_to_text, normalize_url};
use crate::content::Content;
use crate::error::{Error, Result};
use crate::journal::{placeholder_title, Journal, NewBookmark};
use crate::time::Timestamp;

/// Imports the bookmarks in the file at `path`, read as `format`.
pub fn import(
    journal: &mut Journal,
    format: Format,
    path: &Path,
    now: Timestamp,
) -> Result<ImportReport> {
    // Into an empty journal (someone moving their library over) the search
    // index is built once at the end, which is much quicker than entry by
    // entry.
    let empty = journal.is_empty()?;
    let report = journal.write(now, |tx| {
        if empty {
            tx.defer_index()?;
        }
        let mut report = ImportReport::default();
        super::format::read_bookmarks(format, path, &mut |entry: Entry| {
            let stored = entry
                .item
                .map_err(Ok)
                .and_then(|b| prepare(b, now))
                .and_then(|b| tx.import_bookmark(&b).map_err(reason));
            match stored {
                Ok(r) => report.count(r),
                Err(Ok(reason)) => report.rejected.push(Rejected {
                    item: entry.place,
                    id: None,
                    reason,
                }),
                // The journal's trouble (a full disk): the import stops and
                // the transaction takes back what it wrote.
                Err(Err(e)) => return Err(e),
            }
            Ok(())
        })
        .map_err(|e| match e {
            Error::BadInput(msg) => Error::BadInput(format!("{msg}; nothing was imported")),
            other => other,
        })?;
        Ok(report)
    })?;
    journal.finish_index()?;
    Ok(report)
}

/// Why an item was rejected (`Ok`), or the error that stops the import
/// (`Err`).
type Stored<T> = std::result::Result<T, std::result::Result<String, Error>>;

fn reason(e: Error) -> std::result::Result<String, Error> {
    match e {
        Error::BadInput(reason) => Ok(reason),
        other => Err(other),
    }
}

/// Turns what a file said into what the journal stores: a normalised URL,
/// a title, the text of exported HTML.
fn prepare(b: Bookmark, now: Timestamp) -> Stored<NewBookmark> {
    let url = normalize_url(&b.url).ok_or_else(|| {
        Ok(format!(
            "{:?} is not a web address (http or https), so it was skipped",
            b.url
        ))
    })?;
    let content = b.content.map(|body| match body {
        Body::Html(html) => Content::from_text(html_to_text(&html)),
        Body::Text(text) => Content::new(&text),
    });
    let title = b
        .title
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| placeholder_title(&url));
    Ok(NewBookmark {
        title,
        tags: b.tags,
        added_at: b.added_at,
        // A file that says an item was read but not when: it counts as read
        // from the import on.
        read_at: b.read.then(|| b.read_at.unwrap_or(now)),
        content,
        notes: b.notes,
        urls: vec![url],
    })
}
