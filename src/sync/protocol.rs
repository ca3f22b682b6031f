//! The sync protocol, as pure logic over two traits: [`Transport`] (the
//! server: HTTP in `nj`, its core in process in tests) and [`Replica`] (this
//! device's journal). `sync` pushes what this device has not pushed, in
//! pages, then pulls what it has not seen, applying each page together with
//! the cursor that follows it, so an interrupted sync resumes where it
//! stopped and never applies a page twice.
//!
//! Everything that leaves the device is sealed by a [`Sealer`] under the
//! journal key (`docs/sync-protocol.md` (Encryption)): the server stores operations and
//! texts it cannot read, under blob ids it cannot link to public articles.

use crate::content::sha256_hex;
use crate::limits::size_text;
use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::crypto::{JournalKey, SyncKeys};
use super::merge::Merged;
use super::op::{Change, Op};

/// An operation as the server sees it: who sent it, its place in that
/// device's sequence, its clock reading (so the server can refuse clocks
/// far ahead), and the operation itself, sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub device: String,
    pub seq: u64,
    pub hlc_ms: i64,
    pub payload: Vec<u8>,
}

/// A local operation waiting to be pushed, with the random bytes recorded
/// with it that its nonce is made from.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub op: Op,
    /// The operation's JSON as it was recorded: what is sealed, byte for
    /// byte, however a later nj would write the same operation.
    pub payload: Vec<u8>,
    pub nonce_seed: [u8; 24],
}

/// What `GET /v1/status` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteStatus {
    pub server_time_ms: i64,
    /// The highest sequence number the server holds for each device.
    pub devices: BTreeMap<String, u64>,
    /// The journal's id on the server, bound into every sealed payload.
    pub journal: String,
    /// The check value of the key the journal is sealed with, once a
    /// device has stored one.
    pub key_check: Option<String>,
    /// The largest request body the server takes; requests are sized, and
    /// large texts split, to fit it. Servers before it said this took 16 MiB.
    #[serde(default)]
    pub max_body: Option<u64>,
}

pub use super::wire::Pushed;

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
    /// The server holds this device's operations up to `expected - 1`, and
    /// `seq` would leave a gap (sync renumbers first, so this is a race
    /// with another process of the same device).
    #[error("the server expected this device's change #{expected} but was sent #{seq} ({device}); run `nj sync` again")]
    Gap {
        device: String,
        seq: u64,
        expected: u64,
    },
    #[error("an operation from the server could not be read ({0}); it was skipped")]
    Malformed(String),
    /// The server's journal holds operations but no key check: they were
    /// pushed before sync was encrypted, and cannot be read with sealed ones.
    #[error("this journal on the server holds changes pushed before end-to-end encryption; make a new journal for encrypted sync with `nj server new-journal` and point every device at it with `nj remote set`")]
    PlainJournal,
    /// A payload in a format this nj does not know: written by a newer one.
    #[error("the server holds changes sealed in a newer format (version {0}) than this nj reads; update nj on this device, then run `nj sync` again")]
    NewerFormat(u8),
    /// The journal on the server is sealed with another key.
    #[error("this device's key is not the key the journal on the server is encrypted with; bring the right key here with `nj key import` (print it with `nj key show` on a device that already syncs)")]
    WrongKey,
    /// The server does not know the token (wrong, or revoked).
    #[error("{0}")]
    BadToken(String),
    /// No answer at all: nothing listens there, the host is unknown, or it
    /// did not answer in time. (An answer that is wrong is `Transport`.)
    #[error("{0}")]
    Unreachable(String),
    /// The server refused a request as larger than it takes (HTTP 413).
    /// The protocol splits what it sent and tries again, so this reaches
    /// the user only as [`SyncError::ChangeTooLarge`].
    #[error("{0}")]
    TooLarge(String),
    /// One change that is larger than the server takes in a request, even
    /// alone: named, so the user can see what it is.
    #[error("{change} takes {size} to send, more than the sync server takes in one request{limit}; ask whoever runs the server to raise `nj serve --max-body`, then run `nj sync` again (changes made after it wait until then)")]
    ChangeTooLarge {
        change: String,
        size: String,
        limit: String,
    },
    #[error("{0}")]
    Transport(String),
    #[error("{0}")]
    Local(String),
}

pub trait Transport {
    /// The server's clock, what it holds, and the journal's key check.
    fn status(&mut self) -> Result<RemoteStatus, SyncError>;
    /// Stores the journal's key check, or confirms the stored one is the
    /// same; [`SyncError::WrongKey`] if another is stored.
    fn set_key_check(&mut self, check: &str) -> Result<(), SyncError>;
    /// Stores a batch. Idempotent: operations the server already has with
    /// the same content are ignored.
    fn push(&mut self, batch: &[Envelope]) -> Result<Pushed, SyncError>;
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
    /// Uploads these blobs. A transport that can send many at once
    /// overrides this.
    fn put_blobs(&mut self, blobs: &[(String, Vec<u8>)]) -> Result<(), SyncError> {
        blobs
            .iter()
            .try_for_each(|(id, data)| self.put_blob(id, data))
    }
    /// Downloads these blobs; it is an error if the server lacks one.
    fn get_blobs(&mut self, ids: &[String]) -> Result<Vec<(String, Vec<u8>)>, SyncError> {
        ids.iter()
            .map(|id| Ok((id.clone(), self.get_blob(id)?)))
            .collect()
    }
}

/// See [`Replica::text_probe`].
pub type TextProbe = Box<dyn FnMut(&[String]) -> Result<Vec<String>, SyncError> + Send>;

pub trait Replica {
    fn device(&self) -> String;
    /// Local operations not yet pushed, oldest first, at most `limit`.
    fn unpushed(&mut self, limit: usize) -> Result<Vec<Outgoing>, SyncError>;
    /// Records that the server has every local operation up to `seq`, and,
    /// with `cursor`, that the pull may start after that position (the
    /// positions up to it hold nothing this device lacks).
    fn mark_pushed(&mut self, seq: u64, cursor: Option<u64>) -> Result<(), SyncError>;
    /// Where the last pull stopped.
    fn cursor(&self) -> u64;
    /// Makes this device's next operation to push number `next` when it
    /// would be higher: the server lost the ones in between (it was
    /// restored from a backup, or its admin removed them), and a device's
    /// operations must follow on without a gap. The queued operations are
    /// renumbered from `next`, and later ones follow them. Returns the
    /// number the next operation had, when it changed.
    fn continue_from(&mut self, next: u64) -> Result<Option<u64>, SyncError>;
    /// The texts these local operations refer to, as (content hash, the
    /// text as one zstd frame), for upload before the operations.
    fn blobs_for(&mut self, ops: &[Op]) -> Result<Vec<(String, Vec<u8>)>, SyncError>;
    /// Tells which of the texts (content hashes) asked about this replica
    /// lacks, from the thread that fetches pages while pages are applied.
    fn text_probe(&mut self) -> Result<TextProbe, SyncError>;
    /// Called first of all when the pull starts: a replica applies here
    /// what it held for after an upgrade, which may send its cursor back
    /// to the start ([`Replica::pulls_again_below`]).
    fn before_pull(&mut self) -> Result<(), SyncError> {
        Ok(())
    }
    /// While a replica pulls again what it pulled before (after an upgrade
    /// from an nj that dropped what it did not know), the position before
    /// which every operation is one it has seen. No page spans it, so
    /// `apply_page` knows a page's operations by its `next`: all seen
    /// before when `next` is at or before it, all new after.
    fn pulls_again_below(&self) -> Option<u64> {
        None
    }
    /// Told, before the first page, about how many operations the pull
    /// will bring (all devices', from the server's status), so it can
    /// prepare for a large one.
    fn begin_pull(&mut self, _remaining: u64) -> Result<(), SyncError> {
        Ok(())
    }
    /// Told that the pull has applied its last page.
    fn end_pull(&mut self) -> Result<(), SyncError> {
        Ok(())
    }
    /// Fetched texts made ready to store.
    type Texts: Send;
    /// Readies the fetched texts (content hash, zstd frame) of a page:
    /// unpacks and checks them. It runs on the thread that fetches pages,
    /// beside the applying of the last page, so it takes no `self`.
    fn prepare_texts(blobs: Vec<(String, Vec<u8>)>) -> Self::Texts;
    /// Stores a page's texts, applies its remote operations and moves the
    /// cursor to `next`, as one change: all or nothing.
    fn apply_page(
        &mut self,
        ops: &[Op],
        texts: Self::Texts,
        next: u64,
    ) -> Result<Merged, SyncError>;
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub pushed: usize,
    pub pulled: usize,
    pub blobs_pushed: usize,
    pub blobs_pulled: usize,
    pub conflicts: usize,
    /// Operations from the server that were not applied: they failed
    /// authentication (altered, or sealed with another key), could not be
    /// read, or need a text that failed.
    pub skipped: usize,
    /// The first [`MAX_NAMED`] of the skipped operations that did not open,
    /// as `DEVICE#SEQ`: what `nj server remove-op` takes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<String>,
    /// How many did not open, named or not.
    #[serde(skip)]
    pub unreadable_total: usize,
    /// This device's operations the server had lost, first and last: it
    /// held fewer of them than the device had pushed, and the device's
    /// waiting ones were renumbered to follow on from what it holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost: Option<[u64; 2]>,
}

/// How many unreadable operations a summary names.
pub const MAX_NAMED: usize = 20;

/// A payload that did not open: skipped, unless a newer nj wrote it, which
/// an update reads (so the pull must stop before it, not skip it).
fn opened(e: super::crypto::CryptoError) -> SyncError {
    match e {
        super::crypto::CryptoError::UnknownVersion(v) => SyncError::NewerFormat(v),
        other => SyncError::Malformed(other.to_string()),
    }
}

/// What a device joining a server learns before it stores the remote:
/// whether the key it has, or would make, fits the journal there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinCheck {
    /// The server's journal has no key yet: this device's key (or one it
    /// makes now) becomes the journal's at the first sync.
    NoKeyYet,
    /// The key given (or the one this device has) is the journal's.
    KeyMatches,
    /// The journal has a key, and this device has none: making one would
    /// only be refused at `nj sync`.
    KeyNeeded,
    /// The key given is another journal's.
    WrongKey,
}

/// Asks the server for its journal's key check and compares it with `key`
/// (the key the device would use, if it has one). A wrong or revoked
/// token comes back as [`SyncError::BadToken`]; nothing is sent but the
/// question.
pub fn check_join(
    transport: &mut dyn Transport,
    key: Option<&JournalKey>,
) -> Result<JoinCheck, SyncError> {
    let status = transport.status()?;
    Ok(match (&status.key_check, key) {
        (None, _) => JoinCheck::NoKeyYet,
        (Some(_), None) => JoinCheck::KeyNeeded,
        (Some(stored), Some(k)) if *stored == Sealer::new(k, &status.journal).key_check() => {
            JoinCheck::KeyMatches
        }
        (Some(_), Some(_)) => JoinCheck::WrongKey,
    })
}

/// Seals and opens what one journal on the server holds.
pub struct Sealer {
    keys: SyncKeys,
    journal: String,
}

impl Sealer {
    pub fn new(key: &JournalKey, journal: &str) -> Sealer {
        Sealer {
            keys: key.sync_keys(),
            journal: journal.to_owned(),
        }
    }

    pub fn key_check(&self) -> String {
        self.keys.key_check(&self.journal)
    }

    /// An operation's nonce: its random seed hashed with the journal id and
    /// the payload. The seed is kept with the operation, so a push that is
    /// retried sends the same bytes (the server's idempotency depends on
    /// it); the journal id and the payload in the hash mean that no two
    /// different payloads, or journals, ever share a nonce.
    fn nonce(&self, seed: &[u8; 24], payload: &[u8]) -> [u8; 24] {
        let mut h = Sha256::new();
        h.update(seed);
        h.update((self.journal.len() as u64).to_be_bytes());
        h.update(self.journal.as_bytes());
        h.update(payload);
        let d = h.finalize();
        let mut n = [0u8; 24];
        n.copy_from_slice(&d[..24]);
        n
    }

    pub fn seal(&self, out: &Outgoing) -> Envelope {
        let op = &out.op;
        Envelope {
            device: op.device.clone(),
            seq: op.seq,
            hlc_ms: op.hlc.ms,
            payload: self.keys.seal_op_with_nonce(
                &self.journal,
                &op.device,
                op.seq,
                &out.payload,
                &self.nonce(&out.nonce_seed, &out.payload),
            ),
        }
    }

    /// Opens an envelope, checking that the payload is the operation the
    /// envelope says it is.
    pub fn open(&self, env: &Envelope) -> Result<Op, SyncError> {
        let json = self
            .keys
            .open_op(&self.journal, &env.device, env.seq, &env.payload)
            .map_err(opened)?;
        let mut op: Op =
            serde_json::from_slice(&json).map_err(|e| SyncError::Malformed(e.to_string()))?;
        if op.has_unknown_parts() {
            op.arrived_as = String::from_utf8(json).ok();
        }
        if op.device != env.device || op.seq != env.seq {
            return Err(SyncError::Malformed(format!(
                "{}#{} holds {}#{}",
                env.device, env.seq, op.device, op.seq
            )));
        }
        Ok(op)
    }

    /// The id a text is stored under on the server.
    pub fn blob_id(&self, content_hash: &str) -> String {
        self.keys.blob_id(content_hash)
    }

    pub fn seal_blob(&self, blob_id: &str, data: &[u8]) -> Vec<u8> {
        self.keys.seal_blob(&self.journal, blob_id, data)
    }

    pub fn open_blob(&self, blob_id: &str, sealed: &[u8]) -> Result<Vec<u8>, SyncError> {
        self.keys
            .open_blob(&self.journal, blob_id, sealed)
            .map_err(opened)
    }
}

/// A page fetched and opened, ready to apply.
struct Fetched<T> {
    ops: Vec<Op>,
    /// The texts the replica lacked, readied by `Replica::prepare_texts`.
    texts: T,
    /// How many texts came.
    blobs: usize,
    next: u64,
    more: bool,
    skipped: usize,
    /// The operations that did not open, as `DEVICE#SEQ` (the first
    /// [`MAX_NAMED`]), and how many.
    unreadable: Vec<String>,
    unreadable_total: usize,
}

/// Pulls the page after `cursor`, opens its operations (skipping this
/// device's own), and fetches and opens the texts they need that the
/// replica lacks. An operation that fails to open, or whose text does, is
/// counted and left out. With `seen_below` ([`Replica::pulls_again_below`])
/// no page spans that position.
fn fetch_page<R: Replica>(
    transport: &mut impl Transport,
    sealer: &Sealer,
    me: &str,
    probe: &mut TextProbe,
    cursor: u64,
    page_size: usize,
    seen_below: Option<u64>,
) -> Result<Fetched<R::Texts>, SyncError> {
    let mut limit = page_size;
    let page = loop {
        let page = transport.pull(cursor, limit)?;
        // A page that starts before the position and ends after it would
        // mix operations seen before with new ones. The server does not
        // say where each operation sits (positions are shared by every
        // journal it holds), so a smaller page is asked for until one
        // ends at or before it; a page of one operation ends where that
        // operation sits, so it is wholly on one side.
        match seen_below {
            Some(b) if cursor < b && page.next > b && page.ops.len() > 1 => {
                limit = page.ops.len() / 2;
            }
            _ => break page,
        }
    };
    let mut skipped = 0;
    let mut unreadable = Vec::new();
    let mut unreadable_total = 0;
    let mut ops = Vec::with_capacity(page.ops.len());
    for env in &page.ops {
        if env.device == me {
            continue;
        }
        match sealer.open(env) {
            Ok(op) => ops.push(op),
            Err(e @ SyncError::NewerFormat(_)) => return Err(e),
            // One operation that fails must not stop the rest, and is
            // never applied.
            Err(_) => {
                skipped += 1;
                unreadable_total += 1;
                if unreadable.len() < MAX_NAMED {
                    unreadable.push(format!("{}#{}", env.device, env.seq));
                }
            }
        }
    }
    let mut wanted: Vec<String> = ops
        .iter()
        .filter_map(|op| op.text_ref())
        .map(str::to_owned)
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let by_id: HashMap<String, String> = probe(&wanted)?
        .into_iter()
        .map(|hash| (sealer.blob_id(&hash), hash))
        .collect();
    let ids: Vec<String> = by_id.keys().cloned().collect();
    let mut blobs = Vec::new();
    let mut failed = HashSet::new();
    for chunk in ids.chunks(BLOB_BATCH) {
        for (id, sealed) in transport.get_blobs(chunk)? {
            let Some(hash) = by_id.get(&id) else {
                continue;
            };
            let opened = match sealer.open_blob(&id, &sealed) {
                Ok(list) if list.starts_with(PARTS_MAGIC) => {
                    assemble(transport, sealer, &id, &list)?.ok_or(SyncError::Malformed(
                        "a text's parts do not fit together".into(),
                    ))
                }
                other => other,
            };
            match opened {
                Ok(data) => blobs.push((hash.clone(), data)),
                Err(e @ SyncError::NewerFormat(_)) => return Err(e),
                Err(_) => {
                    failed.insert(hash.as_str());
                }
            }
        }
    }
    // An operation whose text failed would point at a text this device
    // does not have.
    let before = ops.len();
    ops.retain(|op| op.text_ref().is_none_or(|h| !failed.contains(h)));
    skipped += before - ops.len();
    Ok(Fetched {
        ops,
        blobs: blobs.len(),
        texts: R::prepare_texts(blobs),
        next: page.next,
        more: page.more,
        skipped,
        unreadable,
        unreadable_total,
    })
}

/// Splits `items` into runs of at most `max_count` items and, unless one
/// item alone is larger, `budget` bytes as `size` counts them.
fn by_size<T>(
    items: &[T],
    max_count: usize,
    budget: usize,
    size: impl Fn(&T) -> usize,
) -> Vec<&[T]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, item) in items.iter().enumerate() {
        let n = size(item);
        if i > start && (i - start == max_count || bytes + n > budget) {
            out.push(&items[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += n;
    }
    if start < items.len() {
        out.push(&items[start..]);
    }
    out
}

/// Bytes as base64 takes them.
fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// What one operation takes in a push's JSON: its payload in base64, its
/// device id, and the field names and numbers around them.
pub(crate) fn op_wire_len(env: &Envelope) -> usize {
    base64_len(env.payload.len()) + env.device.len() + 96
}

/// What one text takes in an upload's JSON.
pub(crate) fn blob_wire_len((id, data): &(String, Vec<u8>)) -> usize {
    base64_len(data.len()) + id.len() + 32
}

/// How requests are sized for one server: by the body limit its status
/// gives (16 MiB for servers that give none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sizes {
    /// The server's limit on a request body.
    limit: usize,
    /// Whether the server said what its limit is.
    known: bool,
    /// The most a request's items may take on the wire: the limit, less
    /// room for the JSON around them, and no more than [`BATCH_BYTES`]
    /// (so a request's memory stays small on both sides).
    budget: usize,
    /// The largest sealed text sent whole; a larger one goes in parts of
    /// this size, each of which fits in a request by itself.
    part: usize,
}

/// The largest part of a text in parts.
const MAX_PART_BYTES: usize = 1 << 20;

/// The body limit of a server that does not say (`nj serve`'s default).
const DEFAULT_MAX_BODY: u64 = 16 * 1024 * 1024;

impl Sizes {
    fn for_server(max_body: Option<u64>) -> Sizes {
        let limit = usize::try_from(max_body.unwrap_or(DEFAULT_MAX_BODY)).unwrap_or(usize::MAX);
        let budget = limit.saturating_sub(1024).min(BATCH_BYTES);
        // A part and its id in base64 JSON fit the budget. Parts are at
        // most 1 MiB whatever the server says, so that a server that does
        // not say its limit takes them if it takes anything useful.
        let part = (budget.saturating_sub(256) / 4 * 3).clamp(1, MAX_PART_BYTES);
        Sizes {
            limit,
            known: max_body.is_some(),
            budget,
            part,
        }
    }

    /// The limit for a message: " (16.8 MB)", or nothing if unsaid.
    fn limit_text(self) -> String {
        if self.known {
            format!(" ({})", size_text(self.limit))
        } else {
            String::new()
        }
    }
}

/// Texts uploaded in one request, by count and size (see [`by_size`]).
fn batches(blobs: &[(String, Vec<u8>)], sizes: Sizes) -> Vec<&[(String, Vec<u8>)]> {
    by_size(blobs, BLOB_BATCH, sizes.budget, blob_wire_len)
}

/// Operations pushed in one request, by size (see [`by_size`]).
fn op_batches(ops: &[Envelope], sizes: Sizes) -> Vec<&[Envelope]> {
    by_size(ops, usize::MAX, sizes.budget, op_wire_len)
}

/// The most one request's items take on the wire, whatever the server
/// allows.
const BATCH_BYTES: usize = 12 * 1024 * 1024;

/// Blob ids asked about, or fetched, in one request.
const BLOB_BATCH: usize = 200;

/// The first bytes of what is stored under a text's blob id when the text
/// went in parts (docs/sync-protocol.md, "Texts in parts"): then that blob
/// is a sealed list of the parts, and the sealed text is their
/// concatenation. A text itself is a zstd frame, which starts otherwise.
const PARTS_MAGIC: &[u8] = b"nj parts v1\n";

/// The list of a text's parts, as JSON after [`PARTS_MAGIC`].
#[derive(Debug, Serialize, Deserialize)]
struct PartList {
    /// How many parts (see [`part_id`]).
    parts: usize,
    /// The sealed text's length in bytes, and its SHA-256 in hex.
    bytes: u64,
    sha256: String,
}

/// The most bytes a text in parts may claim: a text is at most 50 MB
/// before compression, and zstd makes nothing much larger.
const MAX_PARTED_BYTES: u64 = 64 * 1024 * 1024;

/// Part `k` (from 1) of the sealed text whose SHA-256 is `sha256` (hex).
/// The hash is in the id because sealing is randomised: parts of an upload
/// that was cut short, sealed afresh on the retry, must not be mixed with
/// the new ones.
fn part_id(id: &str, sha256: &str, k: usize) -> String {
    format!("{id}-{}-p{k}", &sha256[..16])
}

/// What to upload for one sealed text: the text itself, or, when it is
/// larger than a part, its parts and then the sealed list of them under the
/// text's id. The list goes last, so a server that holds it holds every part
/// (uploads go in order, each request all or nothing).
fn uploads(sealer: &Sealer, id: String, sealed: Vec<u8>, sizes: Sizes) -> Vec<(String, Vec<u8>)> {
    if sealed.len() <= sizes.part {
        return vec![(id, sealed)];
    }
    let sha256 = sha256_hex(&sealed);
    let mut out: Vec<(String, Vec<u8>)> = sealed
        .chunks(sizes.part)
        .enumerate()
        .map(|(k, part)| (part_id(&id, &sha256, k + 1), part.to_vec()))
        .collect();
    let list = PartList {
        parts: out.len(),
        bytes: sealed.len() as u64,
        sha256,
    };
    let mut plain = PARTS_MAGIC.to_vec();
    plain.extend(serde_json::to_vec(&list).expect("a part list serializes"));
    out.push((id.clone(), sealer.seal_blob(&id, &plain)));
    out
}

/// The text of a blob that opened to a part list: its parts fetched, put
/// together and opened. `Ok(None)` when the list or the parts are not what
/// they should be (the text then counts as failed, as one that does not
/// open does).
fn assemble(
    transport: &mut impl Transport,
    sealer: &Sealer,
    id: &str,
    list: &[u8],
) -> Result<Option<Vec<u8>>, SyncError> {
    let Ok(list) = serde_json::from_slice::<PartList>(&list[PARTS_MAGIC.len()..]) else {
        return Ok(None);
    };
    let hex_hash = list.sha256.len() == 64 && list.sha256.bytes().all(|b| b.is_ascii_hexdigit());
    if !hex_hash
        || list.parts == 0
        || list.bytes > MAX_PARTED_BYTES
        || list.parts as u64 > list.bytes
    {
        return Ok(None);
    }
    let ids: Vec<String> = (1..=list.parts)
        .map(|k| part_id(id, &list.sha256, k))
        .collect();
    let mut sealed = Vec::with_capacity(list.bytes as usize);
    for chunk in ids.chunks(BLOB_BATCH) {
        for (_, part) in transport.get_blobs(chunk)? {
            if sealed.len() as u64 + part.len() as u64 > list.bytes {
                return Ok(None);
            }
            sealed.extend_from_slice(&part);
        }
    }
    if sealed.len() as u64 != list.bytes || sha256_hex(&sealed) != list.sha256 {
        return Ok(None);
    }
    Ok(sealer.open_blob(id, &sealed).ok())
}

/// Told of each batch the server stored, with what it said.
type OnPushed<'a> = dyn FnMut(&[Envelope], Pushed) -> Result<(), SyncError> + 'a;

/// Pushes `batch`; when the server refuses it as too large, pushes each
/// half instead, down to one operation, which `too_large` names.
/// `on_pushed` is told of each part the server stored, in order.
fn push_fitting(
    transport: &mut impl Transport,
    batch: &[Envelope],
    on_pushed: &mut OnPushed<'_>,
    too_large: &dyn Fn(&Envelope) -> SyncError,
) -> Result<(), SyncError> {
    match transport.push(batch) {
        Ok(pushed) => on_pushed(batch, pushed),
        Err(SyncError::TooLarge(_)) if batch.len() > 1 => {
            let (a, b) = batch.split_at(batch.len() / 2);
            push_fitting(transport, a, on_pushed, too_large)?;
            push_fitting(transport, b, on_pushed, too_large)
        }
        Err(SyncError::TooLarge(_)) => Err(too_large(&batch[0])),
        Err(e) => Err(e),
    }
}

/// Uploads texts in `batch`, halving it when the server refuses it as too
/// large; a single text it refuses is an error naming its size.
fn put_fitting(
    transport: &mut impl Transport,
    batch: &[(String, Vec<u8>)],
    sizes: Sizes,
) -> Result<(), SyncError> {
    match transport.put_blobs(batch) {
        Ok(()) => Ok(()),
        Err(SyncError::TooLarge(_)) if batch.len() > 1 => {
            let (a, b) = batch.split_at(batch.len() / 2);
            put_fitting(transport, a, sizes)?;
            put_fitting(transport, b, sizes)
        }
        Err(SyncError::TooLarge(_)) => Err(SyncError::ChangeTooLarge {
            change: "a part of an article's text".into(),
            size: size_text(batch[0].1.len()),
            limit: sizes.limit_text(),
        }),
        Err(e) => Err(e),
    }
}

/// A size for a message.
/// Names an operation for a message: which field of which thing.
fn describe(op: &Op) -> String {
    let short = &op.id[..op.id.len().min(8)];
    match &op.change {
        Change::Create { .. } => format!("the new {} {short}", op.entity),
        Change::Set { field, .. } => format!("the change to the {field} of {} {short}", op.entity),
        Change::Link { article_id, .. } | Change::Unlink { article_id, .. } => {
            format!(
                "a tag change on article {}",
                &article_id[..article_id.len().min(8)]
            )
        }
    }
}

/// Checks the key against the server's journal (storing its check if no
/// device has yet), pushes, then pulls. `progress` is told the running
/// summary after each page.
pub fn sync<R: Replica>(
    replica: &mut R,
    transport: &mut (impl Transport + Send),
    key: &JournalKey,
    page_size: usize,
    mut progress: impl FnMut(&Summary),
) -> Result<Summary, SyncError> {
    let page_size = page_size.max(1);
    let status = transport.status()?;
    let sealer = Sealer::new(key, &status.journal);
    // Before anything is pushed: data sealed with the wrong key would be
    // unreadable to every other device.
    let check = sealer.key_check();
    match &status.key_check {
        Some(stored) if *stored != check => return Err(SyncError::WrongKey),
        Some(_) => {}
        None if !status.devices.is_empty() => return Err(SyncError::PlainJournal),
        None => transport.set_key_check(&check)?,
    }
    let sizes = Sizes::for_server(status.max_body);
    let mut s = Summary::default();
    // A server restored from a backup holds fewer of this device's
    // operations than the device pushed: the next push would leave a gap,
    // which the server refuses, so the waiting ones follow on from what it
    // holds, and the user hears what it lost.
    let held = status.devices.get(&replica.device()).copied().unwrap_or(0);
    if let Some(was) = replica.continue_from(held + 1)? {
        s.lost = Some([held + 1, was - 1]);
    }
    loop {
        let outgoing = replica.unpushed(page_size)?;
        let Some(last) = outgoing.last().map(|o| o.op.seq) else {
            break;
        };
        let ops: Vec<Op> = outgoing.iter().map(|o| o.op.clone()).collect();
        // Texts first: a device that pulls these operations must find them.
        let blobs: Vec<(String, Vec<u8>)> = replica
            .blobs_for(&ops)?
            .into_iter()
            .map(|(hash, data)| (sealer.blob_id(&hash), data))
            .collect();
        let ids: Vec<String> = blobs.iter().map(|(id, _)| id.clone()).collect();
        let mut lacking = HashSet::new();
        for chunk in ids.chunks(BLOB_BATCH) {
            lacking.extend(transport.lacking_blobs(chunk)?);
        }
        // A text larger than a request goes in parts, so no text is too
        // large to sync (docs/sync-protocol.md, "Texts in parts").
        let mut sealed: Vec<(String, Vec<u8>)> = Vec::new();
        for (id, data) in blobs.iter().filter(|(id, _)| lacking.contains(id)) {
            s.blobs_pushed += 1;
            sealed.extend(uploads(
                &sealer,
                id.clone(),
                sealer.seal_blob(id, data),
                sizes,
            ));
        }
        for chunk in batches(&sealed, sizes) {
            put_fitting(transport, chunk, sizes)?;
        }
        let sealed_ops: Vec<Envelope> = outgoing.iter().map(|o| sealer.seal(o)).collect();
        let too_large = |env: &Envelope| {
            let op = outgoing
                .iter()
                .find(|o| o.op.seq == env.seq)
                .map(|o| describe(&o.op))
                .unwrap_or_else(|| format!("change #{}", env.seq));
            SyncError::ChangeTooLarge {
                change: op,
                size: size_text(op_wire_len(env)),
                limit: sizes.limit_text(),
            }
        };
        // One change that cannot fit even alone is named before anything of
        // this page is sent (the ones before it are pushed).
        let fits = sealed_ops
            .iter()
            .position(|env| op_wire_len(env) + 1024 > sizes.limit);
        let sendable = &sealed_ops[..fits.unwrap_or(sealed_ops.len())];
        // Requests stay inside the server's body limit however large the
        // operations (long notes) are; a server that refuses one anyway
        // (its limit unsaid) gets it in halves.
        let mut on_pushed = |batch: &[Envelope], pushed: Pushed| {
            // When this device had seen everything before its batch and the
            // whole batch was new, the batch's positions are its own
            // operations: the pull need not fetch them back.
            let skip = pushed.stored == batch.len()
                && pushed.last == pushed.after + batch.len() as u64
                && pushed.after == replica.cursor();
            let seq = batch.last().map_or(last, |e| e.seq);
            replica.mark_pushed(seq, skip.then_some(pushed.last))?;
            s.pushed += batch.len();
            progress(&s);
            Ok(())
        };
        for batch in op_batches(sendable, sizes) {
            push_fitting(transport, batch, &mut on_pushed, &too_large)?;
        }
        if let Some(i) = fits {
            return Err(too_large(&sealed_ops[i]));
        }
    }
    let me = replica.device();
    // Operations are numbered from 1 on the server, so the sum of each
    // device's highest number is how many there were at the start.
    let total: u64 = status.devices.values().sum();
    replica.before_pull()?;
    replica.begin_pull(total.saturating_sub(replica.cursor()))?;
    let mut probe = replica.text_probe()?;
    let start = replica.cursor();
    let seen_below = replica.pulls_again_below();
    // One thread fetches and opens the next page (and its texts) while
    // this one applies the last: the network, the server and the
    // decryption overlap the writing of the journal.
    std::thread::scope(|scope| -> Result<(), SyncError> {
        // A rendezvous: at most one page waits, fetched, while one applies,
        // which keeps a large pull's memory to about two pages.
        let (pages, received) =
            std::sync::mpsc::sync_channel::<Result<Fetched<R::Texts>, SyncError>>(0);
        let sealer = &sealer;
        let me = me.as_str();
        scope.spawn(move || {
            let mut cursor = start;
            loop {
                let fetched = fetch_page::<R>(
                    transport, sealer, me, &mut probe, cursor, page_size, seen_below,
                );
                let next = match &fetched {
                    Ok(f) if f.more => Some(f.next),
                    _ => None,
                };
                // A closed channel means the applying side stopped.
                if pages.send(fetched).is_err() {
                    return;
                }
                match next {
                    Some(n) => cursor = n,
                    None => return,
                }
            }
        });
        for fetched in received {
            let f = fetched?;
            s.skipped += f.skipped;
            let room = MAX_NAMED.saturating_sub(s.unreadable.len());
            s.unreadable.extend(f.unreadable.into_iter().take(room));
            s.unreadable_total += f.unreadable_total;
            s.blobs_pulled += f.blobs;
            let merged = replica.apply_page(&f.ops, f.texts, f.next)?;
            s.pulled += f.ops.len() - merged.orphaned;
            s.skipped += merged.orphaned;
            s.conflicts += merged.conflicts;
            progress(&s);
        }
        Ok(())
    })?;
    replica.end_pull()?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_split_by_count_and_by_size() {
        let blob = |n: usize| ("k1:x".to_string(), vec![0u8; n]);
        let many: Vec<_> = (0..450).map(|_| blob(10)).collect();
        let default = Sizes::for_server(None);
        let sizes: Vec<usize> = batches(&many, default).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [200, 200, 50]);
        let big = vec![blob(5 << 20), blob(5 << 20), blob(20 << 20), blob(1)];
        let sizes: Vec<usize> = batches(&big, default).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [1, 1, 1, 1]);
        assert!(batches(&[], default).is_empty());
        // A server with a small limit: fewer per request, each inside it.
        let small = Sizes::for_server(Some(64 * 1024));
        for batch in batches(&many, small) {
            let wire: usize = batch.iter().map(blob_wire_len).sum();
            assert!(wire + 1024 <= 64 * 1024, "{wire}");
        }
        assert!(
            small.part < 48 * 1024
                && blob_wire_len(&("k1:x".into(), vec![0; small.part])) < small.budget
        );
    }

    #[test]
    fn pushes_are_split_by_size() {
        let env = |n: usize| Envelope {
            device: "d".into(),
            seq: 1,
            hlc_ms: 0,
            payload: vec![0; n],
        };
        let ops: Vec<_> = (0..10).map(|_| env(2 << 20)).collect();
        let default = Sizes::for_server(None);
        let sizes: Vec<usize> = op_batches(&ops, default).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [4, 4, 2]);
        let small: Vec<_> = (0..10_000).map(|_| env(300)).collect();
        assert_eq!(op_batches(&small, default).len(), 1);
        assert!(op_batches(&[], default).is_empty());
        let limited = Sizes::for_server(Some(1 << 20));
        assert_eq!(op_batches(&small, limited).len(), 5);
    }
}
