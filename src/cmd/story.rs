//! `nj story` and `nj stories`: follow a story over weeks.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use newsjournal::journal::{short_id, ArticleRef, Event, Journal, Story, StoryRef, Tx, What};
use newsjournal::time::{parse_since, Timestamp};

use super::output;
use super::Ctx;

/// Make and follow stories: the articles, notes and follow-ups of one
/// unfolding story (`nj stories` lists them)
#[derive(Debug, Args)]
pub struct StoryCmd {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Make a story, with these articles in it
    New {
        /// Its title, such as "JEDI contract" (its short name, jedi-contract,
        /// is made from it)
        title: String,
        /// Articles to put in it
        ids: Vec<String>,
    },
    /// Put articles in a story
    Add {
        /// The story: its short name, an id prefix, or the start of its name
        story: String,
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Take articles out of a story (they stay in the journal)
    Drop {
        story: String,
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Give a story a new title (its short name follows)
    Title {
        story: String,
        #[arg(required = true, num_args = 1..)]
        title: Vec<String>,
    },
    /// Close a story you no longer follow (`nj stories --closed` lists it)
    Close { story: String },
    /// Open a closed story again
    Reopen { story: String },
    /// Move a story to the bin (its articles stay)
    Rm { story: String },
    /// Bring a story back from the bin
    Restore { story: String },
    /// Articles of the journal that seem to belong in the story, best
    /// first, with the words they share with it
    Suggest {
        story: String,
        /// Show at most N
        #[arg(long, value_name = "N", default_value_t = 10)]
        limit: usize,
    },
    /// The story's timeline: its articles, their new versions, notes and
    /// follow-ups, in date order
    Show {
        story: String,
        /// Only what happened since then (a date, or `2w` for two weeks)
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
    },
}

/// List the open stories: articles, last activity, next follow-up, and a
/// `*` where an article changed since `nj story show` last showed it
#[derive(Debug, Args)]
pub struct Stories {
    /// The closed stories instead
    #[arg(long)]
    closed: bool,
    /// The stories in the bin instead
    #[arg(long)]
    removed: bool,
}

impl StoryCmd {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let now = ctx.clock.timestamp();
        match self.action {
            Action::New { title, ids } => {
                let mut journal = ctx.journal_or_create()?;
                let articles = resolve_all(&journal, &ids)?;
                let story = journal.write(now, |tx| {
                    let s = tx.create_story(&title)?;
                    for a in &articles {
                        tx.add_to_story(&s, a)?;
                    }
                    Ok(s)
                })?;
                let story = journal.story(&story)?;
                if ctx.json {
                    output::json(&story)?;
                } else {
                    output::print(&format!(
                        "made story {} ({}): {}{}\n",
                        output::bold(&story.name),
                        story.short_id(),
                        story.title,
                        match articles.len() {
                            0 => String::new(),
                            n => format!(", with {}", output::count(n, "article")),
                        }
                    ))?;
                }
            }
            Action::Add { story, ids } => members(ctx, &story, &ids, true)?,
            Action::Drop { story, ids } => members(ctx, &story, &ids, false)?,
            Action::Title { story, title } => {
                let title = title.join(" ");
                change(
                    ctx,
                    &story,
                    false,
                    |tx, s| tx.set_story_title(s, &title),
                    |s| format!("retitled {} ({}): {}", s.name, s.short_id(), s.title),
                )?;
            }
            Action::Close { story } => {
                change(
                    ctx,
                    &story,
                    false,
                    |tx, s| tx.set_story_closed(s, true),
                    |s| {
                        format!(
                            "closed {}: {} (`nj story reopen {}` opens it again)",
                            s.name, s.title, s.name
                        )
                    },
                )?;
            }
            Action::Reopen { story } => {
                change(
                    ctx,
                    &story,
                    false,
                    |tx, s| tx.set_story_closed(s, false),
                    |s| format!("reopened {}: {}", s.name, s.title),
                )?;
            }
            Action::Rm { story } => {
                change(
                    ctx,
                    &story,
                    false,
                    |tx, s| tx.set_story_removed(s, true),
                    |s| {
                        format!("moved {} to the bin: {} (`nj story restore {}` brings it back; its articles stay)", s.name, s.title, s.name)
                    },
                )?;
            }
            Action::Restore { story } => {
                change(
                    ctx,
                    &story,
                    true,
                    |tx, s| tx.set_story_removed(s, false),
                    |s| format!("restored {}: {}", s.name, s.title),
                )?;
            }
            Action::Suggest { story, limit } => {
                let journal = ctx.journal()?;
                let s = journal.resolve_story(&story, false)?;
                let found = journal.story_suggestions(&s.as_ref(), limit)?;
                if ctx.json {
                    output::json(&found)?;
                } else if found.is_empty() {
                    eprintln!(
                        "nothing to suggest: no other article shares the distinctive words of {}'s articles",
                        s.name
                    );
                } else {
                    let width = output::term_width();
                    let mut out = String::new();
                    for f in &found {
                        let why = format!(
                            "related to {} of its articles; shares: {}",
                            f.related_to,
                            f.shares.join(", ")
                        );
                        out.push_str(&super::related::two_lines(&f.article, &why, width));
                    }
                    let ids: Vec<&str> = found.iter().map(|f| f.article.short_id()).collect();
                    let _ = writeln!(
                        out,
                        "to add them: nj story add {} {}",
                        s.name,
                        ids.join(" ")
                    );
                    output::print(&out)?;
                }
            }
            Action::Show { story, since } => {
                let mut journal = ctx.journal()?;
                let s = journal.resolve_story(&story, false)?;
                let since = match since {
                    Some(w) => Some(Timestamp::from_datetime(parse_since(&w, ctx.clock.now())?)),
                    None => None,
                };
                let events = journal.story_timeline(&s.as_ref(), since, !ctx.json)?;
                if ctx.json {
                    output::json(&serde_json::json!({ "story": s, "timeline": events }))?;
                } else {
                    let text = timeline(&s, &events, now, output::term_width());
                    output::page(&text, ctx.config.pager(&ctx.settings))?;
                }
                journal.mark_story_shown(&s.as_ref(), now)?;
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

impl Stories {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let mut journal = ctx.journal()?;
        let stories = journal.stories(self.closed, self.removed)?;
        if ctx.json {
            output::json(&stories)?;
            return Ok(ExitCode::SUCCESS);
        }
        if stories.is_empty() {
            let which = match (self.removed, self.closed) {
                (true, _) => "no stories in the bin",
                (false, true) => "no closed stories",
                (false, false) => "no open stories; `nj story new \"TITLE\" [ID...]` makes one",
            };
            eprintln!("{which}");
            return Ok(ExitCode::SUCCESS);
        }
        let mut t = output::table(&["NAME", "ARTICLES", "LAST", "NEXT", "TITLE"]);
        for s in &stories {
            let mark = if s.changed { " *" } else { "" };
            t.add_row(vec![
                format!("{}{mark}", s.story.name),
                s.articles.to_string(),
                s.last_activity.local_date(),
                s.next_followup.map(|t| t.local_date()).unwrap_or_default(),
                s.story.title.clone(),
            ]);
        }
        output::print_table(&t)?;
        if stories.iter().any(|s| s.changed) {
            eprintln!("* an article changed since `nj story show` last showed the story");
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Puts the articles in the story (`add`), or takes them out, and says
/// what each did. An article in the bin is not added.
fn members(ctx: &Ctx, story: &str, ids: &[String], add: bool) -> Result<()> {
    let mut journal = ctx.journal()?;
    let s = journal.resolve_story(story, false)?;
    let articles = resolve_all(&journal, ids)?;
    if add {
        for a in &articles {
            let art = journal.article(a)?;
            if art.deleted_at.is_some() {
                anyhow::bail!(
                    "{} ({}) is in the bin; `nj restore {}` brings it back, then add it",
                    art.short_id(),
                    art.title,
                    art.short_id()
                );
            }
        }
    }
    let changed = journal.write(ctx.clock.timestamp(), |tx| {
        articles
            .iter()
            .map(|a| match add {
                true => tx.add_to_story(&s.as_ref(), a),
                false => tx.drop_from_story(&s.as_ref(), a),
            })
            .collect::<newsjournal::Result<Vec<bool>>>()
    })?;
    let (did, was) = match add {
        true => ("added to", "already in"),
        false => ("dropped from", "not in"),
    };
    report(ctx, &journal, &s, &articles, &changed, did, was)
}

fn resolve_all(journal: &Journal, ids: &[String]) -> Result<Vec<ArticleRef>> {
    Ok(ids
        .iter()
        .map(|id| journal.resolve_article(id))
        .collect::<newsjournal::Result<_>>()?)
}

/// Changes the story named `story` (one in the bin with `in_bin`) with
/// `f`, then prints it as it is now: as JSON, or `line` of it.
fn change(
    ctx: &Ctx,
    story: &str,
    in_bin: bool,
    f: impl FnOnce(&mut Tx<'_>, &StoryRef) -> newsjournal::Result<()>,
    line: impl FnOnce(&Story) -> String,
) -> Result<()> {
    let mut journal = ctx.journal()?;
    let s = journal.resolve_story(story, in_bin)?.as_ref();
    journal.write(ctx.clock.timestamp(), |tx| f(tx, &s))?;
    let s = journal.story(&s)?;
    if ctx.json {
        output::json(&s)
    } else {
        output::print(&format!("{}\n", line(&s)))
    }
}

/// What an add or a drop did to each article.
fn report(
    ctx: &Ctx,
    journal: &Journal,
    s: &Story,
    articles: &[ArticleRef],
    changed: &[bool],
    did: &str,
    was: &str,
) -> Result<()> {
    if ctx.json {
        let items: Vec<_> = articles
            .iter()
            .zip(changed)
            .map(|(a, c)| serde_json::json!({ "article_id": a.id, "changed": c }))
            .collect();
        return output::json(&serde_json::json!({ "story": s, "articles": items }));
    }
    let mut out = String::new();
    for (a, c) in articles.iter().zip(changed) {
        let art = journal.article(a)?;
        let how = if *c { did } else { was };
        let _ = writeln!(out, "{} {how} {}: {}", art.short_id(), s.name, art.title);
    }
    output::print(&out)
}

/// The timeline as text: a line an event, dated, with what it is about.
fn timeline(s: &Story, events: &[Event], now: Timestamp, width: usize) -> String {
    let mut out = String::new();
    let state = match (s.closed_at, s.deleted_at) {
        (_, Some(_)) => " (in the bin)",
        (Some(_), None) => " (closed)",
        (None, None) => "",
    };
    let _ = writeln!(out, "{}{state}", output::bold(&s.title));
    let _ = writeln!(
        out,
        "{}  {}  since {}",
        s.name,
        s.short_id(),
        s.created_at.local_date()
    );
    let _ = writeln!(out);
    let text_width = width.saturating_sub(24).max(30);
    let mut past_now = false;
    for e in events {
        if !past_now && e.at > now {
            past_now = true;
            let _ = writeln!(out, "{}", output::dim("-- now --"));
        }
        let line = match &e.what {
            What::Article { article } => format!(
                "{}  {}{}",
                article.short_id(),
                article.title,
                article
                    .site
                    .as_deref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default()
            ),
            What::Version {
                article_id,
                number,
                words_added,
                words_removed,
                minor,
                ..
            } => format!(
                "{}  version {number}: +{words_added} -{words_removed} words{}",
                short_id(article_id),
                if *minor { " (minor)" } else { "" }
            ),
            What::Note {
                article_id, text, ..
            } => match article_id {
                Some(a) => format!("{}  note: {}", short_id(a), first_line(text)),
                None => format!("note: {}", first_line(text)),
            },
            What::FollowupSet {
                article_id,
                text,
                due_at,
                ..
            } => format!(
                "{}follow-up set: {text} (due {})",
                on(article_id.as_deref()),
                due_at.local_date()
            ),
            What::FollowupDone {
                article_id, text, ..
            } => format!("{}follow-up done: {text}", on(article_id.as_deref())),
            What::FollowupDue {
                article_id, text, ..
            } => format!(
                "{}{}: {text}",
                on(article_id.as_deref()),
                if e.at <= now { "due (overdue)" } else { "due" }
            ),
        };
        let _ = writeln!(
            out,
            "{}  {}",
            e.at.local(),
            output::shorten(&line, text_width)
        );
    }
    if events.is_empty() {
        let _ = writeln!(
            out,
            "nothing yet: `nj story add {} ID` puts an article in it, `nj clip URL --story {}` clips one into it",
            s.name, s.name
        );
    }
    out
}

fn on(article: Option<&str>) -> String {
    article
        .map(|a| format!("{}  ", short_id(a)))
        .unwrap_or_default()
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}
