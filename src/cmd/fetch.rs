//! `nj fetch`: fetch the texts of pending bookmarks (imported without them).

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;
use newsjournal::clip::pending::{fetch_pending, Fetched, Outcome};
use newsjournal::clip::FetchOptions;
use newsjournal::journal::{short_id, PendingArticle};

use super::output;
use super::Ctx;

/// Fetch the text of pending bookmarks (imported without their text)
///
/// Each text is saved as soon as it arrives: stop it at any time (Ctrl-C)
/// and run it again to go on with the rest. A page that cannot be fetched
/// is skipped by later runs until --retry.
#[derive(Debug, Args)]
pub struct Fetch {
    /// Pending articles to fetch
    #[arg(required_unless_present = "pending", conflicts_with = "pending")]
    ids: Vec<String>,

    /// Fetch every pending article, newest first
    #[arg(long)]
    pending: bool,

    /// Try again the pages that could not be fetched before
    #[arg(long)]
    retry: bool,

    /// Fetch at most N articles this run (0 for all)
    #[arg(short = 'l', long, value_name = "N", default_value_t = 0)]
    limit: usize,

    /// Fetch this many pages at a time
    #[arg(short = 'j', long, default_value_t = 4)]
    jobs: usize,

    #[command(flatten)]
    timeout: super::Timeout,
}

impl Fetch {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let timeout = self.timeout.duration()?;
        let mut journal = ctx.journal()?;
        let articles: Vec<PendingArticle> = if self.pending {
            journal.pending(self.retry, self.limit)?
        } else {
            let refs = self
                .ids
                .iter()
                .map(|id| journal.resolve_article(id))
                .collect::<Result<Vec<_>, _>>()?;
            let mut out = Vec::new();
            for r in refs {
                let a = journal.article(&r)?;
                if !a.pending {
                    bail!(
                        "{} already has its text; `nj recheck {}` fetches it again to look for changes",
                        a.short_id(),
                        a.short_id()
                    );
                }
                out.push(PendingArticle {
                    urls: a.urls.clone(),
                    id: a.id,
                    title: a.title,
                    rowid: r.rowid,
                });
            }
            out
        };
        if articles.is_empty() {
            let left = journal.pending_count()?;
            if ctx.json {
                output::json(&Vec::<Fetched>::new())?;
            }
            if left.failed_before > 0 {
                eprintln!(
                    "nothing to fetch: the {} pending left could not be fetched before; `nj fetch --pending --retry` tries them again",
                    left.failed_before
                );
            } else {
                eprintln!("nothing to fetch: every article has its text");
            }
            return Ok(ExitCode::SUCCESS);
        }
        let bar = output::progress(
            articles.len(),
            ctx.json,
            "{bar:30} {pos}/{len} (Ctrl-C stops; run again to go on)",
        );
        let fetch = FetchOptions {
            timeout,
            ..FetchOptions::default()
        };
        // Lines print as results arrive, above the bar, so a long run shows
        // what it has done.
        let results = fetch_pending(
            &mut journal,
            &articles,
            &fetch,
            self.jobs,
            &ctx.clock,
            |f| {
                bar.inc(1);
                if !ctx.json {
                    bar.suspend(|| {
                        let _ = output::print(&line(f));
                    });
                }
            },
        )?;
        bar.finish_and_clear();
        if ctx.json {
            output::json(&results)?;
            return Ok(ExitCode::SUCCESS);
        }
        let count = |p: fn(&Outcome) -> bool| results.iter().filter(|r| p(&r.outcome)).count();
        let fetched = count(|o| matches!(o, Outcome::Fetched { .. }));
        let merged = count(|o| matches!(o, Outcome::Merged { .. }));
        let failed = count(|o| matches!(o, Outcome::Failed { .. }));
        let left = journal.pending_count()?;
        let mut s = format!("{fetched} fetched, {merged} merged, {failed} failed");
        if left.pending > 0 {
            let _ = write!(s, "; {} still pending", left.pending);
            if left.failed_before > 0 {
                let _ = write!(
                    s,
                    " ({} could not be fetched: `nj fetch --pending --retry` tries them again)",
                    left.failed_before
                );
            }
        }
        s.push('\n');
        output::print(&s)?;
        Ok(ExitCode::SUCCESS)
    }
}

fn line(f: &Fetched) -> String {
    let id = output::bold(short_id(&f.article_id));
    match &f.outcome {
        Outcome::Fetched { words, .. } => {
            format!("fetched  {id}  {} ({words} words)\n", f.title)
        }
        Outcome::Merged {
            into,
            similarity: None,
        } => format!(
            "merged   {id}  {}: {} has the same text, so the bookmark went into it\n",
            f.title,
            short_id(into)
        ),
        Outcome::Merged {
            into,
            similarity: Some(alike),
        } => format!(
            "merged   {id}  {}: its page is a copy of {} ({}% the same text), so the bookmark went into it and its text is kept as a copy\n",
            f.title,
            short_id(into),
            (alike * 100.0).floor()
        ),
        Outcome::AlreadyFetched => format!("had it   {id}  {}\n", f.title),
        Outcome::Failed { reason } => format!("failed   {id}  {}: {reason}\n", f.title),
    }
}

#[cfg(test)]
mod tests {
    use clap::error::ErrorKind;

    use crate::cmd::tests::{command_of, refused};
    use crate::cmd::Command;

    #[test]
    fn ids_or_pending_not_both() {
        let Command::Fetch(f) = command_of(&["fetch", "3fa9", "e494", "-j", "2"]) else {
            panic!()
        };
        assert_eq!(
            (f.ids, f.pending, f.jobs),
            (vec!["3fa9".to_owned(), "e494".to_owned()], false, 2)
        );
        let Command::Fetch(f) = command_of(&["fetch", "--pending", "--retry", "-l", "10"]) else {
            panic!()
        };
        assert!(f.pending && f.retry && f.ids.is_empty());
        assert_eq!(f.limit, 10);
        assert_eq!(
            refused(&["fetch", "--pending", "3fa9"]),
            ErrorKind::ArgumentConflict
        );
        assert_eq!(refused(&["fetch"]), ErrorKind::MissingRequiredArgument);
    }
}
