//! The server soak of issue 17: a real `nj serve` on loopback under 200
//! clients at once for 5 minutes. Valid devices (in-process, through the
//! same library calls `nj sync` makes) change their journals and sync in a
//! loop, while attackers, some with a journal's token and some without,
//! send the attacks the server was hardened against, at a bounded rate, into
//! the same journals. It checks that no valid sync fails, that the server's
//! memory stays under 200 MB, and that every journal converges.
//! `bench/server_soak` builds it and runs it; docs/benchmarks.md
//! ("Server soak") records a run.
//!
//! Knobs (environment): SOAK_SECS (300), SOAK_JOURNALS (20), SOAK_DEVICES
//! (8 per journal), SOAK_ATTACKERS (40), SOAK_THINK_MS (a device waits up
//! to this long between syncs; 1000), SOAK_MAX_BODY (the server's
//! `--max-body`; 262144, 0 for the server's own default), SOAK_SEED (17),
//! SOAK_NJ (the nj binary; by default the one beside this example),
//! SOAK_KEEP=1 (keep the work folder, which is kept anyway on failure).
//!
//! Exits 1 when a valid sync failed, the server answered 5xx or died, its
//! memory reached 200 MB, or a journal diverged.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use newsjournal::content::Content;
use newsjournal::journal::{Journal, JournalReplica, ListFilter, NewClip, NoteFilter};
use newsjournal::sync::client::HttpTransport;
use newsjournal::sync::crypto::{JournalKey, FORMAT_VERSION};
use newsjournal::sync::{sync, Summary};
use newsjournal::time::{Clock, Timestamp};

/// The memory the server must stay under.
const RSS_LIMIT_KB: u64 = 200 * 1024;

/// `nj serve`'s default header timeout: how long a connection without a
/// token may stay open.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Oversize bodies sent without a declared length (which the server reads
/// up to its limit before it refuses them) in flight at once.
const MAX_CHUNKED_IN_FLIGHT: usize = 4;

const TAGS: &[&str] = &[
    "courts",
    "budget",
    "climate",
    "elections",
    "health",
    "tech",
    "energy",
    "housing",
    "transport",
    "schools",
    "science",
    "culture",
];

const WORDS: &[&str] = &[
    "the",
    "council",
    "voted",
    "on",
    "a",
    "plan",
    "to",
    "rebuild",
    "bridge",
    "after",
    "years",
    "of",
    "delay",
    "minister",
    "said",
    "budget",
    "would",
    "rise",
    "court",
    "ruled",
    "that",
    "city",
    "must",
    "pay",
    "for",
    "repairs",
    "residents",
    "were",
    "told",
    "new",
    "rules",
    "take",
    "effect",
    "next",
    "month",
    "while",
    "critics",
    "argue",
    "costs",
    "have",
    "doubled",
    "since",
    "report",
    "found",
    "schools",
    "in",
    "north",
    "need",
    "more",
    "teachers",
    "and",
    "buses",
    "energy",
    "prices",
    "fell",
    "again",
    "this",
    "week",
];

// ---------------------------------------------------------------------------
// Settings, randomness, time.

struct Config {
    secs: u64,
    journals: usize,
    devices: usize,
    attackers: usize,
    think_ms: u64,
    /// `--max-body` for the server; `None` leaves its default.
    max_body_arg: Option<u64>,
    seed: u64,
    keep: bool,
    nj: PathBuf,
}

fn env_num(name: &str, default: u64) -> Result<u64> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .with_context(|| format!("{name}={v:?} is not a whole number")),
        _ => Ok(default),
    }
}

impl Config {
    fn from_env() -> Result<Config> {
        let nj = match std::env::var_os("SOAK_NJ") {
            Some(p) => PathBuf::from(p),
            // target/release/examples/server_soak -> target/release/nj
            None => std::env::current_exe()?
                .parent()
                .and_then(Path::parent)
                .context("cannot tell where this example is")?
                .join("nj"),
        };
        if !nj.is_file() {
            bail!(
                "no nj binary at {}; build it (`cargo build --release --bin nj`) or set SOAK_NJ",
                nj.display()
            );
        }
        let max_body = env_num("SOAK_MAX_BODY", 256 * 1024)?;
        Ok(Config {
            secs: env_num("SOAK_SECS", 300)?.max(1),
            journals: env_num("SOAK_JOURNALS", 20)?.max(1) as usize,
            devices: env_num("SOAK_DEVICES", 8)?.max(1) as usize,
            attackers: env_num("SOAK_ATTACKERS", 40)? as usize,
            think_ms: env_num("SOAK_THINK_MS", 1000)?,
            max_body_arg: (max_body > 0).then_some(max_body),
            seed: env_num("SOAK_SEED", 17)?,
            keep: std::env::var("SOAK_KEEP").is_ok_and(|v| v == "1"),
            nj,
        })
    }
}

/// xorshift64: enough for choosing what to do next.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Rng {
        let mut r = Rng((seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .wrapping_add(0x2545_F491_4F6C_DD1D)
            | 1);
        for _ in 0..8 {
            r.next();
        }
        r
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }

    /// lo..=hi
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn words(rng: &mut Rng, lo: u64, hi: u64) -> String {
    let n = rng.range(lo, hi);
    let mut out = String::new();
    for i in 0..n {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(rng.pick::<&str>(WORDS));
    }
    out
}

fn now_ts() -> Timestamp {
    Clock::system().timestamp()
}

/// Sleeps `d`, or less once `stop` is set.
fn nap(d: Duration, stop: &AtomicBool) {
    let end = Instant::now() + d;
    while !stop.load(Ordering::Relaxed) {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(100)));
    }
}

// ---------------------------------------------------------------------------
// The server: the real binary, as a child process.

struct Server {
    child: Child,
    url: String,
    addr: SocketAddr,
    data: PathBuf,
    log: PathBuf,
    // Held open so the server's stdout never breaks.
    _stdout: BufReader<ChildStdout>,
}

fn nj_cmd(cfg: &Config, dir: &Path) -> Command {
    let mut c = Command::new(&cfg.nj);
    c.env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("NO_COLOR", "1")
        .env_remove("NJ_DB")
        .env_remove("NJ_REMOTE")
        .env_remove("NJ_TOKEN")
        .env_remove("NJ_NOW")
        .env_remove("NJ_CONFIG")
        .stdin(Stdio::null());
    c
}

impl Server {
    fn start(cfg: &Config, dir: &Path) -> Result<Server> {
        let data = dir.join("server");
        let log = dir.join("serve.log");
        let mut cmd = nj_cmd(cfg, dir);
        cmd.args(["serve", "--data"])
            .arg(&data)
            .args(["--listen", "127.0.0.1:0"]);
        if let Some(n) = cfg.max_body_arg {
            cmd.args(["--max-body", &n.to_string()]);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("start nj serve")?;
        let mut stdout = BufReader::new(child.stdout.take().context("no stdout")?);
        let mut first = String::new();
        stdout.read_line(&mut first)?;
        let Some(url) = first.strip_prefix("listening on ").map(str::trim) else {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "nj serve did not start: {first:?}\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        let addr: SocketAddr = url
            .strip_prefix("http://")
            .context("not an http URL")?
            .parse()?;
        Ok(Server {
            url: url.to_owned(),
            addr,
            data,
            log,
            child,
            _stdout: stdout,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `nj --json server ARGS --data DIR`, parsed.
    fn admin(&self, cfg: &Config, dir: &Path, args: &[&str]) -> Result<serde_json::Value> {
        let out = nj_cmd(cfg, dir)
            .arg("--json")
            .arg("server")
            .args(args)
            .arg("--data")
            .arg(&self.data)
            .output()?;
        if !out.status.success() {
            bail!(
                "nj server {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(serde_json::from_slice(&out.stdout)?)
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM, then waits for it to finish; its exit status.
    fn stop(&mut self) -> Result<String> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Ok(format!("had already exited: {status}"));
        }
        Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()?;
        let end = Instant::now() + Duration::from_secs(75);
        while Instant::now() < end {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status.to_string());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child.kill()?;
        self.child.wait()?;
        Ok("did not stop within 75 s of SIGTERM; killed".into())
    }
}

// ---------------------------------------------------------------------------
// The server's memory, every 250 ms.

#[derive(Default)]
struct Mem {
    max_rss_kb: u64,
    hwm_kb: u64,
    max_threads: u64,
    max_fds: usize,
    /// (seconds since the start, RSS in kB)
    samples: Vec<(f64, u64)>,
}

fn proc_status(pid: u32) -> Option<(u64, u64, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = s.lines().find(|l| l.starts_with(name))?;
        line[name.len()..].split_whitespace().next()?.parse().ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?, field("Threads:")?))
}

fn monitor(pid: u32, start: Instant, stop: Arc<AtomicBool>) -> JoinHandle<Mem> {
    std::thread::spawn(move || {
        let mut m = Mem::default();
        while !stop.load(Ordering::Relaxed) {
            if let Some((rss, hwm, threads)) = proc_status(pid) {
                m.max_rss_kb = m.max_rss_kb.max(rss);
                m.hwm_kb = m.hwm_kb.max(hwm);
                m.max_threads = m.max_threads.max(threads);
                m.samples.push((start.elapsed().as_secs_f64(), rss));
            }
            if let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
                m.max_fds = m.max_fds.max(fds.count());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        m
    })
}

// ---------------------------------------------------------------------------
// Valid devices: a journal each, synced the way `nj sync` does.

struct DeviceSpec {
    journal: usize,
    index: usize,
    path: PathBuf,
}

impl DeviceSpec {
    fn name(&self) -> String {
        format!("j{}d{}", self.journal, self.index)
    }
}

#[derive(Default)]
struct DeviceStats {
    syncs: u64,
    failed: u64,
    latencies_ms: Vec<u32>,
    pushed: usize,
    pulled: usize,
    blobs_pushed: usize,
    blobs_pulled: usize,
    conflicts: usize,
    skipped: usize,
    changes: BTreeMap<&'static str, u64>,
    change_errors: Vec<String>,
}

impl DeviceStats {
    fn add(&mut self, s: &Summary) {
        self.pushed += s.pushed;
        self.pulled += s.pulled;
        self.blobs_pushed += s.blobs_pushed;
        self.blobs_pulled += s.blobs_pulled;
        self.conflicts += s.conflicts;
        self.skipped += s.skipped;
    }

    fn merge(&mut self, o: DeviceStats) {
        self.syncs += o.syncs;
        self.failed += o.failed;
        self.latencies_ms.extend(o.latencies_ms);
        self.pushed += o.pushed;
        self.pulled += o.pulled;
        self.blobs_pushed += o.blobs_pushed;
        self.blobs_pulled += o.blobs_pulled;
        self.conflicts += o.conflicts;
        self.skipped += o.skipped;
        for (k, v) in o.changes {
            *self.changes.entry(k).or_default() += v;
        }
        self.change_errors.extend(o.change_errors);
    }
}

/// What went wrong, for the report.
struct Failures {
    start: Instant,
    list: Mutex<Vec<String>>,
    count: AtomicU64,
}

impl Failures {
    fn add(&self, what: String) {
        let n = self.count.fetch_add(1, Ordering::Relaxed);
        let line = format!("[{:7.1} s] {what}", self.start.elapsed().as_secs_f64());
        eprintln!("server_soak: FAILURE {line}");
        if n < 50 {
            self.list.lock().unwrap().push(line);
        }
    }
}

/// Opens a device's journal and points it at the server, as `nj remote set
/// URL --token TOKEN --key KEY` does: the URL, the token and the shared key
/// stored in the journal, and the change log turned on.
fn set_up_device(spec: &DeviceSpec, url: &str, token: &str, key: &JournalKey) -> Result<()> {
    let mut j = Journal::open(&spec.path)?;
    let now = now_ts();
    j.set_meta(now, "remote_url", url)?;
    j.set_meta(now, "remote_token", token)?;
    j.store_key(now, key, None)?;
    j.enable_sync(now)?;
    Ok(())
}

/// One `nj sync`: the key, the device id, a transport, the protocol.
fn sync_once(j: &mut Journal) -> Result<Summary> {
    let now = now_ts();
    let key = j
        .unlock_key(|| {
            Err(newsjournal::Error::BadInput(
                "the bench's keys have no passphrase".into(),
            ))
        })?
        .context("the journal has no key")?;
    j.enable_sync(now)?;
    let device = j.meta("device_id")?.unwrap_or_default();
    let url = j.meta("remote_url")?.context("no remote")?;
    let token = j.meta("remote_token")?.context("no token")?;
    let mut transport = HttpTransport::new(&url, &token).with_device(&device);
    let summary = {
        let mut replica = JournalReplica::new(j, now);
        sync(&mut replica, &mut transport, &key, 10_000, |_| {})
    };
    let summary = summary.with_context(|| format!("sync with {url}"))?;
    j.set_meta(now, "last_sync_at", &now.0.to_string())?;
    Ok(summary)
}

/// A text of about `bytes` bytes that compresses poorly, so that sealed it
/// is larger than a request (it then syncs in parts).
fn big_text(rng: &mut Rng, bytes: usize) -> String {
    const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut s = String::with_capacity(bytes + 16);
    while s.len() < bytes {
        let n = rng.range(3, 9);
        for _ in 0..n {
            s.push(*rng.pick(ALPHA) as char);
        }
        s.push(if rng.below(12) == 0 { '\n' } else { ' ' });
    }
    s
}

/// One small change of the kinds people make, some of them to things other
/// devices change too (titles, tags, notes, the bin), so the merge works.
fn make_change(
    j: &mut Journal,
    rng: &mut Rng,
    who: &str,
    n: u64,
    big_bytes: usize,
) -> Result<&'static str> {
    let now = now_ts();
    let roll = rng.below(100);
    let recent = |j: &Journal, removed: bool| {
        j.list(&ListFilter {
            limit: 300,
            removed,
            ..ListFilter::default()
        })
    };
    let clip = |title: String, text: String, url: String, tags: Vec<String>| NewClip {
        content: Content::new(&text),
        title,
        urls: vec![url],
        tags,
        ..NewClip::default()
    };
    let kind = match roll {
        0..=27 => "note",
        28..=47 => "clip",
        48..=49 => "clip of a shared text",
        50 => "large clip",
        51..=60 => "note on an article",
        61..=70 => "retag",
        71..=78 => "retitle",
        79..=92 => "edit a note",
        _ => "bin or restore",
    };
    match kind {
        "clip" => {
            let tags = (0..rng.below(3))
                .map(|_| rng.pick(TAGS).to_string())
                .collect();
            let title = format!("Story {who} {n}");
            let text = format!(
                "{title}\n\n{}\n\n{}",
                words(rng, 30, 120),
                words(rng, 10, 60)
            );
            let c = clip(title, text, format!("https://soak.example/{who}/{n}"), tags);
            j.clip(now, &c)?;
        }
        "clip of a shared text" => {
            // The same page clipped on several devices, maybe at once.
            let k = rng.below(8);
            let mut fixed = Rng::new(99, k);
            let title = format!("Shared story {k}");
            let text = format!("{title}\n\n{}", words(&mut fixed, 80, 80));
            let tags = vec![rng.pick(TAGS).to_string()];
            let c = clip(
                title,
                text,
                format!("https://soak.example/shared/{k}"),
                tags,
            );
            j.clip(now, &c)?;
        }
        "large clip" => {
            let title = format!("Large story {who} {n}");
            let text = format!("{title}\n\n{}", big_text(rng, big_bytes));
            let c = clip(
                title,
                text,
                format!("https://soak.example/{who}/large/{n}"),
                vec![],
            );
            j.clip(now, &c)?;
        }
        "note on an article" | "retag" | "retitle" => {
            let articles = recent(&*j, false)?;
            if articles.is_empty() {
                let body = format!("note {who} {n}: {}", words(rng, 5, 25));
                j.write(now, |tx| tx.add_note(None, &body).map(|_| ()))?;
                return Ok("note");
            }
            let a = rng.pick(&articles).clone();
            let aref = a.as_ref();
            match kind {
                "note on an article" => {
                    let body = format!("about {} from {who} {n}: {}", a.title, words(rng, 5, 25));
                    j.write(now, |tx| tx.add_note(Some(&aref), &body).map(|_| ()))?;
                }
                "retag" => {
                    let add = vec![rng.pick(TAGS).to_string()];
                    let remove: Vec<String> = if !a.tags.is_empty() && rng.below(2) == 0 {
                        vec![rng.pick(&a.tags).clone()]
                    } else {
                        vec![]
                    };
                    j.write(now, |tx| tx.retag(&aref, &add, &remove).map(|_| ()))?;
                }
                _ => {
                    let title = format!("Retitled by {who} at {n}: {}", words(rng, 2, 6));
                    j.write(now, |tx| tx.set_title(&aref, &title).map(|_| ()))?;
                }
            }
        }
        "edit a note" => {
            let notes = j.notes(&NoteFilter {
                limit: 300,
                ..NoteFilter::default()
            })?;
            if notes.is_empty() {
                let body = format!("note {who} {n}: {}", words(rng, 5, 25));
                j.write(now, |tx| tx.add_note(None, &body).map(|_| ()))?;
                return Ok("note");
            }
            let note = rng.pick(&notes).clone();
            let nref = j.resolve_note(&note.id)?;
            let body = format!("edited by {who} at {n}: {}", words(rng, 5, 25));
            j.write(now, |tx| tx.edit_note(&nref, &body, &note.text).map(|_| ()))?;
        }
        "bin or restore" => {
            let binned = recent(&*j, true)?;
            let restore = !binned.is_empty() && rng.below(2) == 0;
            let pool = if restore { binned } else { recent(&*j, false)? };
            if let Some(a) = (!pool.is_empty()).then(|| rng.pick(&pool).as_ref()) {
                j.write(now, |tx| tx.set_removed(&a, !restore).map(|_| ()))?;
            }
        }
        _ => {
            let body = format!("note {who} {n}: {}", words(rng, 5, 25));
            j.write(now, |tx| tx.add_note(None, &body).map(|_| ()))?;
        }
    }
    Ok(kind)
}

struct DeviceRun {
    spec: DeviceSpec,
    deadline: Instant,
    think_ms: u64,
    big_bytes: usize,
    seed: u64,
    failures: Arc<Failures>,
    syncs: Arc<AtomicU64>,
}

fn run_device(d: DeviceRun) -> DeviceStats {
    let mut st = DeviceStats::default();
    let who = d.spec.name();
    let mut rng = Rng::new(d.seed, (d.spec.journal * 1000 + d.spec.index) as u64);
    let mut j = match Journal::open(&d.spec.path) {
        Ok(j) => j,
        Err(e) => {
            d.failures
                .add(format!("{who}: cannot open its journal: {e}"));
            st.failed += 1;
            return st;
        }
    };
    let mut n = 0u64;
    let never = AtomicBool::new(false);
    while Instant::now() < d.deadline {
        n += 1;
        match make_change(&mut j, &mut rng, &who, n, d.big_bytes) {
            Ok(kind) => *st.changes.entry(kind).or_default() += 1,
            Err(e) => {
                if st.change_errors.len() < 5 {
                    st.change_errors.push(format!("{who}: {e:#}"));
                }
            }
        }
        let t = Instant::now();
        let r = sync_once(&mut j);
        let ms = t.elapsed().as_millis() as u32;
        st.syncs += 1;
        d.syncs.fetch_add(1, Ordering::Relaxed);
        match r {
            Ok(s) => {
                st.latencies_ms.push(ms);
                st.add(&s);
            }
            Err(e) => {
                st.failed += 1;
                d.failures
                    .add(format!("valid sync of {who} failed after {ms} ms: {e:#}"));
            }
        }
        let left = d.deadline.saturating_duration_since(Instant::now());
        let think = Duration::from_millis(rng.below(d.think_ms + 1));
        nap(think.min(left), &never);
    }
    st
}

// ---------------------------------------------------------------------------
// The state a device shows, for the convergence check.

#[derive(PartialEq, Eq)]
struct State {
    articles: BTreeSet<String>,
    notes: BTreeSet<String>,
    tags: BTreeSet<String>,
}

fn state_of(path: &Path) -> Result<State> {
    let j = Journal::open(path)?;
    let mut articles = BTreeSet::new();
    for removed in [false, true] {
        for a in j.list(&ListFilter {
            removed,
            ..ListFilter::default()
        })? {
            let mut tags = a.tags.clone();
            tags.sort();
            let mut urls = a.urls.clone();
            urls.sort();
            articles.insert(format!(
                "{} | {} | binned={} | {} | tags={} | urls={}",
                a.id,
                a.title,
                removed,
                a.content_hash,
                tags.join(","),
                urls.join(",")
            ));
        }
    }
    let mut notes = BTreeSet::new();
    for removed in [false, true] {
        for note in j.notes(&NoteFilter {
            removed,
            ..NoteFilter::default()
        })? {
            notes.insert(format!(
                "{} | on={} | removed={} | {}",
                note.id,
                note.article_id.as_deref().unwrap_or("-"),
                removed,
                note.text
            ));
        }
    }
    let tags = j
        .tags()?
        .into_iter()
        .map(|(t, n)| format!("{t}={n}"))
        .collect();
    Ok(State {
        articles,
        notes,
        tags,
    })
}

/// The first few lines where `a` and `b` differ.
fn differences(a: &BTreeSet<String>, b: &BTreeSet<String>) -> String {
    let only_a: Vec<_> = a.difference(b).take(3).collect();
    let only_b: Vec<_> = b.difference(a).take(3).collect();
    format!("only on the first: {only_a:?}; only on the other: {only_b:?}")
}

// ---------------------------------------------------------------------------
// Attackers: raw HTTP over TCP, so every byte is theirs to choose.

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    OversizeDeclared,
    OversizeChunked,
    BadFormatOp,
    FetchDupes,
    LongDeviceId,
    EdgeNumbers,
    SeqGap,
    SlowHeaders,
    Garbage,
    TokenlessFlood,
}

const WITH_TOKEN: &[Kind] = &[
    Kind::OversizeDeclared,
    Kind::OversizeChunked,
    Kind::BadFormatOp,
    Kind::FetchDupes,
    Kind::LongDeviceId,
    Kind::EdgeNumbers,
    Kind::SeqGap,
    Kind::SlowHeaders,
    Kind::Garbage,
    Kind::TokenlessFlood,
];

const WITHOUT_TOKEN: &[Kind] = &[Kind::SlowHeaders, Kind::Garbage, Kind::TokenlessFlood];

impl Kind {
    fn describe(self) -> &'static str {
        match self {
            Kind::OversizeDeclared => "(1) body over the limit, length declared",
            Kind::OversizeChunked => "(1) body over the limit, chunked (no length)",
            Kind::BadFormatOp => "(2) 3-byte op of an unknown format (and 40-byte)",
            Kind::FetchDupes => "(3) blobs/fetch, one id 1000 times (and 1001 ids)",
            Kind::LongDeviceId => "(4) device id of up to 8 MiB, bad characters",
            Kind::EdgeNumbers => "(4) i64-edge seq/hlc_ms/after/limit",
            Kind::SeqGap => "(4) gap and rewrite in a device's sequence",
            Kind::SlowHeaders => "(5) slow headers, no token (connections)",
            Kind::Garbage => "garbage HTTP",
            Kind::TokenlessFlood => "token-less flood (no, wrong, empty token)",
        }
    }

    /// Whether an answer (a status code, or what happened instead) is one
    /// the server should give to this attack.
    fn expected(self, label: &str) -> bool {
        match self {
            Kind::OversizeDeclared | Kind::OversizeChunked => {
                matches!(label, "413" | "reset" | "closed")
            }
            Kind::BadFormatOp => label == "200",
            Kind::FetchDupes => matches!(label, "200" | "400"),
            Kind::LongDeviceId => matches!(label, "400" | "200"),
            Kind::EdgeNumbers => matches!(label, "400" | "409" | "422" | "200"),
            Kind::SeqGap => matches!(label, "409" | "200"),
            Kind::SlowHeaders => {
                label.starts_with("closed by the server") || label.starts_with("dropped by us")
            }
            Kind::Garbage => {
                label.starts_with('4') || matches!(label, "closed" | "reset" | "501" | "505")
            }
            Kind::TokenlessFlood => label == "401",
        }
    }
}

#[derive(Default)]
struct KindStats {
    sent: u64,
    answers: BTreeMap<String, u64>,
    /// Bytes of the largest answer.
    max_answer: usize,
}

#[derive(Default)]
struct AttackStats {
    kinds: BTreeMap<Kind, KindStats>,
    /// Of the slow connections: how long until the server closed them.
    slow_closed_s: Vec<f64>,
}

/// What came back for one request.
struct Answer {
    /// The status code, or "closed", "reset", "timeout", "connect failed".
    label: String,
    /// The body (up to 64 KiB of it).
    body: Vec<u8>,
    /// All the bytes of the answer.
    bytes: usize,
}

enum Body<'a> {
    None,
    Bytes(&'a [u8]),
    /// Declares `declared` bytes and sends `send` of them.
    Declared {
        declared: u64,
        send: usize,
    },
    /// Sends `total` bytes chunked, with no length.
    Chunked(usize),
}

struct Attacker {
    index: usize,
    token: Option<String>,
    /// Where its connections come from: 127.0.0.1, as the valid clients,
    /// or another loopback address of its own.
    from: IpAddr,
    addr: SocketAddr,
    max_body: usize,
    /// The device id its operations claim, and the next number.
    device: String,
    next_seq: u64,
    /// A blob it stored, of half a request, for the fetch attack.
    blob: String,
    rng: Rng,
    rt: tokio::runtime::Runtime,
    stats: Arc<Mutex<AttackStats>>,
    failures: Arc<Failures>,
    stop: Arc<AtomicBool>,
    chunked_in_flight: Arc<AtomicUsize>,
}

fn head(method: &str, path: &str, token: Option<&str>, extra: &[String]) -> String {
    let mut h = format!("{method} {path} HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n");
    if let Some(t) = token {
        h.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    for e in extra {
        h.push_str(e);
        h.push_str("\r\n");
    }
    h
}

/// The status code of an HTTP answer's first line.
fn status_of(answer: &[u8]) -> Option<u16> {
    let line = answer.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split_whitespace();
    parts.next().filter(|p| p.starts_with("HTTP/"))?;
    parts.next()?.parse().ok()
}

impl Attacker {
    fn connect(&self) -> io::Result<TcpStream> {
        let to = self.addr;
        let stream = if self.from == IpAddr::V4(Ipv4Addr::LOCALHOST) {
            TcpStream::connect_timeout(&to, Duration::from_secs(5))?
        } else {
            let from = self.from;
            self.rt.block_on(async move {
                let s = tokio::net::TcpSocket::new_v4()?;
                s.bind(SocketAddr::new(from, 0))?;
                let s = tokio::time::timeout(Duration::from_secs(5), s.connect(to))
                    .await
                    .map_err(|_| io::Error::new(ErrorKind::TimedOut, "connect timed out"))??;
                let s = s.into_std()?;
                s.set_nonblocking(false)?;
                Ok::<_, io::Error>(s)
            })?
        };
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        stream.set_write_timeout(Some(Duration::from_secs(30)))?;
        Ok(stream)
    }

    /// Sends a request (`head`: its line and headers, without the blank
    /// line that ends them) and reads the answer to its end.
    fn exchange(&self, head: &str, body: Body<'_>) -> Answer {
        let mut stream = match self.connect() {
            Ok(s) => s,
            Err(e) => {
                return Answer {
                    label: format!("connect failed ({})", e.kind()),
                    body: vec![],
                    bytes: 0,
                }
            }
        };
        let mut req = head.to_owned();
        match &body {
            Body::None => {}
            Body::Bytes(b) => req.push_str(&format!("Content-Length: {}\r\n", b.len())),
            Body::Declared { declared, .. } => {
                req.push_str(&format!("Content-Length: {declared}\r\n"))
            }
            Body::Chunked(_) => req.push_str("Transfer-Encoding: chunked\r\n"),
        }
        req.push_str("\r\n");
        // Writes may fail once the server has answered and closed: the
        // answer may still be there to read.
        let _ = (|| -> io::Result<()> {
            stream.write_all(req.as_bytes())?;
            match body {
                Body::None => {}
                Body::Bytes(b) => stream.write_all(b)?,
                Body::Declared { send, .. } => stream.write_all(&vec![b'x'; send])?,
                Body::Chunked(total) => {
                    let chunk = vec![b'x'; 64 * 1024];
                    let mut sent = 0;
                    while sent < total {
                        let n = chunk.len().min(total - sent);
                        stream.write_all(format!("{n:x}\r\n").as_bytes())?;
                        stream.write_all(&chunk[..n])?;
                        stream.write_all(b"\r\n")?;
                        sent += n;
                    }
                    stream.write_all(b"0\r\n\r\n")?;
                }
            }
            stream.flush()
        })();
        read_answer(&mut stream)
    }

    fn record(&self, kind: Kind, answer: &Answer) {
        let mut st = self.stats.lock().unwrap();
        let k = st.kinds.entry(kind).or_default();
        k.sent += 1;
        *k.answers.entry(answer.label.clone()).or_default() += 1;
        k.max_answer = k.max_answer.max(answer.bytes);
        drop(st);
        if let Ok(code) = answer.label.parse::<u16>() {
            if (500..600).contains(&code) && code != 501 && code != 505 {
                self.failures.add(format!(
                    "the server answered {code} to attack {kind:?} from attacker {}: {}",
                    self.index,
                    String::from_utf8_lossy(&answer.body[..answer.body.len().min(300)])
                ));
            }
        }
    }

    fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    fn push(&self, ops_json: &str) -> Answer {
        let body = format!("{{\"ops\":[{ops_json}]}}");
        let h = head(
            "POST",
            "/v1/ops",
            self.token(),
            &["Content-Type: application/json".into()],
        );
        self.exchange(&h, Body::Bytes(body.as_bytes()))
    }

    fn op_json(
        device: &str,
        seq: impl std::fmt::Display,
        hlc: impl std::fmt::Display,
        payload: &[u8],
    ) -> String {
        format!(
            "{{\"device\":\"{device}\",\"seq\":{seq},\"hlc_ms\":{hlc},\"payload\":\"{}\"}}",
            BASE64.encode(payload)
        )
    }

    /// Learns where its device's sequence stands on the server.
    fn resync(&mut self) {
        let h = head("GET", "/v1/status", self.token(), &[]);
        let a = self.exchange(&h, Body::None);
        let held = serde_json::from_slice::<serde_json::Value>(&a.body)
            .ok()
            .and_then(|v| v["devices"][&self.device].as_u64())
            .unwrap_or(0);
        self.next_seq = held + 1;
    }

    fn now_ms() -> i64 {
        now_ts().0
    }

    fn attack(&mut self, kind: Kind) {
        match kind {
            Kind::OversizeDeclared => {
                let (method, path, declared) = match self.rng.below(3) {
                    0 => ("POST", "/v1/ops".to_string(), self.max_body as u64 + 1),
                    1 => ("PUT", "/v1/blobs/soak-big".to_string(), 1 << 30),
                    _ => ("POST", "/v1/blobs/store".to_string(), 8 << 20),
                };
                let h = head(method, &path, self.token(), &[]);
                let send = (declared as usize).min(16 * 1024);
                let a = self.exchange(&h, Body::Declared { declared, send });
                self.record(kind, &a);
            }
            Kind::OversizeChunked => {
                // At most a few at once: each costs the server a body's
                // worth of memory until it refuses it.
                if self.chunked_in_flight.fetch_add(1, Ordering::SeqCst) >= MAX_CHUNKED_IN_FLIGHT {
                    self.chunked_in_flight.fetch_sub(1, Ordering::SeqCst);
                    return self.attack(Kind::OversizeDeclared);
                }
                let h = head("POST", "/v1/ops", self.token(), &[]);
                let a = self.exchange(&h, Body::Chunked(self.max_body + 64 * 1024));
                self.chunked_in_flight.fetch_sub(1, Ordering::SeqCst);
                self.record(kind, &a);
            }
            Kind::BadFormatOp => {
                let first = *self.rng.pick(&[0x00u8, 0x02, 0x7f, 0xff]);
                debug_assert_ne!(first, FORMAT_VERSION);
                let mut payload = vec![first];
                let len = if self.rng.below(4) == 0 { 39 } else { 2 };
                payload.extend(self.rng.bytes(len));
                let op = Self::op_json(&self.device, self.next_seq, Self::now_ms(), &payload);
                let a = self.push(&op);
                self.record(kind, &a);
                if a.label == "200" {
                    self.next_seq += 1;
                } else {
                    self.resync();
                }
            }
            Kind::FetchDupes => {
                let ids: Vec<String> = match self.rng.below(4) {
                    0 => vec![self.blob.clone(); 1001],
                    1 => {
                        let other = format!("soak-blob-{}", self.rng.below(40));
                        (0..1000)
                            .map(|i| {
                                if i % 2 == 0 {
                                    self.blob.clone()
                                } else {
                                    other.clone()
                                }
                            })
                            .collect()
                    }
                    _ => vec![self.blob.clone(); 1000],
                };
                let body = serde_json::to_vec(&serde_json::json!({ "ids": ids })).unwrap();
                let h = head(
                    "POST",
                    "/v1/blobs/fetch",
                    self.token(),
                    &["Content-Type: application/json".into()],
                );
                let a = self.exchange(&h, Body::Bytes(&body));
                self.record(kind, &a);
                // An answer holds at most a body's worth of blob bytes, in
                // base64 (a third larger), plus its JSON.
                let bound = self.max_body / 3 * 4 + 64 * 1024;
                if a.bytes > bound {
                    self.failures.add(format!(
                        "blobs/fetch of repeated ids answered {} bytes, over {bound}",
                        a.bytes
                    ));
                }
            }
            Kind::LongDeviceId => {
                let a = match self.rng.below(3) {
                    0 => {
                        let len = (8usize << 20).min(self.max_body.saturating_sub(1024));
                        let device = "a".repeat(len);
                        self.push(&Self::op_json(&device, 1, Self::now_ms(), b"xyz"))
                    }
                    1 => {
                        let device = *self.rng.pick(&["../etc", "dev ice", "d\\u0000", ""]);
                        self.push(&Self::op_json(device, 1, Self::now_ms(), b"xyz"))
                    }
                    _ => {
                        // A long NJ-Device header: ignored, never stored.
                        let h = head(
                            "GET",
                            "/v1/status",
                            self.token(),
                            &[format!("NJ-Device: {}", "d".repeat(8 * 1024))],
                        );
                        self.exchange(&h, Body::None)
                    }
                };
                self.record(kind, &a);
            }
            Kind::EdgeNumbers => {
                let dev = &self.device;
                let now = Self::now_ms();
                let a = match self.rng.below(10) {
                    0 => self.push(&Self::op_json(dev, 0, now, b"xyz")),
                    1 => self.push(&Self::op_json(dev, i64::MAX as u64 + 1, now, b"xyz")),
                    2 => self.push(&Self::op_json(dev, u64::MAX, now, b"xyz")),
                    3 => self.push(&Self::op_json(dev, "18446744073709551616", now, b"xyz")),
                    4 => self.push(&Self::op_json(dev, self.next_seq, i64::MAX, b"xyz")),
                    5 => self.push(&Self::op_json(dev, self.next_seq, i64::MIN, b"xyz")),
                    6 => self.push(&Self::op_json(dev, self.next_seq, -1, b"xyz")),
                    7 => {
                        let q = *self.rng.pick(&[
                            "after=18446744073709551615",
                            "after=9223372036854775808",
                            "after=-1",
                            "after=99999999999999999999999",
                            "limit=18446744073709551615",
                            "limit=99999999999999999999999",
                        ]);
                        let h = head("GET", &format!("/v1/ops?{q}"), self.token(), &[]);
                        self.exchange(&h, Body::None)
                    }
                    8 => {
                        let h = head(
                            "GET",
                            "/v1/ops?after=9223372036854775807&limit=5",
                            self.token(),
                            &[],
                        );
                        self.exchange(&h, Body::None)
                    }
                    _ => self.push(&Self::op_json(
                        dev,
                        self.next_seq,
                        "9223372036854775808",
                        b"xyz",
                    )),
                };
                self.record(kind, &a);
            }
            Kind::SeqGap => {
                let now = Self::now_ms();
                let a = match self.rng.below(3) {
                    // A gap: one past the next.
                    0 => self.push(&Self::op_json(&self.device, self.next_seq + 1, now, b"gap")),
                    // Far ahead.
                    1 => self.push(&Self::op_json(
                        &self.device,
                        self.next_seq + 1_000_000,
                        now,
                        b"gap",
                    )),
                    // Backwards: its first, with other content.
                    _ if self.next_seq > 1 => {
                        let other = self.rng.bytes(8);
                        self.push(&Self::op_json(&self.device, 1, now, &other))
                    }
                    _ => self.push(&Self::op_json(&self.device, self.next_seq + 2, now, b"gap")),
                };
                self.record(kind, &a);
            }
            Kind::SlowHeaders => self.slow_headers(),
            Kind::Garbage => {
                let raw: Vec<u8> = match self.rng.below(9) {
                    0 => self.rng.bytes(512),
                    1 => b"GET /v1/status HTTP/1.1\r\nthis is not a header\r\n\r\n".to_vec(),
                    2 => format!("GET /{} HTTP/1.1\r\nHost: soak\r\n\r\n", "a".repeat(80 * 1024))
                        .into_bytes(),
                    3 => {
                        let mut s = "GET /v1/status HTTP/1.1\r\nHost: soak\r\n".to_string();
                        for i in 0..150 {
                            s.push_str(&format!("X-H{i}: {}\r\n", "v".repeat(64)));
                        }
                        s.push_str("\r\n");
                        s.into_bytes()
                    }
                    4 => b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
                    5 => b"GET /v1/status HTTP/7.0\r\nHost: soak\r\n\r\n".to_vec(),
                    6 => b"POST /v1/ops HTTP/1.1\r\nHost: soak\r\nContent-Length: -5\r\n\r\n"
                        .to_vec(),
                    7 => b"POST /v1/ops HTTP/1.1\r\nHost: soak\r\nContent-Length: 5\r\nContent-Length: 9\r\n\r\nabcde".to_vec(),
                    _ => b"POST /v1/ops HTTP/1.1\r\nHost: soak\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n"
                        .to_vec(),
                };
                let a = self.exchange_raw(&raw);
                self.record(kind, &a);
            }
            Kind::TokenlessFlood => {
                let n = self.rng.range(10, 30);
                for _ in 0..n {
                    if self.stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let auth = match self.rng.below(4) {
                        0 => None,
                        1 => Some(format!(
                            "Authorization: Bearer njt_{}",
                            BASE64
                                .encode(self.rng.bytes(24))
                                .replace(['+', '/', '='], "x")
                        )),
                        2 => Some("Authorization: Bearer".to_string()),
                        _ => Some("Authorization: Basic dXNlcjpwYXNz".to_string()),
                    };
                    let extra: Vec<String> = auth.into_iter().collect();
                    let a = match self.rng.below(3) {
                        0 => {
                            let h = head("GET", "/v1/status", None, &extra);
                            self.exchange(&h, Body::None)
                        }
                        1 => {
                            let h = head("GET", "/v1/ops?after=0", None, &extra);
                            self.exchange(&h, Body::None)
                        }
                        _ => {
                            let h = head("POST", "/v1/ops", None, &extra);
                            self.exchange(&h, Body::Bytes(br#"{"ops":[]}"#))
                        }
                    };
                    self.record(kind, &a);
                }
            }
        }
    }

    fn exchange_raw(&self, raw: &[u8]) -> Answer {
        let mut stream = match self.connect() {
            Ok(s) => s,
            Err(e) => {
                return Answer {
                    label: format!("connect failed ({})", e.kind()),
                    body: vec![],
                    bytes: 0,
                }
            }
        };
        let _ = stream.write_all(raw);
        let _ = stream.shutdown(std::net::Shutdown::Write);
        read_answer(&mut stream)
    }

    /// Opens 8 to 32 connections that send half a request head and then a
    /// byte a second, without a token, and holds them for 3 to 14 s (or
    /// until the server closes them).
    fn slow_headers(&mut self) {
        struct Slow {
            stream: TcpStream,
            opened: Instant,
        }
        let k = self.rng.range(8, 32);
        let hold = Duration::from_secs(self.rng.range(3, 14));
        let mut open: Vec<Slow> = Vec::new();
        let mut outcomes: Vec<(String, Option<f64>)> = Vec::new();
        for _ in 0..k {
            match self.connect() {
                Ok(mut s) => {
                    let _ = s.write_all(b"GET /v1/status HTTP/1.1\r\nHost: soak\r\nX-Slow: ");
                    let _ = s.set_nonblocking(true);
                    open.push(Slow {
                        stream: s,
                        opened: Instant::now(),
                    });
                }
                Err(e) => outcomes.push((format!("connect failed ({})", e.kind()), None)),
            }
        }
        let start = Instant::now();
        let limit = HEADER_TIMEOUT + Duration::from_secs(3);
        while !open.is_empty() && start.elapsed() < hold && !self.stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(500));
            open.retain_mut(|c| {
                let _ = c.stream.write(b"a");
                let mut buf = [0u8; 512];
                let closed = match c.stream.read(&mut buf) {
                    Ok(_) => true,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => false,
                    Err(_) => true,
                };
                if closed {
                    let age = c.opened.elapsed();
                    let label = if age <= limit {
                        "closed by the server in time"
                    } else {
                        "closed by the server late"
                    };
                    outcomes.push((label.into(), Some(age.as_secs_f64())));
                }
                !closed
            });
        }
        for c in open {
            let age = c.opened.elapsed();
            let label = if age <= limit {
                "dropped by us while open"
            } else {
                "OPEN past the header timeout"
            };
            outcomes.push((label.into(), None));
        }
        let mut st = self.stats.lock().unwrap();
        for (label, closed_after) in outcomes {
            let kst = st.kinds.entry(Kind::SlowHeaders).or_default();
            kst.sent += 1;
            *kst.answers.entry(label).or_default() += 1;
            if let Some(s) = closed_after {
                st.slow_closed_s.push(s);
            }
        }
    }
}

/// Reads an answer to its end (the request said `Connection: close`).
fn read_answer(stream: &mut TcpStream) -> Answer {
    let mut got = Vec::new();
    let mut total = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    let mut err = None;
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                total += n;
                if got.len() < 128 * 1024 {
                    got.extend_from_slice(&buf[..n]);
                }
                if total > 256 << 20 {
                    break;
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                err = Some(e.kind());
                break;
            }
        }
    }
    let status = status_of(&got);
    let label = match (status, err) {
        (Some(code), _) => code.to_string(),
        (None, Some(ErrorKind::ConnectionReset)) => "reset".into(),
        (None, Some(ErrorKind::WouldBlock | ErrorKind::TimedOut)) => "timeout".into(),
        (None, Some(k)) => format!("error ({k})"),
        (None, None) => "closed".into(),
    };
    let body_at = got
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(got.len(), |p| p + 4);
    Answer {
        label,
        body: got[body_at..].iter().copied().take(64 * 1024).collect(),
        bytes: total,
    }
}

fn run_attacker(mut a: Attacker) {
    let kinds = if a.token.is_some() {
        WITH_TOKEN
    } else {
        WITHOUT_TOKEN
    };
    if a.token.is_some() {
        // Its blob for the fetch attack, and its device's place.
        let data = a.rng.bytes((a.max_body / 2).min(1 << 20));
        let h = head("PUT", &format!("/v1/blobs/{}", a.blob), a.token(), &[]);
        // As a real client does (`nj sync` too): a connection the server
        // closed unread, in the flood of new connections at the start, is
        // tried again.
        let mut r = a.exchange(&h, Body::Bytes(&data));
        for pause in [100, 500, 2000, 5000] {
            if !matches!(r.label.as_str(), "closed" | "reset") {
                break;
            }
            std::thread::sleep(Duration::from_millis(pause));
            r = a.exchange(&h, Body::Bytes(&data));
        }
        if !matches!(r.label.as_str(), "200" | "201") {
            a.failures.add(format!(
                "attacker {} could not store its blob: {}",
                a.index, r.label
            ));
        }
        a.resync();
    }
    let mut turn = a.rng.below(kinds.len() as u64) as usize;
    while !a.stop.load(Ordering::Relaxed) {
        let kind = kinds[turn % kinds.len()];
        turn += 1;
        a.attack(kind);
        let pause = Duration::from_millis(a.rng.range(50, 200));
        nap(pause, &a.stop);
    }
}

// ---------------------------------------------------------------------------
// The run.

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn mb(kb: u64) -> String {
    format!("{:.1} MB", kb as f64 / 1024.0)
}

fn main() {
    match run() {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("server_soak: {e:#}");
            std::process::exit(2);
        }
    }
}

fn run() -> Result<bool> {
    let cfg = Config::from_env()?;
    let work = tempfile::Builder::new().prefix("nj-soak-").tempdir()?;
    let dir = work.path().to_path_buf();
    eprintln!("server_soak: working in {}", dir.display());

    let mut server = Server::start(&cfg, &dir)?;
    eprintln!(
        "server_soak: nj serve (pid {}) at {}",
        server.pid(),
        server.url
    );

    // Journals, a token per device and per attacker, a key per journal.
    let mut journals = Vec::new();
    let mut specs = Vec::new();
    let mut attacker_tokens: Vec<Option<String>> = vec![None; cfg.attackers];
    let devices_dir = dir.join("devices");
    for jn in 0..cfg.journals {
        let v = server.admin(&cfg, &dir, &["new-journal"])?;
        let jid = v["journal"].as_str().context("no journal id")?.to_owned();
        let first = v["token"].as_str().context("no token")?.to_owned();
        let key = JournalKey::generate();
        for d in 0..cfg.devices {
            let token = if d == 0 {
                first.clone()
            } else {
                let v = server.admin(&cfg, &dir, &["new-token", "--journal", &jid])?;
                v["token"].as_str().context("no token")?.to_owned()
            };
            let spec = DeviceSpec {
                journal: jn,
                index: d,
                path: devices_dir.join(format!("j{jn}d{d}.db")),
            };
            set_up_device(&spec, &server.url, &token, &key)?;
            specs.push(spec);
        }
        journals.push(jid);
    }
    // One attacker in five has no token; the others have one of a journal
    // the valid devices use.
    for (i, slot) in attacker_tokens.iter_mut().enumerate() {
        if i % 5 != 4 {
            let jid = &journals[i % cfg.journals];
            let v = server.admin(&cfg, &dir, &["new-token", "--journal", jid])?;
            *slot = Some(v["token"].as_str().context("no token")?.to_owned());
        }
    }
    // Every device joins before the clock starts, the first of each
    // journal storing its key check.
    for spec in &specs {
        let mut j = Journal::open(&spec.path)?;
        sync_once(&mut j).with_context(|| format!("first sync of {}", spec.name()))?;
    }
    let max_body = {
        let j = Journal::open(&specs[0].path)?;
        let token = j.meta("remote_token")?.unwrap_or_default();
        let a = raw_status(server.addr, &token)?;
        a["max_body"]
            .as_u64()
            .context("the status gives no max_body")? as usize
    };
    // A large clip is a sealed text larger than a request: it goes in parts.
    let big_bytes = (max_body * 3 / 2).clamp(64 * 1024, 2 << 20);

    let tokens_with = attacker_tokens.iter().filter(|t| t.is_some()).count();
    println!(
        "## Server soak: {} s, {} journals x {} devices = {} valid clients + {} attackers ({} with a journal's token, {} without) = {} clients",
        cfg.secs,
        cfg.journals,
        cfg.devices,
        specs.len(),
        cfg.attackers,
        tokens_with,
        cfg.attackers - tokens_with,
        specs.len() + cfg.attackers
    );
    println!(
        "server: nj serve --max-body {max_body} (other limits default: header timeout 10 s, 256 connections with a token, 256 pending, 32 pending per address); devices think up to {} ms between syncs; large clips of {} KB",
        cfg.think_ms,
        big_bytes / 1024
    );
    println!();

    let start = Instant::now();
    let deadline = start + Duration::from_secs(cfg.secs);
    let failures = Arc::new(Failures {
        start,
        list: Mutex::new(Vec::new()),
        count: AtomicU64::new(0),
    });
    let mon_stop = Arc::new(AtomicBool::new(false));
    let mon = monitor(server.pid(), start, Arc::clone(&mon_stop));

    let stop = Arc::new(AtomicBool::new(false));
    let attack_stats = Arc::new(Mutex::new(AttackStats::default()));
    let chunked = Arc::new(AtomicUsize::new(0));
    let mut attackers = Vec::new();
    for (i, token) in attacker_tokens.into_iter().enumerate() {
        // With a token: from 127.0.0.1, the valid clients' address. Without:
        // half from there, half from an address of their own.
        let from = if token.is_some() || i % 10 == 4 {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            IpAddr::V4(Ipv4Addr::new(127, 0, 1, (i % 250) as u8 + 2))
        };
        let a = Attacker {
            index: i,
            token,
            from,
            addr: server.addr,
            max_body,
            device: format!("soak-attacker-{i}"),
            next_seq: 1,
            blob: format!("soak-blob-{i}"),
            rng: Rng::new(cfg.seed, 1_000_000 + i as u64),
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
            stats: Arc::clone(&attack_stats),
            failures: Arc::clone(&failures),
            stop: Arc::clone(&stop),
            chunked_in_flight: Arc::clone(&chunked),
        };
        attackers.push(
            std::thread::Builder::new()
                .name(format!("attacker-{i}"))
                .spawn(move || run_attacker(a))?,
        );
    }

    let syncs = Arc::new(AtomicU64::new(0));
    let mut devices = Vec::new();
    for spec in &specs {
        let run = DeviceRun {
            spec: DeviceSpec {
                journal: spec.journal,
                index: spec.index,
                path: spec.path.clone(),
            },
            deadline,
            think_ms: cfg.think_ms,
            big_bytes,
            seed: cfg.seed,
            failures: Arc::clone(&failures),
            syncs: Arc::clone(&syncs),
        };
        devices.push(
            std::thread::Builder::new()
                .name(spec.name())
                .spawn(move || run_device(run))?,
        );
    }

    // Progress on stderr; the server must stay up.
    let mut died = None;
    while Instant::now() < deadline {
        std::thread::sleep(
            deadline
                .saturating_duration_since(Instant::now())
                .min(Duration::from_secs(30)),
        );
        if !server.alive() && died.is_none() {
            died = Some(format!(
                "nj serve exited during the soak at {:.1} s: {:?}",
                start.elapsed().as_secs_f64(),
                server.child.try_wait()
            ));
            failures.add(died.clone().unwrap_or_default());
        }
        let rss = proc_status(server.pid()).map_or(0, |s| s.0);
        eprintln!(
            "server_soak: {:5.0} s: {} valid syncs, {} failures, server RSS {}",
            start.elapsed().as_secs_f64(),
            syncs.load(Ordering::Relaxed),
            failures.count.load(Ordering::Relaxed),
            mb(rss)
        );
    }
    let mut stats = DeviceStats::default();
    for d in devices {
        stats.merge(d.join().map_err(|_| anyhow!("a device thread panicked"))?);
    }
    let run_secs = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for a in attackers {
        a.join()
            .map_err(|_| anyhow!("an attacker thread panicked"))?;
    }
    let attacks_done = start.elapsed().as_secs_f64();

    // Two more rounds, with the attackers gone: the first pushes what is
    // left, the second pulls it everywhere.
    let mut final_failed = 0;
    let mut final_lat = Vec::new();
    for round in 1..=2 {
        for spec in &specs {
            let mut j = Journal::open(&spec.path)?;
            let t = Instant::now();
            match sync_once(&mut j) {
                Ok(_) => final_lat.push(t.elapsed().as_millis() as u32),
                Err(e) => {
                    final_failed += 1;
                    failures.add(format!(
                        "final sync {round} of {} failed: {e:#}",
                        spec.name()
                    ));
                }
            }
        }
    }
    let hwm_at_end = proc_status(server.pid()).map(|s| s.1);
    mon_stop.store(true, Ordering::Relaxed);
    let mem = mon.join().map_err(|_| anyhow!("the monitor panicked"))?;

    // Convergence: within each journal, every device shows the same.
    let mut diverged = Vec::new();
    let mut diverged_journals = BTreeSet::new();
    let mut sizes = Vec::new();
    for (jn, _) in journals.iter().enumerate() {
        let of_journal: Vec<&DeviceSpec> = specs.iter().filter(|s| s.journal == jn).collect();
        let first = state_of(&of_journal[0].path)?;
        sizes.push((first.articles.len(), first.notes.len(), first.tags.len()));
        for other in &of_journal[1..] {
            let st = state_of(&other.path)?;
            if st != first {
                let mut what = Vec::new();
                if st.articles != first.articles {
                    what.push(format!(
                        "articles ({} vs {}; {})",
                        first.articles.len(),
                        st.articles.len(),
                        differences(&first.articles, &st.articles)
                    ));
                }
                if st.notes != first.notes {
                    what.push(format!(
                        "notes ({} vs {}; {})",
                        first.notes.len(),
                        st.notes.len(),
                        differences(&first.notes, &st.notes)
                    ));
                }
                if st.tags != first.tags {
                    what.push(format!("tags ({})", differences(&first.tags, &st.tags)));
                }
                diverged_journals.insert(jn);
                diverged.push(format!(
                    "journal {jn}: {} and {} differ in {}",
                    of_journal[0].name(),
                    other.name(),
                    what.join("; ")
                ));
            }
        }
    }

    let stopped = server.stop()?;
    // What the server holds that no device can open: the attackers' ops.
    let mut bad_ops = 0;
    let mut all_ops = 0;
    for jid in &journals {
        let v = server.admin(&cfg, &dir, &["ops", "--journal", jid])?;
        if let Some(ops) = v.as_array() {
            all_ops += ops.len();
            bad_ops += ops.iter().filter(|o| !o["problem"].is_null()).count();
        }
    }

    // The server's log: requests by status, and its other lines.
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    let mut other_lines: BTreeMap<String, u64> = BTreeMap::new();
    let mut slowest: (u64, String) = (0, String::new());
    for line in log.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() == 7 && f[6].starts_with("journal=") && f[3].parse::<u16>().is_ok() {
            *by_status.entry(f[3].to_owned()).or_default() += 1;
            let ms = f[5].trim_end_matches("ms").parse().unwrap_or(0);
            if ms > slowest.0 {
                slowest = (ms, format!("{} {} {}", f[1], f[2], f[3]));
            }
        } else {
            // Lines that differ only in numbers count as one.
            let shape: String = line
                .chars()
                .map(|c| if c.is_ascii_digit() { '#' } else { c })
                .collect();
            *other_lines.entry(shape).or_default() += 1;
        }
    }

    // The report.
    let mut lat = stats.latencies_ms.clone();
    lat.sort_unstable();

    println!("| | |");
    println!("|---|---|");
    println!(
        "| duration | {run_secs:.1} s of load (attackers stopped at {attacks_done:.1} s), then 2 final sync rounds |"
    );
    println!(
        "| valid syncs | {} done, {} failed; {:.1} per second |",
        stats.syncs,
        stats.failed,
        stats.syncs as f64 / run_secs
    );
    println!(
        "| sync latency | p50 {} ms, p95 {} ms, p99 {} ms, max {} ms |",
        percentile(&lat, 0.5),
        percentile(&lat, 0.95),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or(0)
    );
    println!(
        "| synced | pushed {} changes and {} texts, pulled {} changes and {} texts; {} note conflicts kept; {} ops skipped as unreadable |",
        stats.pushed, stats.blobs_pushed, stats.pulled, stats.blobs_pulled, stats.conflicts, stats.skipped
    );
    let changes: Vec<String> = stats
        .changes
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    println!(
        "| changes made | {} ({}) |",
        stats.changes.values().sum::<u64>(),
        changes.join(", ")
    );
    final_lat.sort_unstable();
    println!(
        "| final rounds | {} syncs, {} failed, max {} ms |",
        final_lat.len() + final_failed,
        final_failed,
        final_lat.last().copied().unwrap_or(0)
    );
    let at = |frac: f64| -> String {
        let t = run_secs * frac;
        mem.samples
            .iter()
            .min_by(|a, b| (a.0 - t).abs().total_cmp(&(b.0 - t).abs()))
            .map_or("-".into(), |s| format!("{:.0}", s.1 as f64 / 1024.0))
    };
    let hwm = hwm_at_end.unwrap_or(mem.hwm_kb).max(mem.hwm_kb);
    println!(
        "| server memory | max RSS {} (VmHWM {}); RSS MB at 0/25/50/75/100 % of the run: {}/{}/{}/{}/{}; at most {} threads, {} open files |",
        mb(mem.max_rss_kb),
        mb(hwm),
        at(0.0),
        at(0.25),
        at(0.5),
        at(0.75),
        at(1.0),
        mem.max_threads,
        mem.max_fds
    );
    println!("| server stop | {stopped} |");
    let total_articles: usize = sizes.iter().map(|s| s.0).sum();
    let total_notes: usize = sizes.iter().map(|s| s.1).sum();
    println!(
        "| convergence | {}/{} journals identical on all {} devices ({} articles, {} notes in all) |",
        journals.len() - diverged_journals.len(),
        journals.len(),
        cfg.devices,
        total_articles,
        total_notes
    );
    println!(
        "| server holds | {all_ops} operations, {bad_ops} of them ones no device can open (the attackers') |"
    );
    println!();

    let st = attack_stats.lock().unwrap();
    println!("| attack | sent | answers | unexpected |");
    println!("|---|---:|---|---:|");
    let mut unexpected_total = 0;
    for (kind, k) in &st.kinds {
        let unexpected: u64 = k
            .answers
            .iter()
            .filter(|(label, _)| !kind.expected(label))
            .map(|(_, n)| n)
            .sum();
        unexpected_total += unexpected;
        let answers: Vec<String> = k.answers.iter().map(|(l, n)| format!("{l} x{n}")).collect();
        let mut answers = answers.join(", ");
        if *kind == Kind::FetchDupes {
            answers.push_str(&format!(" (largest answer {} KB)", k.max_answer / 1024));
        }
        println!(
            "| {} | {} | {} | {} |",
            kind.describe(),
            k.sent,
            answers,
            unexpected
        );
    }
    let mut closed = st.slow_closed_s.clone();
    closed.sort_by(f64::total_cmp);
    if !closed.is_empty() {
        let q = |p: f64| closed[((closed.len() - 1) as f64 * p).round() as usize];
        println!();
        println!(
            "slow-header connections the server closed: {} , after p50 {:.1} s, p95 {:.1} s, max {:.1} s",
            closed.len(),
            q(0.5),
            q(0.95),
            q(1.0)
        );
    }
    drop(st);
    println!();
    let statuses: Vec<String> = by_status.iter().map(|(s, n)| format!("{s} x{n}")).collect();
    println!(
        "server log: {} requests answered ({}); slowest {} ms ({})",
        by_status.values().sum::<u64>(),
        statuses.join(", "),
        slowest.0,
        slowest.1
    );
    for (line, n) in other_lines.iter().take(15) {
        println!("  {n} x {line}");
    }

    let change_errors = stats.change_errors.len();
    for e in &stats.change_errors {
        println!("note: a local change failed (not a sync): {e}");
    }
    let failed_list = failures.list.lock().unwrap().clone();
    let failure_count = failures.count.load(Ordering::Relaxed);
    let over = mem.max_rss_kb >= RSS_LIMIT_KB || hwm >= RSS_LIMIT_KB;
    let pass = failure_count == 0 && diverged.is_empty() && !over && died.is_none();
    println!();
    if !failed_list.is_empty() {
        println!("failures ({failure_count}):");
        for f in &failed_list {
            println!("  {f}");
        }
    }
    for d in &diverged {
        println!("DIVERGED: {d}");
    }
    if over {
        println!(
            "MEMORY: the server reached {} (limit 200 MB)",
            mb(mem.max_rss_kb.max(hwm))
        );
    }
    if unexpected_total > 0 {
        println!(
            "note: {unexpected_total} attack answers were not the expected ones (see the table)"
        );
    }
    if change_errors > 0 {
        println!("note: {change_errors} local changes failed");
    }
    println!("result: {}", if pass { "PASS" } else { "FAIL" });
    if pass && !cfg.keep {
        drop(work);
    } else {
        let kept = work.keep();
        eprintln!(
            "server_soak: kept {} (the server's log is serve.log)",
            kept.display()
        );
    }
    Ok(pass)
}

/// GET /v1/status with a token, parsed.
fn raw_status(addr: SocketAddr, token: &str) -> Result<serde_json::Value> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    s.write_all(head("GET", "/v1/status", Some(token), &[]).as_bytes())?;
    s.write_all(b"\r\n")?;
    let a = read_answer(&mut s);
    if a.label != "200" {
        bail!("status answered {}", a.label);
    }
    Ok(serde_json::from_slice(&a.body)?)
}
