//! The sync server. `core` is the protocol's rules over a [`store::Store`],
//! which `sqlite` (the default: one file) and `postgres` (one database for
//! many journals and several servers) implement; `http` is the thin axum
//! layer on top of it that `nj serve` runs; `slots` decides which
//! connections it keeps open; `transport` hands the core to the sync
//! protocol in process, for tests.

pub mod copy;
pub mod core;
pub mod http;
mod metrics;
pub mod postgres;
mod slots;
pub mod sqlite;
pub mod store;
pub mod transport;

pub use self::core::{
    Core, JournalStats, OpsPage, ServerError, Status, StoredOp, MAX_CLOCK_AHEAD_MS, MAX_PAGE_BYTES,
    MAX_PAGE_OPS,
};
pub use self::http::{serve, Config, MAX_BODY_BYTES};
pub use self::transport::CoreTransport;
