//! What every integration test needs: a sealed environment around the real
//! `nj` binary, a tiny HTTP/1.1 server on 127.0.0.1 to clip from, and the
//! real `nj serve` to sync through.
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

use serde_json::Value;
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
        let mut args = vec!["--json", "clip", "-"];
        args.extend_from_slice(extra);
        let out = self.nj_stdin(&args, text).success();
        article_id(&out)
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

/// A running `nj serve`. Dropping it kills the process, so a failing test
/// never leaves a server behind.
pub struct NjServe {
    pub child: Child,
    pub addr: SocketAddr,
    pub url: String,
    pub data: PathBuf,
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
        let mut args = vec![
            "serve",
            "--data",
            data.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ];
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
            stderr,
            _stdout: stdout,
        }
    }

    pub fn data(&self) -> &str {
        self.data.to_str().unwrap()
    }

    /// A new journal on this server: (journal id, token).
    pub fn new_journal(&self, env: &Env) -> (String, String) {
        let v = env
            .nj(&["--json", "server", "new-journal", "--data", self.data()])
            .json();
        (
            v["journal"].as_str().unwrap().to_owned(),
            v["token"].as_str().unwrap().to_owned(),
        )
    }

    pub fn new_token(&self, env: &Env, journal: &str) -> String {
        let v = env
            .nj(&[
                "--json",
                "server",
                "new-token",
                "--data",
                self.data(),
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
