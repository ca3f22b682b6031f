//! Sync between devices: a change log of operations stamped with hybrid
//! logical clocks, a per-field last-writer-wins merge that keeps what
//! people wrote, and the push/pull protocol over a transport trait.
//!
//! Everything here is pure logic over traits, so it is tested without a
//! network: against the server's core in process (`server::transport`,
//! which depends on this module, never the other way) and the in-memory
//! replica of `memory`. `docs/sync-protocol.md` is the wire format.

pub mod client;
pub mod crypto;
pub mod hlc;
pub mod memory;
pub mod merge;
pub mod op;
pub mod protocol;
pub mod wire;

pub use hlc::{Clock, Hlc, Stamp};
pub use merge::{apply, apply_again, apply_held, Arrival, FieldStore, Merged};
pub(crate) use op::uuid_v5;
pub use op::{tag_link_id, Change, Op};
pub use protocol::{
    sync, Envelope, Outgoing, Page, Pushed, RemoteStatus, Replica, Sealer, Summary, SyncError,
    Transport,
};
