//! Merging operations: per field, last writer wins, ordered by (HLC, device
//! id), so any order of applying the same operations gives the same
//! journal. Two rules keep what people wrote:
//!
//! - a note's text edited on two devices at once keeps the losing text as a
//!   conflict revision;
//! - removal is a field like any other, so an edit on one device and a
//!   removal on another both survive (the edited item, in the bin).
//!
//! This is pure logic over [`FieldStore`]: the journal implements it on
//! SQLite, the tests in memory.

use serde_json::Value;

use super::hlc::Stamp;
use super::op::{tag_link_id, Change, Op};
use crate::entity::{fields, Entity};

/// Where merged values live. A read or write that fails stops the merge of
/// the operation, and the caller rolls back what it had written.
pub trait FieldStore {
    type Error;
    /// The stamp of a field's current value, if the field has one.
    fn stamp(&self, entity: Entity, id: &str, field: &str) -> Result<Option<Stamp>, Self::Error>;
    fn value(&self, entity: Entity, id: &str, field: &str) -> Result<Option<Value>, Self::Error>;
    fn write(
        &mut self,
        entity: Entity,
        id: &str,
        field: &str,
        value: &Value,
        stamp: &Stamp,
    ) -> Result<(), Self::Error>;
    /// Keeps a value that lost to a concurrent edit.
    fn keep_conflict(
        &mut self,
        entity: Entity,
        id: &str,
        field: &str,
        value: &Value,
        stamp: &Stamp,
    ) -> Result<(), Self::Error>;
    /// Forgets a kept value: a later edit continued from it.
    fn drop_conflict(
        &mut self,
        entity: Entity,
        id: &str,
        field: &str,
        stamp: &Stamp,
    ) -> Result<(), Self::Error>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Merged {
    /// Fields whose value changed.
    pub applied: usize,
    /// Fields already newer here (or the same operation again).
    pub superseded: usize,
    /// Losing texts kept as conflict revisions.
    pub conflicts: usize,
    /// Operations left out because what they change never arrived (its
    /// creation failed to open, so it was skipped).
    pub orphaned: usize,
}

/// How an operation reaches the merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// For the first time.
    New,
    /// Held since it arrived, because it named what the nj it reached
    /// did not know: merged now in full, as a new one, except that a field
    /// it stamped then without keeping its value gets the value.
    Held,
    /// Again: pulled once more after an upgrade ([`apply_again`]).
    Again,
}

/// Applies one operation.
pub fn apply<S: FieldStore>(store: &mut S, op: &Op) -> Result<Merged, S::Error> {
    apply_with(store, op, Arrival::New)
}

/// Applies an operation held since it arrived ([`Arrival::Held`]).
pub fn apply_held<S: FieldStore>(store: &mut S, op: &Op) -> Result<Merged, S::Error> {
    apply_with(store, op, Arrival::Held)
}

/// Applies an operation this replica applied before, perhaps in part:
/// pulled again after an upgrade from an nj that dropped what it did not
/// know. What it merged then stays merged: the latest
/// value of each field still wins, and a note's kept texts stay as they
/// are (an old edit seen again is not a concurrent one). A field stamped
/// with the operation's own stamp holds its value already, unless the nj
/// that applied it could not keep it (it stamped a field it had no column
/// for): that value is written now. Two values under one stamp can only
/// be one operation's, so this changes nothing else.
pub fn apply_again<S: FieldStore>(store: &mut S, op: &Op) -> Result<Merged, S::Error> {
    apply_with(store, op, Arrival::Again)
}

fn apply_with<S: FieldStore>(store: &mut S, op: &Op, arrival: Arrival) -> Result<Merged, S::Error> {
    let stamp = op.stamp();
    let mut m = Merged::default();
    match &op.change {
        Change::Create { fields } => {
            for (field, value) in fields {
                set(
                    store, op.entity, &op.id, field, value, &stamp, None, arrival, &mut m,
                )?;
            }
        }
        Change::Set { field, value, base } => {
            set(
                store,
                op.entity,
                &op.id,
                field,
                value,
                &stamp,
                Some(base.as_ref()),
                arrival,
                &mut m,
            )?;
        }
        Change::Link { article_id, tag } | Change::Unlink { article_id, tag } => {
            let id = tag_link_id(article_id, tag);
            let linked = matches!(op.change, Change::Link { .. });
            for (field, value) in [
                (fields::tag::ARTICLE_ID, Value::String(article_id.clone())),
                (fields::tag::TAG, Value::String(tag.clone())),
            ] {
                // The link's identity never changes; its stamp is the
                // earliest that set it, whatever the order of arrival.
                if store
                    .stamp(Entity::Tag, &id, field.name)?
                    .is_none_or(|s| stamp < s)
                {
                    store.write(Entity::Tag, &id, field.name, &value, &stamp)?;
                }
            }
            set(
                store,
                Entity::Tag,
                &id,
                fields::tag::LINKED.name,
                &Value::Bool(linked),
                &stamp,
                None,
                arrival,
                &mut m,
            )?;
        }
    }
    Ok(m)
}

/// `base` is `None` for creation and links (no earlier value was edited),
/// `Some(b)` for an edit of the value stamped `b` (`Some(None)`: of no value).
#[allow(clippy::too_many_arguments)]
fn set<S: FieldStore>(
    store: &mut S,
    entity: Entity,
    id: &str,
    field: &str,
    value: &Value,
    stamp: &Stamp,
    base: Option<Option<&Stamp>>,
    arrival: Arrival,
    m: &mut Merged,
) -> Result<(), S::Error> {
    let keeps = entity.keeps_conflicts(field);
    // A field that keeps conflicts holds several heads: the current value
    // and the kept ones. An edit replaces the head it was made from, so
    // the heads (and the winner, the latest of them) end up the same in
    // any order of arrival that respects the server's order.
    let again = arrival == Arrival::Again;
    if keeps && !again {
        if let Some(Some(b)) = base {
            store.drop_conflict(entity, id, field, b)?;
        }
    }
    let Some(current) = store.stamp(entity, id, field)? else {
        store.write(entity, id, field, value, stamp)?;
        m.applied += 1;
        return Ok(());
    };
    if current == *stamp {
        if arrival != Arrival::New && store.value(entity, id, field)?.as_ref() != Some(value) {
            store.write(entity, id, field, value, stamp)?;
            m.applied += 1;
        } else {
            m.superseded += 1;
        }
        return Ok(());
    }
    if again {
        if *stamp > current {
            store.write(entity, id, field, value, stamp)?;
            m.applied += 1;
        } else {
            m.superseded += 1;
        }
        return Ok(());
    }
    // Operations arrive in the server's order, which never puts an edit
    // before the edit it was based on; so an edit whose base is not the
    // current value was made without seeing it: a concurrent edit.
    let concurrent = keeps && matches!(base, Some(b) if b != Some(&current));
    if *stamp > current {
        if concurrent {
            if let Some(old) = store.value(entity, id, field)? {
                store.keep_conflict(entity, id, field, &old, &current)?;
                m.conflicts += 1;
            }
        }
        store.write(entity, id, field, value, stamp)?;
        m.applied += 1;
    } else {
        if concurrent {
            store.keep_conflict(entity, id, field, value, stamp)?;
            m.conflicts += 1;
        }
        m.superseded += 1;
    }
    Ok(())
}
