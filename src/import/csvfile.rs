//! Reading the CSV exports (Pocket's and Instapaper's): columns found by
//! header name, one record at a time into one reused buffer, and the place
//! of each record for the report. What the columns mean is the format
//! module's business; this never builds a bookmark itself.

use std::borrow::Cow;
use std::io::Read;

use csv::{ByteRecord, ErrorKind, ReaderBuilder};

use super::bounded::{bounded, is_over_cap};
use super::item::{Bookmark, Entry};
use crate::error::{Error, Result};

/// The longest row read (README, "nj import"). The csv crate holds a whole
/// record in memory before it hands it over, so a 1 MB ZIP with a field of
/// 1 GB took a gigabyte and more. A real row is a few kilobytes; the
/// largest fields an item keeps (a 1 MB note, 500 tags, a URL) fit in 1.2
/// MB, so a row past this is a quote left open or a hostile file, and the
/// import stops there rather than guess where the row should have ended.
pub(crate) const MAX_ROW_BYTES: u64 = 4 << 20;

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
/// and reading goes on; one over [`MAX_ROW_BYTES`] stops the import.
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
        Error::Refused(format!(
            "cannot read {name} ({e}), so nothing was imported; if it is cut off or damaged, download the export again"
        ))
    };
    let (input, row_start) = bounded(input, MAX_ROW_BYTES);
    // The csv crate strips a UTF-8 BOM from the header itself.
    let mut reader = ReaderBuilder::new()
        .has_headers(true)
        .buffer_capacity(1 << 16)
        .from_reader(input);
    // The message for a row over the cap that starts on `line`.
    let over_cap = |e: &csv::Error, line: u64| {
        match e.kind() {
        ErrorKind::Io(io) if is_over_cap(io) => Some(Error::Refused(format!(
            "line {line} of {name} starts a row of more than {} MB, so nothing was imported; a row of an export is a few kilobytes, so a quote is probably left open there: fix that line, or export the file again",
            MAX_ROW_BYTES >> 20
        ))),
        _ => None,
    }
    };
    let header = match reader.byte_headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(over_cap(&e, 1).unwrap_or_else(|| cannot_read(&e))),
    };
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
        row_start.start();
        let start_line = reader.position().line();
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
                _ => return Err(over_cap(&e, start_line).unwrap_or_else(|| cannot_read(&e))),
            },
        }
    }
}
