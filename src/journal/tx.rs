//! The write transaction and its primitive changes.
//!
//! Each public method here is one change a sync log can describe: create an
//! entity, set one field, link or unlink a tag. Higher-level operations
//! (clip, tag, remove) are built from them and never touch rows directly.
//!
//! The full-text index is an external-content index over views, so an
//! entry can only be removed with the exact values it was indexed with. A
//! change therefore first "touches" the article or note, which removes its
//! entry while the rows still hold the old values, and the entry is written
//! again from the new values at commit.

use std::collections::BTreeSet;

use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::query::{ArticleRef, NoteRef};
use crate::content::Content;
use crate::error::Result;
use crate::time::Timestamp;

/// The article fields that can be set after creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArticleField {
    Title,
    Url,
    Site,
    Author,
    Lang,
    PublishedAt,
    ContentHash,
    DeletedAt,
}

impl ArticleField {
    fn column(self) -> &'static str {
        match self {
            ArticleField::Title => "title",
            ArticleField::Url => "url",
            ArticleField::Site => "site",
            ArticleField::Author => "author",
            ArticleField::Lang => "lang",
            ArticleField::PublishedAt => "published_at",
            ArticleField::ContentHash => "content_hash",
            ArticleField::DeletedAt => "deleted_at",
        }
    }

    /// Whether the full-text index reads this field.
    fn indexed(self) -> bool {
        matches!(self, ArticleField::Title | ArticleField::ContentHash)
    }
}

/// The note fields that can be set after creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteField {
    Body,
    DeletedAt,
}

impl NoteField {
    fn column(self) -> &'static str {
        match self {
            NoteField::Body => "body",
            NoteField::DeletedAt => "deleted_at",
        }
    }
}

/// What a new article row holds besides its id and times.
#[derive(Debug, Clone, Default)]
pub struct ArticleRow {
    pub title: String,
    pub url: Option<String>,
    pub site: Option<String>,
    pub author: Option<String>,
    pub lang: Option<String>,
    pub published_at: Option<Timestamp>,
    pub content_hash: String,
}

pub struct Tx<'c> {
    tx: Transaction<'c>,
    now: Timestamp,
    dirty_articles: BTreeSet<i64>,
    dirty_notes: BTreeSet<i64>,
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl<'c> Tx<'c> {
    pub(super) fn new(tx: Transaction<'c>, now: Timestamp) -> Tx<'c> {
        Tx {
            tx,
            now,
            dirty_articles: BTreeSet::new(),
            dirty_notes: BTreeSet::new(),
        }
    }

    /// The moment this transaction records as "now".
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Read access inside the transaction, for lookups.
    pub(crate) fn conn(&self) -> &Connection {
        &self.tx
    }

    pub(super) fn commit(mut self) -> Result<()> {
        let articles = std::mem::take(&mut self.dirty_articles);
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
        self.tx.commit()?;
        Ok(())
    }

    /// Takes the article out of the index until commit; see the module doc.
    fn touch_article(&mut self, rowid: i64) -> Result<()> {
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

    fn touch_note(&mut self, rowid: i64) -> Result<()> {
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

    /// Marks the article as changed now (its tags, URLs or notes changed).
    fn bump(&mut self, article: &ArticleRef) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE articles SET updated_at = ?1 WHERE rowid = ?2")?
            .execute(params![self.now, article.rowid])?;
        Ok(())
    }

    /// Stores a text under its hash. Returns false when it was already there.
    pub(crate) fn put_text(&mut self, content: &Content) -> Result<bool> {
        let stored: Option<Value> = self
            .tx
            .prepare_cached("SELECT body FROM texts WHERE hash = ?1")?
            .query_row([&content.hash], |r| r.get(0))
            .optional()?;
        if let Some(stored) = stored {
            // A stored text that no longer matches its hash (damaged on
            // disk) is healed by clipping the same text again.
            let intact = super::codec::decode((&stored).into())
                .is_ok_and(|body| crate::content::hash_normalized(&body) == content.hash);
            if !intact {
                self.tx
                    .prepare_cached("UPDATE texts SET body = ?1 WHERE hash = ?2")?
                    .execute(params![super::codec::encode(&content.text)?, content.hash])?;
            }
            return Ok(false);
        }
        self.tx
            .prepare_cached(
                "INSERT INTO texts(hash, body, word_count, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                content.hash,
                super::codec::encode(&content.text)?,
                content.word_count,
                self.now
            ])?;
        Ok(true)
    }

    pub(crate) fn create_article(&mut self, row: &ArticleRow) -> Result<ArticleRef> {
        let id = new_id();
        self.tx
            .prepare_cached(
                "INSERT INTO articles(id, title, url, site, author, lang, published_at,
                                      content_hash, clipped_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
            )?
            .execute(params![
                id,
                row.title,
                row.url,
                row.site,
                row.author,
                row.lang,
                row.published_at,
                row.content_hash,
                self.now
            ])?;
        let rowid = self.tx.last_insert_rowid();
        // Nothing to remove from the index for a new row; index it at commit.
        self.dirty_articles.insert(rowid);
        Ok(ArticleRef { rowid, id })
    }

    pub(crate) fn set_article(
        &mut self,
        article: &ArticleRef,
        field: ArticleField,
        value: Value,
    ) -> Result<()> {
        if field.indexed() {
            self.touch_article(article.rowid)?;
        }
        let sql = format!(
            "UPDATE articles SET {} = ?1, updated_at = ?2 WHERE rowid = ?3",
            field.column()
        );
        self.tx
            .prepare_cached(&sql)?
            .execute(params![value, self.now, article.rowid])?;
        Ok(())
    }

    /// Records a source URL of the article. Returns false if it had it.
    pub(crate) fn add_url(&mut self, article: &ArticleRef, url: &str) -> Result<bool> {
        let n = self
            .tx
            .prepare_cached(
                "INSERT INTO article_urls(id, article_id, url, added_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(article_id, url) DO NOTHING",
            )?
            .execute(params![new_id(), article.id, url, self.now])?;
        if n == 1 {
            self.bump(article)?;
        }
        Ok(n == 1)
    }

    pub(crate) fn create_version(&mut self, article: &ArticleRef, hash: &str) -> Result<String> {
        let id = new_id();
        self.tx
            .prepare_cached(
                "INSERT INTO versions(id, article_id, content_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![id, article.id, hash, self.now])?;
        Ok(id)
    }

    /// Links a (normalised) tag. Returns false if the article had it.
    pub(crate) fn link_tag(&mut self, article: &ArticleRef, tag: &str) -> Result<bool> {
        let exists = self
            .tx
            .prepare_cached("SELECT 1 FROM article_tags WHERE article_id = ?1 AND tag = ?2")?
            .query_row(params![article.id, tag], |_| Ok(()))
            .optional()?
            .is_some();
        if exists {
            return Ok(false);
        }
        self.touch_article(article.rowid)?;
        self.tx
            .prepare_cached(
                "INSERT INTO article_tags(id, article_id, tag, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![new_id(), article.id, tag, self.now])?;
        self.bump(article)?;
        Ok(true)
    }

    /// Unlinks a tag. Returns false if the article did not have it.
    pub(crate) fn unlink_tag(&mut self, article: &ArticleRef, tag: &str) -> Result<bool> {
        let exists = self
            .tx
            .prepare_cached("SELECT 1 FROM article_tags WHERE article_id = ?1 AND tag = ?2")?
            .query_row(params![article.id, tag], |_| Ok(()))
            .optional()?
            .is_some();
        if !exists {
            return Ok(false);
        }
        self.touch_article(article.rowid)?;
        self.tx
            .prepare_cached("DELETE FROM article_tags WHERE article_id = ?1 AND tag = ?2")?
            .execute(params![article.id, tag])?;
        self.bump(article)?;
        Ok(true)
    }

    /// Creates a note on an article, or a free-standing one.
    pub(crate) fn create_note(
        &mut self,
        article: Option<&ArticleRef>,
        body: &str,
    ) -> Result<NoteRef> {
        if let Some(a) = article {
            self.touch_article(a.rowid)?;
        }
        let id = new_id();
        self.tx
            .prepare_cached(
                "INSERT INTO notes(id, article_id, body, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)",
            )?
            .execute(params![id, article.map(|a| &a.id), body, self.now])?;
        let rowid = self.tx.last_insert_rowid();
        self.dirty_notes.insert(rowid);
        if let Some(a) = article {
            self.bump(a)?;
        }
        Ok(NoteRef {
            rowid,
            id,
            article: article.cloned(),
        })
    }

    pub(crate) fn set_note(
        &mut self,
        note: &NoteRef,
        field: NoteField,
        value: Value,
    ) -> Result<()> {
        match &note.article {
            Some(a) => self.touch_article(a.rowid)?,
            None => self.touch_note(note.rowid)?,
        }
        let sql = format!(
            "UPDATE notes SET {} = ?1, updated_at = ?2 WHERE rowid = ?3",
            field.column()
        );
        self.tx
            .prepare_cached(&sql)?
            .execute(params![value, self.now, note.rowid])?;
        if let Some(a) = &note.article {
            self.bump(a)?;
        }
        Ok(())
    }
}
