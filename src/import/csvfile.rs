//! Reading the CSV exports (Pocket's and Instapaper's): columns found by
//! header name, one record at a time into one reused buffer, and the place
//! of each record for the report. What the columns mean is the format
//! module's business; this never builds a bookmark itself.

use std::borrow::Cow;
use std::io::Read;

use csv::{ByteRecord, ErrorKind, ReaderBuilder};

use super::item::{Bookmark, Entry};
use crate::error::{Error, Result};

/// One record, with its fields looked up by the column names the reader
/// asked for.
pub(crate) struct Row<'a> {
    record: &'a ByteRecord,
    columns: &'a [Option<usize>],
}

impl Row<'_> {
    /// The field of the `i`th wanted column; empty when the file has no
    /// such column. Bytes that are not UTF-8 become U+FFFD rather than
    /// losing the row.
    pub(crate) fn get(&self, i: usize) -> Cow<'_, str> {
        match self.columns[i].and_then(|c| self.record.get(c)) {
            Some(bytes) => String::from_utf8_lossy(bytes),
            None => Cow::Borrowed(""),
        }
    }

    /// Whether the file has the `i`th wanted column at all.
    pub(crate) fn has(&self, i: usize) -> bool {
        self.columns[i].is_some()
    }
}

/// Reads the CSV from `input` (which messages call `name`), finding the
/// `wanted` columns by name, in any case and order. A missing `required`
/// column is an error; a missing optional one reads as empty. Each record
/// goes through `row`, and what it makes goes to `sink` with the place
/// `{place}line N`. A record with the wrong number of fields is rejected
/// and reading goes on.
pub(crate) fn read(
    input: impl Read,
    name: &str,
    place: &str,
    wanted: &[&str],
    required: &[&str],
    row: &mut dyn FnMut(&Row) -> std::result::Result<Bookmark, String>,
    sink: &mut dyn FnMut(Entry) -> Result<()>,
) -> Result<()> {
    let cannot_read = |e: &dyn std::fmt::Display| {
        Error::BadInput(format!(
            "cannot read {name} ({e}), so nothing was imported; if it is cut off or damaged, download the export again"
        ))
    };
    // The csv crate strips a UTF-8 BOM from the header itself.
    let mut reader = ReaderBuilder::new()
        .has_headers(true)
        .buffer_capacity(1 << 16)
        .from_reader(input);
    let header = reader.byte_headers().map_err(|e| cannot_read(&e))?.clone();
    if header.is_empty() || (header.len() == 1 && header[0].trim_ascii().is_empty()) {
        return Err(Error::BadInput(format!(
            "{name} is empty; download the export again"
        )));
    }
    let header_names: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_lowercase())
        .collect();
    let columns: Vec<Option<usize>> = wanted
        .iter()
        .map(|w| header_names.iter().position(|h| h == w))
        .collect();
    for r in required {
        if !header_names.iter().any(|h| h == r) {
            return Err(Error::BadInput(format!(
                "{name} has no `{r}` column (its columns are: {}); is it the right file? pass --format if nj guessed wrong",
                header_names.join(", ")
            )));
        }
    }

    let mut record = ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let line = record.position().map(|p| p.line()).unwrap_or(0);
                // A blank line between records reads as one empty field.
                if record.len() == 1 && record[0].trim_ascii().is_empty() {
                    continue;
                }
                let item = row(&Row {
                    record: &record,
                    columns: &columns,
                });
                sink(Entry {
                    place: format!("{place}line {line}"),
                    item,
                })?;
            }
            Err(e) => match e.kind() {
                ErrorKind::UnequalLengths {
                    pos,
                    expected_len,
                    len,
                } => {
                    let line = pos.as_ref().map(|p| p.line()).unwrap_or(0);
                    sink(Entry::rejected(
                        format!("{place}line {line}"),
                        format!(
                            "has {len} fields where the header has {expected_len}; a field with a comma may lack its quotes"
                        ),
                    ))?;
                }
                _ => return Err(cannot_read(&e)),
            },
        }
    }
}
