//! Full-text search over articles (title, text, notes, tags) and free-standing
//! notes, with SQLite FTS5 ranked by bm25.

use rusqlite::params;
use serde::Serialize;

use super::query::{article_from_row, Article, Note, ARTICLE_COLUMNS};
use super::Journal;
use crate::error::{Error, Result};

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
    pub limit: usize,
    /// Put around each matched term in snippets.
    pub mark: (String, String),
}

/// Quotes each word of a query that FTS5 cannot read as typed, keeping its
/// operators, parentheses, quoted phrases and `prefix*` terms, and closing
/// an unclosed quote. `follow-up` becomes `"follow-up"`, which FTS5 reads as
/// the phrase "follow up".
fn quote_barewords(query: &str) -> String {
    let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
    let mut out: Vec<String> = Vec::new();
    let mut chars = query.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '(' || c == ')' {
            out.push(c.to_string());
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut phrase = String::new();
            for c in chars.by_ref() {
                if c == '"' {
                    break;
                }
                phrase.push(c);
            }
            out.push(format!("\"{phrase}\""));
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || matches!(c, '"' | '(' | ')') {
                    break;
                }
                word.push(c);
                chars.next();
            }
            let keep = matches!(word.as_str(), "AND" | "OR" | "NOT")
                || plain(&word)
                || word.strip_suffix('*').is_some_and(plain);
            out.push(if keep { word } else { format!("\"{word}\"") });
        }
    }
    out.join(" ")
}

fn is_query_error(e: &rusqlite::Error) -> Option<String> {
    let msg = e.to_string();
    (msg.contains("fts5")
        || msg.contains("no such column")
        || msg.contains("unknown special query"))
    .then_some(msg)
}

impl Journal {
    /// Searches the journal. A query that FTS5 cannot parse as typed is tried
    /// once more with its odd words quoted, so `nj search follow-up` works;
    /// if that fails too, the error says what FTS5 objected to.
    pub fn search(&self, q: &SearchQuery) -> Result<Vec<SearchHit>> {
        match self.search_raw(q, &q.query) {
            Ok(hits) => Ok(hits),
            Err(e) => {
                let Some(reason) = is_query_error(&e) else {
                    return Err(e.into());
                };
                let quoted = quote_barewords(&q.query);
                if quoted != q.query {
                    if let Ok(hits) = self.search_raw(q, &quoted) {
                        return Ok(hits);
                    }
                }
                Err(Error::BadQuery {
                    query: q.query.clone(),
                    reason,
                })
            }
        }
    }

    fn search_raw(&self, q: &SearchQuery, fts_query: &str) -> rusqlite::Result<Vec<SearchHit>> {
        let limit = if q.limit == 0 { -1 } else { q.limit as i64 };
        let mut hits = Vec::new();
        let tag_clause = if q.tag.is_some() {
            "AND EXISTS (SELECT 1 FROM article_tags g WHERE g.article_id = a.id AND g.tag = ?5)"
        } else {
            "AND ?5 IS NULL"
        };
        let sql = format!(
            "SELECT {ARTICLE_COLUMNS}, f.rank, snippet(article_fts, -1, ?2, ?3, '…', 24)
               FROM article_fts f
               JOIN articles a ON a.rowid = f.rowid
               JOIN texts t ON t.hash = a.content_hash
              WHERE article_fts MATCH ?1 AND a.deleted_at IS NULL {tag_clause}
              ORDER BY f.rank LIMIT ?4"
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let mut rows = stmt.query(params![fts_query, q.mark.0, q.mark.1, limit, q.tag])?;
        while let Some(r) = rows.next()? {
            hits.push(SearchHit {
                kind: SearchHitKind::Article,
                article: Some(article_from_row(r)?),
                score: r.get(15)?,
                snippet: r.get(16)?,
                note: None,
            });
        }
        if q.tag.is_none() {
            let mut stmt = self.conn().prepare_cached(
                "SELECT n.id, n.body, n.created_at, n.updated_at, f.rank,
                        snippet(note_fts, 0, ?2, ?3, '…', 24)
                   FROM note_fts f JOIN notes n ON n.rowid = f.rowid
                  WHERE note_fts MATCH ?1 AND n.deleted_at IS NULL AND n.article_id IS NULL
                  ORDER BY f.rank LIMIT ?4",
            )?;
            let mut rows = stmt.query(params![fts_query, q.mark.0, q.mark.1, limit])?;
            while let Some(r) = rows.next()? {
                hits.push(SearchHit {
                    kind: SearchHitKind::Note,
                    note: Some(Note {
                        id: r.get(0)?,
                        article_id: None,
                        text: r.get(1)?,
                        created_at: r.get(2)?,
                        updated_at: r.get(3)?,
                    }),
                    score: r.get(4)?,
                    snippet: r.get(5)?,
                    article: None,
                });
            }
            hits.sort_by(|a, b| a.score.total_cmp(&b.score));
            if q.limit > 0 {
                hits.truncate(q.limit);
            }
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn barewords_are_quoted_and_operators_kept() {
        assert_eq!(
            quote_barewords("follow-up AND court"),
            "\"follow-up\" AND court"
        );
        assert_eq!(
            quote_barewords("jedi* \"contract award\""),
            "jedi* \"contract award\""
        );
        assert_eq!(quote_barewords("c++"), "\"c++\"");
        assert_eq!(quote_barewords("\"unclosed phrase"), "\"unclosed phrase\"");
        assert_eq!(quote_barewords("(a OR b.c)"), "( a OR \"b.c\" )");
    }
}
