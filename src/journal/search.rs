//! Full-text search over articles (title, text, notes, tags) and free-standing
//! notes, with SQLite FTS5 ranked by bm25.

use rusqlite::params;
use serde::Serialize;

use super::fts_query::{self, has_phrase, matches, superset, Expr, Fields};
use super::query::{article_by_rowid, Article, Note};
use super::Journal;
use crate::error::{Error, Result};
use crate::time::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchHitKind {
    Article,
    Note,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    pub kind: SearchHitKind,
    /// bm25 score: lower is a better match.
    pub score: f64,
    /// A short passage around the match, with matches between the markers.
    pub snippet: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub article: Option<Article>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<Note>,
}

#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub query: String,
    pub tag: Option<String>,
    /// Only the articles of this story (by id), and its own notes.
    pub story: Option<String>,
    /// Only articles clipped (and journal notes written) at or after this.
    pub since: Option<Timestamp>,
    /// Only those clipped (or written) before this.
    pub until: Option<Timestamp>,
    pub limit: usize,
    /// Put around each matched term in snippets.
    pub mark: (String, String),
}

/// The fields of the article index, in index order.
const ARTICLE_FIELDS: &[&str] = &["title", "body", "notes", "tags"];

fn bad_query(q: &str, reason: impl Into<String>) -> Error {
    Error::BadQuery {
        query: q.to_owned(),
        reason: reason.into(),
    }
}

fn has_column(e: &Expr) -> bool {
    match e {
        Expr::Leaf(l) => l.column.is_some(),
        Expr::And(xs) | Expr::Or(xs) => xs.iter().any(has_column),
        Expr::Not(a, b) => has_column(a) || has_column(b),
    }
}

impl Journal {
    /// Searches articles (title, text, notes, tags) and free-standing notes,
    /// best match first. See [`fts_query`] for the syntax and for how
    /// phrases are matched.
    pub fn search(&self, q: &SearchQuery) -> Result<Vec<SearchHit>> {
        let expr =
            fts_query::parse(&q.query, ARTICLE_FIELDS).map_err(|e| bad_query(&q.query, e.0))?;
        let fts = superset(&expr);
        let check = has_phrase(&expr);
        let mut hits = self
            .search_articles(q, &expr, &fts, check)
            .map_err(|e| query_error(&q.query, e))?;
        // Notes have no title or tags; a field filter is about articles.
        if q.tag.is_none() && !has_column(&expr) {
            hits.extend(
                self.search_notes(q, &expr, &fts, check)
                    .map_err(|e| query_error(&q.query, e))?,
            );
            hits.sort_by(|a, b| a.score.total_cmp(&b.score));
            if q.limit > 0 {
                hits.truncate(q.limit);
            }
        }
        Ok(hits)
    }

    fn search_articles(
        &self,
        q: &SearchQuery,
        expr: &Expr,
        fts: &str,
        check: bool,
    ) -> rusqlite::Result<Vec<SearchHit>> {
        let tag_clause = if q.tag.is_some() {
            "AND EXISTS (SELECT 1 FROM article_tags g WHERE g.article_seq = a.seq AND g.tag = ?2)"
        } else {
            "AND ?2 IS NULL"
        };
        // Rank first, then fetch rows and build snippets for the hits only:
        // a snippet reads the whole text, so it is the expensive part.
        let sql = format!(
            "SELECT f.rowid, f.rank FROM article_fts f JOIN articles a ON a.rowid = f.rowid
              WHERE article_fts MATCH ?1 AND a.deleted_at IS NULL {tag_clause}
                AND (?3 IS NULL OR a.clipped_at >= ?3) AND (?4 IS NULL OR a.clipped_at < ?4)
                AND (?5 IS NULL OR a.id IN (SELECT article_id FROM story_articles
                                             WHERE story_id = ?5 AND dropped_at IS NULL))
              ORDER BY f.rank"
        );
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params![fts, q.tag, q.since, q.until, q.story])?;
        let mut found: Vec<(i64, f64)> = Vec::new();
        while let Some(r) = rows.next()? {
            if q.limit > 0 && found.len() >= q.limit {
                break;
            }
            let rowid: i64 = r.get(0)?;
            if check && !self.article_matches(expr, rowid)? {
                continue;
            }
            found.push((rowid, r.get(1)?));
        }
        let mut snippet = conn.prepare_cached(
            "SELECT snippet(article_fts, -1, ?3, ?4, '…', 24) FROM article_fts
              WHERE article_fts MATCH ?1 AND rowid = ?2",
        )?;
        let mut hits = Vec::with_capacity(found.len());
        for (rowid, score) in found {
            hits.push(SearchHit {
                kind: SearchHitKind::Article,
                score,
                snippet: snippet
                    .query_row(params![fts, rowid, q.mark.0, q.mark.1], |r| r.get(0))?,
                article: Some(article_by_rowid(conn, rowid).map_err(into_sqlite)?),
                note: None,
            });
        }
        Ok(hits)
    }

    /// Checks the exact query, phrases included, on one candidate article.
    fn article_matches(&self, expr: &Expr, rowid: i64) -> rusqlite::Result<bool> {
        let conn = self.conn();
        let (title, body, notes, tags): (String, String, Option<String>, Option<String>) = conn
            .prepare_cached(
                "SELECT title, body, notes, tags FROM article_search_src WHERE article_rowid = ?1",
            )?
            .query_row([rowid], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
        let fields = Fields::new(&[
            ("title", &title),
            ("body", &body),
            ("notes", notes.as_deref().unwrap_or("")),
            ("tags", tags.as_deref().unwrap_or("")),
        ]);
        candidate_matches(conn, "article_fts", expr, &fields, rowid)
    }

    fn search_notes(
        &self,
        q: &SearchQuery,
        expr: &Expr,
        fts: &str,
        check: bool,
    ) -> rusqlite::Result<Vec<SearchHit>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT n.id, n.body, n.created_at, n.updated_at, f.rank,
                    snippet(note_fts, 0, ?2, ?3, '…', 24), n.rowid,
                    (SELECT title FROM stories s WHERE s.id = n.story_id)
               FROM note_fts f JOIN notes n ON n.rowid = f.rowid
              WHERE note_fts MATCH ?1 AND n.deleted_at IS NULL AND n.article_id IS NULL
                AND (?4 IS NULL OR n.created_at >= ?4) AND (?5 IS NULL OR n.created_at < ?5)
                AND (?6 IS NULL OR n.story_id = ?6)
              ORDER BY f.rank",
        )?;
        let mut rows = stmt.query(params![fts, q.mark.0, q.mark.1, q.since, q.until, q.story])?;
        let mut hits = Vec::new();
        while let Some(r) = rows.next()? {
            if q.limit > 0 && hits.len() >= q.limit {
                break;
            }
            let body: String = r.get(1)?;
            let rowid: i64 = r.get(6)?;
            if check {
                let fields = Fields::new(&[("body", &body)]);
                let ok = candidate_matches(conn, "note_fts", expr, &fields, rowid)?;
                if !ok {
                    continue;
                }
            }
            hits.push(SearchHit {
                kind: SearchHitKind::Note,
                note: Some(Note {
                    id: r.get(0)?,
                    article_id: None,
                    text: body,
                    created_at: r.get(2)?,
                    updated_at: r.get(3)?,
                    story: r
                        .get::<_, Option<String>>(7)?
                        .map(|t| super::story::story_name(&t)),
                    conflicts: Vec::new(),
                }),
                score: r.get(4)?,
                snippet: r.get(5)?,
                article: None,
            });
        }
        Ok(hits)
    }
}

/// Evaluates the exact query on one candidate: phrases on its text, single
/// words by asking the index about this one row (so they match with the
/// index's stemming).
fn candidate_matches(
    conn: &rusqlite::Connection,
    index: &str,
    expr: &Expr,
    fields: &Fields<'_>,
    rowid: i64,
) -> rusqlite::Result<bool> {
    let sql = format!("SELECT 1 FROM {index} WHERE {index} MATCH ?1 AND rowid = ?2");
    let mut term = conn.prepare_cached(&sql)?;
    let mut failed = None;
    let ok = matches(expr, fields, &mut |leaf| {
        term.exists(params![superset(&Expr::Leaf(leaf.clone())), rowid])
            .unwrap_or_else(|e| {
                failed.get_or_insert(e);
                false
            })
    });
    failed.map_or(Ok(ok), Err)
}

/// Search runs on rusqlite errors; a journal error while reading a hit's
/// article is passed through as one.
fn into_sqlite(e: Error) -> rusqlite::Error {
    match e {
        Error::Database(e) => e,
        other => rusqlite::Error::ToSqlConversionFailure(Box::new(other)),
    }
}

fn query_error(query: &str, e: rusqlite::Error) -> Error {
    let msg = e.to_string();
    if msg.contains("fts5") || msg.contains("no such column") {
        bad_query(query, msg)
    } else {
        e.into()
    }
}
