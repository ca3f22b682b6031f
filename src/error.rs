//! The library's error type. Each variant is something a caller can act on,
//! and its message tells the user what to do next. The library never prints;
//! the binary turns these into one line on stderr and an exit code.

use std::fmt;

/// A short description of one candidate for an ambiguous id.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: String,
    pub label: String,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("no {kind} matches {prefix}; {hint}")]
    NotFound {
        kind: &'static str,
        prefix: String,
        hint: &'static str,
    },

    #[error("{prefix} matches {}{} {}; use more characters:\n{}", candidates.len(), if *more { " or more" } else { "" }, plural(kind), CandidateList(candidates))]
    Ambiguous {
        kind: &'static str,
        prefix: String,
        /// The first few matches.
        candidates: Vec<Candidate>,
        /// More matched than are listed.
        more: bool,
    },

    /// A name that matches nothing, with what there is to choose from.
    #[error("no {kind} is called {name}; {hint}{}", among(candidates))]
    NotFoundAmong {
        kind: &'static str,
        name: String,
        candidates: Vec<Candidate>,
        hint: &'static str,
    },

    #[error("{}", bad_id_message(.0))]
    BadId(String),

    /// Input that cannot become an article or note: empty, binary, too big, ...
    #[error("{0}")]
    BadInput(String),

    /// A file an import refused whole; the message says that nothing was
    /// imported, and what to do.
    #[error("{0}")]
    Refused(String),

    #[error("bad search query {query:?}: {reason}; put phrases in double quotes, and see `nj search --help` for the syntax")]
    BadQuery { query: String, reason: String },

    #[error("could not fetch {url}: {reason}")]
    Fetch { url: String, reason: String },

    #[error("the journal at {path} was written by a newer nj (schema version {found}, this nj knows up to {supported}); upgrade nj to open it")]
    SchemaTooNew {
        path: String,
        found: i64,
        supported: i64,
    },

    #[error("the disk is full, so nothing was written; free some space and run the command again")]
    DiskFull,

    #[error("the journal is busy: another nj process held it for too long; run the command again")]
    Busy,

    #[error("journal database error: {0}")]
    Database(rusqlite::Error),

    #[error("{0}")]
    Io(#[from] std::io::Error),

    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Why a string is not an id prefix: too short, too long, or not hex.
fn bad_id_message(given: &str) -> String {
    let p = given.trim();
    if p.chars().count() < 4 {
        format!("bad id {given:?}: give at least 4 characters of an id (hex digits and dashes)")
    } else if p.chars().count() > 36 {
        format!("bad id {given:?}: an id has at most 36 characters")
    } else {
        format!("bad id {given:?}: ids are hex digits (0-9, a-f) and dashes; `nj list` shows them")
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => Error::DiskFull,
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => Error::Busy,
            _ => Error::Database(e),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// "articles", "stories".
fn plural(kind: &str) -> String {
    match kind.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None => format!("{kind}s"),
    }
}

/// ": the candidates" on lines of their own, or nothing when there are
/// none.
fn among(candidates: &[Candidate]) -> String {
    if candidates.is_empty() {
        String::new()
    } else {
        format!(":\n{}", CandidateList(candidates))
    }
}

struct CandidateList<'a>(&'a [Candidate]);

impl fmt::Display for CandidateList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  {}  {}", c.id, c.label)?;
        }
        Ok(())
    }
}
