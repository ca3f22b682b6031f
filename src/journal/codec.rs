//! How article texts are stored: zstd-compressed, as a BLOB, so a journal of
//! long articles stays small. Short texts, where a frame header would cost
//! more than it saves, stay plain TEXT; readers accept either.
//!
//! SQLite reads stored texts through the `nj_text()` SQL function registered
//! on every connection, which is how the full-text index (an external-content
//! index over a view) sees the words without keeping a second copy.

use rusqlite::functions::FunctionFlags;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::Connection;

use crate::error::{Error, Result};

/// Below this many bytes a text is stored as it is.
const COMPRESS_FROM: usize = 256;
/// zstd's level: a good ratio on article-sized texts and still far faster
/// than the disk write.
const LEVEL: i32 = 6;

/// The stored form of a (normalised) text.
pub fn encode(text: &str) -> Result<ToSqlOutput<'_>> {
    if text.len() < COMPRESS_FROM {
        return Ok(ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())));
    }
    let packed = zstd::bulk::compress(text.as_bytes(), LEVEL)
        .map_err(|e| Error::Other(anyhow::anyhow!("cannot compress a text: {e}")))?;
    Ok(ToSqlOutput::Owned(Value::Blob(packed)))
}

/// The text back from its stored form.
pub fn decode(stored: ValueRef<'_>) -> Result<String> {
    let corrupt = |why: String| {
        Error::Other(anyhow::anyhow!(
            "a stored text is damaged ({why}); run `nj verify`, and restore the journal from a backup if it fails"
        ))
    };
    match stored {
        ValueRef::Text(t) => String::from_utf8(t.to_vec()).map_err(|e| corrupt(e.to_string())),
        ValueRef::Blob(b) => {
            let bytes = zstd::stream::decode_all(b).map_err(|e| corrupt(e.to_string()))?;
            String::from_utf8(bytes).map_err(|e| corrupt(e.to_string()))
        }
        _ => Err(corrupt("not a text".into())),
    }
}

/// Registers `nj_text(stored)`, which returns the plain text.
pub fn register(conn: &Connection) -> Result<()> {
    conn.create_scalar_function(
        "nj_text",
        1,
        FunctionFlags::SQLITE_UTF8
            | FunctionFlags::SQLITE_DETERMINISTIC
            | FunctionFlags::SQLITE_INNOCUOUS,
        |ctx| decode(ctx.get_raw(0)).map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e))),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_short_and_long() {
        for text in [
            "short\n".to_string(),
            "a longer paragraph of text. ".repeat(100),
        ] {
            let stored = match encode(&text).unwrap() {
                ToSqlOutput::Borrowed(v) => Value::try_from(v).unwrap(),
                ToSqlOutput::Owned(v) => v,
                _ => unreachable!(),
            };
            let back = decode(ValueRef::from(&stored)).unwrap();
            assert_eq!(back, text);
        }
        let long = "x".repeat(1000);
        assert!(
            matches!(encode(&long).unwrap(), ToSqlOutput::Owned(Value::Blob(b)) if b.len() < 100)
        );
    }

    #[test]
    fn damaged_blob_is_an_error_not_a_panic() {
        let err = decode(ValueRef::Blob(b"not zstd at all")).unwrap_err();
        assert!(err.to_string().contains("damaged"), "{err}");
    }
}
