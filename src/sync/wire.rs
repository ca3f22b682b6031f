//! The bodies of the sync protocol's requests and answers as JSON
//! (docs/sync-protocol.md, "HTTP API"). The client (`client.rs`) writes
//! what the server (`server/http.rs`) reads and the other way round, so
//! both take them from here and cannot drift apart.

use serde::{Deserialize, Serialize};

/// An operation on the wire: the sealed payload as base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireOp {
    pub device: String,
    pub seq: u64,
    pub hlc_ms: i64,
    pub payload: String,
}

/// `POST /v1/ops`: the operations to store, in order.
#[derive(Debug, Serialize, Deserialize)]
pub struct PushBody {
    pub ops: Vec<WireOp>,
}

/// What a push stored: how many operations were new, and the journal's
/// last position before and after the batch. New operations take the
/// positions after `after` in order, so when every one was new,
/// `after + 1 ..= last` are exactly the batch. (Servers before positions
/// sent only `stored`.)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pushed {
    pub stored: usize,
    #[serde(default)]
    pub after: u64,
    #[serde(default)]
    pub last: u64,
}

/// `GET /v1/ops`: a page of operations in server order, the cursor to ask
/// for the next one with, and whether there is more.
#[derive(Debug, Serialize, Deserialize)]
pub struct PageBody {
    pub ops: Vec<WireOp>,
    pub next: u64,
    pub more: bool,
}

/// An error answer: what went wrong, and for a push refused at one
/// operation (`409`), which one and, for a gap, the number expected. The
/// fields are in the order servers have always sent them.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(default)]
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bodies_are_the_documented_json() {
        let push = PushBody {
            ops: vec![WireOp {
                device: "d".into(),
                seq: 1,
                hlc_ms: 2,
                payload: "AQ==".into(),
            }],
        };
        assert_eq!(
            serde_json::to_string(&push).unwrap(),
            r#"{"ops":[{"device":"d","seq":1,"hlc_ms":2,"payload":"AQ=="}]}"#
        );
        // A server from before positions sent only the count.
        let old: Pushed = serde_json::from_str(r#"{"stored":3}"#).unwrap();
        assert_eq!(
            old,
            Pushed {
                stored: 3,
                after: 0,
                last: 0
            }
        );
        let plain = ErrorBody {
            error: "no".into(),
            ..ErrorBody::default()
        };
        assert_eq!(serde_json::to_string(&plain).unwrap(), r#"{"error":"no"}"#);
        let gap = ErrorBody {
            device: Some("d".into()),
            error: "gap".into(),
            expected: Some(2),
            seq: Some(5),
        };
        assert_eq!(
            serde_json::to_string(&gap).unwrap(),
            r#"{"device":"d","error":"gap","expected":2,"seq":5}"#
        );
    }
}
