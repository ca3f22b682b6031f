//! The journal: one SQLite file holding articles, their texts and versions,
//! notes and tags, with a full-text index over them.
//!
//! Every write goes through [`Journal::write`], which hands the closure a
//! [`Tx`]: one IMMEDIATE transaction whose small set of primitive changes
//! (create an entity, set a field, link or unlink a tag) is the only way
//! rows change. That is the seam the sync change log hooks into, and it is
//! what keeps the full-text index in step with the rows. Nothing here
//! prints or reads the terminal.

mod article;
mod bookmark;
mod bulk;
mod changelog;
mod codec;
mod copies;
mod dump;
mod followup;
pub mod fts_query;
mod index;
mod keys;
mod note;
mod query;
mod rank;
mod related;
mod replica;
mod rows;
mod search;
mod side_index;
mod story;
mod tx;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::error::{Error, Result};
use crate::time::Timestamp;

pub use crate::limits::{check_note_size, MAX_NOTE_BYTES};
pub use article::{ClipOutcome, ClipStatus, NewClip};
pub use bookmark::{placeholder_title, Filled, NewBookmark, PendingArticle, PendingCount};
pub use copies::{Copy, CopyGroup, CopySource};
pub use dump::{
    format_time, row_from_json, ArticleRecord, PreparedArticle, Record, Restored, Row, StoryRecord,
    TextRecord, FORMAT_VERSION,
};
pub use followup::{DoneOutcome, Followup, FollowupFilter, FollowupRef, FollowupStatus};
pub use keys::{parse_key, StoredKey};
pub use query::{
    normalize_tag, short_id, Article, ArticleDetail, ArticleRef, ListFilter, ListSort, Note,
    NoteFilter, NoteRef, Version,
};
pub use related::Related;
pub use replica::JournalReplica;
pub use search::{SearchHit, SearchHitKind, SearchQuery};
pub use story::{story_name, Event, Story, StoryRef, StorySummary, Suggestion, What};
pub use tx::Tx;

/// The schema, as an ordered list of forward-only migrations.
const SCHEMA: &str = include_str!("../../schema.sql");

/// How long a writer waits for another `nj` process before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(15);

pub struct Journal {
    conn: Connection,
    path: Option<PathBuf>,
    /// A write transaction kept open across writes ([`Journal::hold`]).
    held: bool,
    /// The scratch database an import builds its search index in
    /// ([`Journal::with_side_index`]).
    scratch: Option<side_index::Scratch>,
    /// Opening made the file private (see [`Journal::was_tightened`]).
    tightened: bool,
}

/// Makes the journal file (created empty if missing, with mode 0600) and
/// its WAL and shared-memory files readable by their owner only. Returns
/// true when an existing file was readable by others and is no longer.
#[cfg(unix)]
fn private_file(path: &Path) -> Result<bool> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(_) => return Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        // Let SQLite's open report what is wrong (a folder, no access).
        Err(_) => return Ok(false),
    }
    let mut tightened = false;
    for p in [
        path.to_path_buf(),
        PathBuf::from(format!("{}-wal", path.display())),
        PathBuf::from(format!("{}-shm", path.display())),
    ] {
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        let mode = meta.permissions().mode();
        if meta.is_file() && mode & 0o077 != 0 {
            // A file of someone else's (shared, read-only) is left alone.
            if std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode & 0o700)).is_ok() {
                tightened = true;
            }
        }
    }
    Ok(tightened)
}

#[cfg(not(unix))]
fn private_file(_path: &Path) -> Result<bool> {
    Ok(false)
}

impl Journal {
    /// Opens the journal at `path`, creating it (and its folder) if needed
    /// and bringing its schema up to date.
    pub fn open(path: &Path) -> Result<Journal> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::BadInput(format!(
                    "cannot create the journal folder {}: {e}; pass --db PATH or set NJ_DB to a writable place",
                    dir.display()
                ))
            })?;
        }
        // The journal holds the sync token and the journal key: private
        // to its owner. SQLite gives the WAL and shared-memory files the
        // database file's mode, so making the file first (empty is a
        // valid database) is enough; an older, readable one is tightened.
        let tightened = private_file(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| {
            Error::BadInput(format!(
                "cannot open the journal {}: {e}; check the path and its permissions",
                path.display()
            ))
        })?;
        let mut journal = Journal {
            conn,
            held: false,
            path: Some(path.to_path_buf()),
            scratch: None,
            tightened,
        };
        journal.setup()?;
        Ok(journal)
    }

    /// Whether opening made the journal file private (0600) because other
    /// users could read it: worth telling its owner once.
    pub fn was_tightened(&self) -> bool {
        self.tightened
    }

    /// A journal that lives in memory, for tests.
    pub fn open_in_memory() -> Result<Journal> {
        let mut journal = Journal {
            conn: Connection::open_in_memory()?,
            path: None,
            held: false,
            scratch: None,
            tightened: false,
        };
        journal.setup()?;
        Ok(journal)
    }

    /// The journal's file; `None` for one in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn display_path(&self) -> String {
        self.path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| ":memory:".into())
    }

    /// The one place a connection is configured.
    fn setup(&mut self) -> Result<()> {
        let not_a_journal = |e: rusqlite::Error, path: String| {
            match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => Error::BadInput(format!(
                "{path} is not an nj journal (not a SQLite database); pass --db PATH to use another file"
            )),
            _ => Error::from(e),
        }
        };
        self.conn.busy_timeout(BUSY_TIMEOUT)?;

        let path = self.display_path();
        // WAL lets readers run beside a writer, and two writers queue on the
        // busy timeout instead of failing.
        self.enable_wal()
            .map_err(|e| not_a_journal(e, path.clone()))?;
        codec::register(&self.conn)?;
        rank::register(&self.conn)?;
        // A plan that never depends on the values bound to it: otherwise
        // SQLite prepares again, on every bind, each statement whose plan a
        // bound value could change (a rowid lookup, a join on a bound URL),
        // which was a large part of re-importing a file. nj's queries have one good
        // plan whatever the value.
        self.conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        self.conn.execute_batch(
            "PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA temp_store = MEMORY;
             PRAGMA cache_size = -65536;",
        )?;
        self.migrate()
    }

    /// Switches the file to WAL. Switching a new file can report busy at
    /// once, without the busy timeout, when another process is switching it
    /// too; so look first, and retry while the other finishes.
    fn enable_wal(&self) -> rusqlite::Result<()> {
        let started = std::time::Instant::now();
        loop {
            let mode: String = self
                .conn
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
            if mode.eq_ignore_ascii_case("wal") {
                return Ok(());
            }
            match self.conn.pragma_update(None, "journal_mode", "WAL") {
                Err(e)
                    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                        && started.elapsed() < BUSY_TIMEOUT =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                other => return other,
            }
        }
    }

    fn migrate(&mut self) -> Result<()> {
        self.migrate_to(&migrations())
    }

    /// Applies the migrations the journal lacks.
    fn migrate_to(&mut self, migrations: &[&str]) -> Result<()> {
        let latest = migrations.len() as i64;
        let current = self.user_version()?;
        if current == latest {
            return Ok(());
        }
        if current > latest {
            return Err(self.too_new(current, latest));
        }
        // Migrations rebuild tables that others reference, so they run the
        // way SQLite says to rebuild a table: foreign keys off, then one
        // check at the end. With them on, dropping a referenced table
        // checks each of its rows against the rows that reference it,
        // which took minutes where an interrupted bulk write had left those
        // tables' indexes for later; and a row an old journal already had
        // wrong would fail the upgrade, and so every command, for good.
        self.without_foreign_keys(|j| j.apply_migrations(migrations))
    }

    /// Runs `f` with SQLite's foreign-key checks off, and on again after,
    /// whether or not `f` worked. The setting cannot change inside a
    /// transaction: in a held one, the checks stay on.
    fn without_foreign_keys<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.conn.execute_batch("PRAGMA foreign_keys = OFF")?;
        let result = f(self);
        let restored = self.conn.execute_batch("PRAGMA foreign_keys = ON");
        let value = result?;
        restored?;
        Ok(value)
    }

    fn apply_migrations(&mut self, migrations: &[&str]) -> Result<()> {
        let latest = migrations.len() as i64;
        let path = self.display_path();
        // Another process may be migrating the same file: take the write
        // lock first, then look again.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if current > latest {
            drop(tx);
            return Err(self.too_new(current, latest));
        }
        if current == latest {
            return Ok(());
        }
        let dangling = |tx: &Connection| -> rusqlite::Result<i64> {
            tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
        };
        // Damage from before (say, a row deleted in the sqlite3 shell,
        // where foreign keys are off) is the journal's and stays; an
        // upgrade must add none.
        let before = dangling(&tx)?;
        for (n, sql) in migrations.iter().enumerate().skip(current as usize) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", n as i64 + 1)?;
        }
        // An nj before schema 10 dropped the operations it did not know
        // (before 9 syndicated copies and `kept_apart`; at 9, the stories a
        // newer device made), which only the server still has: a journal
        // it pulled into pulls again from the start, once. From schema 10
        // on such operations are held (`held_ops`).
        if current < HOLDS_UNKNOWN_FROM && latest >= HOLDS_UNKNOWN_FROM {
            replica::pull_again_from_the_start(&tx)?;
        }
        let after = dangling(&tx)?;
        if after > before {
            let n = after - before;
            let rows = if n == 1 { "row" } else { "rows" };
            return Err(Error::Other(anyhow::anyhow!(
                "upgrading {path} to schema {latest} would leave {n} {rows} pointing at rows that are not there, so nothing was changed; the nj that wrote it still opens it; please report this"
            )));
        }
        tx.commit()?;
        Ok(())
    }

    fn user_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    fn too_new(&self, found: i64, supported: i64) -> Error {
        Error::SchemaTooNew {
            path: self.display_path(),
            found,
            supported,
        }
    }

    /// Runs `f` in one write transaction. Either all of its changes land or
    /// none do; the full-text index is brought up to date before commit.
    pub fn write<T>(
        &mut self,
        now: Timestamp,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        let held = self.held;
        let scratch = self.scratch.as_ref().map(|s| s.path().to_path_buf());
        let scope = if held {
            tx::Scope::Held(&self.conn)
        } else if scratch.is_some() {
            // BEGIN IMMEDIATE would take the write lock of every attached
            // database, the scratch one too, which the index worker writes
            // in meanwhile (and this transaction must only read, at the
            // end, to see what it wrote): lock the journal alone, with a
            // write to it that changes nothing.
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Deferred)?;
            tx.execute("UPDATE main.meta SET value = value WHERE 0", [])?;
            tx::Scope::Top(tx)
        } else {
            tx::Scope::Top(
                self.conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)?,
            )
        };
        let result = (|| {
            let mut tx = Tx::new(scope, now);
            tx.scratch = scratch;
            tx.load_index_state()?;
            tx.load_sync_log()?;
            let value = f(&mut tx)?;
            tx.commit()?;
            Ok(value)
        })();
        if held && result.is_err() {
            // A write that fails part-way inside a held transaction cannot
            // be undone on its own (a savepoint per write would keep a copy
            // of every page it touches in memory), so everything since the
            // last commit goes: the journal is as it was then. (Its own
            // transaction rolls back when dropped.)
            self.held = false;
            if !self.conn.is_autocommit() {
                let _ = self.conn.execute_batch("ROLLBACK");
            }
        }
        result
    }

    /// Keeps one write transaction open from here to [`Journal::release`]:
    /// the writes in between land together, and a write that fails takes
    /// all of them back with it. A large pull
    /// holds a transaction across several pages because every commit
    /// writes each page of the journal it touched to the log again: its
    /// inserts land all over trees far larger than the cache, so a commit
    /// per page wrote the journal's indexes some ten times over.
    pub(crate) fn hold(&mut self) -> Result<()> {
        if !self.held {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
            self.held = true;
        }
        Ok(())
    }

    /// Commits what was written since [`Journal::hold`].
    pub(crate) fn release(&mut self) -> Result<()> {
        if !self.held {
            return Ok(());
        }
        self.held = false;
        if let Err(e) = self.conn.execute_batch("COMMIT") {
            // A commit that fails (a full disk) may leave the transaction
            // open; end it so the next write starts clean.
            if !self.conn.is_autocommit() {
                let _ = self.conn.execute_batch("ROLLBACK");
            }
            return Err(e.into());
        }
        Ok(())
    }

    /// [`Journal::write`] without SQLite's foreign-key checks, for a write
    /// that makes every row a link points to itself (an import into an
    /// empty journal), where checking each link proves nothing and costs a
    /// lookup. Inside a held transaction the checks stay on.
    pub(crate) fn write_unchecked<T>(
        &mut self,
        now: Timestamp,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        self.without_foreign_keys(|j| j.write(now, f))
    }

    /// Runs `f` with the file in rollback-journal mode instead of WAL, when
    /// no other connection has it open: for a bulk import into an empty
    /// journal. Its pages are all new, so a rollback journal holds next to
    /// nothing, while the write-ahead log would hold every page once more
    /// until the checkpoint copies them into the file: a second write of
    /// the whole journal. Meanwhile another process waits for the import
    /// (the busy timeout) instead of reading beside it. The file is WAL
    /// again afterwards (or, if that fails, at the next open).
    pub(crate) fn with_rollback_journal<T>(
        &mut self,
        f: impl FnOnce(&mut Journal) -> Result<T>,
    ) -> Result<T> {
        // Leaving WAL needs the file to itself: someone else has it open,
        // so stay in WAL rather than wait for them.
        self.conn.busy_timeout(Duration::ZERO)?;
        let mode = self
            .conn
            .query_row("PRAGMA journal_mode = DELETE", [], |r| {
                r.get::<_, String>(0)
            });
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        let switched = matches!(&mode, Ok(m) if m.eq_ignore_ascii_case("delete"));
        if !switched {
            return f(self);
        }
        // A rollback journal is safe from a power cut only when synced in
        // full.
        self.conn.execute_batch("PRAGMA synchronous = FULL")?;
        let result = f(self);
        let _ = self.enable_wal();
        self.conn.execute_batch("PRAGMA synchronous = NORMAL")?;
        result
    }

    /// Runs `f` (an import into an empty journal) with a scratch database
    /// attached, in which [`Tx::bulk_import`] builds the search index on
    /// another thread ([`side_index`]). Without one (no room for the file,
    /// say) the import rebuilds the index itself at the end.
    pub(crate) fn with_side_index<T>(
        &mut self,
        f: impl FnOnce(&mut Journal) -> Result<T>,
    ) -> Result<T> {
        let dir = side_index::scratch_dir(self.path());
        self.scratch = side_index::Scratch::attach(&self.conn, &dir).ok();
        let result = f(self);
        if let Some(scratch) = self.scratch.take() {
            // The file goes either way.
            let _ = scratch.detach(&self.conn);
        }
        result
    }

    /// Counts every tag's articles again (`nj verify --repair`).
    pub fn recount_tags(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        count_tags(&tx)?;
        tx.commit()?;
        Ok(())
    }

    /// Rebuilds the search indexes from the rows: the repair for an index
    /// that `verify` finds damaged. Runs in one transaction.
    pub fn rebuild_index(&mut self) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        rebuild_index_in(&tx)?;
        tx.commit()?;
        Ok(())
    }

    /// Whether the search index waits for a rebuild, after a large pull
    /// (see [`Tx::defer_index`]) that has not finished.
    pub fn index_is_stale(&self) -> Result<bool> {
        Ok(tx::meta_get(&self.conn, "index_stale")?.as_deref() == Some("1"))
    }

    /// Rebuilds the search index if it waits for it; true if it did.
    pub fn finish_index(&mut self) -> Result<bool> {
        if !self.index_is_stale()? {
            return Ok(false);
        }
        self.rebuild_index()?;
        Ok(true)
    }

    /// Folds the write-ahead log into the main file and truncates it, so
    /// the file's size is the journal's size.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// [`Journal::rebuild_index`] inside the caller's transaction.
pub(super) fn rebuild_index_in(tx: &Connection) -> Result<()> {
    // The indexes a large pull dropped (Tx::defer_index) first: the search
    // index's source view reads notes through one of them.
    build_deferred_indexes(tx)?;
    tx.execute_batch("INSERT INTO article_fts(article_fts) VALUES ('rebuild');")?;
    rebuild_note_index_in(tx)
}

/// Rebuilds the index of free-standing notes, the last step of a rebuild
/// (or of an import whose article index was built beside it), after which
/// the search index no longer waits for one.
pub(super) fn rebuild_note_index_in(tx: &Connection) -> Result<()> {
    tx.execute_batch(
        "INSERT INTO note_fts(note_fts) VALUES ('rebuild');
         DELETE FROM meta WHERE key = 'index_stale';",
    )?;
    Ok(())
}

/// Creates the indexes a large write left for later ([`Tx::defer_index`]).
pub(super) fn build_deferred_indexes(tx: &Connection) -> Result<()> {
    if let Some(json) = tx::meta_get(tx, "deferred_indexes")? {
        let waiting: Vec<String> =
            serde_json::from_str(&json).map_err(|e| Error::Other(e.into()))?;
        // Creating an index sorts in memory up to the cache's size, on top
        // of the cache, and spills runs to temp_store: a small cache and a
        // file keep a large pull within its memory budget. A second thread
        // sorts each run while the first reads the next.
        let cache: i64 = tx.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
        tx.execute_batch(
            "PRAGMA temp_store = FILE; PRAGMA cache_size = -2048; PRAGMA threads = 2;",
        )?;
        let mut recount = false;
        let built = waiting.into_iter().try_for_each(|sql| {
            let sql = if let Some(rest) = sql.strip_prefix("CREATE INDEX ") {
                format!("CREATE INDEX IF NOT EXISTS {rest}")
            } else if let Some(rest) = sql.strip_prefix("CREATE TRIGGER ") {
                // The tag counts' triggers were off: count afresh.
                recount = true;
                format!("CREATE TRIGGER IF NOT EXISTS {rest}")
            } else {
                sql
            };
            tx.execute_batch(&sql)
        });
        let built = built.and_then(|()| {
            if recount {
                count_tags(tx)?;
            }
            Ok(())
        });
        // Back to the everyday settings, whether or not that worked.
        tx.execute_batch(&format!(
            "PRAGMA temp_store = MEMORY; PRAGMA cache_size = {cache}; PRAGMA threads = 0;"
        ))?;
        built?;
        tx.execute("DELETE FROM meta WHERE key = 'deferred_indexes'", [])?;
    }
    Ok(())
}

/// Counts every tag's articles outside the bin again, into `tag_counts`.
pub(super) fn count_tags(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "DELETE FROM tag_counts;
         INSERT INTO tag_counts(tag, articles) SELECT tag, articles FROM tag_counts_from_links;",
    )
}

/// The schema from which operations an nj does not know are held; an nj
/// before it dropped them.
const HOLDS_UNKNOWN_FROM: i64 = 10;

/// Splits schema.sql at its `-- migration: N` markers. Text before the
/// first marker is commentary.
fn migrations() -> Vec<&'static str> {
    crate::migrate::split_migrations(SCHEMA)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::EMPTY_HASH;

    #[test]
    fn migrations_are_numbered_in_order() {
        for (i, m) in migrations().iter().enumerate() {
            let first = m.lines().next().unwrap();
            assert_eq!(first.trim(), format!("-- migration: {}", i + 1));
        }
        assert!(!migrations().is_empty());
    }

    /// A journal an nj from before schema 10 synced pulls from the start
    /// once after the upgrade, to get what that nj dropped; one never
    /// synced, or kept by an nj that held what it did not know, does not.
    #[test]
    fn an_upgrade_from_before_schema_10_pulls_again_from_the_start() {
        for (schema, cursor, expected) in [
            (8, None, (None, None)),
            (8, Some("0"), (Some("0"), None)),
            (8, Some("42"), (Some("0"), Some("42"))),
            (9, Some("42"), (Some("0"), Some("42"))),
            (10, Some("42"), (Some("42"), None)),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("j.db");
            {
                let conn = Connection::open(&path).unwrap();
                codec::register(&conn).unwrap();
                rank::register(&conn).unwrap();
                for (n, sql) in migrations().iter().take(schema).enumerate() {
                    conn.execute_batch(sql).unwrap();
                    conn.pragma_update(None, "user_version", n as i64 + 1)
                        .unwrap();
                }
                if let Some(c) = cursor {
                    conn.execute("INSERT INTO meta(key, value) VALUES ('cursor', ?1)", [c])
                        .unwrap();
                }
            }
            let j = Journal::open(&path).unwrap();
            let expected = (expected.0.map(str::to_owned), expected.1.map(str::to_owned));
            assert_eq!(
                (j.meta("cursor").unwrap(), j.meta("repull_below").unwrap()),
                expected,
                "schema {schema}, cursor {cursor:?}"
            );
        }
    }

    /// Migration 8 counts the tags of a journal that had none counted, and
    /// its triggers keep the counts from then on.
    #[test]
    fn migration_8_counts_tags_outside_the_bin() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        {
            let conn = Connection::open(&path).unwrap();
            codec::register(&conn).unwrap();
            rank::register(&conn).unwrap();
            for (n, sql) in migrations().iter().take(7).enumerate() {
                conn.execute_batch(sql).unwrap();
                conn.pragma_update(None, "user_version", n as i64 + 1)
                    .unwrap();
            }
            conn.execute_batch(&format!(
                "INSERT INTO articles(seq, id, title, content_hash, clipped_at, updated_at, deleted_at)
                      VALUES (1, 'a1', 'One', '{EMPTY_HASH}', 1, 1, NULL),
                             (2, 'a2', 'Two', '{EMPTY_HASH}', 2, 2, NULL),
                             (3, 'a3', 'Binned', '{EMPTY_HASH}', 3, 3, 9);
                 INSERT INTO article_tags(article_seq, tag, created_at)
                      VALUES (1, 'court', 1), (2, 'court', 1), (2, 'ports', 1), (3, 'court', 1), (3, 'old', 1);
                 INSERT INTO article_fts(article_fts) VALUES ('rebuild');"
            ))
            .unwrap();
        }
        let mut j = Journal::open(&path).unwrap();
        assert_eq!(
            j.tags().unwrap(),
            [("court".to_owned(), 2), ("ports".to_owned(), 1)]
        );
        // Out of the bin, and a tag unlinked: the triggers count.
        let a3 = ArticleRef {
            rowid: 3,
            id: "a3".into(),
        };
        let a2 = ArticleRef {
            rowid: 2,
            id: "a2".into(),
        };
        j.write(Timestamp(10), |tx| {
            tx.set_removed(&a3, false)?;
            tx.retag(&a2, &[], &["ports".to_owned()])
        })
        .unwrap();
        assert_eq!(
            j.tags().unwrap(),
            [("court".to_owned(), 3), ("old".to_owned(), 1)]
        );
        assert!(j.verify().unwrap().tag_counts_ok);
    }

    /// Migration 7 rebuilt the articles and their link tables: every
    /// article keeps its rowid (which the search index names it by), its
    /// URLs, tags, versions, notes and follow-ups, and the index still
    /// finds it.
    #[test]
    fn migration_7_keeps_every_article_with_its_rowid_links_and_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        {
            // A journal as nj left it before migration 7, with gaps in the
            // rowids as an old journal has.
            let conn = Connection::open(&path).unwrap();
            codec::register(&conn).unwrap();
            rank::register(&conn).unwrap();
            for (n, sql) in migrations().iter().take(6).enumerate() {
                conn.execute_batch(sql).unwrap();
                conn.pragma_update(None, "user_version", n as i64 + 1)
                    .unwrap();
            }
            conn.execute_batch(&format!(
                "INSERT INTO texts(hash, word_count, created_at, body)
                      VALUES ('sha256:11', 4, 1, 'the court ruled today');
                 INSERT INTO articles(rowid, id, title, url, content_hash, clipped_at, updated_at)
                      VALUES (5, 'a5a5a5a5', 'Cloud contract ruling', 'https://x.test/1', 'sha256:11', 1, 1),
                             (9, 'a9a9a9a9', 'Harbour dredging', 'https://y.test/2', '{EMPTY_HASH}', 2, 2),
                             (12, 'a12a12a1', 'Unrelated', 'https://z.test/3', '{EMPTY_HASH}', 3, 3);
                 INSERT INTO article_urls(article_id, url, id, added_at)
                      VALUES ('a5a5a5a5', 'https://x.test/1', 'u1', 1),
                             ('a5a5a5a5', 'https://mirror.test/1', 'u2', 7),
                             ('a9a9a9a9', 'https://y.test/2', 'u3', 2),
                             ('a12a12a1', 'https://z.test/3', 'u4', 3);
                 INSERT INTO article_tags(article_id, tag, created_at)
                      VALUES ('a5a5a5a5', 'court', 1), ('a5a5a5a5', 'defense', 1), ('a9a9a9a9', 'ports', 2);
                 INSERT INTO versions(id, article_id, content_hash, created_at)
                      VALUES ('v1', 'a5a5a5a5', 'sha256:11', 1);
                 INSERT INTO notes(id, article_id, body, created_at, updated_at)
                      VALUES ('n1', 'a5a5a5a5', 'watch the appeal', 1, 1);
                 INSERT INTO followups(id, article_id, text, due_at, created_at, updated_at)
                      VALUES ('f1', 'a9a9a9a9', 'check the award', 50, 2, 2);
                 INSERT INTO article_fts(article_fts) VALUES ('rebuild');"
            ))
            .unwrap();
            // Damage the sqlite3 shell could leave (foreign keys are off
            // there): the first article's text gone, a tag link to no
            // article. Neither may stop the upgrade.
            conn.execute_batch(
                "PRAGMA foreign_keys = OFF;
                 INSERT INTO articles(rowid, id, title, url, content_hash, clipped_at, updated_at)
                      VALUES (2, 'a2a2a2a2', 'Damaged', 'https://d.test/', 'sha256:gone', 0, 0);
                 INSERT INTO article_tags(article_id, tag, created_at) VALUES ('ffffffff', 'lost', 1);",
            )
            .unwrap();
            // And the child tables' indexes waiting to be built, as an
            // interrupted bulk write leaves them (Tx::defer_index).
            let waiting: Vec<String> = [
                "versions_by_article",
                "notes_by_article",
                "followups_by_article",
            ]
            .iter()
            .map(|name| {
                let sql: String = conn
                    .query_row(
                        "SELECT sql FROM sqlite_master WHERE name = ?1",
                        [name],
                        |r| r.get(0),
                    )
                    .unwrap();
                conn.execute_batch(&format!("DROP INDEX {name}")).unwrap();
                sql
            })
            .collect();
            conn.execute(
                "INSERT INTO meta(key, value) VALUES ('deferred_indexes', ?1), ('index_stale', '1')",
                [serde_json::to_string(&waiting).unwrap()],
            )
            .unwrap();
        }
        let mut j = Journal::open(&path).unwrap();
        let seqs: Vec<(i64, String)> = j
            .conn()
            .prepare("SELECT seq, id FROM articles ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let ids = |v: &[(i64, &str)]| -> Vec<(i64, String)> {
            v.iter().map(|(n, s)| (*n, s.to_string())).collect()
        };
        assert_eq!(
            seqs,
            ids(&[
                (2, "a2a2a2a2"),
                (5, "a5a5a5a5"),
                (9, "a9a9a9a9"),
                (12, "a12a12a1")
            ])
        );
        // Foreign keys, off for the upgrade, are on again.
        let fk: i64 = j
            .conn()
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        // The link to no article was the one row left behind.
        let lost: i64 = j
            .conn()
            .query_row(
                "SELECT count(*) FROM article_tags WHERE tag = 'lost'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(lost, 0);
        let a5 = j.article(&j.resolve_article("a5a5a5a5").unwrap()).unwrap();
        assert_eq!(a5.rowid, 5);
        assert_eq!(a5.tags, ["court", "defense"]);
        assert_eq!(a5.urls, ["https://x.test/1", "https://mirror.test/1"]);
        assert!(!a5.pending);
        let a9 = j.article(&j.resolve_article("a9a9a9a9").unwrap()).unwrap();
        assert_eq!(
            (a9.tags.as_slice(), a9.urls.len()),
            (&["ports".to_string()][..], 1)
        );
        // The index, built before the migration, still names the right
        // articles, and stays sound.
        let found = |j: &Journal, word: &str| -> Vec<String> {
            j.search(&SearchQuery {
                since: None,
                until: None,
                query: word.into(),
                tag: None,
                story: None,
                limit: 10,
                mark: (String::new(), String::new()),
            })
            .unwrap()
            .into_iter()
            .filter_map(|h| h.article.map(|a| a.id))
            .collect()
        };
        assert_eq!(found(&j, "ruled"), ["a5a5a5a5"]);
        assert_eq!(found(&j, "appeal"), ["a5a5a5a5"]);
        assert_eq!(found(&j, "ports"), ["a9a9a9a9"]);
        assert!(j.verify().unwrap().index_ok);
        let tagged = j
            .list(&ListFilter {
                tags: vec!["defense".into()],
                ..ListFilter::default()
            })
            .unwrap();
        assert_eq!(tagged.len(), 1);
        assert_eq!(j.tags().unwrap().len(), 3);
        // Only the damage from before dangles.
        let dangling: Vec<(String, String)> = j
            .conn()
            .prepare("SELECT \"table\", parent FROM pragma_foreign_key_check")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(dangling, [("articles".to_string(), "texts".to_string())]);
        // The links now name articles by rowid, checked like any key.
        let orphan = j.conn().execute(
            "INSERT INTO article_tags(article_seq, tag, created_at) VALUES (77, 'lost', 1)",
            [],
        );
        assert!(orphan.is_err());
        // A URL the migration moved still finds its article: re-importing
        // it adds a tag to that article, not a second article.
        let again = j
            .write(Timestamp(100), |tx| {
                tx.import_bookmark(&NewBookmark {
                    urls: vec!["https://mirror.test/1".into()],
                    title: "Cloud contract ruling".into(),
                    tags: vec!["appeal".into()],
                    ..NewBookmark::default()
                })
            })
            .unwrap();
        assert_eq!(again, Restored::Updated);
        let a5 = j.article(&j.resolve_article("a5a5a5a5").unwrap()).unwrap();
        assert_eq!(a5.tags, ["appeal", "court", "defense"]);
        assert_eq!(found(&j, "appeal").len(), 1);
        // The indexes that were waiting are built as a pull would finish
        // them, from their definitions as they were.
        assert!(j.finish_index().unwrap());
        let built: i64 = j
            .conn()
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name IN
                   ('versions_by_article', 'notes_by_article', 'followups_by_article')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(built, 3);
        let counts: (i64, i64, i64) = j
            .conn()
            .query_row(
                "SELECT (SELECT count(*) FROM article_urls), (SELECT count(*) FROM versions),
                        (SELECT count(*) FROM followups WHERE article_id = 'a9a9a9a9')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(counts, (4, 1, 1));
    }

    /// An upgrade that would leave rows pointing at nothing is refused
    /// whole: the journal stays as it was, and opens as before.
    #[test]
    fn an_upgrade_that_would_break_references_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        let mut j = Journal::open(&path).unwrap();
        j.write(Timestamp(10), |tx| {
            tx.import_bookmark(&NewBookmark {
                urls: vec!["https://x.test/1".into()],
                title: "Harbour vote".into(),
                tags: vec!["ports".into()],
                ..NewBookmark::default()
            })
        })
        .unwrap();
        let mut with_bad = migrations();
        let latest = with_bad.len() as i64;
        with_bad.push("-- migration: 99\nDELETE FROM texts;");
        let err = j.migrate_to(&with_bad).unwrap_err();
        assert!(
            err.to_string().contains("would leave 1 row pointing"),
            "{err}"
        );
        assert!(err.to_string().contains("nothing was changed"), "{err}");
        assert_eq!(j.user_version().unwrap(), latest);
        let fk: i64 = j
            .conn()
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        drop(j);
        let j = Journal::open(&path).unwrap();
        let all = j.list(&ListFilter::default()).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].tags, ["ports"]);
    }

    /// The README tells users `VACUUM` gives back the space an upgrade
    /// freed. The search indexes name articles and free-standing notes by
    /// rowid; SQLite keeps an `INTEGER PRIMARY KEY` (articles), and, as
    /// bundled, the rowids of every table with an index (notes): this
    /// fails if either stops being so.
    #[test]
    fn vacuum_keeps_the_rowids_the_search_indexes_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        let mut j = Journal::open(&path).unwrap();
        j.write(Timestamp(10), |tx| {
            for (i, word) in ["harbour", "tariff", "dredging"].iter().enumerate() {
                tx.import_bookmark(&NewBookmark {
                    urls: vec![format!("https://x.test/{i}")],
                    title: format!("About the {word}"),
                    tags: vec![format!("t{i}")],
                    ..NewBookmark::default()
                })?;
                tx.create_note(None, &format!("jotted about the {word}"))?;
            }
            Ok(())
        })
        .unwrap();
        drop(j);
        // Gaps before the rows that stay, as in an old journal: the first
        // article and the first note go, out of their indexes first.
        let conn = Connection::open(&path).unwrap();
        codec::register(&conn).unwrap();
        conn.execute_batch(
            "INSERT INTO note_fts(note_fts, rowid, body)
                 SELECT 'delete', rowid, body FROM notes WHERE rowid = 1;
             DELETE FROM notes WHERE rowid = 1;
             INSERT INTO article_fts(article_fts, rowid, title, body, notes, tags)
                 SELECT 'delete', article_rowid, title, body, notes, tags
                   FROM article_search_src WHERE article_rowid = 1;
             DELETE FROM article_urls WHERE article_seq = 1;
             DELETE FROM article_tags WHERE article_seq = 1;
             DELETE FROM articles WHERE seq = 1;
             VACUUM;",
        )
        .unwrap();
        drop(conn);
        let j = Journal::open(&path).unwrap();
        assert!(j.verify().unwrap().index_ok);
        let hits = |word: &str| -> Vec<(SearchHitKind, String)> {
            j.search(&SearchQuery {
                since: None,
                until: None,
                query: word.into(),
                tag: None,
                story: None,
                limit: 10,
                mark: (String::new(), String::new()),
            })
            .unwrap()
            .into_iter()
            .map(|h| (h.kind, h.snippet))
            .collect()
        };
        assert_eq!(
            hits("dredging"),
            [
                (SearchHitKind::Article, "About the dredging".to_string()),
                (SearchHitKind::Note, "jotted about the dredging".to_string())
            ]
        );
        assert!(hits("harbour").is_empty());
        let a = j
            .list(&ListFilter {
                tags: vec!["t2".into()],
                ..ListFilter::default()
            })
            .unwrap();
        assert_eq!(a[0].title, "About the dredging");
        assert_eq!(a[0].urls, ["https://x.test/2"]);
    }

    #[test]
    fn a_bulk_write_uses_a_rollback_journal_only_alone_and_leaves_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        let mut j = Journal::open(&path).unwrap();
        let mode = |j: &Journal| -> String {
            j.conn()
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .unwrap()
        };
        let during = j.with_rollback_journal(|j| Ok(mode(j))).unwrap();
        assert_eq!(during, "delete");
        assert_eq!(mode(&j), "wal");
        // Another process has the journal open: no waiting for it, and no
        // switch under it.
        let other = Journal::open(&path).unwrap();
        let during = j.with_rollback_journal(|j| Ok(mode(j))).unwrap();
        assert_eq!(during, "wal");
        assert_eq!(mode(&other), "wal");
        // A failing write in rollback mode still leaves WAL and the checks.
        drop(other);
        let err = j
            .with_rollback_journal(|j| {
                j.write_unchecked(Timestamp(1), |_| -> Result<()> {
                    Err(Error::BadInput("stop".into()))
                })
            })
            .unwrap_err();
        assert!(matches!(err, Error::BadInput(_)));
        assert_eq!(mode(&j), "wal");
        let fk: i64 = j
            .conn()
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        drop(Journal::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = Journal::open(&path).err().expect("must refuse");
        assert!(
            matches!(err, Error::SchemaTooNew { found: 99, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("upgrade nj"), "{err}");
    }

    #[test]
    fn not_a_database_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(
            &path,
            "this is not sqlite, just text that is long enough to have a header",
        )
        .unwrap();
        let err = Journal::open(&path).err().expect("must refuse");
        assert!(err.to_string().contains("is not an nj journal"), "{err}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "this is not sqlite, just text that is long enough to have a header"
        );
    }
}
