//! The search index of an import into an empty journal, built on a second
//! thread while the import writes its rows.
//!
//! Indexing is a quarter of such an import, and SQLite runs one write on
//! one thread. So the import hands each new article's indexed values
//! (title, text, notes, tags: what `article_search_src` would give) to a
//! worker, which feeds them to an FTS5 table of the same definition in a
//! scratch database of its own, on the machine's other core. At the end
//! the import copies that index's tables into the journal's: FTS5's
//! segments do not depend on where the table's content lives, and a copy
//! is a small part of building them.
//!
//! An article the import changes again after it was handed over (the same
//! URL twice in a file) is taken back out of the worker's index with the
//! values it had, as [`super::Tx`] does for the journal's own index, and
//! handed over again, as the rows say, at the end.
//!
//! The scratch file sits beside the journal (the same disk, which has
//! room for the index that is copied from it) and goes when the import
//! ends. The journal attaches it before the import's transaction, because
//! SQLite cannot attach a database inside one.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use rusqlite::types::Value;
use rusqlite::{params, Connection};

use crate::error::{Error, Result};

/// The schema name the scratch database is attached under.
const SCHEMA: &str = "nj_side";

/// How scratch files are named: hidden, and recognisably nj's.
const PREFIX: &str = ".nj-import-index-";

/// A scratch file untouched for this long is left from an import that was
/// killed (an import writes its scratch file all along, and a running one
/// copies it within seconds of its last write).
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// Removes the scratch files that killed imports left in `dir`.
fn remove_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let stale = entry.file_name().to_string_lossy().starts_with(PREFIX)
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_AFTER);
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Entries handed to the worker at a time, at most: this many, or this
/// many bytes of text (an export with texts). Four batches wait at most.
const BATCH: usize = 512;
const BATCH_BYTES: usize = 4 << 20;

/// The scratch database of an import, attached to the journal.
pub(super) struct Scratch {
    /// Removes the file when dropped.
    path: tempfile::TempPath,
}

impl Scratch {
    /// A new empty scratch file in `dir`, attached to `conn`.
    pub(super) fn attach(conn: &Connection, dir: &Path) -> Result<Scratch> {
        remove_stale(dir);
        // A scratch file a failed DETACH left attached would take the name.
        let _ = conn.execute_batch(&format!("DETACH DATABASE {SCHEMA}"));
        let path = tempfile::Builder::new()
            .prefix(PREFIX)
            .tempfile_in(dir)
            .map_err(|e| Error::Other(e.into()))?
            .into_temp_path();
        conn.execute(
            &format!("ATTACH DATABASE ?1 AS {SCHEMA}"),
            [path.to_string_lossy().as_ref()],
        )?;
        Ok(Scratch { path })
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Detaches the file from `conn` (and removes it).
    pub(super) fn detach(self, conn: &Connection) -> Result<()> {
        conn.flush_prepared_statement_cache();
        conn.execute_batch(&format!("DETACH DATABASE {SCHEMA}"))?;
        Ok(())
    }
}

/// One article's entry: added, or removed with the values it was added
/// with (an external-content index can remove an entry no other way).
pub(super) struct Entry {
    pub rowid: i64,
    pub remove: bool,
    /// title, body, notes, tags, as `article_search_src` has them.
    pub values: [Value; 4],
}

/// The worker and the entries on their way to it.
pub(super) struct SideIndex {
    send: Option<SyncSender<Vec<Entry>>>,
    batch: Vec<Entry>,
    /// The text in `batch`, in bytes.
    batch_bytes: usize,
    worker: Option<JoinHandle<Result<()>>>,
    /// The article being written now: its entry waits for its tags and
    /// notes ([`super::Tx::hand_over_new_article`]).
    pub(super) building: Option<i64>,
}

impl SideIndex {
    /// Starts a worker that builds, in the scratch database at `path`, an
    /// index defined by `create` (the journal's `CREATE VIRTUAL TABLE`).
    pub(super) fn start(path: &Path, create: String) -> Result<SideIndex> {
        let conn = Connection::open(path)?;
        // A scratch file: nothing to recover after a crash, so no journal
        // and no syncing.
        conn.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -16384;",
        )?;
        conn.execute_batch(&create)?;
        let (send, receive) = sync_channel::<Vec<Entry>>(4);
        let worker = std::thread::Builder::new()
            .name("nj-index".into())
            .spawn(move || build(conn, receive))
            .map_err(|e| Error::Other(e.into()))?;
        Ok(SideIndex {
            send: Some(send),
            batch: Vec::with_capacity(BATCH),
            batch_bytes: 0,
            worker: Some(worker),
            building: None,
        })
    }

    /// Queues an entry for the worker. An error means the worker stopped
    /// (its scratch disk is full, say), and says why.
    pub(super) fn push(&mut self, entry: Entry) -> Result<()> {
        self.batch_bytes += entry
            .values
            .iter()
            .map(|v| match v {
                Value::Text(t) => t.len(),
                _ => 0,
            })
            .sum::<usize>();
        self.batch.push(entry);
        if self.batch.len() >= BATCH || self.batch_bytes >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.batch_bytes = 0;
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        let sent = match &self.send {
            Some(send) => send.send(batch).is_ok(),
            None => false,
        };
        if sent {
            return Ok(());
        }
        // The worker stopped: say why.
        self.send = None;
        self.join()?;
        Err(Error::Other(anyhow::anyhow!(
            "the import's index builder stopped"
        )))
    }

    /// Hands over what is left and waits for the worker to finish the
    /// index.
    pub(super) fn finish(mut self) -> Result<()> {
        if !self.batch.is_empty() {
            self.flush()?;
        }
        self.send = None;
        self.join()
    }

    fn join(&mut self) -> Result<()> {
        match self.worker.take() {
            Some(worker) => worker
                .join()
                .map_err(|_| Error::Other(anyhow::anyhow!("the import's index builder failed")))?,
            None => Ok(()),
        }
    }
}

impl Drop for SideIndex {
    /// An import that fails stops its worker, whose scratch index goes
    /// with the file.
    fn drop(&mut self) {
        self.send = None;
        let _ = self.join();
    }
}

/// The worker: indexes entries as they come, in one transaction, until the
/// import closes the channel.
fn build(conn: Connection, receive: Receiver<Vec<Entry>>) -> Result<()> {
    conn.execute_batch("BEGIN")?;
    {
        let mut add = conn.prepare(
            "INSERT INTO article_fts(rowid, title, body, notes, tags) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut remove = conn.prepare(
            "INSERT INTO article_fts(article_fts, rowid, title, body, notes, tags)
             VALUES ('delete', ?1, ?2, ?3, ?4, ?5)",
        )?;
        for entry in receive.into_iter().flatten() {
            let [title, body, notes, tags] = &entry.values;
            let stmt = if entry.remove { &mut remove } else { &mut add };
            stmt.execute(params![entry.rowid, title, body, notes, tags])?;
        }
    }
    conn.execute_batch("COMMIT")?;
    Ok(())
}

/// Replaces the journal's (empty) article index with the one built in the
/// attached scratch database, inside the caller's transaction.
pub(super) fn copy_into(conn: &Connection) -> Result<()> {
    conn.execute_batch(&format!(
        "INSERT INTO main.article_fts(article_fts) VALUES ('delete-all');
         INSERT OR REPLACE INTO main.article_fts_data(id, block)
             SELECT id, block FROM {SCHEMA}.article_fts_data;
         INSERT INTO main.article_fts_idx(segid, term, pgno)
             SELECT segid, term, pgno FROM {SCHEMA}.article_fts_idx;
         INSERT INTO main.article_fts_docsize(id, sz)
             SELECT id, sz FROM {SCHEMA}.article_fts_docsize;
         -- FTS5 keeps the index's structure (which segments it has) and
         -- its totals in memory across statements, and would not see the
         -- rows written under it. Rolling back to a savepoint is what makes
         -- it read them again; nothing was written since this one.
         SAVEPOINT nj_side_reload;
         ROLLBACK TO nj_side_reload;
         RELEASE nj_side_reload;"
    ))?;
    Ok(())
}

/// The file a scratch index for the journal at `journal` goes in: beside
/// it, or in the system's temporary folder for a journal in memory.
pub(super) fn scratch_dir(journal: Option<&Path>) -> PathBuf {
    match journal {
        Some(path) => match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        },
        None => std::env::temp_dir(),
    }
}

#[cfg(test)]
mod tests {
    use crate::content::Content;
    use crate::journal::bookmark::tests::bookmark;
    use crate::journal::{Journal, ListFilter, Restored, SearchQuery};
    use crate::time::Timestamp;
    use rusqlite::types::Value;

    fn hits(j: &Journal, query: &str) -> Vec<String> {
        let mut titles: Vec<String> = j
            .search(&SearchQuery {
                since: None,
                until: None,
                query: query.into(),
                tag: None,
                story: None,
                limit: 100,
                mark: Default::default(),
            })
            .unwrap()
            .into_iter()
            .filter_map(|h| h.article.map(|a| a.title))
            .collect();
        titles.sort();
        titles
    }

    fn scratch_files(dir: &std::path::Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(super::PREFIX))
            .collect()
    }

    /// An import into an empty journal whose search index is built on the
    /// worker: articles changed after they were handed over (a repeated
    /// URL, a text for a pending bookmark, more notes), articles with
    /// notes and texts, and enough of them for several batches. The index
    /// it ends with is the one the rows make (FTS5's own integrity check
    /// re-reads every row), and the journal goes on indexing writes after.
    #[test]
    fn an_index_built_beside_the_import_is_the_one_the_rows_make() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("journal.db")).unwrap();
        let mut items = Vec::new();
        let mut harbor = bookmark("https://news.example/harbor", &["ports", "Court Cases"]);
        harbor.notes = vec![
            "zebra crossing".into(),
            "  quokka  ".into(),
            "zebra crossing".into(),
        ];
        items.push(harbor);
        let mut texted = bookmark("https://news.example/dredge", &["ports"]);
        texted.content = Some(Content::new("The dredging contract went to a wombat firm."));
        texted.title = "Dredging contract".into();
        items.push(texted.clone());
        items.push(bookmark("https://news.example/ferry", &[]));
        for i in 0..1_500 {
            items.push(bookmark(
                &format!("https://filler.example/{i}"),
                &["filler"],
            ));
        }
        // After they were handed over: a tag and a note for the harbor,
        // the text of the pending ferry, and the dredging text under a
        // second address.
        let mut again = bookmark("https://news.example/harbor", &["dredging"]);
        again.notes = vec!["platypus".into()];
        items.push(again);
        let mut ferry = bookmark("https://news.example/ferry", &["transit"]);
        ferry.content = Some(Content::new(
            "Winter ferry timetables cut the narwhal route.",
        ));
        items.push(ferry);
        let mut copy = texted.clone();
        copy.urls = vec!["https://mirror.example/dredge".into()];
        items.push(copy);

        let outcomes = j
            .with_side_index(|j| {
                j.write_unchecked(Timestamp(9_000), |tx| {
                    tx.bulk_import()?;
                    assert!(tx.side.is_some(), "the worker builds the index");
                    let outcomes = items
                        .iter()
                        .map(|b| tx.import_bookmark(b))
                        .collect::<crate::error::Result<Vec<_>>>()?;
                    tx.finish_index()?;
                    // Not the rebuild it falls back to.
                    assert!(tx.side_index_copied, "the worker's index is the journal's");
                    Ok(outcomes)
                })
            })
            .unwrap();
        assert_eq!(
            outcomes.iter().filter(|r| **r == Restored::Added).count(),
            1_503
        );
        assert_eq!(outcomes[1_503..], [Restored::Updated; 3]);
        assert!(
            scratch_files(dir.path()).is_empty(),
            "the scratch file goes"
        );

        let report = j.verify().unwrap();
        assert!(report.index_ok, "FTS5 finds the index and the rows agree");
        assert_eq!(report.articles, 1_503);
        assert!(!j.index_is_stale().unwrap());
        assert_eq!(hits(&j, "quokka"), ["news.example/harbor"]);
        assert_eq!(hits(&j, "zebra"), ["news.example/harbor"]);
        assert_eq!(hits(&j, "platypus"), ["news.example/harbor"]);
        assert_eq!(
            hits(&j, "dredging"),
            ["Dredging contract", "news.example/harbor"]
        );
        assert_eq!(hits(&j, "court"), ["news.example/harbor"]);
        assert_eq!(hits(&j, "wombat"), ["Dredging contract"]);
        assert_eq!(hits(&j, "narwhal"), ["news.example/ferry"]);
        assert_eq!(hits(&j, "transit"), ["news.example/ferry"]);
        assert_eq!(hits(&j, "filler").len(), 100);

        // Later writes find the copied index where FTS5 keeps track of it.
        let ferry = j
            .list(&ListFilter::default())
            .unwrap()
            .into_iter()
            .find(|a| a.title == "news.example/ferry")
            .unwrap();
        j.write(Timestamp(10_000), |tx| {
            tx.retag(&ferry.as_ref(), &["kelp".into()], &["transit".into()])
        })
        .unwrap();
        assert_eq!(hits(&j, "kelp"), ["news.example/ferry"]);
        assert!(hits(&j, "transit").is_empty());
        assert!(j.verify().unwrap().index_ok);
    }

    /// A scratch file a killed import left a day ago goes at the next
    /// import; a recent one (another import's, running) stays.
    #[test]
    fn a_scratch_file_left_by_a_killed_import_goes_at_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join(format!("{}killed", super::PREFIX));
        let running = dir.path().join(format!("{}running", super::PREFIX));
        for path in [&old, &running] {
            std::fs::write(path, b"half an index").unwrap();
        }
        let two_days = std::time::Duration::from_secs(2 * 24 * 60 * 60);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(std::time::SystemTime::now() - two_days)
            .unwrap();
        let mut j = Journal::open(&dir.path().join("journal.db")).unwrap();
        j.with_side_index(|j| {
            j.write_unchecked(Timestamp(9_000), |tx| {
                tx.bulk_import()?;
                tx.import_bookmark(&bookmark("https://news.example/harbor", &["ports"]))?;
                tx.finish_index()
            })
        })
        .unwrap();
        let mut left = scratch_files(dir.path());
        left.sort();
        assert_eq!(left, [format!("{}running", super::PREFIX)]);
        assert_eq!(hits(&j, "ports"), ["news.example/harbor"]);
    }

    /// A worker that stops part way (here FTS5 refuses to remove an entry
    /// it never had, as it would a full scratch disk) leaves the import to
    /// go on without it and rebuild the index at the end.
    #[test]
    fn an_import_whose_worker_stops_rebuilds_the_index_itself() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("journal.db")).unwrap();
        let added = j
            .with_side_index(|j| {
                j.write_unchecked(Timestamp(9_000), |tx| {
                    tx.bulk_import()?;
                    let mut added = 0;
                    for i in 0..1_200 {
                        if i == 10 {
                            let bogus = super::Entry {
                                rowid: 1,
                                remove: true,
                                values: [
                                    Value::Text("never".into()),
                                    Value::Text("indexed".into()),
                                    Value::Null,
                                    Value::Null,
                                ],
                            };
                            tx.side.as_mut().unwrap().push(bogus)?;
                        }
                        let b = bookmark(&format!("https://filler.example/{i}"), &["kelp"]);
                        added += usize::from(tx.import_bookmark(&b)? == Restored::Added);
                    }
                    assert!(tx.side.is_none(), "the stopped worker was let go");
                    tx.finish_index()?;
                    assert!(!tx.side_index_copied);
                    Ok(added)
                })
            })
            .unwrap();
        assert_eq!(added, 1_200);
        assert!(scratch_files(dir.path()).is_empty());
        assert!(j.verify().unwrap().index_ok);
        assert!(!j.index_is_stale().unwrap());
        assert_eq!(hits(&j, "kelp").len(), 100);
    }

    /// An import that fails takes its rows back, and its scratch file goes.
    #[test]
    fn a_failed_import_leaves_no_scratch_file_and_no_rows() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("journal.db")).unwrap();
        let result: crate::error::Result<()> = j.with_side_index(|j| {
            j.write_unchecked(Timestamp(9_000), |tx| {
                tx.bulk_import()?;
                tx.import_bookmark(&bookmark("https://news.example/harbor", &["ports"]))?;
                Err(crate::error::Error::BadInput("the disk is full".into()))
            })
        });
        assert!(result.is_err());
        assert!(scratch_files(dir.path()).is_empty());
        assert!(j.is_empty().unwrap());
        assert!(j.verify().unwrap().index_ok);
    }
}
