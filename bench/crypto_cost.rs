//! What end-to-end encryption costs in a first sync: opens every sealed
//! operation and text a journal holds on the server, and seals them again,
//! with the journal's key, timing each. `bench/sync` runs it on the
//! 100,000-article journal it syncs.
//!
//! Usage: crypto_cost SERVER.db JOURNAL_ID KEY
//! Prints `key=value` lines: counts, bytes and seconds.

use std::time::Instant;

use anyhow::{ensure, Context, Result};
use newsjournal::sync::crypto::JournalKey;
use rusqlite::{Connection, OpenFlags};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    ensure!(
        args.len() == 3,
        "usage: crypto_cost SERVER.db JOURNAL_ID KEY"
    );
    let conn = Connection::open_with_flags(&args[0], OpenFlags::SQLITE_OPEN_READ_ONLY)
        .context("open the server's database")?;
    let journal = &args[1];
    let keys = JournalKey::from_recovery(&args[2])?.sync_keys();

    let mut stmt = conn.prepare("SELECT device, seq, payload FROM ops WHERE journal_id = ?1")?;
    let ops: Vec<(String, u64, Vec<u8>)> = stmt
        .query_map([journal], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as u64, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare("SELECT id, data FROM blobs WHERE journal_id = ?1")?;
    let blobs: Vec<(String, Vec<u8>)> = stmt
        .query_map([journal], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;

    let t = Instant::now();
    let mut plain_ops = Vec::with_capacity(ops.len());
    for (device, seq, sealed) in &ops {
        plain_ops.push(keys.open_op(journal, device, *seq, sealed)?);
    }
    let open_ops = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut plain_blobs = Vec::with_capacity(blobs.len());
    for (id, sealed) in &blobs {
        plain_blobs.push(keys.open_blob(journal, id, sealed)?);
    }
    let open_blobs = t.elapsed().as_secs_f64();

    let t = Instant::now();
    for ((device, seq, _), plain) in ops.iter().zip(&plain_ops) {
        std::hint::black_box(keys.seal_op(journal, device, *seq, plain));
    }
    let seal_ops = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for ((id, _), plain) in blobs.iter().zip(&plain_blobs) {
        std::hint::black_box(keys.seal_blob(journal, id, plain));
    }
    let seal_blobs = t.elapsed().as_secs_f64();

    let bytes = |v: &[Vec<u8>]| v.iter().map(Vec::len).sum::<usize>();
    println!("ops={}", ops.len());
    println!("op_bytes={}", bytes(&plain_ops));
    println!("texts={}", blobs.len());
    println!("text_bytes={}", bytes(&plain_blobs));
    println!("seal_s={:.2}", seal_ops + seal_blobs);
    println!("open_s={:.2}", open_ops + open_blobs);
    Ok(())
}
