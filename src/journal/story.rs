//! Stories: what a user follows over weeks (`nj story`). A story holds
//! articles (each membership a row of its own, made from the two ids, so
//! devices agree on it), and notes and follow-ups of its own; its short
//! name is made from its title whenever it is asked for.

use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::query::{article_from_row, short_id, Article, ArticleRef, ARTICLE_COLUMNS};
use super::tx::new_id;
use super::{Journal, Tx};
use crate::entity::fields::{story, story_article};
use crate::entity::Entity;
use crate::error::{Candidate, Error, Result};
use crate::time::Timestamp;

/// A story, by its row and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoryRef {
    pub rowid: i64,
    pub id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Story {
    pub id: String,
    /// The short name made from its title (`jedi-contract`).
    pub name: String,
    pub title: String,
    pub created_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    pub deleted_at: Option<Timestamp>,
    pub updated_at: Timestamp,
    #[serde(skip)]
    pub rowid: i64,
}

impl Story {
    pub fn as_ref(&self) -> StoryRef {
        StoryRef {
            rowid: self.rowid,
            id: self.id.clone(),
        }
    }

    pub fn short_id(&self) -> &str {
        short_id(&self.id)
    }

    pub fn is_open(&self) -> bool {
        self.closed_at.is_none() && self.deleted_at.is_none()
    }
}

/// The short name of a story with this title: its words in lower case,
/// joined by `-`, at most 40 characters (`JEDI contract` → `jedi-contract`).
pub fn story_name(title: &str) -> String {
    let mut name = String::new();
    for word in title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let word = word.to_lowercase();
        if !name.is_empty() && name.len() + 1 + word.len() > 40 {
            break;
        }
        if !name.is_empty() {
            name.push('-');
        }
        name.push_str(&word);
    }
    if name.is_empty() {
        name.push_str("story");
    }
    name
}

/// The id of an article's membership of a story: the same on every
/// device, so two that add the same article make one row.
fn membership_id(story: &str, article: &str) -> String {
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6e6a_7374_6f72_4a1e_8c3d_51f0_a2b4_c6d8);
    let name = format!("{}:{story}{article}", story.len());
    crate::sync::uuid_v5(&NAMESPACE, name.as_bytes())
}

fn clean_title(title: &str) -> Result<String> {
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    if title.is_empty() {
        return Err(Error::BadInput(
            "a story needs a title, such as \"JEDI contract\"".into(),
        ));
    }
    crate::limits::check_title(&title)?;
    Ok(title)
}

/// Works out the figures of every story that has none in `story_figures`
/// and stores them: the count of its articles (outside the bin), its last
/// activity (its own change, an article's, a note on it), its next open
/// follow-up (its own or an article's), and whether an article in it has a
/// version newer than both the article's clip and the story's last showing
/// on this device. Each figure is grouped by story in one pass over the
/// stories that need it. The CROSS JOINs keep SQLite's order: from the few
/// stories to do to their rows, where the planner would otherwise read
/// every story's articles and keep those of the stories to do.
const FIGURES: &str = "
    WITH todo(id) AS MATERIALIZED (
         SELECT s.id FROM stories s
          WHERE NOT EXISTS (SELECT 1 FROM story_figures f WHERE f.story_id = s.id)),
     m AS MATERIALIZED (
         SELECT sa.story_id, a.id AS article_id, a.clipped_at, a.updated_at
           FROM todo CROSS JOIN story_articles sa ON sa.story_id = todo.id
           CROSS JOIN articles a ON a.id = sa.article_id
          WHERE sa.dropped_at IS NULL AND a.deleted_at IS NULL),
     counts AS (
         SELECT story_id, count(*) AS n, max(updated_at) AS last
           FROM m GROUP BY story_id),
     notes_last AS (
         SELECT n.story_id, max(n.created_at) AS last
           FROM todo CROSS JOIN notes n ON n.story_id = todo.id
          WHERE n.deleted_at IS NULL GROUP BY n.story_id),
     due AS (
         SELECT story_id, min(due_at) AS next FROM (
             SELECT f.story_id, f.due_at FROM todo CROSS JOIN followups f ON f.story_id = todo.id
              WHERE f.status = 'open' AND f.deleted_at IS NULL
             UNION ALL
             SELECT m.story_id, f.due_at
               FROM m CROSS JOIN followups f ON f.article_id = m.article_id
              WHERE f.status = 'open' AND f.deleted_at IS NULL)
          GROUP BY story_id),
     changed AS (
         SELECT DISTINCT m.story_id FROM m
           JOIN stories s2 ON s2.id = m.story_id
           LEFT JOIN story_seen seen ON seen.story_id = m.story_id
          WHERE EXISTS (SELECT 1 FROM versions v
                         WHERE v.article_id = m.article_id
                           AND v.created_at > max(m.clipped_at,
                                 coalesce(seen.shown_at, s2.created_at))))
     INSERT INTO story_figures(story_id, articles, last_activity, next_followup, changed)
     SELECT s.id, ifnull(c.n, 0),
            max(s.updated_at, ifnull(c.last, 0), ifnull(nl.last, 0)),
            d.next, ch.story_id IS NOT NULL
       FROM todo JOIN stories s ON s.id = todo.id
       LEFT JOIN counts c ON c.story_id = s.id
       LEFT JOIN notes_last nl ON nl.story_id = s.id
       LEFT JOIN due d ON d.story_id = s.id
       LEFT JOIN changed ch ON ch.story_id = s.id";

const STORY_COLUMNS: &str = "rowid, id, title, created_at, closed_at, deleted_at, updated_at";

fn story_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Story> {
    let title: String = r.get(2)?;
    Ok(Story {
        rowid: r.get(0)?,
        id: r.get(1)?,
        name: story_name(&title),
        title,
        created_at: r.get(3)?,
        closed_at: r.get(4)?,
        deleted_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

pub(crate) fn story_by_rowid(conn: &Connection, rowid: i64) -> Result<Story> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {STORY_COLUMNS} FROM stories WHERE rowid = ?1"
        ))?
        .query_row([rowid], story_row)?)
}

impl Tx<'_> {
    /// A new story.
    pub fn create_story(&mut self, title: &str) -> Result<StoryRef> {
        let title = clean_title(title)?;
        let id = new_id();
        let now = self.now();
        let rowid = self.create_row(
            Entity::Story,
            &id,
            [
                (story::TITLE, Value::Text(title)),
                (story::CREATED_AT, Value::Integer(now.0)),
            ],
            now,
        )?;
        Ok(StoryRef { rowid, id })
    }

    /// Puts the article in the story. Returns false when it was in it.
    pub fn add_to_story(&mut self, s: &StoryRef, article: &ArticleRef) -> Result<bool> {
        let id = membership_id(&s.id, &article.id);
        let existing: Option<(i64, Option<i64>)> = self
            .conn()
            .prepare_cached("SELECT rowid, dropped_at FROM story_articles WHERE id = ?1")?
            .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match existing {
            Some((_, None)) => return Ok(false),
            Some((rowid, Some(_))) => {
                self.set_row_field(&id, rowid, story_article::DROPPED_AT, Value::Null)?;
            }
            None => {
                let now = self.now();
                self.create_row(
                    Entity::StoryArticle,
                    &id,
                    [
                        (story_article::STORY_ID, Value::Text(s.id.clone())),
                        (story_article::ARTICLE_ID, Value::Text(article.id.clone())),
                        (story_article::ADDED_AT, Value::Integer(now.0)),
                    ],
                    now,
                )?;
            }
        }
        self.touch_story(s)?;
        Ok(true)
    }

    /// Takes the article out of the story. Returns false when it was not
    /// in it.
    pub fn drop_from_story(&mut self, s: &StoryRef, article: &ArticleRef) -> Result<bool> {
        let id = membership_id(&s.id, &article.id);
        let rowid: Option<i64> = self
            .conn()
            .prepare_cached(
                "SELECT rowid FROM story_articles WHERE id = ?1 AND dropped_at IS NULL",
            )?
            .query_row([&id], |r| r.get(0))
            .optional()?;
        let Some(rowid) = rowid else {
            return Ok(false);
        };
        let now = self.now().0;
        self.set_row_field(&id, rowid, story_article::DROPPED_AT, Value::Integer(now))?;
        self.touch_story(s)?;
        Ok(true)
    }

    pub fn set_story_title(&mut self, s: &StoryRef, title: &str) -> Result<()> {
        let title = clean_title(title)?;
        self.set_row_field(&s.id, s.rowid, story::TITLE, Value::Text(title))
    }

    /// Closes the story (no longer followed), or opens it again.
    pub fn set_story_closed(&mut self, s: &StoryRef, closed: bool) -> Result<()> {
        let value = if closed {
            Value::Integer(self.now().0)
        } else {
            Value::Null
        };
        self.set_row_field(&s.id, s.rowid, story::CLOSED_AT, value)
    }

    /// Moves the story to the bin, or back.
    pub fn set_story_removed(&mut self, s: &StoryRef, removed: bool) -> Result<()> {
        let value = if removed {
            Value::Integer(self.now().0)
        } else {
            Value::Null
        };
        self.set_row_field(&s.id, s.rowid, story::DELETED_AT, value)
    }

    /// A note of the story's own.
    pub fn add_story_note(&mut self, s: &StoryRef, body: &str) -> Result<super::NoteRef> {
        use crate::entity::fields::note as n;
        let body = super::note::clean(body)?;
        let now = self.now();
        let id = self.next_id();
        let note = self.insert_note(
            None,
            &id,
            [
                (n::BODY, Value::Text(body)),
                (n::CREATED_AT, Value::Integer(now.0)),
                (n::STORY_ID, Value::Text(s.id.clone())),
            ],
            now,
        )?;
        self.touch_story(s)?;
        Ok(note)
    }

    /// A follow-up of the story's own.
    pub fn create_story_followup(
        &mut self,
        s: &StoryRef,
        text: &str,
        due_at: Timestamp,
        every: Option<crate::time::Interval>,
    ) -> Result<super::FollowupRef> {
        use crate::entity::fields::followup as f;
        let now = self.now();
        let id = new_id();
        let followup = self.insert_followup(
            &id,
            [
                (f::TEXT, Value::Text(super::followup::clean_text(text)?)),
                (f::DUE_AT, Value::Integer(due_at.0)),
                (
                    f::EVERY,
                    every.map_or(Value::Null, |e| Value::Text(e.to_string())),
                ),
                (f::STATUS, Value::Text("open".to_owned())),
                (f::CREATED_AT, Value::Integer(now.0)),
                (f::STORY_ID, Value::Text(s.id.clone())),
            ],
            now,
        )?;
        self.touch_story(s)?;
        Ok(followup)
    }

    /// The story changed now (what it holds did).
    fn touch_story(&mut self, s: &StoryRef) -> Result<()> {
        self.conn()
            .prepare_cached("UPDATE stories SET updated_at = ?1 WHERE rowid = ?2")?
            .execute(params![self.now(), s.rowid])?;
        Ok(())
    }
}

/// One open story in `nj stories`.
#[derive(Debug, Clone, Serialize)]
pub struct StorySummary {
    #[serde(flatten)]
    pub story: Story,
    pub articles: i64,
    /// The latest of its articles' clipping, versions and notes, and its
    /// own notes.
    pub last_activity: Timestamp,
    /// The earliest open follow-up on it or on one of its articles.
    pub next_followup: Option<Timestamp>,
    /// One of its articles has a new version since `nj story show` last
    /// showed it here.
    pub changed: bool,
}

/// What happened in a story, for its timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub at: Timestamp,
    #[serde(flatten)]
    pub what: What,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum What {
    /// An article of the story, at its published date, else when it was
    /// clipped.
    Article { article: Box<Article> },
    /// A new text of one of its articles.
    Version {
        article_id: String,
        title: String,
        number: usize,
        words_added: usize,
        words_removed: usize,
        minor: bool,
    },
    Note {
        note_id: String,
        /// The article it is on; none for the story's own.
        article_id: Option<String>,
        text: String,
    },
    /// A follow-up set.
    FollowupSet {
        followup_id: String,
        article_id: Option<String>,
        text: String,
        due_at: Timestamp,
    },
    FollowupDone {
        followup_id: String,
        article_id: Option<String>,
        text: String,
    },
    /// An open follow-up, at when it is due.
    FollowupDue {
        followup_id: String,
        article_id: Option<String>,
        text: String,
    },
}

/// How many of a story's latest articles `nj story suggest` asks about.
const SUGGEST_FROM: usize = 30;
/// How many related articles of each it takes.
const RELATED_PER_ARTICLE: usize = 20;

/// An article that seems to belong in a story.
#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    pub article: Article,
    /// Higher is closer: for each article of the story it is related to,
    /// more the higher it ranks there.
    pub score: u32,
    /// How many of the story's articles it is related to.
    pub related_to: usize,
    /// The distinctive words it shares with them.
    pub shares: Vec<String>,
}

/// The article ids of a story, as a SQL fragment over `?1` (the story id).
const MEMBERS: &str =
    "SELECT article_id FROM story_articles WHERE story_id = ?1 AND dropped_at IS NULL";

impl Journal {
    /// The story named by `arg`: its short name, an id prefix, or the
    /// start of its name. One in the bin counts only with `removed`. An
    /// unknown or ambiguous name says which stories there are.
    pub fn resolve_story(&self, arg: &str, removed: bool) -> Result<Story> {
        let all: Vec<Story> = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {STORY_COLUMNS} FROM stories ORDER BY created_at, id"
            ))?
            .query_map([], story_row)?
            .collect::<rusqlite::Result<_>>()?;
        let live: Vec<&Story> = all
            .iter()
            .filter(|s| s.deleted_at.is_some() == removed)
            .collect();
        let wanted = story_name(arg);
        let lower = arg.trim().to_lowercase();
        let by_name: Vec<&Story> = live.iter().copied().filter(|s| s.name == wanted).collect();
        // An id prefix of at least four characters, which a name may look
        // like ("4f2a"): both count, and two different ones are ambiguous.
        let by_id: Vec<&Story> = if lower.len() >= 4 {
            live.iter()
                .copied()
                .filter(|s| s.id.starts_with(&lower))
                .collect()
        } else {
            Vec::new()
        };
        let mut found: Vec<&Story> = by_name;
        for s in by_id {
            if !found.iter().any(|f| f.id == s.id) {
                found.push(s);
            }
        }
        if found.is_empty() {
            found = live
                .iter()
                .copied()
                .filter(|s| s.name.starts_with(&wanted))
                .collect();
        }
        let kind = if removed { "removed story" } else { "story" };
        match found.len() {
            1 => Ok(found[0].clone()),
            0 => Err(Error::NotFoundAmong {
                kind,
                name: arg.to_owned(),
                candidates: live
                    .iter()
                    .filter(|s| removed || s.closed_at.is_none())
                    .take(10)
                    .map(|s| candidate(s))
                    .collect(),
                hint: if removed {
                    "`nj stories --removed` lists the bin"
                } else {
                    "`nj stories` lists them (`--closed` the closed ones), and `nj story new TITLE` makes one"
                },
            }),
            n => Err(Error::Ambiguous {
                kind,
                prefix: arg.to_owned(),
                more: n > 10,
                candidates: found.iter().take(10).map(|s| candidate(s)).collect(),
            }),
        }
    }

    pub fn story(&self, s: &StoryRef) -> Result<Story> {
        story_by_rowid(self.conn(), s.rowid)
    }

    /// The story with this whole id (an export's record names it so).
    pub fn story_with_id(&self, id: &str) -> Result<Story> {
        Ok(self
            .conn()
            .prepare_cached(&format!(
                "SELECT {STORY_COLUMNS} FROM stories WHERE id = ?1"
            ))?
            .query_row([id], story_row)?)
    }

    /// The stories the article is in, open ones first.
    pub fn stories_of(&self, article: &ArticleRef) -> Result<Vec<Story>> {
        Ok(self
            .conn()
            .prepare_cached(&format!(
                "SELECT {STORY_COLUMNS} FROM stories
                  WHERE deleted_at IS NULL
                    AND id IN (SELECT story_id FROM story_articles
                                WHERE article_id = ?1 AND dropped_at IS NULL)
                  ORDER BY closed_at IS NOT NULL, created_at"
            ))?
            .query_map([&article.id], story_row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// The open stories (or the closed ones, or those in the bin), with
    /// what `nj stories` shows of each, the most recently active first.
    ///
    /// Each story's figures are kept in `story_figures`, which triggers
    /// clear for every story a change touches (schema.sql, migration 12):
    /// a thousand stories cost a thousand short rows, not a read of their
    /// thousands of articles. The stories without figures get them here,
    /// worked out and stored in the transaction that reads them all, so no
    /// change slips in between (or, while another nj writes, worked out
    /// without being stored).
    pub fn stories(&mut self, closed: bool, removed: bool) -> Result<Vec<StorySummary>> {
        let which = match (removed, closed) {
            (true, _) => "s.deleted_at IS NOT NULL",
            (false, true) => "s.deleted_at IS NULL AND s.closed_at IS NOT NULL",
            (false, false) => "s.deleted_at IS NULL AND s.closed_at IS NULL",
        };
        let cols = STORY_COLUMNS
            .split(", ")
            .map(|c| format!("s.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let read = format!(
            "SELECT {cols}, f.articles, f.last_activity, f.next_followup, f.changed
               FROM stories s JOIN story_figures f ON f.story_id = s.id
              WHERE {which}"
        );
        let read = |conn: &rusqlite::Connection| -> Result<Vec<StorySummary>> {
            Ok(conn
                .prepare_cached(&read)?
                .query_map([], |r| {
                    Ok(StorySummary {
                        story: story_row(r)?,
                        articles: r.get(7)?,
                        last_activity: r.get(8)?,
                        next_followup: r.get(9)?,
                        changed: r.get(10)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?)
        };
        let lacking = "SELECT EXISTS (SELECT 1 FROM stories s WHERE NOT EXISTS
                           (SELECT 1 FROM story_figures f WHERE f.story_id = s.id))";
        let mut out = if self.conn().query_row(lacking, [], |r| r.get(0))? {
            // Stored when the journal is free to write; while another nj
            // writes (a sync, an import), worked out in a temporary table
            // of this connection, which the same statements then use, so
            // a listing never waits for the other's end.
            self.conn.busy_timeout(std::time::Duration::ZERO)?;
            let begun = self.conn.execute_batch("BEGIN IMMEDIATE");
            self.conn.busy_timeout(super::BUSY_TIMEOUT)?;
            let work = |conn: &Connection| -> Result<Vec<StorySummary>> {
                conn.execute(FIGURES, [])?;
                read(conn)
            };
            match begun {
                Ok(()) => match work(&self.conn) {
                    Ok(out) => {
                        self.conn.execute_batch("COMMIT")?;
                        out
                    }
                    Err(e) => {
                        let _ = self.conn.execute_batch("ROLLBACK");
                        return Err(e);
                    }
                },
                Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => {
                    self.conn.execute_batch(
                        "CREATE TEMP TABLE story_figures AS SELECT * FROM main.story_figures",
                    )?;
                    let out = work(&self.conn);
                    self.conn.execute_batch("DROP TABLE temp.story_figures")?;
                    out?
                }
                Err(e) => return Err(e.into()),
            }
        } else {
            read(self.conn())?
        };
        out.sort_by(|a, b| {
            b.last_activity
                .cmp(&a.last_activity)
                .then_with(|| a.story.id.cmp(&b.story.id))
        });
        Ok(out)
    }

    /// The articles in the story (outside the bin), in the order of the
    /// timeline, in one query.
    pub fn story_articles(&self, s: &StoryRef) -> Result<Vec<Article>> {
        self.members_read(s, false)
    }

    /// The story's articles; `brief` leaves their tags, URLs and word
    /// counts out (empty), which is most of the cost of reading many.
    fn members_read(&self, s: &StoryRef, brief: bool) -> Result<Vec<Article>> {
        let from = match brief {
            // The columns of ARTICLE_COLUMNS, with nothing for those left out.
            true => "SELECT a.rowid, a.id, a.title, a.url, a.site, a.author, a.lang,
                            a.published_at, a.clipped_at, a.updated_at, a.deleted_at,
                            a.content_hash, 0, NULL, NULL, a.read_at
                       FROM articles a"
                .to_owned(),
            false => format!(
                "SELECT {ARTICLE_COLUMNS} FROM articles a JOIN texts t ON t.hash = a.content_hash"
            ),
        };
        Ok(self
            .conn()
            .prepare_cached(&format!(
                "{from} WHERE a.id IN ({MEMBERS}) AND a.deleted_at IS NULL
                  ORDER BY coalesce(a.published_at, a.clipped_at), a.id"
            ))?
            .query_map([&s.id], article_from_row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// What happened in the story, in date order: its articles, their new
    /// versions, the notes on it and on them, and the follow-ups set, done
    /// and due. With `since`, only what happened from then on.
    ///
    /// `brief` reads each article's row alone, leaving its tags, URLs and
    /// word count out (empty), for a timeline printed as text, which shows
    /// none of them: a story of hundreds of articles costs a third as much.
    pub fn story_timeline(
        &self,
        s: &StoryRef,
        since: Option<Timestamp>,
        brief: bool,
    ) -> Result<Vec<Event>> {
        let mut events = Vec::new();
        let articles = self.members_read(s, brief)?;
        // The articles with more than one text, in one look.
        let changed: std::collections::HashSet<String> = self
            .conn()
            .prepare_cached(&format!(
                "SELECT article_id FROM versions WHERE article_id IN ({MEMBERS})
                  GROUP BY article_id HAVING count(*) > 1"
            ))?
            .query_map([&s.id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for a in &articles {
            let at = a.published_at.unwrap_or(a.clipped_at);
            if changed.contains(&a.id) {
                for v in self.versions_with_changes(&a.as_ref())?.into_iter().skip(1) {
                    let change = v.change.unwrap_or_default();
                    events.push(Event {
                        at: v.created_at,
                        what: What::Version {
                            article_id: a.id.clone(),
                            title: a.title.clone(),
                            number: v.number,
                            words_added: change.words_added,
                            words_removed: change.words_removed,
                            minor: change.minor,
                        },
                    });
                }
            }
            events.push(Event {
                at,
                what: What::Article {
                    article: Box::new(a.clone()),
                },
            });
        }
        let notes: Vec<(String, Option<String>, String, Timestamp)> = self
            .conn()
            .prepare_cached(&format!(
                "SELECT id, article_id, body, created_at FROM notes
                  WHERE deleted_at IS NULL AND (story_id = ?1 OR article_id IN ({MEMBERS}))"
            ))?
            .query_map([&s.id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        for (note_id, article_id, text, at) in notes {
            events.push(Event {
                at,
                what: What::Note {
                    note_id,
                    article_id,
                    text,
                },
            });
        }
        type FollowupRow = (
            String,
            Option<String>,
            String,
            Timestamp,
            String,
            Option<Timestamp>,
            Timestamp,
        );
        let followups: Vec<FollowupRow> = self
            .conn()
            .prepare_cached(&format!(
                "SELECT id, article_id, text, due_at, status, done_at, created_at FROM followups
                  WHERE deleted_at IS NULL AND (story_id = ?1 OR article_id IN ({MEMBERS}))"
            ))?
            .query_map([&s.id], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        for (id, article_id, text, due_at, status, done_at, created_at) in followups {
            events.push(Event {
                at: created_at,
                what: What::FollowupSet {
                    followup_id: id.clone(),
                    article_id: article_id.clone(),
                    text: text.clone(),
                    due_at,
                },
            });
            if let Some(done) = done_at {
                events.push(Event {
                    at: done,
                    what: What::FollowupDone {
                        followup_id: id.clone(),
                        article_id: article_id.clone(),
                        text: text.clone(),
                    },
                });
            }
            if status == "open" {
                events.push(Event {
                    at: due_at,
                    what: What::FollowupDue {
                        followup_id: id,
                        article_id,
                        text,
                    },
                });
            }
        }
        if let Some(since) = since {
            events.retain(|e| e.at >= since);
        }
        events.sort_by(|a, b| {
            a.at.cmp(&b.at)
                .then_with(|| order(&a.what).cmp(&order(&b.what)))
        });
        Ok(events)
    }

    /// An open story that an article belongs with, by what is related to
    /// it ([`Journal::related`]): the story of the most related article
    /// that is in one the article is not in, with the words they share.
    /// None, at the cost of one look, when there are no open stories.
    pub fn story_suggestion(&self, article: &ArticleRef) -> Result<Option<(Story, Vec<String>)>> {
        let open: bool = self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM stories WHERE closed_at IS NULL AND deleted_at IS NULL)",
            [],
            |r| r.get(0),
        )?;
        if !open {
            return Ok(None);
        }
        let mine: Vec<String> = self
            .stories_of(article)?
            .into_iter()
            .map(|s| s.id)
            .collect();
        for r in self.related(article, 10)? {
            let theirs = self.stories_of(&r.article.as_ref())?;
            if let Some(s) = theirs
                .into_iter()
                .find(|s| s.is_open() && !mine.contains(&s.id))
            {
                let why = match r.copy {
                    Some(_) => vec!["a copy of one of its articles".to_owned()],
                    None => r.shares.into_iter().take(4).collect(),
                };
                return Ok(Some((s, why)));
            }
        }
        Ok(None)
    }

    /// Articles of the journal that seem to belong in the story, best
    /// first: those related ([`Journal::related`]) to the most of its
    /// articles, and most closely, with the words they share. The story's
    /// latest articles (at most [`SUGGEST_FROM`]) are asked.
    pub fn story_suggestions(&self, s: &StoryRef, limit: usize) -> Result<Vec<Suggestion>> {
        let mut members = self.story_articles(s)?;
        members.sort_by_key(|a| std::cmp::Reverse(a.clipped_at));
        members.truncate(SUGGEST_FROM);
        let inside: std::collections::HashSet<String> = self
            .conn()
            .prepare_cached(MEMBERS)?
            .query_map([&s.id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut found: Vec<Suggestion> = Vec::new();
        for m in &members {
            for (rank, r) in self
                .related(&m.as_ref(), RELATED_PER_ARTICLE)?
                .into_iter()
                .enumerate()
            {
                if inside.contains(&r.article.id) {
                    continue;
                }
                let points = (RELATED_PER_ARTICLE - rank) as u32;
                match found.iter_mut().find(|f| f.article.id == r.article.id) {
                    Some(f) => {
                        f.score += points;
                        f.related_to += 1;
                        for w in r.shares {
                            if !f.shares.contains(&w) {
                                f.shares.push(w);
                            }
                        }
                    }
                    None => found.push(Suggestion {
                        article: r.article,
                        score: points,
                        related_to: 1,
                        shares: match r.copy {
                            Some(_) => vec!["a copy of one of its articles".to_owned()],
                            None => r.shares,
                        },
                    }),
                }
            }
        }
        found.sort_by(|a, b| {
            b.score
                .cmp(&a.score)
                .then_with(|| b.article.clipped_at.cmp(&a.article.clipped_at))
                .then_with(|| a.article.id.cmp(&b.article.id))
        });
        found.truncate(limit);
        Ok(found)
    }

    /// Notes that the story was shown now, on this device (`nj stories`
    /// marks it again when one of its articles gets a new version).
    ///
    /// One statement of its own: this device's bookkeeping, which nothing
    /// else (the change log, the index, the copy keys) hangs on.
    pub fn mark_story_shown(&mut self, s: &StoryRef, now: Timestamp) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO story_seen(story_id, shown_at) VALUES (?1, ?2)
                 ON CONFLICT(story_id) DO UPDATE SET shown_at = excluded.shown_at",
            )?
            .execute(params![s.id, now])?;
        Ok(())
    }
}

/// Events at one time: articles first, then what happened to them.
fn order(what: &What) -> u8 {
    match what {
        What::Article { .. } => 0,
        What::Version { .. } => 1,
        What::Note { .. } => 2,
        What::FollowupSet { .. } => 3,
        What::FollowupDone { .. } => 4,
        What::FollowupDue { .. } => 5,
    }
}

fn candidate(s: &Story) -> Candidate {
    let mut label = format!("{}  {}", s.name, s.title);
    if s.closed_at.is_some() {
        label.push_str(" (closed)");
    }
    Candidate {
        id: s.id.clone(),
        label,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_story_name_is_made_from_its_title() {
        assert_eq!(story_name("JEDI contract"), "jedi-contract");
        assert_eq!(
            story_name("  Amazon's protest: the ruling!  "),
            "amazon-s-protest-the-ruling"
        );
        assert_eq!(
            story_name("Überseering — Ausschreibung"),
            "überseering-ausschreibung"
        );
        assert_eq!(story_name("!!!"), "story");
        let long = story_name(&"word ".repeat(30));
        assert!(long.len() <= 40, "{long}");
        assert!(!long.ends_with('-'));
    }
}
