//! Operations: the unit of change the sync log records and ships.
//!
//! An operation creates an entity, sets one field of one, or links or
//! unlinks a tag. It carries its device id, the device's gap-free sequence
//! number, and a hybrid logical clock reading. `docs/sync-protocol.md`
//! gives the JSON form.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::hlc::{Hlc, Stamp};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Op {
    pub device: String,
    /// 1, 2, 3, ... per device, with no gaps.
    pub seq: u64,
    pub hlc: Hlc,
    /// `article`, `version`, `note`, `url`, `tag`, `followup`.
    pub entity: crate::entity::Entity,
    /// The entity's UUID.
    pub id: String,
    #[serde(flatten)]
    pub change: Change,
    /// The operation's JSON as it arrived, kept when it names an entity or
    /// a field this nj does not know (a newer nj's): the journal holds it
    /// whole, to apply in full once an upgrade knows them
    /// ([`Op::has_unknown_parts`]).
    #[serde(skip)]
    pub arrived_as: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    /// A new entity with its first field values.
    Create {
        fields: BTreeMap<String, Value>,
    },
    /// One field's new value. `base` is the stamp of the value the device
    /// replaced, which tells a sequential edit from a concurrent one.
    Set {
        field: String,
        value: Value,
        base: Option<Stamp>,
    },
    /// A tag put on an article. The link's id is derived from the article
    /// and the tag, so two devices adding the same tag make one link.
    Link {
        article_id: String,
        tag: String,
    },
    Unlink {
        article_id: String,
        tag: String,
    },
}

impl Op {
    pub fn stamp(&self) -> Stamp {
        Stamp {
            hlc: self.hlc,
            device: self.device.clone(),
        }
    }
}

impl Op {
    /// Whether it names an entity, or a field of one, that this nj does
    /// not know: what a newer nj made.
    pub fn has_unknown_parts(&self) -> bool {
        if self.entity == crate::entity::Entity::Unknown {
            return true;
        }
        match &self.change {
            Change::Create { fields } => fields.keys().any(|f| self.entity.field(f).is_none()),
            Change::Set { field, .. } => self.entity.field(field).is_none(),
            Change::Link { .. } | Change::Unlink { .. } => false,
        }
    }

    /// The content hash of the text this operation refers to, if any: a
    /// device that applies it must hold that text.
    pub fn text_ref(&self) -> Option<&str> {
        match &self.change {
            Change::Create { fields } => fields.get("content_hash").and_then(Value::as_str),
            Change::Set {
                field,
                value: Value::String(h),
                ..
            } if field == "content_hash" => Some(h),
            _ => None,
        }
    }
}

/// The id of the link between an article and a tag: the same on every
/// device (a UUID v5 of both).
pub fn tag_link_id(article_id: &str, tag: &str) -> String {
    // The namespace is a fixed random UUID; changing it would split links.
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6e6a_7461_6773_4a8c_9d2f_51b0_c3e4_a7f1);
    // Length-prefixed, so no pair of strings can spell another pair.
    let name = format!("{}:{article_id}{tag}", article_id.len());
    uuid_v5(&NAMESPACE, name.as_bytes())
}

/// `uuid::Uuid::new_v5`, the same UUID, made with RustCrypto's SHA-1,
/// which uses the CPU's SHA instructions: a large import makes one for
/// every URL and tag it links, and uuid's own SHA-1 was a twentieth of
/// the import's time.
pub(crate) fn uuid_v5(namespace: &uuid::Uuid, name: &[u8]) -> String {
    use sha1::{Digest, Sha1};
    let mut hash = Sha1::new();
    hash.update(namespace.as_bytes());
    hash.update(name);
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_sha1_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_v5_is_the_uuid_crates() {
        let ns = uuid::Uuid::from_u128(0x6e6a_7461_6773_4a8c_9d2f_51b0_c3e4_a7f1);
        for name in ["", "36:a", "harbor", "ünïcode tag", &"x".repeat(200)] {
            assert_eq!(
                uuid_v5(&ns, name.as_bytes()),
                uuid::Uuid::new_v5(&ns, name.as_bytes()).to_string()
            );
        }
    }

    #[test]
    fn json_form() {
        let op = Op {
            device: "d1".into(),
            seq: 7,
            hlc: Hlc {
                ms: 1_764_000_000_000,
                counter: 2,
            },
            entity: crate::entity::Entity::Note,
            id: "n1".into(),
            change: Change::Set {
                field: "body".into(),
                value: Value::String("text".into()),
                base: None,
            },
            arrived_as: None,
        };
        let json = serde_json::to_string(&op).unwrap();
        assert_eq!(
            json,
            r#"{"device":"d1","seq":7,"hlc":{"ms":1764000000000,"counter":2},"entity":"note","id":"n1","op":"set","field":"body","value":"text","base":null}"#
        );
        assert_eq!(serde_json::from_str::<Op>(&json).unwrap(), op);
    }

    #[test]
    fn tag_links_are_the_same_everywhere() {
        assert_eq!(tag_link_id("a", "courts"), tag_link_id("a", "courts"));
        assert_ne!(tag_link_id("a", "courts"), tag_link_id("a", "court"));
        assert_ne!(tag_link_id("a", "b\u{1f}c"), tag_link_id("a\u{1f}b", "c"));
    }
}
