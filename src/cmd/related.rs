//! `nj related`: the other articles on an article's story.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use newsjournal::journal::{Article, Related};

use super::output;
use super::Ctx;

/// List the other articles on the same story, best first: copies, then
/// the articles that share the most distinctive words
#[derive(Debug, Args)]
pub struct RelatedCmd {
    /// The article's id
    id: String,

    /// Show at most N articles
    #[arg(long, value_name = "N", default_value_t = 10)]
    limit: usize,
}

impl RelatedCmd {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let journal = ctx.journal()?;
        let article = journal.resolve_article(&self.id)?;
        let related = journal.related(&article, self.limit)?;
        if ctx.json {
            output::json(&related)?;
            return Ok(ExitCode::SUCCESS);
        }
        if related.is_empty() {
            eprintln!("nothing related: no other article shares this one's distinctive words");
            return Ok(ExitCode::SUCCESS);
        }
        print!("{}", lines(&related, output::term_width()));
        Ok(ExitCode::SUCCESS)
    }
}

/// Two lines an article: its id, date and title, and why it is related.
pub fn lines(related: &[Related], width: usize) -> String {
    let mut s = String::new();
    for r in related {
        let why = match r.copy {
            Some(alike) => format!("a copy: {}% the same text", (alike * 100.0).floor()),
            None => format!("shares: {}", r.shares.join(", ")),
        };
        s.push_str(&two_lines(&r.article, &why, width));
    }
    s
}

/// An article's id, date and title, and under it `why` it is listed, each
/// cut to `width`.
pub fn two_lines(a: &Article, why: &str, width: usize) -> String {
    format!(
        "{}  {}  {}\n          {}\n",
        a.short_id(),
        a.clipped_at.local_date(),
        output::shorten(&a.title, width.saturating_sub(22).max(20)),
        output::shorten(why, width.saturating_sub(10).max(20))
    )
}
