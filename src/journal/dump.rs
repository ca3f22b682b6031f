//! The journal as plain records, and back: what export writes and import
//! reads.
//!
//! A record holds an entity with everything it owns (an article with its
//! URLs, tags, versions and their texts, notes and follow-ups), with the
//! ids and times it has in the journal, so reading a journal out and
//! restoring it into an empty one gives the same journal. The keys and
//! values of each record come from its entity's description
//! ([`crate::entity`]), and they are newsjournal's JSON export format
//! ([`FORMAT_VERSION`]): renaming a field's key breaks every file already
//! exported, so add fields instead.
//!
//! Restoring goes through [`Tx`] like every other write, so the search
//! index is kept and, when sync is on, each row is also recorded as an
//! operation. It never overwrites what the journal already holds: a record
//! whose article is already there only adds what that article lacks.

use std::ops::Deref;

use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{Map, Value as Json};

use super::query::{normalize_tag, ArticleRef};
use super::rows::in_field_order;
use super::{Journal, Tx};
use crate::content::{Content, EMPTY_HASH};
use crate::entity::fields::{article, copy, followup, note, tag, url, version};
use crate::entity::{Entity, Export, Field, Kind, Storage};
use crate::error::{Error, Result};
use crate::time::Timestamp;

/// The newest version of the JSON export format that these records make
/// and this nj reads. Version 2 added an article's syndicated `copies` and
/// `kept_apart`, and the `stories`, which an nj that reads version 1 would
/// drop without a word: a file holding any says 2, so that nj refuses it and says to
/// upgrade, while a journal without them still exports as version 1,
/// which every nj reads ([`Journal::export_version`]).
pub const FORMAT_VERSION: u32 = 2;

impl Journal {
    /// The export format version this journal needs: 1 unless it holds
    /// what only version 2 carries (see [`FORMAT_VERSION`]).
    pub fn export_version(&self) -> Result<u32> {
        let needs_2: bool = self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM copies)
                 OR EXISTS (SELECT 1 FROM articles WHERE kept_apart IS NOT NULL)
                 OR EXISTS (SELECT 1 FROM stories)",
            [],
            |r| r.get(0),
        )?;
        Ok(if needs_2 { 2 } else { 1 })
    }
}

/// One entity as the export carries it, its keys and values read from the
/// entity's description ([`crate::entity`]): an id (for an entity kept as
/// rows), each field with a key ([`Field::export_key`]), and the time the
/// journal keeps of its own ([`Entity::local_time`]) just before
/// `deleted_at`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    entity: Entity,
    /// Empty for a link, which has no id of its own.
    pub id: String,
    /// Every field's value in [`Entity::fields`] order, as the journal
    /// stores it (texts, times in milliseconds, nothing as NULL). The
    /// article the row belongs to is NULL here: the record it is nested
    /// under says it.
    values: Vec<Value>,
    local: Option<Timestamp>,
}

impl Row {
    /// A row of `entity` from the values given for its fields (the others
    /// take their defaults) and, for an entity that keeps one, its own
    /// time.
    pub fn new(
        entity: Entity,
        id: impl Into<String>,
        given: impl IntoIterator<Item = (Field, Value)>,
        local: Option<Timestamp>,
    ) -> Row {
        Row {
            entity,
            id: id.into(),
            values: in_field_order(entity, given),
            local,
        }
    }

    pub fn entity(&self) -> Entity {
        self.entity
    }

    pub fn get(&self, field: Field) -> &Value {
        debug_assert_eq!(field.entity, self.entity);
        let i = self
            .entity
            .fields()
            .iter()
            .position(|f| *f == field)
            .expect("a field of the row's entity");
        &self.values[i]
    }

    pub fn text(&self, field: Field) -> Option<&str> {
        match self.get(field) {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    pub fn time(&self, field: Field) -> Option<Timestamp> {
        match self.get(field) {
            Value::Integer(ms) => Some(Timestamp(*ms)),
            _ => None,
        }
    }

    /// The time in a field that always holds one (a row read from a file
    /// or the journal has every field that may not be empty).
    pub fn at(&self, field: Field) -> Timestamp {
        debug_assert!(!field.optional);
        self.time(field)
            .expect("a time in a field that may not be empty")
    }

    /// When it was removed, for an entity that is removed by a mark.
    pub fn deleted_at(&self) -> Option<Timestamp> {
        let field = self.entity.field("deleted_at")?;
        self.time(field)
    }

    /// The time the journal keeps of its own ([`Entity::local_time`]): for
    /// an article, note or follow-up, its `updated_at`.
    pub fn local_time(&self) -> Timestamp {
        self.local.expect("an entity that keeps a time of its own")
    }

    /// Its fields and values as a write takes them, belonging to `article`.
    fn under(&self, article: Option<&ArticleRef>) -> impl Iterator<Item = (Field, Value)> + '_ {
        let parent = article.map_or(Value::Null, |a| Value::Text(a.id.clone()));
        self.entity
            .fields()
            .iter()
            .zip(&self.values)
            .map(move |(f, v)| match f.kind {
                Kind::Article => (*f, parent.clone()),
                _ => (*f, v.clone()),
            })
    }

    /// It, belonging to the story `story` (which the file says by nesting
    /// it under the story's record).
    fn in_story(&self, story: &str) -> Row {
        let mut row = self.clone();
        for (f, v) in row.entity.fields().iter().zip(row.values.iter_mut()) {
            if f.kind == Kind::Story {
                *v = Value::Text(story.to_owned());
            }
        }
        row
    }

    /// Writes its keys into an open map.
    fn write_keys<M: SerializeMap>(&self, map: &mut M) -> std::result::Result<(), M::Error> {
        if self.entity.storage() == Storage::Rows {
            map.serialize_entry("id", &self.id)?;
        }
        let mut local = self.entity.local_time().zip(self.local);
        for (f, v) in self.entity.fields().iter().zip(&self.values) {
            let Some(key) = f.export_key() else { continue };
            if f.name == "deleted_at" {
                if let Some((name, t)) = local.take() {
                    map.serialize_entry(name, &time::to_text(t))?;
                }
            }
            if f.export == Export::UnlessEmpty && *v == Value::Null {
                continue;
            }
            map.serialize_entry(key, &Out(f.kind, v))?;
        }
        if let Some((name, t)) = local {
            map.serialize_entry(name, &time::to_text(t))?;
        }
        Ok(())
    }

    /// Reads a row of `entity` from its JSON object, taking its values out
    /// of it (what is left is the record's other keys). Says what is wrong
    /// the way serde would.
    fn read(entity: Entity, object: &mut Map<String, Json>) -> Result<Row> {
        let id = if entity.storage() == Storage::Rows {
            match object.remove("id") {
                Some(Json::String(id)) => id,
                Some(other) => return Err(invalid_type(&other, "a string")),
                None => return Err(missing("id")),
            }
        } else {
            String::new()
        };
        let mut values = Vec::with_capacity(entity.fields().len());
        for f in entity.fields() {
            let value = match f.export_key() {
                Some(key) => read_value(f.kind, f.optional, key, object.remove(key))?,
                None if f.kind == Kind::Flag => Value::Integer(1),
                None => Value::Null,
            };
            values.push(value);
        }
        let local = match entity.local_time() {
            Some(key) => match read_value(Kind::Time, false, key, object.remove(key))? {
                Value::Integer(ms) => Some(Timestamp(ms)),
                _ => None,
            },
            None => None,
        };
        Ok(Row {
            entity,
            id,
            values,
            local,
        })
    }
}

/// A stored value as the export writes it.
struct Out<'a>(Kind, &'a Value);

impl Serialize for Out<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match (self.0, self.1) {
            (_, Value::Null) => s.serialize_none(),
            (Kind::Time, Value::Integer(ms)) => s.serialize_str(&time::to_text(Timestamp(*ms))),
            (Kind::Flag, Value::Integer(n)) => s.serialize_bool(*n != 0),
            (_, Value::Integer(n)) => s.serialize_i64(*n),
            (_, Value::Real(x)) => s.serialize_f64(*x),
            (_, Value::Text(t)) => s.serialize_str(t),
            (_, Value::Blob(b)) => s.serialize_bytes(b),
        }
    }
}

fn missing(key: &str) -> Error {
    invalid(format!("missing field `{key}`"))
}

fn invalid_type(found: &Json, expected: &str) -> Error {
    use serde::de::{Error as _, Unexpected};
    let unexpected = match found {
        Json::Null => Unexpected::Unit,
        Json::Bool(b) => Unexpected::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Unexpected::Signed(i),
            None => Unexpected::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Unexpected::Str(s),
        Json::Array(_) => Unexpected::Seq,
        Json::Object(_) => Unexpected::Map,
    };
    invalid(serde_json::Error::invalid_type(unexpected, &expected).to_string())
}

/// A field's value from the file: a text as a string, a time as RFC 3339
/// text or integer milliseconds, nothing as null or no key (for a field
/// that may hold nothing).
fn read_value(kind: Kind, optional: bool, key: &str, found: Option<Json>) -> Result<Value> {
    match (kind, found) {
        (_, None | Some(Json::Null)) if optional => Ok(Value::Null),
        (_, None | Some(Json::Null)) => Err(missing(key)),
        (Kind::Time, Some(Json::String(t))) => time::from_text(&t)
            .map(|t| Value::Integer(t.0))
            .map_err(invalid),
        (Kind::Time, Some(Json::Number(n))) if n.is_i64() => {
            Ok(Value::Integer(n.as_i64().unwrap_or_default()))
        }
        (Kind::Time, Some(other)) => Err(invalid_type(&other, "an RFC 3339 time")),
        (Kind::Flag, Some(Json::Bool(b))) => Ok(Value::Integer(b.into())),
        (Kind::Flag, Some(other)) => Err(invalid_type(&other, "true or false")),
        (Kind::Text | Kind::Article | Kind::Story, Some(Json::String(t))) => Ok(Value::Text(t)),
        (Kind::Text | Kind::Article | Kind::Story, Some(other)) => {
            Err(invalid_type(&other, "a string"))
        }
    }
}

/// A list of rows nested under a record's key; none is an empty list.
fn read_rows(entity: Entity, object: &mut Map<String, Json>) -> Result<Vec<Json>> {
    match object.remove(entity.plural()) {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::Array(items)) => Ok(items),
        Some(other) => Err(invalid_type(&other, "a sequence")),
    }
}

fn object(value: Json) -> Result<Map<String, Json>> {
    match value {
        Json::Object(map) => Ok(map),
        other => Err(invalid_type(&other, "a map")),
    }
}

impl Serialize for Row {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        self.write_keys(&mut map)?;
        map.end()
    }
}

/// An article with everything it owns: its URLs, tags, versions with their
/// texts, notes and follow-ups.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleRecord {
    pub row: Row,
    pub urls: Vec<Row>,
    pub tags: Vec<Row>,
    /// Every text the article has had, oldest first. None for a pending
    /// article (a bookmark whose text is not fetched yet), whose
    /// `content_hash` is the empty text's.
    pub versions: Vec<TextRecord>,
    pub notes: Vec<Row>,
    pub followups: Vec<Row>,
    /// Syndicated copies folded into it, with their texts. Left out of the
    /// file when there are none (files from before copies have none).
    pub copies: Vec<TextRecord>,
}

impl Deref for ArticleRecord {
    type Target = Row;

    fn deref(&self) -> &Row {
        &self.row
    }
}

impl Serialize for ArticleRecord {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        self.row.write_keys(&mut map)?;
        map.serialize_entry(Entity::Url.plural(), &self.urls)?;
        map.serialize_entry(Entity::Tag.plural(), &self.tags)?;
        map.serialize_entry(Entity::Version.plural(), &self.versions)?;
        map.serialize_entry(Entity::Note.plural(), &self.notes)?;
        map.serialize_entry(Entity::Followup.plural(), &self.followups)?;
        if !self.copies.is_empty() {
            map.serialize_entry(Entity::Copy.plural(), &self.copies)?;
        }
        map.end()
    }
}

impl ArticleRecord {
    /// Reads an article record from its JSON value.
    pub fn from_json(value: Json) -> Result<ArticleRecord> {
        let mut object = object(value)?;
        let row = Row::read(Entity::Article, &mut object)?;
        let rows = |entity: Entity, object: &mut Map<String, Json>| -> Result<Vec<Row>> {
            read_rows(entity, object)?
                .into_iter()
                .map(|item| Row::read(entity, &mut self::object(item)?))
                .collect()
        };
        let urls = rows(Entity::Url, &mut object)?;
        let tags = rows(Entity::Tag, &mut object)?;
        let with_texts =
            |entity: Entity, object: &mut Map<String, Json>| -> Result<Vec<TextRecord>> {
                read_rows(entity, object)?
                    .into_iter()
                    .map(|item| TextRecord::from_json(entity, item))
                    .collect()
            };
        let versions = with_texts(Entity::Version, &mut object)?;
        let notes = rows(Entity::Note, &mut object)?;
        let followups = rows(Entity::Followup, &mut object)?;
        let copies = with_texts(Entity::Copy, &mut object)?;
        Ok(ArticleRecord {
            row,
            urls,
            tags,
            versions,
            notes,
            followups,
            copies,
        })
    }
}

/// A story with its articles (as memberships), notes and follow-ups.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryRecord {
    pub row: Row,
    pub articles: Vec<Row>,
    pub notes: Vec<Row>,
    pub followups: Vec<Row>,
}

impl Deref for StoryRecord {
    type Target = Row;

    fn deref(&self) -> &Row {
        &self.row
    }
}

impl Serialize for StoryRecord {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        self.row.write_keys(&mut map)?;
        map.serialize_entry(Entity::StoryArticle.plural(), &self.articles)?;
        map.serialize_entry(Entity::Note.plural(), &self.notes)?;
        map.serialize_entry(Entity::Followup.plural(), &self.followups)?;
        map.end()
    }
}

impl StoryRecord {
    /// Reads a story record from its JSON value.
    pub fn from_json(value: Json) -> Result<StoryRecord> {
        let mut object = object(value)?;
        let row = Row::read(Entity::Story, &mut object)?;
        let rows = |entity: Entity, object: &mut Map<String, Json>| -> Result<Vec<Row>> {
            read_rows(entity, object)?
                .into_iter()
                .map(|item| Ok(Row::read(entity, &mut self::object(item)?)?.in_story(&row.id)))
                .collect()
        };
        let articles = rows(Entity::StoryArticle, &mut object)?;
        let notes = rows(Entity::Note, &mut object)?;
        let followups = rows(Entity::Followup, &mut object)?;
        Ok(StoryRecord {
            row,
            articles,
            notes,
            followups,
        })
    }
}

/// Reads a free-standing note or follow-up from its JSON value.
pub fn row_from_json(entity: Entity, value: Json) -> Result<Row> {
    Row::read(entity, &mut object(value)?)
}

/// A row that names a text by its hash (a version, a copy), with the
/// text.
#[derive(Debug, Clone, PartialEq)]
pub struct TextRecord {
    pub row: Row,
    /// The normalised text whose hash is the row's `content_hash`.
    pub text: String,
}

impl Deref for TextRecord {
    type Target = Row;

    fn deref(&self) -> &Row {
        &self.row
    }
}

impl TextRecord {
    /// Its text's hash.
    pub fn hash(&self) -> &str {
        let field = self.row.entity.field("content_hash");
        field.and_then(|f| self.row.text(f)).unwrap_or_default()
    }

    fn from_json(entity: Entity, value: Json) -> Result<TextRecord> {
        let mut object = object(value)?;
        let row = Row::read(entity, &mut object)?;
        let text = match object.remove("text") {
            Some(Json::String(text)) => text,
            Some(other) => return Err(invalid_type(&other, "a string")),
            None => return Err(missing("text")),
        };
        Ok(TextRecord { row, text })
    }
}

impl Serialize for TextRecord {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        self.row.write_keys(&mut map)?;
        map.serialize_entry("text", &self.text)?;
        map.end()
    }
}

/// One top-level record, in the order [`Journal::dump`] gives them: every
/// article, then the free-standing notes, then the free-standing
/// follow-ups.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Article(ArticleRecord),
    Story(StoryRecord),
    Note(Row),
    Followup(Row),
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
/// stores, so they come back exactly.
mod time {
    use crate::time::Timestamp;

    pub fn to_text(t: Timestamp) -> String {
        t.to_datetime()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }

    pub fn from_text(s: &str) -> Result<Timestamp, String> {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| Timestamp(t.timestamp_millis()))
            .map_err(|e| {
                format!("{s:?} is not an RFC 3339 time ({e}), such as 2026-11-26T09:00:00.000Z")
            })
    }
}

/// The JSON form of a time in the export format.
pub fn format_time(t: Timestamp) -> String {
    time::to_text(t)
}

/// The columns [`read_row`] reads for a row of `entity`, for a SELECT:
/// its id, each field the export carries, and its own time.
fn columns(entity: Entity, prefix: &str) -> String {
    let mut columns = Vec::new();
    if entity.storage() == Storage::Rows {
        columns.push("id");
    }
    columns.extend(
        entity
            .fields()
            .iter()
            .filter(|f| f.export_key().is_some())
            .map(|f| f.name),
    );
    columns.extend(entity.local_time());
    columns
        .iter()
        .map(|c| format!("{prefix}{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads a row of `entity` from a result row whose columns start at `at`
/// as [`columns`] lists them. Returns it and the next column.
fn read_row(entity: Entity, r: &rusqlite::Row, mut at: usize) -> rusqlite::Result<(Row, usize)> {
    let id = if entity.storage() == Storage::Rows {
        at += 1;
        r.get(at - 1)?
    } else {
        String::new()
    };
    let mut values = Vec::with_capacity(entity.fields().len());
    for f in entity.fields() {
        values.push(match f.export_key() {
            Some(_) => {
                at += 1;
                r.get(at - 1)?
            }
            None if f.kind == Kind::Flag => Value::Integer(1),
            None => Value::Null,
        });
    }
    let local = match entity.local_time() {
        Some(_) => {
            at += 1;
            Some(r.get(at - 1)?)
        }
        None => None,
    };
    Ok((
        Row {
            entity,
            id,
            values,
            local,
        },
        at,
    ))
}

/// The statements [`Journal::dump`] reads with, made from the entities'
/// descriptions.
struct Reads {
    articles: String,
    urls: String,
    tags: String,
    /// Each with the texts, and without them ([`with_texts_sql`]).
    versions: [String; 2],
    copies: [String; 2],
    notes: String,
    followups: String,
    stories: String,
    members: String,
    story_notes: String,
    story_followups: String,
}

impl Reads {
    fn new() -> Reads {
        let select = |entity: Entity, rest: &str| {
            let table = entity.table().expect("a known entity");
            format!("SELECT {} FROM {table} {rest}", columns(entity, ""))
        };
        Reads {
            articles: format!(
                "SELECT rowid, {} FROM articles ORDER BY clipped_at, id",
                columns(Entity::Article, "")
            ),
            urls: select(Entity::Url, "WHERE article_seq = ?1 ORDER BY added_at, url"),
            tags: select(Entity::Tag, "WHERE article_seq = ?1 ORDER BY tag"),
            versions: with_texts_sql(Entity::Version),
            copies: with_texts_sql(Entity::Copy),
            notes: select(
                Entity::Note,
                "WHERE article_id IS ?1 AND story_id IS NULL ORDER BY created_at, id",
            ),
            followups: select(
                Entity::Followup,
                "WHERE article_id IS ?1 AND story_id IS NULL ORDER BY created_at, id",
            ),
            stories: select(Entity::Story, "ORDER BY created_at, id"),
            members: select(
                Entity::StoryArticle,
                "WHERE story_id = ?1 ORDER BY added_at, id",
            ),
            story_notes: select(Entity::Note, "WHERE story_id = ?1 ORDER BY created_at, id"),
            story_followups: select(
                Entity::Followup,
                "WHERE story_id = ?1 ORDER BY created_at, id",
            ),
        }
    }
}

/// The statements that read an article's rows of `entity` (one that names
/// a text: versions, copies) in the order they were made, with their
/// texts and without them.
fn with_texts_sql(entity: Entity) -> [String; 2] {
    let table = entity.table().expect("a known entity");
    let columns = columns(entity, "r.");
    let rest = "WHERE r.article_id = ?1 ORDER BY r.created_at, r.id";
    [
        format!("SELECT {columns}, t.body FROM {table} r JOIN texts t ON t.hash = r.content_hash {rest}"),
        format!("SELECT {columns}, NULL FROM {table} r {rest}"),
    ]
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
        let sql = Reads::new();
        let snapshot = conn.unchecked_transaction()?;
        let mut articles = conn.prepare(&sql.articles)?;
        let mut rows = articles.query([])?;
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            let (row, _) = read_row(Entity::Article, r, 1)?;
            let id = row.id.as_str();
            let which = usize::from(!texts);
            let versions = with_texts(conn, Entity::Version, &sql.versions[which], id)?;
            let copies = with_texts(conn, Entity::Copy, &sql.copies[which], id)?;
            let article = ArticleRecord {
                urls: rows_of(conn, Entity::Url, &sql.urls, seq)?,
                tags: rows_of(conn, Entity::Tag, &sql.tags, seq)?,
                versions,
                notes: rows_of(conn, Entity::Note, &sql.notes, Some(id))?,
                followups: rows_of(conn, Entity::Followup, &sql.followups, Some(id))?,
                copies,
                row,
            };
            visit(Record::Article(article))?;
        }
        let stories: Vec<Row> = conn
            .prepare(&sql.stories)?
            .query_map([], |r| Ok(read_row(Entity::Story, r, 0)?.0))?
            .collect::<rusqlite::Result<_>>()?;
        for story in stories {
            let id = story.id.as_str();
            let record = StoryRecord {
                articles: rows_of(conn, Entity::StoryArticle, &sql.members, id)?,
                notes: rows_of(conn, Entity::Note, &sql.story_notes, id)?,
                followups: rows_of(conn, Entity::Followup, &sql.story_followups, id)?,
                row: story,
            };
            visit(Record::Story(record))?;
        }
        for note in rows_of(conn, Entity::Note, &sql.notes, None::<&str>)? {
            visit(Record::Note(note))?;
        }
        for followup in rows_of(conn, Entity::Followup, &sql.followups, None::<&str>)? {
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

fn rows_of(
    conn: &Connection,
    entity: Entity,
    sql: &str,
    of: impl rusqlite::ToSql,
) -> Result<Vec<Row>> {
    let rows = conn
        .prepare_cached(sql)?
        .query_map([of], |r| Ok(read_row(entity, r, 0)?.0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The rows of `entity` that name a text (versions, copies) of an
/// article, each with its text (empty when `sql` reads none).
fn with_texts(
    conn: &Connection,
    entity: Entity,
    sql: &str,
    article: &str,
) -> Result<Vec<TextRecord>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query([article])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let (row, at) = read_row(entity, r, 0)?;
        let text = match r.get_ref(at)? {
            rusqlite::types::ValueRef::Null => String::new(),
            body => super::codec::decode(body)?,
        };
        out.push(TextRecord { row, text });
    }
    Ok(out)
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

fn check_note(n: &Row) -> Result<()> {
    check_id("note", &n.id)?;
    if n.text(note::BODY).unwrap_or_default().trim().is_empty() {
        return Err(invalid(format!("note {} has no text", n.id)));
    }
    Ok(())
}

fn check_followup(f: &Row) -> Result<()> {
    check_id("follow-up", &f.id)?;
    if f.text(followup::TEXT).unwrap_or_default().trim().is_empty() {
        return Err(invalid(format!("follow-up {} has no text", f.id)));
    }
    let status = f.text(followup::STATUS).unwrap_or_default();
    if !matches!(status, "open" | "done") {
        return Err(invalid(format!(
            "follow-up {} has status {status:?}; it must be \"open\" or \"done\"",
            f.id
        )));
    }
    if let Some(every) = f.text(followup::EVERY) {
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
    /// The same for `record.copies`.
    copy_texts: Vec<(Content, Option<Vec<u8>>)>,
}

impl PreparedArticle {
    /// Checks `record`; a record that cannot be restored is an
    /// [`Error::BadInput`] saying why. The texts are packed here, so that
    /// a thread beside the writing one does it.
    pub fn new(mut record: ArticleRecord) -> Result<PreparedArticle> {
        let a = &mut record;
        check_id("article", &a.id)?;
        if a.text(article::TITLE).unwrap_or_default().trim().is_empty() {
            return Err(invalid(format!("article {} has no title", a.id)));
        }
        let current = a.text(article::CONTENT_HASH).unwrap_or_default().to_owned();
        if a.versions.is_empty() && current != EMPTY_HASH {
            return Err(invalid(format!(
                "article {} has no versions, so it has no text",
                a.id
            )));
        }
        let mut texts = Vec::with_capacity(a.versions.len());
        for v in &mut a.versions {
            check_id("version", &v.id)?;
            texts.push(checked_text(v, "version")?);
        }
        if !a.versions.is_empty() && !a.versions.iter().any(|v| v.hash() == current) {
            return Err(invalid(format!(
                "article {}'s current text {current} is none of its versions",
                a.id
            )));
        }
        for n in &a.notes {
            check_note(n)?;
        }
        for f in &a.followups {
            check_followup(f)?;
        }
        for t in &a.tags {
            if normalize_tag(t.text(tag::TAG).unwrap_or_default()).is_none() {
                return Err(invalid(format!(
                    "article {} has an empty tag or one with control characters",
                    a.id
                )));
            }
        }
        let mut copy_texts = Vec::with_capacity(a.copies.len());
        for c in &mut a.copies {
            check_id("copy", &c.id)?;
            copy_texts.push(checked_text(c, "copy")?);
        }
        Ok(PreparedArticle {
            record,
            texts,
            copy_texts,
        })
    }
}

/// A record's text, taken out of it, checked against its hash and packed
/// to store.
fn checked_text(r: &mut TextRecord, kind: &str) -> Result<(Content, Option<Vec<u8>>)> {
    let content = Content::from_text(std::mem::take(&mut r.text));
    if content.is_empty() {
        return Err(invalid(format!("{kind} {} has no text", r.id)));
    }
    if content.hash != r.hash() {
        return Err(invalid(format!(
            "the text of {kind} {} does not match its hash {} (it hashes to {}); the file was changed or damaged",
            r.id,
            r.hash(),
            content.hash
        )));
    }
    let frame = super::codec::pack(&content.text)?;
    Ok((content, frame))
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
        self.copy_keys_as_it_goes()?;
        let PreparedArticle {
            record,
            texts,
            copy_texts,
        } = prepared;
        let a = &record;
        let content_hash = a.text(article::CONTENT_HASH).unwrap_or_default();
        let mut existing = self.article_ref(&a.id)?;
        if existing.is_none() && by_content {
            let urls: Vec<String> = a
                .text(article::URL)
                .into_iter()
                .chain(a.urls.iter().filter_map(|u| u.text(url::URL)))
                .map(|u| crate::urls::normalize_url(u).unwrap_or_else(|| u.to_owned()))
                .collect();
            existing = match super::article::find_by_url(self.conn(), &urls)? {
                Some(found) => Some(found),
                None => super::article::find_by_hash(self.conn(), content_hash)?,
            };
        }
        let Some(article) = existing else {
            self.insert_article(a, texts, copy_texts)?;
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
            if known.iter().any(|k| k == v.hash()) || self.exists("versions", &v.id)? {
                continue;
            }
            self.put_text_packed(&content, frame, v.local_created_at())?;
            self.restore_version(&article, v)?;
            changed = true;
        }
        // A pending bookmark (no text yet) that the record has the text of
        // takes it as its current text, as `nj fetch` would give it: the
        // current hash, the search entry, a real title for one titled by
        // its address, and no remembered fetch failure. Without this the
        // article held versions yet stayed pending.
        let here = super::query::article_by_rowid(self.conn(), article.rowid)?;
        if here.pending
            && content_hash != EMPTY_HASH
            && a.versions.iter().any(|v| v.hash() == content_hash)
            && self.exists_text(content_hash)?
        {
            self.set_article(
                &article,
                article::CONTENT_HASH,
                a.get(article::CONTENT_HASH).clone(),
            )?;
            let title = a.text(article::TITLE).unwrap_or_default();
            if super::bookmark::has_placeholder_title(&here) && here.title != title {
                self.set_article(&article, article::TITLE, a.get(article::TITLE).clone())?;
            }
            self.forget_fetch_failure(&article.id)?;
            changed = true;
        }
        // Metadata the article lacks comes from the record.
        let owned = |f: Field| a.text(f).map(str::to_owned);
        changed |= self.fill_metadata(
            &article,
            &here,
            [
                &owned(article::SITE),
                &owned(article::AUTHOR),
                &owned(article::LANG),
            ],
            a.time(article::PUBLISHED_AT),
        )?;
        for u in &a.urls {
            changed |= self.restore_url(&article, u)?;
        }
        // As a clip does: an article without a preferred URL takes one.
        let url: Option<String> = self
            .conn()
            .prepare_cached("SELECT url FROM articles WHERE rowid = ?1")?
            .query_row([article.rowid], |r| r.get(0))?;
        if let (None, Value::Text(_)) = (url, a.get(article::URL)) {
            self.set_article(&article, article::URL, a.get(article::URL).clone())?;
            changed = true;
        }
        for t in &a.tags {
            changed |= self.restore_tag(&article, t)?;
        }
        // Read on the other journal: read here too (never the reverse).
        if let Some(read) = a.time(article::READ_AT) {
            let unread = self
                .conn()
                .prepare_cached("SELECT read_at IS NULL FROM articles WHERE rowid = ?1")?
                .query_row([article.rowid], |r| r.get::<_, bool>(0))?;
            if unread {
                self.set_article(&article, article::READ_AT, Value::Integer(read.0))?;
                changed = true;
            }
        }
        changed |= self.restore_owned(&article, a, copy_texts)?;
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

    /// Restores a story with its articles, notes and follow-ups, or what
    /// the journal lacks of one it has. An article of it that the journal
    /// does not hold is left out.
    pub fn import_story(&mut self, st: &StoryRecord) -> Result<Restored> {
        let added = !self.exists("stories", &st.id)?;
        if added {
            self.restore_row(Entity::Story, &st.id, st.under(None), st.local_time())?;
        }
        let mut changed = false;
        for m in &st.articles {
            let article = m.text(crate::entity::fields::story_article::ARTICLE_ID);
            if self.exists("story_articles", &m.id)?
                || !self.exists("articles", article.unwrap_or_default())?
            {
                continue;
            }
            self.restore_row(Entity::StoryArticle, &m.id, m.under(None), self.now())?;
            changed = true;
        }
        for n in &st.notes {
            check_note(n)?;
            if !self.exists("notes", &n.id)? {
                self.insert_note(None, &n.id, n.under(None), n.local_time())?;
                changed = true;
            }
        }
        for f in &st.followups {
            check_followup(f)?;
            if !self.exists("followups", &f.id)? {
                self.insert_followup(&f.id, f.under(None), f.local_time())?;
                changed = true;
            }
        }
        Ok(match (added, changed) {
            (true, _) => Restored::Added,
            (false, true) => Restored::Updated,
            (false, false) => Restored::Duplicate,
        })
    }

    /// Restores a free-standing note; one with the same id is a duplicate.
    pub fn import_note(&mut self, n: &Row) -> Result<Restored> {
        check_note(n)?;
        if self.exists("notes", &n.id)? {
            return Ok(Restored::Duplicate);
        }
        self.insert_note(None, &n.id, n.under(None), n.local_time())?;
        Ok(Restored::Added)
    }

    /// Restores a free-standing follow-up; one with the same id is a
    /// duplicate.
    pub fn import_followup(&mut self, f: &Row) -> Result<Restored> {
        check_followup(f)?;
        if self.exists("followups", &f.id)? {
            return Ok(Restored::Duplicate);
        }
        self.insert_followup(&f.id, f.under(None), f.local_time())?;
        Ok(Restored::Added)
    }

    fn insert_article(
        &mut self,
        a: &ArticleRecord,
        texts: Vec<(Content, Option<Vec<u8>>)>,
        copy_texts: Vec<(Content, Option<Vec<u8>>)>,
    ) -> Result<()> {
        // The texts first: the article and its versions refer to them.
        for (v, (content, frame)) in a.versions.iter().zip(texts) {
            self.put_text_packed(&content, frame, v.local_created_at())?;
        }
        let rowid = self.restore_row(Entity::Article, &a.id, a.under(None), a.local_time())?;
        let article = ArticleRef {
            rowid,
            id: a.id.clone(),
        };
        self.index_new_article(article.rowid);
        for v in &a.versions {
            // A version id the journal has elsewhere cannot be restored as
            // it is; the article keeps its other versions.
            if !self.exists("versions", &v.id)? {
                self.restore_version(&article, v)?;
            }
        }
        for u in &a.urls {
            self.restore_url(&article, u)?;
        }
        for t in &a.tags {
            self.restore_tag(&article, t)?;
        }
        self.restore_owned(&article, a, copy_texts)?;
        Ok(())
    }

    /// Restores the record's notes, follow-ups and copies (with their
    /// texts) the journal lacks onto `article`. Returns whether there were
    /// any.
    fn restore_owned(
        &mut self,
        article: &ArticleRef,
        a: &ArticleRecord,
        copy_texts: Vec<(Content, Option<Vec<u8>>)>,
    ) -> Result<bool> {
        let mut changed = false;
        for (c, (content, frame)) in a.copies.iter().zip(copy_texts) {
            if !self.exists("copies", &c.id)? {
                self.put_text_packed(&content, frame, c.at(copy::CREATED_AT))?;
                self.restore_row(Entity::Copy, &c.id, c.under(Some(article)), self.now())?;
                changed = true;
            }
        }
        for n in &a.notes {
            if !self.exists("notes", &n.id)? {
                self.insert_note(Some(article), &n.id, n.under(Some(article)), n.local_time())?;
                changed = true;
            }
        }
        for f in &a.followups {
            if !self.exists("followups", &f.id)? {
                self.insert_followup(&f.id, f.under(Some(article)), f.local_time())?;
                changed = true;
            }
        }
        Ok(changed)
    }

    fn restore_version(&mut self, article: &ArticleRef, v: &TextRecord) -> Result<()> {
        self.insert_version(article, &v.id, v.hash(), v.local_created_at())
    }

    fn restore_url(&mut self, article: &ArticleRef, u: &Row) -> Result<bool> {
        self.insert_url(
            article,
            u.text(url::URL).unwrap_or_default(),
            u.at(url::ADDED_AT),
        )
    }

    fn restore_tag(&mut self, article: &ArticleRef, t: &Row) -> Result<bool> {
        match normalize_tag(t.text(tag::TAG).unwrap_or_default()) {
            Some(tag) => self.insert_tag(article, &tag, t.local_time()),
            None => Ok(false),
        }
    }
}

impl TextRecord {
    fn local_created_at(&self) -> Timestamp {
        self.at(version::CREATED_AT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::Entity;

    /// Every column the export carries, of every row of `entity`, in a
    /// stable order.
    fn carried(j: &Journal, entity: Entity) -> Vec<Vec<Value>> {
        let table = entity.table().unwrap();
        let columns = columns(entity, "");
        let n = columns.split(", ").count();
        let mut stmt = j
            .conn()
            .prepare(&format!("SELECT {columns} FROM {table} ORDER BY {columns}"))
            .unwrap();
        let rows = stmt
            .query_map([], |r| (0..n).map(|i| r.get(i)).collect())
            .unwrap();
        rows.collect::<rusqlite::Result<_>>().unwrap()
    }

    /// A new journal restored from `a`'s JSON export, and what the import
    /// said.
    fn exported_and_imported(a: &Journal) -> (Journal, crate::import::ImportReport) {
        let mut file = Vec::new();
        crate::export::json::write(a, &mut file).unwrap();
        let mut b = Journal::open_in_memory().unwrap();
        let report =
            crate::import::newsjournal::import(&mut b, "export.json", &file[..], Timestamp(2_000))
                .unwrap();
        (b, report)
    }

    /// Every field of every entity goes out in the export and comes back
    /// whole: the journal below has a value in each (a field added to
    /// `crate::entity` without one here fails, naming it), and the journal
    /// restored from its export holds the same values.
    #[test]
    fn every_field_of_every_entity_is_exported_and_restored() {
        use crate::journal::NewClip;
        let mut a = Journal::open_in_memory().unwrap();
        let report: String = (0..40)
            .map(|i| {
                format!(
                    "The council voted {i} times on harbour plan number {}. ",
                    i * 7
                )
            })
            .collect();
        let clip = NewClip {
            content: Content::new(&format!("Harbour vote\n\n{report}")),
            title: "Harbour vote".into(),
            urls: vec!["https://news.example/harbour".into()],
            site: Some("News".into()),
            author: Some("A. Writer".into()),
            lang: Some("en".into()),
            published_at: Some(Timestamp(1_700_000_000_000)),
            tags: vec!["harbour".into()],
            note: Some("why it matters".into()),
            separate: false,
        };
        let clipped = a.clip(Timestamp(1_764_000_000_000), &clip).unwrap();
        let article = a.resolve_article(&clipped.article.id).unwrap();
        // A syndicated copy, folded in.
        let copy = NewClip {
            content: Content::new(&format!("Harbour vote\n\n{report}\nvia Example Wire")),
            urls: vec!["https://wire.example/harbour".into()],
            ..clip.clone()
        };
        let folded = a.clip(Timestamp(1_764_000_050_000), &copy).unwrap();
        assert_eq!(folded.status, crate::journal::ClipStatus::Copy);
        a.write(Timestamp(1_764_000_100_000), |tx| {
            tx.add_note(None, "a journal note")?;
            tx.create_followup(
                Some(&article),
                "check the vote",
                Timestamp(1_765_000_000_000),
                Some(crate::time::Interval::parse("1w").unwrap()),
            )?;
            tx.create_followup(None, "a free follow-up", Timestamp(1_765_000_000_000), None)?;
            let story = tx.create_story("Harbour plan")?;
            tx.add_to_story(&story, &article)?;
            tx.add_story_note(&story, "the story so far")?;
            tx.create_story_followup(&story, "check the plan", Timestamp(1_765_000_000_000), None)?;
            Ok(())
        })
        .unwrap();
        for sql in [
            "UPDATE stories SET closed_at = 1764000150000, deleted_at = 1764000160000",
            "UPDATE story_articles SET dropped_at = 1764000170000",
            "UPDATE articles SET read_at = 1764000200000, deleted_at = 1764000300000, kept_apart = 1",
            "UPDATE notes SET deleted_at = 1764000400000",
            "UPDATE followups SET every = '1mo', status = 'done', done_at = 1764000500000,
                    deleted_at = 1764000600000",
        ] {
            a.conn().execute(sql, []).unwrap();
        }
        for entity in Entity::ALL {
            let table = entity.table().unwrap();
            for f in entity.fields().iter().filter(|f| f.export_key().is_some()) {
                let empty: i64 = a
                    .conn()
                    .query_row(
                        &format!("SELECT count(*) FROM {table} WHERE {} IS NULL", f.name),
                        [],
                        |r| r.get(0),
                    )
                    .unwrap();
                assert_eq!(
                    empty, 0,
                    "the {entity} field {} has no value in this test's journal: give it one above",
                    f.name
                );
            }
        }
        let (b, report) = exported_and_imported(&a);
        assert_eq!(report.rejected.len(), 0, "{report:?}");
        for entity in Entity::ALL {
            let (here, there) = (carried(&a, entity), carried(&b, entity));
            assert!(!here.is_empty(), "no {entity} in this test's journal");
            assert_eq!(here, there, "the {entity} rows came back changed");
        }
    }

    /// A record missing a field that may not be empty, or with a value of
    /// the wrong kind, is refused saying which.
    #[test]
    fn a_record_is_read_by_its_entitys_fields() {
        let read = |entity, json: &str| row_from_json(entity, serde_json::from_str(json).unwrap());
        let err = read(
            Entity::Note,
            r#"{"id": "n", "created_at": 1, "updated_at": 2}"#,
        );
        assert_eq!(err.unwrap_err().to_string(), "missing field `body`");
        let err = read(
            Entity::Note,
            r#"{"id": "n", "body": 7, "created_at": 1, "updated_at": 2}"#,
        );
        assert_eq!(
            err.unwrap_err().to_string(),
            "invalid type: integer `7`, expected a string"
        );
        let err = read(
            Entity::Note,
            r#"{"id": "n", "body": "b", "created_at": "yesterday", "updated_at": 2}"#,
        );
        assert!(err
            .unwrap_err()
            .to_string()
            .starts_with("\"yesterday\" is not an RFC 3339 time"),);
        let note = read(
            Entity::Note,
            r#"{"id": "n", "body": "b", "created_at": "2026-11-26T09:00:00.000Z", "updated_at": 2, "later": 1}"#,
        )
        .unwrap();
        assert_eq!(note.text(note::BODY), Some("b"));
        assert_eq!(note.at(note::CREATED_AT), Timestamp(1_795_683_600_000));
        assert_eq!(note.local_time(), Timestamp(2));
        assert_eq!(note.deleted_at(), None);
        assert_eq!(
            serde_json::to_string(&note).unwrap(),
            r#"{"id":"n","body":"b","created_at":"2026-11-26T09:00:00.000Z","updated_at":"1970-01-01T00:00:00.002Z","deleted_at":null}"#
        );
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
        let (b, report) = exported_and_imported(&a);
        assert_eq!((report.added, report.rejected.len()), (1, 0), "{report:?}");
        let title: String = b
            .conn()
            .query_row("SELECT title FROM articles", [], |r| r.get(0))
            .unwrap();
        assert_eq!(title, long);
    }
}
