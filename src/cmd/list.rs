use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use newsjournal::journal::{first_line, normalize_tag, short_id, ListFilter};
use newsjournal::time::{parse_since, Timestamp};

use super::output;
use super::Ctx;

/// List articles, newest first
#[derive(Debug, Args)]
pub struct List {
    /// Only articles with this tag
    #[arg(short = 't', long)]
    tag: Option<String>,

    /// Only articles clipped since WHEN (2026-11-01, yesterday, 7d, 2 weeks ago)
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,

    /// Show at most N articles (0 for all)
    #[arg(short = 'l', long, value_name = "N", default_value_t = 50)]
    limit: usize,

    /// List the bin: articles removed with `nj rm`
    #[arg(long)]
    removed: bool,

    /// Only articles not marked read (`nj read ID` marks one)
    #[arg(long, conflicts_with = "read")]
    unread: bool,

    /// Only articles marked read
    #[arg(long)]
    read: bool,

    /// Only pending bookmarks: imported without their text, which
    /// `nj fetch --pending` fetches
    #[arg(long)]
    pending: bool,
}

impl List {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let since = match &self.since {
            Some(s) => Some(Timestamp::from_datetime(parse_since(s, ctx.clock.now())?)),
            None => None,
        };
        let filter = ListFilter {
            tag: self.tag.as_deref().and_then(normalize_tag),
            since,
            limit: self.limit,
            removed: self.removed,
            read: match (self.read, self.unread) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
            pending: self.pending,
        };
        let journal = ctx.journal()?;
        // One row more than asked tells whether there are more, without
        // counting them all.
        let mut articles = journal.list(&ListFilter {
            limit: filter.limit.saturating_add(usize::from(filter.limit > 0)),
            ..filter.clone()
        })?;
        let more = filter.limit > 0 && articles.len() > filter.limit;
        articles.truncate(if filter.limit > 0 {
            filter.limit
        } else {
            usize::MAX
        });
        if ctx.json {
            output::json(&articles)?;
            return Ok(ExitCode::SUCCESS);
        }
        if articles.is_empty() {
            let in_bin = !self.removed
                && !journal
                    .list(&ListFilter {
                        removed: true,
                        limit: 1,
                        ..ListFilter::default()
                    })?
                    .is_empty();
            let msg = if self.pending {
                "no pending bookmarks: every article has its text"
            } else if self.removed {
                "the bin is empty"
            } else if filter.tag.is_some() || since.is_some() || self.read || self.unread {
                "no articles match"
            } else if in_bin {
                "no articles outside the bin; `nj list --removed` shows the bin"
            } else {
                "no articles yet; clip one with `nj clip URL`"
            };
            eprintln!("{msg}");
            return Ok(ExitCode::SUCCESS);
        }
        let mut t = output::table(&["ID", "CLIPPED", "WORDS", "TAGS", "TITLE"]);
        for a in &articles {
            t.add_row(vec![
                short_id(&a.id).to_owned(),
                a.clipped_at.local_date(),
                if a.pending {
                    "pending".to_owned()
                } else {
                    a.word_count.to_string()
                },
                a.tags.join(","),
                first_line(&a.title, 120),
            ]);
        }
        output::print_table(&t)?;
        if more {
            eprintln!(
                "showing the newest {}; use --limit N for more, or --limit 0 for all",
                articles.len()
            );
        }
        Ok(ExitCode::SUCCESS)
    }
}
