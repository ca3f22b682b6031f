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

/// Where merged values live.
pub trait FieldStore {
    /// The stamp of a field's current value, if the field has one.
    fn stamp(&self, entity: &str, id: &str, field: &str) -> Option<Stamp>;
    fn value(&self, entity: &str, id: &str, field: &str) -> Option<Value>;
    fn write(&mut self, entity: &str, id: &str, field: &str, value: &Value, stamp: &Stamp);
    /// Keeps a value that lost to a concurrent edit.
    fn keep_conflict(&mut self, entity: &str, id: &str, field: &str, value: &Value, stamp: &Stamp);
    /// Forgets a kept value: a later edit continued from it.
    fn drop_conflict(&mut self, entity: &str, id: &str, field: &str, stamp: &Stamp);
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

/// Fields whose concurrent edits keep the losing value.
fn keeps_conflicts(entity: &str, field: &str) -> bool {
    entity == "note" && field == "body"
}

/// Applies one operation.
pub fn apply(store: &mut impl FieldStore, op: &Op) -> Merged {
    let stamp = op.stamp();
    let mut m = Merged::default();
    match &op.change {
        Change::Create { fields } => {
            for (field, value) in fields {
                set(
                    store, &op.entity, &op.id, field, value, &stamp, None, &mut m,
                );
            }
        }
        Change::Set { field, value, base } => {
            set(
                store,
                &op.entity,
                &op.id,
                field,
                value,
                &stamp,
                Some(base.as_ref()),
                &mut m,
            );
        }
        Change::Link { article_id, tag } | Change::Unlink { article_id, tag } => {
            let id = tag_link_id(article_id, tag);
            let linked = matches!(op.change, Change::Link { .. });
            for (field, value) in [
                ("article_id", Value::String(article_id.clone())),
                ("tag", Value::String(tag.clone())),
            ] {
                // The link's identity never changes; its stamp is the
                // earliest that set it, whatever the order of arrival.
                if store.stamp("tag", &id, field).is_none_or(|s| stamp < s) {
                    store.write("tag", &id, field, &value, &stamp);
                }
            }
            set(
                store,
                "tag",
                &id,
                "linked",
                &Value::Bool(linked),
                &stamp,
                None,
                &mut m,
            );
        }
    }
    m
}

/// `base` is `None` for creation and links (no earlier value was edited),
/// `Some(b)` for an edit of the value stamped `b` (`Some(None)`: of no value).
#[allow(clippy::too_many_arguments)]
fn set(
    store: &mut impl FieldStore,
    entity: &str,
    id: &str,
    field: &str,
    value: &Value,
    stamp: &Stamp,
    base: Option<Option<&Stamp>>,
    m: &mut Merged,
) {
    let keeps = keeps_conflicts(entity, field);
    // A field that keeps conflicts holds several heads: the current value
    // and the kept ones. An edit replaces the head it was made from, so
    // the heads (and the winner, the latest of them) end up the same in
    // any order of arrival that respects the server's order.
    if keeps {
        if let Some(Some(b)) = base {
            store.drop_conflict(entity, id, field, b);
        }
    }
    let Some(current) = store.stamp(entity, id, field) else {
        store.write(entity, id, field, value, stamp);
        m.applied += 1;
        return;
    };
    if current == *stamp {
        m.superseded += 1;
        return;
    }
    // Operations arrive in the server's order, which never puts an edit
    // before the edit it was based on; so an edit whose base is not the
    // current value was made without seeing it: a concurrent edit.
    let concurrent = keeps && matches!(base, Some(b) if b != Some(&current));
    if *stamp > current {
        if concurrent {
            if let Some(old) = store.value(entity, id, field) {
                store.keep_conflict(entity, id, field, &old, &current);
                m.conflicts += 1;
            }
        }
        store.write(entity, id, field, value, stamp);
        m.applied += 1;
    } else {
        if concurrent {
            store.keep_conflict(entity, id, field, value, stamp);
            m.conflicts += 1;
        }
        m.superseded += 1;
    }
}
