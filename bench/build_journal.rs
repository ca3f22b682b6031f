//! Builds a bench journal from a gen_corpus.py JSONL file through the same
//! library path `nj clip` uses (normalise, hash, dedup, store, index), in
//! batches of one transaction each.
//!
//! Usage: build_journal CORPUS.jsonl JOURNAL.db
//! Prints `key=value` lines: the number of articles, the raw text bytes
//! (the article bodies as given, UTF-8) and the build time.

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
    let (mut articles, mut raw_bytes) = (0usize, 0usize);
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
            for r in &batch {
                tx.clip(&NewClip {
                    content: Content::new(&r.body),
                    title: r.title.clone(),
                    urls: vec![r.url.clone()],
                    author: r.author.clone(),
                    published_at: r.published.as_deref().and_then(parse_published),
                    tags: r.tags.clone(),
                    ..NewClip::default()
                })?;
            }
            Ok(())
        })?;
        articles += batch.len();
    }
    if std::env::var_os("BENCH_OPTIMIZE").is_some() {
        journal.optimize_index()?;
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
    println!("raw_text_bytes={raw_bytes}");
    println!("build_seconds={:.1}", started.elapsed().as_secs_f64());
    Ok(())
}
