//! `nj follow-up`, `follow-ups`, `done`, `snooze`, `reopen`, and the parts clip and due reuse.

use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use newsjournal::content::first_line;
use newsjournal::journal::{
    short_id, ArticleRef, Followup, FollowupFilter, FollowupStatus, Journal,
};
use newsjournal::time::{Interval, Timestamp};

use super::output;
use super::Ctx;

/// The text of a follow-up given only an article.
pub const DEFAULT_TEXT: &str = "Check for updates";

/// Add a follow-up: nj follow-up ID "check the ruling" --due "in 3 weeks"
///
/// With one argument that is an article id, the text is "Check for
/// updates"; with one argument that is text, the follow-up is on no article.
/// One word that looks like a mistyped id (`f23x`) is refused with the ids
/// it could be; `--free` makes it the text of a follow-up on no article.
/// WHEN is written the way people say it (see `nj help due`).
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct FollowUp {
    #[command(subcommand)]
    action: Option<FollowUpAction>,

    /// The article's id and the text, or only one of them
    #[arg(value_name = "[ID] TEXT", num_args = 0..=2)]
    args: Vec<String>,

    /// When it is due: 2026-12-01, friday, tomorrow 9am, in 3 weeks, end of month, ...
    #[arg(long, value_name = "WHEN")]
    due: Option<String>,

    /// Repeat: due again this long after each time it is done (1w, 2w, 1mo)
    #[arg(long, value_name = "INTERVAL")]
    every: Option<String>,

    /// The one argument is the text of a follow-up on no article, even if
    /// it looks like an id
    #[arg(long)]
    free: bool,

    /// A follow-up of this story's own (its short name, an id prefix, or
    /// the start of its name): the one argument is its text
    #[arg(long, value_name = "STORY", conflicts_with = "free")]
    story: Option<String>,
}

#[derive(Debug, Subcommand)]
enum FollowUpAction {
    /// Change a follow-up's text, due time or repeat
    Edit {
        /// The follow-up's id
        id: String,
        /// New text
        #[arg(long)]
        text: Option<String>,
        /// New due time
        #[arg(long, value_name = "WHEN")]
        due: Option<String>,
        /// Repeat this long after each time it is done
        #[arg(long, value_name = "INTERVAL", conflicts_with = "no_repeat")]
        every: Option<String>,
        /// Stop repeating
        #[arg(long)]
        no_repeat: bool,
    },
    /// Delete a follow-up
    Rm {
        /// The follow-up's id
        id: String,
    },
}

/// Reads `--due` and `--every` for a new follow-up.
pub fn due_and_every(
    ctx: &Ctx,
    due: Option<&str>,
    every: Option<&str>,
) -> Result<(Timestamp, Option<Interval>)> {
    let Some(due) = due else {
        bail!("a follow-up needs --due WHEN, for example --due 'in 3 weeks' or --due friday");
    };
    let now = ctx.clock.now();
    let due_at = ctx.when(due)?;
    warn_if_long_past(due, due_at, now);
    let every = every.map(Interval::parse).transpose()?;
    Ok((Timestamp::from_datetime(due_at), every))
}

/// A new follow-up due more than a week ago is overdue from the start,
/// which is rarely what was meant (a mistyped year, most often). It is
/// still made, as asked; the warning says how to change it.
pub fn warn_if_long_past(
    written: &str,
    due: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) {
    let ago = now - due;
    if ago > chrono::Duration::days(7) {
        eprintln!(
            "nj: warning: {written:?} is {} days ago, so this follow-up is overdue already; \
             `nj follow-up edit ID --due WHEN` moves it",
            ago.num_days()
        );
    }
}

impl FollowUp {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        if let Some(action) = self.action {
            return run_action(ctx, &mut ctx.journal()?, action);
        }
        // Everything that can be refused is read before a journal is made.
        let (due, every) = due_and_every(ctx, self.due.as_deref(), self.every.as_deref())?;
        if let Some(name) = &self.story {
            let [text] = self.args.as_slice() else {
                bail!("with --story, give only the follow-up's text: nj follow-up --story STORY TEXT --due WHEN");
            };
            let mut journal = ctx.journal()?;
            let story = journal.resolve_story(name, false)?;
            let f = journal.write(ctx.clock.timestamp(), |tx| {
                tx.create_story_followup(&story.as_ref(), text, due, every)
            })?;
            let f = journal.followup(&f)?;
            if ctx.json {
                output::json(&f)?;
            } else {
                output::print(&format!("{} (story {})\n", describe_new(&f), story.name))?;
            }
            return Ok(ExitCode::SUCCESS);
        }
        let free_text = match self.args.as_slice() {
            [one] => self.free || !looks_like_id(one),
            _ => false,
        };
        // A free follow-up may be the first thing in a new journal; one
        // that names an article needs the journal that has it.
        let mut journal = if free_text {
            ctx.journal_or_create()?
        } else {
            ctx.journal()?
        };
        let (article, text) = match self.args.as_slice() {
            [_, _] if self.free => bail!(
                "--free takes only the text; for a follow-up on an article: nj follow-up ID TEXT --due WHEN"
            ),
            [id, text] => (Some(journal.resolve_article(id)?), text.clone()),
            [one] if self.free => (None, one.clone()),
            [one] => match journal.resolve_article(one) {
                Ok(a) => (Some(a), DEFAULT_TEXT.to_owned()),
                Err(newsjournal::Error::NotFound { .. } | newsjournal::Error::BadId(_))
                    if looks_like_id(one) || typo_of_an_id(&journal, one)? =>
                {
                    bail!("{}", not_an_article(&journal, one)?)
                }
                // Not an id at all: it is the text.
                Err(newsjournal::Error::NotFound { .. } | newsjournal::Error::BadId(_)) => {
                    (None, one.clone())
                }
                Err(e) => return Err(e.into()),
            },
            _ => bail!("give the follow-up's text, and the article's id if it is about one: nj follow-up ID TEXT --due WHEN"),
        };
        let f = journal.write(ctx.clock.timestamp(), |tx| {
            tx.create_followup(article.as_ref(), &text, due, every)
        })?;
        let f = journal.followup(&f)?;
        if ctx.json {
            output::json(&f)?;
        } else {
            output::print(&format!("{}\n", describe_new(&f)))?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Whether a lone argument is more likely a mistyped id than a reminder's
/// text: one word of 4 to 36 letters, digits and dashes with a digit in it
/// ("f23x", "3fa9c1d2"). Words people write as reminders ("renew",
/// "call-mum") have no digit; ones that do ("q3-report") can use --free.
fn looks_like_id(s: &str) -> bool {
    let s = s.trim();
    (4..=36).contains(&s.len())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && s.chars().any(|c| c.is_ascii_digit())
}

/// Whether a word without a digit is still a mistyped id: its first three
/// or more characters are hex digits that begin some article's id
/// ("abcx" when an article's id starts "abc").
fn typo_of_an_id(journal: &Journal, s: &str) -> Result<bool> {
    let s = s.trim().to_ascii_lowercase();
    let hex: String = s.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    if hex.len() < 3 || !(4..=36).contains(&s.len()) || s.contains(char::is_whitespace) {
        return Ok(false);
    }
    Ok(journal
        .articles_near(&hex, 1)?
        .iter()
        .any(|c| c.id.starts_with(&hex)))
}

/// The message for a lone id-like argument that names no article: which
/// articles it could have meant, and how to make it a free follow-up.
fn not_an_article(journal: &Journal, given: &str) -> Result<String> {
    let near = journal.articles_near(given, 5)?;
    let mut msg = format!("no article has an id starting with {given:?}");
    if near.is_empty() {
        msg.push_str("; `nj list` shows ids");
    } else {
        msg.push_str("; did you mean one of these?");
        for c in &near {
            msg.push_str(&format!("\n  {}  {}", short_id(&c.id), c.label));
        }
    }
    msg.push_str(&format!(
        "\nfor a follow-up on no article with the text {given:?}, add --free"
    ));
    Ok(msg)
}

/// "follow-up 3fa9c1d2 due Tue 2026-12-01 09:00 (in 5d): TEXT [on e494a610]"
pub fn describe_new(f: &Followup) -> String {
    let on = f
        .article_id
        .as_deref()
        .map(|a| format!(" (on {})", short_id(a)))
        .unwrap_or_default();
    let every = f
        .every
        .as_deref()
        .map(|e| format!(", repeating every {e}"))
        .unwrap_or_default();
    format!(
        "follow-up {} due {}{every}: {}{on}",
        short_id(&f.id),
        f.due_at
            .to_datetime()
            .with_timezone(&chrono::Local)
            .format("%a %Y-%m-%d %H:%M"),
        f.text
    )
}

fn run_action(ctx: &Ctx, journal: &mut Journal, action: FollowUpAction) -> Result<ExitCode> {
    match action {
        FollowUpAction::Edit {
            id,
            text,
            due,
            every,
            no_repeat,
        } => {
            let f = journal.resolve_followup(&id)?;
            let now = ctx.clock.now();
            let due = due
                .map(|d| {
                    ctx.when(&d).map(|at| {
                        warn_if_long_past(&d, at, now);
                        Timestamp::from_datetime(at)
                    })
                })
                .transpose()?;
            let every = match (every, no_repeat) {
                (Some(e), _) => Some(Some(Interval::parse(&e)?)),
                (None, true) => Some(None),
                (None, false) => None,
            };
            let text = match (&text, &due, &every) {
                (None, None, None) => {
                    let current = journal.followup(&f)?.text;
                    Some(output::note_text(None, &format!("{current}\n"))?)
                }
                _ => text,
            };
            journal.write(ctx.clock.timestamp(), |tx| {
                tx.edit_followup(&f, text.as_deref(), due, every)
            })?;
            print_one(ctx, &journal.followup(&f)?, "edited")
        }
        FollowUpAction::Rm { id } => {
            let f = journal.resolve_followup(&id)?;
            journal.write(ctx.clock.timestamp(), |tx| tx.remove_followup(&f))?;
            if ctx.json {
                output::json(&serde_json::json!({ "id": f.id, "removed": true }))?;
            } else {
                output::print(&format!("removed follow-up {}\n", short_id(&f.id)))?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_one(ctx: &Ctx, f: &Followup, verb: &str) -> Result<ExitCode> {
    if ctx.json {
        output::json(f)?;
    } else {
        let when = f
            .due_at
            .to_datetime()
            .with_timezone(&chrono::Local)
            .format("%a %Y-%m-%d %H:%M");
        let state = match f.status {
            FollowupStatus::Open => format!("due {when}"),
            FollowupStatus::Done => "done".to_owned(),
        };
        output::print(&format!(
            "{verb} follow-up {}: {} ({state})\n",
            short_id(&f.id),
            f.text
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Mark a follow-up done (a repeating one comes back after its interval)
#[derive(Debug, Args)]
pub struct Done {
    /// The follow-ups' ids
    #[arg(required = true)]
    ids: Vec<String>,
}

impl Done {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let mut journal = ctx.journal()?;
        let refs = self
            .ids
            .iter()
            .map(|id| journal.resolve_followup(id))
            .collect::<Result<Vec<_>, _>>()?;
        let outcomes = journal.write(ctx.clock.timestamp(), |tx| {
            refs.iter()
                .map(|f| tx.mark_done(f))
                .collect::<Result<Vec<_>, _>>()
        })?;
        let mut text = String::new();
        let mut json = Vec::new();
        for (f, o) in refs.iter().zip(outcomes) {
            let f = journal.followup(f)?;
            let line = match (o.already_done, o.next_due) {
                (true, _) => format!("{} was already done: {}", short_id(&f.id), f.text),
                (false, Some(next)) => format!(
                    "done {}: {} (repeats: next due {})",
                    short_id(&f.id),
                    f.text,
                    next.local()
                ),
                (false, None) => format!("done {}: {}", short_id(&f.id), f.text),
            };
            text.push_str(&line);
            text.push('\n');
            json.push(f);
        }
        if ctx.json {
            output::json(&json)?;
        } else {
            output::print(&text)?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Put a follow-up off until WHEN (a done one opens again)
#[derive(Debug, Args)]
pub struct Snooze {
    /// The follow-up's id
    id: String,
    /// The new due time: tomorrow, monday 9am, in 2 weeks, ...
    when: Vec<String>,
}

impl Snooze {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        if self.when.is_empty() {
            bail!("say until when: nj snooze ID 'in 3 days'");
        }
        let mut journal = ctx.journal()?;
        let f = journal.resolve_followup(&self.id)?;
        let until = Timestamp::from_datetime(ctx.when(&self.when.join(" "))?);
        journal.write(ctx.clock.timestamp(), |tx| tx.snooze(&f, until))?;
        print_one(ctx, &journal.followup(&f)?, "snoozed")
    }
}

/// Open a done follow-up again
#[derive(Debug, Args)]
pub struct Reopen {
    /// The follow-up's id
    id: String,
}

impl Reopen {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let mut journal = ctx.journal()?;
        let f = journal.resolve_followup(&self.id)?;
        let changed = journal.write(ctx.clock.timestamp(), |tx| tx.reopen(&f))?;
        print_one(
            ctx,
            &journal.followup(&f)?,
            if changed { "reopened" } else { "already open:" },
        )
    }
}

/// List follow-ups: open ones by due time, then done ones
#[derive(Debug, Args)]
pub struct FollowUps {
    /// Only open follow-ups
    #[arg(long, conflicts_with = "done")]
    open: bool,
    /// Only done follow-ups
    #[arg(long)]
    done: bool,
    /// Only the follow-ups on this article
    #[arg(short = 'a', long, value_name = "ID")]
    article: Option<String>,
}

impl FollowUps {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let journal = ctx.journal()?;
        let article: Option<ArticleRef> = match &self.article {
            Some(id) => Some(journal.resolve_article(id)?),
            None => None,
        };
        let status = if self.open {
            Some(FollowupStatus::Open)
        } else if self.done {
            Some(FollowupStatus::Done)
        } else {
            None
        };
        let list = journal.followups(&FollowupFilter { status, article })?;
        if ctx.json {
            output::json(&list)?;
        } else if list.is_empty() {
            eprintln!("no follow-ups; add one with `nj follow-up ID TEXT --due WHEN`");
        } else {
            print_table(&list, ctx.clock.timestamp())?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// The follow-up table `nj due` and `nj follow-ups` print.
pub fn print_table(list: &[Followup], now: Timestamp) -> Result<()> {
    let mut t = output::table(&["ID", "DUE", "STATUS", "FOLLOW-UP", "ARTICLE"]);
    for f in list {
        let status = match f.status {
            FollowupStatus::Done => "done".to_owned(),
            FollowupStatus::Open if f.due_at <= now => {
                format!("{} overdue", span(now.0 - f.due_at.0))
            }
            FollowupStatus::Open => format!("in {}", span(f.due_at.0 - now.0)),
        };
        let mut article = match (&f.article_id, &f.article_title) {
            (Some(id), Some(title)) => format!("{} {}", short_id(id), first_line(title, 60)),
            _ => "-".to_owned(),
        };
        if let Some(story) = &f.story {
            article = match f.story_id {
                Some(_) => format!("story {story}"),
                None => format!("{article} (story {story})"),
            };
        }
        let mut text = first_line(&f.text, 80);
        if let Some(e) = &f.every {
            text.push_str(&format!(" (every {e})"));
        }
        t.add_row(vec![
            short_id(&f.id).to_owned(),
            f.due_at.local(),
            status,
            text,
            article,
        ]);
    }
    output::print_table(&t)
}

/// A duration for people: `3d 4h`, `5h 10m`, `12m`, `now`.
pub fn span(ms: i64) -> String {
    let mins = ms.max(0) / 60_000;
    let (d, h, m) = (mins / 1440, (mins / 60) % 24, mins % 60);
    match (d, h, m) {
        (0, 0, 0) => "now".to_owned(),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use clap::error::ErrorKind;

    use super::{span, FollowUp, FollowUpAction};
    use crate::cmd::tests::{command_of, refused};
    use crate::cmd::Command;

    #[test]
    fn spans() {
        assert_eq!(span(0), "now");
        assert_eq!(span(12 * 60_000), "12m");
        assert_eq!(span(5 * 3_600_000 + 10 * 60_000), "5h 10m");
        assert_eq!(span(3 * 86_400_000 + 4 * 3_600_000 + 59_000), "3d 4h");
        assert_eq!(span(2 * 86_400_000), "2d");
    }

    fn follow_up(args: &[&str]) -> FollowUp {
        match command_of(&[&["follow-up"], args].concat()) {
            Command::FollowUp(f) => f,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn id_text_and_a_multi_word_when() {
        let f = follow_up(&["3fa9", "check the ruling", "--due", "in 3 weeks"]);
        assert_eq!(f.args, ["3fa9", "check the ruling"]);
        assert_eq!(f.due.as_deref(), Some("in 3 weeks"));
        assert!(f.action.is_none());
        assert_eq!(follow_up(&["--free", "q3-report"]).args, ["q3-report"]);
        assert_eq!(
            refused(&["follow-up", "3fa9", "check", "the ruling"]),
            ErrorKind::TooManyValues
        );
    }

    #[test]
    fn a_text_named_like_an_action() {
        // `edit` alone is the action, which needs an id.
        assert_eq!(
            refused(&["follow-up", "edit"]),
            ErrorKind::MissingRequiredArgument
        );
        // After `--`, or after an option, it is the text.
        for args in [&["--", "edit"][..], &["--due", "friday", "edit"]] {
            let f = follow_up(args);
            assert!(f.action.is_none(), "{args:?}");
            assert_eq!(f.args, ["edit"], "{args:?}");
        }
        let f = follow_up(&["edit", "3fa9", "--due", "monday 9am"]);
        assert!(matches!(
            f.action,
            Some(FollowUpAction::Edit { id, due: Some(d), .. }) if id == "3fa9" && d == "monday 9am"
        ));
        assert_eq!(
            refused(&["follow-up", "edit", "3fa9", "--every", "1w", "--no-repeat"]),
            ErrorKind::ArgumentConflict
        );
    }

    #[test]
    fn snooze_reads_the_rest_as_when() {
        let Command::Snooze(s) = command_of(&["snooze", "3fa9", "in", "2", "weeks"]) else {
            panic!()
        };
        assert_eq!(s.id, "3fa9");
        assert_eq!(s.when, ["in", "2", "weeks"]);
        // Quoted or not, the same words.
        let Command::Snooze(s) = command_of(&["snooze", "3fa9", "in 2 weeks"]) else {
            panic!()
        };
        assert_eq!(s.when, ["in 2 weeks"]);
        // Left out, run() says how to give one.
        let Command::Snooze(s) = command_of(&["snooze", "3fa9"]) else {
            panic!()
        };
        assert!(s.when.is_empty());
        assert_eq!(
            refused(&["snooze", "3fa9", "-2d"]),
            ErrorKind::UnknownArgument
        );
    }

    #[test]
    fn done_needs_ids() {
        let Command::Done(d) = command_of(&["done", "3fa9", "e494"]) else {
            panic!()
        };
        assert_eq!(d.ids, ["3fa9", "e494"]);
        assert_eq!(refused(&["done"]), ErrorKind::MissingRequiredArgument);
    }
}
