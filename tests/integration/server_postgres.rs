//! The sync server on PostgreSQL, beyond the tests every backend runs
//! (`on_every_backend!` in server_http and sync_e2e): several server
//! processes on one database, its administration, health, and the
//! database failing under the server. Each test has a scratch database at
//! `NJ_TEST_DATABASE_URL`; without it they are skipped with a note, and
//! with `CI` set they fail.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use newsjournal::server::postgres::testing::ScratchDb;
use newsjournal::sync::crypto::JournalKey;
use serde_json::Value;

use crate::util::{at, hub_agent, on_postgres, Device, Env, NjServe};

/// `GET url`, with `token` as the bearer token if given: (status, body).
fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let mut req = hub_agent().get(url);
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let mut resp = req.call().expect("GET");
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .unwrap();
    (status, body)
}

/// A device of `journal` on `server`, joined with `key`.
fn device(env: &Env, server: &NjServe, journal: &str, key: &str) -> Device {
    let d = Device {
        env: Env::new(),
        token: server.new_token(env, journal),
    };
    d.remote_set(&server.url, Some(key), &at("10:00"));
    d
}

/// `nj --json server ops` on the server's database: (position, device,
/// sequence number) of every operation, in position order.
fn positions(env: &Env, server: &NjServe, journal: &str) -> Vec<(u64, String, u64)> {
    let [flag, place] = server.storage();
    let ops = env
        .nj(&["--json", "server", "ops", flag, place, "--journal", journal])
        .json();
    ops.as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["pos"].as_u64().unwrap(),
                o["device"].as_str().unwrap().to_owned(),
                o["seq"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Positions run 1, 2, 3, ... and each device's numbers 1, 2, 3, ... in
/// position order, each once.
fn assert_gapless(ops: &[(u64, String, u64)]) {
    for (i, (pos, _, _)) in ops.iter().enumerate() {
        assert_eq!(*pos, i as u64 + 1, "positions have a gap or a repeat");
    }
    let mut next: std::collections::HashMap<&str, u64> = Default::default();
    for (pos, device, seq) in ops {
        let want = next.entry(device).or_insert(1);
        assert_eq!(*seq, *want, "{device}'s operation at {pos} is out of order");
        *want += 1;
    }
}

fn titles(d: &Device) -> Vec<String> {
    let list = d.nj(&["--json", "list", "--limit", "1000"]).json();
    let mut t: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_owned())
        .collect();
    t.sort();
    t
}

/// Eight devices of one journal push and pull at once, four through each
/// of two `nj serve` processes on the same database: the positions stay
/// gapless and in one order, and every device ends with every article.
/// The second server holds one database connection, so its requests
/// queue for it: they wait, and none fails.
#[test]
fn eight_devices_through_two_servers_on_one_database_converge() {
    on_postgres(
        "server_postgres::eight_devices_through_two_servers_on_one_database_converge",
        || {
            let env = Env::new();
            let one = NjServe::start(&env, &[]);
            let two = NjServe::start(&env, &["--db-connections", "1"]);
            let (journal, _) = one.new_journal(&env);
            let key = JournalKey::generate().to_recovery();
            let devices: Vec<Device> = (0..8)
                .map(|i| {
                    let server = if i % 2 == 0 { &one } else { &two };
                    device(&env, server, &journal, &key)
                })
                .collect();
            const ROUNDS: usize = 3;
            std::thread::scope(|s| {
                for (i, d) in devices.iter().enumerate() {
                    s.spawn(move || {
                        for round in 0..ROUNDS {
                            d.at(&at("10:05"));
                            d.clip(
                                &format!("Device {i} round {round}\n\nA report filed by device {i} in round {round} of the test, long enough to be an article body."),
                                &["-n", &format!("note {i}.{round}")],
                            );
                            let out = d.nj(&["sync"]);
                            assert_eq!(out.code, Some(0), "device {i} round {round}: {}", out.stderr);
                        }
                    });
                }
            });
            // Everyone has pushed; one more pull each brings the rest.
            for d in &devices {
                d.nj(&["sync"]).success();
            }
            let want = titles(&devices[0]);
            assert_eq!(want.len(), 8 * ROUNDS, "{want:?}");
            for (i, d) in devices.iter().enumerate() {
                assert_eq!(titles(d), want, "device {i} differs");
            }
            let ops = positions(&env, &one, &journal);
            assert_gapless(&ops);
            // Both servers answer a pull with the same journal.
            let pulled = |server: &NjServe| {
                let url = server.url("/v1/ops?after=0&limit=10000");
                let (status, body) = get(&url, Some(&devices[0].token));
                assert_eq!(status, 200, "{body}");
                serde_json::from_str::<Value>(&body).unwrap()
            };
            let through_one = pulled(&one);
            assert_eq!(through_one["next"], ops.len() as u64);
            assert_eq!(through_one["ops"].as_array().unwrap().len(), ops.len());
            assert_eq!(pulled(&two), through_one);
        },
    );
}

/// `nj server` commands take `--database`; `stats` counts what is stored;
/// `/v1/health` and `/metrics` answer without a token.
#[test]
fn administration_health_and_metrics_on_postgres() {
    on_postgres(
        "server_postgres::administration_health_and_metrics_on_postgres",
        || {
            let env = Env::new();
            let server = NjServe::start(&env, &[]);
            let [flag, url] = server.storage();
            let (journal, first) = server.new_journal(&env);
            let key = JournalKey::generate().to_recovery();
            let a = device(&env, &server, &journal, &key);
            a.at(&at("10:01"));
            a.clip(
                "Stats article\n\nA body for the stats test, of a few words.",
                &[],
            );
            a.nj(&["sync"]).success();

            let stats = env.nj(&["--json", "server", "stats", flag, url]).json();
            let row = &stats.as_array().unwrap()[0];
            assert_eq!(row["journal"], Value::from(journal.clone()));
            assert_eq!(row["devices"], 1);
            assert!(row["ops"].as_u64().unwrap() >= 2, "{row}");
            assert_eq!(row["blobs"], 1);
            assert!(row["last_used_at_ms"].is_i64(), "{row}");
            let table = env.nj(&["server", "stats", flag, url]).success().stdout;
            assert!(table.contains(&journal), "{table}");

            let tokens = env.nj(&["--json", "server", "tokens", flag, url]).json();
            assert_eq!(tokens.as_array().unwrap().len(), 2, "{tokens}");
            env.nj(&["server", "revoke", flag, url, &first]).success();
            let (status, _) = get(&server.url("/v1/status"), Some(&first));
            assert_eq!(status, 401, "a revoked token still opens the journal");

            assert_eq!(
                get(&server.url("/v1/health"), None),
                (200, r#"{"ok":true}"#.into())
            );
            let (status, metrics) = get(&server.url("/metrics"), None);
            assert_eq!(status, 200);
            assert!(
                metrics.contains(
                    r#"nj_requests_total{endpoint="/v1/ops",method="POST",status="200"} "#
                ),
                "{metrics}"
            );
            assert!(
                metrics.contains(
                    r#"nj_request_duration_seconds_count{endpoint="/v1/status",method="GET"} "#
                ),
                "{metrics}"
            );
            assert!(!metrics.contains(&journal), "the metrics name a journal");
        },
    );
}

/// A database the server cannot reach at start is a clear message and
/// exit 1; one that goes away while it runs makes `/v1/health` say 503.
#[test]
fn an_unreachable_database_is_a_clear_error_and_health_says_503() {
    let Some(db) = ScratchDb::new(
        "server_postgres::an_unreachable_database_is_a_clear_error_and_health_says_503",
    ) else {
        return;
    };
    let env = Env::new();
    let dead = crate::util::dead_port();
    let out = env.nj(&[
        "serve",
        "--database",
        &format!("postgres://nobody:secret@127.0.0.1:{dead}/nj"),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.starts_with(&format!(
            "nj: the server's database is unavailable: cannot reach PostgreSQL nobody@127.0.0.1:{dead}/nj (error connecting to server: "
        )),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("secret"), "the password is shown");

    // A server that answers, and a database it does not have.
    let mut missing = url::Url::parse(&db.url).unwrap();
    missing.set_path("/nj_no_such_database");
    let out = env.nj(&["server", "stats", "--database", missing.as_str()]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr
            .contains(r#"database "nj_no_such_database" does not exist"#)
            && out.stderr.contains("`createdb` makes a database"),
        "{}",
        out.stderr
    );

    // Through a proxy the test can cut: the database goes away.
    let proxy = Proxy::start(&db.url);
    let server = {
        let _guard = ServeOn::new(&proxy.url);
        NjServe::start(&env, &[])
    };
    assert_eq!(get(&server.url("/v1/health"), None).0, 200);
    proxy.cut(true);
    let (status, body) = get(&server.url("/v1/health"), None);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("try again in a moment"), "{body}");
    proxy.cut(false);
    assert_eq!(get(&server.url("/v1/health"), None).0, 200);
}

/// The database's connections drop in the middle of a push (as when
/// PostgreSQL restarts), and new ones are refused for a while: the client
/// is told 503, tries again, and the sync completes with nothing lost or
/// stored twice.
#[test]
fn the_database_restarting_mid_push_loses_and_repeats_nothing() {
    let Some(db) = ScratchDb::new(
        "server_postgres::the_database_restarting_mid_push_loses_and_repeats_nothing",
    ) else {
        return;
    };
    let proxy = Proxy::start(&db.url);
    let env = Env::new();
    let server = {
        let _guard = ServeOn::new(&proxy.url);
        NjServe::start(&env, &[])
    };
    let (journal, _) = server.new_journal(&env);
    let key = JournalKey::generate().to_recovery();
    let a = device(&env, &server, &journal, &key);
    let b = device(&env, &server, &journal, &key);
    a.at(&at("10:02"));
    for i in 0..40 {
        a.clip(
            &format!("Article {i}\n\nThe body of article {i}, which a push carries to the server."),
            &[],
        );
    }
    // The first large write to the database (the push's operations) is
    // where its connections drop; new ones are refused for 1.5 s.
    proxy.cut_at_first_write_over(8 * 1024, Duration::from_millis(1500));
    let out = a.nj(&["sync"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(proxy.did_cut(), "the push never reached the database");
    let log = server.log();
    assert!(
        log.contains("POST /v1/ops 503") || log.contains("POST /v1/blobs/store 503"),
        "no push was answered 503:\n{log}"
    );
    b.nj(&["sync"]).success();
    assert_eq!(titles(&b).len(), 40);
    assert_eq!(titles(&a), titles(&b));
    let ops = positions(&env, &server, &journal);
    assert_gapless(&ops);
}

/// Sets the database the servers this thread starts run on, until
/// dropped.
struct ServeOn;

impl ServeOn {
    fn new(url: &str) -> ServeOn {
        crate::util::set_serve_database(Some(url.to_owned()));
        ServeOn
    }
}

impl Drop for ServeOn {
    fn drop(&mut self) {
        crate::util::set_serve_database(None);
    }
}

/// A TCP proxy in front of PostgreSQL that a test can cut: closing every
/// connection through it and refusing new ones, as a restarting database
/// does.
struct Proxy {
    url: String,
    state: Arc<ProxyState>,
}

#[derive(Default)]
struct ProxyState {
    down: AtomicBool,
    /// Cut at the first client write of at least this many bytes (0: never).
    cut_over: AtomicUsize,
    cut_for: Mutex<Duration>,
    cut_done: AtomicBool,
    conns: Mutex<Vec<TcpStream>>,
}

impl ProxyState {
    fn close_all(&self) {
        for c in self.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }
}

impl Proxy {
    fn start(db_url: &str) -> Proxy {
        let mut parsed = url::Url::parse(db_url).unwrap();
        let target = format!(
            "{}:{}",
            parsed.host_str().unwrap(),
            parsed.port().unwrap_or(5432)
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        parsed
            .set_port(Some(listener.local_addr().unwrap().port()))
            .unwrap();
        parsed.set_host(Some("127.0.0.1")).unwrap();
        let state = Arc::new(ProxyState::default());
        let st = Arc::clone(&state);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if st.down.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(upstream) = TcpStream::connect(&target) else {
                    continue;
                };
                st.conns.lock().unwrap().push(client.try_clone().unwrap());
                st.conns.lock().unwrap().push(upstream.try_clone().unwrap());
                pipe(
                    client.try_clone().unwrap(),
                    upstream.try_clone().unwrap(),
                    Some(Arc::clone(&st)),
                );
                pipe(upstream, client, None);
            }
        });
        Proxy {
            url: parsed.to_string(),
            state,
        }
    }

    fn cut(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
        if down {
            self.state.close_all();
        }
    }

    fn cut_at_first_write_over(&self, bytes: usize, outage: Duration) {
        *self.state.cut_for.lock().unwrap() = outage;
        self.state.cut_over.store(bytes, Ordering::SeqCst);
    }

    fn did_cut(&self) -> bool {
        self.state.cut_done.load(Ordering::SeqCst)
    }
}

/// Copies `from` to `to` on a thread; with `watch`, a large enough write
/// from the client side cuts the proxy before it is passed on.
fn pipe(mut from: TcpStream, mut to: TcpStream, watch: Option<Arc<ProxyState>>) {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if let Some(st) = &watch {
                let over = st.cut_over.load(Ordering::SeqCst);
                if over > 0 && n >= over && !st.cut_done.swap(true, Ordering::SeqCst) {
                    st.cut_over.store(0, Ordering::SeqCst);
                    st.down.store(true, Ordering::SeqCst);
                    st.close_all();
                    let outage = *st.cut_for.lock().unwrap();
                    let st = Arc::clone(st);
                    std::thread::spawn(move || {
                        std::thread::sleep(outage);
                        st.down.store(false, Ordering::SeqCst);
                    });
                    break;
                }
            }
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}

/// `nj server migrate` copies a SQLite server into an empty PostgreSQL
/// database and checks the copy; devices then go on syncing against the
/// copy as if nothing happened; a second migrate into it is refused.
#[test]
fn migrate_copies_a_sqlite_server_and_devices_go_on() {
    let Some(db) =
        ScratchDb::new("server_postgres::migrate_copies_a_sqlite_server_and_devices_go_on")
    else {
        return;
    };
    let env = Env::new();
    let sqlite = NjServe::start(&env, &[]);
    let (journal, _) = sqlite.new_journal(&env);
    let (other, _) = sqlite.new_journal(&env);
    let key = JournalKey::generate().to_recovery();
    let a = device(&env, &sqlite, &journal, &key);
    let b = device(&env, &sqlite, &journal, &key);
    a.at(&at("10:03"));
    let id = a.clip(
        "Before the move\n\nAn article clipped while the server ran on SQLite.",
        &[],
    );
    a.nj(&["sync"]).success();
    b.nj(&["sync"]).success();
    let before = positions(&env, &sqlite, &journal);
    let data = sqlite.data().to_owned();
    let (code, _) = sqlite.stop();
    assert_eq!(code, Some(0));

    let out = env
        .nj(&["server", "migrate", "--data", &data, "--to", &db.url])
        .success();
    assert!(
        out.stdout.starts_with("copied 2 journals (4 tokens, "),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("checked: every journal's counts and SHA-256 match the SQLite data"),
        "{}",
        out.stdout
    );
    let again = env.nj(&["server", "migrate", "--data", &data, "--to", &db.url]);
    assert_eq!(again.code, Some(1));
    assert_eq!(
        again.stderr,
        "nj: the target already holds 2 journals and 4 tokens; migrate only into an empty database (nothing was copied)\n"
    );

    let _guard = ServeOn::new(&db.url);
    let pg = NjServe::start(&env, &[]);
    assert_eq!(positions(&env, &pg, &journal), before);
    let stats = env
        .nj(&["--json", "server", "stats", "--database", &db.url])
        .json();
    let ids: Vec<&str> = stats
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["journal"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&journal.as_str()) && ids.contains(&other.as_str()),
        "{stats}"
    );
    // The devices' tokens and cursors carry over: they only change the URL.
    for d in [&a, &b] {
        d.nj(&["remote", "set", &pg.url, "--token", &d.token])
            .success();
    }
    a.nj(&["note", &id[..8], "written after the move"])
        .success();
    a.nj(&["sync"]).success();
    let pulled = b.nj(&["sync"]).success().stdout;
    assert!(pulled.contains("pulled 1 change"), "{pulled}");
    let shown = b.nj(&["show", &id[..8]]).success().stdout;
    assert!(shown.contains("written after the move"), "{shown}");
    assert_gapless(&positions(&env, &pg, &journal));
}

/// A PostgreSQL cluster of the test's own (Debian's binaries, a scratch
/// data folder, trust authentication on loopback), so that the test may
/// restart it without disturbing the other tests' database.
struct OwnCluster {
    dir: tempfile::TempDir,
    bin: std::path::PathBuf,
    port: u16,
    /// Run PostgreSQL's tools as the `postgres` user (it refuses root).
    as_postgres: bool,
}

impl OwnCluster {
    /// `None` (with a note) where Debian's PostgreSQL is not installed,
    /// except with `CI` set, where it must be.
    fn start(test: &str) -> Option<OwnCluster> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|versions| {
                versions
                    .filter_map(|v| v.ok().map(|v| v.path().join("bin")))
                    .filter(|b| b.join("pg_ctl").exists())
                    .max()
            });
        let Some(bin) = bin else {
            assert!(
                std::env::var_os("CI").is_none(),
                "{test}: PostgreSQL's binaries are not under /usr/lib/postgresql, and CI is set"
            );
            eprintln!(
                "note: {test} skipped: PostgreSQL's binaries are not under /usr/lib/postgresql"
            );
            return None;
        };
        let root = std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let dir = tempfile::tempdir().unwrap();
        let cluster = OwnCluster {
            port: crate::util::dead_port(),
            dir,
            bin,
            as_postgres: root,
        };
        if root {
            let ok = std::process::Command::new("chown")
                .args(["-R", "postgres"])
                .arg(cluster.dir.path())
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown the cluster's folder to postgres");
        }
        let data = cluster.data();
        cluster.run(
            "initdb",
            &["-D", &data, "-A", "trust", "-U", "nj", "--no-sync"],
        );
        cluster.pg_ctl(&["start"]);
        Some(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://nj@127.0.0.1:{}/postgres", self.port)
    }

    /// One of PostgreSQL's tools, as the user it runs as.
    fn tool(&self, tool: &str) -> std::process::Command {
        let exe = self.bin.join(tool);
        if self.as_postgres {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            std::process::Command::new(&exe)
        }
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let out = self.tool(tool).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn pg_ctl(&self, action: &[&str]) {
        let data = self.data();
        let log = self.dir.path().join("log").display().to_string();
        let sock = self.dir.path().display().to_string();
        let opts = format!(
            "-p {} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port
        );
        let mut args = vec!["-D", &data, "-l", &log, "-o", &opts, "-w", "-m", "fast"];
        args.extend_from_slice(action);
        self.run("pg_ctl", &args);
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .tool("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "stop"])
            .output();
    }
}

/// PostgreSQL itself restarted (`pg_ctl restart -m fast`) once the server
/// has stored part of a large push: in-flight requests are answered 503,
/// the client sends them again, and the server ends with every operation
/// once, at gapless positions.
#[test]
fn postgresql_restarted_mid_push_loses_and_repeats_nothing() {
    let Some(cluster) = OwnCluster::start(
        "server_postgres::postgresql_restarted_mid_push_loses_and_repeats_nothing",
    ) else {
        return;
    };
    let env = Env::new();
    let server = {
        let _guard = ServeOn::new(&cluster.url());
        NjServe::start(&env, &[])
    };
    let (journal, _) = server.new_journal(&env);
    let key = JournalKey::generate().to_recovery();
    let a = device(&env, &server, &journal, &key);
    // Bookmarks enough for a few dozen pushes.
    let mut csv = String::from("url,title,time_added,tags,status\n");
    for i in 0..3000 {
        csv.push_str(&format!(
            "https://news.example/{i},Report {i},1700000000,courts|budget,unread\n"
        ));
    }
    a.env.write("pocket.csv", &csv);
    a.nj(&["import", "pocket.csv"]).success();
    let waiting = a.nj(&["--json", "sync", "status"]).json()["pending"]
        .as_u64()
        .expect("sync status gives pending");
    assert!(waiting > 10_000, "only {waiting} changes to push");

    let out = std::thread::scope(|s| {
        let sync = s.spawn(|| a.nj(&["sync"]));
        // Restart once the server has stored a push or two.
        let start = std::time::Instant::now();
        while server.log().matches("POST /v1/ops 200").count() < 2 {
            assert!(start.elapsed() < Duration::from_secs(60), "no push arrived");
            std::thread::sleep(Duration::from_millis(5));
        }
        cluster.pg_ctl(&["restart"]);
        sync.join().unwrap()
    });
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let log = server.log();
    assert!(log.contains(" 503 "), "the restart was not seen:\n{log}");
    let ops = positions(&env, &server, &journal);
    assert_gapless(&ops);
    assert_eq!(ops.len() as u64, waiting, "operations lost or doubled");
}
