//! The sync server. `core` is the protocol over SQLite; `http` is the thin
//! axum layer on top of it that `nj serve` runs; `slots` decides which
//! connections it keeps open; `transport` hands the core to the sync
//! protocol in process, for tests.

pub mod core;
pub mod http;
mod slots;
pub mod transport;

pub use self::core::{
    Core, OpsPage, ServerError, Status, StoredOp, MAX_CLOCK_AHEAD_MS, MAX_PAGE_BYTES, MAX_PAGE_OPS,
};
pub use self::http::{serve, Config, MAX_BODY_BYTES};
pub use self::transport::CoreTransport;
