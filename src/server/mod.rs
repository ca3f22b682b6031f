//! The sync server. `core` is the protocol over SQLite; the HTTP layer
//! (axum, next) stays thin on top of it.

pub mod core;

pub use self::core::{Core, OpsPage, ServerError, Status, StoredOp, MAX_CLOCK_AHEAD_MS};
