//! Syndicated copies: each article's copy keys (the LSH band keys of its
//! current text, `crate::similar`), kept up to date at every commit, and
//! the groups of near-copies the journal holds.

use std::collections::{HashMap, HashSet};

use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::query::{article_by_rowid, stored_text, ArticleRef, NoteRef};
use super::{Article, Journal, Tx};
use crate::content::{Content, EMPTY_HASH};
use crate::entity::fields::note;
use crate::error::Result;
use crate::similar::{Shingles, Sketch, BANDS};
use crate::time::Timestamp;

/// The articles one key may bring together before it is taken for a
/// template every article shares rather than a sign of copies: comparing
/// every pair in it would cost the square of its size.
const MOST_IN_ONE_KEY: usize = 64;

impl Tx<'_> {
    /// Makes the copy keys of every article in `copy_queue` (filled by
    /// triggers on `articles`, whatever wrote the row) and empties it.
    pub(super) fn write_copy_keys(&mut self) -> Result<()> {
        let mut known = std::mem::take(&mut self.copy_keys_made);
        let conn = self.conn();
        let queued: Vec<(i64, Option<String>, Option<String>)> = conn
            .prepare_cached(
                "SELECT q.article_seq, q.old_hash, a.content_hash
                   FROM copy_queue q LEFT JOIN articles a ON a.seq = q.article_seq",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        if queued.is_empty() {
            self.copy_keys_made = known;
            return Ok(());
        }
        for (seq, old, current) in &queued {
            let seq = *seq;
            let (old, current) = (old.clone(), current.clone());
            if let Some(keys) = old
                .map(|h| keys_of(conn, &known, &h))
                .transpose()?
                .flatten()
            {
                let mut delete = conn
                    .prepare_cached("DELETE FROM copy_keys WHERE key = ?1 AND article_seq = ?2")?;
                for key in keys {
                    delete.execute(params![key, seq])?;
                }
            }
            if let Some(keys) = current
                .map(|h| keys_of(conn, &known, &h))
                .transpose()?
                .flatten()
            {
                let met = conn
                    .prepare_cached(
                        "SELECT 1 FROM copy_keys
                          WHERE key IN (SELECT value FROM json_each(?1)) AND article_seq != ?2",
                    )?
                    .exists(params![keys_json(&keys)?, seq])?;
                if met {
                    conn.prepare_cached(
                        "INSERT OR IGNORE INTO copy_suspects(article_seq) VALUES (?1)",
                    )?
                    .execute([seq])?;
                }
                let mut insert = conn.prepare_cached(
                    "INSERT OR IGNORE INTO copy_keys(key, article_seq) VALUES (?1, ?2)",
                )?;
                for key in keys {
                    insert.execute(params![key, seq])?;
                }
            }
        }
        conn.execute("DELETE FROM copy_queue", [])?;
        // What is left waits for its article (a clip's text, stored before
        // the commit makes its keys), if there are few; the rest is read
        // again should it be needed.
        for (_, _, current) in &queued {
            if let Some(h) = current {
                known.remove(h);
            }
        }
        if known.len() <= 64 {
            self.copy_keys_made = known;
        }
        Ok(())
    }

    /// For an import, called with each item: makes the copy keys of the
    /// articles queued so far every few hundred items, on the writing
    /// thread, which otherwise waits for the parsing one, instead of all
    /// at commit, when nothing else is left to run beside it.
    pub(super) fn copy_keys_as_it_goes(&mut self) -> Result<()> {
        self.items_since_copy_keys += 1;
        if self.items_since_copy_keys >= 256 {
            self.items_since_copy_keys = 0;
            self.write_copy_keys()?;
        }
        Ok(())
    }
}

impl Tx<'_> {
    /// The article outside the bin whose current text `content` is a copy
    /// of, the most alike if several are, and how alike.
    pub(super) fn find_copy(&mut self, content: &Content) -> Result<Option<(ArticleRef, f64)>> {
        self.find_copy_but(content, None)
    }

    /// [`Tx::find_copy`] among the articles other than `but`. An article
    /// kept apart (`--separate`) is never the one found.
    fn find_copy_but(
        &mut self,
        content: &Content,
        but: Option<i64>,
    ) -> Result<Option<(ArticleRef, f64)>> {
        let shingles = Shingles::of(&content.text);
        let keys = Sketch::of(&shingles).map(|s| s.band_keys());
        // Kept for the commit, which makes the keys of the clip's text.
        self.copy_keys_made.insert(content.hash.clone(), keys);
        let Some(keys) = keys else {
            return Ok(None);
        };
        // Articles written earlier in this transaction get their keys first.
        self.write_copy_keys()?;
        let best = copies_among(self.conn(), &shingles, &keys, but, false)?
            .into_iter()
            .next();
        best.map(|(rowid, alike)| {
            let id = article_by_rowid(self.conn(), rowid)?.id;
            Ok((ArticleRef { rowid, id }, alike))
        })
        .transpose()
    }
}

impl Tx<'_> {
    /// Folds an article that is a copy of `into` into it, as `nj clip`
    /// folds a copy: its text (and the copies folded into it) become
    /// copies of `into`, its URLs, tags, notes and follow-ups move there,
    /// and it goes to the bin. Each step is an ordinary change, so other
    /// devices see the same fold.
    pub(super) fn fold_copy(&mut self, from: &Article, into: &ArticleRef) -> Result<()> {
        let own: Vec<(Option<String>, String, Timestamp)> = self
            .conn()
            .prepare_cached(
                "SELECT url, content_hash, created_at FROM copies WHERE article_id = ?1
                  ORDER BY created_at, id",
            )?
            .query_map([&from.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        // Dated when it was clipped, not now: two devices folding the same
        // copy make the same row.
        self.record_copies(into, &from.urls, &from.content_hash, from.clipped_at)?;
        for (url, hash, at) in &own {
            self.record_copy(into, url.as_ref(), hash, *at)?;
        }
        // Its notes move (a copy of each, as a bookmark's fold makes, would
        // be made twice when two devices fold the same copy).
        let notes: Vec<NoteRef> = self
            .conn()
            .prepare_cached("SELECT rowid, id FROM notes WHERE article_id = ?1")?
            .query_map([&from.id], |r| {
                Ok(NoteRef {
                    rowid: r.get(0)?,
                    id: r.get(1)?,
                    article: Some(from.as_ref()),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        // Each note's move takes it out of one article's search entry and
        // into the other's (Tx::set_note).
        for n in &notes {
            self.set_note(n, note::ARTICLE_ID, Value::Text(into.id.clone()))?;
        }
        self.fold_into(from, into)
    }

    /// Folds each article that arrived after `seen` (a sync's pull: its
    /// article numbers are higher) and is a copy of another into the one
    /// clipped first, as `nj clip` would have, had the two been clipped on
    /// one device. Every device that sees the pair folds it the same way,
    /// so devices that clipped a report and its copy apart end with one
    /// article. Articles kept apart (`--separate`) are left. Returns how
    /// many were folded.
    pub(super) fn fold_pulled_copies(&mut self, seen: i64) -> Result<usize> {
        let arrived: Vec<i64> = self
            .conn()
            .prepare_cached(
                "SELECT seq FROM articles WHERE seq > ?1 AND deleted_at IS NULL
                    AND kept_apart IS NULL
                    AND seq IN (SELECT article_seq FROM copy_suspects) ORDER BY seq",
            )?
            .query_map([seen], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut folded = 0;
        for seq in arrived {
            let article = article_by_rowid(self.conn(), seq)?;
            if article.deleted_at.is_some() || article.pending {
                continue;
            }
            let Some(text) = text_of(self.conn(), &article.content_hash)? else {
                continue;
            };
            let content = Content::of_normalized(text);
            let Some((other, _)) = self.find_copy_but(&content, Some(seq))? else {
                continue;
            };
            let other = article_by_rowid(self.conn(), other.rowid)?;
            // The one clipped first keeps the story; ties go by id, the
            // same on every device.
            let (from, into) = if (other.clipped_at, &other.id) <= (article.clipped_at, &article.id)
            {
                (article, other)
            } else {
                (other, article)
            };
            self.fold_copy(&from, &into.as_ref())?;
            folded += 1;
        }
        self.conn().execute("DELETE FROM copy_suspects", [])?;
        Ok(folded)
    }
}

/// The copy keys of the stored text with this hash; none for a text too
/// short to be a copy (or not stored). `known` holds the keys this
/// transaction has made already (a clip's, while it looked for the
/// original), so the text is not read and cut into shingles again.
fn keys_of(
    conn: &Connection,
    known: &HashMap<String, Option<[i64; BANDS]>>,
    hash: &str,
) -> Result<Option<[i64; BANDS]>> {
    if hash == EMPTY_HASH {
        return Ok(None);
    }
    if let Some(keys) = known.get(hash) {
        return Ok(*keys);
    }
    let Some(text) = text_of(conn, hash)? else {
        return Ok(None);
    };
    Ok(Sketch::of(&Shingles::of(&text)).map(|s| s.band_keys()))
}

/// Keys as a JSON array, for `json_each` in a query.
fn keys_json(keys: &[i64; BANDS]) -> Result<String> {
    serde_json::to_string(&keys[..]).map_err(|e| crate::Error::Other(e.into()))
}

/// The articles outside the bin, other than `but`, whose current texts
/// are copies of the text with these `shingles` and `keys`, most alike
/// first, with how alike. Candidates are the articles sharing a key; each
/// is compared exactly. With `apart`, articles kept apart (`--separate`)
/// count too.
pub(super) fn copies_among(
    conn: &Connection,
    shingles: &Shingles,
    keys: &[i64; BANDS],
    but: Option<i64>,
    apart: bool,
) -> Result<Vec<(i64, f64)>> {
    let candidates: Vec<(i64, String)> = conn
        .prepare_cached(
            "SELECT a.seq, a.content_hash FROM articles a
              WHERE a.deleted_at IS NULL AND (?3 OR a.kept_apart IS NULL) AND a.seq IS NOT ?2
                AND a.seq IN (SELECT article_seq FROM copy_keys
                               WHERE key IN (SELECT value FROM json_each(?1)))
              ORDER BY a.seq",
        )?
        .query_map(params![keys_json(keys)?, but, apart], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut found = Vec::new();
    for (seq, hash) in candidates {
        let Some(text) = text_of(conn, &hash)? else {
            continue;
        };
        let overlap = shingles.overlap(&Shingles::of(&text));
        if overlap.is_copy() {
            found.push((seq, overlap.similarity()));
        }
    }
    // Most alike first; of equals, the earlier article.
    found.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    Ok(found)
}

fn text_of(conn: &Connection, hash: &str) -> Result<Option<String>> {
    stored_text(conn, hash, super::codec::decode)
}

/// A syndicated copy folded into an article: where it came from, its own
/// text, and how alike that text is to the article's.
#[derive(Debug, Clone, Serialize)]
pub struct CopySource {
    pub id: String,
    pub url: Option<String>,
    pub content_hash: String,
    pub word_count: i64,
    pub created_at: Timestamp,
    /// From 0 to 1 ([`crate::similar::Overlap::similarity`]), against the
    /// article's current text.
    pub similarity: f64,
}

impl Journal {
    /// How many articles wait for their copy keys: every article just
    /// after the upgrade that brought copies (migration 9), a handful
    /// otherwise (a write makes them before it commits).
    pub fn copy_keys_waiting(&self) -> Result<i64> {
        Ok(self
            .conn()
            .query_row("SELECT count(*) FROM copy_queue", [], |r| r.get(0))?)
    }

    /// Makes the copy keys that wait ([`Journal::copy_keys_waiting`]), in
    /// a write of their own.
    pub fn make_copy_keys(&mut self, now: Timestamp) -> Result<()> {
        self.write(now, |_| Ok(()))
    }

    /// The highest article number: what a pull's new articles come after
    /// ([`Journal::fold_pulled_copies`]).
    pub fn last_article_seq(&self) -> Result<i64> {
        Ok(self
            .conn()
            .query_row("SELECT coalesce(max(seq), 0) FROM articles", [], |r| {
                r.get(0)
            })?)
    }

    /// After a sync: folds each article pulled since `seen` that is a copy
    /// of another ([`Tx::fold_pulled_copies`]), in one write. The folds go
    /// to the other devices at the next sync.
    pub fn fold_pulled_copies(&mut self, now: Timestamp, seen: i64) -> Result<usize> {
        self.write(now, |tx| tx.fold_pulled_copies(seen))
    }

    /// The URLs the copies folded into the article came from.
    pub fn copy_urls(&self, article: &ArticleRef) -> Result<Vec<String>> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT DISTINCT url FROM copies WHERE article_id = ?1 AND url IS NOT NULL",
            )?
            .query_map([&article.id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// The copies folded into the article, oldest first.
    pub fn copies_of(&self, article: &ArticleRef) -> Result<Vec<CopySource>> {
        let conn = self.conn();
        let mut copies: Vec<CopySource> = conn
            .prepare_cached(
                "SELECT c.id, c.url, c.content_hash, t.word_count, c.created_at
                   FROM copies c JOIN texts t ON t.hash = c.content_hash
                  WHERE c.article_id = ?1 ORDER BY c.created_at, c.id",
            )?
            .query_map([&article.id], |r| {
                Ok(CopySource {
                    id: r.get(0)?,
                    url: r.get(1)?,
                    content_hash: r.get(2)?,
                    word_count: r.get(3)?,
                    created_at: r.get(4)?,
                    similarity: 0.0,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        if copies.is_empty() {
            return Ok(copies);
        }
        let current: String = conn
            .prepare_cached("SELECT content_hash FROM articles WHERE seq = ?1")?
            .query_row([article.rowid], |r| r.get(0))?;
        let mine = Shingles::of(&text_of(conn, &current)?.unwrap_or_default());
        for c in &mut copies {
            let theirs = Shingles::of(&text_of(conn, &c.content_hash)?.unwrap_or_default());
            c.similarity = mine.overlap(&theirs).similarity();
        }
        Ok(copies)
    }
}

/// Articles whose texts are copies of one another.
#[derive(Debug, Clone, Serialize)]
pub struct CopyGroup {
    /// The first clipped, which the others are compared with.
    pub article: Article,
    /// The others, most alike first.
    pub copies: Vec<Copy>,
}

/// An article in a [`CopyGroup`], and how alike its text is to the
/// group's first.
#[derive(Debug, Clone, Serialize)]
pub struct Copy {
    pub article: Article,
    /// From 0 to 1 ([`crate::similar::Overlap::similarity`]).
    pub similarity: f64,
}

impl Journal {
    /// Folds each group's copies into its first clipped article
    /// ([`Tx::fold_copy`]), all in one write. Returns how many articles
    /// were folded.
    pub fn fold_copies(&mut self, now: Timestamp, groups: &[CopyGroup]) -> Result<usize> {
        self.write(now, |tx| {
            let mut folded = 0;
            for g in groups {
                let into = g.article.as_ref();
                for c in &g.copies {
                    tx.fold_copy(&c.article, &into)?;
                    folded += 1;
                }
            }
            Ok(folded)
        })
    }

    /// Makes every article's copy keys again (`nj verify --repair`).
    pub fn rebuild_copy_keys(&mut self, now: Timestamp) -> Result<()> {
        self.write(now, |tx| {
            tx.conn().execute_batch(&format!(
                "DELETE FROM copy_keys;
                 INSERT OR REPLACE INTO copy_queue(article_seq, old_hash)
                      SELECT seq, NULL FROM articles WHERE content_hash != '{EMPTY_HASH}';"
            ))?;
            Ok(())
        })
    }

    /// Every group of near-copies among the articles outside the bin, the
    /// group whose closest copy is most alike first. Brings the copy keys
    /// up to date first (a journal just upgraded has none yet), which is a
    /// write.
    pub fn copy_groups(&mut self, now: Timestamp) -> Result<Vec<CopyGroup>> {
        self.make_copy_keys(now)?;
        let conn = self.conn();
        let binned: HashSet<i64> = conn
            .prepare("SELECT seq FROM articles WHERE deleted_at IS NOT NULL")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        // Pairs sharing a key, from one pass over the keys in key order.
        let mut pairs: HashSet<(i64, i64)> = HashSet::new();
        let mut stmt = conn.prepare("SELECT key, article_seq FROM copy_keys ORDER BY key")?;
        let mut rows = stmt.query([])?;
        let mut bucket: Vec<i64> = Vec::new();
        let mut current: Option<i64> = None;
        let mut flush = |bucket: &mut Vec<i64>| {
            if (2..=MOST_IN_ONE_KEY).contains(&bucket.len()) {
                for (i, a) in bucket.iter().enumerate() {
                    for b in &bucket[i + 1..] {
                        pairs.insert(((*a).min(*b), (*a).max(*b)));
                    }
                }
            }
            bucket.clear();
        };
        while let Some(r) = rows.next()? {
            let (key, seq): (i64, i64) = (r.get(0)?, r.get(1)?);
            if current != Some(key) {
                flush(&mut bucket);
                current = Some(key);
            }
            if !binned.contains(&seq) {
                bucket.push(seq);
            }
        }
        flush(&mut bucket);
        drop(rows);
        drop(stmt);
        // Each candidate pair compared exactly; copies joined into groups.
        let mut shingles: HashMap<i64, Shingles> = HashMap::new();
        let mut parent: HashMap<i64, i64> = HashMap::new();
        let mut sorted: Vec<(i64, i64)> = pairs.into_iter().collect();
        sorted.sort_unstable();
        for (a, b) in sorted {
            read_shingles(conn, &mut shingles, a)?;
            read_shingles(conn, &mut shingles, b)?;
            if shingles[&a].overlap(&shingles[&b]).is_copy() {
                let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
                if ra != rb {
                    parent.insert(ra.max(rb), ra.min(rb));
                }
            }
        }
        let mut members: HashMap<i64, Vec<i64>> = HashMap::new();
        let seqs: Vec<i64> = parent.keys().copied().collect();
        for seq in seqs {
            let r = root(&mut parent, seq);
            members.entry(r).or_default().push(seq);
        }
        let mut groups = Vec::new();
        for (r, mut seqs) in members {
            if !seqs.contains(&r) {
                seqs.push(r);
            }
            let mut articles: Vec<Article> = seqs
                .iter()
                .map(|&s| article_by_rowid(conn, s))
                .collect::<Result<_>>()?;
            articles.sort_by(|x, y| (x.clipped_at, &x.id).cmp(&(y.clipped_at, &y.id)));
            let first = articles.remove(0);
            read_shingles(conn, &mut shingles, first.rowid)?;
            let mut copies: Vec<Copy> = Vec::new();
            for a in articles {
                read_shingles(conn, &mut shingles, a.rowid)?;
                let overlap = shingles[&first.rowid].overlap(&shingles[&a.rowid]);
                // Joined through another member, but not a copy of the
                // first: folding it into the first would be wrong.
                if !overlap.is_copy() {
                    continue;
                }
                copies.push(Copy {
                    similarity: overlap.similarity(),
                    article: a,
                });
            }
            if copies.is_empty() {
                continue;
            }
            copies.sort_by(|x, y| y.similarity.total_cmp(&x.similarity));
            groups.push(CopyGroup {
                article: first,
                copies,
            });
        }
        let best = |g: &CopyGroup| g.copies.first().map_or(0.0, |c| c.similarity);
        groups.sort_by(|x, y| {
            best(y)
                .total_cmp(&best(x))
                .then_with(|| x.article.id.cmp(&y.article.id))
        });
        Ok(groups)
    }
}

fn root(parent: &mut HashMap<i64, i64>, x: i64) -> i64 {
    let mut r = x;
    while let Some(&p) = parent.get(&r) {
        if p == r {
            break;
        }
        r = p;
    }
    parent.entry(r).or_insert(r);
    // Shorten the path for the next look-up.
    let mut y = x;
    while y != r {
        let next = parent[&y];
        parent.insert(y, r);
        y = next;
    }
    r
}

/// Reads the shingles of an article's current text into `cache`, once.
fn read_shingles(conn: &Connection, cache: &mut HashMap<i64, Shingles>, seq: i64) -> Result<()> {
    if cache.contains_key(&seq) {
        return Ok(());
    }
    let hash: Option<String> = conn
        .prepare_cached("SELECT content_hash FROM articles WHERE seq = ?1")?
        .query_row([seq], |r| r.get(0))
        .optional()?;
    let text = match hash {
        Some(h) => text_of(conn, &h)?.unwrap_or_default(),
        None => String::new(),
    };
    cache.insert(seq, Shingles::of(&text));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Content;
    use crate::journal::NewClip;

    fn report(seed: u64) -> String {
        (0..30)
            .map(|s| {
                let words: Vec<String> = (0..14)
                    .map(|w| format!("w{}", (seed * 7919 + s * 131 + w * 17) % 997))
                    .collect();
                format!("{}.", words.join(" "))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Clips `text`; a copy is kept apart (`--separate`), as a journal from
    /// before copies were folded has them.
    fn clip(j: &mut Journal, at: i64, text: &str, url: &str) -> String {
        let clip = NewClip {
            content: Content::new(text),
            title: "Harbour vote".into(),
            urls: vec![url.into()],
            separate: true,
            ..NewClip::default()
        };
        j.clip(Timestamp(at), &clip).unwrap().article.id
    }

    /// A journal from before copies were recognised gets every article's
    /// keys from the migration, and its copies are found.
    #[test]
    fn a_journal_from_before_the_migration_has_its_copies_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        let (a, b) = {
            let mut j = Journal::open(&path).unwrap();
            let text = report(1);
            let a = clip(&mut j, 1_000, &text, "https://a.example/1");
            let b = clip(
                &mut j,
                2_000,
                &format!("{text}\nvia Example Wire"),
                "https://b.example/1",
            );
            clip(&mut j, 3_000, &report(2), "https://a.example/2");
            // As the journal was before migration 9.
            j.conn()
                .execute_batch(include_str!("../../tests/fixtures/as-schema-8.sql"))
                .unwrap();
            (a, b)
        };
        let mut j = Journal::open(&path).unwrap();
        let queued: i64 = j
            .conn()
            .query_row("SELECT count(*) FROM copy_queue", [], |r| r.get(0))
            .unwrap();
        assert_eq!(queued, 3);
        let groups = j.copy_groups(Timestamp(4_000)).unwrap();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].article.id, a);
        assert_eq!(groups[0].copies.len(), 1);
        assert_eq!(groups[0].copies[0].article.id, b);
        let keys: i64 = j
            .conn()
            .query_row(
                "SELECT count(DISTINCT article_seq) FROM copy_keys",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(keys, 3);
    }
}
