//! `nj copies`: the groups of syndicated copies the journal already holds.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::output;
use super::Ctx;

/// List the groups of near-copies in the journal (the same report from
/// several sources), closest first
#[derive(Debug, Args)]
pub struct Copies {
    /// Show at most N groups
    #[arg(long, value_name = "N")]
    limit: Option<usize>,

    /// Fold each group (those shown) into its first clipped article, as
    /// `nj clip` folds a copy: the others' texts are kept as its copies,
    /// their URLs, tags, notes and follow-ups join it, and they go to the
    /// bin
    #[arg(long)]
    fold: bool,
}

impl Copies {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let mut journal = ctx.journal()?;
        let mut groups = journal.copy_groups(ctx.clock.timestamp())?;
        let total = groups.len();
        if let Some(n) = self.limit {
            groups.truncate(n);
        }
        let folded = match self.fold {
            true => Some(journal.fold_copies(ctx.clock.timestamp(), &groups)?),
            false => None,
        };
        if ctx.json {
            match folded {
                Some(n) => output::json(&serde_json::json!({ "folded": n, "groups": groups }))?,
                None => output::json(&groups)?,
            }
            return Ok(ExitCode::SUCCESS);
        }
        if groups.is_empty() {
            eprintln!("no copies: no two articles outside the bin have the same report's text");
            return Ok(ExitCode::SUCCESS);
        }
        let width = output::term_width().saturating_sub(30).max(20);
        for g in &groups {
            let a = &g.article;
            println!(
                "{}  {}  {} words  {}",
                a.short_id(),
                a.clipped_at.local_date(),
                a.word_count,
                output::shorten(&a.title, width)
            );
            for c in &g.copies {
                let percent = (c.similarity * 100.0).floor();
                println!(
                    "  {percent:>3}%  {}  {}  {} words  {}",
                    c.article.short_id(),
                    c.article.clipped_at.local_date(),
                    c.article.word_count,
                    output::shorten(&c.article.title, width.saturating_sub(7))
                );
            }
        }
        let articles: usize = groups.iter().map(|g| g.copies.len() + 1).sum();
        let shown = if groups.len() < total {
            format!(" (of {total}; --limit)")
        } else {
            String::new()
        };
        let groups_word = if groups.len() == 1 { "group" } else { "groups" };
        match folded {
            Some(n) => eprintln!(
                "folded {n} cop{} into {} article{}{shown}; `nj show ID` lists each copy, and the folded articles are in the bin (`nj list --removed`)",
                if n == 1 { "y" } else { "ies" },
                groups.len(),
                if groups.len() == 1 { "" } else { "s" },
            ),
            None => eprintln!(
                "{} {groups_word}{shown} of copies, {articles} articles; the % is how alike each text is to the first clipped; `nj copies --fold` folds them",
                groups.len(),
            ),
        }
        Ok(ExitCode::SUCCESS)
    }
}
