//! The write transaction: what every write runs in, and its commit.
//!
//! A [`Tx`]'s methods are split by job: the primitive changes to rows
//! (`rows.rs`), the change log sync reads (`changelog.rs`), the search
//! index kept in step (`index.rs`) and the options of a bulk write
//! (`bulk.rs`). Higher-level operations (clip, tag, remove) are built from
//! the primitives and never touch rows directly.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::bulk::IdPool;
use super::changelog::SyncLog;
use super::query::ArticleRef;
use super::side_index::SideIndex;
use crate::error::Result;
use crate::time::Timestamp;

pub struct Tx<'c> {
    pub(super) tx: Scope<'c>,
    pub(super) now: Timestamp,
    pub(super) dirty_articles: BTreeSet<i64>,
    pub(super) dirty_notes: BTreeSet<i64>,
    /// The search index is being rebuilt later (meta `index_stale`): a
    /// large pull leaves indexing to one rebuild at its end, and until then
    /// no write may touch the index, whose entries an external-content
    /// index can only remove with the values they were made from.
    pub(super) index_deferred: bool,
    /// Set when sync is on: every primitive change is also an operation.
    pub(super) log: Option<SyncLog>,
    /// Sorted random ids for a large write ([`Tx::sorted_ids`]).
    pub(super) ids: Option<IdPool>,
    /// For an import into an empty journal ([`Tx::bulk_import`]): every
    /// URL stored so far, with its article, so bookmarks are matched by URL
    /// in memory while the URL index waits to be built.
    pub(super) urls_seen: Option<UrlsSeen>,
    /// The scratch database attached for an import's search index
    /// ([`super::Journal::with_side_index`]), if there is one.
    pub(super) scratch: Option<PathBuf>,
    /// The search index of an import into an empty journal, being built
    /// on another thread ([`super::side_index`]).
    pub(super) side: Option<SideIndex>,
    /// Whether the search index came from the worker (for tests: the
    /// rebuild it falls back to gives the same index).
    pub(super) side_index_copied: bool,
    /// Items an import has handed over since the copy keys were last
    /// made ([`Tx::copy_keys_as_it_goes`]).
    pub(super) items_since_copy_keys: usize,
    /// Copy keys this transaction has made, by text hash
    /// ([`Tx::write_copy_keys`] takes them instead of reading the text).
    pub(super) copy_keys_made: HashMap<String, Option<[i64; crate::similar::BANDS]>>,
}

/// URLs matched in memory during an import ([`Tx::urls_seen`]). foldhash
/// hashes a URL in a fraction of SipHash's time, and is seeded per map, so
/// a hostile file still cannot choose collisions.
pub(super) type UrlsSeen = HashMap<String, ArticleRef, foldhash::fast::RandomState>;

/// What a [`Tx`] writes in: a transaction of its own, or the one the
/// journal holds open ([`super::Journal::hold`]), which it leaves open.
pub(super) enum Scope<'c> {
    Top(Transaction<'c>),
    Held(&'c Connection),
}

impl Scope<'_> {
    fn commit(self) -> rusqlite::Result<()> {
        match self {
            Scope::Top(tx) => tx.commit(),
            Scope::Held(_) => Ok(()),
        }
    }
}

impl std::ops::Deref for Scope<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            Scope::Top(tx) => tx,
            Scope::Held(conn) => conn,
        }
    }
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The id of an article's source URL: the same on every device, so a URL
/// two devices both recorded is one link.
pub(crate) fn url_link_id(article_id: &str, url: &str) -> String {
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6e6a_7572_6c73_4c2b_8e0d_73a1_94f2_c6d5);
    let name = format!("{}:{article_id}{url}", article_id.len());
    crate::sync::uuid_v5(&NAMESPACE, name.as_bytes())
}

/// A column value as the JSON an operation carries: text as a string,
/// integers as numbers, NULL as null (`crate::entity`).
pub(crate) fn sql_to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Integer(i) => serde_json::Value::from(*i),
        Value::Real(f) => serde_json::Value::from(*f),
        Value::Text(t) => serde_json::Value::String(t.clone()),
        Value::Blob(b) => serde_json::Value::from(b.clone()),
    }
}

/// JSON from an operation as a column value.
pub(crate) fn json_to_sql(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Integer(i64::from(*b)),
        serde_json::Value::Number(n) => n
            .as_i64()
            .map(Value::Integer)
            .or_else(|| n.as_f64().map(Value::Real))
            .unwrap_or(Value::Null),
        serde_json::Value::String(s) => Value::Text(s.clone()),
        other => Value::Text(other.to_string()),
    }
}

pub(crate) fn meta_get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

pub(crate) fn meta_set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2",
    )?
    .execute(params![key, value])?;
    Ok(())
}

impl<'c> Tx<'c> {
    pub(super) fn new(tx: Scope<'c>, now: Timestamp) -> Tx<'c> {
        Tx {
            tx,
            now,
            dirty_articles: BTreeSet::new(),
            dirty_notes: BTreeSet::new(),
            index_deferred: false,
            log: None,
            ids: None,
            urls_seen: None,
            scratch: None,
            side: None,
            side_index_copied: false,
            items_since_copy_keys: 0,
            copy_keys_made: HashMap::new(),
        }
    }

    /// A new id: the next from the sorted batch, if there is one.
    pub(super) fn next_id(&mut self) -> String {
        match &mut self.ids {
            Some(pool) => pool.next(),
            None => new_id(),
        }
    }

    /// The moment this transaction records as "now".
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Read access inside the transaction, for lookups.
    pub(crate) fn conn(&self) -> &Connection {
        &self.tx
    }

    pub(super) fn commit(mut self) -> Result<()> {
        self.save_log_position()?;
        self.write_copy_keys()?;
        self.write_index()?;
        self.tx.commit()?;
        Ok(())
    }
}
