//! The server load bench of issue 22: N simulated devices drive a real
//! `nj serve` (or two, on one PostgreSQL database) through the HTTP API on
//! loopback, with pre-sealed payloads of a realistic size so that the
//! client side costs little. Measures stored operations per second, p50
//! and p95 push and pull latency, errors and the servers' peak memory, then
//! checks that every device converged and every journal's positions are
//! gapless. `bench/server_load` builds and runs it for SQLite, PostgreSQL
//! with one server and PostgreSQL with two; docs/benchmarks.md records a run.
//!
//!   server_load sqlite|postgres|postgres2
//!
//! Knobs (environment): LOAD_JOURNALS (20), LOAD_DEVICES (50, spread over
//! the journals), LOAD_BATCHES (20 per device), LOAD_BATCH_OPS (500),
//! LOAD_PAYLOAD (bytes per operation, 300), LOAD_IDLE (idle connections
//! held open meanwhile, 1000), LOAD_RATE (operations per second offered
//! by all devices together, each device pushing a batch on a schedule; 0,
//! the default, pushes back to back, which measures the most the server
//! stores and makes latency the queue's length), LOAD_NJ (the nj binary), and for the
//! PostgreSQL runs NJ_TEST_DATABASE_URL (a role that may create a scratch
//! database). Exits 1 on any error or a device that did not converge.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use newsjournal::server::postgres::testing::ScratchDb;
use serde_json::Value;

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// The peak resident memory so far, in kB (VmHWM).
    fn peak_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

fn start(nj: &Path, storage: &[String], log: &Path) -> Result<Server> {
    let mut child = Command::new(nj)
        .arg("serve")
        .args(storage)
        .args(["--listen", "127.0.0.1:0", "--max-connections", "2048"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log)?)
        .spawn()
        .context("start nj serve")?;
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first)?;
    let url = first
        .strip_prefix("listening on ")
        .context("nj serve did not start")?
        .trim()
        .to_owned();
    Ok(Server { child, url })
}

fn admin(nj: &Path, storage: &[String], args: &[&str]) -> Result<Value> {
    let out = Command::new(nj)
        .args(["--json", "server"])
        .args(args)
        .args(storage)
        .output()?;
    if !out.status.success() {
        bail!(
            "nj server {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Sends a request again when its connection dropped unanswered, as
/// `nj sync` does (four more tries): on loopback every device comes from
/// one address, and the server's cap on connections that have not yet
/// shown a token from one address (32) closes some of fifty connecting at
/// once. Counted, and reported.
fn retried(
    tally: &Tally,
    send: impl Fn() -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
    let mut resp = send();
    for _ in 0..4 {
        match &resp {
            Err(ureq::Error::Io(_)) => {
                tally.retries.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(100));
                resp = send();
            }
            _ => break,
        }
    }
    resp
}

#[derive(Default)]
struct Tally {
    retries: AtomicU64,
    push_ms: Mutex<Vec<f64>>,
    pull_ms: Mutex<Vec<f64>>,
    errors: AtomicU64,
    stored: AtomicU64,
}

fn main() -> Result<()> {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "sqlite".into());
    let journals = knob("LOAD_JOURNALS", 20);
    let devices = knob("LOAD_DEVICES", 50);
    let batches = knob("LOAD_BATCHES", 20);
    let batch_ops = knob("LOAD_BATCH_OPS", 500);
    let payload = knob("LOAD_PAYLOAD", 300);
    let idle = knob("LOAD_IDLE", 1000);
    let rate = knob("LOAD_RATE", 0);
    // Each device's pause between batch starts, when paced.
    let interval =
        (rate > 0).then(|| Duration::from_secs_f64((devices * batch_ops) as f64 / rate as f64));
    let nj = std::env::var_os("LOAD_NJ")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().unwrap();
            exe.parent().unwrap().parent().unwrap().join("nj")
        });

    let work = tempfile::tempdir()?;
    let mut _db = None;
    let storage: Vec<String> = match mode.as_str() {
        "sqlite" => vec![
            "--data".into(),
            work.path().join("srv").display().to_string(),
        ],
        "postgres" | "postgres2" => {
            let db = ScratchDb::new("bench/server_load")
                .context("set NJ_TEST_DATABASE_URL for the PostgreSQL runs")?;
            let s = vec!["--database".into(), db.url.clone()];
            _db = Some(db);
            s
        }
        m => bail!("unknown mode {m}; give sqlite, postgres or postgres2"),
    };
    // The servers' logs, kept when the run fails.
    let logs = std::env::temp_dir().join(format!("server_load-{mode}-{}", std::process::id()));
    std::fs::create_dir_all(&logs)?;
    let mut servers = vec![start(&nj, &storage, &logs.join("serve-1.log"))?];
    if mode == "postgres2" {
        servers.push(start(&nj, &storage, &logs.join("serve-2.log"))?);
    }

    // Journals, and a token per device: 2 or 3 devices a journal.
    let mut plan: Vec<(usize, String, String)> = Vec::new(); // (journal index, journal, token)
    let mut ids = Vec::new();
    for _ in 0..journals {
        ids.push(
            admin(&nj, &storage, &["new-journal"])?["journal"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for d in 0..devices {
        let j = d % journals;
        let token = admin(&nj, &storage, &["new-token", "--journal", &ids[j]])?["token"]
            .as_str()
            .unwrap()
            .to_owned();
        plan.push((j, ids[j].clone(), token));
    }

    // Idle connections: half show a token first (so they hold a slot), the
    // rest never do (so the server cycles them).
    let addr = servers[0].url.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for i in 0..idle {
        let Ok(mut c) = TcpStream::connect(&addr) else {
            break;
        };
        if i % 2 == 0 {
            let req = format!(
                "GET /v1/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
                plan[i % plan.len()].2
            );
            let _ = c.write_all(req.as_bytes());
        }
        held.push(c);
    }

    let tally = Arc::new(Tally::default());
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let started = Instant::now();
    std::thread::scope(|s| {
        for (d, (_, _, token)) in plan.iter().enumerate() {
            let tally = Arc::clone(&tally);
            let url = servers[d % servers.len()].url.clone();
            s.spawn(move || {
                let agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(60)))
                    .build()
                    .new_agent();
                let auth = format!("Bearer {token}");
                let device = format!("dev-{d:04}");
                // Pre-built bodies: the client's cost is sending them.
                let filler = BASE64.encode(vec![(d % 251) as u8; payload]);
                let mut cursor = 0u64;
                // Paced devices start spread over one interval.
                let phase = interval.map(|i| i.mul_f64(d as f64 / devices as f64));
                for b in 0..batches {
                    if let (Some(interval), Some(phase)) = (interval, phase) {
                        let due = started + phase + interval * b as u32;
                        if let Some(wait) = due.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                    }
                    let ops: Vec<Value> = (0..batch_ops)
                        .map(|i| {
                            serde_json::json!({
                                "device": device,
                                "seq": (b * batch_ops + i + 1) as u64,
                                "hlc_ms": now_ms,
                                "payload": filler,
                            })
                        })
                        .collect();
                    let body = serde_json::to_vec(&serde_json::json!({ "ops": ops })).unwrap();
                    let t = Instant::now();
                    let resp = retried(&tally, || {
                        agent
                            .post(format!("{url}/v1/ops"))
                            .header("Authorization", &auth)
                            .content_type("application/json")
                            .send(&body[..])
                    });
                    let ms = t.elapsed().as_secs_f64() * 1e3;
                    match resp {
                        Ok(mut r) if r.status() == 200 => {
                            let v: Value =
                                serde_json::from_str(&r.body_mut().read_to_string().unwrap())
                                    .unwrap();
                            tally
                                .stored
                                .fetch_add(v["stored"].as_u64().unwrap(), Ordering::Relaxed);
                            tally.push_ms.lock().unwrap().push(ms);
                        }
                        other => {
                            if tally.errors.fetch_add(1, Ordering::Relaxed) == 0 {
                                let said = match other {
                                    Ok(mut r) => format!(
                                        "{} {}",
                                        r.status(),
                                        r.body_mut().read_to_string().unwrap_or_default()
                                    ),
                                    Err(e) => e.to_string(),
                                };
                                eprintln!("first failed push ({device} batch {b}): {said}");
                            }
                            continue;
                        }
                    }
                    // Pull what the journal's other devices pushed.
                    loop {
                        let t = Instant::now();
                        let resp = retried(&tally, || {
                            agent
                                .get(format!("{url}/v1/ops?after={cursor}&limit=2000"))
                                .header("Authorization", &auth)
                                .call()
                        });
                        let ms = t.elapsed().as_secs_f64() * 1e3;
                        let Ok(mut r) = resp.map_err(|_| ()).and_then(|r| {
                            if r.status() == 200 {
                                Ok(r)
                            } else {
                                Err(())
                            }
                        }) else {
                            tally.errors.fetch_add(1, Ordering::Relaxed);
                            break;
                        };
                        let mut text = String::new();
                        r.body_mut()
                            .with_config()
                            .limit(64 << 20)
                            .reader()
                            .read_to_string(&mut text)
                            .unwrap();
                        let v: Value = serde_json::from_str(&text).unwrap();
                        tally.pull_ms.lock().unwrap().push(ms);
                        cursor = v["next"].as_u64().unwrap();
                        if !v["more"].as_bool().unwrap() {
                            break;
                        }
                    }
                }
            });
        }
    });
    let secs = started.elapsed().as_secs_f64();
    let still_open = held
        .iter()
        .filter(|c| {
            let mut c: &TcpStream = c;
            // Open: after reading whatever answer came, nothing more yet
            // (closed: the read ends with 0 bytes or an error).
            c.set_nonblocking(true).unwrap();
            let mut b = [0u8; 4096];
            loop {
                match c.read(&mut b) {
                    Ok(0) => return false,
                    Ok(_) => continue,
                    Err(e) => return e.kind() == std::io::ErrorKind::WouldBlock,
                }
            }
        })
        .count();

    // Converged: each journal holds every operation its devices pushed,
    // at positions 1..=N, and a pull from 0 reads them all.
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut diverged = 0;
    for (j, _id) in ids.iter().enumerate() {
        let members: Vec<&(usize, String, String)> = plan.iter().filter(|p| p.0 == j).collect();
        let Some(first) = members.first() else {
            continue;
        };
        let want = (members.len() * batches * batch_ops) as u64;
        let (mut cursor, mut seen) = (0u64, 0u64);
        loop {
            let mut r = agent
                .get(format!(
                    "{}/v1/ops?after={cursor}&limit=10000",
                    servers[0].url
                ))
                .header("Authorization", &format!("Bearer {}", first.2))
                .call()?;
            let v: Value = serde_json::from_str(
                &r.body_mut()
                    .with_config()
                    .limit(64 << 20)
                    .read_to_string()?,
            )?;
            seen += v["ops"].as_array().unwrap().len() as u64;
            cursor = v["next"].as_u64().unwrap();
            if !v["more"].as_bool().unwrap() {
                break;
            }
        }
        if seen != want || cursor != want {
            diverged += 1;
            eprintln!("journal {j}: {seen} operations read, last position {cursor}, {want} pushed");
        }
    }

    let mut push = tally.push_ms.lock().unwrap().clone();
    let mut pull = tally.pull_ms.lock().unwrap().clone();
    push.sort_by(f64::total_cmp);
    pull.sort_by(f64::total_cmp);
    let stored = tally.stored.load(Ordering::Relaxed);
    let errors = tally.errors.load(Ordering::Relaxed);
    let retries = tally.retries.load(Ordering::Relaxed);
    let peak: Vec<String> = servers
        .iter()
        .map(|s| format!("{:.0} MB", s.peak_kb() as f64 / 1024.0))
        .collect();
    let offered = if rate > 0 {
        format!(" offered={rate}/s")
    } else {
        String::new()
    };
    println!(
        "{mode:<10}{offered} devices={devices} journals={journals} ops={stored} in {secs:.1} s: {:.0} ops/s  push p50={:.1} ms p95={:.1} ms  pull p50={:.1} ms p95={:.1} ms  errors={errors} (retried {retries})  diverged={diverged}  idle={}/{} open  peak RSS {}",
        stored as f64 / secs,
        percentile(&push, 0.5),
        percentile(&push, 0.95),
        percentile(&pull, 0.5),
        percentile(&pull, 0.95),
        still_open,
        held.len(),
        peak.join(" + "),
    );
    drop(servers);
    if errors > 0 || diverged > 0 {
        eprintln!("the servers' logs are in {}", logs.display());
        std::process::exit(1);
    }
    let _ = std::fs::remove_dir_all(&logs);
    Ok(())
}
