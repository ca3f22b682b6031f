//! In-memory implementations of the protocol's traits, for tests: a server
//! and a replica whose journal is a map of fields.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use super::hlc::{Clock, Stamp};
use super::merge::{apply, FieldStore, Merged};
use super::op::{tag_link_id, Change, Op};
use super::protocol::{
    Envelope, Outgoing, Page, Pushed, RemoteStatus, Replica, SyncError, Transport,
};
use crate::entity::Entity;

/// A server that keeps operations in a list, in the order they arrived.
#[derive(Debug, Default, Clone)]
pub struct MemoryServer {
    ops: Vec<Envelope>,
    index: HashMap<(String, u64), usize>,
    blobs: HashMap<String, Vec<u8>>,
    key_check: Option<String>,
    /// A body limit like the HTTP server's: a push or an upload larger
    /// than this (as its payloads' bytes) is refused as too large.
    pub max_body: Option<usize>,
    /// Whether the status says what `max_body` is (servers before it did not).
    pub advertise: bool,
}

/// A [`MemoryServer`] behind a connection that drops after `pages` pulls
/// (`None`: never), counting the operations pulled: for tests of
/// interrupted pulls and of what a pull fetches.
pub struct Watched<'a> {
    pub inner: &'a mut MemoryServer,
    pub pages: Option<usize>,
    pub fetched: usize,
}

impl<'a> Watched<'a> {
    pub fn new(inner: &'a mut MemoryServer, pages: Option<usize>) -> Watched<'a> {
        Watched {
            inner,
            pages,
            fetched: 0,
        }
    }
}

impl Transport for Watched<'_> {
    fn status(&mut self) -> Result<RemoteStatus, SyncError> {
        self.inner.status()
    }
    fn set_key_check(&mut self, check: &str) -> Result<(), SyncError> {
        self.inner.set_key_check(check)
    }
    fn push(&mut self, batch: &[Envelope]) -> Result<Pushed, SyncError> {
        self.inner.push(batch)
    }
    fn pull(&mut self, cursor: u64, limit: usize) -> Result<Page, SyncError> {
        match &mut self.pages {
            Some(0) => return Err(SyncError::Transport("the connection dropped".into())),
            Some(n) => *n -= 1,
            None => {}
        }
        let page = self.inner.pull(cursor, limit)?;
        self.fetched += page.ops.len();
        Ok(page)
    }
    fn has_blob(&mut self, id: &str) -> Result<bool, SyncError> {
        self.inner.has_blob(id)
    }
    fn put_blob(&mut self, id: &str, data: &[u8]) -> Result<(), SyncError> {
        self.inner.put_blob(id, data)
    }
    fn get_blob(&mut self, id: &str) -> Result<Vec<u8>, SyncError> {
        self.inner.get_blob(id)
    }
}

/// A fixed journal key for tests: every replica of one test's journal
/// shares it, as devices that sync share theirs.
pub fn test_key() -> super::crypto::JournalKey {
    super::crypto::JournalKey::from_bytes([7; 32])
}

/// The id every in-memory server gives its one journal.
pub const MEMORY_JOURNAL: &str = "memory-journal";

impl MemoryServer {
    /// Refuses a request body of `bytes` over `max_body`, as a 413.
    fn fits(&self, bytes: usize) -> Result<(), SyncError> {
        match self.max_body {
            Some(max) if bytes + 64 > max => Err(SyncError::TooLarge(format!(
                "{bytes} bytes is over the limit of {max}"
            ))),
            _ => Ok(()),
        }
    }

    /// A server that refuses requests over `max_body` bytes, and says so in
    /// its status when `advertise`.
    pub fn limited(max_body: usize, advertise: bool) -> MemoryServer {
        MemoryServer {
            max_body: Some(max_body),
            advertise,
            ..MemoryServer::default()
        }
    }

    /// How many texts (or parts of texts) it holds.
    pub fn blob_count(&self) -> usize {
        self.blobs.len()
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

impl Transport for MemoryServer {
    fn status(&mut self) -> Result<RemoteStatus, SyncError> {
        let mut devices = BTreeMap::new();
        for env in &self.ops {
            let max = devices.entry(env.device.clone()).or_insert(0);
            *max = env.seq.max(*max);
        }
        Ok(RemoteStatus {
            server_time_ms: 0,
            devices,
            journal: MEMORY_JOURNAL.to_owned(),
            key_check: self.key_check.clone(),
            max_body: self.max_body.filter(|_| self.advertise).map(|n| n as u64),
        })
    }

    fn set_key_check(&mut self, check: &str) -> Result<(), SyncError> {
        match &self.key_check {
            Some(stored) if stored != check => Err(SyncError::WrongKey),
            Some(_) => Ok(()),
            None => {
                self.key_check = Some(check.to_owned());
                Ok(())
            }
        }
    }

    fn push(&mut self, batch: &[Envelope]) -> Result<Pushed, SyncError> {
        let wire: usize = batch.iter().map(super::protocol::op_wire_len).sum();
        self.fits(wire)?;
        let after = self.ops.len() as u64;
        let mut stored = 0;
        for env in batch {
            match self.index.get(&(env.device.clone(), env.seq)) {
                Some(&i) if self.ops[i] == *env => continue,
                Some(_) => {
                    return Err(SyncError::Conflict {
                        device: env.device.clone(),
                        seq: env.seq,
                    })
                }
                None => {
                    // Gapless, as the real server.
                    let head = self
                        .ops
                        .iter()
                        .filter(|o| o.device == env.device)
                        .map(|o| o.seq)
                        .max()
                        .unwrap_or(0);
                    if env.seq != head + 1 {
                        return Err(SyncError::Gap {
                            device: env.device.clone(),
                            seq: env.seq,
                            expected: head + 1,
                        });
                    }
                    self.index
                        .insert((env.device.clone(), env.seq), self.ops.len());
                    self.ops.push(env.clone());
                    stored += 1;
                }
            }
        }
        Ok(Pushed {
            stored,
            after,
            last: self.ops.len() as u64,
        })
    }

    fn has_blob(&mut self, id: &str) -> Result<bool, SyncError> {
        Ok(self.blobs.contains_key(id))
    }

    fn put_blobs(&mut self, blobs: &[(String, Vec<u8>)]) -> Result<(), SyncError> {
        self.fits(blobs.iter().map(super::protocol::blob_wire_len).sum())?;
        blobs
            .iter()
            .try_for_each(|(id, data)| self.put_blob(id, data))
    }

    fn put_blob(&mut self, id: &str, data: &[u8]) -> Result<(), SyncError> {
        self.fits(data.len())?;
        self.blobs
            .entry(id.to_owned())
            .or_insert_with(|| data.to_vec());
        Ok(())
    }

    fn get_blob(&mut self, id: &str) -> Result<Vec<u8>, SyncError> {
        self.blobs
            .get(id)
            .cloned()
            .ok_or_else(|| SyncError::Transport(format!("the server has no blob {id}")))
    }

    fn pull(&mut self, cursor: u64, limit: usize) -> Result<Page, SyncError> {
        let start = (cursor as usize).min(self.ops.len());
        let end = (start + limit).min(self.ops.len());
        Ok(Page {
            ops: self.ops[start..end].to_vec(),
            next: end as u64,
            more: end < self.ops.len(),
        })
    }
}

type Key = (Entity, String, String);

/// What [`MemoryReplica::state`] returns: every field as (key, value,
/// stamp), and the kept conflict revisions as (key, stamp, text).
type State = (Vec<(Key, Value, Stamp)>, Vec<(Key, Stamp, String)>);

/// A replica whose journal is a map from (entity, id, field) to a value.
#[derive(Debug, Clone)]
pub struct MemoryReplica {
    pub device: String,
    /// The device's wall clock, in milliseconds; tests move it.
    pub wall_ms: i64,
    clock: Clock,
    log: Vec<Outgoing>,
    pushed: u64,
    cursor: u64,
    fields: BTreeMap<Key, (Value, Stamp)>,
    conflicts: BTreeSet<(Key, Stamp, String)>,
}

impl MemoryReplica {
    pub fn new(device: &str) -> MemoryReplica {
        MemoryReplica {
            device: device.to_owned(),
            wall_ms: 1_700_000_000_000,
            clock: Clock::default(),
            log: Vec::new(),
            pushed: 0,
            cursor: 0,
            fields: BTreeMap::new(),
            conflicts: BTreeSet::new(),
        }
    }

    fn record(&mut self, entity: Entity, id: &str, change: Change) -> Merged {
        let op = Op {
            device: self.device.clone(),
            seq: self.log.len() as u64 + 1,
            hlc: self.clock.tick(self.wall_ms),
            entity,
            id: id.to_owned(),
            change,
        };
        let Ok(m) = apply(self, &op);
        self.log.push(Outgoing {
            payload: serde_json::to_vec(&op).expect("an Op always serializes"),
            op,
            nonce_seed: super::crypto::nonce_seed(),
        });
        m
    }

    pub fn create(&mut self, entity: Entity, id: &str, fields: &[(&str, Value)]) {
        let fields = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        self.record(entity, id, Change::Create { fields });
    }

    pub fn set(&mut self, entity: Entity, id: &str, field: &str, value: Value) {
        let Ok(base) = self.stamp(entity, id, field);
        self.record(
            entity,
            id,
            Change::Set {
                field: field.to_owned(),
                value,
                base,
            },
        );
    }

    pub fn link(&mut self, article_id: &str, tag: &str) {
        let change = Change::Link {
            article_id: article_id.to_owned(),
            tag: tag.to_owned(),
        };
        self.record(Entity::Tag, &tag_link_id(article_id, tag), change);
    }

    pub fn unlink(&mut self, article_id: &str, tag: &str) {
        let change = Change::Unlink {
            article_id: article_id.to_owned(),
            tag: tag.to_owned(),
        };
        self.record(Entity::Tag, &tag_link_id(article_id, tag), change);
    }

    pub fn get(&self, entity: Entity, id: &str, field: &str) -> Option<&Value> {
        self.fields
            .get(&(entity, id.to_owned(), field.to_owned()))
            .map(|(v, _)| v)
    }

    /// Every field's value and stamp, and the kept conflict revisions:
    /// what must be equal on replicas that have seen the same operations.
    pub fn state(&self) -> State {
        (
            self.fields
                .iter()
                .map(|(k, (v, s))| (k.clone(), v.clone(), s.clone()))
                .collect(),
            self.conflicts.iter().cloned().collect(),
        )
    }

    /// The conflict revisions kept for one field, as (stamp, value).
    pub fn conflicts_of(&self, entity: Entity, id: &str, field: &str) -> Vec<String> {
        let key = Self::key(entity, id, field);
        self.conflicts
            .iter()
            .filter(|(k, _, _)| *k == key)
            .map(|(_, _, v)| v.clone())
            .collect()
    }
}

impl FieldStore for MemoryReplica {
    type Error = std::convert::Infallible;

    fn stamp(&self, entity: Entity, id: &str, field: &str) -> Result<Option<Stamp>, Self::Error> {
        Ok(self
            .fields
            .get(&Self::key(entity, id, field))
            .map(|(_, s)| s.clone()))
    }

    fn value(&self, entity: Entity, id: &str, field: &str) -> Result<Option<Value>, Self::Error> {
        Ok(self.get(entity, id, field).cloned())
    }

    fn write(
        &mut self,
        entity: Entity,
        id: &str,
        field: &str,
        value: &Value,
        stamp: &Stamp,
    ) -> Result<(), Self::Error> {
        self.fields
            .insert(Self::key(entity, id, field), (value.clone(), stamp.clone()));
        Ok(())
    }

    fn drop_conflict(
        &mut self,
        entity: Entity,
        id: &str,
        field: &str,
        stamp: &Stamp,
    ) -> Result<(), Self::Error> {
        let key = Self::key(entity, id, field);
        self.conflicts
            .retain(|(k, s, _)| !(*k == key && s == stamp));
        Ok(())
    }

    fn keep_conflict(
        &mut self,
        entity: Entity,
        id: &str,
        field: &str,
        value: &Value,
        stamp: &Stamp,
    ) -> Result<(), Self::Error> {
        self.conflicts.insert((
            Self::key(entity, id, field),
            stamp.clone(),
            value.to_string(),
        ));
        Ok(())
    }
}

impl MemoryReplica {
    /// The key of one field of one entity.
    fn key(entity: Entity, id: &str, field: &str) -> Key {
        (entity, id.to_owned(), field.to_owned())
    }
}

impl Replica for MemoryReplica {
    fn device(&self) -> String {
        self.device.clone()
    }

    fn unpushed(&mut self, limit: usize) -> Result<Vec<Outgoing>, SyncError> {
        Ok(self
            .log
            .iter()
            .skip(self.pushed as usize)
            .take(limit)
            .cloned()
            .collect())
    }

    fn mark_pushed(&mut self, seq: u64, cursor: Option<u64>) -> Result<(), SyncError> {
        self.pushed = self.pushed.max(seq);
        if let Some(c) = cursor {
            self.cursor = c;
        }
        Ok(())
    }

    fn cursor(&self) -> u64 {
        self.cursor
    }

    fn continue_from(&mut self, next: u64) -> Result<Option<u64>, SyncError> {
        let was = self.pushed + 1;
        if was <= next {
            return Ok(None);
        }
        // The log keeps every operation; the pushed ones the server lost
        // are gone from it, and the waiting ones move down.
        let waiting: Vec<Outgoing> = self.log.drain(self.pushed as usize..).collect();
        self.log.truncate((next - 1) as usize);
        for mut out in waiting {
            out.op.seq = self.log.len() as u64 + 1;
            out.payload = serde_json::to_vec(&out.op).expect("an Op always serializes");
            self.log.push(out);
        }
        self.pushed = next - 1;
        Ok(Some(was))
    }

    fn blobs_for(&mut self, _ops: &[Op]) -> Result<Vec<(String, Vec<u8>)>, SyncError> {
        Ok(Vec::new())
    }

    fn text_probe(&mut self) -> Result<super::protocol::TextProbe, SyncError> {
        Ok(Box::new(|_: &[String]| Ok(Vec::new())))
    }

    type Texts = ();

    fn prepare_texts(_blobs: Vec<(String, Vec<u8>)>) {}

    fn apply_page(&mut self, ops: &[Op], _texts: (), next: u64) -> Result<Merged, SyncError> {
        let mut total = Merged::default();
        for op in ops {
            self.clock.observe(op.hlc);
            let Ok(m) = apply(self, op);
            total.applied += m.applied;
            total.superseded += m.superseded;
            total.conflicts += m.conflicts;
        }
        self.cursor = next;
        Ok(total)
    }
}
