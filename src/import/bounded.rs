//! A reader that stops a parser which buffers one piece of a file whole (the
//! csv crate a record, serde_json an array element) once that piece passes
//! a cap. The parser cannot be asked to stop, so the bytes it is given are
//! counted from the start of the current piece, which the caller marks, and
//! past the cap the next read fails with [`OverCap`]: a 1 MB ZIP holding a
//! CSV field of 1 GB is refused after the cap, not after the gigabyte.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// The error a [`Bounded`] reader fails with past its cap.
#[derive(Debug)]
pub(crate) struct OverCap;

impl std::fmt::Display for OverCap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a piece of the file is over its cap")
    }
}

impl std::error::Error for OverCap {}

/// Whether `e` is a [`Bounded`] reader's refusal.
pub(crate) fn is_over_cap(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<OverCap>())
}

/// Reads `inner`, failing once more than `cap` bytes have been read since
/// the last [`Mark::start`]. Counting is of what the parser has taken from
/// here, which its own buffer (64 KiB) may hold ahead of where it parses,
/// so the cap holds to within that.
pub(crate) struct Bounded<R> {
    inner: R,
    since: Rc<Cell<u64>>,
    cap: u64,
}

/// Where the caller says a new piece starts.
#[derive(Clone)]
pub(crate) struct Mark(Rc<Cell<u64>>);

impl Mark {
    pub(crate) fn start(&self) {
        self.0.set(0);
    }
}

pub(crate) fn bounded<R: Read>(inner: R, cap: u64) -> (Bounded<R>, Mark) {
    let since = Rc::new(Cell::new(0));
    (
        Bounded {
            inner,
            since: since.clone(),
            cap,
        },
        Mark(since),
    )
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.since.get() > self.cap {
            return Err(io::Error::other(OverCap));
        }
        let n = self.inner.read(buf)?;
        self.since.set(self.since.get() + n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_cap_from_the_last_mark() {
        let data = [b'a'; 100];
        let (mut r, mark) = bounded(&data[..], 10);
        let mut buf = [0u8; 8];
        assert_eq!(r.read(&mut buf).unwrap(), 8);
        mark.start();
        assert_eq!(r.read(&mut buf).unwrap(), 8);
        assert_eq!(r.read(&mut buf).unwrap(), 8);
        let e = r.read(&mut buf).unwrap_err();
        assert!(is_over_cap(&e), "{e}");
        mark.start();
        assert_eq!(r.read(&mut buf).unwrap(), 8);
        assert!(!is_over_cap(&io::Error::other("other")));
    }
}
