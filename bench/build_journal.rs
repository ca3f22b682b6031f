//! Builds a bench journal from a gen_corpus.py JSONL file through the same
//! library path `nj clip` uses (normalise, hash, dedup, store, index), in
//! batches of one transaction each.
//!
//! Usage: build_journal CORPUS.jsonl JOURNAL.db
//! Every tenth article gets a follow-up (10,000 for 100,000 articles), due
//! between 30 days before and 365 days after `DUE_NOW`; 60% of the past
//! ones are done. `nj due` is timed as of `DUE_NOW`.
//!
//! Prints `key=value` lines: the number of articles and follow-ups, the raw
//! text bytes (the article bodies as given, UTF-8), `DUE_NOW` and the build
//! time.

use std::io::BufRead;

use anyhow::{Context, Result};
use newsjournal::content::Content;
use newsjournal::journal::{Journal, NewClip};
use newsjournal::time::{parse_published, Timestamp};
use serde::Deserialize;

#[derive(Deserialize)]
struct Record {
    url: String,
    title: String,
    author: Option<String>,
    published: Option<String>,
    time_added: i64,
    tags: Vec<String>,
    body: String,
}

const BATCH: usize = 1000;
/// The moment `nj due` is measured at (2026-06-01T12:00:00Z).
const DUE_NOW: i64 = 1_780_315_200_000;
const MINUTE: i64 = 60_000;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let corpus = args
        .next()
        .context("usage: build_journal CORPUS.jsonl JOURNAL.db")?;
    let db = args
        .next()
        .context("usage: build_journal CORPUS.jsonl JOURNAL.db")?;
    let file = std::fs::File::open(&corpus).with_context(|| format!("cannot open {corpus}"))?;
    let mut journal = Journal::open(std::path::Path::new(&db))?;
    let started = std::time::Instant::now();
    let mut lines = std::io::BufReader::new(file).lines();
    let (mut articles, mut raw_bytes, mut followups, mut open_due) =
        (0usize, 0usize, 0usize, 0usize);
    loop {
        let mut batch = Vec::with_capacity(BATCH);
        for line in lines.by_ref().take(BATCH) {
            let r: Record = serde_json::from_str(&line?)?;
            raw_bytes += r.body.len();
            batch.push(r);
        }
        if batch.is_empty() {
            break;
        }
        let now = Timestamp(batch[0].time_added * 1000);
        journal.write(now, |tx| {
            for (i, r) in batch.iter().enumerate() {
                let outcome = tx.clip(&NewClip {
                    content: Content::new(&r.body),
                    title: r.title.clone(),
                    urls: vec![r.url.clone()],
                    author: r.author.clone(),
                    published_at: r.published.as_deref().and_then(parse_published),
                    tags: r.tags.clone(),
                    ..NewClip::default()
                })?;
                let n = articles + i;
                if n % 10 == 0 {
                    let k = (n / 10) as i64;
                    // A deterministic spread over [-30 days, +365 days).
                    let offset = (k * 7919) % (395 * 1440) - 30 * 1440;
                    let due = Timestamp(DUE_NOW + offset * MINUTE);
                    let f = tx.create_followup(
                        Some(&outcome.article.as_ref()),
                        "check for news",
                        due,
                        None,
                    )?;
                    followups += 1;
                    if offset < 0 && k % 5 < 3 {
                        tx.mark_done(&f)?;
                    } else if offset <= 0 {
                        open_due += 1;
                    }
                }
            }
            Ok(())
        })?;
        articles += batch.len();
    }
    journal.checkpoint()?;
    if std::env::var_os("BENCH_STATS").is_some() {
        let conn = rusqlite::Connection::open(&db)?;
        let mut stmt =
            conn.prepare("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (name, bytes) = row?;
            eprintln!("{name:<32} {:>12}", bytes);
        }
    }
    println!("articles={articles}");
    println!("followups={followups}");
    println!("followups_due={open_due}");
    println!("due_now={}", Timestamp(DUE_NOW).rfc3339());
    println!("raw_text_bytes={raw_bytes}");
    println!("build_seconds={:.1}", started.elapsed().as_secs_f64());
    Ok(())
}
