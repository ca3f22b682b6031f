//! The journal as plain records, and back: what export writes and import
//! reads.
//!
//! A record holds an entity with everything it owns (an article with its
//! URLs, tags, versions and their texts, notes and follow-ups), with the
//! ids and times it has in the journal, so reading a journal out and
//! restoring it into an empty one gives the same journal. The serde field
//! names are newsjournal's JSON export format, version 1
//! ([`FORMAT_VERSION`]): renaming one breaks every file already exported,
//! so add fields instead.
//!
//! Restoring goes through [`Tx`] like every other write, so the search
//! index is kept and, when sync is on, each row is also recorded as an
//! operation. It never overwrites what the journal already holds: a record
//! whose article is already there only adds what that article lacks.

use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::query::{normalize_tag, ArticleRef};
use super::rows::{text, time, NoteRow};
use super::{Journal, Tx};
use crate::content::{Content, EMPTY_HASH};
use crate::entity::fields::article;
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::time::Timestamp;

/// The version of the JSON export format these records make.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleRecord {
    pub id: String,
    pub title: String,
    /// The preferred (canonical) source URL.
    pub url: Option<String>,
    pub site: Option<String>,
    pub author: Option<String>,
    pub lang: Option<String>,
    #[serde(default, with = "time_opt")]
    pub published_at: Option<Timestamp>,
    /// The hash of the current text: one of `versions`.
    pub content_hash: String,
    #[serde(with = "time")]
    pub clipped_at: Timestamp,
    #[serde(with = "time")]
    pub updated_at: Timestamp,
    #[serde(default, with = "time_opt")]
    pub deleted_at: Option<Timestamp>,
    /// When it was read; absent while unread.
    #[serde(default, with = "time_opt", skip_serializing_if = "Option::is_none")]
    pub read_at: Option<Timestamp>,
    #[serde(default)]
    pub urls: Vec<UrlRecord>,
    #[serde(default)]
    pub tags: Vec<TagRecord>,
    /// Every text the article has had, oldest first. None for a pending
    /// article (a bookmark whose text is not fetched yet), whose
    /// `content_hash` is the empty text's.
    #[serde(default)]
    pub versions: Vec<VersionRecord>,
    #[serde(default)]
    pub notes: Vec<NoteRecord>,
    #[serde(default)]
    pub followups: Vec<FollowupRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UrlRecord {
    pub url: String,
    #[serde(with = "time")]
    pub added_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagRecord {
    pub tag: String,
    #[serde(with = "time")]
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionRecord {
    pub id: String,
    #[serde(with = "time")]
    pub created_at: Timestamp,
    pub hash: String,
    /// The normalised text whose hash is `hash`.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoteRecord {
    pub id: String,
    pub body: String,
    #[serde(with = "time")]
    pub created_at: Timestamp,
    #[serde(with = "time")]
    pub updated_at: Timestamp,
    #[serde(default, with = "time_opt")]
    pub deleted_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowupRecord {
    pub id: String,
    pub text: String,
    #[serde(with = "time")]
    pub due_at: Timestamp,
    /// The repeat interval (`1w`, `1mo`), if it repeats.
    pub every: Option<String>,
    /// `open` or `done`.
    pub status: String,
    #[serde(default, with = "time_opt")]
    pub done_at: Option<Timestamp>,
    #[serde(with = "time")]
    pub created_at: Timestamp,
    #[serde(with = "time")]
    pub updated_at: Timestamp,
    #[serde(default, with = "time_opt")]
    pub deleted_at: Option<Timestamp>,
}

/// One top-level record, in the order [`Journal::dump`] gives them: every
/// article, then the free-standing notes, then the free-standing
/// follow-ups.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Article(ArticleRecord),
    Note(NoteRecord),
    Followup(FollowupRecord),
}

/// What restoring one record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Restored {
    /// It was not in the journal and now is.
    Added,
    /// Its article was there; what it lacked (versions, URLs, tags, notes,
    /// follow-ups) was added.
    Updated,
    /// The journal already had all of it.
    Duplicate,
}

/// Times as RFC 3339 UTC to the millisecond, which is what the journal
/// stores, so they come back exactly. Integer milliseconds are read too.
mod time {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::time::Timestamp;

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&to_text(*t))
    }

    pub fn to_text(t: Timestamp) -> String {
        t.to_datetime()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Ms(i64),
        Text(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        match Either::deserialize(d)? {
            Either::Ms(ms) => Ok(Timestamp(ms)),
            Either::Text(s) => chrono::DateTime::parse_from_rfc3339(&s)
                .map(|t| Timestamp(t.timestamp_millis()))
                .map_err(|e| {
                    serde::de::Error::custom(format!(
                        "{s:?} is not an RFC 3339 time ({e}), such as 2026-11-26T09:00:00.000Z"
                    ))
                }),
        }
    }
}

mod time_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::time::Timestamp;

    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::time::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "super::time")] Timestamp);
        Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
    }
}

/// The JSON form of a time in the export format.
pub fn format_time(t: Timestamp) -> String {
    time::to_text(t)
}

impl Journal {
    /// Reads the whole journal as records, in a stable order (articles by
    /// clipping time, then id; what they own by creation time, then id), and
    /// hands each to `visit`. One read transaction, so the records are a
    /// consistent snapshot; one article at a time, so a large journal is
    /// never held in memory. Without `texts`, versions carry empty texts
    /// (for exports that do not need them: decompressing every text is most
    /// of the cost).
    pub fn dump(&self, texts: bool, mut visit: impl FnMut(Record) -> Result<()>) -> Result<()> {
        let conn = self.conn();
        let snapshot = conn.unchecked_transaction()?;
        let mut articles = conn.prepare(
            "SELECT rowid, id, title, url, site, author, lang, published_at, content_hash,
                    clipped_at, updated_at, deleted_at, read_at
               FROM articles ORDER BY clipped_at, id",
        )?;
        let mut rows = articles.query([])?;
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            let id: String = r.get(1)?;
            let mut article = ArticleRecord {
                title: r.get(2)?,
                url: r.get(3)?,
                site: r.get(4)?,
                author: r.get(5)?,
                lang: r.get(6)?,
                published_at: r.get(7)?,
                content_hash: r.get(8)?,
                clipped_at: r.get(9)?,
                updated_at: r.get(10)?,
                deleted_at: r.get(11)?,
                read_at: r.get(12)?,
                urls: Vec::new(),
                tags: Vec::new(),
                versions: versions(conn, &id, texts)?,
                notes: notes(conn, Some(&id))?,
                followups: followups(conn, Some(&id))?,
                id,
            };
            article.urls = conn
                .prepare_cached(
                    "SELECT url, added_at FROM article_urls WHERE article_seq = ?1
                      ORDER BY added_at, url",
                )?
                .query_map([seq], |r| {
                    Ok(UrlRecord {
                        url: r.get(0)?,
                        added_at: r.get(1)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            article.tags = conn
                .prepare_cached(
                    "SELECT tag, created_at FROM article_tags WHERE article_seq = ?1 ORDER BY tag",
                )?
                .query_map([seq], |r| {
                    Ok(TagRecord {
                        tag: r.get(0)?,
                        created_at: r.get(1)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            visit(Record::Article(article))?;
        }
        for note in notes(conn, None)? {
            visit(Record::Note(note))?;
        }
        for followup in followups(conn, None)? {
            visit(Record::Followup(followup))?;
        }
        drop(rows);
        drop(articles);
        snapshot.commit()?;
        Ok(())
    }

    /// Whether the journal holds no article, note or follow-up at all.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.conn().query_row(
            "SELECT NOT EXISTS (SELECT 1 FROM articles)
                AND NOT EXISTS (SELECT 1 FROM notes)
                AND NOT EXISTS (SELECT 1 FROM followups)",
            [],
            |r| r.get(0),
        )?)
    }
}

fn versions(conn: &Connection, article: &str, texts: bool) -> Result<Vec<VersionRecord>> {
    let sql = if texts {
        "SELECT v.id, v.created_at, v.content_hash, t.body
           FROM versions v JOIN texts t ON t.hash = v.content_hash
          WHERE v.article_id = ?1 ORDER BY v.created_at, v.id"
    } else {
        "SELECT v.id, v.created_at, v.content_hash, NULL
           FROM versions v WHERE v.article_id = ?1 ORDER BY v.created_at, v.id"
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query([article])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let text = match r.get_ref(3)? {
            rusqlite::types::ValueRef::Null => String::new(),
            body => super::codec::decode(body)?,
        };
        out.push(VersionRecord {
            id: r.get(0)?,
            created_at: r.get(1)?,
            hash: r.get(2)?,
            text,
        });
    }
    Ok(out)
}

fn notes(conn: &Connection, article: Option<&str>) -> Result<Vec<NoteRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, body, created_at, updated_at, deleted_at FROM notes
          WHERE article_id IS ?1 ORDER BY created_at, id",
    )?;
    let rows = stmt
        .query_map([article], |r| {
            Ok(NoteRecord {
                id: r.get(0)?,
                body: r.get(1)?,
                created_at: r.get(2)?,
                updated_at: r.get(3)?,
                deleted_at: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

fn followups(conn: &Connection, article: Option<&str>) -> Result<Vec<FollowupRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, text, due_at, every, status, done_at, created_at, updated_at, deleted_at
           FROM followups WHERE article_id IS ?1 ORDER BY created_at, id",
    )?;
    let rows = stmt
        .query_map([article], |r| {
            Ok(FollowupRecord {
                id: r.get(0)?,
                text: r.get(1)?,
                due_at: r.get(2)?,
                every: r.get(3)?,
                status: r.get(4)?,
                done_at: r.get(5)?,
                created_at: r.get(6)?,
                updated_at: r.get(7)?,
                deleted_at: r.get(8)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Why a record cannot be restored, said so the user can fix the file.
fn invalid(what: String) -> Error {
    Error::BadInput(what)
}

/// Ids are UUIDs written the one way nj writes them, so an id prefix finds
/// them and an export gives them back as they came.
fn check_id(kind: &str, id: &str) -> Result<()> {
    match uuid::Uuid::parse_str(id) {
        Ok(u) if u.hyphenated().to_string() == id => Ok(()),
        _ => Err(invalid(format!(
            "{kind} id {id:?} is not a lower-case UUID such as 3fa9c1d2-0000-4000-8000-000000000001"
        ))),
    }
}

fn check_note(n: &NoteRecord) -> Result<()> {
    check_id("note", &n.id)?;
    if n.body.trim().is_empty() {
        return Err(invalid(format!("note {} has no text", n.id)));
    }
    Ok(())
}

fn check_followup(f: &FollowupRecord) -> Result<()> {
    check_id("follow-up", &f.id)?;
    if f.text.trim().is_empty() {
        return Err(invalid(format!("follow-up {} has no text", f.id)));
    }
    if !matches!(f.status.as_str(), "open" | "done") {
        return Err(invalid(format!(
            "follow-up {} has status {:?}; it must be \"open\" or \"done\"",
            f.id, f.status
        )));
    }
    if let Some(every) = &f.every {
        crate::time::Interval::parse(every).map_err(|_| {
            invalid(format!(
                "follow-up {} repeats every {every:?}, which is not an interval such as 1w or 1mo",
                f.id
            ))
        })?;
    }
    Ok(())
}

/// An article record checked whole, with each version's text made ready
/// to store (normalised, hashed and compressed), before anything is
/// written: a bad record is rejected without leaving half of it behind,
/// and the costly part can run on another thread than the writer.
pub struct PreparedArticle {
    record: ArticleRecord,
    /// Each version's text and its stored form, in `record.versions`'
    /// order (whose `text`s are moved here).
    texts: Vec<(Content, Option<Vec<u8>>)>,
}

impl PreparedArticle {
    /// Checks `record`; a record that cannot be restored is an
    /// [`Error::BadInput`] saying why. The texts are packed here, so that
    /// a thread beside the writing one does it.
    pub fn new(mut record: ArticleRecord) -> Result<PreparedArticle> {
        let a = &mut record;
        check_id("article", &a.id)?;
        if a.title.trim().is_empty() {
            return Err(invalid(format!("article {} has no title", a.id)));
        }
        if a.versions.is_empty() && a.content_hash != EMPTY_HASH {
            return Err(invalid(format!(
                "article {} has no versions, so it has no text",
                a.id
            )));
        }
        let mut texts = Vec::with_capacity(a.versions.len());
        for v in &mut a.versions {
            check_id("version", &v.id)?;
            let content = Content::from_text(std::mem::take(&mut v.text));
            if content.is_empty() {
                return Err(invalid(format!("version {} has no text", v.id)));
            }
            if content.hash != v.hash {
                return Err(invalid(format!(
                    "the text of version {} does not match its hash {} (it hashes to {}); the file was changed or damaged",
                    v.id, v.hash, content.hash
                )));
            }
            let frame = super::codec::pack(&content.text)?;
            texts.push((content, frame));
        }
        if !a.versions.is_empty() && !a.versions.iter().any(|v| v.hash == a.content_hash) {
            return Err(invalid(format!(
                "article {}'s current text {} is none of its versions",
                a.id, a.content_hash
            )));
        }
        for n in &a.notes {
            check_note(n)?;
        }
        for f in &a.followups {
            check_followup(f)?;
        }
        for t in &a.tags {
            if normalize_tag(&t.tag).is_none() {
                return Err(invalid(format!(
                    "article {} has an empty tag or one with control characters",
                    a.id
                )));
            }
        }
        Ok(PreparedArticle { record, texts })
    }
}

impl Tx<'_> {
    fn exists(&self, table: &str, id: &str) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached(&format!("SELECT 1 FROM {table} WHERE id = ?1"))?
            .exists([id])?)
    }

    /// Whether the text with this hash is stored.
    fn exists_text(&self, hash: &str) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached("SELECT 1 FROM texts WHERE hash = ?1")?
            .exists([hash])?)
    }

    fn article_ref(&self, id: &str) -> Result<Option<ArticleRef>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT rowid FROM articles WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?
            .map(|rowid| ArticleRef {
                rowid,
                id: id.to_owned(),
            }))
    }

    /// Restores an article record. An article already in the journal (the
    /// same id; or, when `by_content`, one clipped from the same URL or
    /// holding the same current text) only gets what it lacks; otherwise
    /// the article is created with the record's ids and times. A record
    /// that cannot be restored is an [`Error::BadInput`] saying why, and
    /// writes nothing.
    pub fn import_article(
        &mut self,
        prepared: PreparedArticle,
        by_content: bool,
    ) -> Result<Restored> {
        let PreparedArticle { record, texts } = prepared;
        let a = &record;
        let mut existing = self.article_ref(&a.id)?;
        if existing.is_none() && by_content {
            let urls: Vec<String> = a
                .url
                .iter()
                .chain(a.urls.iter().map(|u| &u.url))
                .map(|u| crate::urls::normalize_url(u).unwrap_or_else(|| u.clone()))
                .collect();
            existing = match super::article::find_by_url(self.conn(), &urls)? {
                Some(found) => Some(found),
                None => super::article::find_by_hash(self.conn(), &a.content_hash)?,
            };
        }
        let Some(article) = existing else {
            self.insert_article(a, texts)?;
            return Ok(Restored::Added);
        };
        // Merge into the article that is there.
        let mut changed = false;
        let known: Vec<String> = self
            .conn()
            .prepare_cached("SELECT content_hash FROM versions WHERE article_id = ?1")?
            .query_map([&article.id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for (v, (content, frame)) in a.versions.iter().zip(texts) {
            if known.contains(&v.hash) || self.exists("versions", &v.id)? {
                continue;
            }
            self.put_text_packed(&content, frame, v.created_at)?;
            self.insert_version(&article, &v.id, &v.hash, v.created_at)?;
            changed = true;
        }
        // A pending bookmark (no text yet) that the record has the text of
        // takes it as its current text, as `nj fetch` would give it: the
        // current hash, the search entry, a real title for one titled by
        // its address, and no remembered fetch failure. Without this the
        // article held versions yet stayed pending.
        let here = super::query::article_by_rowid(self.conn(), article.rowid)?;
        if here.pending
            && a.content_hash != EMPTY_HASH
            && a.versions.iter().any(|v| v.hash == a.content_hash)
            && self.exists_text(&a.content_hash)?
        {
            self.set_article(
                &article,
                article::CONTENT_HASH,
                a.content_hash.clone().into(),
            )?;
            if super::bookmark::has_placeholder_title(&here) && here.title != a.title {
                self.set_article(&article, article::TITLE, a.title.clone().into())?;
            }
            self.forget_fetch_failure(&article.id)?;
            changed = true;
        }
        // Metadata the article lacks comes from the record.
        changed |= self.fill_metadata(
            &article,
            &here,
            [&a.site, &a.author, &a.lang],
            a.published_at,
        )?;
        for u in &a.urls {
            changed |= self.insert_url(&article, &u.url, u.added_at)?;
        }
        // As a clip does: an article without a preferred URL takes one.
        let url: Option<String> = self
            .conn()
            .prepare_cached("SELECT url FROM articles WHERE rowid = ?1")?
            .query_row([article.rowid], |r| r.get(0))?;
        if let (None, Some(new)) = (url, &a.url) {
            self.set_article(&article, article::URL, Value::Text(new.clone()))?;
            changed = true;
        }
        for t in &a.tags {
            changed |= self.restore_tag(&article, t)?;
        }
        // Read on the other journal: read here too (never the reverse).
        if let Some(read) = a.read_at {
            let unread = self
                .conn()
                .prepare_cached("SELECT read_at IS NULL FROM articles WHERE rowid = ?1")?
                .query_row([article.rowid], |r| r.get::<_, bool>(0))?;
            if unread {
                self.set_article(&article, article::READ_AT, Value::Integer(read.0))?;
                changed = true;
            }
        }
        for n in &a.notes {
            if !self.exists("notes", &n.id)? {
                self.restore_note_record(Some(&article), n)?;
                changed = true;
            }
        }
        for f in &a.followups {
            if !self.exists("followups", &f.id)? {
                self.insert_followup(Some(&article), f)?;
                changed = true;
            }
        }
        if !changed {
            return Ok(Restored::Duplicate);
        }
        let now = self.now();
        self.conn()
            .prepare_cached(
                "UPDATE articles SET updated_at = max(updated_at, ?1) WHERE rowid = ?2",
            )?
            .execute(params![now, article.rowid])?;
        Ok(Restored::Updated)
    }

    /// Restores a free-standing note; one with the same id is a duplicate.
    pub fn import_note(&mut self, n: &NoteRecord) -> Result<Restored> {
        check_note(n)?;
        if self.exists("notes", &n.id)? {
            return Ok(Restored::Duplicate);
        }
        self.restore_note_record(None, n)?;
        Ok(Restored::Added)
    }

    /// Restores a free-standing follow-up; one with the same id is a
    /// duplicate.
    pub fn import_followup(&mut self, f: &FollowupRecord) -> Result<Restored> {
        check_followup(f)?;
        if self.exists("followups", &f.id)? {
            return Ok(Restored::Duplicate);
        }
        self.insert_followup(None, f)?;
        Ok(Restored::Added)
    }

    fn insert_article(
        &mut self,
        a: &ArticleRecord,
        texts: Vec<(Content, Option<Vec<u8>>)>,
    ) -> Result<()> {
        // The texts first: the article and its versions refer to them.
        for (v, (content, frame)) in a.versions.iter().zip(texts) {
            self.put_text_packed(&content, frame, v.created_at)?;
        }
        let rowid = self.restore_row(
            Entity::Article,
            &a.id,
            [
                (article::TITLE, Value::Text(a.title.clone())),
                (article::URL, text(&a.url)),
                (article::SITE, text(&a.site)),
                (article::AUTHOR, text(&a.author)),
                (article::LANG, text(&a.lang)),
                (article::PUBLISHED_AT, time(a.published_at)),
                (article::CONTENT_HASH, Value::Text(a.content_hash.clone())),
                (article::CLIPPED_AT, Value::Integer(a.clipped_at.0)),
                (article::DELETED_AT, time(a.deleted_at)),
                (article::READ_AT, time(a.read_at)),
            ],
            a.updated_at,
        )?;
        let article = ArticleRef {
            rowid,
            id: a.id.clone(),
        };
        self.index_new_article(article.rowid);
        for v in &a.versions {
            // A version id the journal has elsewhere cannot be restored as
            // it is; the article keeps its other versions.
            if !self.exists("versions", &v.id)? {
                self.insert_version(&article, &v.id, &v.hash, v.created_at)?;
            }
        }
        for u in &a.urls {
            self.insert_url(&article, &u.url, u.added_at)?;
        }
        for t in &a.tags {
            self.restore_tag(&article, t)?;
        }
        for n in &a.notes {
            if !self.exists("notes", &n.id)? {
                self.restore_note_record(Some(&article), n)?;
            }
        }
        for f in &a.followups {
            if !self.exists("followups", &f.id)? {
                self.insert_followup(Some(&article), f)?;
            }
        }
        Ok(())
    }

    fn restore_tag(&mut self, article: &ArticleRef, t: &TagRecord) -> Result<bool> {
        match normalize_tag(&t.tag) {
            Some(tag) => self.insert_tag(article, &tag, t.created_at),
            None => Ok(false),
        }
    }

    fn restore_note_record(&mut self, article: Option<&ArticleRef>, n: &NoteRecord) -> Result<()> {
        self.insert_note(
            article,
            &NoteRow {
                id: n.id.clone(),
                body: &n.body,
                created_at: n.created_at,
                updated_at: n.updated_at,
                deleted_at: n.deleted_at,
            },
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::Entity;

    fn keys(v: &serde_json::Value) -> std::collections::BTreeSet<String> {
        v.as_object().expect("a record").keys().cloned().collect()
    }

    /// The export writes each entity's fields: a field added to
    /// `crate::entity` without a place in the export fails here, naming
    /// it. The exceptions are the fields the file carries another way.
    #[test]
    fn every_field_of_every_entity_is_exported() {
        let t = Timestamp(1_764_000_000_000);
        let note = NoteRecord {
            id: "n".into(),
            body: "b".into(),
            created_at: t,
            updated_at: t,
            deleted_at: Some(t),
        };
        let followup = FollowupRecord {
            id: "f".into(),
            text: "t".into(),
            due_at: t,
            every: Some("1w".into()),
            status: "open".into(),
            done_at: Some(t),
            created_at: t,
            updated_at: t,
            deleted_at: Some(t),
        };
        let version = VersionRecord {
            id: "v".into(),
            created_at: t,
            hash: "h".into(),
            text: "x".into(),
        };
        let url = UrlRecord {
            url: "https://a.example/".into(),
            added_at: t,
        };
        let tag = TagRecord {
            tag: "courts".into(),
            created_at: t,
        };
        let article = ArticleRecord {
            id: "a".into(),
            title: "T".into(),
            url: Some("https://a.example/".into()),
            site: Some("s".into()),
            author: Some("w".into()),
            lang: Some("en".into()),
            published_at: Some(t),
            content_hash: "h".into(),
            clipped_at: t,
            updated_at: t,
            deleted_at: Some(t),
            read_at: Some(t),
            urls: vec![url.clone()],
            tags: vec![tag.clone()],
            versions: vec![version.clone()],
            notes: vec![note.clone()],
            followups: vec![followup.clone()],
        };
        for entity in Entity::ALL {
            let record = match entity {
                Entity::Article => serde_json::to_value(&article).unwrap(),
                Entity::Url => serde_json::to_value(&url).unwrap(),
                Entity::Tag => serde_json::to_value(&tag).unwrap(),
                Entity::Version => serde_json::to_value(&version).unwrap(),
                Entity::Note => serde_json::to_value(&note).unwrap(),
                Entity::Followup => serde_json::to_value(&followup).unwrap(),
                Entity::Unknown => unreachable!(),
            };
            let have = keys(&record);
            for field in entity.fields() {
                let carried_otherwise = match (entity, field.name) {
                    // By nesting: it is listed under its article.
                    (_, "article_id") => true,
                    // An exported tag is a linked one.
                    (Entity::Tag, "linked") => true,
                    // A version's text is in the file, under `hash`.
                    (Entity::Version, "content_hash") => have.contains("hash"),
                    _ => false,
                };
                assert!(
                    carried_otherwise || have.contains(field.name),
                    "the JSON export has no place for the {entity} field {}: add it to its record in src/journal/dump.rs",
                    field.name
                );
            }
        }
    }

    /// An export restores what the journal held, caps or not: a title from
    /// before the caps (or pulled from another device, never capped) came
    /// back as a rejected article.
    #[test]
    fn regression_an_export_with_a_title_over_the_cap_lost_the_article() {
        use crate::journal::{Journal, NewClip};
        let mut a = Journal::open_in_memory().unwrap();
        let clip = NewClip {
            content: Content::new("Harbour vote\n\nThe council voted."),
            title: "Harbour vote".into(),
            ..NewClip::default()
        };
        a.clip(Timestamp(1_000), &clip).unwrap();
        let long = "t".repeat(crate::limits::MAX_TITLE_BYTES + 100);
        a.conn()
            .execute("UPDATE articles SET title = ?1", [&long])
            .unwrap();
        let mut file = Vec::new();
        crate::export::json::write(&a, &mut file).unwrap();
        let mut b = Journal::open_in_memory().unwrap();
        let report =
            crate::import::newsjournal::import(&mut b, "export.json", &file[..], Timestamp(2_000))
                .unwrap();
        assert_eq!((report.added, report.rejected.len()), (1, 0), "{report:?}");
        let title: String = b
            .conn()
            .query_row("SELECT title FROM articles", [], |r| r.get(0))
            .unwrap();
        assert_eq!(title, long);
    }
}
