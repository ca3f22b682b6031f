//! Reading the journal: id resolution, listing, and the shapes the rest of
//! the program sees. Everything here reads; nothing writes.

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, Row};
use serde::Serialize;

use super::Journal;
use crate::content::{hash_normalized, normalize, EMPTY_HASH};
use crate::error::{Candidate, Error, Result};
use crate::time::Timestamp;

/// A resolved article: its rowid (for the index) and its UUID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleRef {
    pub rowid: i64,
    pub id: String,
}

/// A resolved note, with the article it belongs to, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteRef {
    pub rowid: i64,
    pub id: String,
    pub article: Option<ArticleRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Article {
    pub id: String,
    pub title: String,
    pub url: Option<String>,
    pub urls: Vec<String>,
    pub site: Option<String>,
    pub author: Option<String>,
    pub lang: Option<String>,
    pub published_at: Option<Timestamp>,
    pub clipped_at: Timestamp,
    pub updated_at: Timestamp,
    pub deleted_at: Option<Timestamp>,
    /// When it was read; `None` while it is unread.
    pub read_at: Option<Timestamp>,
    /// Imported without its text, which `nj fetch --pending` fetches: its
    /// current text is the empty one and it has no versions yet.
    pub pending: bool,
    pub content_hash: String,
    pub tags: Vec<String>,
    pub word_count: i64,
    #[serde(skip)]
    pub rowid: i64,
}

impl Article {
    pub fn short_id(&self) -> &str {
        short_id(&self.id)
    }

    pub fn as_ref(&self) -> ArticleRef {
        ArticleRef {
            rowid: self.rowid,
            id: self.id.clone(),
        }
    }
}

/// The first 8 characters of an id: what people type and read.
pub fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

#[derive(Debug, Clone, Serialize)]
pub struct Note {
    pub id: String,
    pub article_id: Option<String>,
    pub text: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The short name of the story the note is on (`nj note --story`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub story: Option<String>,
    /// Texts of this note that lost to a concurrent edit on another device,
    /// newest first (filled in by `detail`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Version {
    /// 1 for the first text the article had.
    pub number: usize,
    pub id: String,
    pub content_hash: String,
    pub created_at: Timestamp,
    pub word_count: i64,
    /// How it changed from the version before
    /// ([`Journal::versions_with_changes`]; none for the first).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub change: Option<crate::similar::WordChange>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ArticleDetail {
    #[serde(flatten)]
    pub article: Article,
    pub notes: Vec<Note>,
    pub versions: Vec<Version>,
    /// Syndicated copies folded into it, oldest first.
    pub copies: Vec<super::CopySource>,
}

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only articles with every one of these tags (or, with `any_tag`, at
    /// least one of them).
    pub tags: Vec<String>,
    pub any_tag: bool,
    pub sort: ListSort,
    pub since: Option<Timestamp>,
    /// 0 means no limit.
    pub limit: usize,
    /// List the bin (removed articles) instead of the journal.
    pub removed: bool,
    /// Only read (`Some(true)`) or unread (`Some(false)`) articles.
    pub read: Option<bool>,
    /// Only pending articles: bookmarks whose text is not fetched yet.
    pub pending: bool,
    /// Only the articles in this story (by id).
    pub story: Option<String>,
}

/// The order `nj list` shows articles in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ListSort {
    /// Newest clipped first.
    #[default]
    Clipped,
    /// Newest published first; those without a date last.
    Published,
    /// By title, A to Z, ignoring case.
    Title,
    /// Longest first.
    Words,
}

#[derive(Debug, Clone, Default)]
pub struct NoteFilter {
    pub article: Option<ArticleRef>,
    /// Only free-standing notes.
    pub free_only: bool,
    pub limit: usize,
    /// The removed notes instead.
    pub removed: bool,
}

/// One article whose stored text (its own, a version's, or a syndicated
/// copy's) no longer matches its hash.
#[derive(Debug, Clone, Serialize)]
pub struct Mismatch {
    pub article_id: String,
    pub title: String,
    pub content_hash: String,
    pub computed_hash: String,
    /// Where the copy came from, when the text is a copy's and not the
    /// article's own or a version's; `""` for a copy without a URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy_from: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub texts_checked: usize,
    pub articles: usize,
    pub mismatches: Vec<Mismatch>,
    /// Articles whose pending flag, current text and versions disagree.
    pub inconsistent: Vec<Inconsistent>,
    pub index_ok: bool,
    /// Whether the kept tag counts (what `nj tags` shows) match the links.
    pub tag_counts_ok: bool,
}

/// An article whose parts disagree: pending (no current text) yet with
/// versions, or a current text that is none of its versions or is not
/// stored. `nj verify --repair` mends it ([`super::Tx::mend_article`]).
#[derive(Debug, Clone, Serialize)]
pub struct Inconsistent {
    pub article_id: String,
    pub title: String,
    pub problem: String,
    #[serde(skip)]
    rowid: i64,
}

impl Inconsistent {
    /// The article, to mend it.
    pub fn article(&self) -> ArticleRef {
        ArticleRef {
            rowid: self.rowid,
            id: self.article_id.clone(),
        }
    }
}

/// Tags are lower-case, trimmed, with inner whitespace as dashes, so
/// "Court Cases" and "court-cases" are one tag.
pub fn normalize_tag(raw: &str) -> Option<String> {
    // Most tags come normalised already (an import, a sync): one look, one
    // copy. Most are ASCII too, which a byte test settles; Unicode's case
    // tables cost an import a thirtieth of its writing thread.
    let plain =
        |c: char| !c.is_whitespace() && !c.is_control() && c.to_lowercase().eq(std::iter::once(c));
    let plain_ascii = |b: u8| b.is_ascii_graphic() && !b.is_ascii_uppercase();
    if !raw.is_empty()
        && !raw.starts_with('#')
        && (raw.bytes().all(plain_ascii) || (!raw.is_ascii() && raw.chars().all(plain)))
    {
        return Some(raw.to_owned());
    }
    normalize_tag_slowly(raw)
}

fn normalize_tag_slowly(raw: &str) -> Option<String> {
    let t = raw
        .trim()
        .trim_start_matches('#')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
        .to_lowercase();
    if t.is_empty() || t.chars().any(char::is_control) {
        None
    } else {
        Some(t)
    }
}

/// The columns every article read selects, in the order [`article_from_row`]
/// expects. Tags and URLs come joined by the unit separator, which neither
/// can contain.
pub(super) const ARTICLE_COLUMNS: &str = "
    a.rowid, a.id, a.title, a.url, a.site, a.author, a.lang, a.published_at,
    a.clipped_at, a.updated_at, a.deleted_at, a.content_hash, t.word_count,
    (SELECT group_concat(tag, char(31))
       FROM (SELECT g.tag AS tag FROM article_tags g WHERE g.article_seq = a.seq ORDER BY g.tag)),
    (SELECT group_concat(url, char(31))
       FROM (SELECT u.url AS url FROM article_urls u WHERE u.article_seq = a.seq
              ORDER BY u.url = a.url DESC, u.added_at, u.url)),
    a.read_at";

pub(super) fn article_from_row(r: &Row<'_>) -> rusqlite::Result<Article> {
    let split = |s: Option<String>| -> Vec<String> {
        s.map(|s| s.split('\u{1f}').map(str::to_owned).collect())
            .unwrap_or_default()
    };
    Ok(Article {
        rowid: r.get(0)?,
        id: r.get(1)?,
        title: r.get(2)?,
        url: r.get(3)?,
        site: r.get(4)?,
        author: r.get(5)?,
        lang: r.get(6)?,
        published_at: r.get(7)?,
        clipped_at: r.get(8)?,
        updated_at: r.get(9)?,
        deleted_at: r.get(10)?,
        pending: r.get::<_, String>(11)? == EMPTY_HASH,
        content_hash: r.get(11)?,
        read_at: r.get(15)?,
        word_count: r.get(12)?,
        tags: split(r.get(13)?),
        urls: split(r.get(14)?),
    })
}

/// Checks an id prefix and gives the range of ids it covers.
pub(super) fn prefix_range(prefix: &str) -> Result<(String, String)> {
    let p = prefix.trim().to_ascii_lowercase();
    if p.len() < 4 || p.len() > 36 || !p.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(Error::BadId(prefix.to_owned()));
    }
    // Ids are hex digits and dashes, all of which sort before '~'.
    let upper = format!("{p}~");
    Ok((p, upper))
}

/// Finds the one row whose id starts with `prefix`. `sql` selects rows
/// with `id >= ?1 AND id < ?2`, ordered by id, at most 11; `row` reads each
/// as the value wanted and how to name it if the prefix is ambiguous.
pub(super) fn resolve_prefix<T>(
    conn: &Connection,
    prefix: &str,
    kind: &'static str,
    hint: &'static str,
    sql: &str,
    row: impl FnMut(&Row<'_>) -> rusqlite::Result<(T, Candidate)>,
) -> Result<T> {
    let (lo, hi) = prefix_range(prefix)?;
    let mut rows: Vec<(T, Candidate)> = conn
        .prepare_cached(sql)?
        .query_map(params![lo, hi], row)?
        .collect::<rusqlite::Result<_>>()?;
    match rows.len() {
        0 => Err(Error::NotFound {
            kind,
            prefix: prefix.to_owned(),
            hint,
        }),
        1 => Ok(rows.pop().expect("one row").0),
        n => Err(Error::Ambiguous {
            kind,
            prefix: prefix.to_owned(),
            more: n > 10,
            candidates: rows.into_iter().take(10).map(|(_, c)| c).collect(),
        }),
    }
}

pub(crate) fn resolve_article(conn: &Connection, prefix: &str) -> Result<ArticleRef> {
    resolve_prefix(
        conn,
        prefix,
        "article",
        "`nj list` shows ids, and `nj list --removed` the bin",
        "SELECT rowid, id, title, deleted_at IS NOT NULL FROM articles
          WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 11",
        |r| {
            let (id, title, removed): (String, String, bool) = (r.get(1)?, r.get(2)?, r.get(3)?);
            let label = if removed {
                format!("{title} (removed)")
            } else {
                title
            };
            Ok((
                ArticleRef {
                    rowid: r.get(0)?,
                    id: id.clone(),
                },
                Candidate { id, label },
            ))
        },
    )
}

pub(crate) fn resolve_note(conn: &Connection, prefix: &str, removed: bool) -> Result<NoteRef> {
    let sql = format!(
        "SELECT n.rowid, n.id, n.body, a.rowid, a.id FROM notes n
           LEFT JOIN articles a ON a.id = n.article_id
          WHERE n.id >= ?1 AND n.id < ?2 AND n.deleted_at IS {} NULL ORDER BY n.id LIMIT 11",
        if removed { "NOT" } else { "" }
    );
    resolve_prefix(
        conn,
        prefix,
        "note",
        "`nj notes` shows note ids",
        &sql,
        |r| {
            let article = match r.get::<_, Option<i64>>(3)? {
                Some(rowid) => Some(ArticleRef {
                    rowid,
                    id: r.get(4)?,
                }),
                None => None,
            };
            let id: String = r.get(1)?;
            let body: String = r.get(2)?;
            Ok((
                NoteRef {
                    rowid: r.get(0)?,
                    id: id.clone(),
                    article,
                },
                Candidate {
                    id,
                    label: crate::content::first_line(&body, 60),
                },
            ))
        },
    )
}

pub(crate) fn article_by_rowid(conn: &Connection, rowid: i64) -> Result<Article> {
    let sql = format!(
        "SELECT {ARTICLE_COLUMNS} FROM articles a JOIN texts t ON t.hash = a.content_hash
          WHERE a.rowid = ?1"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([rowid], article_from_row)?)
}

/// The stored text with this hash, read by `read` (see [`super::codec`]);
/// none when it is not stored.
pub(super) fn stored_text<T>(
    conn: &Connection,
    hash: &str,
    read: impl FnOnce(ValueRef<'_>) -> Result<T>,
) -> Result<Option<T>> {
    let mut stmt = conn.prepare_cached("SELECT body FROM texts WHERE hash = ?1")?;
    let mut rows = stmt.query([hash])?;
    match rows.next()? {
        Some(r) => read(r.get_ref(0)?).map(Some),
        None => Ok(None),
    }
}

pub(crate) fn versions(conn: &Connection, article: &ArticleRef) -> Result<Vec<Version>> {
    let mut stmt = conn.prepare_cached(
        "SELECT v.id, v.content_hash, v.created_at, t.word_count
           FROM versions v JOIN texts t ON t.hash = v.content_hash
          WHERE v.article_id = ?1 ORDER BY v.created_at, v.rowid",
    )?;
    let rows = stmt
        .query_map([&article.id], |r| {
            Ok(Version {
                number: 0,
                id: r.get(0)?,
                content_hash: r.get(1)?,
                created_at: r.get(2)?,
                word_count: r.get(3)?,
                change: None,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        .enumerate()
        .map(|(i, v)| Version { number: i + 1, ..v })
        .collect())
}

/// The columns [`note_from_row`] reads: the note's, and its story's title.
const NOTE_COLUMNS: &str = "id, article_id, body, created_at, updated_at,
    (SELECT title FROM stories s WHERE s.id = notes.story_id)";

/// Reads [`NOTE_COLUMNS`].
fn note_from_row(r: &Row<'_>) -> rusqlite::Result<Note> {
    Ok(Note {
        id: r.get(0)?,
        article_id: r.get(1)?,
        text: r.get(2)?,
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
        story: r
            .get::<_, Option<String>>(5)?
            .map(|t| super::story::story_name(&t)),
        conflicts: Vec::new(),
    })
}

pub(crate) fn notes(conn: &Connection, filter: &NoteFilter) -> Result<Vec<Note>> {
    let mut sql = format!("SELECT {NOTE_COLUMNS} FROM notes WHERE deleted_at IS ");
    sql.push_str(if filter.removed { "NOT NULL" } else { "NULL" });
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(a) = &filter.article {
        sql.push_str(" AND article_id = ?");
        args.push(a.id.clone().into());
    } else if filter.free_only {
        sql.push_str(" AND article_id IS NULL");
    }
    sql.push_str(if filter.article.is_some() {
        " ORDER BY created_at, rowid"
    } else {
        " ORDER BY created_at DESC, rowid DESC"
    });
    if filter.limit > 0 {
        sql.push_str(&format!(" LIMIT {}", filter.limit.min(i64::MAX as usize)));
    }
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), note_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

impl Journal {
    pub fn resolve_article(&self, prefix: &str) -> Result<ArticleRef> {
        resolve_article(self.conn(), prefix)
    }

    /// Articles whose ids come nearest a mistyped prefix: those sharing the
    /// longest leading run of its hex digits (at least one), else none.
    /// For "did you mean" lists.
    pub fn articles_near(&self, prefix: &str, limit: usize) -> Result<Vec<Candidate>> {
        let p = prefix.trim().to_ascii_lowercase();
        let hex: String = p
            .chars()
            .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
            .collect();
        let mut stmt = self.conn().prepare_cached(
            "SELECT id, title FROM articles WHERE id >= ?1 AND id < ?2 AND deleted_at IS NULL
              ORDER BY id LIMIT ?3",
        )?;
        for len in (1..=hex.len()).rev() {
            let lo = &hex[..len];
            let hi = format!("{lo}~");
            let found: Vec<Candidate> = stmt
                .query_map(params![lo, hi, limit as i64], |r| {
                    Ok(Candidate {
                        id: r.get(0)?,
                        label: r.get(1)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            if !found.is_empty() {
                return Ok(found);
            }
        }
        Ok(Vec::new())
    }

    pub fn resolve_note(&self, prefix: &str) -> Result<NoteRef> {
        resolve_note(self.conn(), prefix, false)
    }

    /// Resolves a removed note, for `nj notes restore`.
    pub fn resolve_removed_note(&self, prefix: &str) -> Result<NoteRef> {
        resolve_note(self.conn(), prefix, true)
    }

    pub fn article(&self, article: &ArticleRef) -> Result<Article> {
        article_by_rowid(self.conn(), article.rowid)
    }

    pub fn detail(&self, article: &ArticleRef) -> Result<ArticleDetail> {
        let mut notes = self.notes(&NoteFilter {
            article: Some(article.clone()),
            ..NoteFilter::default()
        })?;
        for n in &mut notes {
            n.conflicts = self.note_conflicts(&n.id)?;
        }
        Ok(ArticleDetail {
            article: self.article(article)?,
            notes,
            versions: self.versions(article)?,
            copies: self.copies_of(article)?,
        })
    }

    pub fn versions(&self, article: &ArticleRef) -> Result<Vec<Version>> {
        versions(self.conn(), article)
    }

    /// [`Journal::versions`], each after the first with how its text
    /// changed from the one before: words added and removed, and whether
    /// only a date or an "Updated" line did.
    pub fn versions_with_changes(&self, article: &ArticleRef) -> Result<Vec<Version>> {
        let mut versions = self.versions(article)?;
        let mut before: Option<String> = None;
        for v in &mut versions {
            let text = self.text(&v.content_hash)?;
            v.change = before.map(|old| crate::similar::word_change(&old, &text));
            before = Some(text);
        }
        Ok(versions)
    }

    pub fn note(&self, note: &NoteRef) -> Result<Note> {
        Ok(self
            .conn()
            .prepare_cached(&format!(
                "SELECT {NOTE_COLUMNS} FROM notes WHERE rowid = ?1"
            ))?
            .query_row([note.rowid], note_from_row)?)
    }

    pub fn notes(&self, filter: &NoteFilter) -> Result<Vec<Note>> {
        notes(self.conn(), filter)
    }

    /// The stored text with this hash.
    pub fn text(&self, hash: &str) -> Result<String> {
        self.stored_text(hash, super::codec::decode)
    }

    /// A text in the form it is synced in (see [`super::codec::to_wire`]).
    pub fn wire_text(&self, hash: &str) -> Result<Vec<u8>> {
        self.stored_text(hash, super::codec::to_wire)
    }

    fn stored_text<T>(
        &self,
        hash: &str,
        read: impl FnOnce(ValueRef<'_>) -> Result<T>,
    ) -> Result<T> {
        stored_text(self.conn(), hash, read)?.ok_or_else(|| {
            Error::Other(anyhow::anyhow!(
                "the text {hash} is missing from the journal; run `nj verify`"
            ))
        })
    }

    /// Articles, newest first (or in `filter.sort`'s order).
    pub fn list(&self, filter: &ListFilter) -> Result<Vec<Article>> {
        // By words, from the longest texts to their articles (the texts'
        // index is in that order; CROSS JOIN keeps SQLite to it).
        let from = if filter.sort == ListSort::Words {
            "texts t CROSS JOIN articles a ON a.content_hash = t.hash"
        } else {
            "articles a JOIN texts t ON t.hash = a.content_hash"
        };
        let mut sql = format!("SELECT {ARTICLE_COLUMNS} FROM {from} WHERE ");
        sql.push_str(if filter.removed {
            "a.deleted_at IS NOT NULL"
        } else {
            "a.deleted_at IS NULL"
        });
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if !filter.tags.is_empty() {
            // Each tag a look-up in the link table's primary key.
            let one =
                "EXISTS (SELECT 1 FROM article_tags g WHERE g.article_seq = a.seq AND g.tag = ?)";
            let joined =
                vec![one; filter.tags.len()].join(if filter.any_tag { " OR " } else { " AND " });
            sql.push_str(&format!(" AND ({joined})"));
            args.extend(filter.tags.iter().map(|t| t.clone().into()));
        }
        if let Some(since) = filter.since {
            sql.push_str(" AND a.clipped_at >= ?");
            args.push(since.0.into());
        }
        match filter.read {
            Some(true) => sql.push_str(" AND a.read_at IS NOT NULL"),
            Some(false) => sql.push_str(" AND a.read_at IS NULL"),
            None => {}
        }
        if filter.pending {
            sql.push_str(" AND a.content_hash = ?");
            args.push(EMPTY_HASH.to_owned().into());
        }
        if let Some(story) = &filter.story {
            sql.push_str(
                " AND a.id IN (SELECT article_id FROM story_articles
                                WHERE story_id = ? AND dropped_at IS NULL)",
            );
            args.push(story.clone().into());
        }
        sql.push_str(match filter.sort {
            ListSort::Clipped => " ORDER BY a.clipped_at DESC, a.rowid DESC",
            // Each reads its index in order; ties go newest first by row
            // (clipping order). A third term would make SQLite sort every
            // article instead. NULL sorts lowest, so undated comes last.
            ListSort::Published => " ORDER BY a.published_at DESC, a.seq DESC",
            ListSort::Title => " ORDER BY a.title COLLATE NOCASE, a.seq DESC",
            ListSort::Words => " ORDER BY t.word_count DESC, a.seq DESC",
        });
        if filter.limit > 0 {
            sql.push_str(&format!(" LIMIT {}", filter.limit.min(i64::MAX as usize)));
        }
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), article_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Every tag in use on live articles, with how many articles carry it,
    /// from the counts the schema's triggers keep.
    pub fn tags(&self) -> Result<Vec<(String, i64)>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT tag, articles FROM tag_counts WHERE articles > 0 ORDER BY articles DESC, tag",
        )?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The articles whose pending flag, current text and versions disagree
    /// (the part of [`Journal::verify`] that `nj verify --repair` mends).
    pub fn inconsistent(&self) -> Result<Vec<Inconsistent>> {
        inconsistent_articles(self.conn())
    }

    /// Recomputes the hash of every stored text and checks the search index
    /// against the rows.
    pub fn verify(&self) -> Result<VerifyReport> {
        let conn = self.conn();
        let mut bad: Vec<(String, String)> = Vec::new();
        let mut texts_checked = 0;
        {
            // The empty text is the schema's own (pending articles point
            // at it), not one anyone stored.
            let mut stmt = conn.prepare(&format!(
                "SELECT hash, body FROM texts WHERE hash != '{EMPTY_HASH}'"
            ))?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let hash: String = r.get(0)?;
                texts_checked += 1;
                let Ok(body) = super::codec::decode(r.get_ref(1)?) else {
                    bad.push((hash, "(unreadable)".to_owned()));
                    continue;
                };
                // A stored text must be normalised already; if it is not,
                // the hash no longer describes what `show --text` prints.
                let computed = hash_normalized(&body);
                if computed != hash || normalize(&body) != body {
                    bad.push((hash, computed));
                }
            }
        }
        let mut mismatches = Vec::new();
        for (hash, computed) in bad {
            let mut stmt = conn.prepare_cached(
                "SELECT a.id, a.title, NULL FROM articles a
                  WHERE a.content_hash = ?1
                     OR a.id IN (SELECT article_id FROM versions WHERE content_hash = ?1)
                 UNION
                 SELECT a.id, a.title, ifnull(c.url, '') FROM copies c
                   JOIN articles a ON a.id = c.article_id
                  WHERE c.content_hash = ?1
                  ORDER BY 1, 3",
            )?;
            let rows: Vec<(String, String, Option<String>)> = stmt
                .query_map([&hash], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (article_id, title, copy_from) in rows {
                mismatches.push(Mismatch {
                    article_id,
                    title,
                    content_hash: hash.clone(),
                    computed_hash: computed.clone(),
                    copy_from,
                });
            }
        }
        let articles: i64 = conn.query_row("SELECT count(*) FROM articles", [], |r| r.get(0))?;
        let inconsistent = inconsistent_articles(conn)?;
        let tag_counts_ok: bool = conn.query_row(
            "SELECT NOT EXISTS (
                 SELECT tag, articles FROM tag_counts WHERE articles > 0
                 EXCEPT SELECT tag, articles FROM tag_counts_from_links)
             AND NOT EXISTS (
                 SELECT tag, articles FROM tag_counts_from_links
                 EXCEPT SELECT tag, articles FROM tag_counts WHERE articles > 0)",
            [],
            |r| r.get(0),
        )?;
        let index_ok = conn
            .execute_batch(
                "INSERT INTO article_fts(article_fts, rank) VALUES ('integrity-check', 1);
                 INSERT INTO note_fts(note_fts, rank) VALUES ('integrity-check', 1);",
            )
            .is_ok();
        Ok(VerifyReport {
            texts_checked,
            articles: articles as usize,
            mismatches,
            inconsistent,
            index_ok,
            tag_counts_ok,
        })
    }
}

/// The articles whose pending flag, current text and versions disagree
/// (see [`Inconsistent`]). One pass over the articles with two index
/// look-ups each.
pub(crate) fn inconsistent_articles(conn: &Connection) -> Result<Vec<Inconsistent>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT rowid, id, title, pending, versions, current_is_version, has_text FROM (
           SELECT a.rowid AS rowid, a.id AS id, a.title AS title,
                  a.content_hash = '{EMPTY_HASH}' AS pending,
                  (SELECT count(*) FROM versions v WHERE v.article_id = a.id) AS versions,
                  EXISTS (SELECT 1 FROM versions v
                           WHERE v.article_id = a.id AND v.content_hash = a.content_hash)
                    AS current_is_version,
                  EXISTS (SELECT 1 FROM texts t WHERE t.hash = a.content_hash) AS has_text
             FROM articles a)
          WHERE (pending AND versions > 0)
             OR (NOT pending AND (NOT current_is_version OR NOT has_text))
          ORDER BY id"
    ))?;
    let rows = stmt
        .query_map([], |r| {
            let (pending, versions, has_text): (bool, i64, bool) =
                (r.get(3)?, r.get(4)?, r.get(6)?);
            let problem = if pending {
                format!("listed as pending (no text), yet it has {versions} version(s)")
            } else if !has_text {
                "its current text is not stored".to_owned()
            } else {
                "its current text is none of its versions".to_owned()
            };
            Ok(Inconsistent {
                rowid: r.get(0)?,
                article_id: r.get(1)?,
                title: r.get(2)?,
                problem,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_normalise() {
        assert_eq!(
            normalize_tag("  Court Cases ").as_deref(),
            Some("court-cases")
        );
        assert_eq!(normalize_tag("#JEDI").as_deref(), Some("jedi"));
        assert_eq!(normalize_tag("   "), None);
        assert_eq!(normalize_tag("a\u{7}b"), None);
        // The quick path for tags already normalised gives what the full
        // one would.
        for t in [
            "court-cases",
            "jedi",
            "ǅemal",
            "ǆemal",
            "straße",
            "ΣΑΣ",
            "σας",
            "İstanbul",
            "déjà-vu",
            "a\u{85}b",
            "tab\tbed",
            "#",
            "##x",
            "x#",
            "日本",
            "-",
            "a\u{2028}b",
            "Jedi",
            "jedI",
            "a b",
            "a\u{7f}b",
            "a\u{0}b",
            "~!@$%^&*()_+{}|:<>?",
            "défense-Court",
        ] {
            assert_eq!(normalize_tag(t), normalize_tag_slowly(t), "{t:?}");
        }
    }

    #[test]
    fn id_prefixes_need_four_hex_characters() {
        assert!(prefix_range("3fa").is_err());
        assert!(prefix_range("zzzz").is_err());
        assert_eq!(
            prefix_range("3FA9").unwrap(),
            ("3fa9".into(), "3fa9~".into())
        );
    }
}
