//! A JSON array parsed an element at a time, each handed on as it is read,
//! so an export of gigabytes is never a tree in memory.

use std::fmt;

use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::error::Error;

/// Why the array was not read to its end.
#[derive(Debug)]
pub(crate) enum Stopped {
    /// The handler's error.
    Handler(Error),
    /// The JSON's (or the reader's).
    Parse(serde_json::Error),
}

/// Reads a JSON array from `de`, calling `on_start` before each element is
/// parsed (where a bounded reader marks the start of a piece) and
/// `handler` with each element once it is. Each element is parsed as
/// generic JSON, so that one with a field of the wrong type can be
/// rejected alone by the handler; `expecting` names the array in the
/// message for anything else.
pub(crate) fn each_element<'de, D>(
    de: D,
    expecting: &str,
    on_start: &dyn Fn(),
    handler: &mut dyn FnMut(Value) -> crate::error::Result<()>,
) -> Result<(), Stopped>
where
    D: Deserializer<'de, Error = serde_json::Error>,
{
    let mut stopped = None;
    let result = de.deserialize_seq(Elements {
        expecting,
        on_start,
        handler,
        stopped: &mut stopped,
    });
    if let Some(e) = stopped {
        return Err(Stopped::Handler(e));
    }
    result.map_err(Stopped::Parse)
}

struct Elements<'a> {
    expecting: &'a str,
    on_start: &'a dyn Fn(),
    handler: &'a mut dyn FnMut(Value) -> crate::error::Result<()>,
    /// The handler's error, which stops the parse.
    stopped: &'a mut Option<Error>,
}

impl<'de> Visitor<'de> for Elements<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(value) = seq.next_element_seed(Start(self.on_start))? {
            if let Err(e) = (self.handler)(value) {
                *self.stopped = Some(e);
                return Err(de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

/// Parses one element, saying first that it starts.
struct Start<'a>(&'a dyn Fn());

impl<'de> DeserializeSeed<'de> for Start<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        (self.0)();
        Value::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn each_element_is_handed_on_and_a_handler_error_stops_the_parse() {
        let starts = Cell::new(0);
        let mut seen = Vec::new();
        each_element(
            &mut serde_json::Deserializer::from_str(r#"[1, {"a": 2}, "x"]"#),
            "a list",
            &|| starts.set(starts.get() + 1),
            &mut |v| {
                seen.push(v);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(starts.get(), 3);
        assert_eq!(
            seen,
            [
                serde_json::json!(1),
                serde_json::json!({"a": 2}),
                serde_json::json!("x")
            ]
        );

        let r = each_element(
            &mut serde_json::Deserializer::from_str("[1, 2, 3]"),
            "a list",
            &|| {},
            &mut |v| {
                if v == 2 {
                    Err(Error::BadInput("two".into()))
                } else {
                    Ok(())
                }
            },
        );
        assert!(matches!(r, Err(Stopped::Handler(Error::BadInput(m))) if m == "two"));
        let r = each_element(
            &mut serde_json::Deserializer::from_str(r#"{"not": "a list"}"#),
            "a list of things",
            &|| {},
            &mut |_| Ok(()),
        );
        match r {
            Err(Stopped::Parse(e)) => assert!(e.to_string().contains("a list of things"), "{e}"),
            other => panic!("{other:?}"),
        }
    }
}
