//! `nj recheck`: fetch sources again and record the texts that changed.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use newsjournal::clip::recheck::{recheck, Checked, Outcome};
use newsjournal::clip::FetchOptions;
use newsjournal::journal::short_id;

use super::output;
use super::Ctx;

/// Fetch sources again and record the articles whose text changed
///
/// Without ids, rechecks every article that has an open follow-up. Exits
/// with 3 when any source could not be fetched (after checking all the
/// others), so cron and scripts notice; an article with no source URL is
/// reported but does not count.
#[derive(Debug, Args)]
pub struct Recheck {
    /// Articles to recheck (default: those with open follow-ups)
    ids: Vec<String>,

    /// Print what changed as a line diff
    #[arg(long)]
    diff: bool,

    /// Fetch this many sources at a time
    #[arg(short = 'j', long, default_value_t = 4)]
    jobs: usize,

    /// Count a text as changed only when at least N words were added or
    /// removed (default: any change but a minor one, which touches only
    /// whitespace, punctuation, or a date or "Updated" line)
    #[arg(long, value_name = "N")]
    min_change: Option<usize>,

    /// Recheck every article of this story (its short name, an id
    /// prefix, or the start of its name)
    #[arg(long, value_name = "STORY", conflicts_with = "ids")]
    story: Option<String>,

    /// Recheck only the articles of open stories and of open follow-ups
    /// that are due for a check by their age: every 30 minutes in their
    /// first day, every 2 hours in their first week, daily in their first
    /// month, weekly after. Prints nothing when nothing is due, for cron:
    /// */15 * * * * nj recheck --scheduled
    #[arg(long, conflicts_with_all = ["ids", "story"])]
    scheduled: bool,

    #[command(flatten)]
    timeout: super::Timeout,
}

impl Recheck {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let timeout = self.timeout.duration()?;
        let mut journal = ctx.journal()?;
        let refs = if self.scheduled {
            let due = journal.due_for_recheck(ctx.clock.timestamp())?;
            if due.is_empty() {
                if ctx.json {
                    output::json(&Vec::<Checked>::new())?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            due
        } else if let Some(name) = &self.story {
            let story = journal.resolve_story(name, false)?;
            let refs: Vec<_> = journal
                .story_articles(&story.as_ref())?
                .iter()
                .map(|a| a.as_ref())
                .collect();
            if refs.is_empty() {
                eprintln!(
                    "the story {} has no articles yet; `nj story add {} ID` puts one in it",
                    story.name, story.name
                );
                if ctx.json {
                    output::json(&Vec::<Checked>::new())?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            refs
        } else if self.ids.is_empty() {
            journal.articles_with_open_followups()?
        } else {
            self.ids
                .iter()
                .map(|id| journal.resolve_article(id))
                .collect::<Result<Vec<_>, _>>()?
        };
        if refs.is_empty() {
            eprintln!("no article has an open follow-up; give ids to recheck: nj recheck ID...");
            if ctx.json {
                output::json(&Vec::<Checked>::new())?;
            }
            return Ok(ExitCode::SUCCESS);
        }
        let articles = refs
            .iter()
            .map(|r| journal.article(r))
            .collect::<Result<Vec<_>, _>>()?;
        let bar = output::progress(articles.len(), ctx.json, "{bar:30} {pos}/{len} {msg}");
        let fetch = FetchOptions {
            timeout,
            ..FetchOptions::default()
        };
        let results = recheck(
            &mut journal,
            &articles,
            &fetch,
            self.jobs,
            &ctx.clock,
            self.min_change,
            |c| {
                bar.inc(1);
                bar.set_message(short_id(&c.article_id).to_owned());
            },
        )?;
        bar.finish_and_clear();
        // A source that failed is the run's news for cron: exit 3, unlike
        // 1 (nj failed) and 2 (a usage error). An article without a URL
        // has nothing to fetch, so it is not a failure to report this way.
        let failed = results
            .iter()
            .any(|c| c.url.is_some() && matches!(c.outcome, Outcome::Unreachable { .. }));
        let code = if failed {
            ExitCode::from(SOURCES_FAILED)
        } else {
            ExitCode::SUCCESS
        };
        if ctx.json {
            output::json(&results)?;
            return Ok(code);
        }
        let mut s = String::new();
        let (mut changed, mut minor_changes, mut unreachable) = (0, 0, 0);
        for c in &results {
            let id = output::bold(short_id(&c.article_id));
            match &c.outcome {
                Outcome::Unchanged => {
                    let _ = writeln!(s, "unchanged    {id}  {}", c.title);
                }
                Outcome::Changed {
                    lines_added,
                    lines_removed,
                    words_added,
                    words_removed,
                    minor,
                    content_hash,
                    diff,
                    ..
                } => {
                    let label = if *minor {
                        minor_changes += 1;
                        "minor      "
                    } else {
                        changed += 1;
                        "changed    "
                    };
                    let _ = writeln!(
                        s,
                        "{label}  {id}  {} (+{lines_added} -{lines_removed} lines, +{words_added} -{words_removed} words)",
                        c.title
                    );
                    let _ = writeln!(s, "             {content_hash}");
                    if self.diff {
                        s.push_str(diff);
                    }
                }
                Outcome::Unreachable { reason } => {
                    unreachable += 1;
                    let _ = writeln!(s, "unreachable  {id}  {}: {reason}", c.title);
                }
            }
        }
        let why = match self.min_change {
            Some(n) => format!("fewer than {n} words changed"),
            None => "only punctuation, a date or an \"Updated\" line".to_owned(),
        };
        let minor = match minor_changes {
            0 => String::new(),
            n => format!(", {n} minor ({why}; recorded as a version)"),
        };
        let _ = writeln!(
            s,
            "{} checked: {changed} changed{minor}, {unreachable} unreachable",
            results.len()
        );
        output::print(&s)?;
        Ok(code)
    }
}

/// The exit code of a recheck in which some source could not be fetched.
pub const SOURCES_FAILED: u8 = 3;
