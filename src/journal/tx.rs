//! The write transaction and its primitive changes.
//!
//! Each public method here is one change a sync log can describe: create an
//! entity, set one field, link or unlink a tag. Higher-level operations
//! (clip, tag, remove) are built from them and never touch rows directly.
//!
//! The full-text index is an external-content index over views, so an
//! entry can only be removed with the exact values it was indexed with. A
//! change therefore first "touches" the article or note, which removes its
//! entry while the rows still hold the old values, and the entry is written
//! again from the new values at commit.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use chacha20poly1305::aead::rand_core::RngCore;
use chacha20poly1305::aead::OsRng;
use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::query::{ArticleRef, NoteRef};
use super::side_index::{self, SideIndex};
use crate::content::Content;
use crate::error::Result;
use crate::limits;
use crate::sync::{tag_link_id, Change, Clock, Hlc, Op, Stamp};
use crate::time::Timestamp;

/// The article fields that can be set after creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArticleField {
    Title,
    Url,
    Site,
    Author,
    Lang,
    PublishedAt,
    ContentHash,
    ReadAt,
    DeletedAt,
}

impl ArticleField {
    fn column(self) -> &'static str {
        match self {
            ArticleField::Title => "title",
            ArticleField::Url => "url",
            ArticleField::Site => "site",
            ArticleField::Author => "author",
            ArticleField::Lang => "lang",
            ArticleField::PublishedAt => "published_at",
            ArticleField::ContentHash => "content_hash",
            ArticleField::ReadAt => "read_at",
            ArticleField::DeletedAt => "deleted_at",
        }
    }

    /// Whether the full-text index reads this field.
    fn indexed(self) -> bool {
        matches!(self, ArticleField::Title | ArticleField::ContentHash)
    }
}

/// The note fields that can be set after creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteField {
    Body,
    DeletedAt,
}

impl NoteField {
    fn column(self) -> &'static str {
        match self {
            NoteField::Body => "body",
            NoteField::DeletedAt => "deleted_at",
        }
    }
}

/// What a new article row holds besides its id and times.
#[derive(Debug, Clone, Default)]
pub struct ArticleRow {
    pub title: String,
    pub url: Option<String>,
    pub site: Option<String>,
    pub author: Option<String>,
    pub lang: Option<String>,
    pub published_at: Option<Timestamp>,
    pub content_hash: String,
    /// When it was clipped, when not now (an import keeps the time a
    /// bookmark was saved).
    pub clipped_at: Option<Timestamp>,
    pub read_at: Option<Timestamp>,
}

/// A note row as [`Tx::insert_note`] writes it.
pub(super) struct NoteRow<'a> {
    pub id: String,
    pub body: &'a str,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub deleted_at: Option<Timestamp>,
}

pub struct Tx<'c> {
    tx: Scope<'c>,
    now: Timestamp,
    dirty_articles: BTreeSet<i64>,
    dirty_notes: BTreeSet<i64>,
    /// The search index is being rebuilt later (meta `index_stale`): a
    /// large pull leaves indexing to one rebuild at its end, and until then
    /// no write may touch the index, whose entries an external-content
    /// index can only remove with the values they were made from.
    index_deferred: bool,
    /// Set when sync is on: every primitive change is also an operation.
    log: Option<SyncLog>,
    /// Sorted random ids for a large write ([`Tx::sorted_ids`]).
    ids: Option<IdPool>,
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
}

/// A batch of random v4 UUIDs handed out in ascending order.
struct IdPool {
    batch: usize,
    /// Sorted descending, so the next is at the end.
    ready: Vec<u128>,
}

impl IdPool {
    fn next(&mut self) -> String {
        if self.ready.is_empty() {
            // One read of the system's randomness for the batch, not one
            // per id.
            let mut bytes = vec![0u8; self.batch * 16];
            OsRng.fill_bytes(&mut bytes);
            self.ready = bytes
                .chunks_exact(16)
                .map(|b| {
                    let b: [u8; 16] = b.try_into().expect("16 bytes");
                    uuid::Builder::from_random_bytes(b).into_uuid().as_u128()
                })
                .collect();
            self.ready.sort_unstable_by(|a, b| b.cmp(a));
        }
        let id = self.ready.pop().expect("a batch is never empty");
        uuid::Uuid::from_u128(id).hyphenated().to_string()
    }
}

/// URLs matched in memory during an import ([`Tx::urls_seen`]). SipHash
/// cost the import's writing thread a fortieth of its time; foldhash is
/// seeded per map, so a hostile file still cannot choose collisions.
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

/// This device's side of the change log while a transaction runs.
pub(super) struct SyncLog {
    pub(super) device: String,
    pub(super) clock: Clock,
    pub(super) seq: u64,
}

/// The columns an entity's fields live in.
pub(super) fn entity_table(entity: &str) -> Option<(&'static str, &'static [&'static str])> {
    Some(match entity {
        "article" => (
            "articles",
            &[
                "title",
                "url",
                "site",
                "author",
                "lang",
                "published_at",
                "content_hash",
                "clipped_at",
                "deleted_at",
                "read_at",
            ],
        ),
        "version" => ("versions", &["article_id", "content_hash", "created_at"]),
        "note" => ("notes", &["article_id", "body", "created_at", "deleted_at"]),
        "url" => ("article_urls", &["article_id", "url", "added_at"]),
        "followup" => (
            "followups",
            &[
                "article_id",
                "text",
                "due_at",
                "every",
                "status",
                "done_at",
                "created_at",
                "deleted_at",
            ],
        ),
        _ => return None,
    })
}

/// The field name of a creation's stamp row, which stands for every field
/// the creation set until the field is edited. Most entities are created
/// and never edited, so this keeps one row per entity instead of one per
/// field, which is most of what a first sync writes.
pub(super) const ALL_FIELDS: &str = "*";

/// The fields of a creation.
pub(super) type Fields = std::collections::BTreeMap<String, serde_json::Value>;

/// Whether a field's stamp is kept. A tag link's article and tag are what
/// its id is made from, so they never change and need none; only whether
/// it is linked does.
pub(super) fn is_stamped(entity: &str, field: &str) -> bool {
    !(entity == "tag" && matches!(field, "article_id" | "tag"))
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

pub(super) fn opt(v: &Option<String>) -> Value {
    v.clone().map(Value::Text).unwrap_or(Value::Null)
}

/// A column value as the JSON an operation carries.
pub(super) fn time_value(t: Option<Timestamp>) -> Value {
    t.map(|t| Value::Integer(t.0)).unwrap_or(Value::Null)
}

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
        }
    }

    /// Hands out new ids from sorted batches of `batch` random ones for the
    /// rest of the transaction: for a write that creates many rows (an
    /// import). Each id is as random as any other, but rows keyed by id
    /// (the articles' id index, versions, notes) then go into their trees in
    /// order, a page at a time, instead of each one at a random place in
    /// trees larger than the cache: at 100,000 bookmarks that is several
    /// times quicker.
    pub(crate) fn sorted_ids(&mut self, batch: usize) {
        self.ids = Some(IdPool {
            batch: batch.max(1),
            ready: Vec::new(),
        });
    }

    /// Readies the transaction to import bookmarks into a journal that has
    /// none: every secondary index but the one texts are matched by waits
    /// for [`Tx::finish_index`], and, since nothing outside
    /// this import can share a URL with a bookmark, URLs are matched in
    /// memory ([`Tx::import_bookmark`]). Each bookmark's URL would otherwise
    /// be looked up and then inserted at a random place in an index far
    /// larger than the cache; building that index from the finished table
    /// is one sort. Does nothing when the journal has articles after all
    /// (another process imported into it first).
    pub(crate) fn bulk_import(&mut self) -> Result<()> {
        let empty: bool =
            self.tx
                .query_row("SELECT NOT EXISTS (SELECT 1 FROM articles)", [], |r| {
                    r.get(0)
                })?;
        if !empty {
            return Ok(());
        }
        // An index a pull left waiting is rebuilt whole, as before.
        let fresh = !self.index_deferred;
        // The notes index stays for the search values of an article the
        // import changes again (Tx::touch_article), which read its notes.
        self.defer_indexes_but(&["versions_by_hash", "notes_by_article"])?;
        self.urls_seen = Some(HashMap::default());
        if let (true, Some(path)) = (fresh, &self.scratch) {
            let create: String = self.tx.query_row(
                "SELECT sql FROM main.sqlite_master WHERE name = 'article_fts'",
                [],
                |r| r.get(0),
            )?;
            // Without a worker the index is rebuilt at the end instead.
            self.side = SideIndex::start(path, create).ok();
        }
        Ok(())
    }

    /// Builds the indexes a bulk write left for later
    /// ([`Tx::defer_index`]) now, in this transaction, so it commits (and
    /// syncs the file) once; later writes in it index as they go.
    pub(crate) fn finish_index(&mut self) -> Result<()> {
        if !self.index_deferred {
            return Ok(());
        }
        match self.side.take() {
            Some(side) => self.finish_side_index(side)?,
            None => super::rebuild_index_in(&self.tx)?,
        }
        self.index_deferred = false;
        Ok(())
    }

    /// Finishes the index the worker built and puts it in the journal:
    /// the articles changed after they were handed over are handed over
    /// again from their rows first.
    fn finish_side_index(&mut self, mut side: SideIndex) -> Result<()> {
        if let Some(rowid) = side.building.take() {
            self.dirty_articles.insert(rowid);
        }
        super::build_deferred_indexes(&self.tx)?;
        let mut handed = Ok(());
        for rowid in std::mem::take(&mut self.dirty_articles) {
            if let Some(values) = self.search_values(rowid)? {
                handed = side.push(side_index::Entry {
                    rowid,
                    remove: false,
                    values,
                });
                if handed.is_err() {
                    break;
                }
            }
        }
        match handed.and_then(|()| side.finish()) {
            Ok(()) => {
                side_index::copy_into(&self.tx)?;
                super::rebuild_note_index_in(&self.tx)?;
                self.side_index_copied = true;
            }
            // The worker stopped (a full scratch disk, say): the journal's
            // own rebuild.
            Err(_) => super::rebuild_index_in(&self.tx)?,
        }
        Ok(())
    }

    /// Hands an entry to the worker building the import's index. If the
    /// worker has stopped (a full scratch disk, say), the import goes on
    /// without it and rebuilds the index at the end.
    fn hand_over(&mut self, entry: side_index::Entry) {
        if let Some(side) = &mut self.side {
            if side.push(entry).is_err() {
                self.side = None;
            }
        }
    }

    /// What the search index holds for an article, as its rows say now.
    fn search_values(&self, rowid: i64) -> Result<Option<[Value; 4]>> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT title, body, notes, tags FROM article_search_src WHERE article_rowid = ?1",
            )?
            .query_row([rowid], |r| {
                Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?])
            })
            .optional()?)
    }

    /// Hands a new article's search values to the worker building the
    /// import's index, once its tags and notes are in: `tags` sorted,
    /// `notes` in the order they were made (the view's order: by time,
    /// then id). An article this does not reach (its write failed part
    /// way) is indexed from its rows at the end.
    pub(super) fn hand_over_new_article(
        &mut self,
        article: &ArticleRef,
        title: &str,
        body: &str,
        notes: &[&str],
        tags: &[String],
    ) {
        let Some(side) = &mut self.side else {
            return;
        };
        if side.building != Some(article.rowid) {
            return;
        }
        side.building = None;
        // group_concat of no rows is NULL.
        let concat = |joined: String| {
            if joined.is_empty() {
                Value::Null
            } else {
                Value::Text(joined)
            }
        };
        self.hand_over(side_index::Entry {
            rowid: article.rowid,
            remove: false,
            values: [
                Value::Text(title.to_owned()),
                Value::Text(body.to_owned()),
                concat(notes.join("\n")),
                concat(tags.join(" ")),
            ],
        });
    }

    /// A new id: the next from the sorted batch, if there is one.
    pub(super) fn next_id(&mut self) -> String {
        match &mut self.ids {
            Some(pool) => pool.next(),
            None => new_id(),
        }
    }

    /// Notes whether the search index waits for a rebuild.
    pub(super) fn load_index_state(&mut self) -> Result<()> {
        self.index_deferred = meta_get(&self.tx, "index_stale")?.as_deref() == Some("1");
        Ok(())
    }

    /// Leaves this transaction's changes, and every write's after it, out
    /// of the search index until [`super::Journal::finish_index`] rebuilds
    /// it. For a pull that brings more articles than the journal holds,
    /// one rebuild costs less than indexing each page.
    ///
    /// The secondary indexes of the tables a pull fills go too, and come
    /// back with the rebuild: each remote row lands at a random place in
    /// every index of its table, and together they are far larger than the
    /// cache, so keeping them up to date row by row reads and writes most
    /// of their pages again and again, while creating one from the finished
    /// table is a sort (at 100,000 articles, 1.5 s against some 12 s).
    /// Their definitions wait in meta `deferred_indexes`. Unique indexes
    /// stay: they are constraints, not just speed.
    pub(crate) fn defer_index(&mut self) -> Result<()> {
        self.defer_indexes_but(&[])
    }

    /// [`Tx::defer_index`], keeping the indexes named in `keep`: the ones
    /// the write looks rows up with as it goes (an import matches a
    /// bookmark with a text by it, and without `versions_by_hash` would scan
    /// the table for every one).
    fn defer_indexes_but(&mut self, keep: &[&str]) -> Result<()> {
        if self.index_deferred {
            return Ok(());
        }
        meta_set(&self.tx, "index_stale", "1")?;
        self.index_deferred = true;
        let indexes: Vec<(String, String)> = self
            .tx
            .prepare(
                "SELECT name, sql FROM sqlite_master
                  WHERE type = 'index' AND sql IS NOT NULL
                    AND sql NOT LIKE 'CREATE UNIQUE%'
                    AND tbl_name IN ('articles', 'article_urls', 'versions', 'notes',
                                     'article_tags', 'followups')
                  ORDER BY name",
            )?
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .filter(|r| !matches!(r, Ok((name, _)) if keep.contains(&name.as_str())))
            .collect::<rusqlite::Result<_>>()?;
        let mut waiting: Vec<String> = match meta_get(&self.tx, "deferred_indexes")? {
            Some(json) => serde_json::from_str(&json).map_err(|e| crate::Error::Other(e.into()))?,
            None => Vec::new(),
        };
        for (name, sql) in indexes {
            self.tx.execute_batch(&format!("DROP INDEX \"{name}\""))?;
            waiting.push(sql);
        }
        // The tag counts' triggers go too: row by row they would cost a
        // large write a look-up and an update per tag link, where one count
        // at the end is a single pass (super::build_deferred_indexes).
        let triggers: Vec<(String, String)> = self
            .tx
            .prepare(
                "SELECT name, sql FROM sqlite_master
                  WHERE type = 'trigger' AND name LIKE 'tag_counts_on_%' ORDER BY name",
            )?
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (name, sql) in triggers {
            self.tx.execute_batch(&format!("DROP TRIGGER \"{name}\""))?;
            waiting.push(sql);
        }
        let json = serde_json::to_string(&waiting).map_err(|e| crate::Error::Other(e.into()))?;
        meta_set(&self.tx, "deferred_indexes", &json)
    }

    /// Turns on recording when the journal syncs.
    pub(super) fn load_sync_log(&mut self) -> Result<()> {
        if meta_get(&self.tx, "sync_enabled")?.as_deref() != Some("1") {
            return Ok(());
        }
        let device = meta_get(&self.tx, "device_id")?.unwrap_or_default();
        let ms = meta_get(&self.tx, "hlc_ms")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let counter = meta_get(&self.tx, "hlc_counter")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let seq = meta_get(&self.tx, "last_seq")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        self.log = Some(SyncLog {
            device,
            clock: Clock::starting_at(Hlc { ms, counter }),
            seq,
        });
        Ok(())
    }

    /// Runs `f` without recording operations, for changes whose operation
    /// the caller records itself.
    pub(super) fn unlogged<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let log = self.log.take();
        let out = f(self);
        self.log = log;
        out
    }

    pub(super) fn sync_log_mut(&mut self) -> Option<&mut SyncLog> {
        self.log.as_mut()
    }

    /// The stamp of a field's current value, if sync has seen one. A field
    /// edited since its entity was created has a row of its own; otherwise
    /// the creation's one row (field [`ALL_FIELDS`]) stands for it.
    pub(super) fn field_stamp(&self, entity: &str, id: &str, field: &str) -> Result<Option<Stamp>> {
        if !is_stamped(entity, field) {
            return Ok(None);
        }
        // One scan of the entity's few rows: a parameter inside `IN (...)`
        // makes SQLite prepare the statement again on every run.
        let mut stmt = self.tx.prepare_cached(
            "SELECT field, ms, counter, device FROM sync_stamps WHERE entity = ?1 AND id = ?2",
        )?;
        let mut rows = stmt.query(params![entity, id])?;
        let mut creation = None;
        while let Some(r) = rows.next()? {
            let this = r.get_ref(0)?;
            let this = this.as_str().map_err(rusqlite::Error::from)?;
            if this != field && this != ALL_FIELDS {
                continue;
            }
            let stamp = Stamp {
                hlc: Hlc {
                    ms: r.get(1)?,
                    counter: r.get(2)?,
                },
                device: r.get(3)?,
            };
            if this == field {
                return Ok(Some(stamp));
            }
            creation = Some(stamp);
        }
        Ok(creation)
    }

    /// Whether sync has stamped any field of this entity.
    pub(super) fn has_stamps(&self, entity: &str, id: &str) -> Result<bool> {
        Ok(self
            .tx
            .prepare_cached("SELECT 1 FROM sync_stamps WHERE entity = ?1 AND id = ?2 LIMIT 1")?
            .exists(params![entity, id])?)
    }

    /// Whether a creation of this entity may be stamped with one row: it
    /// sets every column (so the row claims no field it did not set) and
    /// nothing was stamped before (so no older row outranks it).
    pub(super) fn stamps_as_one(&self, entity: &str, id: &str, fields: &Fields) -> Result<bool> {
        let Some((_, columns)) = entity_table(entity) else {
            return Ok(false);
        };
        let covers =
            fields.len() == columns.len() && columns.iter().all(|c| fields.contains_key(*c));
        Ok(covers && !self.has_stamps(entity, id)?)
    }

    pub(super) fn set_stamp(
        &mut self,
        entity: &str,
        id: &str,
        field: &str,
        stamp: &Stamp,
    ) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO sync_stamps(entity, id, field, ms, counter, device) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(entity, id, field) DO UPDATE SET ms = ?4, counter = ?5, device = ?6",
            )?
            .execute(params![entity, id, field, stamp.hlc.ms, stamp.hlc.counter, stamp.device])?;
        Ok(())
    }

    /// Records an operation, when sync is on: stamps its fields and queues
    /// it for the next push. Called by every primitive change.
    pub(super) fn log_op(&mut self, entity: &str, id: &str, change: Change) -> Result<()> {
        let Some(log) = self.log.as_mut() else {
            return Ok(());
        };
        log.seq += 1;
        let op = Op {
            device: log.device.clone(),
            seq: log.seq,
            hlc: log.clock.tick(self.now.0),
            entity: entity.to_owned(),
            id: id.to_owned(),
            change,
        };
        let stamp = op.stamp();
        match &op.change {
            Change::Create { fields } => {
                if self.stamps_as_one(entity, id, fields)? {
                    self.set_stamp(entity, id, ALL_FIELDS, &stamp)?;
                } else {
                    for f in fields.keys() {
                        self.set_stamp(entity, id, f, &stamp)?;
                    }
                }
            }
            Change::Set { field, .. } => self.set_stamp(entity, id, field, &stamp)?,
            Change::Link { .. } | Change::Unlink { .. } => {
                self.set_stamp(entity, id, "linked", &stamp)?;
            }
        }
        let json = serde_json::to_string(&op).map_err(|e| crate::Error::Other(e.into()))?;
        self.tx
            .prepare_cached("INSERT INTO sync_ops(seq, op, nonce_seed) VALUES (?1, ?2, ?3)")?
            .execute(params![
                op.seq as i64,
                json,
                &crate::sync::crypto::nonce_seed()[..]
            ])?;
        Ok(())
    }

    /// Logs a create with these fields.
    pub(super) fn log_create(
        &mut self,
        entity: &str,
        id: &str,
        fields: &[(&str, Value)],
    ) -> Result<()> {
        if self.log.is_none() {
            return Ok(());
        }
        let fields = fields
            .iter()
            .map(|(k, v)| (k.to_string(), sql_to_json(v)))
            .collect();
        self.log_op(entity, id, Change::Create { fields })
    }

    /// Logs a change of one field, based on the value it replaces.
    pub(super) fn log_set(
        &mut self,
        entity: &str,
        id: &str,
        field: &str,
        value: &Value,
    ) -> Result<()> {
        if self.log.is_none() {
            return Ok(());
        }
        let base = self.field_stamp(entity, id, field)?;
        self.log_op(
            entity,
            id,
            Change::Set {
                field: field.to_owned(),
                value: sql_to_json(value),
                base,
            },
        )
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
        if let Some(log) = self.log.take() {
            let last = log.clock.last();
            meta_set(&self.tx, "hlc_ms", &last.ms.to_string())?;
            meta_set(&self.tx, "hlc_counter", &last.counter.to_string())?;
            meta_set(&self.tx, "last_seq", &log.seq.to_string())?;
        }
        let mut articles = std::mem::take(&mut self.dirty_articles);
        if self.index_deferred {
            articles.clear();
            self.dirty_notes.clear();
        }
        let mut add = self.tx.prepare_cached(
            "INSERT INTO article_fts(rowid, title, body, notes, tags)
             SELECT article_rowid, title, body, notes, tags
               FROM article_search_src WHERE article_rowid = ?1",
        )?;
        for rowid in articles {
            add.execute([rowid])?;
        }
        drop(add);
        let notes = std::mem::take(&mut self.dirty_notes);
        let mut add = self.tx.prepare_cached(
            "INSERT INTO note_fts(rowid, body)
             SELECT note_rowid, body FROM note_search_src WHERE note_rowid = ?1",
        )?;
        for rowid in notes {
            add.execute([rowid])?;
        }
        drop(add);
        self.tx.commit()?;
        Ok(())
    }

    /// Marks a row inserted outside the primitives for indexing at commit.
    pub(super) fn index_new_article(&mut self, rowid: i64) {
        self.dirty_articles.insert(rowid);
    }

    pub(super) fn index_new_note(&mut self, rowid: i64) {
        self.dirty_notes.insert(rowid);
    }

    /// Takes the article out of the index until commit; see the module doc.
    pub(super) fn touch_article(&mut self, rowid: i64) -> Result<()> {
        if self.index_deferred {
            // The worker's index takes the article back out, unless it has
            // not had it yet; it comes back from its rows at the end.
            let handed_over = self
                .side
                .as_ref()
                .is_some_and(|s| s.building != Some(rowid));
            if handed_over && self.dirty_articles.insert(rowid) {
                if let Some(values) = self.search_values(rowid)? {
                    self.hand_over(side_index::Entry {
                        rowid,
                        remove: true,
                        values,
                    });
                }
            }
            // Otherwise a rebuild to come indexes everything (and keeps no
            // list).
            return Ok(());
        }
        if self.dirty_articles.insert(rowid) {
            self.tx
                .prepare_cached(
                    "INSERT INTO article_fts(article_fts, rowid, title, body, notes, tags)
                     SELECT 'delete', article_rowid, title, body, notes, tags
                       FROM article_search_src WHERE article_rowid = ?1",
                )?
                .execute([rowid])?;
        }
        Ok(())
    }

    pub(super) fn touch_note(&mut self, rowid: i64) -> Result<()> {
        if self.index_deferred {
            return Ok(());
        }
        if self.dirty_notes.insert(rowid) {
            self.tx
                .prepare_cached(
                    "INSERT INTO note_fts(note_fts, rowid, body)
                     SELECT 'delete', note_rowid, body FROM note_search_src WHERE note_rowid = ?1",
                )?
                .execute([rowid])?;
        }
        Ok(())
    }

    /// Marks the article as changed now (its tags, URLs or notes changed).
    fn bump(&mut self, article: &ArticleRef) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE articles SET updated_at = ?1 WHERE rowid = ?2")?
            .execute(params![self.now, article.rowid])?;
        Ok(())
    }

    /// Stores a text under its hash. Returns false when it was already there.
    pub(crate) fn put_text(&mut self, content: &Content) -> Result<bool> {
        let now = self.now;
        self.put_text_packed(content, None, now)
    }

    /// [`Tx::put_text`] with the text's stored form already made (`frame`,
    /// a zstd frame of it, as a synced or imported text arrives), so it is
    /// not compressed again, dated `at` when it is new.
    pub(crate) fn put_text_packed(
        &mut self,
        content: &Content,
        frame: Option<Vec<u8>>,
        at: Timestamp,
    ) -> Result<bool> {
        // Called once, on whichever path stores the text.
        let encoded = move |text: &str| -> Result<Value> {
            match frame {
                Some(f) => Ok(Value::Blob(f)),
                None => super::codec::encode(text),
            }
        };
        let stored: Option<Value> = self
            .tx
            .prepare_cached("SELECT body FROM texts WHERE hash = ?1")?
            .query_row([&content.hash], |r| r.get(0))
            .optional()?;
        if let Some(stored) = stored {
            // A stored text that no longer matches its hash (damaged on
            // disk) is healed by clipping the same text again.
            let intact = super::codec::decode((&stored).into())
                .is_ok_and(|body| crate::content::hash_normalized(&body) == content.hash);
            if !intact {
                self.tx
                    .prepare_cached("UPDATE texts SET body = ?1 WHERE hash = ?2")?
                    .execute(params![encoded(&content.text)?, content.hash])?;
            }
            return Ok(false);
        }
        self.tx
            .prepare_cached(
                "INSERT INTO texts(hash, body, word_count, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                content.hash,
                encoded(&content.text)?,
                content.word_count,
                at
            ])?;
        Ok(true)
    }

    pub(crate) fn create_article(&mut self, row: &ArticleRow) -> Result<ArticleRef> {
        limits::check_title(&row.title)?;
        if let Some(url) = &row.url {
            limits::check_url(url)?;
        }
        for meta in [&row.site, &row.author, &row.lang].into_iter().flatten() {
            limits::check_meta(meta)?;
        }
        let id = self.next_id();
        let clipped_at = row.clipped_at.unwrap_or(self.now);
        self.tx
            .prepare_cached(
                "INSERT INTO articles(id, title, url, site, author, lang, published_at,
                                      content_hash, clipped_at, updated_at, read_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                id,
                row.title,
                row.url,
                row.site,
                row.author,
                row.lang,
                row.published_at,
                row.content_hash,
                clipped_at,
                self.now,
                row.read_at
            ])?;
        let rowid = self.tx.last_insert_rowid();
        // Nothing to remove from the index for a new row; index it at commit
        // (or with everything, when the index waits for a rebuild).
        if !self.index_deferred {
            self.dirty_articles.insert(rowid);
        }
        // In an import building its index beside it, the article is handed
        // over once its tags and notes are in (Tx::hand_over_new_article);
        // one that never was comes from its rows at the end.
        if let Some(side) = &mut self.side {
            if let Some(earlier) = side.building.replace(rowid) {
                self.dirty_articles.insert(earlier);
            }
        }
        self.log_create(
            "article",
            &id,
            &[
                ("title", Value::Text(row.title.clone())),
                ("url", opt(&row.url)),
                ("site", opt(&row.site)),
                ("author", opt(&row.author)),
                ("lang", opt(&row.lang)),
                (
                    "published_at",
                    row.published_at
                        .map(|t| Value::Integer(t.0))
                        .unwrap_or(Value::Null),
                ),
                ("content_hash", Value::Text(row.content_hash.clone())),
                ("clipped_at", Value::Integer(clipped_at.0)),
                ("deleted_at", Value::Null),
                ("read_at", time_value(row.read_at)),
            ],
        )?;
        Ok(ArticleRef { rowid, id })
    }

    pub(crate) fn set_article(
        &mut self,
        article: &ArticleRef,
        field: ArticleField,
        value: Value,
    ) -> Result<()> {
        if let Value::Text(text) = &value {
            match field {
                ArticleField::Title => limits::check_title(text)?,
                ArticleField::Url => limits::check_url(text)?,
                ArticleField::Site | ArticleField::Author | ArticleField::Lang => {
                    limits::check_meta(text)?
                }
                _ => {}
            }
        }
        if field.indexed() {
            self.touch_article(article.rowid)?;
        }
        let sql = format!(
            "UPDATE articles SET {} = ?1, updated_at = ?2 WHERE rowid = ?3",
            field.column()
        );
        self.tx
            .prepare_cached(&sql)?
            .execute(params![value, self.now, article.rowid])?;
        self.log_set("article", &article.id, field.column(), &value)?;
        Ok(())
    }

    /// Records a source URL of the article. Returns false if it had it.
    pub(crate) fn add_url(&mut self, article: &ArticleRef, url: &str) -> Result<bool> {
        let added = self.insert_url(article, url, self.now)?;
        if added {
            self.bump(article)?;
        }
        Ok(added)
    }

    /// [`Tx::add_url`] recorded as added at `at`, without marking the
    /// article changed: an import restores both times as they were.
    pub(super) fn insert_url(
        &mut self,
        article: &ArticleRef,
        url: &str,
        at: Timestamp,
    ) -> Result<bool> {
        limits::check_url(url)?;
        let n = self
            .tx
            .prepare_cached(
                "INSERT INTO article_urls(article_seq, url, added_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(article_seq, url) DO NOTHING",
            )?
            .execute(params![article.rowid, url, at])?;
        if n == 1 && self.log.is_some() {
            self.log_create(
                "url",
                &url_link_id(&article.id, url),
                &[
                    ("article_id", Value::Text(article.id.clone())),
                    ("url", Value::Text(url.to_owned())),
                    ("added_at", Value::Integer(at.0)),
                ],
            )?;
        }
        Ok(n == 1)
    }

    pub(crate) fn create_version(&mut self, article: &ArticleRef, hash: &str) -> Result<String> {
        let id = self.next_id();
        self.insert_version(article, &id, hash, self.now)?;
        Ok(id)
    }

    /// A version row with the given id and time (an import restores them).
    pub(super) fn insert_version(
        &mut self,
        article: &ArticleRef,
        id: &str,
        hash: &str,
        at: Timestamp,
    ) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO versions(id, article_id, content_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![id, article.id, hash, at])?;
        self.log_create(
            "version",
            id,
            &[
                ("article_id", Value::Text(article.id.clone())),
                ("content_hash", Value::Text(hash.to_owned())),
                ("created_at", Value::Integer(at.0)),
            ],
        )
    }

    /// Links a (normalised) tag. Returns false if the article had it.
    pub(crate) fn link_tag(&mut self, article: &ArticleRef, tag: &str) -> Result<bool> {
        let linked = self.insert_tag(article, tag, self.now)?;
        if linked {
            self.bump(article)?;
        }
        Ok(linked)
    }

    /// [`Tx::link_tag`] recorded as linked at `at`, without marking the
    /// article changed: an import restores both times as they were.
    pub(super) fn insert_tag(
        &mut self,
        article: &ArticleRef,
        tag: &str,
        at: Timestamp,
    ) -> Result<bool> {
        limits::check_tag(tag)?;
        // An indexed article not yet touched in this transaction: a tag it
        // has already must not touch it, which would re-index it for
        // nothing (for every article of a re-imported file).
        if !self.index_deferred && !self.dirty_articles.contains(&article.rowid) {
            let exists = self
                .tx
                .prepare_cached("SELECT 1 FROM article_tags WHERE article_seq = ?1 AND tag = ?2")?
                .exists(params![article.rowid, tag])?;
            if exists {
                return Ok(false);
            }
        }
        // Touched first, while the index entry can still be removed with
        // the old tags.
        self.touch_article(article.rowid)?;
        let linked = self
            .tx
            .prepare_cached(
                "INSERT INTO article_tags(article_seq, tag, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(article_seq, tag) DO NOTHING",
            )?
            .execute(params![article.rowid, tag, at])?
            == 1;
        if linked {
            self.log_tag_link(article, tag)?;
        }
        Ok(linked)
    }

    /// Links tags (normalised, without repeats) to an article this
    /// transaction created, in one statement: an import links a handful of
    /// tags to each of many bookmarks, and a statement per link cost it a
    /// twentieth of its time. (`OR IGNORE`, which changes nothing for new
    /// links, spares SQLite the statement journal that undoes a
    /// multi-row insert failing halfway: another sixteenth.)
    pub(super) fn link_new_article_tags(
        &mut self,
        article: &ArticleRef,
        tags: &[String],
        at: Timestamp,
    ) -> Result<()> {
        if tags.is_empty() {
            return Ok(());
        }
        let json = serde_json::to_string(tags).map_err(|e| crate::Error::Other(e.into()))?;
        self.tx
            .prepare_cached(
                "INSERT OR IGNORE INTO article_tags(article_seq, tag, created_at)
                 SELECT ?1, value, ?2 FROM json_each(?3)",
            )?
            .execute(params![article.rowid, at, json])?;
        for tag in tags {
            self.log_tag_link(article, tag)?;
        }
        Ok(())
    }

    /// Logs a new tag link, when sync is on. The link's id is only for the
    /// sync log.
    fn log_tag_link(&mut self, article: &ArticleRef, tag: &str) -> Result<()> {
        if self.log.is_none() {
            return Ok(());
        }
        let change = Change::Link {
            article_id: article.id.clone(),
            tag: tag.to_owned(),
        };
        self.log_op("tag", &tag_link_id(&article.id, tag), change)
    }

    /// Unlinks a tag. Returns false if the article did not have it.
    pub(crate) fn unlink_tag(&mut self, article: &ArticleRef, tag: &str) -> Result<bool> {
        let exists = self
            .tx
            .prepare_cached("SELECT 1 FROM article_tags WHERE article_seq = ?1 AND tag = ?2")?
            .query_row(params![article.rowid, tag], |_| Ok(()))
            .optional()?
            .is_some();
        if !exists {
            return Ok(false);
        }
        self.touch_article(article.rowid)?;
        self.tx
            .prepare_cached("DELETE FROM article_tags WHERE article_seq = ?1 AND tag = ?2")?
            .execute(params![article.rowid, tag])?;
        self.bump(article)?;
        let change = Change::Unlink {
            article_id: article.id.clone(),
            tag: tag.to_owned(),
        };
        self.log_op("tag", &tag_link_id(&article.id, tag), change)?;
        Ok(true)
    }

    /// Creates a note on an article, or a free-standing one.
    pub(crate) fn create_note(
        &mut self,
        article: Option<&ArticleRef>,
        body: &str,
    ) -> Result<NoteRef> {
        let now = self.now;
        let id = self.next_id();
        let note = self.insert_note(
            article,
            &NoteRow {
                id,
                body,
                created_at: now,
                updated_at: now,
                deleted_at: None,
            },
        )?;
        if let Some(a) = article {
            self.bump(a)?;
        }
        Ok(note)
    }

    /// Inserts a note row as it is given (an import restores its id and
    /// times), without marking its article changed.
    pub(super) fn insert_note(
        &mut self,
        article: Option<&ArticleRef>,
        note: &NoteRow<'_>,
    ) -> Result<NoteRef> {
        // Every new note (typed, or from an import) fits the cap.
        crate::limits::check_note_size(note.body)?;
        if let Some(a) = article {
            self.touch_article(a.rowid)?;
        }
        self.tx
            .prepare_cached(
                "INSERT INTO notes(id, article_id, body, created_at, updated_at, deleted_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                note.id,
                article.map(|a| &a.id),
                note.body,
                note.created_at,
                note.updated_at,
                note.deleted_at
            ])?;
        let rowid = self.tx.last_insert_rowid();
        self.dirty_notes.insert(rowid);
        self.log_create(
            "note",
            &note.id,
            &[
                (
                    "article_id",
                    article
                        .map(|a| Value::Text(a.id.clone()))
                        .unwrap_or(Value::Null),
                ),
                ("body", Value::Text(note.body.to_owned())),
                ("created_at", Value::Integer(note.created_at.0)),
                ("deleted_at", time_value(note.deleted_at)),
            ],
        )?;
        Ok(NoteRef {
            rowid,
            id: note.id.clone(),
            article: article.cloned(),
        })
    }

    pub(crate) fn set_note(
        &mut self,
        note: &NoteRef,
        field: NoteField,
        value: Value,
    ) -> Result<()> {
        match &note.article {
            Some(a) => self.touch_article(a.rowid)?,
            None => self.touch_note(note.rowid)?,
        }
        let sql = format!(
            "UPDATE notes SET {} = ?1, updated_at = ?2 WHERE rowid = ?3",
            field.column()
        );
        self.tx
            .prepare_cached(&sql)?
            .execute(params![value, self.now, note.rowid])?;
        if let Some(a) = &note.article {
            self.bump(a)?;
        }
        self.log_set("note", &note.id, field.column(), &value)?;
        Ok(())
    }
}
