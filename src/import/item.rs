//! What the read-later and bookmark formats have in common: a list of
//! links, each with a title, tags, a time added, a read state, and maybe
//! the article's text and the reader's highlights.
//!
//! Each format's reader turns its file into a stream of [`Entry`]s; the
//! journal side ([`crate::journal::Tx::import_bookmark`]) stores them. A
//! reader never writes and never prints.

use crate::time::Timestamp;

/// One link from an export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bookmark {
    /// The URL as the file gives it (the journal normalises it).
    pub url: String,
    /// The title, when the file has a usable one (not empty, not just the
    /// URL again).
    pub title: Option<String>,
    /// Tags as the file spells them: folders, labels, `|`- or
    /// comma-separated lists, already split. The journal lower-cases them
    /// and drops empty ones.
    pub tags: Vec<String>,
    /// When it was saved, if the file says.
    pub added_at: Option<Timestamp>,
    /// Whether it was read (archived, in Pocket's and wallabag's words).
    pub read: bool,
    /// When it was read, if the file says.
    pub read_at: Option<Timestamp>,
    /// The article's text, when the export carries it.
    pub content: Option<Body>,
    /// Notes to keep with it: annotations, highlights, a description or a
    /// selection, one note each, in the file's order.
    pub notes: Vec<String>,
}

/// An article's text as an export carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// An HTML document or fragment (wallabag, Omnivore).
    Html(String),
    /// Plain text.
    Text(String),
}

/// One item read from a file: a bookmark, or why the item cannot be
/// imported (a line without a URL, a field that does not parse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Where the item is, for the report: `line 12`, `entry 3`,
    /// `part_000001.csv line 4`.
    pub place: String,
    pub item: std::result::Result<Bookmark, String>,
}
