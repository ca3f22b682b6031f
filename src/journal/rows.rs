//! The primitive changes to rows: create an entity, set one of its fields,
//! link or unlink a tag, store a text. Each is one change the change log
//! can describe, and each row of an entity is inserted, and each field
//! updated, by the one statement [`crate::entity`]'s description makes for
//! it, whether the change is typed here, imported or pulled from another
//! device.

use std::sync::OnceLock;

use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension};

use super::query::{ArticleRef, NoteRef};
use super::tx::Tx;
use crate::content::Content;
use crate::entity::{fields, Entity, Field, Storage};
use crate::error::Result;
use crate::sync::{tag_link_id, Change};
use crate::time::Timestamp;

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
    /// When it was clipped, when not now (an import keeps the time a
    /// bookmark was saved).
    pub clipped_at: Option<Timestamp>,
    pub read_at: Option<Timestamp>,
    /// A copy kept apart (`nj clip --separate`).
    pub kept_apart: bool,
}

/// The id of the article a row belongs to, or nothing.
pub(super) fn article_id(article: Option<&ArticleRef>) -> Value {
    article.map_or(Value::Null, |a| Value::Text(a.id.clone()))
}

/// The id of the copy of `article` found at `url` with this text.
fn copy_id(article: &str, url: Option<&str>, hash: &str) -> String {
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6e6a_636f_7079_4d1e_9b2a_40c7_58e3_d2a9);
    let url = url.unwrap_or("");
    let name = format!("{}:{article}{}:{url}{hash}", article.len(), url.len());
    crate::sync::uuid_v5(&NAMESPACE, name.as_bytes())
}

/// A text, or nothing.
pub(super) fn text(v: &Option<String>) -> Value {
    v.clone().map(Value::Text).unwrap_or(Value::Null)
}

/// A time, or nothing.
pub(super) fn time(t: Option<Timestamp>) -> Value {
    t.map(|t| Value::Integer(t.0)).unwrap_or(Value::Null)
}

/// The values of every field of `entity`, in [`Entity::fields`] order (for
/// an entity kept as rows, its columns'), from the ones a write gives; a
/// field it does not name has its default ([`missing`]).
pub(super) fn in_field_order(
    entity: Entity,
    given: impl IntoIterator<Item = (Field, Value)>,
) -> Vec<Value> {
    let fields = entity.fields();
    let mut values: Vec<Value> = fields.iter().map(missing).collect();
    for (f, v) in given {
        if let Some(i) = fields.iter().position(|c| c.name == f.name) {
            values[i] = v;
        }
    }
    values
}

/// What a creation that leaves `field` out stores: its default, or NULL.
fn missing(field: &Field) -> Value {
    field
        .default
        .map_or(Value::Null, |d| Value::Text(d.to_owned()))
}

/// The statement that inserts a row of an entity kept as rows: its id,
/// every column in [`Entity::columns`] order, and `updated_at` where the
/// entity keeps one. A plain INSERT: every caller knows the id is new (a
/// new id, an imported one looked up first, a pulled creation whose row
/// was not found), so a duplicate is a fault to report, not a row to
/// leave out without a word.
fn insert_sql(entity: Entity) -> &'static str {
    static SQL: [OnceLock<String>; Entity::ALL.len()] =
        [const { OnceLock::new() }; Entity::ALL.len()];
    let i = Entity::ALL
        .iter()
        .position(|e| *e == entity)
        .expect("a known entity");
    SQL[i].get_or_init(|| {
        let table = entity.table().expect("a known entity");
        let mut columns = vec!["id"];
        columns.extend(entity.columns().iter().map(|f| f.name));
        if entity.tracks_updates() {
            columns.push("updated_at");
        }
        let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
        format!(
            "INSERT INTO {table}({}) VALUES ({})",
            columns.join(", "),
            marks.join(", ")
        )
    })
}

/// Inserts a row of `entity` with `values` in column order (and
/// `updated_at`, for an entity that keeps it). Returns its rowid.
pub(super) fn insert_row(
    conn: &Connection,
    entity: Entity,
    id: &str,
    values: &[Value],
    updated_at: i64,
) -> Result<i64> {
    debug_assert_eq!(entity.storage(), Storage::Rows);
    let mut stmt = conn.prepare_cached(insert_sql(entity))?;
    let id = Value::Text(id.to_owned());
    let updated = entity
        .tracks_updates()
        .then_some(Value::Integer(updated_at));
    let all = std::iter::once(&id).chain(values).chain(updated.as_ref());
    stmt.execute(rusqlite::params_from_iter(all))?;
    Ok(conn.last_insert_rowid())
}

/// When an update moves a row's `updated_at`.
#[derive(Debug, Clone, Copy)]
pub(super) enum Updated {
    /// To the time of this change (`?3`).
    At,
    /// To the time of a change from another device (`?3`), unless the row
    /// has a later one: every device then agrees.
    AtLeast,
}

/// The statement that sets `field` (`?1`) of the row with rowid `?2`.
pub(super) fn update_sql(field: Field, updated: Updated) -> String {
    let table = field.entity.table().expect("a known entity");
    let bump = match (field.entity.tracks_updates(), updated) {
        (false, _) => "",
        (true, Updated::At) => ", updated_at = ?3",
        (true, Updated::AtLeast) => ", updated_at = max(updated_at, ?3)",
    };
    format!(
        "UPDATE {table} SET {} = ?1{bump} WHERE rowid = ?2",
        field.name
    )
}

/// Refuses a text over its field's cap.
fn check_cap(field: Field, value: &Value) -> Result<()> {
    match value {
        Value::Text(t) => field.cap.check(t),
        _ => Ok(()),
    }
}

/// The statement that links a tag, and the one that adds a source URL: a
/// link that is there already is left as it is.
pub(super) const INSERT_TAG_LINK: &str =
    "INSERT INTO article_tags(article_seq, tag, created_at) VALUES (?1, ?2, ?3)
     ON CONFLICT(article_seq, tag) DO NOTHING";
pub(super) const DELETE_TAG_LINK: &str =
    "DELETE FROM article_tags WHERE article_seq = ?1 AND tag = ?2";
pub(super) const HAS_TAG_LINK: &str =
    "SELECT 1 FROM article_tags WHERE article_seq = ?1 AND tag = ?2";
pub(super) const INSERT_URL_LINK: &str =
    "INSERT INTO article_urls(article_seq, url, added_at) VALUES (?1, ?2, ?3)
     ON CONFLICT(article_seq, url) DO NOTHING";
/// A source URL as another device's creation of it gives it, once that
/// creation has won the merge: two devices that add the same URL to an
/// article at once make the same link (its id comes from the two), and
/// the row takes the winner's time whichever arrived first.
pub(super) const MERGE_URL_LINK: &str =
    "INSERT INTO article_urls(article_seq, url, added_at) VALUES (?1, ?2, ?3)
     ON CONFLICT(article_seq, url) DO UPDATE SET added_at = excluded.added_at
     WHERE added_at IS NOT excluded.added_at";

impl Tx<'_> {
    /// Creates a row of `entity` from the values given for its fields,
    /// each text within its cap, and logs the creation. Returns its rowid.
    pub(super) fn create_row(
        &mut self,
        entity: Entity,
        id: &str,
        given: impl IntoIterator<Item = (Field, Value)>,
        updated_at: Timestamp,
    ) -> Result<i64> {
        let values = in_field_order(entity, given);
        for (f, v) in entity.fields().iter().zip(&values) {
            check_cap(*f, v)?;
        }
        self.insert_logged(entity, id, &values, updated_at)
    }

    /// [`Tx::create_row`] for a row restored from an export as it was: what
    /// a journal holds already (from before a cap, or from another device,
    /// whose changes are never capped) comes back whole.
    pub(super) fn restore_row(
        &mut self,
        entity: Entity,
        id: &str,
        given: impl IntoIterator<Item = (Field, Value)>,
        updated_at: Timestamp,
    ) -> Result<i64> {
        let values = in_field_order(entity, given);
        self.insert_logged(entity, id, &values, updated_at)
    }

    fn insert_logged(
        &mut self,
        entity: Entity,
        id: &str,
        values: &[Value],
        updated_at: Timestamp,
    ) -> Result<i64> {
        let rowid = insert_row(&self.tx, entity, id, values, updated_at.0)?;
        self.log_create(entity, id, values)?;
        Ok(rowid)
    }

    /// Sets one field of a row, marks the row changed now and logs the
    /// change. Whoever takes the value from the user checks its cap.
    pub(super) fn set_row_field(
        &mut self,
        id: &str,
        rowid: i64,
        field: Field,
        value: Value,
    ) -> Result<()> {
        let mut stmt = self.tx.prepare_cached(&update_sql(field, Updated::At))?;
        if field.entity.tracks_updates() {
            stmt.execute(params![value, rowid, self.now])?;
        } else {
            stmt.execute(params![value, rowid])?;
        }
        drop(stmt);
        self.log_set(field.entity, id, field.name, &value)
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
        let now = self.now;
        self.put_text_packed(content, None, now)
    }

    /// [`Tx::put_text`] with the text's stored form already made (`frame`,
    /// a zstd frame of it, as a synced or imported text arrives), so it is
    /// not compressed again, dated `at` when it is new.
    pub(crate) fn put_text_packed(
        &mut self,
        content: &Content,
        frame: Option<Vec<u8>>,
        at: Timestamp,
    ) -> Result<bool> {
        // Called once, on whichever path stores the text.
        let encoded = move |text: &str| -> Result<Value> {
            match frame {
                Some(f) => Ok(Value::Blob(f)),
                None => super::codec::encode(text),
            }
        };
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
                    .execute(params![encoded(&content.text)?, content.hash])?;
            }
            return Ok(false);
        }
        self.tx
            .prepare_cached(
                "INSERT INTO texts(hash, body, word_count, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                content.hash,
                encoded(&content.text)?,
                content.word_count,
                at
            ])?;
        Ok(true)
    }

    pub(crate) fn create_article(&mut self, row: &ArticleRow) -> Result<ArticleRef> {
        use fields::article as a;
        let id = self.next_id();
        let clipped_at = row.clipped_at.unwrap_or(self.now);
        let now = self.now;
        let rowid = self.create_row(
            Entity::Article,
            &id,
            [
                (a::TITLE, Value::Text(row.title.clone())),
                (a::URL, text(&row.url)),
                (a::SITE, text(&row.site)),
                (a::AUTHOR, text(&row.author)),
                (a::LANG, text(&row.lang)),
                (a::PUBLISHED_AT, time(row.published_at)),
                (a::CONTENT_HASH, Value::Text(row.content_hash.clone())),
                (a::CLIPPED_AT, Value::Integer(clipped_at.0)),
                (a::DELETED_AT, Value::Null),
                (a::READ_AT, time(row.read_at)),
                (
                    a::KEPT_APART,
                    if row.kept_apart {
                        Value::Integer(1)
                    } else {
                        Value::Null
                    },
                ),
            ],
            now,
        )?;
        self.index_created_article(rowid);
        Ok(ArticleRef { rowid, id })
    }

    /// Sets one field of an article (a field of [`fields::article`]).
    pub(crate) fn set_article(
        &mut self,
        article: &ArticleRef,
        field: Field,
        value: Value,
    ) -> Result<()> {
        debug_assert_eq!(field.entity, Entity::Article);
        check_cap(field, &value)?;
        if field.indexed {
            self.touch_article(article.rowid)?;
        }
        self.set_row_field(&article.id, article.rowid, field, value)
    }

    /// Records a source URL of the article. Returns false if it had it.
    pub(crate) fn add_url(&mut self, article: &ArticleRef, url: &str) -> Result<bool> {
        let added = self.insert_url(article, url, self.now)?;
        if added {
            self.bump(article)?;
        }
        Ok(added)
    }

    /// [`Tx::add_url`] recorded as added at `at`, without marking the
    /// article changed: an import restores both times as they were.
    pub(super) fn insert_url(
        &mut self,
        article: &ArticleRef,
        url: &str,
        at: Timestamp,
    ) -> Result<bool> {
        fields::url::URL.cap.check(url)?;
        let n =
            self.tx
                .prepare_cached(INSERT_URL_LINK)?
                .execute(params![article.rowid, url, at])?;
        if n == 1 {
            self.log_url_link(&article.id, url, at.0)?;
        }
        Ok(n == 1)
    }

    /// Records a syndicated copy folded into the article: where it came
    /// from and its text (stored already), as another of its sources.
    pub(crate) fn record_copy(
        &mut self,
        article: &ArticleRef,
        url: Option<&String>,
        hash: &str,
        at: Timestamp,
    ) -> Result<()> {
        use fields::copy as c;
        // The same on every device, so two that fold the same copy (after
        // a sync, each on its own) make one row.
        let id = copy_id(&article.id, url.map(String::as_str), hash);
        if self
            .conn()
            .prepare_cached("SELECT 1 FROM copies WHERE id = ?1")?
            .exists([&id])?
        {
            return Ok(());
        }
        self.create_row(
            Entity::Copy,
            &id,
            [
                (c::ARTICLE_ID, Value::Text(article.id.clone())),
                (c::URL, url.map_or(Value::Null, |u| Value::Text(u.clone()))),
                (c::CONTENT_HASH, Value::Text(hash.to_owned())),
                (c::CREATED_AT, Value::Integer(at.0)),
            ],
            self.now,
        )?;
        self.bump(article)
    }

    /// [`Tx::record_copy`] for each URL the copy was found at (one for a
    /// copy from a file or stdin, which has none): each is known as a
    /// copy's, so none of them ever gives the article a new version.
    pub(crate) fn record_copies(
        &mut self,
        article: &ArticleRef,
        urls: &[String],
        hash: &str,
        at: Timestamp,
    ) -> Result<()> {
        if urls.is_empty() {
            return self.record_copy(article, None, hash, at);
        }
        for url in urls {
            self.record_copy(article, Some(url), hash, at)?;
        }
        Ok(())
    }

    pub(crate) fn create_version(&mut self, article: &ArticleRef, hash: &str) -> Result<String> {
        let id = self.next_id();
        self.insert_version(article, &id, hash, self.now)?;
        Ok(id)
    }

    /// A version row with the given id and time (an import restores them).
    pub(super) fn insert_version(
        &mut self,
        article: &ArticleRef,
        id: &str,
        hash: &str,
        at: Timestamp,
    ) -> Result<()> {
        use fields::version as v;
        self.create_row(
            Entity::Version,
            id,
            [
                (v::ARTICLE_ID, Value::Text(article.id.clone())),
                (v::CONTENT_HASH, Value::Text(hash.to_owned())),
                (v::CREATED_AT, Value::Integer(at.0)),
            ],
            at,
        )?;
        Ok(())
    }

    /// Links a (normalised) tag. Returns false if the article had it.
    pub(crate) fn link_tag(&mut self, article: &ArticleRef, tag: &str) -> Result<bool> {
        let linked = self.insert_tag(article, tag, self.now)?;
        if linked {
            self.bump(article)?;
        }
        Ok(linked)
    }

    /// [`Tx::link_tag`] recorded as linked at `at`, without marking the
    /// article changed: an import restores both times as they were.
    pub(super) fn insert_tag(
        &mut self,
        article: &ArticleRef,
        tag: &str,
        at: Timestamp,
    ) -> Result<bool> {
        fields::tag::TAG.cap.check(tag)?;
        // An indexed article not yet touched in this transaction: a tag it
        // has already must not touch it, which would re-index it for
        // nothing (for every article of a re-imported file).
        if !self.index_deferred && !self.dirty_articles.contains(&article.rowid) {
            let exists = self
                .tx
                .prepare_cached(HAS_TAG_LINK)?
                .exists(params![article.rowid, tag])?;
            if exists {
                return Ok(false);
            }
        }
        // Touched first, while the index entry can still be removed with
        // the old tags.
        self.touch_article(article.rowid)?;
        let linked =
            self.tx
                .prepare_cached(INSERT_TAG_LINK)?
                .execute(params![article.rowid, tag, at])?
                == 1;
        if linked {
            self.log_tag_link(article, tag)?;
        }
        Ok(linked)
    }

    /// Links tags (normalised, without repeats) to an article this
    /// transaction created, in one statement: an import links a handful of
    /// tags to each of many bookmarks, and a statement per link was a
    /// measurable part of its time. (`OR IGNORE`, which changes nothing for
    /// new links, spares SQLite the statement journal that undoes a
    /// multi-row insert failing halfway.)
    pub(super) fn link_new_article_tags(
        &mut self,
        article: &ArticleRef,
        tags: &[String],
        at: Timestamp,
    ) -> Result<()> {
        if tags.is_empty() {
            return Ok(());
        }
        let json = serde_json::to_string(tags).map_err(|e| crate::Error::Other(e.into()))?;
        self.tx
            .prepare_cached(
                "INSERT OR IGNORE INTO article_tags(article_seq, tag, created_at)
                 SELECT ?1, value, ?2 FROM json_each(?3)",
            )?
            .execute(params![article.rowid, at, json])?;
        for tag in tags {
            self.log_tag_link(article, tag)?;
        }
        Ok(())
    }

    /// Unlinks a tag. Returns false if the article did not have it.
    pub(crate) fn unlink_tag(&mut self, article: &ArticleRef, tag: &str) -> Result<bool> {
        let exists = self
            .tx
            .prepare_cached(HAS_TAG_LINK)?
            .exists(params![article.rowid, tag])?;
        if !exists {
            return Ok(false);
        }
        self.touch_article(article.rowid)?;
        self.tx
            .prepare_cached(DELETE_TAG_LINK)?
            .execute(params![article.rowid, tag])?;
        self.bump(article)?;
        let change = Change::Unlink {
            article_id: article.id.clone(),
            tag: tag.to_owned(),
        };
        self.log_op(Entity::Tag, &tag_link_id(&article.id, tag), change)?;
        Ok(true)
    }

    /// Creates a note on an article, or a free-standing one.
    pub(crate) fn create_note(
        &mut self,
        article: Option<&ArticleRef>,
        body: &str,
    ) -> Result<NoteRef> {
        use fields::note as n;
        let now = self.now;
        let id = self.next_id();
        let note = self.insert_note(
            article,
            &id,
            [
                (n::ARTICLE_ID, article_id(article)),
                (n::BODY, Value::Text(body.to_owned())),
                (n::CREATED_AT, Value::Integer(now.0)),
            ],
            now,
        )?;
        if let Some(a) = article {
            self.bump(a)?;
        }
        Ok(note)
    }

    /// Inserts a note row with the values given (an import restores its id
    /// and times), without marking its article changed.
    pub(super) fn insert_note(
        &mut self,
        article: Option<&ArticleRef>,
        id: &str,
        values: impl IntoIterator<Item = (Field, Value)>,
        updated_at: Timestamp,
    ) -> Result<NoteRef> {
        if let Some(a) = article {
            self.touch_article(a.rowid)?;
        }
        let rowid = self.create_row(Entity::Note, id, values, updated_at)?;
        self.index_new_note(rowid);
        Ok(NoteRef {
            rowid,
            id: id.to_owned(),
            article: article.cloned(),
        })
    }

    /// Sets one field of a note (a field of [`fields::note`]).
    pub(crate) fn set_note(&mut self, note: &NoteRef, field: Field, value: Value) -> Result<()> {
        debug_assert_eq!(field.entity, Entity::Note);
        match &note.article {
            Some(a) => self.touch_article(a.rowid)?,
            None => self.touch_note(note.rowid)?,
        }
        if field == fields::note::ARTICLE_ID {
            self.touch_note_moving(note.rowid, &value)?;
        }
        self.set_row_field(&note.id, note.rowid, field, value)?;
        if let Some(a) = &note.article {
            self.bump(a)?;
        }
        Ok(())
    }
}
