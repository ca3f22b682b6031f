//! Where the sync server keeps its data: a storage trait with one
//! implementation per database (`sqlite.rs`, `postgres.rs`).
//!
//! The trait is deliberately dumb: rows in, rows out, inside a transaction.
//! Every rule of the server (tokens, gapless sequences, idempotent pushes,
//! the clock guard, key checks, page sizes) lives once, in `core.rs`, over
//! [`Tx`]; a backend only has to store and fetch faithfully and to make a
//! transaction all or nothing. The methods that take many keys at once do
//! so because a round trip to PostgreSQL costs what a whole SQLite lookup
//! does: a backend may answer them with one statement.

use std::collections::BTreeMap;

use super::core::{ServerError, StoredOp};

/// Whether a transaction may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// A database the server can run on.
pub trait Store: Send + Sync {
    /// Runs `f` in one transaction and commits it when `f` returns `Ok`;
    /// rolls it back otherwise. A backend may run `f` again after a
    /// transient failure (PostgreSQL's serialization failures), so `f`
    /// must do nothing but work on the transaction.
    fn transact(
        &self,
        access: Access,
        f: &mut dyn FnMut(&mut dyn Tx) -> Result<(), ServerError>,
    ) -> Result<(), ServerError>;

    /// Whether the database answers, for `/v1/health`.
    fn ping(&self) -> Result<(), ServerError>;

    /// Which database this is, for logs (never with a password).
    fn describe(&self) -> String;
}

/// A position or sequence number as both databases store it (a signed
/// 64-bit integer). The core checks them to fit at the edge.
pub(super) fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A journal's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRow {
    pub id: String,
    pub created_at_ms: i64,
    pub key_check: Option<String>,
    /// The highest position ever given out, which a removed operation
    /// does not lower: a position is never given twice.
    pub last_pos: u64,
}

/// A token's row: only the SHA-256 of the token is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub hash: String,
    pub journal: String,
    pub created_at_ms: i64,
    pub last_used_at_ms: Option<i64>,
    pub last_device: Option<String>,
    pub revoked_at_ms: Option<i64>,
}

/// What the server can tell of one stored operation without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpRow {
    pub pos: u64,
    pub device: String,
    pub seq: u64,
    pub hlc_ms: i64,
    pub bytes: u64,
    /// The payload's first byte (its format), if it has one.
    pub first: Option<u8>,
}

/// A journal's figures, for `nj server stats`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JournalStats {
    pub journal: String,
    pub created_at_ms: i64,
    pub devices: u64,
    pub ops: u64,
    pub op_bytes: u64,
    pub blobs: u64,
    pub blob_bytes: u64,
    /// When a token of the journal was last used, if ever.
    pub last_used_at_ms: Option<i64>,
}

/// One transaction. Journal ids, devices and blob ids reaching these
/// methods have been checked by the core; a backend stores them as given.
pub trait Tx {
    fn insert_journal(&mut self, row: &JournalRow) -> Result<(), ServerError>;

    /// The journal's row. With `lock`, nothing else may change the journal
    /// (push to it, set its key check, remove an operation) until this
    /// transaction ends: that is what keeps positions gapless and in one
    /// order when several servers share one database.
    fn journal(&mut self, id: &str, lock: bool) -> Result<Option<JournalRow>, ServerError>;

    /// Every journal, oldest first.
    fn journals(&mut self) -> Result<Vec<JournalRow>, ServerError>;

    fn set_key_check(&mut self, journal: &str, check: &str) -> Result<(), ServerError>;

    fn insert_token(&mut self, row: &TokenRow) -> Result<(), ServerError>;

    /// The token with this hash, revoked or not.
    fn token(&mut self, hash: &str) -> Result<Option<TokenRow>, ServerError>;

    /// Records a token's use (and the device that used it, if named).
    fn touch_token(
        &mut self,
        hash: &str,
        now_ms: i64,
        device: Option<&str>,
    ) -> Result<(), ServerError>;

    /// Revokes a token that is not revoked yet; false if there was none.
    fn revoke_token(&mut self, hash: &str, now_ms: i64) -> Result<bool, ServerError>;

    /// Every token, newest first.
    fn tokens(&mut self) -> Result<Vec<TokenRow>, ServerError>;

    /// Up to `limit` token hashes starting with `prefix` (lowercase hex).
    fn token_hashes_from(&mut self, prefix: &str, limit: usize)
        -> Result<Vec<String>, ServerError>;

    /// The highest position the journal has given out (0 for none),
    /// whether or not that operation is still there.
    fn last_pos(&mut self, journal: &str) -> Result<u64, ServerError>;

    /// The highest sequence number stored for each device.
    fn heads(&mut self, journal: &str) -> Result<BTreeMap<String, u64>, ServerError>;

    /// The payloads stored under these (device, seq) keys, in their order.
    fn payloads(
        &mut self,
        journal: &str,
        keys: &[(&str, u64)],
    ) -> Result<Vec<Option<Vec<u8>>>, ServerError>;

    /// Stores operations at the positions given, and raises the journal's
    /// last position to the highest of them.
    fn insert_ops(&mut self, journal: &str, ops: &[(u64, &StoredOp)]) -> Result<(), ServerError>;

    /// Raises each device's head to at least this sequence number.
    fn raise_heads(&mut self, journal: &str, heads: &[(&str, u64)]) -> Result<(), ServerError>;

    /// Removes one operation and sets its device's head to the highest
    /// sequence number left (or none). False if there was no such
    /// operation.
    fn delete_op(&mut self, journal: &str, device: &str, seq: u64) -> Result<bool, ServerError>;

    /// Every operation's row, in position order.
    fn op_rows(&mut self, journal: &str) -> Result<Vec<OpRow>, ServerError>;

    /// The positions and payload sizes of up to `limit` operations after
    /// `after`, in order.
    fn op_sizes(
        &mut self,
        journal: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, u64)>, ServerError>;

    /// The operations at positions in `after + 1 ..= upto`, in order, with
    /// their positions.
    fn ops(
        &mut self,
        journal: &str,
        after: u64,
        upto: u64,
    ) -> Result<Vec<(u64, StoredOp)>, ServerError>;

    /// Stores a blob unless the journal has one of that id; true if stored.
    fn insert_blob(&mut self, journal: &str, id: &str, data: &[u8]) -> Result<bool, ServerError>;

    /// The sizes of these blobs, `None` for those the journal lacks.
    fn blob_sizes(&mut self, journal: &str, ids: &[&str]) -> Result<Vec<Option<u64>>, ServerError>;

    fn blob(&mut self, journal: &str, id: &str) -> Result<Option<Vec<u8>>, ServerError>;

    /// Every blob id of the journal, in order (for `nj server migrate`).
    fn blob_ids(&mut self, journal: &str) -> Result<Vec<String>, ServerError>;

    /// Each journal's figures, for `nj server stats`.
    fn stats(&mut self) -> Result<Vec<JournalStats>, ServerError>;
}
