//! Keeping the full-text index in step with the rows.
//!
//! The index is an external-content index over views, so an entry can
//! only be removed with the exact values it was indexed with. A change
//! therefore first "touches" the article or note, which removes its entry
//! while the rows still hold the old values, and the entry is written again
//! from the new values at commit. A bulk write may instead leave the index
//! (and the tables' other indexes) for one rebuild at its end.

use rusqlite::types::Value;
use rusqlite::OptionalExtension;

use super::query::ArticleRef;
use super::side_index::{self, SideIndex};
use super::tx::{meta_get, meta_set, Tx};
use crate::error::Result;

impl Tx<'_> {
    /// Notes whether the search index waits for a rebuild.
    pub(super) fn load_index_state(&mut self) -> Result<()> {
        self.index_deferred = meta_get(&self.tx, "index_stale")?.as_deref() == Some("1");
        Ok(())
    }

    /// Indexes an article this transaction created: at commit, or with
    /// everything when the index waits for a rebuild.
    pub(super) fn index_created_article(&mut self, rowid: i64) {
        // Nothing to remove from the index for a new row.
        if !self.index_deferred {
            self.dirty_articles.insert(rowid);
        }
        // In an import building its index beside it, the article is handed
        // over once its tags and notes are in (Tx::hand_over_new_article);
        // one that never was comes from its rows at the end.
        if let Some(side) = &mut self.side {
            if let Some(earlier) = side.building.replace(rowid) {
                self.dirty_articles.insert(earlier);
            }
        }
    }

    /// Marks a row inserted outside the primitives for indexing at commit.
    pub(super) fn index_new_article(&mut self, rowid: i64) {
        self.dirty_articles.insert(rowid);
    }

    pub(super) fn index_new_note(&mut self, rowid: i64) {
        self.dirty_notes.insert(rowid);
    }

    /// Takes the article out of the index until commit; see the module doc.
    pub(super) fn touch_article(&mut self, rowid: i64) -> Result<()> {
        if self.index_deferred {
            // The worker's index takes the article back out, unless it has
            // not had it yet; it comes back from its rows at the end.
            let handed_over = self
                .side
                .as_ref()
                .is_some_and(|s| s.building != Some(rowid));
            if handed_over && self.dirty_articles.insert(rowid) {
                if let Some(values) = self.search_values(rowid)? {
                    self.hand_over(side_index::Entry {
                        rowid,
                        remove: true,
                        values,
                    });
                }
            }
            // Otherwise a rebuild to come indexes everything (and keeps no
            // list).
            return Ok(());
        }
        if self.dirty_articles.insert(rowid) {
            self.tx
                .prepare_cached(
                    "INSERT INTO article_fts(article_fts, rowid, title, body, notes, tags)
                     SELECT 'delete', article_rowid, title, body, notes, tags
                       FROM article_search_src WHERE article_rowid = ?1",
                )?
                .execute([rowid])?;
        }
        Ok(())
    }

    pub(super) fn touch_note(&mut self, rowid: i64) -> Result<()> {
        if self.index_deferred {
            return Ok(());
        }
        if self.dirty_notes.insert(rowid) {
            self.tx
                .prepare_cached(
                    "INSERT INTO note_fts(note_fts, rowid, body)
                     SELECT 'delete', note_rowid, body FROM note_search_src WHERE note_rowid = ?1",
                )?
                .execute([rowid])?;
        }
        Ok(())
    }

    /// A note about to move to the article `to` (or out of any article):
    /// it leaves its article's entry, which `touch_article` took out
    /// already, and joins another's, or the notes' own index. Both come
    /// out until commit; otherwise the entry it joins would later be
    /// removed with the note in it, which it was never indexed with (and
    /// which FTS5 reports as a malformed database).
    pub(super) fn touch_note_moving(&mut self, note_rowid: i64, to: &Value) -> Result<()> {
        self.touch_note(note_rowid)?;
        if let Value::Text(id) = to {
            let rowid: Option<i64> = self
                .tx
                .prepare_cached("SELECT seq FROM articles WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?;
            if let Some(rowid) = rowid {
                self.touch_article(rowid)?;
            }
        }
        Ok(())
    }

    /// Leaves this transaction's changes, and every write's after it, out
    /// of the search index until [`super::Journal::finish_index`] rebuilds
    /// it. For a pull that brings more articles than the journal holds,
    /// one rebuild costs less than indexing each page.
    ///
    /// The secondary indexes of the tables a pull fills go too, and come
    /// back with the rebuild: each remote row lands at a random place in
    /// every index of its table, and together they are far larger than the
    /// cache, so keeping them up to date row by row reads and writes most
    /// of their pages again and again, while creating one from the finished
    /// table is a sort (`docs/benchmarks.md`, "Sync").
    /// Their definitions wait in meta `deferred_indexes`. Unique indexes
    /// stay: they are constraints, not just speed.
    pub(crate) fn defer_index(&mut self) -> Result<()> {
        self.defer_indexes_but(&[])
    }

    /// [`Tx::defer_index`], keeping the indexes named in `keep`: the ones
    /// the write looks rows up with as it goes (an import matches a
    /// bookmark with a text by it, and without `versions_by_hash` would scan
    /// the table for every one).
    pub(super) fn defer_indexes_but(&mut self, keep: &[&str]) -> Result<()> {
        if self.index_deferred {
            return Ok(());
        }
        meta_set(&self.tx, "index_stale", "1")?;
        self.index_deferred = true;
        let indexes: Vec<(String, String)> = self
            .tx
            .prepare(
                "SELECT name, sql FROM sqlite_master
                  WHERE type = 'index' AND sql IS NOT NULL
                    AND sql NOT LIKE 'CREATE UNIQUE%'
                    AND tbl_name IN ('articles', 'article_urls', 'versions', 'notes',
                                     'article_tags', 'followups')
                  ORDER BY name",
            )?
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .filter(|r| !matches!(r, Ok((name, _)) if keep.contains(&name.as_str())))
            .collect::<rusqlite::Result<_>>()?;
        let mut waiting: Vec<String> = match meta_get(&self.tx, "deferred_indexes")? {
            Some(json) => serde_json::from_str(&json).map_err(|e| crate::Error::Other(e.into()))?,
            None => Vec::new(),
        };
        for (name, sql) in indexes {
            self.tx.execute_batch(&format!("DROP INDEX \"{name}\""))?;
            waiting.push(sql);
        }
        // The tag counts' triggers go too: row by row they would cost a
        // large write a look-up and an update per tag link, where one count
        // at the end is a single pass (super::build_deferred_indexes).
        let triggers: Vec<(String, String)> = self
            .tx
            .prepare(
                "SELECT name, sql FROM sqlite_master
                  WHERE type = 'trigger' AND name LIKE 'tag_counts_on_%' ORDER BY name",
            )?
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (name, sql) in triggers {
            self.tx.execute_batch(&format!("DROP TRIGGER \"{name}\""))?;
            waiting.push(sql);
        }
        let json = serde_json::to_string(&waiting).map_err(|e| crate::Error::Other(e.into()))?;
        meta_set(&self.tx, "deferred_indexes", &json)
    }

    /// Builds the indexes a bulk write left for later
    /// ([`Tx::defer_index`]) now, in this transaction, so it commits (and
    /// syncs the file) once; later writes in it index as they go.
    pub(crate) fn finish_index(&mut self) -> Result<()> {
        if !self.index_deferred {
            return Ok(());
        }
        match self.side.take() {
            Some(side) => self.finish_side_index(side)?,
            None => super::rebuild_index_in(&self.tx)?,
        }
        // Everything written so far is indexed from its rows now: what the
        // write marked for indexing at commit would be indexed twice.
        self.dirty_articles.clear();
        self.dirty_notes.clear();
        self.index_deferred = false;
        Ok(())
    }

    /// Finishes the index the worker built and puts it in the journal:
    /// the articles changed after they were handed over are handed over
    /// again from their rows first.
    fn finish_side_index(&mut self, mut side: SideIndex) -> Result<()> {
        if let Some(rowid) = side.building.take() {
            self.dirty_articles.insert(rowid);
        }
        super::build_deferred_indexes(&self.tx)?;
        let mut handed = Ok(());
        for rowid in std::mem::take(&mut self.dirty_articles) {
            if let Some(values) = self.search_values(rowid)? {
                handed = side.push(side_index::Entry {
                    rowid,
                    remove: false,
                    values,
                });
                if handed.is_err() {
                    break;
                }
            }
        }
        match handed.and_then(|()| side.finish()) {
            Ok(()) => {
                side_index::copy_into(&self.tx)?;
                super::rebuild_note_index_in(&self.tx)?;
                self.side_index_copied = true;
            }
            // The worker stopped (a full scratch disk, say): the journal's
            // own rebuild.
            Err(_) => super::rebuild_index_in(&self.tx)?,
        }
        Ok(())
    }

    /// Hands an entry to the worker building the import's index. If the
    /// worker has stopped (a full scratch disk, say), the import goes on
    /// without it and rebuilds the index at the end.
    fn hand_over(&mut self, entry: side_index::Entry) {
        if let Some(side) = &mut self.side {
            if side.push(entry).is_err() {
                self.side = None;
            }
        }
    }

    /// What the search index holds for an article, as its rows say now.
    fn search_values(&self, rowid: i64) -> Result<Option<[Value; 4]>> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT title, body, notes, tags FROM article_search_src WHERE article_rowid = ?1",
            )?
            .query_row([rowid], |r| {
                Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?])
            })
            .optional()?)
    }

    /// Hands a new article's search values to the worker building the
    /// import's index, once its tags and notes are in: `tags` sorted,
    /// `notes` in the order they were made (the view's order: by time,
    /// then id). An article this does not reach (its write failed part
    /// way) is indexed from its rows at the end.
    pub(super) fn hand_over_new_article(
        &mut self,
        article: &ArticleRef,
        title: &str,
        body: &str,
        notes: &[&str],
        tags: &[String],
    ) {
        let Some(side) = &mut self.side else {
            return;
        };
        if side.building != Some(article.rowid) {
            return;
        }
        side.building = None;
        // group_concat of no rows is NULL.
        let concat = |joined: String| {
            if joined.is_empty() {
                Value::Null
            } else {
                Value::Text(joined)
            }
        };
        self.hand_over(side_index::Entry {
            rowid: article.rowid,
            remove: false,
            values: [
                Value::Text(title.to_owned()),
                Value::Text(body.to_owned()),
                concat(notes.join("\n")),
                concat(tags.join(" ")),
            ],
        });
    }

    /// Indexes what this transaction touched, from the rows as they are at
    /// its end.
    pub(super) fn write_index(&mut self) -> Result<()> {
        let mut articles = std::mem::take(&mut self.dirty_articles);
        if self.index_deferred {
            articles.clear();
            self.dirty_notes.clear();
        }
        let mut add = self.tx.prepare_cached(
            "INSERT INTO article_fts(rowid, title, body, notes, tags)
             SELECT article_rowid, title, body, notes, tags
               FROM article_search_src WHERE article_rowid = ?1",
        )?;
        for rowid in articles {
            add.execute([rowid])?;
        }
        drop(add);
        let notes = std::mem::take(&mut self.dirty_notes);
        let mut add = self.tx.prepare_cached(
            "INSERT INTO note_fts(rowid, body)
             SELECT note_rowid, body FROM note_search_src WHERE note_rowid = ?1",
        )?;
        for rowid in notes {
            add.execute([rowid])?;
        }
        drop(add);
        Ok(())
    }
}
