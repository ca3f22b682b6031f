//! `nj server migrate`: copies one server's data into another store (a
//! SQLite server into an empty PostgreSQL database), and proves the copy
//! by comparing each journal's counts and checksum on both sides before
//! it commits.
//!
//! Everything is copied as it is stored: journal ids, hashed tokens with
//! their use and revocation, key checks, each operation at its position
//! (positions are the devices' cursors, so a removed operation's gap stays
//! a gap, and the journal's last position stays where it was), device
//! heads, blobs. Nothing is opened: the server has no key.

use sha2::{Digest, Sha256};

use super::core::{Core, ServerError};
use super::store::{TokenRow, Tx};
use super::{StoredOp, MAX_PAGE_BYTES};

/// One journal's contents, summed up so that two stores can be compared.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fingerprint {
    pub journal: String,
    pub tokens: u64,
    pub ops: u64,
    pub blobs: u64,
    pub bytes: u64,
    /// SHA-256 over the journal's row, its tokens, device heads, its
    /// operations in position order and its blobs in id order.
    pub sha256: String,
}

/// Operations copied per read, at most (and at most [`MAX_PAGE_BYTES`]
/// of payloads, as a pull's page).
const COPY_PAGE: usize = 5_000;

/// Copies everything in `from` into `to` and returns the journals'
/// fingerprints. The source is read inside one write transaction of its
/// own, so a server still running on it cannot change it mid-copy; the
/// target is written in one transaction, which commits only once its
/// fingerprints match the source's: the copy is whole and checked, or
/// absent. Refuses a target that holds any journal or token.
pub fn copy(from: &Core, to: &Core) -> Result<Vec<Fingerprint>, ServerError> {
    from.write(|src| {
        let want = fingerprints_in(src)?;
        let journals = src.journals()?;
        let tokens = src.tokens()?;
        to.write(|dst| {
            let (held, toks) = (dst.journals()?, dst.tokens()?);
            if !held.is_empty() || !toks.is_empty() {
                return Err(ServerError::BadRequest(format!(
                    "the target already holds {} journals and {} tokens; migrate only into an empty database (nothing was copied)",
                    held.len(),
                    toks.len()
                )));
            }
            for j in &journals {
                dst.insert_journal(j)?;
            }
            for t in &tokens {
                dst.insert_token(t)?;
            }
            for j in &journals {
                copy_ops(src, dst, &j.id)?;
                copy_blobs(src, dst, &j.id)?;
            }
            let got = fingerprints_in(dst)?;
            if got != want {
                return Err(ServerError::Database(
                    "the copy's counts or checksums differ from the source's; nothing was copied"
                        .into(),
                ));
            }
            Ok(got)
        })
    })
}

fn copy_ops(src: &mut dyn Tx, dst: &mut dyn Tx, journal: &str) -> Result<(), ServerError> {
    let mut after = 0;
    loop {
        let page = op_page(src, journal, after)?;
        let Some(&(last, _)) = page.last() else { break };
        let rows: Vec<(u64, &StoredOp)> = page.iter().map(|(p, o)| (*p, o)).collect();
        dst.insert_ops(journal, &rows)?;
        after = last;
    }
    let heads = src.heads(journal)?;
    let heads: Vec<(&str, u64)> = heads.iter().map(|(d, s)| (d.as_str(), *s)).collect();
    dst.raise_heads(journal, &heads)
}

fn copy_blobs(src: &mut dyn Tx, dst: &mut dyn Tx, journal: &str) -> Result<(), ServerError> {
    for id in src.blob_ids(journal)? {
        // One at a time: a blob may be large, and a server may hold many.
        if let Some(data) = src.blob(journal, &id)? {
            dst.insert_blob(journal, &id, &data)?;
        }
    }
    Ok(())
}

/// Each journal's fingerprint, in journal id order.
fn fingerprints_in(tx: &mut dyn Tx) -> Result<Vec<Fingerprint>, ServerError> {
    let mut journals = tx.journals()?;
    // Byte order, whatever either database's collation would say.
    journals.sort_by(|a, b| a.id.cmp(&b.id));
    let tokens = tx.tokens()?;
    let mut out = Vec::with_capacity(journals.len());
    for j in &journals {
        let mut h = Sha256::new();
        field(&mut h, j.id.as_bytes());
        field(&mut h, &j.created_at_ms.to_le_bytes());
        field(&mut h, j.key_check.as_deref().unwrap_or("").as_bytes());
        field(&mut h, &j.last_pos.to_le_bytes());
        let mut mine: Vec<&TokenRow> = tokens.iter().filter(|t| t.journal == j.id).collect();
        mine.sort_by(|a, b| a.hash.cmp(&b.hash));
        for t in &mine {
            field(&mut h, t.hash.as_bytes());
            field(&mut h, &t.created_at_ms.to_le_bytes());
            field(&mut h, format!("{:?}", t.revoked_at_ms).as_bytes());
            field(&mut h, format!("{:?}", t.last_used_at_ms).as_bytes());
            field(&mut h, t.last_device.as_deref().unwrap_or("").as_bytes());
        }
        for (device, seq) in tx.heads(&j.id)? {
            field(&mut h, device.as_bytes());
            field(&mut h, &seq.to_le_bytes());
        }
        let (mut ops, mut bytes, mut after) = (0u64, 0u64, 0u64);
        loop {
            let page = op_page(tx, &j.id, after)?;
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
        let mut ids = tx.blob_ids(&j.id)?;
        ids.sort();
        for id in &ids {
            let data = tx.blob(&j.id, id)?.unwrap_or_default();
            field(&mut h, id.as_bytes());
            field(&mut h, &data);
            bytes += data.len() as u64;
        }
        out.push(Fingerprint {
            journal: j.id.clone(),
            tokens: mine.len() as u64,
            ops,
            blobs: ids.len() as u64,
            bytes,
            sha256: hex(&h.finalize()),
        });
    }
    Ok(out)
}

/// Length-prefixed, so fields cannot run into each other.
fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

/// The operations after `after`: at most [`COPY_PAGE`] of them, and no
/// more payload bytes than a pull's page (but always one).
fn op_page(
    tx: &mut dyn Tx,
    journal: &str,
    after: u64,
) -> Result<Vec<(u64, StoredOp)>, ServerError> {
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
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(device: &str, seq: u64) -> StoredOp {
        StoredOp {
            device: device.into(),
            seq,
            hlc_ms: 1_000,
            payload: format!("sealed {device} {seq}").into_bytes(),
        }
    }

    /// A copy keeps a removed operation's gap and the last position, so
    /// the next push is numbered as it would have been on the source.
    #[test]
    fn a_copy_keeps_gaps_heads_and_the_last_position() {
        let from = Core::open_in_memory().unwrap();
        let (j, token) = from.new_journal(5).unwrap();
        from.authenticate(&token, Some("dev-a"), 9).unwrap();
        from.push(&j, &[op("a", 1), op("a", 2), op("b", 1)], 10_000)
            .unwrap();
        from.put_blob(&j, "sha256:ab", b"text").unwrap();
        // The last operation goes: position 3 must not be given again.
        assert!(from.remove_op(&j, "b", 1).unwrap());
        let to = Core::open_in_memory().unwrap();
        let copied = copy(&from, &to).unwrap();
        assert_eq!(copied, from.read(fingerprints_in).unwrap());
        assert_eq!(copied[0].ops, 2);
        assert_eq!(copied[0].blobs, 1);
        for core in [&from, &to] {
            let pushed = core.push(&j, &[op("b", 1)], 10_000).unwrap();
            assert_eq!((pushed.after, pushed.last), (3, 4));
        }
        // A second copy into the same target is refused, whole.
        let err = copy(&from, &to).unwrap_err().to_string();
        assert!(
            err.starts_with("the target already holds 1 journals"),
            "{err}"
        );
    }
}
