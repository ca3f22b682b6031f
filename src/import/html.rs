//! Reading the HTML exports (Netscape bookmarks, Pocket's
//! `ril_export.html`) as a stream of tokens: html5ever's tokenizer, fed the
//! file 64 KiB at a time, with no tree. These files are tag soup (`<DT>`
//! and `<p>` are never closed), and a browser's export of 100,000
//! bookmarks with descriptions is some 70 MB, so building a DOM would
//! cost time and memory for nothing: the folder structure is all in the
//! `<DL>` tags, which are always closed.

use std::cell::RefCell;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

use super::item::Entry;
use crate::error::{Error, Result};

/// What a format does with the tokens: it turns them into entries, which
/// the reader takes after each piece of the file.
pub(crate) trait Handler {
    /// One token, and the line it is on.
    fn token(&mut self, token: Token, line: u64);
    /// The entries finished so far.
    fn take(&mut self) -> Vec<Entry>;
    /// The file has ended: finish what is open.
    fn end(&mut self);
}

struct Sink<'a, H>(RefCell<&'a mut H>);

impl<H: Handler> TokenSink for Sink<'_, H> {
    type Handle = ();

    fn process_token(&self, token: Token, line: u64) -> TokenSinkResult<()> {
        self.0.borrow_mut().token(token, line);
        TokenSinkResult::Continue
    }
}

/// Tokenizes the file at `path` through `handler`, handing its entries to
/// `sink` as they are finished. The charset is decided from the first 64 KB
/// as for a clipped page (a byte-order mark, a `<meta>` charset, UTF-8 when
/// the bytes are, else chardetng's guess): browsers write UTF-8 and say so,
/// but an old or hand-made file may be windows-1252 and say nothing.
pub(crate) fn read<H: Handler>(
    path: &Path,
    handler: &mut H,
    sink: &mut dyn FnMut(Entry) -> Result<()>,
) -> Result<()> {
    let name = path.display().to_string();
    let mut file = File::open(path)
        .map_err(|e| Error::BadInput(format!("cannot read {name} ({e}); check the path")))?;
    let tokenizer = Tokenizer::new(Sink(RefCell::new(handler)), TokenizerOpts::default());
    let queue = BufferQueue::default();
    let mut decoder: Option<encoding_rs::Decoder> = None;
    let mut bytes = vec![0u8; 1 << 16];
    let mut text = String::new();
    let mut total = 0usize;
    loop {
        let n = file
            .read(&mut bytes)
            .map_err(|e| Error::BadInput(format!("cannot read {name} ({e}); check the file")))?;
        total += n;
        let last = n == 0;
        text.clear();
        // A decoder made with new_decoder() still lets a byte-order mark
        // override the charset.
        let decoder = decoder.get_or_insert_with(|| {
            crate::clip::decode::html_charset(&bytes[..n], None, last).new_decoder()
        });
        text.reserve(decoder.max_utf8_buffer_length(n).unwrap_or(n * 3 + 16));
        let _ = decoder.decode_to_string(&bytes[..n], &mut text, last);
        if !text.is_empty() {
            queue.push_back(StrTendril::from_slice(&text));
            let _ = tokenizer.feed(&queue);
        }
        for entry in tokenizer.sink.0.borrow_mut().take() {
            sink(entry)?;
        }
        if last {
            break;
        }
    }
    if total == 0 {
        return Err(Error::BadInput(format!(
            "{name} is empty; export the bookmarks again"
        )));
    }
    tokenizer.end();
    let mut handler = tokenizer.sink.0.borrow_mut();
    handler.end();
    for entry in handler.take() {
        sink(entry)?;
    }
    Ok(())
}
