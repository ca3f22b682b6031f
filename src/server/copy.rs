//! `nj server migrate`: copies one server's data into another store (a
//! SQLite server into an empty PostgreSQL database), then proves the copy
//! by comparing each journal's counts and checksums on both sides.
//!
//! Everything is copied as it is stored: journal ids, hashed tokens with
//! their use and revocation, key checks, each operation at its position
//! (positions are the devices' cursors, so a removed operation's gap stays
//! a gap), device heads, blobs. Nothing is opened: the server has no key.

use sha2::{Digest, Sha256};

use super::core::{Core, ServerError};
use super::store::{JournalRow, Tx};
use super::MAX_PAGE_BYTES;

/// One journal's contents, summed up so that two stores can be compared.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fingerprint {
    pub journal: String,
    pub tokens: u64,
    pub ops: u64,
    pub blobs: u64,
    pub bytes: u64,
    /// SHA-256 over the journal's row, its tokens, its operations in
    /// position order and its blobs in id order.
    pub sha256: String,
}

/// Operations copied per read, at most (and at most [`MAX_PAGE_BYTES`]
/// of payloads, as a pull's page).
const COPY_PAGE: usize = 5_000;

/// Copies everything in `from` into `to`, in one transaction of `to`:
/// the copy is whole or absent. Refuses a target that holds any journal or
/// token. The source should not be serving meanwhile (`nj serve` stopped).
pub fn copy(from: &Core, to: &Core) -> Result<Vec<Fingerprint>, ServerError> {
    let journals = from.read_all(|tx| tx.journals())?;
    let tokens = from.read_all(|tx| tx.tokens())?;
    to.write_all(|dst| {
        let (held, toks) = (dst.journals()?, dst.tokens()?);
        if !held.is_empty() || !toks.is_empty() {
            return Err(ServerError::BadRequest(format!(
                "the target already holds {} journals and {} tokens; migrate only into an empty database (nothing was copied)",
                held.len(),
                toks.len()
            )));
        }
        for j in &journals {
            dst.insert_journal(&j.id, j.created_at_ms)?;
            if let Some(check) = &j.key_check {
                dst.set_key_check(&j.id, check)?;
            }
        }
        for t in &tokens {
            dst.insert_token(t)?;
        }
        for j in &journals {
            copy_ops(from, dst, &j.id)?;
            copy_blobs(from, dst, &j.id)?;
        }
        Ok(())
    })?;
    fingerprints(to)
}

fn copy_ops(from: &Core, dst: &mut dyn Tx, journal: &str) -> Result<(), ServerError> {
    let heads = from.read_all(|tx| tx.heads(journal))?;
    let mut after = 0;
    loop {
        let page = op_page(from, journal, after)?;
        let Some(&(last, _)) = page.last() else { break };
        let rows: Vec<(u64, &super::StoredOp)> = page.iter().map(|(p, o)| (*p, o)).collect();
        dst.insert_ops(journal, &rows)?;
        after = last;
    }
    let heads: Vec<(&str, u64)> = heads.iter().map(|(d, s)| (d.as_str(), *s)).collect();
    dst.raise_heads(journal, &heads)
}

fn copy_blobs(from: &Core, dst: &mut dyn Tx, journal: &str) -> Result<(), ServerError> {
    let ids = from.read_all(|tx| tx.blob_ids(journal))?;
    for id in &ids {
        // One at a time: a blob may be large, and a server may hold many.
        if let Some(data) = from.read_all(|tx| tx.blob(journal, id))? {
            dst.insert_blob(journal, id, &data)?;
        }
    }
    Ok(())
}

/// Each journal's fingerprint, oldest journal first.
pub fn fingerprints(core: &Core) -> Result<Vec<Fingerprint>, ServerError> {
    let journals = core.read_all(|tx| tx.journals())?;
    let tokens = core.read_all(|tx| tx.tokens())?;
    journals
        .iter()
        .map(|j| fingerprint(core, j, &tokens))
        .collect()
}

fn fingerprint(
    core: &Core,
    j: &JournalRow,
    tokens: &[super::store::TokenRow],
) -> Result<Fingerprint, ServerError> {
    let mut h = Sha256::new();
    field(&mut h, j.id.as_bytes());
    field(&mut h, &j.created_at_ms.to_le_bytes());
    field(&mut h, j.key_check.as_deref().unwrap_or("").as_bytes());
    let mut mine: Vec<_> = tokens.iter().filter(|t| t.journal == j.id).collect();
    mine.sort_by(|a, b| a.hash.cmp(&b.hash));
    for t in &mine {
        field(&mut h, t.hash.as_bytes());
        field(&mut h, format!("{}", t.created_at_ms).as_bytes());
        field(&mut h, format!("{:?}", t.revoked_at_ms).as_bytes());
        field(&mut h, format!("{:?}", t.last_used_at_ms).as_bytes());
        field(&mut h, t.last_device.as_deref().unwrap_or("").as_bytes());
    }
    let heads = core.read_all(|tx| tx.heads(&j.id))?;
    for (device, seq) in &heads {
        field(&mut h, device.as_bytes());
        field(&mut h, &seq.to_le_bytes());
    }
    let (mut ops, mut bytes, mut after) = (0u64, 0u64, 0u64);
    loop {
        let page = op_page(core, &j.id, after)?;
        let Some(&(last, _)) = page.last() else { break };
        for (pos, op) in &page {
            field(&mut h, &pos.to_le_bytes());
            field(&mut h, op.device.as_bytes());
            field(&mut h, &op.seq.to_le_bytes());
            field(&mut h, &op.hlc_ms.to_le_bytes());
            field(&mut h, &op.payload);
            ops += 1;
            bytes += op.payload.len() as u64;
        }
        after = last;
    }
    let ids = core.read_all(|tx| tx.blob_ids(&j.id))?;
    // Byte order, whatever either database's collation would say.
    let mut ids = ids;
    ids.sort();
    for id in &ids {
        let data = core.read_all(|tx| tx.blob(&j.id, id))?.unwrap_or_default();
        field(&mut h, id.as_bytes());
        field(&mut h, &data);
        bytes += data.len() as u64;
    }
    Ok(Fingerprint {
        journal: j.id.clone(),
        tokens: mine.len() as u64,
        ops,
        blobs: ids.len() as u64,
        bytes,
        sha256: hex(&h.finalize()),
    })
}

/// Length-prefixed, so fields cannot run into each other.
fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

/// The operations after `after`: at most [`COPY_PAGE`] of them, and no
/// more payload bytes than a pull's page (but always one).
fn op_page(
    core: &Core,
    journal: &str,
    after: u64,
) -> Result<Vec<(u64, super::StoredOp)>, ServerError> {
    core.read_all(|tx| {
        let sizes = tx.op_sizes(journal, after, COPY_PAGE)?;
        let (mut upto, mut bytes) = (None, 0u64);
        for (pos, len) in sizes {
            bytes = bytes.saturating_add(len);
            if upto.is_some() && bytes > MAX_PAGE_BYTES as u64 {
                break;
            }
            upto = Some(pos);
        }
        match upto {
            Some(upto) => tx.ops(journal, after, upto),
            None => Ok(Vec::new()),
        }
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
