//! The server's data in PostgreSQL (`nj serve --database postgres://…`):
//! for a server that hosts many journals, or several server processes
//! behind one load balancer sharing one database.
//!
//! The core's rules are synchronous and run on the HTTP layer's blocking
//! threads, as they do over SQLite; this store drives tokio-postgres
//! connections from a small runtime of its own and waits for each answer.
//! deadpool-postgres keeps the connections: a bounded pool whose callers
//! wait their turn (and get a 503 after `POOL_WAIT`, never a 500).
//!
//! Several servers on one database stay one server because every change to
//! a journal's operations first locks the journal's row (`FOR NO KEY
//! UPDATE`):
//! pushes to one journal take their positions one after another, whichever
//! process they reach, and a later position is never visible before an
//! earlier one. Transactions run at READ COMMITTED; the serialization
//! failures and deadlocks PostgreSQL may still report are retried here,
//! inside the server.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::error::SqlState;
use tokio_postgres::NoTls;

use super::core::{ServerError, StoredOp};
use super::store::{int, Access, JournalRow, JournalStats, OpRow, Store, TokenRow, Tx};

/// The schema, as an ordered list of forward-only migrations.
const SCHEMA: &str = include_str!("schema-postgres.sql");

/// Connections one server process holds at most, unless told otherwise
/// (`nj serve --db-connections`). The HTTP layer runs at most 8 core calls
/// at once (its blocking threads); the rest are for `nj server` commands
/// and headroom.
pub const POOL_SIZE: usize = 16;

/// How long a request waits for a free connection before it is answered
/// 503 (the client tries again later).
const POOL_WAIT: Duration = Duration::from_secs(10);

/// How long connecting may take, when the URL does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Attempts at a transaction that PostgreSQL aborts as a serialization
/// failure or deadlock, before the client is told to try again later.
const ATTEMPTS: u32 = 8;

/// Any constant shared by every nj server: the advisory lock that makes
/// servers starting together apply each migration once.
const MIGRATION_LOCK: i64 = 0x6e6a_7365_7276; // "njserv"

pub struct PgStore {
    /// Drives the connections; `None` only while dropping.
    rt: Option<tokio::runtime::Runtime>,
    pool: Pool,
    describe: String,
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // A runtime may not be dropped where blocking is not allowed (a
        // test's async context); shutting it down in the background may.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// The database's address without its password, for messages.
fn describe(config: &tokio_postgres::Config) -> String {
    let host = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string(),
        })
        .collect::<Vec<_>>()
        .join(",");
    let port = config
        .get_ports()
        .first()
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let db = config.get_dbname().unwrap_or("");
    format!("PostgreSQL {user}{host}{port}/{db}")
}

/// TLS when the URL asks for it (`sslmode=require`), with the certificate
/// always checked against the system's trusted roots: a certificate from a
/// private CA is trusted by adding the CA to the system store
/// (`update-ca-certificates`). Unlike libpq, `prefer` (its default) does
/// not try TLS: a TLS connection whose certificate nobody checks guards
/// against little, and Debian's own PostgreSQL offers a self-signed
/// certificate that would fail the check.
fn tls() -> Result<tokio_postgres_rustls::MakeRustlsConnect, ServerError> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(found.certs);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Database(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

impl PgStore {
    /// Connects to the database at `url` with at most `pool_size`
    /// connections, and brings its schema up to date.
    pub fn connect(url: &str, pool_size: usize) -> Result<PgStore, ServerError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| {
            ServerError::BadRequest(format!(
                "the database address is not a PostgreSQL URL ({e}); give one like postgres://USER:PASSWORD@HOST:5432/DB"
            ))
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("nj serve");
        }
        // Nothing may hold a request (and one of the server's few blocking
        // threads) forever: a lock held by a server that hung, a statement
        // that never ends, a transaction left open by a process that lost
        // its network. Each limit ends in an error the client sees as 503
        // and retries. Options in the URL come after these and win.
        let limits = "-c lock_timeout=10s -c statement_timeout=60s -c idle_in_transaction_session_timeout=60s";
        let options = match config.get_options() {
            Some(given) => format!("{limits} {given}"),
            None => limits.to_owned(),
        };
        config.options(&options);
        // A database that vanished without closing the connection (a
        // network gone) is noticed in about a minute, not two hours.
        config.keepalives_idle(Duration::from_secs(30));
        let describe = describe(&config);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("nj-postgres")
            .enable_all()
            .build()?;
        let manager_config = ManagerConfig {
            // Fast: a pooled connection is checked for being closed, not
            // with a query; one that broke since is found at its next use,
            // and that request is answered 503 for the client to retry.
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match config.get_ssl_mode() {
            SslMode::Require => Manager::from_config(config, tls()?, manager_config),
            _ => {
                config.ssl_mode(SslMode::Disable);
                Manager::from_config(config, NoTls, manager_config)
            }
        };
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| ServerError::Database(format!("connection pool: {e}")))?;
        let store = PgStore {
            rt: Some(rt),
            pool,
            describe,
        };
        store.migrate().map_err(|e| match e {
            ServerError::Unavailable(why) if why.contains("TLS") => ServerError::Unavailable(format!(
                "cannot reach {} ({why}); with sslmode=require nj checks the database's certificate against the system's trusted roots: add its CA there (update-ca-certificates), or make the certificate name the host in the URL",
                store.describe
            )),
            ServerError::Unavailable(why) => ServerError::Unavailable(format!(
                "cannot reach {} ({why}); check the address (--database or NJ_SERVER_DATABASE) and that PostgreSQL is running",
                store.describe
            )),
            // At start, a refusal is the address's: a wrong password, a
            // database not made yet, a role without rights.
            ServerError::Database(why) => ServerError::Database(format!(
                "cannot use {} ({why}); check the user, password and database name (--database or NJ_SERVER_DATABASE); `createdb` makes a database",
                store.describe
            )),
            e => e,
        })?;
        Ok(store)
    }

    fn rt(&self) -> &tokio::runtime::Runtime {
        self.rt.as_ref().expect("the runtime lives until drop")
    }

    /// Applies the migrations this database lacks, all in one transaction
    /// under an advisory lock, so servers starting together apply each
    /// once and a failed step leaves the schema as it was.
    fn migrate(&self) -> Result<(), ServerError> {
        let rt = self.rt();
        let migrations = crate::migrate::split_migrations(SCHEMA);
        let latest = migrations.len() as i32;
        let mut client = rt.block_on(self.pool.get()).map_err(pool_error)?;
        let tx = rt.block_on(client.transaction()).map_err(pg)?;
        rt.block_on(tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]))
            .map_err(pg)?;
        rt.block_on(
            tx.batch_execute("CREATE TABLE IF NOT EXISTS nj_schema (version integer NOT NULL)"),
        )
        .map_err(pg)?;
        let row = rt
            .block_on(tx.query_opt("SELECT version FROM nj_schema", &[]))
            .map_err(pg)?;
        let current: i32 = match row {
            Some(r) => r.get(0),
            None => {
                rt.block_on(tx.execute("INSERT INTO nj_schema(version) VALUES (0)", &[]))
                    .map_err(pg)?;
                0
            }
        };
        if current > latest {
            return Err(ServerError::BadRequest(format!(
                "the server's database was written by a newer nj (schema {current}); upgrade nj"
            )));
        }
        for (n, step) in migrations.iter().enumerate().skip(current as usize) {
            rt.block_on(tx.batch_execute(step)).map_err(pg)?;
            rt.block_on(tx.execute("UPDATE nj_schema SET version = $1", &[&(n as i32 + 1)]))
                .map_err(pg)?;
        }
        rt.block_on(tx.commit()).map_err(pg)?;
        Ok(())
    }

    fn attempt(
        &self,
        access: Access,
        f: &mut dyn FnMut(&mut dyn Tx) -> Result<(), ServerError>,
    ) -> Result<(), ServerError> {
        let rt = self.rt();
        let mut client = rt.block_on(self.pool.get()).map_err(pool_error)?;
        let tx = rt
            .block_on(
                client
                    .build_transaction()
                    .read_only(access == Access::Read)
                    .start(),
            )
            .map_err(pg)?;
        let mut ptx = PgTx { rt, tx };
        // On an error the transaction is dropped, which rolls it back.
        f(&mut ptx)?;
        rt.block_on(ptx.tx.commit()).map_err(pg)
    }
}

/// Runs `attempt` until it is not [`ServerError::Busy`], at most
/// [`ATTEMPTS`] times, calling `pause` between tries; then a busy database
/// is [`ServerError::Unavailable`] (503), never a 500.
fn retrying(
    mut attempt: impl FnMut() -> Result<(), ServerError>,
    mut pause: impl FnMut(u32),
) -> Result<(), ServerError> {
    let mut tries = 0;
    loop {
        match attempt() {
            Err(ServerError::Busy(why)) => {
                tries += 1;
                if tries >= ATTEMPTS {
                    return Err(ServerError::Unavailable(format!(
                        "{why}, {ATTEMPTS} times in a row"
                    )));
                }
                pause(tries);
            }
            other => return other,
        }
    }
}

impl Store for PgStore {
    fn transact(
        &self,
        access: Access,
        f: &mut dyn FnMut(&mut dyn Tx) -> Result<(), ServerError>,
    ) -> Result<(), ServerError> {
        retrying(
            || self.attempt(access, f),
            |attempt| {
                // Back off a little more each time, with jitter, so two
                // servers retrying together do not meet again.
                let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) % 8;
                std::thread::sleep(Duration::from_millis((2 << attempt) + jitter));
            },
        )
    }

    fn ping(&self) -> Result<(), ServerError> {
        let rt = self.rt();
        let client = rt.block_on(self.pool.get()).map_err(pool_error)?;
        rt.block_on(client.simple_query("SELECT 1")).map_err(pg)?;
        Ok(())
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}

/// What a PostgreSQL error means for the client: try again (the database
/// is restarting, unreachable, or aborted the transaction to keep it
/// serializable) or a fault of the server's.
fn pg(e: tokio_postgres::Error) -> ServerError {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        if *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED
        {
            return ServerError::Busy(db.message().to_owned());
        }
        // Worth sending again shortly: the connection failed (class 08),
        // the database is short of resources (53: connections, memory,
        // disk), an operator or a timeout stopped the statement (57:
        // shutdown, restart, statement_timeout), a lock was not granted in
        // time (55P03), or this is a standby since a failover (25006).
        let class = &code.code()[..2];
        if matches!(class, "08" | "53" | "57")
            || *code == SqlState::LOCK_NOT_AVAILABLE
            || *code == SqlState::READ_ONLY_SQL_TRANSACTION
        {
            return ServerError::Unavailable(db.message().to_owned());
        }
        return ServerError::Database(format!("{} ({})", db.message(), code.code()));
    }
    // tokio-postgres's own words are general ("error connecting to
    // server"); the cause says what happened ("Connection refused").
    let cause = std::error::Error::source(&e);
    let said = match cause {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    };
    // No answer from the database: the connection closed or never opened.
    if e.is_closed() || cause.is_some_and(|c| c.is::<std::io::Error>()) {
        return ServerError::Unavailable(said);
    }
    ServerError::Database(said)
}

fn pool_error(e: PoolError) -> ServerError {
    match e {
        PoolError::Backend(e) => pg(e),
        PoolError::Timeout(deadpool_postgres::TimeoutType::Wait) => ServerError::Unavailable(
            "every database connection stayed busy; the server is overloaded".into(),
        ),
        PoolError::Timeout(_) => {
            ServerError::Unavailable("the database did not answer a new connection in time".into())
        }
        e => ServerError::Unavailable(e.to_string()),
    }
}

struct PgTx<'a> {
    rt: &'a tokio::runtime::Runtime,
    tx: deadpool_postgres::Transaction<'a>,
}

type Param<'p> = &'p (dyn tokio_postgres::types::ToSql + Sync);

impl PgTx<'_> {
    fn query(
        &self,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Vec<tokio_postgres::Row>, ServerError> {
        let rt = self.rt;
        rt.block_on(async {
            let stmt = self.tx.prepare_cached(sql).await?;
            self.tx.query(&stmt, params).await
        })
        .map_err(pg)
    }

    fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, ServerError> {
        let rt = self.rt;
        rt.block_on(async {
            let stmt = self.tx.prepare_cached(sql).await?;
            self.tx.execute(&stmt, params).await
        })
        .map_err(pg)
    }
}

fn journal_row(r: &tokio_postgres::Row) -> JournalRow {
    JournalRow {
        id: r.get(0),
        created_at_ms: r.get(1),
        key_check: r.get(2),
        last_pos: r.get::<_, i64>(3) as u64,
    }
}

fn token_row(r: &tokio_postgres::Row) -> TokenRow {
    TokenRow {
        hash: r.get(0),
        journal: r.get(1),
        created_at_ms: r.get(2),
        last_used_at_ms: r.get(3),
        last_device: r.get(4),
        revoked_at_ms: r.get(5),
    }
}

impl Tx for PgTx<'_> {
    fn insert_journal(&mut self, j: &JournalRow) -> Result<(), ServerError> {
        self.execute(
            "INSERT INTO journals(id, created_at, key_check, last_pos) VALUES ($1, $2, $3, $4)",
            &[&j.id, &j.created_at_ms, &j.key_check, &int(j.last_pos)],
        )?;
        Ok(())
    }

    fn journal(&mut self, id: &str, lock: bool) -> Result<Option<JournalRow>, ServerError> {
        // NO KEY UPDATE: pushes to the journal wait for each other, but not
        // the foreign-key checks of its blob and token inserts (KEY SHARE),
        // so texts keep flowing while a push holds the lock.
        let sql = if lock {
            "SELECT id, created_at, key_check, last_pos FROM journals WHERE id = $1 FOR NO KEY UPDATE"
        } else {
            "SELECT id, created_at, key_check, last_pos FROM journals WHERE id = $1"
        };
        Ok(self.query(sql, &[&id])?.first().map(journal_row))
    }

    fn journals(&mut self) -> Result<Vec<JournalRow>, ServerError> {
        Ok(self
            .query(
                "SELECT id, created_at, key_check, last_pos FROM journals ORDER BY created_at, id COLLATE \"C\"",
                &[],
            )?
            .iter()
            .map(journal_row)
            .collect())
    }

    fn set_key_check(&mut self, journal: &str, check: &str) -> Result<(), ServerError> {
        self.execute(
            "UPDATE journals SET key_check = $2 WHERE id = $1",
            &[&journal, &check],
        )?;
        Ok(())
    }

    fn insert_token(&mut self, t: &TokenRow) -> Result<(), ServerError> {
        self.execute(
            "INSERT INTO tokens(hash, journal_id, created_at, last_used_at, last_device, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &t.hash,
                &t.journal,
                &t.created_at_ms,
                &t.last_used_at_ms,
                &t.last_device,
                &t.revoked_at_ms,
            ],
        )?;
        Ok(())
    }

    fn token(&mut self, hash: &str) -> Result<Option<TokenRow>, ServerError> {
        Ok(self
            .query(
                "SELECT hash, journal_id, created_at, last_used_at, last_device, revoked_at
                   FROM tokens WHERE hash = $1",
                &[&hash],
            )?
            .first()
            .map(token_row))
    }

    fn touch_token(
        &mut self,
        hash: &str,
        now_ms: i64,
        device: Option<&str>,
    ) -> Result<(), ServerError> {
        self.execute(
            "UPDATE tokens SET last_used_at = $1, last_device = coalesce($2, last_device)
              WHERE hash = $3",
            &[&now_ms, &device, &hash],
        )?;
        Ok(())
    }

    fn revoke_token(&mut self, hash: &str, now_ms: i64) -> Result<bool, ServerError> {
        Ok(self.execute(
            "UPDATE tokens SET revoked_at = $1 WHERE hash = $2 AND revoked_at IS NULL",
            &[&now_ms, &hash],
        )? == 1)
    }

    fn tokens(&mut self) -> Result<Vec<TokenRow>, ServerError> {
        Ok(self
            .query(
                "SELECT hash, journal_id, created_at, last_used_at, last_device, revoked_at
                   FROM tokens ORDER BY created_at DESC, hash COLLATE \"C\"",
                &[],
            )?
            .iter()
            .map(token_row)
            .collect())
    }

    fn token_hashes_from(
        &mut self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, ServerError> {
        Ok(self
            .query(
                "SELECT hash FROM tokens WHERE starts_with(hash, $1) LIMIT $2",
                &[&prefix, &(limit as i64)],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn last_pos(&mut self, journal: &str) -> Result<u64, ServerError> {
        let rows = self.query("SELECT last_pos FROM journals WHERE id = $1", &[&journal])?;
        Ok(rows.first().map_or(0, |r| r.get::<_, i64>(0) as u64))
    }

    fn heads(&mut self, journal: &str) -> Result<BTreeMap<String, u64>, ServerError> {
        Ok(self
            .query(
                "SELECT device, seq FROM device_heads WHERE journal_id = $1",
                &[&journal],
            )?
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1) as u64))
            .collect())
    }

    fn payloads(
        &mut self,
        journal: &str,
        keys: &[(&str, u64)],
    ) -> Result<Vec<Option<Vec<u8>>>, ServerError> {
        let devices: Vec<&str> = keys.iter().map(|k| k.0).collect();
        let seqs: Vec<i64> = keys.iter().map(|k| int(k.1)).collect();
        let rows = self.query(
            "SELECT k.i, o.payload
               FROM unnest($2::text[], $3::int8[]) WITH ORDINALITY AS k(device, seq, i)
               JOIN ops o ON o.journal_id = $1 AND o.device = k.device AND o.seq = k.seq",
            &[&journal, &devices, &seqs],
        )?;
        let mut out = vec![None; keys.len()];
        for r in rows {
            let i = r.get::<_, i64>(0) as usize - 1;
            out[i] = Some(r.get(1));
        }
        Ok(out)
    }

    fn insert_ops(&mut self, journal: &str, ops: &[(u64, &StoredOp)]) -> Result<(), ServerError> {
        if ops.is_empty() {
            return Ok(());
        }
        // One statement for the batch: a round trip per operation would
        // cost more than storing them.
        let pos: Vec<i64> = ops.iter().map(|(p, _)| int(*p)).collect();
        let devices: Vec<&str> = ops.iter().map(|(_, o)| o.device.as_str()).collect();
        let seqs: Vec<i64> = ops.iter().map(|(_, o)| int(o.seq)).collect();
        let clocks: Vec<i64> = ops.iter().map(|(_, o)| o.hlc_ms).collect();
        let payloads: Vec<&[u8]> = ops.iter().map(|(_, o)| o.payload.as_slice()).collect();
        self.execute(
            "INSERT INTO ops(journal_id, pos, device, seq, hlc_ms, payload)
             SELECT $1, * FROM unnest($2::int8[], $3::text[], $4::int8[], $5::int8[], $6::bytea[])",
            &[&journal, &pos, &devices, &seqs, &clocks, &payloads],
        )?;
        let top = pos.iter().max().copied().unwrap_or(0);
        self.execute(
            "UPDATE journals SET last_pos = greatest(last_pos, $2) WHERE id = $1",
            &[&journal, &top],
        )?;
        Ok(())
    }

    fn raise_heads(&mut self, journal: &str, heads: &[(&str, u64)]) -> Result<(), ServerError> {
        if heads.is_empty() {
            return Ok(());
        }
        let devices: Vec<&str> = heads.iter().map(|h| h.0).collect();
        let seqs: Vec<i64> = heads.iter().map(|h| int(h.1)).collect();
        self.execute(
            "INSERT INTO device_heads(journal_id, device, seq)
             SELECT $1, * FROM unnest($2::text[], $3::int8[])
             ON CONFLICT (journal_id, device)
             DO UPDATE SET seq = greatest(device_heads.seq, excluded.seq)",
            &[&journal, &devices, &seqs],
        )?;
        Ok(())
    }

    fn delete_op(&mut self, journal: &str, device: &str, seq: u64) -> Result<bool, ServerError> {
        let n = self.execute(
            "DELETE FROM ops WHERE journal_id = $1 AND device = $2 AND seq = $3",
            &[&journal, &device, &int(seq)],
        )?;
        if n > 0 {
            self.execute(
                "DELETE FROM device_heads WHERE journal_id = $1 AND device = $2",
                &[&journal, &device],
            )?;
            self.execute(
                "INSERT INTO device_heads(journal_id, device, seq)
                 SELECT journal_id, device, max(seq) FROM ops
                  WHERE journal_id = $1 AND device = $2 GROUP BY journal_id, device",
                &[&journal, &device],
            )?;
        }
        Ok(n > 0)
    }

    fn op_rows(&mut self, journal: &str) -> Result<Vec<OpRow>, ServerError> {
        Ok(self
            .query(
                "SELECT pos, device, seq, hlc_ms, octet_length(payload), substring(payload from 1 for 1)
                   FROM ops WHERE journal_id = $1 ORDER BY pos",
                &[&journal],
            )?
            .iter()
            .map(|r| OpRow {
                pos: r.get::<_, i64>(0) as u64,
                device: r.get(1),
                seq: r.get::<_, i64>(2) as u64,
                hlc_ms: r.get(3),
                bytes: r.get::<_, i32>(4) as u64,
                first: r.get::<_, Vec<u8>>(5).first().copied(),
            })
            .collect())
    }

    fn op_sizes(
        &mut self,
        journal: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, u64)>, ServerError> {
        // octet_length of a value stored out of line reads its pointer,
        // not the value.
        Ok(self
            .query(
                "SELECT pos, octet_length(payload) FROM ops
                  WHERE journal_id = $1 AND pos > $2 ORDER BY pos LIMIT $3",
                &[&journal, &int(after), &(limit as i64)],
            )?
            .iter()
            .map(|r| (r.get::<_, i64>(0) as u64, r.get::<_, i32>(1) as u64))
            .collect())
    }

    fn ops(
        &mut self,
        journal: &str,
        after: u64,
        upto: u64,
    ) -> Result<Vec<(u64, StoredOp)>, ServerError> {
        Ok(self
            .query(
                "SELECT pos, device, seq, hlc_ms, payload FROM ops
                  WHERE journal_id = $1 AND pos > $2 AND pos <= $3 ORDER BY pos",
                &[&journal, &int(after), &int(upto)],
            )?
            .iter()
            .map(|r| {
                (
                    r.get::<_, i64>(0) as u64,
                    StoredOp {
                        device: r.get(1),
                        seq: r.get::<_, i64>(2) as u64,
                        hlc_ms: r.get(3),
                        payload: r.get(4),
                    },
                )
            })
            .collect())
    }

    fn insert_blob(&mut self, journal: &str, id: &str, data: &[u8]) -> Result<bool, ServerError> {
        Ok(self.execute(
            "INSERT INTO blobs(journal_id, id, data) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&journal, &id, &data],
        )? == 1)
    }

    fn blob_sizes(&mut self, journal: &str, ids: &[&str]) -> Result<Vec<Option<u64>>, ServerError> {
        let rows = self.query(
            "SELECT k.i, octet_length(b.data)
               FROM unnest($2::text[]) WITH ORDINALITY AS k(id, i)
               JOIN blobs b ON b.journal_id = $1 AND b.id = k.id",
            &[&journal, &ids],
        )?;
        let mut out = vec![None; ids.len()];
        for r in rows {
            let i = r.get::<_, i64>(0) as usize - 1;
            out[i] = Some(r.get::<_, i32>(1) as u64);
        }
        Ok(out)
    }

    fn blob(&mut self, journal: &str, id: &str) -> Result<Option<Vec<u8>>, ServerError> {
        Ok(self
            .query(
                "SELECT data FROM blobs WHERE journal_id = $1 AND id = $2",
                &[&journal, &id],
            )?
            .first()
            .map(|r| r.get(0)))
    }

    fn blob_ids(&mut self, journal: &str) -> Result<Vec<String>, ServerError> {
        Ok(self
            .query(
                "SELECT id FROM blobs WHERE journal_id = $1 ORDER BY id COLLATE \"C\"",
                &[&journal],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn stats(&mut self) -> Result<Vec<JournalStats>, ServerError> {
        Ok(self
            .query(
                "SELECT j.id, j.created_at,
                        (SELECT count(*) FROM device_heads h WHERE h.journal_id = j.id),
                        (SELECT count(*) FROM ops o WHERE o.journal_id = j.id),
                        (SELECT coalesce(sum(octet_length(payload)), 0)::int8 FROM ops o WHERE o.journal_id = j.id),
                        (SELECT count(*) FROM blobs b WHERE b.journal_id = j.id),
                        (SELECT coalesce(sum(octet_length(data)), 0)::int8 FROM blobs b WHERE b.journal_id = j.id),
                        (SELECT max(last_used_at) FROM tokens t WHERE t.journal_id = j.id)
                   FROM journals j ORDER BY j.created_at, j.id",
                &[],
            )?
            .iter()
            .map(|r| JournalStats {
                journal: r.get(0),
                created_at_ms: r.get(1),
                devices: r.get::<_, i64>(2) as u64,
                ops: r.get::<_, i64>(3) as u64,
                op_bytes: r.get::<_, i64>(4) as u64,
                blobs: r.get::<_, i64>(5) as u64,
                blob_bytes: r.get::<_, i64>(6) as u64,
                last_used_at_ms: r.get(7),
            })
            .collect())
    }
}

/// A scratch database for tests, dropped when done: tests of the
/// PostgreSQL store run against `NJ_TEST_DATABASE_URL`, each in a
/// database of its own.
#[doc(hidden)]
pub mod testing {
    use super::*;

    pub struct ScratchDb {
        /// The scratch database's URL.
        pub url: String,
        admin: String,
        name: String,
    }

    /// The server tests run against, if any: `NJ_TEST_DATABASE_URL`. Without
    /// it the caller's test is skipped (with a note), except where `CI` is
    /// set: there it fails.
    pub fn test_database_url(test: &str) -> Option<String> {
        match std::env::var("NJ_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => Some(url),
            _ if std::env::var_os("CI").is_some() => {
                panic!(
                    "{test}: NJ_TEST_DATABASE_URL is not set, and CI is set (.ci/run sets it up)"
                )
            }
            _ => {
                eprintln!("note: {test} skipped on PostgreSQL: NJ_TEST_DATABASE_URL is not set");
                None
            }
        }
    }

    fn admin_sql(admin: &str, sql: &str) -> Result<(), String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(admin, NoTls).await?;
            let task = tokio::spawn(conn);
            client.batch_execute(sql).await?;
            drop(client);
            let _ = task.await;
            Ok::<_, tokio_postgres::Error>(())
        })
        .map_err(|e| e.to_string())
    }

    impl ScratchDb {
        /// A new empty database on the server at `NJ_TEST_DATABASE_URL`
        /// (whose user may create databases), or `None` when the test is
        /// skipped.
        pub fn new(test: &str) -> Option<ScratchDb> {
            let admin = test_database_url(test)?;
            let name = format!("nj_test_{}", uuid::Uuid::new_v4().simple());
            admin_sql(&admin, &format!("CREATE DATABASE {name}")).unwrap_or_else(|e| {
                panic!("cannot create a test database at NJ_TEST_DATABASE_URL: {e}")
            });
            let url = with_dbname(&admin, &name);
            Some(ScratchDb { url, admin, name })
        }
    }

    /// The URL with its database name replaced.
    fn with_dbname(url: &str, name: &str) -> String {
        let mut parsed = url::Url::parse(url).expect("NJ_TEST_DATABASE_URL is a URL");
        parsed.set_path(&format!("/{name}"));
        parsed.to_string()
    }

    impl Drop for ScratchDb {
        fn drop(&mut self) {
            let _ = admin_sql(
                &self.admin,
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_serialization_failure_is_tried_again_and_never_a_500() {
        // Busy twice, then through: the caller sees only the success.
        let mut left = 2;
        let mut pauses = Vec::new();
        let result = retrying(
            || {
                if left > 0 {
                    left -= 1;
                    Err(ServerError::Busy("could not serialize access".into()))
                } else {
                    Ok(())
                }
            },
            |n| pauses.push(n),
        );
        assert!(result.is_ok());
        assert_eq!(pauses, [1, 2]);

        // Busy every time: a 503 after ATTEMPTS tries.
        let mut tries = 0;
        let result = retrying(
            || {
                tries += 1;
                Err(ServerError::Busy("deadlock detected".into()))
            },
            |_| {},
        );
        assert_eq!(tries, ATTEMPTS);
        assert!(
            matches!(result, Err(ServerError::Unavailable(_))),
            "{result:?}"
        );

        // Any other error is the caller's at once.
        let mut tries = 0;
        let result = retrying(
            || {
                tries += 1;
                Err(ServerError::KeyMismatch)
            },
            |_| {},
        );
        assert_eq!(tries, 1);
        assert!(matches!(result, Err(ServerError::KeyMismatch)));
    }

    #[test]
    fn errors_map_to_what_the_client_should_do() {
        let http = |e: ServerError| crate::server::http::ApiError::from(e).status();
        assert_eq!(http(ServerError::Busy("x".into())), 503);
        assert_eq!(http(ServerError::Unavailable("x".into())), 503);
        assert_eq!(http(ServerError::Database("x".into())), 500);
    }
}
