//! Test doubles for the protocol: a replica whose journal is a map of
//! fields, and wrappers around any transport that drop the connection
//! after some pages or hold requests to a body limit, as the HTTP server
//! does. The server itself is the real one, in process
//! (`server::Core::transport`): there is no second copy of its rules.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::hlc::{Clock, Stamp};
use super::merge::{apply, FieldStore, Merged};
use super::op::{tag_link_id, Change, Op};
use super::protocol::{
    blob_wire_len, op_wire_len, Envelope, Outgoing, Page, Pushed, RemoteStatus, Replica, SyncError,
    Transport,
};
use crate::entity::Entity;

/// A transport whose connection drops after `pages` pulls (`None`: never),
/// counting the operations pulled: for tests of interrupted pulls and of
/// what a pull fetches.
pub struct Watched<T> {
    pub inner: T,
    pub pages: Option<usize>,
    pub fetched: usize,
}

impl<T: Transport> Watched<T> {
    pub fn new(inner: T, pages: Option<usize>) -> Watched<T> {
        Watched {
            inner,
            pages,
            fetched: 0,
        }
    }
}

impl<T: Transport> Transport for Watched<T> {
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
    fn lacking_blobs(&mut self, ids: &[String]) -> Result<Vec<String>, SyncError> {
        self.inner.lacking_blobs(ids)
    }
    fn put_blobs(&mut self, blobs: &[(String, Vec<u8>)]) -> Result<(), SyncError> {
        self.inner.put_blobs(blobs)
    }
    fn get_blobs(&mut self, ids: &[String]) -> Result<Vec<(String, Vec<u8>)>, SyncError> {
        self.inner.get_blobs(ids)
    }
}

/// A transport with a body limit like the HTTP server's: a push or an
/// upload larger than `max_body` (as its payloads take on the wire) is
/// refused as too large, and the status says what the limit is when
/// `advertise` (servers before the limit was in the status did not).
pub struct Limited<T> {
    pub inner: T,
    pub max_body: usize,
    pub advertise: bool,
    /// The ids of the texts (or parts of texts) the server took through it.
    pub stored: BTreeSet<String>,
}

impl<T: Transport> Limited<T> {
    pub fn new(inner: T, max_body: usize, advertise: bool) -> Limited<T> {
        Limited {
            inner,
            max_body,
            advertise,
            stored: BTreeSet::new(),
        }
    }

    /// Refuses a request body of `bytes` over `max_body`, as a 413.
    fn fits(&self, bytes: usize) -> Result<(), SyncError> {
        let max = self.max_body;
        if bytes + 64 > max {
            return Err(SyncError::TooLarge(format!(
                "{bytes} bytes is over the limit of {max}"
            )));
        }
        Ok(())
    }
}

impl<T: Transport> Transport for Limited<T> {
    fn status(&mut self) -> Result<RemoteStatus, SyncError> {
        let mut status = self.inner.status()?;
        status.max_body = self.advertise.then_some(self.max_body as u64);
        Ok(status)
    }
    fn set_key_check(&mut self, check: &str) -> Result<(), SyncError> {
        self.inner.set_key_check(check)
    }
    fn push(&mut self, batch: &[Envelope]) -> Result<Pushed, SyncError> {
        self.fits(batch.iter().map(op_wire_len).sum())?;
        self.inner.push(batch)
    }
    fn pull(&mut self, cursor: u64, limit: usize) -> Result<Page, SyncError> {
        self.inner.pull(cursor, limit)
    }
    fn has_blob(&mut self, id: &str) -> Result<bool, SyncError> {
        self.inner.has_blob(id)
    }
    fn put_blob(&mut self, id: &str, data: &[u8]) -> Result<(), SyncError> {
        self.fits(data.len())?;
        self.inner.put_blob(id, data)?;
        self.stored.insert(id.to_owned());
        Ok(())
    }
    fn get_blob(&mut self, id: &str) -> Result<Vec<u8>, SyncError> {
        self.inner.get_blob(id)
    }
    fn lacking_blobs(&mut self, ids: &[String]) -> Result<Vec<String>, SyncError> {
        self.inner.lacking_blobs(ids)
    }
    fn put_blobs(&mut self, blobs: &[(String, Vec<u8>)]) -> Result<(), SyncError> {
        self.fits(blobs.iter().map(blob_wire_len).sum())?;
        self.inner.put_blobs(blobs)?;
        self.stored.extend(blobs.iter().map(|(id, _)| id.clone()));
        Ok(())
    }
    fn get_blobs(&mut self, ids: &[String]) -> Result<Vec<(String, Vec<u8>)>, SyncError> {
        self.inner.get_blobs(ids)
    }
}

/// A fixed journal key for tests: every replica of one test's journal
/// shares it, as devices that sync share theirs.
pub fn test_key() -> super::crypto::JournalKey {
    super::crypto::JournalKey::from_bytes([7; 32])
}

type Key = (Entity, String, String);

/// What must be equal on replicas that have seen the same operations:
/// every field's value and stamp, and the kept conflict revisions.
pub type State = (Vec<(Key, Value, Stamp)>, Vec<(Key, Stamp, String)>);

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
            arrived_as: None,
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
