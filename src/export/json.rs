//! newsjournal's JSON export: every article with its URLs, tags, versions
//! (with their texts), notes and follow-ups, then the free-standing notes
//! and follow-ups.
//!
//! ```text
//! {"format":"newsjournal","version":2,
//! "articles":[
//! {"id":"…","title":"…",…,"versions":[…],"notes":[…],"followups":[…]},
//! …
//! ],
//! "notes":[
//! …
//! ],
//! "followups":[
//! …
//! ]}
//! ```
//!
//! One record a line, keys in a fixed order, times as RFC 3339 UTC to the
//! millisecond: the same journal always gives the same bytes, and a diff of
//! two exports shows what changed. `format` comes first so a reader can
//! tell what the file is from its first line. The record fields are
//! defined by [`crate::entity`]'s description of each entity (see
//! [`crate::journal::Row`]).

use std::io::Write;

use super::Counts;
use crate::error::{Error, Result};
use crate::journal::{Journal, Record};

/// The value of the `format` key.
pub const FORMAT_NAME: &str = "newsjournal";

/// Writes the whole journal to `out` as it reads it.
pub fn write<W: Write + ?Sized>(journal: &Journal, out: &mut W) -> Result<Counts> {
    let mut counts = Counts::default();
    // Which array is open: 0 articles, 1 notes, 2 follow-ups.
    let mut section = 0;
    let mut first = true;
    let version = journal.export_version()?;
    write!(
        out,
        "{{\"format\":\"{FORMAT_NAME}\",\"version\":{version},\n\"articles\":["
    )?;
    // A failed write stays an io::Error, so a closed stdout (`nj export |
    // head`) is seen for what it is.
    let json = |e: serde_json::Error| {
        if e.is_io() {
            Error::Io(e.into())
        } else {
            Error::Other(e.into())
        }
    };
    journal.dump(true, |record| {
        let target = match record {
            Record::Article(_) => 0,
            Record::Story(_) => 1,
            Record::Note(_) => 2,
            Record::Followup(_) => 3,
        };
        while section < target {
            section += 1;
            // A journal without stories has no "stories" key: its file is
            // what an nj from before stories wrote.
            if section == STORIES && target != STORIES {
                continue;
            }
            close_and_open(out, section, first)?;
            first = true;
        }
        out.write_all(if first { b"\n" } else { b",\n" })?;
        first = false;
        match &record {
            Record::Article(a) => {
                count(
                    &mut counts.articles,
                    &mut counts.removed_articles,
                    a.deleted_at(),
                );
                // The summary counts every note and follow-up written, the
                // article's own as well as the free-standing ones.
                for n in &a.notes {
                    count(&mut counts.notes, &mut counts.removed_notes, n.deleted_at());
                }
                for f in &a.followups {
                    count(
                        &mut counts.followups,
                        &mut counts.removed_followups,
                        f.deleted_at(),
                    );
                }
                serde_json::to_writer(&mut *out, a).map_err(json)?;
            }
            Record::Story(st) => {
                counts.stories += 1;
                for n in &st.notes {
                    count(&mut counts.notes, &mut counts.removed_notes, n.deleted_at());
                }
                for f in &st.followups {
                    count(
                        &mut counts.followups,
                        &mut counts.removed_followups,
                        f.deleted_at(),
                    );
                }
                serde_json::to_writer(&mut *out, st).map_err(json)?;
            }
            Record::Note(n) => {
                count(&mut counts.notes, &mut counts.removed_notes, n.deleted_at());
                serde_json::to_writer(&mut *out, n).map_err(json)?;
            }
            Record::Followup(f) => {
                count(
                    &mut counts.followups,
                    &mut counts.removed_followups,
                    f.deleted_at(),
                );
                serde_json::to_writer(&mut *out, f).map_err(json)?;
            }
        }
        Ok(())
    })?;
    while section < 3 {
        section += 1;
        if section == STORIES {
            continue;
        }
        close_and_open(out, section, first)?;
        first = true;
    }
    out.write_all(if first { b"]}\n" } else { b"\n]}\n" })?;
    out.flush()?;
    Ok(counts)
}

/// Counts an item as in the journal, or as removed when it has a
/// `deleted_at`.
fn count(kept: &mut usize, removed: &mut usize, deleted_at: Option<crate::time::Timestamp>) {
    if deleted_at.is_some() {
        *removed += 1;
    } else {
        *kept += 1;
    }
}

/// The section of the stories, which only a journal with stories has.
const STORIES: u8 = 1;

/// Ends the open array and opens the one for `section`.
fn close_and_open<W: Write + ?Sized>(out: &mut W, section: u8, empty: bool) -> Result<()> {
    let name = match section {
        STORIES => "stories",
        2 => "notes",
        _ => "followups",
    };
    if !empty {
        out.write_all(b"\n")?;
    }
    write!(out, "],\n\"{name}\":[")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_journal_is_a_small_valid_file() {
        let journal = Journal::open_in_memory().unwrap();
        let mut out = Vec::new();
        let counts = write(&journal, &mut out).unwrap();
        assert_eq!(counts, Counts::default());
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "{\"format\":\"newsjournal\",\"version\":1,\n\"articles\":[],\n\"notes\":[],\n\"followups\":[]}\n"
        );
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["version"], 1);
    }
}
