//! Taking the journal out: newsjournal's own JSON (complete, and
//! re-importable as the same journal), Netscape bookmark HTML for browsers
//! and bookmark tools, and Markdown files for note apps such as Obsidian.
//! Follow-ups as iCalendar are [`ical`]'s.
//!
//! Exports only read the journal, through [`Journal::dump`], one article at
//! a time, and write as they go: a large journal is never held in memory.
//! Their output depends only on the journal, never on the moment or the
//! machine, so the same journal always exports the same bytes. (The
//! iCalendar file is the exception: its DTSTAMP says when it was made.)
//!
//! [`Journal::dump`]: crate::journal::Journal::dump

pub mod ical;
pub mod json;
pub mod markdown;
pub mod netscape;

/// How many of each kind an export wrote: the ones in the journal, and
/// apart from them the removed ones (in the bin) that the JSON keeps too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub articles: usize,
    /// Stories, the bin's too.
    pub stories: usize,
    pub notes: usize,
    pub followups: usize,
    pub removed_articles: usize,
    pub removed_notes: usize,
    pub removed_followups: usize,
}
