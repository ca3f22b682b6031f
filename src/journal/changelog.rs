//! The change log: when the journal syncs, every primitive change is also
//! an operation, stamped with this device's clock and queued for the next
//! push (`docs/sync-protocol.md`). Each field's stamp is kept in
//! `sync_stamps`, so a later edit names the value it replaced and a merge
//! knows which value is newer.

use rusqlite::params;
use rusqlite::types::Value;

use super::tx::{meta_get, meta_set, sql_to_json, url_link_id, Tx};
use crate::entity::Entity;
use crate::error::Result;
use crate::sync::{tag_link_id, Change, Clock, Hlc, Op, Stamp};

use super::query::ArticleRef;

/// This device's side of the change log while a transaction runs.
pub(super) struct SyncLog {
    pub(super) device: String,
    pub(super) clock: Clock,
    pub(super) seq: u64,
}

/// The field name of a creation's stamp row, which stands for every field
/// the creation set until the field is edited. Most entities are created
/// and never edited, so this keeps one row per entity instead of one per
/// field, which is most of what a first sync writes.
pub(super) const ALL_FIELDS: &str = "*";

/// The fields of a creation.
pub(super) type Fields = std::collections::BTreeMap<String, serde_json::Value>;

impl Tx<'_> {
    /// Turns on recording when the journal syncs.
    pub(super) fn load_sync_log(&mut self) -> Result<()> {
        if meta_get(&self.tx, "sync_enabled")?.as_deref() != Some("1") {
            return Ok(());
        }
        let device = meta_get(&self.tx, "device_id")?.unwrap_or_default();
        let ms = meta_get(&self.tx, "hlc_ms")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let counter = meta_get(&self.tx, "hlc_counter")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let seq = meta_get(&self.tx, "last_seq")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        self.log = Some(SyncLog {
            device,
            clock: Clock::starting_at(Hlc { ms, counter }),
            seq,
        });
        Ok(())
    }

    /// Runs `f` without recording operations, for changes whose operation
    /// the caller records itself.
    pub(super) fn unlogged<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let log = self.log.take();
        let out = f(self);
        self.log = log;
        out
    }

    pub(super) fn sync_log_mut(&mut self) -> Option<&mut SyncLog> {
        self.log.as_mut()
    }

    /// The stamp of a field's current value, if sync has seen one. A field
    /// edited since its entity was created has a row of its own; otherwise
    /// the creation's one row (field [`ALL_FIELDS`]) stands for it.
    pub(super) fn field_stamp(
        &self,
        entity: Entity,
        id: &str,
        field: &str,
    ) -> Result<Option<Stamp>> {
        if !entity.is_stamped(field) {
            return Ok(None);
        }
        // One scan of the entity's few rows: a parameter inside `IN (...)`
        // makes SQLite prepare the statement again on every run.
        let mut stmt = self.tx.prepare_cached(
            "SELECT field, ms, counter, device FROM sync_stamps WHERE entity = ?1 AND id = ?2",
        )?;
        let mut rows = stmt.query(params![entity.name(), id])?;
        let mut creation = None;
        while let Some(r) = rows.next()? {
            let this = r.get_ref(0)?;
            let this = this.as_str().map_err(rusqlite::Error::from)?;
            if this != field && this != ALL_FIELDS {
                continue;
            }
            let stamp = Stamp {
                hlc: Hlc {
                    ms: r.get(1)?,
                    counter: r.get(2)?,
                },
                device: r.get(3)?,
            };
            if this == field {
                return Ok(Some(stamp));
            }
            creation = Some(stamp);
        }
        Ok(creation)
    }

    /// Whether sync has stamped any field of this entity.
    pub(super) fn has_stamps(&self, entity: Entity, id: &str) -> Result<bool> {
        Ok(self
            .tx
            .prepare_cached("SELECT 1 FROM sync_stamps WHERE entity = ?1 AND id = ?2 LIMIT 1")?
            .exists(params![entity.name(), id])?)
    }

    /// Whether a creation of this entity may be stamped with one row: it
    /// sets every column (so the row claims no field it did not set) and
    /// nothing was stamped before (so no older row outranks it).
    pub(super) fn stamps_as_one(&self, entity: Entity, id: &str, fields: &Fields) -> Result<bool> {
        let all = entity.fields();
        if all.is_empty() {
            return Ok(false);
        }
        let covers = fields.len() == all.len() && all.iter().all(|f| fields.contains_key(f.name));
        Ok(covers && !self.has_stamps(entity, id)?)
    }

    pub(super) fn set_stamp(
        &mut self,
        entity: Entity,
        id: &str,
        field: &str,
        stamp: &Stamp,
    ) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO sync_stamps(entity, id, field, ms, counter, device) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(entity, id, field) DO UPDATE SET ms = ?4, counter = ?5, device = ?6",
            )?
            .execute(params![
                entity.name(),
                id,
                field,
                stamp.hlc.ms,
                stamp.hlc.counter,
                stamp.device
            ])?;
        Ok(())
    }

    /// Records an operation, when sync is on: stamps its fields and queues
    /// it for the next push. Called by every primitive change.
    pub(super) fn log_op(&mut self, entity: Entity, id: &str, change: Change) -> Result<()> {
        let Some(log) = self.log.as_mut() else {
            return Ok(());
        };
        log.seq += 1;
        let op = Op {
            device: log.device.clone(),
            seq: log.seq,
            hlc: log.clock.tick(self.now.0),
            entity,
            id: id.to_owned(),
            change,
            arrived_as: None,
        };
        let stamp = op.stamp();
        match &op.change {
            Change::Create { fields } => {
                if self.stamps_as_one(entity, id, fields)? {
                    self.set_stamp(entity, id, ALL_FIELDS, &stamp)?;
                } else {
                    for f in fields.keys() {
                        self.set_stamp(entity, id, f, &stamp)?;
                    }
                }
            }
            Change::Set { field, .. } => self.set_stamp(entity, id, field, &stamp)?,
            Change::Link { .. } | Change::Unlink { .. } => {
                self.set_stamp(entity, id, "linked", &stamp)?;
            }
        }
        let json = serde_json::to_string(&op).map_err(|e| crate::Error::Other(e.into()))?;
        self.tx
            .prepare_cached("INSERT INTO sync_ops(seq, op, nonce_seed) VALUES (?1, ?2, ?3)")?
            .execute(params![
                op.seq as i64,
                json,
                &crate::sync::crypto::nonce_seed()[..]
            ])?;
        Ok(())
    }

    /// Logs the creation of an entity whose fields hold `values`, in the
    /// order of [`Entity::fields`].
    pub(super) fn log_create(&mut self, entity: Entity, id: &str, values: &[Value]) -> Result<()> {
        if self.log.is_none() {
            return Ok(());
        }
        let fields = entity
            .fields()
            .iter()
            .zip(values)
            .map(|(f, v)| (f.name.to_owned(), sql_to_json(v)))
            .collect();
        self.log_op(entity, id, Change::Create { fields })
    }

    /// Logs the creation of a source URL's link, whose id is made from the
    /// article's and the URL (`url_link_id`), added at `at` (ms).
    pub(super) fn log_url_link(&mut self, article_id: &str, url: &str, at: i64) -> Result<()> {
        if self.log.is_none() {
            return Ok(());
        }
        use crate::entity::fields::url as u;
        let values = super::rows::in_field_order(
            Entity::Url,
            [
                (u::ARTICLE_ID, Value::Text(article_id.to_owned())),
                (u::URL, Value::Text(url.to_owned())),
                (u::ADDED_AT, Value::Integer(at)),
            ],
        );
        self.log_create(Entity::Url, &url_link_id(article_id, url), &values)
    }

    /// Logs a change of one field, based on the value it replaces.
    pub(super) fn log_set(
        &mut self,
        entity: Entity,
        id: &str,
        field: &str,
        value: &Value,
    ) -> Result<()> {
        if self.log.is_none() {
            return Ok(());
        }
        let base = self.field_stamp(entity, id, field)?;
        self.log_op(
            entity,
            id,
            Change::Set {
                field: field.to_owned(),
                value: sql_to_json(value),
                base,
            },
        )
    }

    /// Logs a new tag link, when sync is on. The link's id is only for the
    /// sync log.
    pub(super) fn log_tag_link(&mut self, article: &ArticleRef, tag: &str) -> Result<()> {
        if self.log.is_none() {
            return Ok(());
        }
        let change = Change::Link {
            article_id: article.id.clone(),
            tag: tag.to_owned(),
        };
        self.log_op(Entity::Tag, &tag_link_id(&article.id, tag), change)
    }

    /// Keeps where the clock and the sequence got to, at commit.
    pub(super) fn save_log_position(&mut self) -> Result<()> {
        if let Some(log) = self.log.take() {
            let last = log.clock.last();
            meta_set(&self.tx, "hlc_ms", &last.ms.to_string())?;
            meta_set(&self.tx, "hlc_counter", &last.counter.to_string())?;
            meta_set(&self.tx, "last_seq", &log.seq.to_string())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::content::Content;
    use crate::journal::{Journal, NewClip};
    use crate::time::Timestamp;

    /// The stamp rows of each entity, as (entity, field).
    fn stamps(j: &Journal) -> Vec<(String, String)> {
        let mut stmt = j
            .conn()
            .prepare("SELECT entity, field FROM sync_stamps ORDER BY entity, field")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    /// A creation that sets every field of its entity is stamped with one
    /// row for all of them; a source URL's link is such a creation too,
    /// though its row is kept by article and URL rather than by id.
    #[test]
    fn regression_a_url_links_creation_was_stamped_field_by_field() {
        let mut j = Journal::open_in_memory().unwrap();
        j.enable_sync(Timestamp(1_000)).unwrap();
        j.clip(
            Timestamp(2_000),
            &NewClip {
                content: Content::new("Harbour vote\n\nThe council voted."),
                title: "Harbour vote".into(),
                urls: vec!["https://news.example/harbour".into()],
                ..NewClip::default()
            },
        )
        .unwrap();
        let by_entity = |e: &str| -> Vec<String> {
            stamps(&j)
                .into_iter()
                .filter(|(entity, _)| entity == e)
                .map(|(_, f)| f)
                .collect()
        };
        assert_eq!(by_entity("url"), vec!["*"]);
        assert_eq!(by_entity("article"), vec!["*"]);
        assert_eq!(by_entity("version"), vec!["*"]);
    }
}
