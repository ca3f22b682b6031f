//! newsjournal: a local-first personal news journal.
//!
//! The library holds everything `nj` does; the binary only parses arguments
//! and prints. [`journal`] is the SQLite store and the only place that
//! writes it, [`clip`] turns URLs, files and stdin into pages, [`content`]
//! defines text normalisation and content hashes, [`time`] the journal's
//! notion of time (and reads WHEN), [`recheck`] fetches sources again,
//! [`calendar`] writes follow-ups as iCalendar, [`export`] and [`import`]
//! take the journal out to files and bring libraries in, and [`sync`] and
//! [`server`] are the sync protocol's two sides.

pub mod calendar;
pub mod clip;
pub mod content;
pub mod error;
pub mod export;
#[doc(hidden)]
pub mod fuzzing;
pub mod import;
pub mod journal;
pub mod pending;
pub mod recheck;
pub mod server;
pub mod sync;
pub mod time;

pub use error::{Candidate, Error, Result};
