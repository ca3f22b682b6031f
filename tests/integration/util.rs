//! What every integration test needs: a sealed environment around the real
//! `nj` binary, a tiny HTTP/1.1 server on 127.0.0.1 to clip from, the real
//! `nj serve` to sync through, and the sync tests' hub and devices around
//! it.
//!
//! Nothing here may read the real HOME, a real config or the network: every
//! child process starts from an empty environment, and the server only
//! listens on the loopback interface.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use newsjournal::sync::crypto::JournalKey;
use rusqlite::params;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The time tests run at unless they say otherwise.
pub const NOW: &str = "2026-11-26T09:00:00Z";

/// One test's world: a temp dir that is HOME, XDG_DATA_HOME's parent and the
/// journal's folder.
pub struct Env {
    dir: tempfile::TempDir,
    now: Mutex<String>,
    tz: Mutex<String>,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::Builder::new()
            .prefix("nj-test-")
            .tempdir()
            .expect("create a temp dir");
        Env {
            dir,
            now: Mutex::new(NOW.to_owned()),
            tz: Mutex::new("UTC".to_owned()),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The journal every command uses (through NJ_DB).
    pub fn db(&self) -> PathBuf {
        self.path("journal.db")
    }

    /// Sets the time the following commands see (NJ_NOW).
    pub fn set_now(&self, now: &str) {
        *self.now.lock().unwrap() = now.to_owned();
    }

    /// Sets the time zone the following commands see (TZ), e.g.
    /// `America/New_York`.
    pub fn set_tz(&self, tz: &str) {
        *self.tz.lock().unwrap() = tz.to_owned();
    }

    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(rel);
        std::fs::write(&p, bytes).expect("write a test file");
        p
    }

    /// `nj ARGS` in the sealed environment, not yet run. Stdin is empty.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_nj"));
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.root())
            .env("XDG_DATA_HOME", self.path("data"))
            .env("NJ_DB", self.db())
            .env("NJ_NOW", self.now.lock().unwrap().as_str())
            .env("TZ", self.tz.lock().unwrap().as_str())
            .env("NO_COLOR", "1")
            .current_dir(self.root())
            .stdin(Stdio::null());
        c
    }

    pub fn nj(&self, args: &[&str]) -> Out {
        Out::from(self.cmd(args).output().expect("run nj"))
    }

    pub fn nj_stdin(&self, args: &[&str], stdin: impl AsRef<[u8]>) -> Out {
        run_with_stdin(self.cmd(args), stdin.as_ref())
    }

    /// Clips `text` from stdin and returns the article's full id.
    pub fn clip_text(&self, text: &str, extra: &[&str]) -> String {
        id_of(&self.clip_json(text, extra)["article"])
    }

    /// `nj --json clip - EXTRA` of `text`, which must succeed: its JSON.
    pub fn clip_json(&self, text: impl AsRef<[u8]>, extra: &[&str]) -> Value {
        let mut args = vec!["--json", "clip", "-"];
        args.extend_from_slice(extra);
        self.nj_stdin(&args, text).success().json()
    }

    /// `nj --json follow-up ARGS`: creates a follow-up and returns it.
    pub fn follow_up(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json", "follow-up"];
        all.extend_from_slice(args);
        self.nj(&all).json()
    }

    /// `nj --json follow-ups` (all of them) as JSON.
    pub fn followups_json(&self) -> Value {
        self.nj(&["--json", "follow-ups"]).json()
    }

    /// `nj --json list` (all articles) as JSON.
    pub fn list_json(&self) -> Value {
        self.nj(&["--json", "list", "--limit", "0"]).json()
    }

    /// The journal file's bytes, plus whether SQLite side files exist: what
    /// "the journal is left exactly as it was" compares.
    pub fn snapshot(&self) -> (Vec<u8>, bool, bool) {
        let wal = PathBuf::from(format!("{}-wal", self.db().display()));
        let shm = PathBuf::from(format!("{}-shm", self.db().display()));
        (
            std::fs::read(self.db()).unwrap_or_default(),
            wal.exists(),
            shm.exists(),
        )
    }

    /// Makes an empty journal, as the first writing command would: for
    /// tests of what reading commands say about one.
    pub fn init(&self) {
        // Private, as nj makes it (else nj tightens it, with a note).
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(self.db())
                .expect("create the journal file");
        }
        rusqlite::Connection::open(self.db())
            .and_then(|c| c.execute_batch("PRAGMA user_version"))
            .expect("create an empty journal file");
    }

    /// A direct connection to the journal, for tampering with it.
    pub fn sqlite(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.db()).expect("open the journal with rusqlite")
    }
}

pub fn run_with_stdin(mut cmd: Command, stdin: &[u8]) -> Out {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nj");
    let mut pipe = child.stdin.take().unwrap();
    let bytes = stdin.to_vec();
    // Write from another thread so a large input cannot deadlock against
    // a full stdout pipe.
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&bytes);
    });
    let out = child.wait_with_output().expect("wait for nj");
    writer.join().unwrap();
    Out::from(out)
}

/// What a finished `nj` process left behind.
#[derive(Debug)]
pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stdout_bytes: Vec<u8>,
    pub stderr: String,
}

impl From<Output> for Out {
    fn from(o: Output) -> Out {
        Out {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stdout_bytes: o.stdout,
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Out {
    /// Asserts exit code 0 and returns the output.
    #[track_caller]
    pub fn success(self) -> Out {
        assert_eq!(
            self.code,
            Some(0),
            "nj failed\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts exit code 1 and nothing on stdout, and returns stderr.
    #[track_caller]
    pub fn failure(self) -> String {
        assert_eq!(
            self.code,
            Some(1),
            "expected exit code 1\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        assert_eq!(self.stdout, "", "a failure printed on stdout");
        self.stderr
    }

    #[track_caller]
    pub fn json(self) -> Value {
        let out = self.success();
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", out.stdout))
    }
}

/// The article id in `nj --json clip` output.
#[track_caller]
pub fn article_id(out: &Out) -> String {
    let v: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("clip output is not JSON ({e}):\n{}", out.stdout));
    v["article"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no article.id in {v}"))
        .to_owned()
}

/// The `id` string of a JSON object.
#[track_caller]
pub fn id_of(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_owned()
}

/// The 8 characters of an id that `nj` prints.
pub fn short(id: &str) -> &str {
    &id[..8]
}

/// `sha256:` + hex of the SHA-256 of `bytes`: what `sha256sum` prints.
pub fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The `field` of each object in a JSON array.
#[track_caller]
pub fn column(v: &Value, field: &str) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|o| {
            o[field]
                .as_str()
                .unwrap_or_else(|| panic!("no string {field} in {o}"))
                .to_owned()
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The test HTTP server.

/// What the server answers on one route.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A complete response.
    Page {
        status: u16,
        content_type: Option<String>,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Waits this long before answering with the page, to outlast the
    /// client's timeout.
    Slow(Duration, Box<Reply>),
    /// Sends the headers with a Content-Length of `claimed` and then only
    /// `body`, and closes the connection.
    Truncated {
        content_type: String,
        claimed: usize,
        body: Vec<u8>,
    },
    /// The first request gets the first reply, the next the second, and so
    /// on; the last one repeats.
    Sequence(Vec<Reply>),
}

impl Reply {
    pub fn html(body: &str) -> Reply {
        Reply::bytes(200, "text/html; charset=utf-8", body.as_bytes())
    }

    pub fn bytes(status: u16, content_type: &str, body: &[u8]) -> Reply {
        Reply::Page {
            status,
            content_type: Some(content_type.to_owned()),
            headers: Vec::new(),
            body: body.to_vec(),
        }
    }

    pub fn redirect(status: u16, location: &str) -> Reply {
        Reply::Page {
            status,
            content_type: None,
            headers: vec![("Location".into(), location.into())],
            body: Vec::new(),
        }
    }

    pub fn not_found() -> Reply {
        Reply::bytes(
            404,
            "text/html",
            b"<html><body><h1>Not Found</h1></body></html>",
        )
    }
}

struct Route {
    reply: Reply,
    hits: usize,
}

/// An HTTP/1.1 server on 127.0.0.1 with routes set per test. Each
/// connection gets its own thread; every response says `Connection: close`.
/// The threads are detached, so a slow reply never holds up the test.
pub struct Server {
    addr: SocketAddr,
    routes: Arc<Mutex<HashMap<String, Route>>>,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the test server");
        let addr = listener.local_addr().unwrap();
        let routes: Arc<Mutex<HashMap<String, Route>>> = Arc::default();
        let shared = Arc::clone(&routes);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let routes = Arc::clone(&shared);
                std::thread::spawn(move || serve(conn, &routes));
            }
        });
        Server { addr, routes }
    }

    /// Serves `reply` at `path` (matched without its query string).
    pub fn route(&self, path: &str, reply: Reply) -> &Server {
        self.routes
            .lock()
            .unwrap()
            .insert(path.to_owned(), Route { reply, hits: 0 });
        self
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// How many requests `path` has had.
    pub fn hits(&self, path: &str) -> usize {
        self.routes.lock().unwrap().get(path).map_or(0, |r| r.hits)
    }
}

fn serve(mut conn: TcpStream, routes: &Mutex<HashMap<String, Route>>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let target = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let path = target.split('?').next().unwrap_or("/").to_owned();
    let reply = {
        let mut routes = routes.lock().unwrap();
        match routes.get_mut(&path) {
            Some(route) => {
                route.hits += 1;
                match &route.reply {
                    Reply::Sequence(replies) => {
                        replies[(route.hits - 1).min(replies.len() - 1)].clone()
                    }
                    other => other.clone(),
                }
            }
            None => Reply::not_found(),
        }
    };
    send(&mut conn, reply);
}

fn send(conn: &mut TcpStream, reply: Reply) {
    match reply {
        Reply::Page {
            status,
            content_type,
            headers,
            body,
        } => {
            let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
            if let Some(ct) = content_type {
                head.push_str(&format!("Content-Type: {ct}\r\n"));
            }
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str(&format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            ));
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(&body);
            let _ = conn.flush();
            let _ = conn.shutdown(std::net::Shutdown::Write);
        }
        Reply::Slow(delay, reply) => {
            std::thread::sleep(delay);
            send(conn, *reply);
        }
        Reply::Truncated {
            content_type,
            claimed,
            body,
        } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {claimed}\r\nConnection: close\r\n\r\n"
            );
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(&body);
            let _ = conn.flush();
            let _ = conn.shutdown(std::net::Shutdown::Both);
        }
        Reply::Sequence(mut replies) => {
            if !replies.is_empty() {
                send(conn, replies.remove(0));
            }
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "",
    }
}

/// A port on 127.0.0.1 that nothing listens on: bound, then released.
pub fn dead_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    port
}

/// Runs `nj ARGS` (with `stdin`) expecting it to refuse: exit code 1, exactly
/// `stderr`, nothing on stdout, and the journal file left byte for byte as
/// it was.
#[track_caller]
pub fn assert_refused(env: &Env, args: &[&str], stdin: Option<&[u8]>, stderr: &str) {
    // Without a journal, a refused command must not make one.
    let existed = env.db().exists();
    let list_before = if existed {
        env.list_json()
    } else {
        Value::Null
    };
    let before = env.snapshot();
    let out = match stdin {
        Some(bytes) => env.nj_stdin(args, bytes),
        None => env.nj(args),
    };
    assert_eq!(out.failure(), stderr, "nj {args:?}");
    assert!(
        before == env.snapshot(),
        "nj {args:?} changed the journal file"
    );
    if !existed {
        assert!(!env.db().exists(), "nj {args:?} made a journal");
        return;
    }
    assert_eq!(
        env.list_json(),
        list_before,
        "nj {args:?} changed the journal"
    );
}

// ---------------------------------------------------------------------------
// The real sync server.

thread_local! {
    /// The PostgreSQL database every `nj serve` this thread starts runs
    /// on, while [`on_postgres`] runs a test; SQLite (`--data`) otherwise.
    static SERVE_DATABASE: std::cell::RefCell<Option<String>> =
        const { std::cell::RefCell::new(None) };
}

fn serve_database() -> Option<String> {
    SERVE_DATABASE.with(|d| d.borrow().clone())
}

/// Sets the PostgreSQL database the servers this thread starts run on
/// (`None`: back to SQLite).
pub fn set_serve_database(url: Option<String>) {
    SERVE_DATABASE.with(|d| *d.borrow_mut() = url);
}

/// Runs `test` with every server it starts on a scratch PostgreSQL
/// database of its own (at `NJ_TEST_DATABASE_URL`): the same test that
/// runs on SQLite, run again on the other store. Skipped with a note
/// without the variable; with `CI` set, a failure.
pub fn on_postgres(name: &str, test: fn()) {
    let Some(db) = newsjournal::server::postgres::testing::ScratchDb::new(name) else {
        return;
    };
    set_serve_database(Some(db.url.clone()));
    let result = std::panic::catch_unwind(test);
    set_serve_database(None);
    drop(db);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// `mod postgres` with each named test of the module run again through
/// [`on_postgres`]: `on_every_backend!(a_test, another_test);`.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(#[test]
            fn $name() {
                $crate::util::on_postgres(
                    concat!(module_path!(), "::", stringify!($name)),
                    super::$name,
                );
            })*
        }
    };
}

/// A running `nj serve`. Dropping it kills the process, so a failing test
/// never leaves a server behind.
pub struct NjServe {
    pub child: Child,
    pub addr: SocketAddr,
    pub url: String,
    pub data: PathBuf,
    /// The PostgreSQL database it runs on, when not on `data`.
    pub database: Option<String>,
    stderr: Arc<Mutex<String>>,
    // Held open so the server's stdout never breaks.
    _stdout: BufReader<ChildStdout>,
}

impl NjServe {
    pub fn start(env: &Env, extra: &[&str]) -> NjServe {
        NjServe::start_limited(env, extra, None)
    }

    /// As `start`, with the server allowed at most `files` open files
    /// (`ulimit -n`), to see what it does when it runs out.
    pub fn start_with_open_files(env: &Env, extra: &[&str], files: u32) -> NjServe {
        NjServe::start_limited(env, extra, Some(files))
    }

    fn start_limited(env: &Env, extra: &[&str], files: Option<u32>) -> NjServe {
        let data = env.path("server");
        let database = serve_database();
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        match &database {
            Some(url) => args.extend(["--database", url.as_str()]),
            None => args.extend(["--data", data.to_str().unwrap()]),
        }
        args.extend_from_slice(extra);
        let mut cmd = env.cmd(&args);
        if let Some(files) = files {
            // The same command, through a shell that lowers the limit first.
            let mut sh = Command::new("sh");
            sh.arg("-c")
                .arg(format!("ulimit -n {files} && exec \"$0\" \"$@\""))
                .arg(cmd.get_program())
                .args(cmd.get_args())
                .env_clear()
                .stdin(Stdio::null());
            for (key, value) in cmd.get_envs() {
                if let Some(value) = value {
                    sh.env(key, value);
                }
            }
            if let Some(dir) = cmd.get_current_dir() {
                sh.current_dir(dir);
            }
            cmd = sh;
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start nj serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = BufReader::new(child.stderr.take().unwrap());
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut line = String::new();
            while pipe.read_line(&mut line).is_ok_and(|n| n > 0) {
                sink.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout
            .read_line(&mut first)
            .expect("read nj serve's stdout");
        let url = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "nj serve did not start: {first:?}\n{}",
                    stderr.lock().unwrap()
                )
            })
            .trim()
            .to_owned();
        let addr = url.strip_prefix("http://").unwrap().parse().unwrap();
        NjServe {
            child,
            addr,
            url,
            data,
            database,
            stderr,
            _stdout: stdout,
        }
    }

    pub fn data(&self) -> &str {
        self.data.to_str().unwrap()
    }

    /// Where the server's data is, as `nj server` commands take it:
    /// `--data DIR` or `--database URL`.
    pub fn storage(&self) -> [&str; 2] {
        match &self.database {
            Some(url) => ["--database", url.as_str()],
            None => ["--data", self.data()],
        }
    }

    /// A new journal on this server: (journal id, token).
    pub fn new_journal(&self, env: &Env) -> (String, String) {
        let [flag, place] = self.storage();
        let v = env
            .nj(&["--json", "server", "new-journal", flag, place])
            .json();
        (
            v["journal"].as_str().unwrap().to_owned(),
            v["token"].as_str().unwrap().to_owned(),
        )
    }

    pub fn new_token(&self, env: &Env, journal: &str) -> String {
        let [flag, place] = self.storage();
        let v = env
            .nj(&[
                "--json",
                "server",
                "new-token",
                flag,
                place,
                "--journal",
                journal,
            ])
            .json();
        v["token"].as_str().unwrap().to_owned()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub fn terminate(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// Waits up to `limit` for the process to exit; its exit code.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(
                start.elapsed() < limit,
                "nj serve did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then the exit code and everything the server logged.
    pub fn stop(mut self) -> (Option<i32>, String) {
        self.terminate();
        let code = self.wait_exit(Duration::from_secs(5));
        // The log reader finishes once the pipe closes.
        let start = Instant::now();
        while !self.log().contains("nj serve: stopped") && start.elapsed() < Duration::from_secs(2)
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        (code, self.log())
    }

    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for NjServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// The sync harness: a hub (one `nj serve` holding one or more journals) and
// devices (each its own journal in its own sealed `Env`, running the real
// `nj`) that sync through it. For the end-to-end sync tests (sync_e2e) and
// the encryption tests (sync_crypto), which tamper with the server's data.

/// 2026-03-02 at `hh:mm` UTC: the day the sync tests' devices live in
/// (NJ_NOW). It is in the past of any machine that runs them, because the
/// server compares stamps with its real clock and refuses ones more than 5
/// minutes ahead of it.
pub fn at(hh_mm: &str) -> String {
    format!("2026-03-02T{hh_mm}:00Z")
}

/// One journal on a hub: its id, and the key (recovery string) that every
/// device of it joins with.
#[derive(Debug, Clone)]
pub struct Journal {
    pub id: String,
    pub key: String,
}

/// The server side: one `nj serve` on a data folder that outlives its
/// restarts, holding any number of journals.
pub struct Hub {
    /// The server's own environment, where `nj server ...` (the admin
    /// commands) run.
    pub env: Env,
    /// `None` while the server is stopped.
    server: Option<NjServe>,
    /// What `nj serve` runs with besides `--data` and `--listen`, at its
    /// first start and every restart.
    serve_args: Vec<String>,
    /// The data folder: `server.db` and the rest.
    data: PathBuf,
}

impl Hub {
    /// A hub with no journal yet, whose `nj serve` runs with no more
    /// arguments.
    pub fn start() -> Hub {
        Hub::start_with(&[])
    }

    /// A hub with no journal yet, whose `nj serve` runs with `serve_args`
    /// as well (`--max-body N`), now and at every restart.
    pub fn start_with(serve_args: &[&str]) -> Hub {
        let env = Env::new();
        let server = NjServe::start(&env, serve_args);
        Hub {
            data: server.data.clone(),
            server: Some(server),
            serve_args: serve_args.iter().map(|a| a.to_string()).collect(),
            env,
        }
    }

    /// The running `nj serve`.
    pub fn server(&self) -> &NjServe {
        self.server.as_ref().expect("nj serve is running")
    }

    pub fn url(&self) -> String {
        self.server().url.clone()
    }

    /// The server's data folder, there while it is stopped too.
    pub fn data(&self) -> &Path {
        &self.data
    }

    /// A new journal on the server, with no key yet: its first device's
    /// `nj remote set` makes one (see [`Device::first`]). Its id.
    pub fn new_journal(&self) -> String {
        self.server().new_journal(&self.env).0
    }

    /// A new journal on the server, and a key made here that every device
    /// of it brings (`--key`), so that none makes its own.
    pub fn new_journal_with_key(&self) -> Journal {
        Journal {
            id: self.new_journal(),
            key: JournalKey::generate().to_recovery(),
        }
    }

    /// A token for one more device of `journal` (an id).
    pub fn token(&self, journal: &str) -> String {
        self.server().new_token(&self.env, journal)
    }

    /// `GET /v1/status` with `token`: the highest sequence number the
    /// server holds per device.
    pub fn devices(&self, token: &str) -> Value {
        let mut resp = hub_agent()
            .get(self.server().url("/v1/status"))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .expect("GET /v1/status");
        assert_eq!(resp.status(), 200, "GET /v1/status");
        let body = resp.body_mut().read_to_string().unwrap();
        serde_json::from_str::<Value>(&body).unwrap()["devices"].clone()
    }

    /// POSTs `body` to `/v1/ops` with `token`, as any token holder can
    /// without nj's client (so without its sealing); the status code.
    pub fn push_raw(&self, token: &str, body: &Value) -> u16 {
        hub_agent()
            .post(self.server().url("/v1/ops"))
            .header("Authorization", &format!("Bearer {token}"))
            .send_json(body)
            .expect("POST /v1/ops")
            .status()
            .as_u16()
    }

    /// SIGTERM; the server must exit cleanly. Its log.
    pub fn stop(&mut self) -> String {
        let (code, log) = self.server.take().expect("nj serve is running").stop();
        assert_eq!(code, Some(0), "nj serve did not stop cleanly:\n{log}");
        log
    }

    /// Starts `nj serve` again after [`Hub::stop`], on the same data folder
    /// (on a new port, so devices reach it by the new [`Hub::url`]).
    pub fn start_again(&mut self) {
        assert!(self.server.is_none(), "nj serve is still running");
        let args: Vec<&str> = self.serve_args.iter().map(String::as_str).collect();
        self.server = Some(NjServe::start(&self.env, &args));
    }

    /// Waits for the server, killed from outside by a signal (a test's
    /// kill switch), to be gone, and starts it again as
    /// [`Hub::start_again`] does.
    pub fn restart_after_kill(&mut self) {
        let mut killed = self.server.take().expect("nj serve was started");
        assert_eq!(
            killed.wait_exit(Duration::from_secs(5)),
            None,
            "nj serve was not killed by a signal"
        );
        self.start_again();
    }

    /// Stops the server, edits its database as someone with its disk
    /// could, and starts it again on the same data folder (on a new port).
    pub fn tamper(&mut self, edit: impl FnOnce(&ServerDb)) {
        self.stop();
        edit(&self.db());
        self.start_again();
    }

    /// A direct connection to the server's database.
    pub fn db(&self) -> ServerDb {
        ServerDb(rusqlite::Connection::open(self.data.join("server.db")).expect("open server.db"))
    }

    /// The operations the server holds for `journal` (an id), in its order.
    pub fn ops(&self, journal: &str) -> Vec<StoredOp> {
        self.db().ops(journal)
    }

    /// The blob ids the server holds for `journal` (an id), sorted.
    pub fn blob_ids(&self, journal: &str) -> Vec<String> {
        self.db().blob_ids(journal)
    }

    /// The stored operation of `journal` that opens, under its key, to an
    /// operation for which `wanted` holds; there must be exactly one.
    #[track_caller]
    pub fn op_where(&self, journal: &Journal, wanted: impl Fn(&Value) -> bool) -> StoredOp {
        let all = self.ops(&journal.id);
        let opened: Vec<Value> = all.iter().map(|op| op.open(journal)).collect();
        let found: Vec<&StoredOp> = all
            .iter()
            .zip(&opened)
            .filter(|(_, v)| wanted(v))
            .map(|(op, _)| op)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "not one operation matches among {opened:#?}"
        );
        found[0].clone()
    }
}

/// An HTTP client for the hub's loopback server that answers any status
/// rather than failing on it.
/// An HTTP client for tests: answers of every status, no proxy, 10 s.
pub fn hub_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .new_agent()
}

/// The server's database, opened directly: what the tests read of the
/// server's data, and the edits someone with its disk could make (through
/// [`Hub::tamper`], while the server is stopped).
pub struct ServerDb(rusqlite::Connection);

/// One operation as the server stores it.
#[derive(Debug, Clone)]
pub struct StoredOp {
    pub pos: i64,
    pub device: String,
    pub seq: u64,
    pub payload: Vec<u8>,
}

impl ServerDb {
    /// The operations the server holds for `journal`, in its order.
    pub fn ops(&self, journal: &str) -> Vec<StoredOp> {
        let mut stmt = self
            .0
            .prepare("SELECT pos, device, seq, payload FROM ops WHERE journal_id = ?1 ORDER BY pos")
            .unwrap();
        let rows = stmt
            .query_map([journal], |r| {
                Ok(StoredOp {
                    pos: r.get(0)?,
                    device: r.get(1)?,
                    seq: r.get::<_, i64>(2)? as u64,
                    payload: r.get(3)?,
                })
            })
            .unwrap();
        rows.map(Result::unwrap).collect()
    }

    /// The blob ids the server holds for `journal`, sorted.
    pub fn blob_ids(&self, journal: &str) -> Vec<String> {
        let mut stmt = self
            .0
            .prepare("SELECT id FROM blobs WHERE journal_id = ?1 ORDER BY id")
            .unwrap();
        let rows = stmt.query_map([journal], |r| r.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    }

    /// Replaces the payload of `journal`'s operation at `pos`, which must
    /// be there.
    #[track_caller]
    pub fn set_payload(&self, journal: &str, pos: i64, payload: &[u8]) {
        let changed = self
            .0
            .execute(
                "UPDATE ops SET payload = ?1 WHERE journal_id = ?2 AND pos = ?3",
                params![payload, journal, pos],
            )
            .unwrap();
        assert_eq!(changed, 1, "no operation {pos} in {journal}");
    }

    /// Moves the operation at `pos` in `journal`, whole, to `to_pos` in
    /// `to_journal` (a place no operation holds).
    pub fn move_op(&self, journal: &str, pos: i64, to_journal: &str, to_pos: i64) {
        self.0
            .execute(
                "UPDATE ops SET journal_id = ?1, pos = ?2 WHERE journal_id = ?3 AND pos = ?4",
                params![to_journal, to_pos, journal, pos],
            )
            .unwrap();
    }

    /// The stored (sealed) bytes of `journal`'s blob `id`.
    pub fn blob(&self, journal: &str, id: &str) -> Vec<u8> {
        self.0
            .query_row(
                "SELECT data FROM blobs WHERE journal_id = ?1 AND id = ?2",
                params![journal, id],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// Replaces the stored bytes of `journal`'s blob `id`.
    pub fn set_blob(&self, journal: &str, id: &str, data: &[u8]) {
        self.0
            .execute(
                "UPDATE blobs SET data = ?1 WHERE journal_id = ?2 AND id = ?3",
                params![data, journal, id],
            )
            .unwrap();
    }
}

impl StoredOp {
    /// What the operation holds, opened the way a device of `journal`
    /// opens it (with its key); it must open.
    #[track_caller]
    pub fn open(&self, journal: &Journal) -> Value {
        let keys = JournalKey::from_recovery(&journal.key).unwrap().sync_keys();
        let json = keys
            .open_op(&journal.id, &self.device, self.seq, &self.payload)
            .unwrap_or_else(|e| panic!("operation {} does not open: {e}", self.pos));
        serde_json::from_slice(&json).unwrap()
    }
}

/// For [`Hub::op_where`]: whether an opened operation creates an `entity`.
pub fn creates(entity: &'static str) -> impl Fn(&Value) -> bool {
    move |op| op["op"] == "create" && op["entity"] == entity
}

/// `bytes` with one bit of the byte in the middle flipped: a stored
/// operation or text altered as little as can be.
pub fn flip_middle(mut bytes: Vec<u8>) -> Vec<u8> {
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    bytes
}

/// One device: its own journal in its own sealed environment, and a token
/// for one journal on a hub.
pub struct Device {
    pub env: Env,
    pub token: String,
}

impl Device {
    /// A new device with a token for `journal` (an id) on `hub`; no journal
    /// file and no remote yet.
    pub fn new(hub: &Hub, journal: &str) -> Device {
        Device {
            env: Env::new(),
            token: hub.token(journal),
        }
    }

    /// The first device of `journal` (an id), which has no key yet: its
    /// `nj remote set` makes one. The device, and the journal with the key
    /// that the notice printed.
    pub fn first(hub: &Hub, journal: &str, now: &str) -> (Device, Journal) {
        let d = Device::new(hub, journal);
        let out = d.remote_set(&hub.url(), None, now).stdout;
        let keys: Vec<&str> = out
            .lines()
            .filter_map(|l| l.strip_prefix("  nj1-"))
            .collect();
        assert_eq!(keys.len(), 1, "no key in the notice:\n{out}");
        let key = format!("nj1-{}", keys[0]);
        (
            d,
            Journal {
                id: journal.to_owned(),
                key,
            },
        )
    }

    /// A new device that syncs `journal` on `hub`, with its key.
    pub fn joined(hub: &Hub, journal: &Journal, now: &str) -> Device {
        let d = Device::new(hub, &journal.id);
        d.remote_set_json(&hub.url(), &journal.key, now);
        d
    }

    /// `nj remote set URL --token T [--key KEY]` at `now`, which must
    /// succeed; its output.
    pub fn remote_set(&self, url: &str, key: Option<&str>, now: &str) -> Out {
        self.env.set_now(now);
        let mut args = vec!["remote", "set", url, "--token", &self.token];
        if let Some(k) = key {
            args.extend(["--key", k]);
        }
        self.nj(&args).success()
    }

    /// `nj --json remote set URL --token T --key KEY` at `now`, which must
    /// take the URL and make no key of its own; the device id.
    pub fn remote_set_json(&self, url: &str, key: &str, now: &str) -> String {
        self.env.set_now(now);
        let v = self
            .nj(&[
                "--json",
                "remote",
                "set",
                url,
                "--token",
                &self.token,
                "--key",
                key,
            ])
            .json();
        assert_eq!(v["url"], json!(url));
        assert_eq!(v["key_created"], json!(false), "a key was made: {v}");
        v["device_id"].as_str().unwrap().to_owned()
    }

    /// Sets the device's clock (NJ_NOW) for the commands that follow.
    pub fn at(&self, now: &str) -> &Device {
        self.env.set_now(now);
        self
    }

    pub fn nj(&self, args: &[&str]) -> Out {
        self.env.nj(args)
    }

    /// `nj ARGS` with extra environment variables (NJ_REMOTE, NJ_TOKEN,
    /// NJ_PASSPHRASE).
    pub fn nj_with(&self, vars: &[(&str, &str)], args: &[&str]) -> Out {
        let mut cmd = self.env.cmd(args);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        Out::from(cmd.output().expect("run nj"))
    }

    /// `nj ARGS` with `stdin`.
    pub fn nj_stdin(&self, args: &[&str], stdin: &str) -> Out {
        self.env.nj_stdin(args, stdin)
    }

    /// Clips `text` from stdin; the article's id.
    pub fn clip(&self, text: &str, extra: &[&str]) -> String {
        self.env.clip_text(text, extra)
    }

    /// `nj follow-up ID TEXT --due WHEN` at the device's time; its id.
    pub fn follow_up_on(&self, article: &str, text: &str, due: &str) -> String {
        self.env.follow_up(&[article, text, "--due", due])["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The device id, from `nj --json remote show`.
    pub fn device_id(&self) -> String {
        self.nj(&["--json", "remote", "show"]).json()["device_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// `nj key show`, which must succeed: the recovery string.
    pub fn key(&self) -> String {
        let out = self.nj(&["key", "show"]).success().stdout;
        out.strip_suffix('\n').unwrap_or(&out).to_owned()
    }

    /// `nj --json sync`, which must succeed; its summary. Whatever it says
    /// on stderr is not looked at (see [`Device::sync_quiet`]).
    pub fn sync(&self) -> Value {
        self.nj(&["--json", "sync"]).json()
    }

    /// `nj --json sync`, which must succeed and say nothing on stderr (no
    /// warning, nothing skipped); its summary.
    #[track_caller]
    pub fn sync_quiet(&self) -> Value {
        let out = self.nj(&["--json", "sync"]).success();
        assert_eq!(out.stderr, "", "nj sync warned");
        out.json()
    }

    /// `nj --json sync` that skips `skipped` operations from the server:
    /// it must succeed and say so on stderr. The operations that did not
    /// open are named in the summary's `unreadable` and on stderr; the
    /// summary is returned without them.
    #[track_caller]
    pub fn sync_skipping(&self, skipped: usize) -> Value {
        let out = self.nj(&["--json", "sync"]).success();
        let stderr = out.stderr.clone();
        let (first, rest) = stderr.split_at(stderr.find('\n').unwrap() + 1);
        assert_eq!(first, skipped_line(skipped));
        let mut summary = out.json();
        let named = summary
            .as_object_mut()
            .unwrap()
            .remove("unreadable")
            .map(|v| column_of_strings(&v))
            .unwrap_or_default();
        assert!(named.len() <= skipped, "{named:?}");
        if let Some(one) = named.first() {
            assert!(
                rest.starts_with(&format!(
                    "nj: the ones that did not open: {}",
                    named.join(", ")
                )) && rest.contains(&format!("`nj server remove-op --journal JID {one}`")),
                "{rest}"
            );
        } else {
            assert_eq!(rest, "");
        }
        summary
    }

    /// `nj --json sync status`.
    pub fn status(&self) -> Value {
        self.nj(&["--json", "sync", "status"]).json()
    }

    pub fn show(&self, id: &str) -> Value {
        self.nj(&["--json", "show", id]).json()
    }

    /// Everything a user can see of the journal: the list, the bin, every
    /// article in full (text, notes, note conflicts, versions,
    /// follow-ups), all notes and all follow-ups.
    pub fn state(&self) -> Value {
        let list = self.nj(&["--json", "list", "--limit", "0"]).json();
        let bin = self
            .nj(&["--json", "list", "--removed", "--limit", "0"])
            .json();
        let mut ids = column(&list, "id");
        ids.extend(column(&bin, "id"));
        let articles: Vec<Value> = ids.iter().map(|id| self.show(id)).collect();
        json!({
            "list": list,
            "bin": bin,
            "articles": articles,
            "notes": self.nj(&["--json", "notes", "--limit", "0"]).json(),
            "followups": self.nj(&["--json", "follow-ups"]).json(),
        })
    }

    /// The ids of the articles `nj search QUERY` finds, best first.
    pub fn search(&self, query: &str) -> Vec<String> {
        let found = self.nj(&["--json", "search", query]).json();
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|hit| hit["article"]["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Runs `nj ARGS` (with `vars`) expecting it to refuse: exit code 1,
    /// nothing on stdout, and the journal file left byte for byte as it
    /// was. Its stderr.
    #[track_caller]
    pub fn refused(&self, vars: &[(&str, &str)], args: &[&str]) -> String {
        let before = self.env.snapshot();
        let err = self.nj_with(vars, args).failure();
        assert!(
            before == self.env.snapshot(),
            "nj {args:?} changed the journal file"
        );
        err
    }

    /// Runs `nj verify`, which must find every hash and the index sound.
    #[track_caller]
    pub fn verify(&self, texts: usize, articles: usize) {
        let count = |n: usize, what: &str| match n {
            1 => format!("1 {what}"),
            _ => format!("{n} {what}s"),
        };
        assert_eq!(
            self.nj(&["verify"]).success().stdout,
            format!(
                "checked {} of {}: every hash matches, every article agrees with its versions, and the search index is sound\n",
                count(texts, "text"),
                count(articles, "article")
            )
        );
    }
}

/// The strings of a JSON array.
pub fn column_of_strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// What `nj sync` says first on stderr when it skipped `n` operations.
pub fn skipped_line(n: usize) -> String {
    let changes = if n == 1 { "change" } else { "changes" };
    format!("nj: skipped {n} {changes} from the server that failed authentication or could not be read: altered on the server, or sealed with another key; nothing of them was applied\n")
}

/// What `nj --json sync` prints, to compare its output with (a JSON value
/// equals a `Summary` when it is exactly [`Summary::json`]). Written out
/// here rather than serialized from `newsjournal::sync::Summary`, so that
/// a change in what nj prints fails the tests instead of moving with them.
#[derive(Clone, Copy)]
pub struct Summary {
    /// Changes (operations) sent to the server.
    pub pushed: usize,
    /// Changes received from the server.
    pub pulled: usize,
    /// Texts sent to the server.
    pub blobs_pushed: usize,
    /// Texts received from the server.
    pub blobs_pulled: usize,
    /// Note texts written at the same time on two devices, kept.
    pub conflicts: usize,
    /// Changes from the server that did not open, and were not applied.
    pub skipped: usize,
}

/// A sync that pushed and pulled these changes and texts, kept no note
/// conflict and skipped nothing; [`Summary::conflicts`] and
/// [`Summary::skipped`] say otherwise.
pub fn summary(pushed: usize, pulled: usize, blobs_pushed: usize, blobs_pulled: usize) -> Summary {
    Summary {
        pushed,
        pulled,
        blobs_pushed,
        blobs_pulled,
        conflicts: 0,
        skipped: 0,
    }
}

impl Summary {
    /// The same, with `n` note conflicts kept.
    pub fn conflicts(self, n: usize) -> Summary {
        Summary {
            conflicts: n,
            ..self
        }
    }

    /// The same, with `n` changes skipped.
    pub fn skipped(self, n: usize) -> Summary {
        Summary { skipped: n, ..self }
    }

    /// The summary as `nj --json sync` prints it.
    pub fn json(self) -> Value {
        json!({
            "pushed": self.pushed,
            "pulled": self.pulled,
            "blobs_pushed": self.blobs_pushed,
            "blobs_pulled": self.blobs_pulled,
            "conflicts": self.conflicts,
            "skipped": self.skipped,
        })
    }
}

/// Shown as its JSON, so that a failed `assert_eq!(d.sync(), summary(..))`
/// shows both sides alike.
impl std::fmt::Debug for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.json().fmt(f)
    }
}

impl PartialEq<Summary> for Value {
    fn eq(&self, summary: &Summary) -> bool {
        *self == summary.json()
    }
}

/// The line `nj import` ends with: the file, its format, and how many
/// items were added, updated, skipped as duplicates and rejected.
pub fn import_report(file: &Path, format: &str, counts: (usize, usize, usize, usize)) -> String {
    format!(
        "imported {} ({format}): {} added, {} updated, {} skipped (duplicate), {} rejected\n",
        file.display(),
        counts.0,
        counts.1,
        counts.2,
        counts.3
    )
}

/// The sync server's core in process, with one journal: the real server's
/// rules without HTTP, for protocol tests (`Core::transport`).
pub struct LocalServer {
    pub core: newsjournal::server::Core,
    pub journal: String,
}

impl LocalServer {
    pub fn new() -> LocalServer {
        let core = newsjournal::server::Core::open_in_memory().unwrap();
        let (journal, _token) = core.new_journal(0).unwrap();
        LocalServer { core, journal }
    }

    /// The journal as a transport, with the system clock as the server's.
    pub fn transport(&self) -> newsjournal::server::CoreTransport<'_> {
        self.core.transport(&self.journal)
    }

    /// How many operations the journal holds.
    pub fn len(&self) -> usize {
        self.core.ops(&self.journal, false).unwrap().len()
    }
}
