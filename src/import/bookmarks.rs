//! Importing read-later and bookmark exports: each format's reader gives
//! [`Entry`]s, which become articles here (pending ones when the file has
//! no text), in one transaction.

use std::path::Path;

use super::{Body, Bookmark, Entry, Format, ImportReport, Rejected};
use crate::clip::html_to_text;
use crate::content::Content;
use crate::error::{Error, Result};
use crate::journal::{check_note_size, normalize_tag, placeholder_title, Journal, NewBookmark, Tx};
use crate::limits;
use crate::time::Timestamp;
use crate::urls::normalize_url;

/// Items handed from the reading thread to the writing one at a time.
const BATCH: usize = 256;
/// The bytes of text that send a batch before it has [`BATCH`] items: a
/// batch of exported articles, not links, is a few of them.
const BATCH_BYTES: usize = 4 << 20;
/// The most bytes of items the reader may have sent and the writer not
/// yet taken (beyond one batch, which may be larger); with the batch each
/// thread holds, about what an import's items take in memory at once.
const IN_FLIGHT_BYTES: usize = 32 << 20;

/// One item, read and made ready to store on the reading thread.
struct Ready {
    place: String,
    item: Stored<NewBookmark>,
}

impl Ready {
    /// About the memory it holds: its strings, and a little for the rest.
    fn bytes(&self) -> usize {
        let strings = match &self.item {
            Ok(b) => {
                let all = |v: &[String]| v.iter().map(|s| s.len() + 24).sum::<usize>();
                b.title.len()
                    + all(&b.urls)
                    + all(&b.tags)
                    + all(&b.notes)
                    + b.content
                        .as_ref()
                        .map_or(0, |c| c.text.len() + c.hash.len())
            }
            Err(Ok(reason)) => reason.len(),
            Err(Err(_)) => 0,
        };
        self.place.len() + strings + std::mem::size_of::<Ready>()
    }
}

/// Imports the bookmarks in the file at `path`, read as `format`.
///
/// Two threads share the work: one reads the file and makes each item
/// ready (normalises its URL and tags, renders exported HTML to text), the
/// other hands them to the journal's bulk write, in one transaction.
pub fn import(
    journal: &mut Journal,
    format: Format,
    path: &Path,
    now: Timestamp,
) -> Result<ImportReport> {
    // About one bookmark per 200 bytes of CSV or HTML.
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let items = (size / 200).min(usize::MAX as u64) as usize;
    std::thread::scope(|scope| {
        // Items go over in batches, so the threads do not wake each other
        // for every one; a few batches in flight keep both busy, and the
        // bytes in flight are bounded, so that exported texts are not all
        // held at once (2,000 items of 20 MB each ran out of memory).
        let (send, receive) = super::flight::channel::<Vec<Ready>>(IN_FLIGHT_BYTES, 4);
        let reader = scope.spawn(move || -> std::result::Result<(), ReadError> {
            let mut batch = Vec::with_capacity(BATCH);
            let mut bytes = 0;
            let mut stopped = false;
            let read = super::format::read_bookmarks(format, path, &mut |entry: Entry| {
                let ready = Ready {
                    item: entry.item.map_err(Ok).and_then(|b| prepare(b, now)),
                    place: entry.place,
                };
                bytes += ready.bytes();
                batch.push(ready);
                if batch.len() == BATCH || bytes >= BATCH_BYTES {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    if send.send(full, std::mem::take(&mut bytes)).is_err() {
                        // The writer stopped (it failed, and says why): end
                        // the read with any error, which nobody reads.
                        stopped = true;
                        return Err(Error::Other(anyhow::anyhow!("the writer stopped")));
                    }
                }
                Ok(())
            });
            match read {
                Err(_) if stopped => return Err(ReadError::WriterStopped),
                Err(e) => return Err(ReadError::File(e)),
                Ok(()) => {}
            }
            send.send(batch, bytes)
                .map_err(|_| ReadError::WriterStopped)
        });
        journal.bulk_write(now, items, |tx: &mut Tx<'_>, _empty| {
            let mut report = ImportReport::default();
            // Ends when the reader is done (or fails) and drops its end.
            for ready in receive.into_iter().flatten() {
                match ready
                    .item
                    .and_then(|b| tx.import_bookmark(&b).map_err(reason))
                {
                    Ok(r) => report.count(r),
                    Err(Ok(reason)) => report.reject(Rejected {
                        item: ready.place,
                        id: None,
                        reason,
                    }),
                    // The journal's trouble (a full disk): the import stops,
                    // the reader with it, and the transaction takes back
                    // what it wrote.
                    Err(Err(e)) => return Err(e),
                }
            }
            // A file that cannot be read takes everything back.
            match reader
                .join()
                .map_err(|_| Error::Other(anyhow::anyhow!("the import's reader failed")))?
            {
                Ok(()) => Ok(report),
                Err(ReadError::File(e)) => Err(nothing_imported(e)),
                // Only after this side stopped, which returned its error.
                Err(ReadError::WriterStopped) => Err(Error::Other(anyhow::anyhow!(
                    "the import's reader stopped before the file ended"
                ))),
            }
        })
    })
}

/// Why the reading thread stopped early.
enum ReadError {
    /// The file could not be read (or is not what its format says).
    File(Error),
    /// The writing thread stopped first; it says why.
    WriterStopped,
}

/// A file refused whole, saying that nothing was imported (the readers'
/// own refusals, [`Error::Refused`], say so already).
fn nothing_imported(e: Error) -> Error {
    match e {
        Error::BadInput(msg) => Error::Refused(format!("{msg}; nothing was imported")),
        other => other,
    }
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
    // Every field is checked against the journal's caps here, before the
    // item is written: a refusal halfway through would leave half an
    // article. A URL or tag too long to keep, or a note too long, rejects
    // the item; a title is cut, as a page's is when it is clipped. The
    // URL's length is checked before it is parsed.
    let check = |r: Result<()>| {
        r.map_err(|e| match e {
            Error::BadInput(msg) => Ok(msg),
            other => Err(other),
        })
    };
    check(limits::check_url(b.url.trim()))?;
    let url = normalize_url(&b.url).ok_or_else(|| {
        Ok(format!(
            "{:?} is not a web address (http or https), so it was skipped",
            b.url
        ))
    })?;
    check(limits::check_url(&url))?;
    // Lower-casing grows a character by at most half (`İ`, 2 bytes, is
    // `i̇`, 3), so only a tag near the cap is normalised to be measured.
    for tag in &b.tags {
        if tag.len() > limits::MAX_TAG_BYTES / 3 * 2 {
            if let Some(tag) = normalize_tag(tag) {
                check(limits::check_tag(&tag))?;
            }
        }
    }
    if let Some(Body::Html(text) | Body::Text(text)) = &b.content {
        check(limits::check_text(text))?;
    }
    for note in &b.notes {
        check(check_note_size(note))?;
    }
    let content = b.content.map(|body| match body {
        Body::Html(html) => Content::from_text(html_to_text(&html)),
        Body::Text(text) => Content::new(&text),
    });
    let title = b
        .title
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|t| !t.is_empty())
        .map(limits::fit_title)
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
