//! newsjournal: a local-first personal news journal.
//!
//! The library holds everything `nj` does; the binary only parses arguments
//! and prints. [`journal`] is the SQLite store and the only place that
//! writes it; [`clip`] turns URLs, files and stdin into pages (and fetches
//! saved and clipped pages again); [`import`] and [`export`] bring libraries
//! in and take the journal out to files; [`sync`] and [`server`] are the
//! sync protocol's two sides. Below them are the leaves every module may
//! use: [`content`] (text normalisation and content hashes), [`similar`]
//! (how alike two texts are, for recognising copies), [`limits`]
//! (what each field may hold), [`urls`] (URL clean-up), [`time`] (the
//! journal's notion of time), [`migrate`] and [`error`].
//! `docs/architecture.md` draws the graph.

pub mod clip;
pub mod content;
pub mod entity;
pub mod error;
pub mod export;
#[doc(hidden)]
pub mod fuzzing;
pub mod import;
pub mod journal;
pub mod limits;
pub(crate) mod migrate;
pub mod server;
pub mod similar;
pub mod sync;
pub mod time;
pub mod urls;

pub use error::{Candidate, Error, Result};
