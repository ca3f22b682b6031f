//! Related coverage: the other articles on an article's story. Its
//! separate copies come first; then the articles that share the most of
//! its distinctive words (the words it uses most that few articles use),
//! ranked by the search index.

use std::collections::{HashMap, HashSet};

use rusqlite::params;
use serde::Serialize;

use super::copies::copies_among;
use super::query::{article_by_rowid, ArticleRef};
use super::{Article, Journal};
use crate::error::Result;
use crate::similar::{Shingles, Sketch};

/// Words a story is told with rather than about: never distinctive.
const STOPWORDS: &[&str] = &[
    "about", "after", "again", "against", "also", "among", "another", "around", "back", "because",
    "been", "before", "being", "between", "both", "could", "does", "during", "each", "even",
    "first", "from", "have", "having", "here", "however", "into", "just", "last", "like", "made",
    "make", "many", "more", "most", "much", "must", "never", "next", "only", "other", "over",
    "people", "said", "same", "says", "should", "since", "some", "still", "such", "than", "that",
    "their", "them", "then", "there", "these", "they", "this", "those", "through", "time", "times",
    "today", "told", "under", "until", "very", "week", "weeks", "well", "were", "what", "when",
    "where", "which", "while", "will", "with", "within", "without", "would", "year", "years",
    "your",
];

/// Articles that share fewer of the distinctive words than this are not
/// taken for the same story.
const LEAST_SHARED: usize = 2;

/// Words of the article looked up: its most frequent, of the rest.
const CANDIDATE_WORDS: usize = 25;

/// Words the related articles are searched by.
const QUERY_WORDS: usize = 10;

/// A word in more articles than this is common, not distinctive. Counting
/// stops there, so a common word costs a bounded look-up.
const MOST_ARTICLES: i64 = 500;

/// Another article on the story, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Related {
    pub article: Article,
    /// For a separate copy: how alike its text is
    /// ([`crate::similar::Overlap::similarity`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy: Option<f64>,
    /// The distinctive words of the article it uses too, most distinctive
    /// first.
    pub shares: Vec<String>,
}

impl Journal {
    /// Up to `limit` other articles outside the bin on the same story as
    /// `article`, best first: its separate copies, most alike first, then
    /// the articles that share the most of its distinctive words.
    pub fn related(&self, article: &ArticleRef, limit: usize) -> Result<Vec<Related>> {
        let me = article_by_rowid(self.conn(), article.rowid)?;
        let text = self.text(&me.content_hash)?;
        let mut out = self.copies_apart(&me, &text)?;
        out.truncate(limit);
        let mut seen: HashSet<String> = out.iter().map(|r| r.article.id.clone()).collect();
        seen.insert(me.id.clone());
        if out.len() >= limit {
            return Ok(out);
        }
        let words = self.distinctive_words(&me.title, &text)?;
        if words.is_empty() {
            return Ok(out);
        }
        let query = words
            .iter()
            .map(|w| format!("\"{w}\""))
            .collect::<Vec<_>>()
            .join(" OR ");
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT f.rowid FROM article_fts f JOIN articles a ON a.rowid = f.rowid
              WHERE article_fts MATCH ?1 AND a.deleted_at IS NULL
              ORDER BY f.rank LIMIT ?2",
        )?;
        let found: Vec<i64> = stmt
            .query_map(params![query, (limit * 3 + 1) as i64], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut has = conn.prepare_cached(
            "SELECT 1 FROM article_fts WHERE article_fts MATCH ?1 AND rowid = ?2",
        )?;
        for rowid in found {
            if out.len() >= limit {
                break;
            }
            let other = article_by_rowid(conn, rowid)?;
            if !seen.insert(other.id.clone()) {
                continue;
            }
            let mut shares = Vec::new();
            for w in &words {
                if has.exists(params![format!("\"{w}\""), rowid])? {
                    shares.push(w.clone());
                }
            }
            if shares.len() < LEAST_SHARED {
                continue;
            }
            out.push(Related {
                article: other,
                copy: None,
                shares,
            });
        }
        Ok(out)
    }

    /// The articles outside the bin, other than `me`, whose texts are
    /// copies of its text, most alike first.
    fn copies_apart(&self, me: &Article, text: &str) -> Result<Vec<Related>> {
        let shingles = Shingles::of(text);
        let Some(sketch) = Sketch::of(&shingles) else {
            return Ok(Vec::new());
        };
        let conn = self.conn();
        copies_among(conn, &shingles, &sketch.band_keys(), Some(me.rowid), true)?
            .into_iter()
            .map(|(seq, alike)| {
                Ok(Related {
                    article: article_by_rowid(conn, seq)?,
                    copy: Some(alike),
                    shares: Vec::new(),
                })
            })
            .collect()
    }

    /// The words that tell this article's story: of its most frequent
    /// words (a title's count thrice), those in fewest other articles,
    /// weighed by how often it uses them (tf-idf). The search index counts
    /// the articles, with its own stemming, so "protests" and "protest"
    /// are one word.
    fn distinctive_words(&self, title: &str, text: &str) -> Result<Vec<String>> {
        let mut counts: HashMap<String, usize> = HashMap::new();
        let mut add = |s: &str, weight: usize| {
            for w in s.split(|c: char| !c.is_alphabetic()) {
                let w = w.to_lowercase();
                if w.chars().count() >= 4 && !STOPWORDS.contains(&w.as_str()) {
                    *counts.entry(w).or_default() += weight;
                }
            }
        };
        add(title, 3);
        add(text, 1);
        let mut words: Vec<(String, usize)> = counts.into_iter().collect();
        words.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
        words.truncate(CANDIDATE_WORDS);
        let conn = self.conn();
        // How many articles there are, near enough for a weight, without
        // counting them (a scan of every one at each look-up).
        let total = self.last_article_seq()?;
        let mut count = conn.prepare_cached(
            "SELECT count(*) FROM (SELECT 1 FROM article_fts WHERE article_fts MATCH ?1 LIMIT ?2)",
        )?;
        let mut scored: Vec<(String, f64)> = Vec::new();
        for (w, tf) in words {
            let df: i64 =
                count.query_row(params![format!("\"{w}\""), MOST_ARTICLES], |r| r.get(0))?;
            // Only in this article (nothing to share), or in too many.
            if df <= 1 || df >= MOST_ARTICLES {
                continue;
            }
            let idf = ((total.max(df) as f64) / df as f64).ln();
            scored.push((w, tf as f64 * idf));
        }
        scored.sort_by(|x, y| y.1.total_cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
        scored.truncate(QUERY_WORDS);
        Ok(scored.into_iter().map(|(w, _)| w).collect())
    }
}
