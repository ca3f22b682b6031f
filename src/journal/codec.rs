//! How article texts are stored: zstd-compressed, as a BLOB, so a journal of
//! long articles stays small. Short texts, where a frame header would cost
//! more than it saves, stay plain TEXT; readers accept either.
//!
//! SQLite reads stored texts through the `nj_text()` SQL function registered
//! on every connection, which is how the full-text index (an external-content
//! index over a view) sees the words without keeping a second copy.

use rusqlite::functions::FunctionFlags;
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use crate::error::{Error, Result};

/// Below this many bytes a text is stored as it is.
const COMPRESS_FROM: usize = 256;
/// zstd's level: a good ratio on article-sized texts and still far faster
/// than the disk write.
const LEVEL: i32 = 6;

/// The stored form of a (normalised) text.
pub fn encode(text: &str) -> Result<Value> {
    Ok(pack(text)?.map_or_else(|| Value::Text(text.to_owned()), Value::Blob))
}

/// The frame [`encode`] stores for `text`, or `None` for a text stored
/// plain. Bulk imports make frames off the writing thread with it and hand
/// them to [`super::Tx::put_text_packed`].
pub fn pack(text: &str) -> Result<Option<Vec<u8>>> {
    if text.len() < COMPRESS_FROM {
        return Ok(None);
    }
    compress(text.as_bytes()).map(Some)
}

thread_local! {
    /// One zstd context of each kind per thread, reused: a first sync, an
    /// import or a rebuild of the search index packs or unpacks every
    /// text, and a fresh context for each cost more than a short text.
    static PACKER: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
    static UNPACKER: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// One zstd frame of `bytes`.
fn compress(bytes: &[u8]) -> Result<Vec<u8>> {
    PACKER
        .with(|cell| {
            let mut cell = cell.borrow_mut();
            if cell.is_none() {
                *cell = Some(zstd::bulk::Compressor::new(LEVEL)?);
            }
            cell.as_mut().expect("set above").compress(bytes)
        })
        .map_err(|e| Error::Other(anyhow::anyhow!("cannot compress a text: {e}")))
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
            let bytes = unpack(b, u64::MAX).map_err(|e| corrupt(e.to_string()))?;
            String::from_utf8(bytes).map_err(|e| corrupt(e.to_string()))
        }
        _ => Err(corrupt("not a text".into())),
    }
}

/// Unpacks a frame, reading at most `limit` + 1 bytes of what it holds.
/// Frames from [`pack`] say their size, which lets the thread's one context
/// unpack them in one call (which fails if the frame lies).
fn unpack(frame: &[u8], limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    match zstd::zstd_safe::get_frame_content_size(frame) {
        Ok(Some(size)) if size <= limit && size <= MAX_TEXT_BYTES => UNPACKER.with(|cell| {
            let mut cell = cell.borrow_mut();
            if cell.is_none() {
                *cell = Some(zstd::bulk::Decompressor::new()?);
            }
            let unpacker = cell.as_mut().expect("set above");
            unpacker.decompress(frame, size as usize)
        }),
        _ => {
            let mut out = Vec::new();
            zstd::stream::read::Decoder::new(frame)?
                .take(limit.saturating_add(1))
                .read_to_end(&mut out)?;
            Ok(out)
        }
    }
}

/// The first bytes of every zstd frame. Text never starts with them:
/// 0xB5 cannot follow an ASCII byte in UTF-8.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// The largest text a synced blob may unpack to: the largest page `nj clip`
/// reads. A frame that claims more is refused before it is unpacked.
pub const MAX_TEXT_BYTES: u64 = crate::limits::MAX_INPUT_BYTES;

/// A stored text in the form it travels in: one zstd frame. Long texts are
/// stored that way already and go as they are, so neither the sending nor
/// the receiving device compresses anything twice.
pub fn to_wire(stored: ValueRef<'_>) -> Result<Vec<u8>> {
    match stored {
        ValueRef::Blob(b) if b.starts_with(&ZSTD_MAGIC) => Ok(b.to_vec()),
        other => compress(decode(other)?.as_bytes()),
    }
}

/// A text that came over the wire: the text, and the frame to store when
/// it is long enough to be stored compressed. Plain UTF-8 is accepted
/// too, as early clients sent it.
pub fn from_wire(bytes: Vec<u8>) -> Result<(String, Option<Vec<u8>>)> {
    let bad = |why: String| {
        Error::BadInput(format!(
            "a text from the server is unreadable ({why}); it was not stored"
        ))
    };
    if !bytes.starts_with(&ZSTD_MAGIC) {
        let text = String::from_utf8(bytes).map_err(|e| bad(e.to_string()))?;
        return Ok((text, None));
    }
    let out = unpack(&bytes, MAX_TEXT_BYTES).map_err(|e| bad(e.to_string()))?;
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
            let stored = encode(&text).unwrap();
            let back = decode(ValueRef::from(&stored)).unwrap();
            assert_eq!(back, text);
        }
        let long = "x".repeat(1000);
        assert!(matches!(encode(&long).unwrap(), Value::Blob(b) if b.len() < 100));
    }

    fn stored(text: &str) -> Value {
        encode(text).unwrap()
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
