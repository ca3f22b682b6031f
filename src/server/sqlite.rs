//! The server's data in one SQLite file (`nj serve --data DIR`, the
//! default): one connection behind a lock, which is all a family's or a
//! small team's server needs, and nothing to set up.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::core::{ServerError, StoredOp};
use super::store::{int, Access, JournalRow, JournalStats, OpRow, Store, TokenRow, Tx};

/// The schema, as an ordered list of forward-only migrations.
const SCHEMA: &str = include_str!("schema.sql");

pub struct SqliteStore {
    conn: Mutex<Connection>,
    describe: String,
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<SqliteStore, ServerError> {
        Self::setup(
            Connection::open(path)?,
            format!("SQLite {}", path.display()),
        )
    }

    pub fn open_in_memory() -> Result<SqliteStore, ServerError> {
        Self::setup(Connection::open_in_memory()?, "SQLite in memory".into())
    }

    fn setup(mut conn: Connection, describe: String) -> Result<SqliteStore, ServerError> {
        conn.busy_timeout(Duration::from_secs(15))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
        migrate(&mut conn)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            describe,
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent
        // (its transactions roll back), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The schema version of the file, for tests.
    #[cfg(test)]
    pub(super) fn version(&self) -> i64 {
        user_version(&self.conn()).unwrap()
    }
}

impl Store for SqliteStore {
    fn transact(
        &self,
        access: Access,
        f: &mut dyn FnMut(&mut dyn Tx) -> Result<(), ServerError>,
    ) -> Result<(), ServerError> {
        let mut conn = self.conn();
        // A writer takes the write lock first (IMMEDIATE), so `nj server`
        // commands on the same file never fail half way with SQLITE_BUSY
        // on upgrading a read lock.
        let behavior = match access {
            Access::Read => TransactionBehavior::Deferred,
            Access::Write => TransactionBehavior::Immediate,
        };
        let tx = conn.transaction_with_behavior(behavior)?;
        f(&mut SqliteTx(&tx))?;
        tx.commit()?;
        Ok(())
    }

    fn ping(&self) -> Result<(), ServerError> {
        self.conn().query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}

struct SqliteTx<'a>(&'a Connection);

fn journal_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<JournalRow> {
    Ok(JournalRow {
        id: r.get(0)?,
        created_at_ms: r.get(1)?,
        key_check: r.get(2)?,
        last_pos: r.get::<_, i64>(3)? as u64,
    })
}

fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRow> {
    Ok(TokenRow {
        hash: r.get(0)?,
        journal: r.get(1)?,
        created_at_ms: r.get(2)?,
        last_used_at_ms: r.get(3)?,
        last_device: r.get(4)?,
        revoked_at_ms: r.get(5)?,
    })
}

const TOKEN_COLUMNS: &str =
    "hash, journal_id, created_at, last_used_at, last_device, revoked_at FROM tokens";

impl Tx for SqliteTx<'_> {
    fn insert_journal(&mut self, j: &JournalRow) -> Result<(), ServerError> {
        self.0.execute(
            "INSERT INTO journals(id, created_at, key_check, last_pos) VALUES (?1, ?2, ?3, ?4)",
            params![j.id, j.created_at_ms, j.key_check, int(j.last_pos)],
        )?;
        Ok(())
    }

    fn journal(&mut self, id: &str, _lock: bool) -> Result<Option<JournalRow>, ServerError> {
        // A write transaction here already holds the file's one write lock.
        Ok(self
            .0
            .prepare_cached(
                "SELECT id, created_at, key_check, last_pos FROM journals WHERE id = ?1",
            )?
            .query_row([id], journal_row)
            .optional()?)
    }

    fn journals(&mut self) -> Result<Vec<JournalRow>, ServerError> {
        let mut stmt = self.0.prepare(
            "SELECT id, created_at, key_check, last_pos FROM journals ORDER BY created_at, id",
        )?;
        let rows = stmt.query_map([], journal_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn set_key_check(&mut self, journal: &str, check: &str) -> Result<(), ServerError> {
        self.0.execute(
            "UPDATE journals SET key_check = ?2 WHERE id = ?1",
            params![journal, check],
        )?;
        Ok(())
    }

    fn insert_token(&mut self, t: &TokenRow) -> Result<(), ServerError> {
        self.0.execute(
            "INSERT INTO tokens(hash, journal_id, created_at, last_used_at, last_device, revoked_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                t.hash,
                t.journal,
                t.created_at_ms,
                t.last_used_at_ms,
                t.last_device,
                t.revoked_at_ms
            ],
        )?;
        Ok(())
    }

    fn token(&mut self, hash: &str) -> Result<Option<TokenRow>, ServerError> {
        Ok(self
            .0
            .prepare_cached(&format!("SELECT {TOKEN_COLUMNS} WHERE hash = ?1"))?
            .query_row([hash], token_row)
            .optional()?)
    }

    fn touch_token(
        &mut self,
        hash: &str,
        now_ms: i64,
        device: Option<&str>,
    ) -> Result<(), ServerError> {
        self.0
            .prepare_cached(
                "UPDATE tokens SET last_used_at = ?1, last_device = coalesce(?2, last_device)
                  WHERE hash = ?3",
            )?
            .execute(params![now_ms, device, hash])?;
        Ok(())
    }

    fn revoke_token(&mut self, hash: &str, now_ms: i64) -> Result<bool, ServerError> {
        let n = self.0.execute(
            "UPDATE tokens SET revoked_at = ?1 WHERE hash = ?2 AND revoked_at IS NULL",
            params![now_ms, hash],
        )?;
        Ok(n == 1)
    }

    fn tokens(&mut self) -> Result<Vec<TokenRow>, ServerError> {
        let mut stmt = self.0.prepare(&format!(
            "SELECT {TOKEN_COLUMNS} ORDER BY created_at DESC, hash"
        ))?;
        let rows = stmt.query_map([], token_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn token_hashes_from(
        &mut self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, ServerError> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT hash FROM tokens WHERE hash >= ?1 AND hash < ?2 LIMIT ?3")?;
        let rows = stmt.query_map(params![prefix, format!("{prefix}~"), limit as i64], |r| {
            r.get(0)
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn last_pos(&mut self, journal: &str) -> Result<u64, ServerError> {
        let pos: Option<i64> = self
            .0
            .prepare_cached("SELECT last_pos FROM journals WHERE id = ?1")?
            .query_row([journal], |r| r.get(0))
            .optional()?;
        Ok(pos.unwrap_or(0) as u64)
    }

    fn heads(&mut self, journal: &str) -> Result<BTreeMap<String, u64>, ServerError> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT device, seq FROM device_heads WHERE journal_id = ?1")?;
        let rows = stmt.query_map([journal], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn payloads(
        &mut self,
        journal: &str,
        keys: &[(&str, u64)],
    ) -> Result<Vec<Option<Vec<u8>>>, ServerError> {
        let mut find = self.0.prepare_cached(
            "SELECT payload FROM ops WHERE journal_id = ?1 AND device = ?2 AND seq = ?3",
        )?;
        let mut out = Vec::with_capacity(keys.len());
        for (device, seq) in keys {
            out.push(
                find.query_row(params![journal, device, int(*seq)], |r| r.get(0))
                    .optional()?,
            );
        }
        Ok(out)
    }

    fn insert_ops(&mut self, journal: &str, ops: &[(u64, &StoredOp)]) -> Result<(), ServerError> {
        let mut insert = self.0.prepare_cached(
            "INSERT INTO ops(journal_id, pos, device, seq, hlc_ms, payload)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (pos, op) in ops {
            insert.execute(params![
                journal,
                int(*pos),
                op.device,
                int(op.seq),
                op.hlc_ms,
                op.payload
            ])?;
        }
        if let Some(top) = ops.iter().map(|(p, _)| *p).max() {
            self.0
                .prepare_cached("UPDATE journals SET last_pos = max(last_pos, ?2) WHERE id = ?1")?
                .execute(params![journal, int(top)])?;
        }
        Ok(())
    }

    fn raise_heads(&mut self, journal: &str, heads: &[(&str, u64)]) -> Result<(), ServerError> {
        let mut raise = self.0.prepare_cached(
            "INSERT INTO device_heads(journal_id, device, seq) VALUES (?1, ?2, ?3)
             ON CONFLICT DO UPDATE SET seq = max(seq, excluded.seq)",
        )?;
        for (device, seq) in heads {
            raise.execute(params![journal, device, int(*seq)])?;
        }
        Ok(())
    }

    fn delete_op(&mut self, journal: &str, device: &str, seq: u64) -> Result<bool, ServerError> {
        let n = self.0.execute(
            "DELETE FROM ops WHERE journal_id = ?1 AND device = ?2 AND seq = ?3",
            params![journal, device, int(seq)],
        )?;
        if n > 0 {
            self.0.execute(
                "DELETE FROM device_heads WHERE journal_id = ?1 AND device = ?2",
                params![journal, device],
            )?;
            self.0.execute(
                "INSERT INTO device_heads(journal_id, device, seq)
                 SELECT journal_id, device, max(seq) FROM ops
                  WHERE journal_id = ?1 AND device = ?2 GROUP BY journal_id, device",
                params![journal, device],
            )?;
        }
        Ok(n > 0)
    }

    fn op_rows(&mut self, journal: &str) -> Result<Vec<OpRow>, ServerError> {
        let mut stmt = self.0.prepare(
            "SELECT pos, device, seq, hlc_ms, length(payload), substr(payload, 1, 1)
               FROM ops WHERE journal_id = ?1 ORDER BY pos",
        )?;
        let rows = stmt.query_map([journal], |r| {
            let first: Vec<u8> = r.get(5)?;
            Ok(OpRow {
                pos: r.get::<_, i64>(0)? as u64,
                device: r.get(1)?,
                seq: r.get::<_, i64>(2)? as u64,
                hlc_ms: r.get(3)?,
                bytes: r.get::<_, i64>(4)? as u64,
                first: first.first().copied(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn op_sizes(
        &mut self,
        journal: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, u64)>, ServerError> {
        // length() of a blob is read from the row's header: the payloads
        // themselves are not read.
        let mut stmt = self.0.prepare_cached(
            "SELECT pos, length(payload) FROM ops
              WHERE journal_id = ?1 AND pos > ?2 ORDER BY pos LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![journal, int(after), limit as i64], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn ops(
        &mut self,
        journal: &str,
        after: u64,
        upto: u64,
    ) -> Result<Vec<(u64, StoredOp)>, ServerError> {
        let mut stmt = self.0.prepare_cached(
            "SELECT pos, device, seq, hlc_ms, payload FROM ops
              WHERE journal_id = ?1 AND pos > ?2 AND pos <= ?3 ORDER BY pos",
        )?;
        let rows = stmt.query_map(params![journal, int(after), int(upto)], |r| {
            Ok((
                r.get::<_, i64>(0)? as u64,
                StoredOp {
                    device: r.get(1)?,
                    seq: r.get::<_, i64>(2)? as u64,
                    hlc_ms: r.get(3)?,
                    payload: r.get(4)?,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn insert_blob(&mut self, journal: &str, id: &str, data: &[u8]) -> Result<bool, ServerError> {
        let n = self
            .0
            .prepare_cached(
                "INSERT INTO blobs(journal_id, id, data) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            )?
            .execute(params![journal, id, data])?;
        Ok(n == 1)
    }

    fn blob_sizes(&mut self, journal: &str, ids: &[&str]) -> Result<Vec<Option<u64>>, ServerError> {
        let mut size = self
            .0
            .prepare_cached("SELECT length(data) FROM blobs WHERE journal_id = ?1 AND id = ?2")?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(
                size.query_row(params![journal, id], |r| r.get::<_, i64>(0))
                    .optional()?
                    .map(|n| n as u64),
            );
        }
        Ok(out)
    }

    fn blob(&mut self, journal: &str, id: &str) -> Result<Option<Vec<u8>>, ServerError> {
        Ok(self
            .0
            .prepare_cached("SELECT data FROM blobs WHERE journal_id = ?1 AND id = ?2")?
            .query_row(params![journal, id], |r| r.get(0))
            .optional()?)
    }

    fn blob_ids(&mut self, journal: &str) -> Result<Vec<String>, ServerError> {
        let mut stmt = self
            .0
            .prepare("SELECT id FROM blobs WHERE journal_id = ?1 ORDER BY id")?;
        let rows = stmt.query_map([journal], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn stats(&mut self) -> Result<Vec<JournalStats>, ServerError> {
        let mut stmt = self.0.prepare(
            "SELECT j.id, j.created_at,
                    (SELECT count(*) FROM device_heads h WHERE h.journal_id = j.id),
                    (SELECT count(*) FROM ops o WHERE o.journal_id = j.id),
                    (SELECT coalesce(sum(length(payload)), 0) FROM ops o WHERE o.journal_id = j.id),
                    (SELECT count(*) FROM blobs b WHERE b.journal_id = j.id),
                    (SELECT coalesce(sum(length(data)), 0) FROM blobs b WHERE b.journal_id = j.id),
                    (SELECT max(last_used_at) FROM tokens t WHERE t.journal_id = j.id)
               FROM journals j ORDER BY j.created_at, j.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(JournalStats {
                journal: r.get(0)?,
                created_at_ms: r.get(1)?,
                devices: r.get::<_, i64>(2)? as u64,
                ops: r.get::<_, i64>(3)? as u64,
                op_bytes: r.get::<_, i64>(4)? as u64,
                blobs: r.get::<_, i64>(5)? as u64,
                blob_bytes: r.get::<_, i64>(6)? as u64,
                last_used_at_ms: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Brings the schema up to date, one migration per transaction, or refuses
/// a database written by a newer nj.
fn migrate(conn: &mut Connection) -> Result<(), ServerError> {
    let migrations = migrations();
    let latest = migrations.len() as i64;
    loop {
        let current = user_version(conn)?;
        if current > latest {
            return Err(ServerError::BadRequest(format!(
                "the server's data was written by a newer nj (schema {current}); upgrade nj"
            )));
        }
        if current == latest {
            return Ok(());
        }
        // `nj server` commands open the same file as `nj serve`: take the
        // write lock, then look again, so no step is applied twice.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = user_version(&tx)?;
        if (0..latest).contains(&current) {
            tx.execute_batch(migrations[current as usize])?;
            tx.pragma_update(None, "user_version", current + 1)?;
            tx.commit()?;
        }
    }
}

fn user_version(conn: &Connection) -> Result<i64, ServerError> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Splits schema.sql at its `-- migration: N` markers: migration N is
/// entry N - 1. Text before the first marker is commentary.
pub(super) fn migrations() -> Vec<&'static str> {
    crate::migrate::split_migrations(SCHEMA)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::Core;

    #[test]
    fn migrations_are_numbered_in_order() {
        let all = migrations();
        assert_eq!(all.len(), 5);
        for (i, m) in all.iter().enumerate() {
            let first = m.lines().next().unwrap();
            assert_eq!(first.trim(), format!("-- migration: {}", i + 1));
        }
    }

    #[test]
    fn a_version_1_server_gains_key_checks_device_heads_token_use_and_last_positions_on_open() {
        const KC_A: &str = "kc1:aaaa";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(migrations()[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute(
                "INSERT INTO journals(id, created_at) VALUES ('old-journal', 5)",
                [],
            )
            .unwrap();
            conn.execute_batch(
                "INSERT INTO ops(journal_id, pos, device, seq, hlc_ms, payload) VALUES
                   ('old-journal', 1, 'd1', 1, 0, x'00'), ('old-journal', 2, 'd1', 2, 0, x'00'),
                   ('old-journal', 3, 'd2', 1, 0, x'00');",
            )
            .unwrap();
        }
        assert_eq!(SqliteStore::open(&path).unwrap().version(), 5);
        let core = Core::open(&path).unwrap();
        assert_eq!(core.status("old-journal", 0).unwrap().key_check, None);
        // The last position was filled in from the operations stored.
        let next = crate::server::StoredOp {
            device: "d2".into(),
            seq: 2,
            hlc_ms: 0,
            payload: vec![0],
        };
        let pushed = core.push("old-journal", &[next], 10_000).unwrap();
        assert_eq!((pushed.after, pushed.last), (3, 4));
        // The heads of the operations already stored were filled in.
        assert_eq!(
            core.status("old-journal", 0)
                .unwrap()
                .devices
                .into_iter()
                .collect::<Vec<_>>(),
            [("d1".to_string(), 2), ("d2".to_string(), 2)]
        );
        assert_eq!(
            core.set_key_check("old-journal", KC_A).unwrap(),
            crate::server::core::KeyCheckSet::Stored
        );
        drop(core);
        // Opening again leaves an up-to-date file as it is.
        assert_eq!(SqliteStore::open(&path).unwrap().version(), 5);
        let core = Core::open(&path).unwrap();
        assert_eq!(
            core.status("old-journal", 0).unwrap().key_check.as_deref(),
            Some(KC_A)
        );
    }

    #[test]
    fn a_newer_server_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 6)
            .unwrap();
        let err = Core::open(&path).err().unwrap();
        assert_eq!(
            err.to_string(),
            "the server's data was written by a newer nj (schema 6); upgrade nj"
        );
    }
}
