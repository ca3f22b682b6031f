//! A write of many rows at once (an import, a first pull): the store's
//! options for it, set in one place so the writers hand items over and
//! never set store knobs.

use std::collections::HashMap;

use chacha20poly1305::aead::rand_core::RngCore;
use chacha20poly1305::aead::OsRng;

use super::side_index::SideIndex;
use super::tx::Tx;
use crate::error::Result;

/// A batch of random v4 UUIDs handed out in ascending order.
pub(super) struct IdPool {
    batch: usize,
    /// Sorted descending, so the next is at the end.
    ready: Vec<u128>,
}

impl IdPool {
    pub(super) fn next(&mut self) -> String {
        if self.ready.is_empty() {
            // One read of the system's randomness for the batch, not one
            // per id.
            let mut bytes = vec![0u8; self.batch * 16];
            OsRng.fill_bytes(&mut bytes);
            self.ready = bytes
                .chunks_exact(16)
                .map(|b| {
                    let b: [u8; 16] = b.try_into().expect("16 bytes");
                    uuid::Builder::from_random_bytes(b).into_uuid().as_u128()
                })
                .collect();
            self.ready.sort_unstable_by(|a, b| b.cmp(a));
        }
        let id = self.ready.pop().expect("a batch is never empty");
        uuid::Uuid::from_u128(id).hyphenated().to_string()
    }
}

impl Tx<'_> {
    /// Hands out new ids from sorted batches of `batch` random ones for the
    /// rest of the transaction: for a write that creates many rows (an
    /// import). Each id is as random as any other, but rows keyed by id
    /// (the articles' id index, versions, notes) then go into their trees in
    /// order, a page at a time, instead of each one at a random place in
    /// trees larger than the cache (`docs/benchmarks.md`, "Importing
    /// bookmarks").
    pub(super) fn sorted_ids(&mut self, batch: usize) {
        self.ids = Some(IdPool {
            batch: batch.max(1),
            ready: Vec::new(),
        });
    }

    /// Readies the transaction to import bookmarks into a journal that has
    /// none: every secondary index but the one texts are matched by waits
    /// for [`Tx::finish_index`], and, since nothing outside
    /// this import can share a URL with a bookmark, URLs are matched in
    /// memory ([`Tx::import_bookmark`]). Each bookmark's URL would otherwise
    /// be looked up and then inserted at a random place in an index far
    /// larger than the cache; building that index from the finished table
    /// is one sort. Does nothing when the journal has articles after all
    /// (another process imported into it first).
    pub(super) fn bulk_import(&mut self) -> Result<()> {
        let empty: bool =
            self.tx
                .query_row("SELECT NOT EXISTS (SELECT 1 FROM articles)", [], |r| {
                    r.get(0)
                })?;
        if !empty {
            return Ok(());
        }
        // An index a pull left waiting is rebuilt whole, as before.
        let fresh = !self.index_deferred;
        // The notes index stays for the search values of an article the
        // import changes again (Tx::touch_article), which read its notes.
        self.defer_indexes_but(&["versions_by_hash", "notes_by_article"])?;
        self.urls_seen = Some(HashMap::default());
        if let (true, Some(path)) = (fresh, &self.scratch) {
            let create: String = self.tx.query_row(
                "SELECT sql FROM main.sqlite_master WHERE name = 'article_fts'",
                [],
                |r| r.get(0),
            )?;
            // Without a worker the index is rebuilt at the end instead.
            self.side = SideIndex::start(path, create).ok();
        }
        Ok(())
    }
}

impl super::Journal {
    /// Writes many items in one transaction: an import hands them to `f`,
    /// which stores each through the [`Tx`] it is given, and the store
    /// chooses how to write them. Into an empty journal (someone moving
    /// their library over), the tables' secondary indexes wait for the end
    /// and the search index is built beside the write on another thread,
    /// new ids come in sorted batches (about `items` of them), the file
    /// leaves WAL for a rollback journal, and SQLite's foreign-key checks
    /// are off, since every link the write makes is to a row it made.
    /// Into a journal with rows it is an ordinary write. Either way all of
    /// it lands or none of it, with every index whole at commit. `f` is
    /// told whether the journal was empty.
    pub fn bulk_write<T>(
        &mut self,
        now: crate::time::Timestamp,
        items: usize,
        f: impl FnOnce(&mut Tx<'_>, bool) -> Result<T>,
    ) -> Result<T> {
        let empty = self.is_empty()?;
        let write = move |tx: &mut Tx<'_>| {
            if empty {
                // (Unless another process wrote into it first.)
                tx.bulk_import()?;
            }
            tx.sorted_ids(items.clamp(64, 1 << 20));
            let out = f(tx, empty)?;
            // The indexes this write left out (or a pull before it) are
            // built in the same transaction, which then commits once.
            tx.finish_index()?;
            Ok(out)
        };
        if empty {
            self.with_rollback_journal(|j| j.with_side_index(|j| j.write_unchecked(now, write)))
        } else {
            self.write(now, write)
        }
    }
}
