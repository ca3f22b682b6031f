//! Follow-ups: reminders tied to an article (or to nothing) with a due
//! time, optionally repeating. Storage and queries; reading WHEN is
//! `time::when`'s job and printing is the binary's.

use rusqlite::types::Value;
use rusqlite::{params, Connection, Row};
use serde::Serialize;

use super::query::{resolve_prefix, ArticleRef};
use super::rows::article_id;
use super::tx::new_id;
use super::{Journal, Tx};
use crate::entity::fields::followup;
use crate::entity::{Entity, Field};
use crate::error::{Candidate, Error, Result};
use crate::time::{Interval, Timestamp};

/// A resolved follow-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowupRef {
    pub rowid: i64,
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowupStatus {
    Open,
    Done,
}

impl FollowupStatus {
    fn as_str(self) -> &'static str {
        match self {
            FollowupStatus::Open => "open",
            FollowupStatus::Done => "done",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Followup {
    pub id: String,
    pub article_id: Option<String>,
    pub article_title: Option<String>,
    /// The article's preferred source URL, for calendars and rechecks.
    pub article_url: Option<String>,
    pub text: String,
    pub due_at: Timestamp,
    pub status: FollowupStatus,
    /// The repeat interval (`1w`, `1mo`), if it repeats.
    pub every: Option<String>,
    /// When it was last marked done.
    pub done_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The story it is of, for a story's own follow-up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub story_id: Option<String>,
    /// The short name of its story: its own, or the story its article is
    /// in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub story: Option<String>,
}

/// Which follow-ups `nj follow-ups` lists.
#[derive(Debug, Clone, Default)]
pub struct FollowupFilter {
    pub status: Option<FollowupStatus>,
    pub article: Option<ArticleRef>,
}

const FOLLOWUP_COLUMNS: &str =
    "f.rowid, f.id, f.article_id, a.title, a.url, f.text, f.due_at, f.status,
    f.every, f.done_at, f.created_at, f.updated_at, f.story_id,
    coalesce((SELECT title FROM stories WHERE id = f.story_id),
             (SELECT s.title FROM story_articles sa JOIN stories s ON s.id = sa.story_id
               WHERE sa.article_id = f.article_id AND sa.dropped_at IS NULL
                 AND s.deleted_at IS NULL
               ORDER BY s.closed_at IS NOT NULL, s.created_at LIMIT 1))";

fn followup_from_row(r: &Row<'_>) -> rusqlite::Result<Followup> {
    let status: String = r.get(7)?;
    Ok(Followup {
        id: r.get(1)?,
        article_id: r.get(2)?,
        article_title: r.get(3)?,
        article_url: r.get(4)?,
        text: r.get(5)?,
        due_at: r.get(6)?,
        status: if status == "done" {
            FollowupStatus::Done
        } else {
            FollowupStatus::Open
        },
        every: r.get(8)?,
        done_at: r.get(9)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
        story_id: r.get(12)?,
        story: r
            .get::<_, Option<String>>(13)?
            .map(|title| super::story::story_name(&title)),
    })
}

pub(super) fn clean_text(text: &str) -> Result<String> {
    crate::limits::check_followup(text)?;
    let t = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.is_empty() {
        return Err(Error::BadInput(
            "the follow-up needs some text saying what to check".into(),
        ));
    }
    Ok(t)
}

/// What marking a follow-up done did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DoneOutcome {
    /// For a repeating follow-up: when it is due next.
    pub next_due: Option<Timestamp>,
    /// It was already done, so nothing changed.
    pub already_done: bool,
}

impl Tx<'_> {
    pub fn create_followup(
        &mut self,
        article: Option<&ArticleRef>,
        text: &str,
        due_at: Timestamp,
        every: Option<Interval>,
    ) -> Result<FollowupRef> {
        let now = self.now();
        let id = new_id();
        self.insert_followup(
            &id,
            [
                (followup::ARTICLE_ID, article_id(article)),
                (followup::TEXT, Value::Text(clean_text(text)?)),
                (followup::DUE_AT, Value::Integer(due_at.0)),
                (
                    followup::EVERY,
                    every.map_or(Value::Null, |e| Value::Text(e.to_string())),
                ),
                (
                    followup::STATUS,
                    Value::Text(FollowupStatus::Open.as_str().to_owned()),
                ),
                (followup::CREATED_AT, Value::Integer(now.0)),
            ],
            now,
        )
    }

    /// Inserts a follow-up row with the values given (an import restores
    /// its id, state and times).
    pub(super) fn insert_followup(
        &mut self,
        id: &str,
        values: impl IntoIterator<Item = (Field, Value)>,
        updated_at: Timestamp,
    ) -> Result<FollowupRef> {
        let rowid = self.create_row(Entity::Followup, id, values, updated_at)?;
        Ok(FollowupRef {
            rowid,
            id: id.to_owned(),
        })
    }

    /// Moves a follow-up onto another article (a bookmark folded into the
    /// article that has its text).
    pub(super) fn move_followup(&mut self, f: &FollowupRef, to: &ArticleRef) -> Result<()> {
        self.set_followup(f, followup::ARTICLE_ID, Value::Text(to.id.clone()))
    }

    /// Sets one field of a follow-up (a field of [`followup`]).
    pub(crate) fn set_followup(
        &mut self,
        f: &FollowupRef,
        field: Field,
        value: Value,
    ) -> Result<()> {
        debug_assert_eq!(field.entity, Entity::Followup);
        self.set_row_field(&f.id, f.rowid, field, value)
    }

    /// Marks a follow-up done. A repeating one re-arms instead: it stays
    /// open, due at the next occurrence of its schedule after now (see
    /// [`next_occurrence`]).
    pub fn mark_done(&mut self, f: &FollowupRef) -> Result<DoneOutcome> {
        let current = followup_by_rowid(self.conn(), f.rowid)?;
        if current.status == FollowupStatus::Done {
            return Ok(DoneOutcome {
                next_due: None,
                already_done: true,
            });
        }
        let now = self.now();
        self.set_followup(f, followup::DONE_AT, Value::Integer(now.0))?;
        let next = match current.every.as_deref().map(Interval::parse).transpose()? {
            Some(every) => {
                let next = next_occurrence(every, current.due_at, now, &chrono::Local).ok_or_else(
                    || {
                        Error::BadInput(format!(
                            "the repeat interval {every} runs past the calendar"
                        ))
                    },
                )?;
                self.set_followup(f, followup::DUE_AT, Value::Integer(next.0))?;
                Some(next)
            }
            None => {
                self.set_followup(
                    f,
                    followup::STATUS,
                    Value::Text(FollowupStatus::Done.as_str().into()),
                )?;
                None
            }
        };
        Ok(DoneOutcome {
            next_due: next,
            already_done: false,
        })
    }

    /// Moves the due time; a done follow-up opens again.
    pub fn snooze(&mut self, f: &FollowupRef, until: Timestamp) -> Result<()> {
        self.set_followup(f, followup::DUE_AT, Value::Integer(until.0))?;
        self.reopen(f)?;
        Ok(())
    }

    /// Opens a done follow-up again. Returns false if it was open.
    pub fn reopen(&mut self, f: &FollowupRef) -> Result<bool> {
        let current = followup_by_rowid(self.conn(), f.rowid)?;
        if current.status == FollowupStatus::Open {
            return Ok(false);
        }
        self.set_followup(
            f,
            followup::STATUS,
            Value::Text(FollowupStatus::Open.as_str().into()),
        )?;
        Ok(true)
    }

    /// Changes the text, due time or repeat of a follow-up; `None` leaves a
    /// field as it is, and `Some(None)` for `every` stops the repeat.
    pub fn edit_followup(
        &mut self,
        f: &FollowupRef,
        text: Option<&str>,
        due_at: Option<Timestamp>,
        every: Option<Option<Interval>>,
    ) -> Result<()> {
        let current = followup_by_rowid(self.conn(), f.rowid)?;
        if let Some(text) = text {
            let text = clean_text(text)?;
            if text != current.text {
                self.set_followup(f, followup::TEXT, text.into())?;
            }
        }
        if let Some(due) = due_at.filter(|d| *d != current.due_at) {
            self.set_followup(f, followup::DUE_AT, Value::Integer(due.0))?;
        }
        if let Some(every) = every {
            let every = every.map(|e| e.to_string());
            if every != current.every {
                self.set_followup(
                    f,
                    followup::EVERY,
                    every.map(Value::Text).unwrap_or(Value::Null),
                )?;
            }
        }
        Ok(())
    }

    pub fn remove_followup(&mut self, f: &FollowupRef) -> Result<()> {
        let now = self.now().0;
        self.set_followup(f, followup::DELETED_AT, Value::Integer(now))
    }
}

fn followup_by_rowid(conn: &Connection, rowid: i64) -> Result<Followup> {
    let sql = format!(
        "SELECT {FOLLOWUP_COLUMNS} FROM followups f LEFT JOIN articles a ON a.id = f.article_id
          WHERE f.rowid = ?1"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([rowid], followup_from_row)?)
}

impl Journal {
    pub fn resolve_followup(&self, prefix: &str) -> Result<FollowupRef> {
        resolve_prefix(
            self.conn(),
            prefix,
            "follow-up",
            "`nj follow-ups` shows follow-up ids",
            "SELECT rowid, id, text FROM followups
              WHERE id >= ?1 AND id < ?2 AND deleted_at IS NULL ORDER BY id LIMIT 11",
            |r| {
                let id: String = r.get(1)?;
                Ok((
                    FollowupRef {
                        rowid: r.get(0)?,
                        id: id.clone(),
                    },
                    Candidate {
                        id,
                        label: r.get(2)?,
                    },
                ))
            },
        )
    }

    pub fn followup(&self, f: &FollowupRef) -> Result<Followup> {
        followup_by_rowid(self.conn(), f.rowid)
    }

    /// Open follow-ups due at or before `until`, oldest due first.
    pub fn due(&self, until: Timestamp) -> Result<Vec<Followup>> {
        let sql = format!(
            "SELECT {FOLLOWUP_COLUMNS} FROM followups f LEFT JOIN articles a ON a.id = f.article_id
              WHERE f.status = 'open' AND f.deleted_at IS NULL AND f.due_at <= ?1
              ORDER BY f.due_at, f.rowid"
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let rows = stmt
            .query_map([until], followup_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// How many open follow-ups are due at or before `until`: one index
    /// range count, cheap enough for a shell prompt.
    pub fn due_count(&self, until: Timestamp) -> Result<i64> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT count(*) FROM followups
                  WHERE status = 'open' AND deleted_at IS NULL AND due_at <= ?1",
            )?
            .query_row([until], |r| r.get(0))?)
    }

    /// All follow-ups matching the filter: open ones by due time, then done
    /// ones, most recently done first.
    pub fn followups(&self, filter: &FollowupFilter) -> Result<Vec<Followup>> {
        let mut sql = format!(
            "SELECT {FOLLOWUP_COLUMNS} FROM followups f LEFT JOIN articles a ON a.id = f.article_id
              WHERE f.deleted_at IS NULL"
        );
        let mut args: Vec<Value> = Vec::new();
        if let Some(status) = filter.status {
            sql.push_str(" AND f.status = ?");
            args.push(Value::Text(status.as_str().into()));
        }
        if let Some(a) = &filter.article {
            sql.push_str(" AND f.article_id = ?");
            args.push(a.id.clone().into());
        }
        sql.push_str(
            " ORDER BY f.status = 'done', CASE WHEN f.status = 'open' THEN f.due_at ELSE -f.done_at END, f.rowid",
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), followup_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Articles with at least one open follow-up, for `nj recheck`.
    /// The articles that `nj recheck --scheduled` checks now: those of
    /// open stories and those with open follow-ups whose last check here
    /// (or clipping) is longer ago than their age asks for
    /// ([`RECHECK_SCHEDULE`]). When none is, it notes the earliest time one
    /// can be (each article's last check plus its interval now, which
    /// only grows with age), and until then, while no follow-up, story or
    /// article has changed in a way that bears on it, answers from that
    /// note without looking (a meta row and a count the schema's triggers
    /// keep).
    pub fn due_for_recheck(&mut self, now: Timestamp) -> Result<Vec<ArticleRef>> {
        let generation = self.meta("recheck_generation")?.unwrap_or_default();
        if let Some(note) = self.meta("recheck_next")? {
            if let Some((next, noted)) = note.split_once(' ') {
                if noted == generation && next.parse::<i64>().is_ok_and(|n| now.0 < n) {
                    return Ok(Vec::new());
                }
            }
        }
        let mut interval = String::from("CASE");
        for (age, every) in RECHECK_SCHEDULE {
            interval.push_str(&format!(" WHEN ?1 - c.born < {age} THEN {every}"));
        }
        interval.push_str(&format!(" ELSE {RECHECK_AFTER_A_MONTH} END"));
        // The candidates from the two small sets, not a scan of every
        // article.
        let candidates = "WITH ids(id) AS (
                 SELECT sa.article_id FROM story_articles sa JOIN stories s ON s.id = sa.story_id
                  WHERE sa.dropped_at IS NULL AND s.closed_at IS NULL AND s.deleted_at IS NULL
                 UNION
                 SELECT article_id FROM followups
                  WHERE status = 'open' AND deleted_at IS NULL AND article_id IS NOT NULL),
             c AS (
                 SELECT a.seq, a.id, coalesce(a.published_at, a.clipped_at) AS born,
                        coalesce(r.checked_at, a.clipped_at) AS checked
                   FROM ids JOIN articles a ON a.id = ids.id
                   LEFT JOIN rechecked r ON r.article_seq = a.seq
                  WHERE a.deleted_at IS NULL)";
        let due: Vec<ArticleRef> = self
            .conn()
            .prepare_cached(&format!(
                "{candidates} SELECT c.seq, c.id FROM c WHERE ?1 - c.checked >= {interval}
                  ORDER BY c.seq"
            ))?
            .query_map([now], |r| {
                Ok(ArticleRef {
                    rowid: r.get(0)?,
                    id: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        if due.is_empty() {
            let next: Option<i64> = self
                .conn()
                .prepare_cached(&format!(
                    "{candidates} SELECT min(c.checked + {interval}) FROM c"
                ))?
                .query_row([now], |r| r.get(0))?;
            // With nothing to check, nothing can be due until something
            // changes.
            let next = next.unwrap_or(i64::MAX);
            // One statement, like `mark_rechecked`: this device's
            // bookkeeping, which nothing else hangs on.
            super::tx::meta_set(self.conn(), "recheck_next", &format!("{next} {generation}"))?;
        }
        Ok(due)
    }

    /// Notes that `nj recheck` fetched (or tried) the article now: one
    /// statement, this device's bookkeeping, which nothing else (the
    /// change log, the index) hangs on.
    pub fn mark_rechecked(&mut self, article: &ArticleRef, now: Timestamp) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO rechecked(article_seq, checked_at) VALUES (?1, ?2)
                 ON CONFLICT(article_seq) DO UPDATE SET checked_at = excluded.checked_at",
            )?
            .execute(params![article.rowid, now])?;
        Ok(())
    }

    /// The articles with an open follow-up, or in a story that has one:
    /// what `nj recheck` checks without ids.
    pub fn articles_with_open_followups(&self) -> Result<Vec<ArticleRef>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT a.rowid, a.id FROM articles a
              WHERE a.deleted_at IS NULL
                AND (a.id IN (SELECT article_id FROM followups
                               WHERE status = 'open' AND deleted_at IS NULL)
                     -- The articles of a story with an open follow-up of its own.
                     OR a.id IN (SELECT sa.article_id FROM story_articles sa
                                   JOIN followups f ON f.story_id = sa.story_id
                                   JOIN stories s ON s.id = sa.story_id
                                  WHERE sa.dropped_at IS NULL AND f.status = 'open'
                                    AND f.deleted_at IS NULL AND s.deleted_at IS NULL))
              ORDER BY a.rowid",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ArticleRef {
                    rowid: r.get(0)?,
                    id: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// How often `nj recheck --scheduled` checks an article, by its age (from
/// its published date, else its clipping): (younger than, every). News
/// changes most in its first hours and days, little after a month.
pub const RECHECK_SCHEDULE: [(i64, i64); 3] =
    [(DAY, 30 * MINUTE), (7 * DAY, 2 * HOUR), (30 * DAY, DAY)];
/// How often once it is a month old.
pub const RECHECK_AFTER_A_MONTH: i64 = 7 * DAY;

/// The schedule's next occurrence after `now`: the due time moved on by
/// whole intervals, at least one, until it is past `now`. Each is counted
/// from the current due time on the local calendar, so the weekday and the
/// time of day stay (a weekly Monday 09:00 stays Monday 09:00 whenever it
/// is marked done, as in calendars and Taskwarrior), and occurrences
/// missed while it was overdue are skipped rather than piled up. (Only the
/// due time is stored, so a monthly one due on the 31st that moved to the
/// 28th in February stays on the 28th.)
pub fn next_occurrence<Tz: chrono::TimeZone>(
    every: Interval,
    due: Timestamp,
    now: Timestamp,
    tz: &Tz,
) -> Option<Timestamp> {
    let start = due.to_datetime();
    let step = |k: i64| -> Option<Timestamp> {
        every
            .times(k)?
            .after(start, tz)
            .map(Timestamp::from_datetime)
    };
    // A first guess from the elapsed time skips most of a long overdue
    // stretch without passing the answer (a month is at most 31 days, a
    // day at most 25 hours); the loop settles the rest.
    let longest_ms = match every {
        Interval::Minutes(m) => m * 60_000,
        Interval::Days(d) => d * 25 * 3_600_000,
        Interval::Months(m) => m * 31 * 86_400_000,
    };
    let mut k = 1.max((now.0 - due.0) / longest_ms.max(1) - 1);
    loop {
        let at = step(k)?;
        if at > now {
            return Some(at);
        }
        k += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Content;
    use crate::journal::NewClip;

    /// Issue 16, bug 5: a weekly follow-up due Monday 09:00 marked done
    /// early became due at the marking's time of day a week on.
    #[test]
    fn regression_repeating_follow_ups_drift() {
        use chrono::TimeZone;
        let tz = chrono::FixedOffset::east_opt(3600).unwrap();
        let at = |s: &str| {
            Timestamp::from_datetime(
                tz.from_local_datetime(
                    &chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap(),
                )
                .unwrap()
                .with_timezone(&chrono::Utc),
            )
        };
        let next = |every, due: &str, now: &str| {
            next_occurrence(every, at(due), at(now), &tz)
                .unwrap()
                .to_datetime()
                .with_timezone(&tz)
                .format("%a %Y-%m-%d %H:%M")
                .to_string()
        };
        let week = Interval::Days(7);
        // Done early, on Sunday at 03:02: next Monday, still 09:00.
        assert_eq!(
            next(week, "2026-12-07 09:00", "2026-12-06 03:02"),
            "Mon 2026-12-14 09:00"
        );
        // Done on time, or a little late: the Monday after.
        assert_eq!(
            next(week, "2026-12-07 09:00", "2026-12-07 09:00"),
            "Mon 2026-12-14 09:00"
        );
        assert_eq!(
            next(week, "2026-12-07 09:00", "2026-12-08 17:45"),
            "Mon 2026-12-14 09:00"
        );
        // Three weeks overdue: the missed Mondays are skipped.
        assert_eq!(
            next(week, "2026-12-07 09:00", "2026-12-29 10:00"),
            "Mon 2027-01-04 09:00"
        );
        // Monthly on the 31st: a month on is the 28th in February; two
        // months on (overdue through February) is March 31.
        let month = Interval::Months(1);
        assert_eq!(
            next(month, "2027-01-31 09:00", "2027-01-31 12:00"),
            "Sun 2027-02-28 09:00"
        );
        assert_eq!(
            next(month, "2027-01-31 09:00", "2027-03-01 12:00"),
            "Wed 2027-03-31 09:00"
        );
        // Years overdue, daily: the next day's 09:00, found quickly.
        assert_eq!(
            next(Interval::Days(1), "2020-01-01 09:00", "2026-12-07 10:00"),
            "Tue 2026-12-08 09:00"
        );
        assert_eq!(
            next(Interval::Months(12), "2020-02-29 09:00", "2026-12-07 10:00"),
            "Sun 2027-02-28 09:00"
        );
        // Hourly stays on the hour it started on.
        assert_eq!(
            next(
                Interval::Minutes(60),
                "2026-12-07 09:15",
                "2026-12-07 11:20"
            ),
            "Mon 2026-12-07 12:15"
        );
    }

    #[test]
    fn repeating_followup_rearms_on_its_schedule() {
        let mut j = Journal::open_in_memory().unwrap();
        let f = j
            .write(Timestamp(0), |tx| {
                tx.create_followup(
                    None,
                    "weekly check",
                    Timestamp(1_000),
                    Some(Interval::Days(7)),
                )
            })
            .unwrap();
        // Done on day 10: the schedule (day 0, 7, 14, ...) goes on at 14.
        let done_at = Timestamp(10 * 86_400_000);
        let out = j.write(done_at, |tx| tx.mark_done(&f)).unwrap();
        let next = Timestamp(14 * 86_400_000 + 1_000);
        assert_eq!(out.next_due, Some(next));
        let now = j.followup(&f).unwrap();
        assert_eq!(now.status, FollowupStatus::Open);
        assert_eq!(now.done_at, Some(done_at));
        assert_eq!(j.due_count(Timestamp(next.0 - 1)).unwrap(), 0);
        assert_eq!(j.due_count(next).unwrap(), 1);
    }

    #[test]
    fn done_snooze_reopen() {
        let mut j = Journal::open_in_memory().unwrap();
        let clip = NewClip {
            content: Content::new("Story\n\nText."),
            title: "Story".into(),
            ..NewClip::default()
        };
        let a = j.clip(Timestamp(0), &clip).unwrap().article.as_ref();
        let f = j
            .write(Timestamp(0), |tx| {
                tx.create_followup(Some(&a), "check", Timestamp(5), None)
            })
            .unwrap();
        assert_eq!(
            j.due(Timestamp(5)).unwrap()[0].article_title.as_deref(),
            Some("Story")
        );
        j.write(Timestamp(6), |tx| tx.mark_done(&f)).unwrap();
        assert_eq!(j.due(Timestamp(100)).unwrap().len(), 0);
        assert!(
            j.write(Timestamp(7), |tx| tx.mark_done(&f))
                .unwrap()
                .already_done
        );
        j.write(Timestamp(8), |tx| tx.snooze(&f, Timestamp(50)))
            .unwrap();
        let back = j.followup(&f).unwrap();
        assert_eq!(
            (back.status, back.due_at),
            (FollowupStatus::Open, Timestamp(50))
        );
        assert!(!j.write(Timestamp(9), |tx| tx.reopen(&f)).unwrap());
    }

    #[test]
    fn empty_text_is_refused() {
        let mut j = Journal::open_in_memory().unwrap();
        let err = j
            .write(Timestamp(0), |tx| {
                tx.create_followup(None, "  ", Timestamp(5), None)
            })
            .unwrap_err();
        assert!(err.to_string().contains("needs some text"), "{err}");
    }
}
