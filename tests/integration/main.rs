//! Integration tests: the real `nj` binary in a sealed temp environment.
//!
//! Every test builds its own journal in its own temp dir through
//! [`util::Env`], and URL clips go to a server on 127.0.0.1 that the test
//! starts. Nothing here may touch the real HOME, a real config, or the
//! network.

mod bad_input;
mod bookmarks;
mod browse;
mod calendar;
mod clip_local;
mod clip_url;
mod config;
mod copies;
mod due;
mod export;
mod extract;
mod followups;
mod fuzz_replay;
mod hashes;
mod ids;
mod import;
mod import_formats;
mod journal_file;
mod limits;
mod messages;
mod notes;
mod pages;
mod pipes;
mod readme;
mod recheck;
mod search;
mod server_http;
mod server_postgres;
mod stories;
mod sync_converge;
mod sync_crypto;
mod sync_e2e;
mod sync_merge;
mod util;
mod versions;
mod when;
