//! Bookmarks: links brought in from read-later tools and browsers, with or
//! without their text, and read state.
//!
//! A bookmark without its text becomes a *pending* article: its current
//! text is the empty one ([`EMPTY_HASH`]) and it has no versions. It is
//! listed, tagged, noted and synced like any article, and
//! `nj fetch --pending` later records its first version
//! ([`Tx::fill_pending`]). A fetched text that another article already
//! has folds the bookmark into that article, so the journal still holds
//! each text once.

use rusqlite::types::Value;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::article::{find_by_hash, find_by_url};
use super::dump::Restored;
use super::query::{article_by_rowid, normalize_tag, ArticleRef};
use super::rows::{time, ArticleRow};
use super::{Journal, NewClip, Tx};
use crate::content::{Content, EMPTY_HASH};
use crate::entity::fields::article;
use crate::error::{Error, Result};
use crate::time::Timestamp;

/// A bookmark ready to store.
#[derive(Debug, Clone, Default)]
pub struct NewBookmark {
    /// Normalised source URLs, the preferred one first; at least one.
    pub urls: Vec<String>,
    pub title: String,
    pub tags: Vec<String>,
    /// When it was saved; the import's time when the file does not say.
    pub added_at: Option<Timestamp>,
    /// When it was read, or `None` while unread.
    pub read_at: Option<Timestamp>,
    /// Its text, when the export carried it.
    pub content: Option<Content>,
    /// Notes to keep with it (annotations, highlights, a description).
    pub notes: Vec<String>,
}

/// What fetching a pending article's text did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Filled {
    /// The text is now the article's first version.
    Fetched { content_hash: String },
    /// Another article already had this text, or a text this one is a
    /// syndicated copy of (kept as that article's copy): the bookmark's
    /// URLs, tags, notes, follow-ups and read state moved to it, and the
    /// bookmark went to the bin.
    Merged {
        into: String,
        /// For a copy: how alike its text is to the article's.
        #[serde(skip_serializing_if = "Option::is_none")]
        similarity: Option<f64>,
    },
    /// Its text was already fetched (here, or on a device it synced with).
    NotPending,
}

impl Tx<'_> {
    /// Stores a bookmark: a new article (pending when it has no text), or,
    /// for one the journal has (the same normalised URL, or the same text),
    /// only what that article lacks: URLs, tags, notes, the text of a
    /// pending article, and a read mark. Nothing already there is
    /// overwritten or marked unread.
    pub fn import_bookmark(&mut self, b: &NewBookmark) -> Result<Restored> {
        self.copy_keys_as_it_goes()?;
        let Some(first_url) = b.urls.first() else {
            return Err(Error::BadInput("it has no URL".into()));
        };
        let content = b.content.as_ref().filter(|c| !c.is_empty());
        let mut existing = match &self.urls_seen {
            Some(seen) => b.urls.iter().find_map(|u| seen.get(u).cloned()),
            None => find_by_url(self.conn(), &b.urls)?,
        };
        if existing.is_none() {
            if let Some(c) = content {
                existing = find_by_hash(self.conn(), &c.hash)?;
            }
        }
        // A syndicated copy of an article's text joins that article, its
        // text kept as the article's copy, as `nj clip` folds one.
        if let (None, Some(c)) = (&existing, content) {
            if let Some((other, _)) = self.find_copy(c)? {
                self.put_text(c)?;
                self.record_copies(&other, &b.urls, &c.hash, self.now())?;
                existing = Some(other);
            }
        }
        let mut tags: Vec<String> = b.tags.iter().filter_map(|t| normalize_tag(t)).collect();
        // "Court cases" and "court-cases" are one tag.
        tags.sort_unstable();
        tags.dedup();
        let notes = b.notes.iter().map(|n| n.trim()).filter(|n| !n.is_empty());
        let Some(article) = existing else {
            let at = b.added_at.unwrap_or(self.now());
            let hash = match content {
                Some(c) => {
                    self.put_text(c)?;
                    c.hash.clone()
                }
                None => EMPTY_HASH.to_owned(),
            };
            let article = self.create_article(&ArticleRow {
                title: b.title.clone(),
                url: Some(first_url.clone()),
                content_hash: hash.clone(),
                clipped_at: Some(at),
                read_at: b.read_at,
                ..ArticleRow::default()
            })?;
            if content.is_some() {
                let id = self.next_id();
                self.insert_version(&article, &id, &hash, at)?;
            }
            for url in &b.urls {
                self.insert_url(&article, url, at)?;
                self.saw_url(url, &article);
            }
            self.link_new_article_tags(&article, &tags, at)?;
            // Made at one time, so in id order, as the search view reads
            // them.
            let mut made = Vec::new();
            for note in notes {
                made.push((self.create_note(Some(&article), note)?.id, note));
            }
            made.sort_unstable();
            let notes: Vec<&str> = made.into_iter().map(|(_, n)| n).collect();
            let body = content.map_or("", |c| c.text.as_str());
            self.hand_over_new_article(&article, &b.title, body, &notes, &tags);
            return Ok(Restored::Added);
        };

        let mut changed = false;
        let current = article_by_rowid(self.conn(), article.rowid)?;
        if let (true, Some(c)) = (current.pending, content) {
            let text = NewClip {
                content: c.clone(),
                ..NewClip::default()
            };
            changed |= self.record_version(&article, &text)?.is_some();
        }
        for url in b.urls.iter().filter(|u| !current.urls.contains(u)) {
            changed |= self.add_url(&article, url)?;
            self.saw_url(url, &article);
        }
        for tag in tags.iter().filter(|t| !current.tags.contains(t)) {
            changed |= self.link_tag(&article, tag)?;
        }
        for note in notes {
            if !self.has_note(&article, note)? {
                self.create_note(Some(&article), note)?;
                changed = true;
            }
        }
        if let (None, Some(read)) = (current.read_at, b.read_at) {
            self.set_article(&article, article::READ_AT, Value::Integer(read.0))?;
            changed = true;
        }
        Ok(if changed {
            Restored::Updated
        } else {
            Restored::Duplicate
        })
    }

    /// Remembers where a URL went, in an import into an empty journal
    /// ([`Tx::bulk_import`]); the first article with a URL keeps it.
    fn saw_url(&mut self, url: &str, article: &ArticleRef) {
        if let Some(seen) = &mut self.urls_seen {
            seen.entry(url.to_owned())
                .or_insert_with(|| article.clone());
        }
    }

    /// Whether the article has a live note with this text (trimmed).
    fn has_note(&self, article: &ArticleRef, body: &str) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT 1 FROM notes WHERE article_id = ?1 AND deleted_at IS NULL
                   AND trim(body) = ?2",
            )?
            .exists(params![article.id, body])?)
    }

    /// Marks an article read (at the transaction's time) or unread. Returns
    /// false when it already was.
    pub fn set_read(&mut self, article: &ArticleRef, read: bool) -> Result<bool> {
        let current = article_by_rowid(self.conn(), article.rowid)?;
        if current.read_at.is_some() == read {
            return Ok(false);
        }
        let value = time(read.then(|| self.now()));
        self.set_article(article, article::READ_AT, value)?;
        Ok(true)
    }

    /// Records a pending article's fetched text as its first version, and
    /// takes the page's title when the bookmark had only its URL for one,
    /// and whatever metadata it lacked. When another article already has
    /// the text, the bookmark is folded into it instead (see [`Filled`]).
    pub fn fill_pending(&mut self, article: &ArticleRef, clip: &NewClip) -> Result<Filled> {
        let current = article_by_rowid(self.conn(), article.rowid)?;
        if !current.pending {
            return Ok(Filled::NotPending);
        }
        if clip.content.is_empty() {
            return Err(Error::BadInput("the page has no article text".into()));
        }
        self.forget_fetch_failure(&article.id)?;
        if let Some(other) = find_by_hash(self.conn(), &clip.content.hash)? {
            self.fold_into(&current, &other)?;
            return Ok(Filled::Merged {
                into: other.id,
                similarity: None,
            });
        }
        // A syndicated copy of an article's text: the text is kept as that
        // article's copy, and the bookmark folded in as above.
        if let Some((other, alike)) = self.find_copy(&clip.content)? {
            self.put_text(&clip.content)?;
            let mut urls = current.urls.clone();
            urls.extend(
                clip.urls
                    .iter()
                    .filter(|u| !current.urls.contains(u))
                    .cloned(),
            );
            self.record_copies(&other, &urls, &clip.content.hash, self.now())?;
            self.fold_into(&current, &other)?;
            return Ok(Filled::Merged {
                into: other.id,
                similarity: Some(alike),
            });
        }
        // Sets the text and fills in missing metadata (URLs included).
        self.record_version(article, clip)?;
        if has_placeholder_title(&current) && !clip.title.trim().is_empty() {
            self.set_title(article, &clip.title)?;
        }
        Ok(Filled::Fetched {
            content_hash: clip.content.hash.clone(),
        })
    }

    /// Moves what an article holds (its URLs, tags, notes, follow-ups,
    /// read state) onto `into` and bins it: a pending bookmark whose text
    /// another article has, or a copy folded into its original.
    pub(super) fn fold_into(&mut self, pending: &super::Article, into: &ArticleRef) -> Result<()> {
        let from = pending.as_ref();
        for url in &pending.urls {
            self.add_url(into, url)?;
        }
        for tag in &pending.tags {
            self.link_tag(into, tag)?;
        }
        let notes: Vec<String> = self
            .conn()
            .prepare_cached(
                "SELECT body FROM notes WHERE article_id = ?1 AND deleted_at IS NULL
                  ORDER BY created_at, id",
            )?
            .query_map([&from.id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for body in &notes {
            if !self.has_note(into, body.trim())? {
                self.create_note(Some(into), body)?;
            }
        }
        let followups: Vec<super::FollowupRef> = self
            .conn()
            .prepare_cached("SELECT rowid, id FROM followups WHERE article_id = ?1")?
            .query_map([&from.id], |r| {
                Ok(super::FollowupRef {
                    rowid: r.get(0)?,
                    id: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        for f in &followups {
            self.move_followup(f, into)?;
        }
        if let Some(read) = pending.read_at {
            if article_by_rowid(self.conn(), into.rowid)?.read_at.is_none() {
                self.set_article(into, article::READ_AT, Value::Integer(read.0))?;
            }
        }
        self.set_removed(&from, true)?;
        Ok(())
    }

    /// Notes that a pending article's text could not be fetched, so the
    /// next `nj fetch --pending` goes on with the others.
    pub fn record_fetch_failure(&mut self, article: &ArticleRef, error: &str) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO fetch_failures(article_id, attempts, error, tried_at)
                 VALUES (?1, 1, ?2, ?3)
                 ON CONFLICT(article_id) DO UPDATE
                    SET attempts = attempts + 1, error = ?2, tried_at = ?3",
            )?
            .execute(params![article.id, error, self.now()])?;
        Ok(())
    }

    pub(super) fn forget_fetch_failure(&mut self, article_id: &str) -> Result<()> {
        self.conn()
            .prepare_cached("DELETE FROM fetch_failures WHERE article_id = ?1")?
            .execute([article_id])?;
        Ok(())
    }
}

/// Whether an article still has the title a bookmark gets from its address
/// (see [`placeholder_title`]), which a fetched page's title replaces.
pub(super) fn has_placeholder_title(a: &super::Article) -> bool {
    a.title == placeholder_title(a.url.as_deref().unwrap_or(""))
}

/// The title a bookmark gets when its file gives none: its address without
/// the scheme, which says more than "Untitled" and is replaced by the
/// page's own title when the text is fetched.
pub fn placeholder_title(url: &str) -> String {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    // A URL may be twice as long as a title.
    crate::limits::fit_title(rest.trim_end_matches('/').to_owned())
}

/// A pending article waiting for its text, as `nj fetch` takes it.
#[derive(Debug, Clone, Serialize)]
pub struct PendingArticle {
    pub id: String,
    pub title: String,
    /// Its URLs, the preferred one first.
    pub urls: Vec<String>,
    #[serde(skip)]
    pub rowid: i64,
}

impl PendingArticle {
    pub fn as_ref(&self) -> ArticleRef {
        ArticleRef {
            rowid: self.rowid,
            id: self.id.clone(),
        }
    }
}

/// How many pending articles there are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PendingCount {
    pub pending: usize,
    /// Of those, the ones whose fetch failed before on this device.
    pub failed_before: usize,
}

impl Journal {
    /// The pending articles (not in the bin), newest first; with `retry`,
    /// those whose fetch failed before too, else not.
    pub fn pending(&self, retry: bool, limit: usize) -> Result<Vec<PendingArticle>> {
        let sql = format!(
            "SELECT a.rowid, a.id, a.title, a.url,
                    (SELECT group_concat(u.url, char(31)) FROM article_urls u
                      WHERE u.article_seq = a.seq AND u.url IS NOT a.url)
               FROM articles a
              WHERE a.content_hash = '{EMPTY_HASH}' AND a.deleted_at IS NULL {}
              ORDER BY a.clipped_at DESC, a.id
              LIMIT ?1",
            if retry {
                ""
            } else {
                "AND NOT EXISTS (SELECT 1 FROM fetch_failures f WHERE f.article_id = a.id)"
            }
        );
        let limit = if limit == 0 { -1 } else { limit as i64 };
        let mut stmt = self.conn().prepare(&sql)?;
        let rows = stmt
            .query_map([limit], |r| {
                let mut urls: Vec<String> = r.get::<_, Option<String>>(3)?.into_iter().collect();
                if let Some(more) = r.get::<_, Option<String>>(4)? {
                    urls.extend(more.split('\u{1f}').map(str::to_owned));
                }
                Ok(PendingArticle {
                    rowid: r.get(0)?,
                    id: r.get(1)?,
                    title: r.get(2)?,
                    urls,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    pub fn pending_count(&self) -> Result<PendingCount> {
        let sql = format!(
            "SELECT count(*), count(f.article_id) FROM articles a
               LEFT JOIN fetch_failures f ON f.article_id = a.id
              WHERE a.content_hash = '{EMPTY_HASH}' AND a.deleted_at IS NULL"
        );
        let (pending, failed): (i64, i64) = self
            .conn()
            .query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(PendingCount {
            pending: pending as usize,
            failed_before: failed as usize,
        })
    }

    /// Why the last fetch of a pending article failed, if it did.
    pub fn fetch_failure(&self, article: &ArticleRef) -> Result<Option<String>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT error FROM fetch_failures WHERE article_id = ?1")?
            .query_row([&article.id], |r| r.get(0))
            .optional()?)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::journal::ListFilter;

    /// A pending bookmark saved at a fixed time.
    pub(in crate::journal) fn bookmark(url: &str, tags: &[&str]) -> NewBookmark {
        NewBookmark {
            urls: vec![url.to_owned()],
            title: placeholder_title(url),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            added_at: Some(Timestamp(5_000)),
            ..NewBookmark::default()
        }
    }

    fn import(j: &mut Journal, b: &NewBookmark) -> Restored {
        j.write(Timestamp(9_000), |tx| tx.import_bookmark(b))
            .unwrap()
    }

    fn page(text: &str, title: &str, url: &str) -> NewClip {
        NewClip {
            content: Content::new(text),
            title: title.to_owned(),
            urls: vec![url.to_owned()],
            site: Some("Harbor Times".into()),
            ..NewClip::default()
        }
    }

    #[test]
    fn a_bookmark_without_text_is_pending_with_its_time_tags_and_read_state() {
        let mut j = Journal::open_in_memory().unwrap();
        let mut b = bookmark("https://news.example/a/harbor", &["Ports", "court cases"]);
        b.read_at = Some(Timestamp(7_000));
        b.notes = vec!["why it matters".into()];
        assert_eq!(import(&mut j, &b), Restored::Added);
        let all = j.list(&ListFilter::default()).unwrap();
        assert_eq!(all.len(), 1);
        let a = &all[0];
        assert!(a.pending);
        assert_eq!(a.content_hash, EMPTY_HASH);
        assert_eq!(a.title, "news.example/a/harbor");
        assert_eq!(a.clipped_at, Timestamp(5_000));
        assert_eq!(a.read_at, Some(Timestamp(7_000)));
        assert_eq!(a.tags, vec!["court-cases", "ports"]);
        assert_eq!(a.urls, vec!["https://news.example/a/harbor"]);
        assert_eq!(a.word_count, 0);
        assert!(j.versions(&a.as_ref()).unwrap().is_empty());
        let detail = j.detail(&a.as_ref()).unwrap();
        assert_eq!(detail.notes.len(), 1);
        assert_eq!(detail.notes[0].text, "why it matters");
        let pending = ListFilter {
            pending: true,
            ..ListFilter::default()
        };
        assert_eq!(j.list(&pending).unwrap().len(), 1);
        assert_eq!(j.pending_count().unwrap().pending, 1);
    }

    #[test]
    fn importing_again_adds_nothing_and_an_overlapping_item_only_what_is_new() {
        let mut j = Journal::open_in_memory().unwrap();
        let b = bookmark("https://news.example/a/harbor?utm_source=x", &["ports"]);
        let mut b = b;
        b.urls = vec!["https://news.example/a/harbor".into()];
        assert_eq!(import(&mut j, &b), Restored::Added);
        assert_eq!(import(&mut j, &b), Restored::Duplicate);
        let mut more = b.clone();
        more.tags.push("dredging".into());
        more.notes = vec!["second look".into()];
        more.read_at = Some(Timestamp(8_000));
        assert_eq!(import(&mut j, &more), Restored::Updated);
        assert_eq!(import(&mut j, &more), Restored::Duplicate);
        let a = &j.list(&ListFilter::default()).unwrap()[0];
        assert_eq!(a.tags, vec!["dredging", "ports"]);
        assert_eq!(a.read_at, Some(Timestamp(8_000)));
        // A later file saying unread never marks a read article unread.
        assert_eq!(import(&mut j, &b), Restored::Duplicate);
        let a = &j.list(&ListFilter::default()).unwrap()[0];
        assert_eq!(a.read_at, Some(Timestamp(8_000)));
    }

    #[test]
    fn into_an_empty_journal_a_repeated_url_is_matched_in_memory_and_every_link_logged() {
        let mut j = Journal::open_in_memory().unwrap();
        j.enable_sync(Timestamp(1_000)).unwrap();
        let first = bookmark("https://news.example/a/harbor", &["ports", "Court Cases"]);
        let mut again = bookmark("https://news.example/a/harbor", &["dredging", "ports"]);
        again.urls.push("https://mirror.example/harbor".into());
        let other = bookmark("https://news.example/b/bridge", &[]);
        let mut third = bookmark("https://mirror.example/harbor", &["ports"]);
        third.read_at = Some(Timestamp(6_000));
        let outcomes = j
            .write_unchecked(Timestamp(9_000), |tx| {
                tx.bulk_import()?;
                [&first, &again, &other, &third]
                    .into_iter()
                    .map(|b| tx.import_bookmark(b))
                    .collect::<Result<Vec<_>>>()
            })
            .unwrap();
        assert_eq!(
            outcomes,
            [
                Restored::Added,
                Restored::Updated,
                Restored::Added,
                Restored::Updated
            ]
        );
        assert!(j.finish_index().unwrap());
        let all = j.list(&ListFilter::default()).unwrap();
        assert_eq!(all.len(), 2);
        let harbor = all
            .iter()
            .find(|a| a.tags.contains(&"ports".into()))
            .unwrap();
        assert_eq!(harbor.tags, vec!["court-cases", "dredging", "ports"]);
        assert_eq!(
            harbor.urls,
            vec![
                "https://news.example/a/harbor",
                "https://mirror.example/harbor"
            ]
        );
        assert_eq!(harbor.read_at, Some(Timestamp(6_000)));
        // The checks are back on, and nothing broke them.
        let conn = j.conn();
        let on: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(on, 1);
        let broken: i64 = conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(broken, 0);
        // Each tag link, new article's or not, is an operation to push.
        let tag_ops: i64 = conn
            .query_row(
                "SELECT count(*) FROM sync_ops WHERE op ->> '$.entity' = 'tag'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tag_ops, 3);
        // The indexes the import left out are back, and searching works.
        assert!(!j.index_is_stale().unwrap());
        let hits = j
            .search(&crate::journal::SearchQuery {
                since: None,
                until: None,
                query: "dredging".into(),
                tag: None,
                story: None,
                limit: 10,
                mark: Default::default(),
            })
            .unwrap();
        assert_eq!(hits.len(), 1);
    }

    #[test]
    fn a_bookmark_with_text_is_an_article_and_dedups_by_content() {
        let mut j = Journal::open_in_memory().unwrap();
        let clipped = j
            .clip(
                Timestamp(1_000),
                &page(
                    "Harbor\n\nThe bid was reviewed.",
                    "Harbor",
                    "https://a.example/h",
                ),
            )
            .unwrap();
        let mut b = bookmark("https://mirror.example/h", &["ports"]);
        b.content = Some(Content::new("Harbor\r\n\r\nThe bid was reviewed."));
        assert_eq!(import(&mut j, &b), Restored::Updated);
        let all = j.list(&ListFilter::default()).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].id, clipped.article.id);
        assert!(all[0]
            .urls
            .contains(&"https://mirror.example/h".to_string()));

        let mut other = bookmark("https://b.example/other", &[]);
        other.content = Some(Content::new("Another story\n\nWith its own words."));
        assert_eq!(import(&mut j, &other), Restored::Added);
        let a = &j.list(&ListFilter::default()).unwrap()[0];
        assert!(!a.pending);
        assert_eq!(j.versions(&a.as_ref()).unwrap().len(), 1);
        assert_eq!(a.word_count, 6);
    }

    #[test]
    fn a_later_file_with_the_text_fills_a_pending_bookmark() {
        let mut j = Journal::open_in_memory().unwrap();
        let b = bookmark("https://news.example/a/harbor", &[]);
        import(&mut j, &b);
        let mut with_text = b.clone();
        with_text.content = Some(Content::new("Harbor\n\nThe review starts."));
        assert_eq!(import(&mut j, &with_text), Restored::Updated);
        let a = &j.list(&ListFilter::default()).unwrap()[0];
        assert!(!a.pending);
        assert_eq!(a.content_hash, with_text.content.as_ref().unwrap().hash);
        assert_eq!(j.versions(&a.as_ref()).unwrap().len(), 1);
        assert_eq!(import(&mut j, &with_text), Restored::Duplicate);
    }

    #[test]
    fn filling_a_pending_article_records_its_first_version_and_title() {
        let mut j = Journal::open_in_memory().unwrap();
        import(&mut j, &bookmark("https://news.example/a/harbor", &[]));
        let p = j.pending(false, 0).unwrap();
        assert_eq!(p.len(), 1);
        let clip = page(
            "Harbor contract\n\nThe review starts.",
            "Harbor contract under review",
            "https://news.example/a/harbor",
        );
        let filled = j
            .write(Timestamp(10_000), |tx| {
                tx.fill_pending(&p[0].as_ref(), &clip)
            })
            .unwrap();
        assert_eq!(
            filled,
            Filled::Fetched {
                content_hash: clip.content.hash.clone()
            }
        );
        let a = j.article(&p[0].as_ref()).unwrap();
        assert!(!a.pending);
        assert_eq!(a.title, "Harbor contract under review");
        assert_eq!(a.site.as_deref(), Some("Harbor Times"));
        assert_eq!(j.versions(&a.as_ref()).unwrap().len(), 1);
        assert!(j.pending(true, 0).unwrap().is_empty());
        // Filling it again does nothing.
        let again = j
            .write(Timestamp(11_000), |tx| {
                tx.fill_pending(&p[0].as_ref(), &clip)
            })
            .unwrap();
        assert_eq!(again, Filled::NotPending);
    }

    #[test]
    fn a_fetched_text_another_article_has_folds_the_bookmark_into_it() {
        let mut j = Journal::open_in_memory().unwrap();
        let text = "Harbor\n\nThe bid was reviewed.";
        let kept = j
            .clip(
                Timestamp(1_000),
                &page(text, "Harbor", "https://a.example/h"),
            )
            .unwrap();
        let mut b = bookmark("https://short.example/x", &["ports"]);
        b.notes = vec!["from the newsletter".into()];
        b.read_at = Some(Timestamp(6_000));
        import(&mut j, &b);
        let p = j.pending(false, 0).unwrap();
        let f = j
            .write(Timestamp(7_000), |tx| {
                tx.create_followup(
                    Some(&p[0].as_ref()),
                    "check the ruling",
                    Timestamp(99_000),
                    None,
                )
            })
            .unwrap();
        let filled = j
            .write(Timestamp(10_000), |tx| {
                tx.fill_pending(
                    &p[0].as_ref(),
                    &page(text, "Harbor", "https://short.example/x"),
                )
            })
            .unwrap();
        assert_eq!(
            filled,
            Filled::Merged {
                into: kept.article.id.clone(),
                similarity: None,
            }
        );
        let live = j.list(&ListFilter::default()).unwrap();
        assert_eq!(live.len(), 1);
        let a = &live[0];
        assert_eq!(a.id, kept.article.id);
        assert_eq!(a.tags, vec!["ports"]);
        assert_eq!(a.read_at, Some(Timestamp(6_000)));
        assert!(a.urls.contains(&"https://short.example/x".to_string()));
        let detail = j.detail(&a.as_ref()).unwrap();
        assert_eq!(detail.notes[0].text, "from the newsletter");
        assert_eq!(
            j.followup(&f).unwrap().article_id.as_deref(),
            Some(kept.article.id.as_str())
        );
        let bin = ListFilter {
            removed: true,
            ..ListFilter::default()
        };
        assert_eq!(j.list(&bin).unwrap()[0].id, p[0].id);
    }

    #[test]
    fn clipping_the_url_of_a_pending_bookmark_gives_it_its_text() {
        let mut j = Journal::open_in_memory().unwrap();
        let mut b = bookmark("https://news.example/a/harbor", &["ports"]);
        b.notes = vec!["why".into()];
        import(&mut j, &b);
        let text = "Harbor\n\nThe bid was reviewed.";
        let mut c = page(text, "Harbor bid reviewed", "https://news.example/a/harbor");
        c.tags = vec!["court".into()];
        let out = j.clip(Timestamp(10_000), &c).unwrap();
        assert_eq!(out.status, crate::journal::ClipStatus::New);
        assert_eq!(out.previous_hash, None);
        assert!(!out.article.pending);
        assert_eq!(out.article.title, "Harbor bid reviewed");
        assert_eq!(out.article.tags, vec!["court", "ports"]);
        assert_eq!(j.versions(&out.article.as_ref()).unwrap().len(), 1);
        assert_eq!(j.list(&ListFilter::default()).unwrap().len(), 1);

        // A pending bookmark whose page another article already has folds
        // into that article.
        let kept = j
            .clip(
                Timestamp(11_000),
                &page("Other\n\nWords.", "Other", "https://b.example/o"),
            )
            .unwrap();
        import(&mut j, &bookmark("https://mirror.example/o", &["mirror"]));
        let out = j
            .clip(
                Timestamp(12_000),
                &page("Other\n\nWords.", "Other", "https://mirror.example/o"),
            )
            .unwrap();
        assert_eq!(out.article.id, kept.article.id);
        assert_eq!(out.article.tags, vec!["mirror"]);
        assert_eq!(j.list(&ListFilter::default()).unwrap().len(), 2);
    }

    #[test]
    fn a_failed_fetch_is_skipped_next_time_unless_retried() {
        let mut j = Journal::open_in_memory().unwrap();
        import(&mut j, &bookmark("https://gone.example/a", &[]));
        import(&mut j, &bookmark("https://news.example/b", &[]));
        let p = j.pending(false, 0).unwrap();
        assert_eq!(p.len(), 2);
        let gone = p.iter().find(|p| p.urls[0].contains("gone")).unwrap();
        j.write(Timestamp(10_000), |tx| {
            tx.record_fetch_failure(&gone.as_ref(), "HTTP 404")
        })
        .unwrap();
        assert_eq!(j.pending(false, 0).unwrap().len(), 1);
        assert_eq!(j.pending(true, 0).unwrap().len(), 2);
        assert_eq!(
            j.pending_count().unwrap(),
            PendingCount {
                pending: 2,
                failed_before: 1
            }
        );
        assert_eq!(
            j.fetch_failure(&gone.as_ref()).unwrap().as_deref(),
            Some("HTTP 404")
        );
    }

    #[test]
    fn marking_read_and_unread() {
        let mut j = Journal::open_in_memory().unwrap();
        import(&mut j, &bookmark("https://news.example/a", &[]));
        let a = j.list(&ListFilter::default()).unwrap()[0].as_ref();
        assert!(j
            .write(Timestamp(20_000), |tx| tx.set_read(&a, true))
            .unwrap());
        assert!(!j
            .write(Timestamp(21_000), |tx| tx.set_read(&a, true))
            .unwrap());
        assert_eq!(j.article(&a).unwrap().read_at, Some(Timestamp(20_000)));
        let unread = ListFilter {
            read: Some(false),
            ..ListFilter::default()
        };
        assert!(j.list(&unread).unwrap().is_empty());
        assert!(j
            .write(Timestamp(22_000), |tx| tx.set_read(&a, false))
            .unwrap());
        assert_eq!(j.list(&unread).unwrap().len(), 1);
    }
}
