//! Writing articles: clipping with dedup by content hash and by URL, tags,
//! and the bin.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use super::query::{article_by_rowid, normalize_tag, Article, ArticleRef};
use super::rows::ArticleRow;
use super::{Journal, Tx};
use crate::content::{Content, EMPTY_HASH};
use crate::entity::fields::article;
use crate::error::{Error, Result};
use crate::time::Timestamp;

/// Everything a clip brings in.
#[derive(Debug, Clone, Default)]
pub struct NewClip {
    pub content: Content,
    pub title: String,
    /// Source URLs, the preferred (canonical) one first.
    pub urls: Vec<String>,
    pub site: Option<String>,
    pub author: Option<String>,
    pub lang: Option<String>,
    pub published_at: Option<Timestamp>,
    pub tags: Vec<String>,
    pub note: Option<String>,
    /// Keep a near-copy of an article already in the journal as an
    /// article of its own instead of folding it into that one.
    pub separate: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClipStatus {
    /// A new article.
    New,
    /// The text was already in the journal; new tags, note and URLs were
    /// merged into that article.
    Duplicate,
    /// A known URL with a changed text: the old text is kept as a version.
    NewVersion,
    /// A near-copy of an article's text (a syndicated copy): folded into
    /// that article as another source, its own text kept.
    Copy,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClipOutcome {
    pub status: ClipStatus,
    /// The hash the article had before, for a new version.
    pub previous_hash: Option<String>,
    /// The article was in the bin and came back.
    pub restored: bool,
    pub tags_added: Vec<String>,
    pub urls_added: Vec<String>,
    pub note_added: bool,
    /// For a copy: how alike its text is to the article's, from 0 to 1
    /// ([`crate::similar::Overlap::similarity`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f64>,
    /// For a copy: the hash of its own text, which it keeps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy_hash: Option<String>,
    pub article: Article,
}

pub(super) fn find_by_hash(conn: &Connection, hash: &str) -> Result<Option<ArticleRef>> {
    // Every text an article has had is one of its versions. Prefer an
    // article whose current text this is, live before removed, then one
    // that had it earlier.
    Ok(conn
        .prepare_cached(
            "SELECT a.rowid, a.id FROM versions v JOIN articles a ON a.id = v.article_id
              WHERE v.content_hash = ?1
              ORDER BY a.content_hash = ?1 DESC, a.deleted_at IS NOT NULL, a.clipped_at
              LIMIT 1",
        )?
        .query_row([hash], |r| {
            Ok(ArticleRef {
                rowid: r.get(0)?,
                id: r.get(1)?,
            })
        })
        .optional()?)
}

/// The article outside the bin that has a copy (`nj clip` folded a
/// syndicated copy into it) whose text has this hash.
pub(super) fn find_by_copy_hash(conn: &Connection, hash: &str) -> Result<Option<ArticleRef>> {
    Ok(conn
        .prepare_cached(
            "SELECT a.rowid, a.id FROM copies c JOIN articles a ON a.id = c.article_id
              WHERE c.content_hash = ?1 AND a.deleted_at IS NULL
              ORDER BY a.clipped_at LIMIT 1",
        )?
        .query_row([hash], |r| {
            Ok(ArticleRef {
                rowid: r.get(0)?,
                id: r.get(1)?,
            })
        })
        .optional()?)
}

/// Whether one of `urls` is where a copy folded into the article came
/// from.
fn is_copy_url(conn: &Connection, article: &ArticleRef, urls: &[String]) -> Result<bool> {
    let mut stmt =
        conn.prepare_cached("SELECT 1 FROM copies WHERE article_id = ?1 AND url = ?2")?;
    for url in urls {
        if stmt.exists(rusqlite::params![article.id, url])? {
            return Ok(true);
        }
    }
    Ok(false)
}

pub(super) fn find_by_url(conn: &Connection, urls: &[String]) -> Result<Option<ArticleRef>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.rowid, a.id FROM article_urls u JOIN articles a ON a.seq = u.article_seq
          WHERE u.url = ?1 ORDER BY a.deleted_at IS NOT NULL, a.clipped_at DESC LIMIT 1",
    )?;
    for url in urls {
        if let Some(found) = stmt
            .query_row([url], |r| {
                Ok(ArticleRef {
                    rowid: r.get(0)?,
                    id: r.get(1)?,
                })
            })
            .optional()?
        {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

fn opt_text(v: &Option<String>) -> Value {
    v.clone().map(Value::Text).unwrap_or(Value::Null)
}

impl Tx<'_> {
    /// Clips an article: a new one, a duplicate merged into the existing
    /// article, or a new version of an article clipped from the same URL.
    pub fn clip(&mut self, clip: &NewClip) -> Result<ClipOutcome> {
        if clip.content.is_empty() {
            return Err(Error::BadInput(
                "the article has no text, so nothing was clipped".into(),
            ));
        }
        let tags: Vec<String> = clip.tags.iter().filter_map(|t| normalize_tag(t)).collect();
        let mut previous_hash = None;
        let mut restored = false;
        let mut similarity = None;
        let mut copy_hash = None;

        let mut by_url = find_by_url(self.conn(), &clip.urls)?;
        let mut filled = false;
        // A bookmark that folded into the article with its text (or the
        // one it copies): its URLs moved there, and, for a copy, how alike.
        let mut folded: Option<(Vec<String>, Option<f64>)> = None;
        // A pending bookmark of this URL gets this text, as `nj fetch`
        // would give it; the clip then goes on as a clip of that article
        // (or of the one the bookmark folded into, which has the text).
        if let Some(pending) = by_url.clone() {
            let bookmark = article_by_rowid(self.conn(), pending.rowid)?;
            if bookmark.pending {
                by_url = match self.fill_pending(&pending, clip)? {
                    super::Filled::Merged { similarity, .. } => {
                        folded = Some((bookmark.urls, similarity));
                        None
                    }
                    _ => {
                        filled = true;
                        Some(pending)
                    }
                };
            }
        }
        let by_hash = find_by_hash(self.conn(), &clip.content.hash)?;
        // A copy's text clipped again (its page, or a file of it), unless
        // it is to be kept apart.
        let by_copy = match (&by_hash, clip.separate) {
            (None, false) => find_by_copy_hash(self.conn(), &clip.content.hash)?,
            _ => None,
        };
        // A page a copy came from, clipped again: its text is never the
        // article's own. It is a copy again if it still is one, else an
        // article of its own.
        if let Some(u) = &by_url {
            if by_copy.is_none() && is_copy_url(self.conn(), u, &clip.urls)? {
                by_url = None;
            }
        }
        // The same URL showing an earlier text again means the page was
        // reverted: a new version, not a duplicate.
        let reverted = match (&by_hash, &by_url) {
            (Some(h), Some(u)) if h == u => {
                article_by_rowid(self.conn(), u.rowid)?.content_hash != clip.content.hash
            }
            _ => false,
        };
        let (status, article) = if let (true, Some(existing)) = (reverted, by_url.clone()) {
            previous_hash = self.record_version(&existing, clip)?;
            (ClipStatus::NewVersion, existing)
        } else if let Some(existing) = by_hash.or(by_copy) {
            // Stores nothing new, but heals the stored text if damaged.
            self.put_text(&clip.content)?;
            (ClipStatus::Duplicate, existing)
        } else if let Some(existing) = by_url {
            previous_hash = self.record_version(&existing, clip)?;
            (ClipStatus::NewVersion, existing)
        } else if let Some((existing, alike)) = match clip.separate {
            true => None,
            false => self.find_copy(&clip.content)?,
        } {
            self.put_text(&clip.content)?;
            self.record_copies(&existing, &clip.urls, &clip.content.hash, self.now())?;
            similarity = Some(alike);
            copy_hash = Some(clip.content.hash.clone());
            (ClipStatus::Copy, existing)
        } else {
            self.put_text(&clip.content)?;
            let article = self.create_article(&ArticleRow {
                title: clip.title.clone(),
                url: clip.urls.first().cloned(),
                site: clip.site.clone(),
                author: clip.author.clone(),
                lang: clip.lang.clone(),
                published_at: clip.published_at,
                content_hash: clip.content.hash.clone(),
                kept_apart: clip.separate,
                ..ArticleRow::default()
            })?;
            self.create_version(&article, &clip.content.hash)?;
            (ClipStatus::New, article)
        };

        // The bookmark's first text: to the user, a new clip.
        let status = if filled && status == ClipStatus::Duplicate {
            ClipStatus::New
        } else {
            status
        };
        // The bookmark's URLs, which its fold moved to the article.
        let mut urls_added = Vec::new();
        let status = match folded {
            Some((urls, alike)) if status == ClipStatus::Duplicate => {
                urls_added = urls;
                if alike.is_some() {
                    similarity = alike;
                    copy_hash = Some(clip.content.hash.clone());
                    ClipStatus::Copy
                } else {
                    status
                }
            }
            _ => status,
        };
        let current = article_by_rowid(self.conn(), article.rowid)?;
        if current.deleted_at.is_some() {
            self.set_article(&article, article::DELETED_AT, Value::Null)?;
            restored = true;
        }
        // (A copy's page is not the article's: it stays without one.)
        if current.url.is_none() && status != ClipStatus::Copy {
            if let Some(url) = clip.urls.first() {
                self.set_article(&article, article::URL, url.clone().into())?;
            }
        }
        for url in &clip.urls {
            if self.add_url(&article, url)? && status != ClipStatus::New {
                urls_added.push(url.clone());
            }
        }
        let mut tags_added = Vec::new();
        for tag in &tags {
            if self.link_tag(&article, tag)? {
                tags_added.push(tag.clone());
            }
        }
        let mut note_added = false;
        if let Some(note) = clip
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            self.create_note(Some(&article), note)?;
            note_added = true;
        }
        Ok(ClipOutcome {
            status,
            previous_hash,
            restored,
            tags_added,
            urls_added,
            note_added,
            similarity,
            copy_hash,
            article: article_by_rowid(self.conn(), article.rowid)?,
        })
    }

    /// Records `clip` as the article's newest version, when its text differs
    /// from the current one, and takes the page's current title and
    /// metadata. Returns the previous hash, or `None` when the text is
    /// unchanged (and nothing was written).
    pub fn record_version(
        &mut self,
        article: &ArticleRef,
        clip: &NewClip,
    ) -> Result<Option<String>> {
        let before = article_by_rowid(self.conn(), article.rowid)?;
        if before.content_hash == clip.content.hash {
            return Ok(None);
        }
        if clip.content.is_empty() {
            return Err(Error::BadInput(
                "the new version has no text, so nothing was recorded".into(),
            ));
        }
        self.put_text(&clip.content)?;
        self.create_version(article, &clip.content.hash)?;
        self.set_article(
            article,
            article::CONTENT_HASH,
            clip.content.hash.clone().into(),
        )?;
        // The title (maybe the user's own) and the metadata stay as first
        // clipped: a version is a change of text. Only what was missing is
        // filled in.
        self.fill_metadata(
            article,
            &before,
            [&clip.site, &clip.author, &clip.lang],
            clip.published_at,
        )?;
        for url in &clip.urls {
            self.add_url(article, url)?;
        }
        Ok(Some(before.content_hash))
    }

    /// Sets the site, author, language and publication date that
    /// `before` (the article as it is) lacks and a newer source gives.
    /// Returns whether anything was set.
    pub(super) fn fill_metadata(
        &mut self,
        article: &ArticleRef,
        before: &Article,
        [site, author, lang]: [&Option<String>; 3],
        published_at: Option<Timestamp>,
    ) -> Result<bool> {
        let mut changed = false;
        for (field, new, old) in [
            (article::SITE, site, &before.site),
            (article::AUTHOR, author, &before.author),
            (article::LANG, lang, &before.lang),
        ] {
            if new.is_some() && old.is_none() {
                self.set_article(article, field, opt_text(new))?;
                changed = true;
            }
        }
        if let (Some(p), None) = (published_at, before.published_at) {
            self.set_article(article, article::PUBLISHED_AT, Value::Integer(p.0))?;
            changed = true;
        }
        Ok(changed)
    }

    /// Makes an article's parts agree again (see
    /// [`super::query::Inconsistent`]): a current text that is stored but
    /// is none of its versions becomes a version; otherwise the newest
    /// version whose text is stored becomes the current text. Returns
    /// false when nothing could be done (no stored text at all), which
    /// clipping the article again heals.
    pub fn mend_article(&mut self, article: &ArticleRef) -> Result<bool> {
        let (hash, has_text, is_version): (String, bool, bool) = self
            .conn()
            .prepare_cached(
                "SELECT a.content_hash,
                        EXISTS (SELECT 1 FROM texts t WHERE t.hash = a.content_hash),
                        EXISTS (SELECT 1 FROM versions v
                                 WHERE v.article_id = a.id AND v.content_hash = a.content_hash)
                   FROM articles a WHERE a.rowid = ?1",
            )?
            .query_row([article.rowid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        if hash != EMPTY_HASH && has_text && !is_version {
            self.create_version(article, &hash)?;
            return Ok(true);
        }
        let newest: Option<String> = self
            .conn()
            .prepare_cached(
                "SELECT v.content_hash FROM versions v JOIN texts t ON t.hash = v.content_hash
                  WHERE v.article_id = ?1 ORDER BY v.created_at DESC, v.rowid DESC LIMIT 1",
            )?
            .query_row([&article.id], |r| r.get(0))
            .optional()?;
        match newest {
            Some(newest) if newest != hash => {
                self.set_article(article, article::CONTENT_HASH, newest.into())?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Renames an article. Returns false when the title is unchanged.
    pub fn set_title(&mut self, article: &ArticleRef, title: &str) -> Result<bool> {
        let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
        if title.is_empty() {
            return Err(Error::BadInput(
                "the title is empty; give a few words".into(),
            ));
        }
        if article_by_rowid(self.conn(), article.rowid)?.title == title {
            return Ok(false);
        }
        self.set_article(article, article::TITLE, title.into())?;
        Ok(true)
    }

    /// Adds and removes tags. Returns the tags actually added and removed.
    pub fn retag(
        &mut self,
        article: &ArticleRef,
        add: &[String],
        remove: &[String],
    ) -> Result<(Vec<String>, Vec<String>)> {
        let mut added = Vec::new();
        let mut removed = Vec::new();
        for raw in remove {
            let tag = normalize_tag(raw).ok_or_else(|| bad_tag(raw))?;
            if self.unlink_tag(article, &tag)? {
                removed.push(tag);
            }
        }
        for raw in add {
            let tag = normalize_tag(raw).ok_or_else(|| bad_tag(raw))?;
            if self.link_tag(article, &tag)? {
                added.push(tag);
            }
        }
        Ok((added, removed))
    }

    /// Gives every article tagged `from` the tag `to` instead, binned ones
    /// too (so a restored article has it). Each change is an unlink and a
    /// link, so it syncs like any tagging. When `to` is in use already,
    /// that is a merge, refused unless `merge` says so. Returns the two
    /// tags as normalised and how many articles were changed.
    pub fn rename_tag(
        &mut self,
        from: &str,
        to: &str,
        merge: bool,
    ) -> Result<(String, String, usize)> {
        let old = normalize_tag(from).ok_or_else(|| bad_tag(from))?;
        let new = normalize_tag(to).ok_or_else(|| bad_tag(to))?;
        if old == new {
            return Err(Error::BadInput(format!(
                "{from:?} and {to:?} are the same tag ({old})"
            )));
        }
        let count = |tx: &Self, tag: &str| -> Result<i64> {
            Ok(tx
                .conn()
                .prepare_cached("SELECT count(*) FROM article_tags WHERE tag = ?1")?
                .query_row([tag], |r| r.get(0))?)
        };
        if count(self, &old)? == 0 {
            return Err(Error::BadInput(format!(
                "no article has the tag {old}; `nj tags` lists the tags"
            )));
        }
        let existing = count(self, &new)?;
        if existing > 0 && !merge {
            return Err(Error::BadInput(format!(
                "{new} is already a tag, on {existing} article(s) counting the bin; to put the articles tagged {old} under it too, run `nj tags merge {old} {new}`"
            )));
        }
        let articles: Vec<ArticleRef> = self
            .conn()
            .prepare_cached(
                "SELECT a.seq, a.id FROM article_tags g JOIN articles a ON a.seq = g.article_seq
                  WHERE g.tag = ?1 ORDER BY a.seq",
            )?
            .query_map([&old], |r| {
                Ok(ArticleRef {
                    rowid: r.get(0)?,
                    id: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        for a in &articles {
            self.unlink_tag(a, &old)?;
            self.link_tag(a, &new)?;
        }
        Ok((old, new, articles.len()))
    }

    /// Moves an article to the bin (or back out of it). Returns false when
    /// it already was where it was asked to go.
    pub fn set_removed(&mut self, article: &ArticleRef, removed: bool) -> Result<bool> {
        let current = article_by_rowid(self.conn(), article.rowid)?;
        if current.deleted_at.is_some() == removed {
            return Ok(false);
        }
        let value = if removed {
            Value::Integer(self.now().0)
        } else {
            Value::Null
        };
        self.set_article(article, article::DELETED_AT, value)?;
        Ok(true)
    }
}

fn bad_tag(raw: &str) -> Error {
    Error::BadInput(format!(
        "{raw:?} is not a usable tag; a tag needs at least one visible character"
    ))
}

impl Journal {
    pub fn clip(&mut self, now: Timestamp, clip: &NewClip) -> Result<ClipOutcome> {
        self.write(now, |tx| tx.clip(clip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::ListFilter;

    fn clip(text: &str, url: Option<&str>, tags: &[&str]) -> NewClip {
        NewClip {
            content: Content::new(text),
            title: text.lines().next().unwrap_or("").to_owned(),
            urls: url.map(|u| vec![u.to_owned()]).unwrap_or_default(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ..NewClip::default()
        }
    }

    #[test]
    fn same_text_is_one_article_with_merged_urls_and_tags() {
        let mut j = Journal::open_in_memory().unwrap();
        let a = j
            .clip(
                Timestamp(1_000),
                &clip("Story\n\nBody.", Some("https://a.example/s"), &["x"]),
            )
            .unwrap();
        assert_eq!(a.status, ClipStatus::New);
        let b = j
            .clip(
                Timestamp(2_000),
                &clip(
                    "Story\r\n\r\nBody.",
                    Some("https://b.example/s"),
                    &["y", "x"],
                ),
            )
            .unwrap();
        assert_eq!(b.status, ClipStatus::Duplicate);
        assert_eq!(b.article.id, a.article.id);
        assert_eq!(b.tags_added, vec!["y".to_string()]);
        assert_eq!(b.urls_added, vec!["https://b.example/s".to_string()]);
        assert_eq!(
            b.article.urls,
            vec![
                "https://a.example/s".to_string(),
                "https://b.example/s".to_string()
            ]
        );
        assert_eq!(b.article.tags, vec!["x".to_string(), "y".to_string()]);
        assert_eq!(j.list(&ListFilter::default()).unwrap().len(), 1);
    }

    #[test]
    fn changed_text_at_same_url_is_a_new_version() {
        let mut j = Journal::open_in_memory().unwrap();
        let a = j
            .clip(
                Timestamp(1_000),
                &clip("Story\n\nFirst.", Some("https://a.example/s"), &[]),
            )
            .unwrap();
        let b = j
            .clip(
                Timestamp(2_000),
                &clip("Story\n\nSecond.", Some("https://a.example/s"), &[]),
            )
            .unwrap();
        assert_eq!(b.status, ClipStatus::NewVersion);
        assert_eq!(
            b.previous_hash.as_deref(),
            Some(a.article.content_hash.as_str())
        );
        let versions = j.versions(&b.article.as_ref()).unwrap();
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[0].content_hash, a.article.content_hash);
        assert_eq!(versions[1].content_hash, b.article.content_hash);
    }

    #[test]
    fn reverted_page_is_a_new_version_not_a_duplicate() {
        let mut j = Journal::open_in_memory().unwrap();
        let url = Some("https://a.example/s");
        j.clip(Timestamp(1), &clip("Story\n\nFirst.", url, &[]))
            .unwrap();
        j.clip(Timestamp(2), &clip("Story\n\nSecond.", url, &[]))
            .unwrap();
        let back = j
            .clip(Timestamp(3), &clip("Story\n\nFirst.", url, &[]))
            .unwrap();
        assert_eq!(back.status, ClipStatus::NewVersion);
        assert_eq!(
            back.article.content_hash,
            Content::new("Story\n\nFirst.").hash
        );
        assert_eq!(j.versions(&back.article.as_ref()).unwrap().len(), 3);
        // The same old text from elsewhere is still a duplicate.
        let copy = j
            .clip(
                Timestamp(4),
                &clip("Story\n\nSecond.", Some("https://b.example/s"), &[]),
            )
            .unwrap();
        assert_eq!(copy.status, ClipStatus::Duplicate);
    }

    #[test]
    fn new_version_keeps_title_and_metadata() {
        let mut j = Journal::open_in_memory().unwrap();
        let url = Some("https://a.example/s");
        let mut first = clip("Story\n\nFirst.", url, &[]);
        first.title = "My own title".into();
        first.author = Some("A. Writer".into());
        j.clip(Timestamp(1), &first).unwrap();
        let mut second = clip("Other headline\n\nSecond.", url, &[]);
        second.author = Some("Someone Else".into());
        second.site = Some("Example".into());
        let out = j.clip(Timestamp(2), &second).unwrap();
        assert_eq!(out.status, ClipStatus::NewVersion);
        assert_eq!(out.article.title, "My own title");
        assert_eq!(out.article.author.as_deref(), Some("A. Writer"));
        assert_eq!(out.article.site.as_deref(), Some("Example"));
    }

    #[test]
    fn empty_text_is_refused() {
        let mut j = Journal::open_in_memory().unwrap();
        let err = j.clip(Timestamp(1), &clip("\n \n", None, &[])).unwrap_err();
        assert!(err.to_string().contains("no text"), "{err}");
    }
}
