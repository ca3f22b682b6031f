//! The sync protocol, as pure logic over two traits: [`Transport`] (the
//! server: HTTP in `nj`, in memory in tests) and [`Replica`] (this
//! device's journal). `sync` pushes what this device has not pushed, in
//! pages, then pulls what it has not seen, applying each page together with
//! the cursor that follows it, so an interrupted sync resumes where it
//! stopped and never applies a page twice.

use serde::{Deserialize, Serialize};

use super::merge::Merged;
use super::op::Op;

/// An operation as the server sees it: who sent it, its place in that
/// device's sequence, and the operation itself as opaque bytes (sealed
/// end to end once encryption is on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub device: String,
    pub seq: u64,
    pub payload: Vec<u8>,
}

/// One page of operations in server order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub ops: Vec<Envelope>,
    /// The cursor to ask for the next page with.
    pub next: u64,
    /// Whether the server has more after this page.
    pub more: bool,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The server holds different content under the same device and
    /// sequence number: two journals share a device id.
    #[error("the server already has a different operation {device}#{seq}; this journal's device id is in use elsewhere (was the journal file copied?)")]
    Conflict { device: String, seq: u64 },
    #[error("an operation from the server could not be read ({0}); it was skipped")]
    Malformed(String),
    #[error("{0}")]
    Transport(String),
    #[error("{0}")]
    Local(String),
}

pub trait Transport {
    /// Stores a batch. Idempotent: operations the server already has with
    /// the same content are ignored.
    fn push(&mut self, batch: &[Envelope]) -> Result<(), SyncError>;
    /// Operations after `cursor`, at most `limit`.
    fn pull(&mut self, cursor: u64, limit: usize) -> Result<Page, SyncError>;
    /// Whether the server holds the blob (an article text) `id`.
    fn has_blob(&mut self, id: &str) -> Result<bool, SyncError>;
    /// Uploads a blob; uploading one the server has is harmless.
    fn put_blob(&mut self, id: &str, data: &[u8]) -> Result<(), SyncError>;
    fn get_blob(&mut self, id: &str) -> Result<Vec<u8>, SyncError>;
    /// Which of these blobs the server lacks. A transport that can ask for
    /// many at once overrides this.
    fn lacking_blobs(&mut self, ids: &[String]) -> Result<Vec<String>, SyncError> {
        let mut out = Vec::new();
        for id in ids {
            if !self.has_blob(id)? {
                out.push(id.clone());
            }
        }
        Ok(out)
    }
    /// Downloads these blobs; it is an error if the server lacks one.
    fn get_blobs(&mut self, ids: &[String]) -> Result<Vec<(String, Vec<u8>)>, SyncError> {
        ids.iter()
            .map(|id| Ok((id.clone(), self.get_blob(id)?)))
            .collect()
    }
}

pub trait Replica {
    fn device(&self) -> String;
    /// Local operations not yet pushed, oldest first, at most `limit`.
    fn unpushed(&mut self, limit: usize) -> Result<Vec<Op>, SyncError>;
    /// Records that the server has every local operation up to `seq`.
    fn mark_pushed(&mut self, seq: u64) -> Result<(), SyncError>;
    /// Where the last pull stopped.
    fn cursor(&self) -> u64;
    /// The blobs (article texts) these local operations refer to, as
    /// (id, bytes), for upload before the operations.
    fn blobs_for(&mut self, ops: &[Op]) -> Result<Vec<(String, Vec<u8>)>, SyncError>;
    /// The blobs these remote operations refer to that this replica lacks.
    fn missing_blobs(&mut self, ops: &[Op]) -> Result<Vec<String>, SyncError>;
    /// Stores the fetched blobs, applies remote operations and moves the
    /// cursor to `next`, as one change: all or nothing.
    fn apply_page(
        &mut self,
        ops: &[Op],
        blobs: &[(String, Vec<u8>)],
        next: u64,
    ) -> Result<Merged, SyncError>;
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub pushed: usize,
    pub pulled: usize,
    pub blobs_pushed: usize,
    pub blobs_pulled: usize,
    pub conflicts: usize,
    pub skipped: usize,
}

pub fn encode(op: &Op) -> Envelope {
    Envelope {
        device: op.device.clone(),
        seq: op.seq,
        payload: serde_json::to_vec(op).expect("an Op always serializes"),
    }
}

/// Reads an envelope, checking that the payload is the operation the
/// envelope says it is.
pub fn decode(env: &Envelope) -> Result<Op, SyncError> {
    let op: Op =
        serde_json::from_slice(&env.payload).map_err(|e| SyncError::Malformed(e.to_string()))?;
    if op.device != env.device || op.seq != env.seq {
        return Err(SyncError::Malformed(format!(
            "{}#{} holds {}#{}",
            env.device, env.seq, op.device, op.seq
        )));
    }
    Ok(op)
}

/// Blob ids asked about, or fetched, in one request.
const BLOB_BATCH: usize = 200;

/// Pushes, then pulls. `progress` is told the running summary after each
/// page.
pub fn sync(
    replica: &mut impl Replica,
    transport: &mut impl Transport,
    page_size: usize,
    mut progress: impl FnMut(&Summary),
) -> Result<Summary, SyncError> {
    let page_size = page_size.max(1);
    let mut s = Summary::default();
    loop {
        let ops = replica.unpushed(page_size)?;
        let Some(last) = ops.last().map(|o| o.seq) else {
            break;
        };
        // Texts first: a device that pulls these operations must find them.
        let blobs = replica.blobs_for(&ops)?;
        let ids: Vec<String> = blobs.iter().map(|(id, _)| id.clone()).collect();
        let mut lacking = std::collections::HashSet::new();
        for chunk in ids.chunks(BLOB_BATCH) {
            lacking.extend(transport.lacking_blobs(chunk)?);
        }
        for (id, data) in blobs.iter().filter(|(id, _)| lacking.contains(id)) {
            transport.put_blob(id, data)?;
            s.blobs_pushed += 1;
        }
        let batch: Vec<Envelope> = ops.iter().map(encode).collect();
        transport.push(&batch)?;
        replica.mark_pushed(last)?;
        s.pushed += batch.len();
        progress(&s);
    }
    let me = replica.device();
    loop {
        let page = transport.pull(replica.cursor(), page_size)?;
        let mut ops = Vec::with_capacity(page.ops.len());
        for env in &page.ops {
            if env.device == me {
                continue;
            }
            match decode(env) {
                Ok(op) => ops.push(op),
                // One unreadable operation must not stop the rest.
                Err(_) => s.skipped += 1,
            }
        }
        let mut blobs = Vec::new();
        for chunk in replica.missing_blobs(&ops)?.chunks(BLOB_BATCH) {
            blobs.extend(transport.get_blobs(chunk)?);
        }
        s.blobs_pulled += blobs.len();
        let merged = replica.apply_page(&ops, &blobs, page.next)?;
        s.pulled += ops.len();
        s.conflicts += merged.conflicts;
        progress(&s);
        if !page.more {
            break;
        }
    }
    Ok(s)
}
