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

/// Makes stored forms of many texts with one zstd context, for bulk
/// imports, which make them off the writing thread and hand them to
/// [`super::Tx::put_text_packed`].
pub struct Packer(zstd::bulk::Compressor<'static>);

impl Packer {
    pub fn new() -> Result<Packer> {
        zstd::bulk::Compressor::new(LEVEL)
            .map(Packer)
            .map_err(|e| Error::Other(anyhow::anyhow!("cannot start zstd: {e}")))
    }

    /// The frame [`encode`] would store, or `None` for a text stored plain.
    pub fn pack(&mut self, text: &str) -> Result<Option<Vec<u8>>> {
        if text.len() < COMPRESS_FROM {
            return Ok(None);
        }
        self.0
            .compress(text.as_bytes())
            .map(Some)
            .map_err(|e| Error::Other(anyhow::anyhow!("cannot compress a text: {e}")))
    }
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
            let bytes = unpack(b).map_err(|e| corrupt(e.to_string()))?;
            String::from_utf8(bytes).map_err(|e| corrupt(e.to_string()))
        }
        _ => Err(corrupt("not a text".into())),
    }
}

thread_local! {
    /// One decompression context per thread, reused: rebuilding the search
    /// index unpacks every stored text, and a fresh context for each cost
    /// more than unpacking a short one.
    static UNPACKER: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// Unpacks a stored frame. Frames from `encode` say their size, which lets
/// one reused context unpack them in one call.
fn unpack(frame: &[u8]) -> std::io::Result<Vec<u8>> {
    match zstd::zstd_safe::get_frame_content_size(frame) {
        Ok(Some(size)) if size <= MAX_TEXT_BYTES => UNPACKER.with(|cell| {
            let mut cell = cell.borrow_mut();
            if cell.is_none() {
                *cell = Some(zstd::bulk::Decompressor::new()?);
            }
            let unpacker = cell.as_mut().expect("set above");
            unpacker.decompress(frame, size as usize)
        }),
        _ => zstd::stream::decode_all(frame),
    }
}

/// The first bytes of every zstd frame. Text never starts with them:
/// 0xB5 cannot follow an ASCII byte in UTF-8.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// The largest text a synced blob may unpack to: the largest page `nj clip`
/// reads. A frame that claims more is refused before it is unpacked.
pub const MAX_TEXT_BYTES: u64 = crate::clip::MAX_INPUT_BYTES;

/// A stored text in the form it travels in: one zstd frame. Long texts are
/// stored that way already and go as they are, so neither the sending nor
/// the receiving device compresses anything twice.
pub fn to_wire(stored: ValueRef<'_>) -> Result<Vec<u8>> {
    match stored {
        ValueRef::Blob(b) if b.starts_with(&ZSTD_MAGIC) => Ok(b.to_vec()),
        other => {
            let text = decode(other)?;
            zstd::bulk::compress(text.as_bytes(), LEVEL)
                .map_err(|e| Error::Other(anyhow::anyhow!("cannot compress a text: {e}")))
        }
    }
}

/// A text that came over the wire: the text, and the frame to store when
/// it is long enough to be stored compressed. Plain UTF-8 is accepted
/// too, as early clients sent it.
pub fn from_wire(bytes: Vec<u8>) -> Result<(String, Option<Vec<u8>>)> {
    use std::io::Read;
    let bad = |why: String| {
        Error::BadInput(format!(
            "a text from the server is unreadable ({why}); it was not stored"
        ))
    };
    if !bytes.starts_with(&ZSTD_MAGIC) {
        let text = String::from_utf8(bytes).map_err(|e| bad(e.to_string()))?;
        return Ok((text, None));
    }
    let out = match zstd::zstd_safe::get_frame_content_size(&bytes) {
        // A frame that says its size is unpacked in one call, and only if
        // that size is within bounds (the call fails if the frame lies).
        Ok(Some(size)) if size <= MAX_TEXT_BYTES => {
            unpack(&bytes).map_err(|e| bad(e.to_string()))?
        }
        _ => {
            let mut out = Vec::new();
            zstd::stream::read::Decoder::new(&bytes[..])
                .and_then(|d| d.take(MAX_TEXT_BYTES + 1).read_to_end(&mut out))
                .map_err(|e| bad(e.to_string()))?;
            out
        }
    };
    if out.len() as u64 > MAX_TEXT_BYTES {
        return Err(bad(format!(
            "it unpacks to more than {} MiB",
            MAX_TEXT_BYTES >> 20
        )));
    }
    let text = String::from_utf8(out).map_err(|e| bad(e.to_string()))?;
    let frame = (text.len() >= COMPRESS_FROM).then_some(bytes);
    Ok((text, frame))
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

    fn stored(text: &str) -> Value {
        match encode(text).unwrap() {
            ToSqlOutput::Borrowed(v) => Value::try_from(v).unwrap(),
            ToSqlOutput::Owned(v) => v,
            _ => unreachable!(),
        }
    }

    #[test]
    fn wire_form_is_a_frame_and_long_texts_keep_their_stored_bytes() {
        let long = "The council voted again. ".repeat(40);
        let kept = stored(&long);
        let wire = to_wire(ValueRef::from(&kept)).unwrap();
        assert_eq!(Value::Blob(wire.clone()), kept, "sent as stored");
        let (text, frame) = from_wire(wire.clone()).unwrap();
        assert_eq!(text, long);
        assert_eq!(frame, Some(wire), "stored as received");

        let short = "A short note.\n";
        let wire = to_wire(ValueRef::from(&stored(short))).unwrap();
        assert!(wire.starts_with(&ZSTD_MAGIC));
        assert_eq!(from_wire(wire).unwrap(), (short.to_owned(), None));
    }

    #[test]
    fn plain_text_from_older_clients_is_accepted() {
        let (text, frame) = from_wire(b"plain words\n".to_vec()).unwrap();
        assert_eq!((text.as_str(), frame), ("plain words\n", None));
    }

    #[test]
    fn wire_bombs_and_garbage_are_refused() {
        let zeros = vec![0u8; MAX_TEXT_BYTES as usize + 1];
        let bomb = zstd::bulk::compress(&zeros, 1).unwrap();
        assert!(bomb.len() < 64 * 1024);
        let err = from_wire(bomb).unwrap_err().to_string();
        assert!(err.contains("more than 50 MiB"), "{err}");
        let mut broken = ZSTD_MAGIC.to_vec();
        broken.extend_from_slice(b"garbage");
        assert!(from_wire(broken)
            .unwrap_err()
            .to_string()
            .contains("unreadable"));
        assert!(from_wire(vec![0xff, 0xfe]).is_err(), "not UTF-8");
    }

    #[test]
    fn damaged_blob_is_an_error_not_a_panic() {
        let err = decode(ValueRef::Blob(b"not zstd at all")).unwrap_err();
        assert!(err.to_string().contains("damaged"), "{err}");
    }
}
