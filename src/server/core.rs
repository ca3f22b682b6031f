//! The sync server's protocol core: journals, tokens, operations and
//! blobs over SQLite, with no HTTP in sight. The HTTP layer maps each
//! endpoint to one method here and each [`ServerError`] to a status code.
//!
//! It never reads an operation's payload: it sees a device id, a sequence
//! number, a clock reading and a size. Nor does it interpret a journal's
//! key check: it stores the first one and compares later ones byte for byte.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;

/// How far ahead of the server's clock an operation may be stamped.
pub const MAX_CLOCK_AHEAD_MS: i64 = 5 * 60 * 1000;

/// The most operations one page holds, whatever `limit` asks for.
pub const MAX_PAGE_OPS: usize = 10_000;

/// A page stops growing once its payloads reach this many bytes (it always
/// holds at least one operation), so a page of large operations stays a
/// size a client can hold in memory.
pub const MAX_PAGE_BYTES: usize = 8 * 1024 * 1024;

/// The schema, as an ordered list of forward-only migrations.
const SCHEMA: &str = include_str!("schema.sql");

/// The longest key check a journal may store. nj's is 68 characters
/// (`kc1:` and 64 hex digits); the room above that is for later forms.
pub const MAX_KEY_CHECK_LEN: usize = 256;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    #[error(
        "the token is missing, unknown or revoked; ask for a new one with `nj server new-token`"
    )]
    Unauthorized,
    #[error("the server already has a different operation {device}#{seq}")]
    Conflict { device: String, seq: u64 },
    /// A device's operations are numbered 1, 2, 3, ... with no gaps: the
    /// next one the server takes from it is `expected`.
    #[error("operation {device}#{seq} does not follow on from the last one the server holds from that device; the next must be #{expected}")]
    Gap {
        device: String,
        seq: u64,
        expected: u64,
    },
    #[error("an operation is stamped {ahead_s} s ahead of the server's clock; fix this device's clock. Changes made while it was ahead keep their time, so they go through once the server's clock is within 5 minutes of it, in about {} min", (ahead_s - MAX_CLOCK_AHEAD_MS / 1000 + 59) / 60)]
    ClockAhead { ahead_s: i64 },
    #[error("{0}")]
    BadRequest(String),
    #[error("this journal on the server is encrypted with another key; bring that key here with `nj key import` (print it with `nj key show` on a device that already syncs)")]
    KeyMismatch,
    #[error("not found")]
    NotFound,
    #[error("server storage error: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("cannot listen on {addr} ({source}); is another server using it? pick another address with --listen")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("the server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// An operation as the server stores it: the client's envelope, as sealed.
pub use crate::sync::Envelope as StoredOp;

pub use crate::sync::wire::Pushed;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpsPage {
    pub ops: Vec<StoredOp>,
    pub next: u64,
    pub more: bool,
}

/// One stored operation, for `nj server ops`: where it is and what the
/// server can tell of it without the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpInfo {
    pub pos: u64,
    pub device: String,
    pub seq: u64,
    pub hlc_ms: i64,
    /// The sealed payload's size.
    pub bytes: u64,
    /// Why no device can open it, when the server can tell.
    pub problem: Option<String>,
}

/// Why a payload cannot be opened by any device, as far as the server can
/// tell without the key: a format byte nj never wrote, or too few bytes
/// to be sealed at all. A format byte it does not know may also be a later
/// nj's, which the message says.
fn payload_problem(first: Option<u8>, bytes: u64) -> Option<String> {
    use crate::sync::crypto::{FORMAT_VERSION, SEAL_OVERHEAD};
    match first {
        None => Some("empty".into()),
        Some(FORMAT_VERSION) if bytes < SEAL_OVERHEAD as u64 => {
            Some(format!("{bytes} bytes, too short to be sealed"))
        }
        Some(FORMAT_VERSION) => None,
        // A later format is at least a version byte and its 16-byte proof.
        Some(v) if bytes < 17 => Some(format!(
            "format byte {v:#04x} and {bytes} bytes: not a format nj writes"
        )),
        Some(v) => Some(format!(
            "format byte {v:#04x}, unknown to this server: damage, or a later nj's format (`nj sync` on a device tells which)"
        )),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub server_time_ms: i64,
    /// The highest sequence number stored for each device.
    pub devices: std::collections::BTreeMap<String, u64>,
    /// The journal's id, which clients bind into every sealed payload so
    /// that it cannot be moved to another journal.
    pub journal: String,
    /// The key check the first device stored, if one has.
    pub key_check: Option<String>,
    /// The largest request body the server takes, so a client can size
    /// its requests and split large texts to fit (set by the HTTP layer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_body: Option<u64>,
}

/// What [`Core::set_key_check`] did with a check that matches the
/// journal's (a different one is [`ServerError::KeyMismatch`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCheckSet {
    /// The journal had none; this one is its check from now on.
    Stored,
    /// The journal already had exactly this one.
    AlreadySame,
}

pub struct Core {
    conn: Mutex<Connection>,
}

/// A blob's id and its bytes.
pub type Blob = (String, Vec<u8>);

/// How many hex digits of a token's hash name it in `nj server tokens`.
pub const TOKEN_ID_LEN: usize = 8;

/// A token as `nj server tokens` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// The start of the token's SHA-256: enough to name it, useless to
    /// anyone who would use it.
    pub id: String,
    pub journal: String,
    pub created_at_ms: i64,
    pub last_used_at_ms: Option<i64>,
    /// The device that last used it, as it named itself.
    pub last_device: Option<String>,
    pub revoked_at_ms: Option<i64>,
}

fn token_hash(token: &str) -> String {
    crate::content::sha256_hex(token.as_bytes())
}

fn new_token() -> String {
    // Two v4 UUIDs: 244 random bits.
    format!(
        "njt_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

impl Core {
    pub fn open(path: &Path) -> Result<Core, ServerError> {
        Self::setup(Connection::open(path)?)
    }

    pub fn open_in_memory() -> Result<Core, ServerError> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> Result<Core, ServerError> {
        conn.busy_timeout(Duration::from_secs(15))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
        migrate(&mut conn)?;
        Ok(Core {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent
        // (its transactions roll back), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new journal and its first token.
    pub fn new_journal(&self, now_ms: i64) -> Result<(String, String), ServerError> {
        let id = uuid::Uuid::new_v4().to_string();
        let token = new_token();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO journals(id, created_at) VALUES (?1, ?2)",
            params![id, now_ms],
        )?;
        tx.execute(
            "INSERT INTO tokens(hash, journal_id, created_at) VALUES (?1, ?2, ?3)",
            params![token_hash(&token), id, now_ms],
        )?;
        tx.commit()?;
        Ok((id, token))
    }

    /// Another token for an existing journal (one per device).
    pub fn new_token(&self, journal: &str, now_ms: i64) -> Result<String, ServerError> {
        let conn = self.conn();
        let exists = conn
            .query_row(
                "SELECT 1 FROM journals WHERE id = ?1",
                [journal],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if !exists {
            return Err(ServerError::BadRequest(format!(
                "no journal {journal} on this server; `nj server new-journal` makes one"
            )));
        }
        let token = new_token();
        conn.execute(
            "INSERT INTO tokens(hash, journal_id, created_at) VALUES (?1, ?2, ?3)",
            params![token_hash(&token), journal, now_ms],
        )?;
        Ok(token)
    }

    /// Revokes a token. Returns false if it was unknown or already revoked.
    pub fn revoke(&self, token: &str, now_ms: i64) -> Result<bool, ServerError> {
        self.revoke_hash(&token_hash(token), now_ms)
    }

    /// Revokes the token with this hash. False if unknown or revoked.
    fn revoke_hash(&self, hash: &str, now_ms: i64) -> Result<bool, ServerError> {
        let n = self.conn().execute(
            "UPDATE tokens SET revoked_at = ?1 WHERE hash = ?2 AND revoked_at IS NULL",
            params![now_ms, hash],
        )?;
        Ok(n == 1)
    }

    /// The journal a bearer token opens. Records when the token was used
    /// and by which `device` (as the client names itself): once a minute,
    /// or when the device changes, so most requests write nothing.
    pub fn authenticate(
        &self,
        token: &str,
        device: Option<&str>,
        now_ms: i64,
    ) -> Result<String, ServerError> {
        let conn = self.conn();
        let hash = token_hash(token);
        let (journal, last_used, last_device): (String, Option<i64>, Option<String>) = conn
            .prepare_cached(
                "SELECT journal_id, last_used_at, last_device FROM tokens
                  WHERE hash = ?1 AND revoked_at IS NULL",
            )?
            .query_row([&hash], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?
            .ok_or(ServerError::Unauthorized)?;
        let device = device.filter(|d| !d.is_empty());
        let stale = last_used.is_none_or(|t| now_ms - t >= 60_000);
        let moved = device.is_some() && device != last_device.as_deref();
        if stale || moved {
            // Bookkeeping only: a write that fails (the file locked too
            // long, a full disk) must not turn a valid token away.
            let _ = conn
                .prepare_cached(
                    "UPDATE tokens SET last_used_at = ?1, last_device = coalesce(?2, last_device)
                      WHERE hash = ?3",
                )
                .and_then(|mut s| s.execute(params![now_ms, device, hash]));
        }
        Ok(journal)
    }

    /// Every token on the server, newest first, by its short id (the start
    /// of its hash: the token itself is not stored).
    pub fn tokens(&self) -> Result<Vec<TokenInfo>, ServerError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT hash, journal_id, created_at, last_used_at, last_device, revoked_at
               FROM tokens ORDER BY created_at DESC, hash",
        )?;
        let rows = stmt
            .query_map([], |r| {
                let hash: String = r.get(0)?;
                Ok(TokenInfo {
                    id: hash[..TOKEN_ID_LEN.min(hash.len())].to_owned(),
                    journal: r.get(1)?,
                    created_at_ms: r.get(2)?,
                    last_used_at_ms: r.get(3)?,
                    last_device: r.get(4)?,
                    revoked_at_ms: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Revokes the token whose short id (see [`Core::tokens`]) starts with
    /// `prefix`. Returns false if it was revoked already.
    pub fn revoke_by_id(&self, prefix: &str, now_ms: i64) -> Result<bool, ServerError> {
        let p = prefix.trim().to_ascii_lowercase();
        if p.len() < 4 || !p.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(ServerError::BadRequest(format!(
                "{prefix:?} is neither a token (njt_...) nor a token id (4 or more hex digits from `nj server tokens`)"
            )));
        }
        let found: Vec<String> = self
            .conn()
            .prepare_cached("SELECT hash FROM tokens WHERE hash >= ?1 AND hash < ?2 LIMIT 2")?
            .query_map(params![p, format!("{p}~")], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        match found.as_slice() {
            [] => Err(ServerError::BadRequest(format!(
                "no token has the id {p}; `nj server tokens` lists them"
            ))),
            [hash] => self.revoke_hash(hash, now_ms),
            _ => Err(ServerError::BadRequest(format!(
                "{p} is the start of more than one token's id; give more of it (`nj server tokens` lists them)"
            ))),
        }
    }

    /// A journal's operations as the server sees them, in server order,
    /// for `nj server ops`: only those no device can open when `bad_only`.
    pub fn ops(&self, journal: &str, bad_only: bool) -> Result<Vec<OpInfo>, ServerError> {
        let conn = self.conn();
        self.journal_exists(&conn, journal)?;
        let mut stmt = conn.prepare(
            "SELECT pos, device, seq, hlc_ms, length(payload), substr(payload, 1, 1)
               FROM ops WHERE journal_id = ?1 ORDER BY pos",
        )?;
        let rows = stmt.query_map([journal], |r| {
            let bytes: i64 = r.get(4)?;
            let first: Vec<u8> = r.get(5)?;
            Ok(OpInfo {
                pos: r.get::<_, i64>(0)? as u64,
                device: r.get(1)?,
                seq: r.get::<_, i64>(2)? as u64,
                hlc_ms: r.get(3)?,
                bytes: bytes as u64,
                problem: payload_problem(first.first().copied(), bytes as u64),
            })
        })?;
        let mut out = Vec::new();
        for row in rows {
            let row = row?;
            if !bad_only || row.problem.is_some() {
                out.push(row);
            }
        }
        Ok(out)
    }

    /// Removes one operation (`nj server remove-op`): one that no device
    /// can open, reported by `nj sync` or found by `nj server ops --bad`.
    /// The device's head goes back to its highest operation left, so the
    /// device can push that number again. Returns false if there was none.
    pub fn remove_op(&self, journal: &str, device: &str, seq: u64) -> Result<bool, ServerError> {
        let mut conn = self.conn();
        self.journal_exists(&conn, journal)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "DELETE FROM ops WHERE journal_id = ?1 AND device = ?2 AND seq = ?3",
            params![journal, device, seq.min(i64::MAX as u64) as i64],
        )?;
        if n > 0 {
            tx.execute(
                "DELETE FROM device_heads WHERE journal_id = ?1 AND device = ?2",
                params![journal, device],
            )?;
            tx.execute(
                "INSERT INTO device_heads(journal_id, device, seq)
                 SELECT journal_id, device, max(seq) FROM ops
                  WHERE journal_id = ?1 AND device = ?2 GROUP BY journal_id, device",
                params![journal, device],
            )?;
        }
        tx.commit()?;
        Ok(n > 0)
    }

    fn journal_exists(&self, conn: &Connection, journal: &str) -> Result<(), ServerError> {
        let found = conn
            .prepare_cached("SELECT 1 FROM journals WHERE id = ?1")?
            .exists([journal])?;
        if found {
            Ok(())
        } else {
            Err(ServerError::BadRequest(format!(
                "no journal {journal:?} on this server; `nj server tokens` shows the journals"
            )))
        }
    }

    pub fn status(&self, journal: &str, now_ms: i64) -> Result<Status, ServerError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT device, seq FROM device_heads WHERE journal_id = ?1 ORDER BY device",
        )?;
        let devices = stmt
            .query_map([journal], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let key_check = conn
            .prepare_cached("SELECT key_check FROM journals WHERE id = ?1")?
            .query_row([journal], |r| r.get(0))
            .optional()?
            .flatten();
        Ok(Status {
            server_time_ms: now_ms,
            devices,
            journal: journal.to_owned(),
            key_check,
            max_body: None,
        })
    }

    /// Stores the journal's key check if it has none. A journal keeps its
    /// first check for good: a different one is [`ServerError::KeyMismatch`].
    pub fn set_key_check(&self, journal: &str, check: &str) -> Result<KeyCheckSet, ServerError> {
        check_key_check(check)?;
        let mut conn = self.conn();
        // Read and write under the write lock, so that of two devices
        // racing with different checks only one is stored and the other
        // is refused.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let stored: Option<String> = tx
            .query_row(
                "SELECT key_check FROM journals WHERE id = ?1",
                [journal],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| {
                ServerError::BadRequest(format!(
                    "no journal {journal} on this server; `nj server new-journal` makes one"
                ))
            })?;
        let outcome = match stored {
            None => {
                tx.execute(
                    "UPDATE journals SET key_check = ?2 WHERE id = ?1",
                    params![journal, check],
                )?;
                KeyCheckSet::Stored
            }
            Some(s) if s == check => KeyCheckSet::AlreadySame,
            Some(_) => return Err(ServerError::KeyMismatch),
        };
        tx.commit()?;
        Ok(outcome)
    }

    /// Stores a batch, all or nothing. Operations already stored with the
    /// same content are skipped; returns how many were new.
    pub fn push(
        &self,
        journal: &str,
        ops: &[StoredOp],
        now_ms: i64,
    ) -> Result<Pushed, ServerError> {
        for (n, op) in ops.iter().enumerate() {
            check_op_fields(n + 1, op)?;
            let ahead = op.hlc_ms.saturating_sub(now_ms);
            if ahead > MAX_CLOCK_AHEAD_MS {
                return Err(ServerError::ClockAhead {
                    ahead_s: ahead / 1000,
                });
            }
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut pos: i64 = tx.query_row(
            "SELECT coalesce(max(pos), 0) FROM ops WHERE journal_id = ?1",
            [journal],
            |r| r.get(0),
        )?;
        let after = pos as u64;
        let mut stored = 0;
        let mut heads: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
        {
            let mut find = tx.prepare_cached(
                "SELECT payload FROM ops WHERE journal_id = ?1 AND device = ?2 AND seq = ?3",
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO ops(journal_id, pos, device, seq, hlc_ms, payload)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            let mut head_of = tx.prepare_cached(
                "SELECT seq FROM device_heads WHERE journal_id = ?1 AND device = ?2",
            )?;
            for op in ops {
                let existing: Option<Vec<u8>> = find
                    .query_row(params![journal, op.device, op.seq as i64], |r| r.get(0))
                    .optional()?;
                match existing {
                    Some(p) if p == op.payload => continue,
                    Some(_) => {
                        return Err(ServerError::Conflict {
                            device: op.device.clone(),
                            seq: op.seq,
                        })
                    }
                    None => {
                        // Gapless: a device's next operation is its last
                        // one's number plus one. (One already stored is
                        // matched above, so a retried batch passes.)
                        let head = match heads.get(op.device.as_str()) {
                            Some(h) => *h,
                            None => head_of
                                .query_row(params![journal, op.device], |r| r.get::<_, i64>(0))
                                .optional()?
                                .map_or(0, |h| h as u64),
                        };
                        if op.seq != head + 1 {
                            return Err(ServerError::Gap {
                                device: op.device.clone(),
                                seq: op.seq,
                                expected: head + 1,
                            });
                        }
                        pos += 1;
                        insert.execute(params![
                            journal,
                            pos,
                            op.device,
                            op.seq as i64,
                            op.hlc_ms,
                            op.payload
                        ])?;
                        stored += 1;
                        heads.insert(op.device.as_str(), op.seq);
                    }
                }
            }
            let mut raise = tx.prepare_cached(
                "INSERT INTO device_heads(journal_id, device, seq) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO UPDATE SET seq = max(seq, excluded.seq)",
            )?;
            for (device, seq) in heads {
                raise.execute(params![journal, device, seq as i64])?;
            }
        }
        tx.commit()?;
        Ok(Pushed {
            stored,
            after,
            last: pos as u64,
        })
    }

    /// Operations after `cursor` in server order: at most `limit` (1 to
    /// [`MAX_PAGE_OPS`]), and fewer once their payloads pass
    /// [`MAX_PAGE_BYTES`]; `more` says whether any follow.
    pub fn pull(&self, journal: &str, cursor: u64, limit: usize) -> Result<OpsPage, ServerError> {
        // Positions are SQLite integers: a cursor past them would wrap to
        // a negative one and start the pull over.
        if cursor > i64::MAX as u64 {
            return Err(ServerError::BadRequest(format!(
                "after={cursor} is past any position; give a cursor from an earlier answer's \"next\" (0 for the start)"
            )));
        }
        let limit = limit.clamp(1, MAX_PAGE_OPS);
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT pos, device, seq, hlc_ms, payload FROM ops
              WHERE journal_id = ?1 AND pos > ?2 ORDER BY pos LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![journal, cursor as i64, limit as i64 + 1], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                StoredOp {
                    device: r.get(1)?,
                    seq: r.get::<_, i64>(2)? as u64,
                    hlc_ms: r.get(3)?,
                    payload: r.get(4)?,
                },
            ))
        })?;
        // Read rows only while the page has room, so a page of large
        // operations never holds more than one past the budget in memory.
        let mut page: Vec<(i64, StoredOp)> = Vec::new();
        let mut bytes = 0;
        let mut more = false;
        for row in rows {
            let row = row?;
            bytes += row.1.payload.len();
            if page.len() == limit || (!page.is_empty() && bytes > MAX_PAGE_BYTES) {
                more = true;
                break;
            }
            page.push(row);
        }
        let next = page.last().map(|(p, _)| *p as u64).unwrap_or(cursor);
        Ok(OpsPage {
            ops: page.into_iter().map(|(_, o)| o).collect(),
            next,
            more,
        })
    }

    /// Stores a blob. Returns false if it was already there.
    pub fn put_blob(&self, journal: &str, id: &str, data: &[u8]) -> Result<bool, ServerError> {
        check_blob_id(id)?;
        let n = self.conn().execute(
            "INSERT INTO blobs(journal_id, id, data) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            params![journal, id, data],
        )?;
        Ok(n == 1)
    }

    pub fn has_blob(&self, journal: &str, id: &str) -> Result<bool, ServerError> {
        check_blob_id(id)?;
        Ok(self
            .conn()
            .prepare_cached("SELECT 1 FROM blobs WHERE journal_id = ?1 AND id = ?2")?
            .exists(params![journal, id])?)
    }

    pub fn get_blob(&self, journal: &str, id: &str) -> Result<Vec<u8>, ServerError> {
        check_blob_id(id)?;
        self.conn()
            .prepare_cached("SELECT data FROM blobs WHERE journal_id = ?1 AND id = ?2")?
            .query_row(params![journal, id], |r| r.get(0))
            .optional()?
            .ok_or(ServerError::NotFound)
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
fn migrations() -> Vec<&'static str> {
    crate::migrate::split_migrations(SCHEMA)
}

/// A key check is opaque, but it is echoed in answers and stored per
/// journal, so it must be short and plain.
fn check_key_check(check: &str) -> Result<(), ServerError> {
    let ok = (1..=MAX_KEY_CHECK_LEN).contains(&check.len())
        && check.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(ServerError::BadRequest(format!(
            "a key check is 1 to {MAX_KEY_CHECK_LEN} printable ASCII characters without spaces; docs/sync-protocol.md gives the form nj sends"
        )))
    }
}

/// At most this many blob ids in one batch request.
pub const MAX_BLOB_BATCH: usize = 1000;

impl Core {
    /// Stores a batch of blobs in one transaction, all or nothing; blobs
    /// the journal has are left as they are. Returns how many were new.
    pub fn put_blobs(
        &self,
        journal: &str,
        blobs: &[(String, Vec<u8>)],
    ) -> Result<usize, ServerError> {
        if blobs.len() > MAX_BLOB_BATCH {
            return Err(ServerError::BadRequest(format!(
                "at most {MAX_BLOB_BATCH} blobs in one request"
            )));
        }
        blobs.iter().try_for_each(|(id, _)| check_blob_id(id))?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut stored = 0;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO blobs(journal_id, id, data) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            )?;
            for (id, data) in blobs {
                stored += insert.execute(params![journal, id, data])?;
            }
        }
        tx.commit()?;
        Ok(stored)
    }

    /// Which of `ids` this journal lacks.
    pub fn lacking_blobs(&self, journal: &str, ids: &[String]) -> Result<Vec<String>, ServerError> {
        check_batch(ids)?;
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT 1 FROM blobs WHERE journal_id = ?1 AND id = ?2")?;
        let mut out = Vec::new();
        for id in ids {
            if !stmt.exists(params![journal, id])? {
                out.push(id.clone());
            }
        }
        Ok(out)
    }

    /// The blobs among `ids` that this journal has.
    /// The blobs with these ids that the journal has, each once however
    /// often it is asked for, and together at most `max_bytes` (but always
    /// the first one found, so any blob can be fetched). The flag says an
    /// answer was cut short: the client asks again for the rest. Without
    /// both bounds one request of repeated ids made an answer thousands of
    /// times its own size.
    pub fn get_blobs(
        &self,
        journal: &str,
        ids: &[String],
        max_bytes: usize,
    ) -> Result<(Vec<Blob>, bool), ServerError> {
        check_batch(ids)?;
        let conn = self.conn();
        // The size first (SQLite knows it without reading the blob), so a
        // blob that would not fit is never read: a row's columns are all
        // read when it is stepped, so this takes two statements.
        let mut size = conn
            .prepare_cached("SELECT length(data) FROM blobs WHERE journal_id = ?1 AND id = ?2")?;
        let mut read =
            conn.prepare_cached("SELECT data FROM blobs WHERE journal_id = ?1 AND id = ?2")?;
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        let mut total = 0usize;
        for id in ids {
            if !seen.insert(id.as_str()) {
                continue;
            }
            let Some(len) = size
                .query_row(params![journal, id], |r| r.get::<_, i64>(0))
                .optional()?
            else {
                continue;
            };
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            if !out.is_empty() && total.saturating_add(len) > max_bytes {
                return Ok((out, true));
            }
            total = total.saturating_add(len);
            let data: Vec<u8> = read.query_row(params![journal, id], |r| r.get(0))?;
            out.push((id.clone(), data));
        }
        Ok((out, false))
    }
}

/// The longest device id accepted: nj's are UUIDs (36 characters).
pub const MAX_DEVICE_ID: usize = 64;

/// Checks an operation's fields at the edge, so nothing a client sends is
/// stored unbounded or wraps: a device id of letters, digits and dashes,
/// at most [`MAX_DEVICE_ID`] long (it is returned by every status); a
/// sequence number and a clock that fit SQLite's integers.
/// Whether `s` can be a device id: 1 to [`MAX_DEVICE_ID`] letters,
/// digits and dashes (the operations' `device`, and the `NJ-Device`
/// header).
pub fn is_device_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_DEVICE_ID
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn check_op_fields(n: usize, op: &StoredOp) -> Result<(), ServerError> {
    let bad = |what: String| ServerError::BadRequest(format!("operation {n}: {what}"));
    if !is_device_id(&op.device) {
        return Err(bad(format!(
            "the device id must be 1 to {MAX_DEVICE_ID} letters, digits and dashes (this one is {} bytes)",
            op.device.len()
        )));
    }
    if op.seq == 0 || op.seq > i64::MAX as u64 {
        return Err(bad(format!(
            "the sequence number {} is out of range; they count from 1",
            op.seq
        )));
    }
    if op.hlc_ms < 0 {
        return Err(bad(format!(
            "the clock {} is before 1970; send milliseconds since the Unix epoch",
            op.hlc_ms
        )));
    }
    Ok(())
}

fn check_batch(ids: &[String]) -> Result<(), ServerError> {
    if ids.len() > MAX_BLOB_BATCH {
        return Err(ServerError::BadRequest(format!(
            "at most {MAX_BLOB_BATCH} blob ids in one request"
        )));
    }
    ids.iter().try_for_each(|id| check_blob_id(id))
}

/// Blob ids are hashes: short, and safe anywhere.
fn check_blob_id(id: &str) -> Result<(), ServerError> {
    let ok = (1..=128).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ':' || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ServerError::BadRequest(format!("{id:?} is not a blob id")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(device: &str, seq: u64, payload: &str) -> StoredOp {
        StoredOp {
            device: device.into(),
            seq,
            hlc_ms: 1_000,
            payload: payload.as_bytes().to_vec(),
        }
    }

    #[test]
    fn tokens_open_only_their_journal_and_can_be_revoked() {
        let core = Core::open_in_memory().unwrap();
        let (j1, t1) = core.new_journal(0).unwrap();
        let (j2, t2) = core.new_journal(0).unwrap();
        let t1b = core.new_token(&j1, 0).unwrap();
        assert_eq!(core.authenticate(&t1, None, 0).unwrap(), j1);
        assert_eq!(core.authenticate(&t1b, None, 0).unwrap(), j1);
        assert_eq!(core.authenticate(&t2, None, 0).unwrap(), j2);
        assert!(matches!(
            core.authenticate("njt_guess", None, 0),
            Err(ServerError::Unauthorized)
        ));
        assert!(core.revoke(&t1, 5).unwrap());
        assert!(!core.revoke(&t1, 6).unwrap());
        assert!(matches!(
            core.authenticate(&t1, None, 0),
            Err(ServerError::Unauthorized)
        ));
        assert_eq!(core.authenticate(&t1b, None, 0).unwrap(), j1);
        assert!(core.new_token("no-such-journal", 0).is_err());
    }

    #[test]
    fn token_use_is_recorded_at_most_once_a_minute_and_ids_revoke() {
        let core = Core::open_in_memory().unwrap();
        let (j, t) = core.new_journal(1_000).unwrap();
        let info = |core: &Core| core.tokens().unwrap().remove(0);
        assert_eq!(info(&core).last_used_at_ms, None);
        core.authenticate(&t, Some("dev-a"), 10_000).unwrap();
        assert_eq!(
            (
                info(&core).last_used_at_ms,
                info(&core).last_device.as_deref()
            ),
            (Some(10_000), Some("dev-a"))
        );
        // Within the minute, by the same device: nothing written.
        core.authenticate(&t, Some("dev-a"), 40_000).unwrap();
        assert_eq!(info(&core).last_used_at_ms, Some(10_000));
        // Another device at once, or the same a minute on: recorded.
        core.authenticate(&t, Some("dev-b"), 41_000).unwrap();
        assert_eq!(
            (
                info(&core).last_used_at_ms,
                info(&core).last_device.as_deref()
            ),
            (Some(41_000), Some("dev-b"))
        );
        core.authenticate(&t, None, 200_000).unwrap();
        assert_eq!(
            (
                info(&core).last_used_at_ms,
                info(&core).last_device.as_deref()
            ),
            (Some(200_000), Some("dev-b"))
        );
        let token = info(&core);
        assert_eq!(token.journal, j);
        assert_eq!(token.id.len(), TOKEN_ID_LEN);
        assert_eq!(token.id, token_hash(&t)[..TOKEN_ID_LEN]);
        // Revoked by its id.
        assert!(core.revoke_by_id(&token.id[..5], 300_000).unwrap());
        assert!(!core.revoke_by_id(&token.id, 300_000).unwrap());
        assert!(matches!(
            core.authenticate(&t, None, 0),
            Err(ServerError::Unauthorized)
        ));
        assert_eq!(info(&core).revoked_at_ms, Some(300_000));
        assert!(core.revoke_by_id("xyz", 0).is_err());
    }

    #[test]
    fn push_is_idempotent_and_conflicts_are_refused_whole() {
        let core = Core::open_in_memory().unwrap();
        let (j, _) = core.new_journal(0).unwrap();
        assert_eq!(
            core.push(&j, &[op("a", 1, "x"), op("a", 2, "y")], 10_000)
                .unwrap(),
            Pushed {
                stored: 2,
                after: 0,
                last: 2
            }
        );
        assert_eq!(
            core.push(&j, &[op("a", 2, "y"), op("a", 3, "z")], 10_000)
                .unwrap(),
            Pushed {
                stored: 1,
                after: 2,
                last: 3
            }
        );
        let err = core
            .push(&j, &[op("a", 4, "w"), op("a", 1, "changed")], 10_000)
            .unwrap_err();
        assert!(matches!(err, ServerError::Conflict { seq: 1, .. }), "{err}");
        // All or nothing: #4 was not stored either.
        assert_eq!(core.status(&j, 0).unwrap().devices.get("a"), Some(&3));
    }

    #[test]
    fn pages_in_server_order_and_journals_are_separate() {
        let core = Core::open_in_memory().unwrap();
        let (j1, _) = core.new_journal(0).unwrap();
        let (j2, _) = core.new_journal(0).unwrap();
        for i in 1..=5 {
            core.push(&j1, &[op("a", i, &format!("p{i}"))], 10_000)
                .unwrap();
        }
        core.push(&j2, &[op("b", 1, "other")], 10_000).unwrap();
        let p1 = core.pull(&j1, 0, 2).unwrap();
        assert_eq!((p1.ops.len(), p1.next, p1.more), (2, 2, true));
        let p3 = core.pull(&j1, 4, 2).unwrap();
        assert_eq!((p3.ops.len(), p3.next, p3.more), (1, 5, false));
        let empty = core.pull(&j1, 5, 2).unwrap();
        assert_eq!((empty.ops.len(), empty.next, empty.more), (0, 5, false));
        let other = core.pull(&j2, 0, 10).unwrap();
        assert_eq!(other.ops, vec![op("b", 1, "other")]);
    }

    #[test]
    fn a_page_of_large_operations_stops_at_the_byte_budget() {
        let core = Core::open_in_memory().unwrap();
        let (j, _) = core.new_journal(0).unwrap();
        let big = "x".repeat(MAX_PAGE_BYTES / 2 - 10);
        for i in 1..=3 {
            core.push(&j, &[op("a", i, &big)], 10_000).unwrap();
        }
        let huge = "y".repeat(MAX_PAGE_BYTES + 1);
        core.push(&j, &[op("a", 4, &huge)], 10_000).unwrap();
        let p1 = core.pull(&j, 0, 100).unwrap();
        assert_eq!((p1.ops.len(), p1.next, p1.more), (2, 2, true));
        let p2 = core.pull(&j, 2, 100).unwrap();
        assert_eq!((p2.ops.len(), p2.next, p2.more), (1, 3, true));
        // One operation over the budget still makes a page on its own.
        let p3 = core.pull(&j, 3, 100).unwrap();
        assert_eq!((p3.ops.len(), p3.next, p3.more), (1, 4, false));
    }

    #[test]
    fn clocks_far_ahead_are_refused() {
        let core = Core::open_in_memory().unwrap();
        let (j, _) = core.new_journal(0).unwrap();
        let mut ahead = op("a", 1, "x");
        ahead.hlc_ms = 1_000_000 + MAX_CLOCK_AHEAD_MS + 1_000;
        let err = core.push(&j, &[ahead], 1_000_000).unwrap_err();
        assert!(err.to_string().contains("fix this device's clock"), "{err}");
        let mut ok = op("a", 1, "x");
        ok.hlc_ms = 1_000_000 + MAX_CLOCK_AHEAD_MS - 1_000;
        assert_eq!(core.push(&j, &[ok], 1_000_000).unwrap().stored, 1);
    }

    #[test]
    fn blobs_are_per_journal() {
        let core = Core::open_in_memory().unwrap();
        let (j1, _) = core.new_journal(0).unwrap();
        let (j2, _) = core.new_journal(0).unwrap();
        assert!(core.put_blob(&j1, "sha256:ab", b"text").unwrap());
        assert!(!core.put_blob(&j1, "sha256:ab", b"text").unwrap());
        assert!(core.has_blob(&j1, "sha256:ab").unwrap());
        assert!(!core.has_blob(&j2, "sha256:ab").unwrap());
        assert!(matches!(
            core.get_blob(&j2, "sha256:ab"),
            Err(ServerError::NotFound)
        ));
        assert_eq!(core.get_blob(&j1, "sha256:ab").unwrap(), b"text");
        assert!(core.put_blob(&j1, "../etc/passwd", b"x").is_err());
    }

    /// Issue 17, item 3: the same id a thousand times came back a thousand
    /// times, with no bound on the answer.
    #[test]
    fn regression_blob_fetch_amplifies() {
        let core = Core::open_in_memory().unwrap();
        let (j, _) = core.new_journal(0).unwrap();
        let big = vec![7u8; 100_000];
        for i in 0..5 {
            core.put_blob(&j, &format!("k1:b{i}"), &big).unwrap();
        }
        // One id a thousand times: one blob back.
        let same = vec!["k1:b0".to_string(); MAX_BLOB_BATCH];
        let (blobs, more) = core.get_blobs(&j, &same, 1 << 20).unwrap();
        assert_eq!((blobs.len(), more), (1, false));
        // Five blobs of 100 kB under a 250 kB cap: two, and "more".
        let five: Vec<String> = (0..5).map(|i| format!("k1:b{i}")).collect();
        let (blobs, more) = core.get_blobs(&j, &five, 250_000).unwrap();
        assert_eq!(blobs.len(), 2);
        assert!(more);
        // A blob larger than the cap still comes, alone.
        let (blobs, more) = core.get_blobs(&j, &five, 10).unwrap();
        assert_eq!((blobs.len(), more), (1, true));
        assert_eq!(blobs[0].0, "k1:b0");
    }

    #[test]
    fn blob_batches_see_only_their_journal() {
        let core = Core::open_in_memory().unwrap();
        let (j1, _) = core.new_journal(0).unwrap();
        let (j2, _) = core.new_journal(0).unwrap();
        core.put_blob(&j1, "sha256:aa", b"one").unwrap();
        let ids = vec!["sha256:aa".to_string(), "sha256:bb".to_string()];
        assert_eq!(
            core.lacking_blobs(&j1, &ids).unwrap(),
            vec!["sha256:bb".to_string()]
        );
        assert_eq!(core.lacking_blobs(&j2, &ids).unwrap(), ids);
        assert_eq!(
            core.get_blobs(&j1, &ids, 1 << 20).unwrap(),
            (vec![("sha256:aa".to_string(), b"one".to_vec())], false)
        );
        assert!(core.get_blobs(&j2, &ids, 1 << 20).unwrap().0.is_empty());
        let stored = core
            .put_blobs(
                &j1,
                &[
                    ("k1:a".into(), b"one".to_vec()),
                    ("k1:b".into(), b"two".to_vec()),
                ],
            )
            .unwrap();
        assert_eq!(stored, 2);
        // Again, with one new: only that one is stored, and the old bytes stay.
        let again = core
            .put_blobs(
                &j1,
                &[
                    ("k1:a".into(), b"changed".to_vec()),
                    ("k1:c".into(), b"three".to_vec()),
                ],
            )
            .unwrap();
        assert_eq!(again, 1);
        assert_eq!(core.get_blob(&j1, "k1:a").unwrap(), b"one");
        assert!(!core.has_blob(&j2, "k1:a").unwrap());
        // All or nothing: a bad id refuses the whole batch.
        assert!(core
            .put_blobs(
                &j1,
                &[
                    ("k1:d".into(), b"x".to_vec()),
                    ("../x".into(), b"y".to_vec())
                ]
            )
            .is_err());
        assert!(!core.has_blob(&j1, "k1:d").unwrap());
        let too_many = vec!["sha256:aa".to_string(); MAX_BLOB_BATCH + 1];
        assert!(core.get_blobs(&j1, &too_many, 1 << 20).is_err());
        assert!(core.lacking_blobs(&j1, &["../x".to_string()]).is_err());
    }

    const KC_A: &str = "kc1:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const KC_B: &str = "kc1:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

    #[test]
    fn a_journal_keeps_its_first_key_check() {
        let core = Core::open_in_memory().unwrap();
        let (j, _) = core.new_journal(0).unwrap();
        let status = core.status(&j, 7).unwrap();
        assert_eq!(
            (status.journal.as_str(), status.key_check),
            (j.as_str(), None)
        );
        assert_eq!(core.set_key_check(&j, KC_A).unwrap(), KeyCheckSet::Stored);
        assert_eq!(core.status(&j, 7).unwrap().key_check.as_deref(), Some(KC_A));
        assert_eq!(
            core.set_key_check(&j, KC_A).unwrap(),
            KeyCheckSet::AlreadySame
        );
        let err = core.set_key_check(&j, KC_B).unwrap_err();
        assert!(matches!(err, ServerError::KeyMismatch), "{err}");
        assert_eq!(
            err.to_string(),
            "this journal on the server is encrypted with another key; bring that key here with `nj key import` (print it with `nj key show` on a device that already syncs)"
        );
        assert_eq!(core.status(&j, 7).unwrap().key_check.as_deref(), Some(KC_A));
    }

    #[test]
    fn journals_do_not_see_each_others_key_checks() {
        let core = Core::open_in_memory().unwrap();
        let (j1, _) = core.new_journal(0).unwrap();
        let (j2, _) = core.new_journal(0).unwrap();
        assert_eq!(core.set_key_check(&j1, KC_A).unwrap(), KeyCheckSet::Stored);
        let other = core.status(&j2, 0).unwrap();
        assert_eq!(
            (other.journal.as_str(), other.key_check),
            (j2.as_str(), None)
        );
        assert_eq!(core.set_key_check(&j2, KC_B).unwrap(), KeyCheckSet::Stored);
        assert_eq!(
            core.status(&j1, 0).unwrap().key_check.as_deref(),
            Some(KC_A)
        );
        assert_eq!(
            core.status(&j2, 0).unwrap().key_check.as_deref(),
            Some(KC_B)
        );
        assert!(matches!(
            core.set_key_check("no-such-journal", KC_A),
            Err(ServerError::BadRequest(_))
        ));
    }

    #[test]
    fn invalid_key_checks_are_refused() {
        let core = Core::open_in_memory().unwrap();
        let (j, _) = core.new_journal(0).unwrap();
        let longest = "x".repeat(MAX_KEY_CHECK_LEN);
        let too_long = "x".repeat(MAX_KEY_CHECK_LEN + 1);
        for bad in [
            "",
            "kc1: 00",
            "kc1:\t00",
            "kc1:00\n",
            "kc1:\u{e9}",
            &too_long,
        ] {
            let err = core.set_key_check(&j, bad).unwrap_err();
            assert_eq!(
                err.to_string(),
                "a key check is 1 to 256 printable ASCII characters without spaces; docs/sync-protocol.md gives the form nj sends",
                "{bad:?}"
            );
        }
        assert_eq!(core.status(&j, 0).unwrap().key_check, None);
        assert_eq!(
            core.set_key_check(&j, &longest).unwrap(),
            KeyCheckSet::Stored
        );
        let (j2, _) = core.new_journal(0).unwrap();
        assert_eq!(core.set_key_check(&j2, "!~").unwrap(), KeyCheckSet::Stored);
    }

    #[test]
    fn migrations_are_numbered_in_order() {
        let all = migrations();
        assert_eq!(all.len(), 4);
        for (i, m) in all.iter().enumerate() {
            let first = m.lines().next().unwrap();
            assert_eq!(first.trim(), format!("-- migration: {}", i + 1));
        }
    }

    #[test]
    fn a_version_1_server_gains_key_checks_device_heads_and_token_use_on_open() {
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
        let core = Core::open(&path).unwrap();
        assert_eq!(user_version(&core.conn()).unwrap(), 4);
        assert_eq!(core.status("old-journal", 0).unwrap().key_check, None);
        // The heads of the operations already stored were filled in.
        assert_eq!(
            core.status("old-journal", 0)
                .unwrap()
                .devices
                .into_iter()
                .collect::<Vec<_>>(),
            [("d1".to_string(), 2), ("d2".to_string(), 1)]
        );
        assert_eq!(
            core.set_key_check("old-journal", KC_A).unwrap(),
            KeyCheckSet::Stored
        );
        drop(core);
        // Opening again leaves an up-to-date file as it is.
        let core = Core::open(&path).unwrap();
        assert_eq!(user_version(&core.conn()).unwrap(), 4);
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
            .pragma_update(None, "user_version", 5)
            .unwrap();
        let err = Core::open(&path).err().unwrap();
        assert_eq!(
            err.to_string(),
            "the server's data was written by a newer nj (schema 5); upgrade nj"
        );
    }
}
