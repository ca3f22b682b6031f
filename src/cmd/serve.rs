//! `nj serve` runs the sync server; `nj server ...` manages its journals
//! and tokens. Both keep the server's data in DIR/server.db (SQLite) or
//! in a PostgreSQL database (`--database URL`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use newsjournal::journal::short_id;
use newsjournal::limits::size_text;
use newsjournal::server::{self, Config, Core};
use newsjournal::time::Timestamp;

use super::output;
use super::Ctx;

/// Where a server keeps its data: a folder (one SQLite file, the default),
/// or a PostgreSQL database shared by any number of servers.
#[derive(Debug, Args)]
struct Storage {
    /// The server's data folder (DIR/server.db, SQLite)
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,

    /// A PostgreSQL database instead: postgres://USER:PASSWORD@HOST:5432/DB,
    /// with ?sslmode=require for TLS [env: NJ_SERVER_DATABASE, which keeps
    /// the password out of the process list]
    #[arg(long, value_name = "URL", conflicts_with = "data")]
    database: Option<String>,

    /// Connections to PostgreSQL this process holds at most; a request
    /// that finds them all busy waits for one (10 s at most, then 503)
    #[arg(long, value_name = "N", default_value_t = server::postgres::POOL_SIZE as u32,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    db_connections: u32,
}

/// The environment variable that gives the PostgreSQL database.
const DATABASE_ENV: &str = "NJ_SERVER_DATABASE";

impl Storage {
    /// The server's data. A SQLite folder must be there already unless
    /// `create`: a mistyped `--data` says so instead of showing an empty
    /// server it has just made. (A PostgreSQL database is always there:
    /// its schema is made on first use.)
    fn open(&self, create: bool) -> Result<Core> {
        let url = match (&self.data, &self.database) {
            (Some(dir), _) => return open_dir(dir, create),
            (None, Some(url)) => url.clone(),
            (None, None) => match std::env::var(DATABASE_ENV) {
                Ok(url) if !url.trim().is_empty() => url,
                _ => bail!(
                    "where is the server's data? give --data DIR (a SQLite file in DIR) or --database postgres://… (or set {DATABASE_ENV})"
                ),
            },
        };
        Ok(Core::connect_with(
            url.trim(),
            self.db_connections as usize,
        )?)
    }
}

fn open_dir(dir: &Path, create: bool) -> Result<Core> {
    let path = dir.join("server.db");
    if !create && !path.is_file() {
        bail!(
            "no sync server data at {}; `nj server new-journal --data DIR` (or `nj serve --data DIR`) makes it, or check --data",
            path.display()
        );
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the server's data folder {}", dir.display()))?;
    Core::open(&path)
        .with_context(|| format!("cannot open the server's data at {}", path.display()))
}

/// A time for a table, or "never".
fn when(ms: Option<i64>) -> String {
    ms.map(|m| Timestamp(m).local())
        .unwrap_or_else(|| "never".to_owned())
}

/// Seconds, possibly fractional, as a duration.
fn seconds(s: &str) -> std::result::Result<Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 && n <= 86_400.0 => Ok(Duration::from_secs_f64(n)),
        _ => Err(format!(
            "{s:?} is not a number of seconds; give e.g. 10 or 0.5"
        )),
    }
}

/// Run the sync server (stop it with Ctrl-C or SIGTERM)
#[derive(Debug, Args)]
pub struct Serve {
    /// Where the data is: --data DIR (created if missing) or --database URL
    #[command(flatten)]
    storage: Storage,

    /// The address to listen on; port 0 picks a free port
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8787")]
    listen: String,

    /// Seconds a client has to send a request's head, counted from
    /// connecting or from the previous answer (so idle connections close
    /// after this long too); also how long a new connection has to send a
    /// valid token
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    header_timeout: Duration,

    /// Seconds a request may take to send its body and be answered
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = seconds)]
    request_timeout: Duration,

    /// Connections of clients with a valid token held open at once; more
    /// wait their turn
    #[arg(long, value_name = "N", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    max_connections: u32,

    /// Connections that have not yet sent a valid token, held open at once;
    /// a new one beyond this closes the oldest
    #[arg(long, value_name = "N", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    max_pending: u32,

    /// Of those, from one address (an IPv6 /64); a new one beyond this
    /// closes that address's oldest
    #[arg(long, value_name = "N", default_value_t = 32,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    max_pending_per_address: u32,

    /// The largest request body accepted, in bytes; an answer of texts is
    /// cut at the same size (the client asks again for the rest)
    #[arg(long, value_name = "BYTES", default_value_t = server::MAX_BODY_BYTES as u64,
          value_parser = clap::value_parser!(u64).range(65_536..=1 << 30))]
    max_body: u64,
}

impl Serve {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let core = Arc::new(self.storage.open(true)?);
        let data = core.describe();
        let config = Config {
            listen: self.listen,
            header_timeout: self.header_timeout,
            request_timeout: self.request_timeout,
            max_connections: self.max_connections as usize,
            max_pending: self.max_pending as usize,
            max_pending_per_address: self.max_pending_per_address as usize,
            max_body: self.max_body as usize,
        };
        let json = ctx.json;
        let mut announced = Ok(());
        server::serve(core, config, |addr| {
            // One line, first, so a script (or a test) can read the port.
            let url = format!("http://{addr}");
            eprintln!("nj serve: data in {data}");
            announced = if json {
                output::print(&format!("{}\n", serde_json::json!({ "listening": url })))
            } else {
                output::print(&format!("listening on {url}\n"))
            };
        })?;
        announced?;
        Ok(ExitCode::SUCCESS)
    }
}

/// Manage the sync server's journals and tokens
#[derive(Debug, Args)]
pub struct ServerCmd {
    #[command(subcommand)]
    action: ServerAction,
}

#[derive(Debug, Subcommand)]
enum ServerAction {
    /// Make a new journal on the server and print its first token
    NewJournal {
        #[command(flatten)]
        storage: Storage,
    },
    /// Print another token for a journal (one per device)
    NewToken {
        #[command(flatten)]
        storage: Storage,
        /// The journal's id, as `nj server new-journal` printed it
        #[arg(long, value_name = "JID")]
        journal: String,
    },
    /// List the tokens: id, journal, when made, when last used and by which
    /// device, and whether revoked
    Tokens {
        #[command(flatten)]
        storage: Storage,
    },
    /// List a journal's operations as the server holds them: position,
    /// device, number, size, and why no device can open it, when the
    /// server can tell
    Ops {
        #[command(flatten)]
        storage: Storage,
        /// The journal's id, as `nj server new-journal` printed it
        #[arg(long, value_name = "JID")]
        journal: String,
        /// Only those no device can open
        #[arg(long)]
        bad: bool,
    },
    /// Remove one operation that no device can open (`nj sync` names them
    /// as DEVICE#SEQ; `nj server ops --bad` lists them)
    RemoveOp {
        #[command(flatten)]
        storage: Storage,
        /// The journal's id, as `nj server new-journal` printed it
        #[arg(long, value_name = "JID")]
        journal: String,
        /// The operation, as DEVICE#SEQ
        #[arg(value_name = "DEVICE#SEQ")]
        op: String,
    },
    /// Per journal: devices, operations, stored bytes, texts and when a
    /// token of it was last used (the server holds no plaintext to show)
    Stats {
        #[command(flatten)]
        storage: Storage,
    },
    /// Copy a SQLite server (--data DIR) into an empty PostgreSQL database,
    /// then check the copy's counts and checksums; stop `nj serve` first
    Migrate {
        /// The server's data folder, as given to `nj serve --data`
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// The PostgreSQL database to copy into: postgres://USER:PASSWORD@HOST:5432/DB
        /// (it must hold no journal yet)
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// Revoke a token: the server refuses it from then on
    Revoke {
        #[command(flatten)]
        storage: Storage,
        /// The token's id from `nj server tokens` (or the token itself)
        #[arg(value_name = "ID|TOKEN")]
        token: String,
    },
}

impl ServerCmd {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let now = ctx.clock.timestamp().0;
        match self.action {
            ServerAction::NewJournal { storage } => {
                let (journal, token) = storage.open(true)?.new_journal(now)?;
                if ctx.json {
                    output::json(&serde_json::json!({ "journal": journal, "token": token }))?;
                } else {
                    output::print(&format!(
                        "journal {journal}\ntoken   {token}\n\
                         On the first device: nj remote set URL --token TOKEN (it makes the journal key).\n\
                         On each other device, with its own token (nj server new-token --journal {journal}) and that key (nj key show): nj remote set URL --token TOKEN --key KEY\n"
                    ))?;
                }
            }
            ServerAction::NewToken { storage, journal } => {
                let token = storage.open(false)?.new_token(journal.trim(), now)?;
                if ctx.json {
                    output::json(
                        &serde_json::json!({ "journal": journal.trim(), "token": token }),
                    )?;
                } else {
                    output::print(&format!("token   {token}\n"))?;
                }
            }
            ServerAction::Tokens { storage } => {
                let tokens = storage.open(false)?.tokens()?;
                if ctx.json {
                    output::json(&tokens)?;
                } else if tokens.is_empty() {
                    eprintln!("no tokens yet; `nj server new-journal --data DIR` makes a journal and its first token");
                } else {
                    let mut t = output::table(&[
                        "ID",
                        "JOURNAL",
                        "CREATED",
                        "LAST USED",
                        "DEVICE",
                        "STATE",
                    ]);
                    for tok in &tokens {
                        t.add_row(vec![
                            tok.id.clone(),
                            short_id(&tok.journal).to_owned(),
                            Timestamp(tok.created_at_ms).local(),
                            when(tok.last_used_at_ms),
                            tok.last_device
                                .as_deref()
                                .map(short_id)
                                .unwrap_or("-")
                                .to_owned(),
                            match tok.revoked_at_ms {
                                Some(r) => format!("revoked {}", Timestamp(r).local()),
                                None => "active".to_owned(),
                            },
                        ]);
                    }
                    output::print_table(&t)?;
                }
            }
            ServerAction::Ops {
                storage,
                journal,
                bad,
            } => {
                let ops = storage.open(false)?.ops(journal.trim(), bad)?;
                if ctx.json {
                    output::json(&ops)?;
                } else if ops.is_empty() {
                    eprintln!(
                        "{}",
                        if bad {
                            "no operation here is one the server can tell is bad; `nj sync` on a device names those it cannot open"
                        } else {
                            "the journal holds no operations yet"
                        }
                    );
                } else {
                    let mut t = output::table(&["POS", "DEVICE#SEQ", "CLOCK", "SIZE", "PROBLEM"]);
                    for op in &ops {
                        t.add_row(vec![
                            op.pos.to_string(),
                            format!("{}#{}", op.device, op.seq),
                            Timestamp(op.hlc_ms).local(),
                            op.bytes.to_string(),
                            op.problem.clone().unwrap_or_else(|| "-".into()),
                        ]);
                    }
                    output::print_table(&t)?;
                }
            }
            ServerAction::RemoveOp {
                storage,
                journal,
                op,
            } => {
                let Some((device, seq)) = op
                    .trim()
                    .rsplit_once('#')
                    .and_then(|(d, s)| Some((d, s.parse::<u64>().ok()?)))
                else {
                    bail!("{op:?} is not DEVICE#SEQ; `nj server ops --journal JID --bad` lists them so");
                };
                if !storage
                    .open(false)?
                    .remove_op(journal.trim(), device, seq)?
                {
                    bail!("the journal holds no operation {device}#{seq}; nothing changed (`nj server ops --journal JID` lists them)");
                }
                if ctx.json {
                    output::json(&serde_json::json!({ "removed": format!("{device}#{seq}") }))?;
                } else {
                    output::print(&format!(
                        "removed {device}#{seq}; devices no longer pull it\n"
                    ))?;
                }
            }
            ServerAction::Stats { storage } => {
                let stats = storage.open(false)?.stats()?;
                if ctx.json {
                    output::json(&stats)?;
                } else if stats.is_empty() {
                    eprintln!("no journals yet; `nj server new-journal` makes one");
                } else {
                    let mut t = output::table(&[
                        "JOURNAL",
                        "DEVICES",
                        "OPERATIONS",
                        "TEXTS",
                        "STORED",
                        "LAST ACTIVITY",
                    ]);
                    for j in &stats {
                        t.add_row(vec![
                            j.journal.clone(),
                            j.devices.to_string(),
                            j.ops.to_string(),
                            j.blobs.to_string(),
                            // Sizes on a 64-bit server fit a usize.
                            size_text((j.op_bytes + j.blob_bytes) as usize),
                            when(j.last_used_at_ms),
                        ]);
                    }
                    output::print_table(&t)?;
                }
            }
            ServerAction::Migrate { data, to } => {
                let from = open_dir(&data, false)?;
                let target = Core::connect(to.trim())?;
                // One checked transaction: a copy that does not match is
                // rolled back, and the target stays empty.
                let after = server::copy::copy(&from, &target)?;
                if ctx.json {
                    output::json(&after)?;
                } else {
                    let (ops, blobs, tokens) = after.iter().fold((0, 0, 0), |a, f| {
                        (a.0 + f.ops, a.1 + f.blobs, a.2 + f.tokens)
                    });
                    output::print(&format!(
                        "copied {} ({}, {}, {}) into {}\n\
                         checked: every journal's counts and SHA-256 match the SQLite data\n\
                         serve it with: nj serve --database URL (or set {DATABASE_ENV})\n",
                        output::count(after.len(), "journal"),
                        output::count(tokens as usize, "token"),
                        output::count(ops as usize, "operation"),
                        output::count(blobs as usize, "text"),
                        target.describe(),
                    ))?;
                }
            }
            ServerAction::Revoke { storage, token } => {
                let token = token.trim();
                let core = storage.open(false)?;
                // A token string, or the id `nj server tokens` shows: the
                // string of a lost laptop's token is usually lost with it.
                let revoked = if token.starts_with("njt_") {
                    core.revoke(token, now)?
                } else {
                    core.revoke_by_id(token, now)?
                };
                if !revoked {
                    bail!(
                        "no such token on this server, or it was already revoked; nothing changed"
                    );
                }
                if ctx.json {
                    output::json(&serde_json::json!({ "revoked": true }))?;
                } else {
                    output::print("revoked the token; the server refuses it from now on\n")?;
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
