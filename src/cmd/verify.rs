//! `nj verify`: recompute the stored hashes and check the journal (`--repair` mends it).

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use newsjournal::journal::short_id;

use super::output;
use super::Ctx;

/// Recompute every stored hash, check that each article's text, versions
/// and pending state agree, and check the search index
#[derive(Debug, Args)]
pub struct Verify {
    /// Mend articles whose text, versions and pending state disagree,
    /// rebuild the search index and the copy keys, and count the tags
    /// again, first
    #[arg(long)]
    repair: bool,
}

impl Verify {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let mut journal = ctx.journal()?;
        if self.repair {
            // The indexes a stopped bulk write left for later first: the
            // look-ups below need them.
            journal.finish_index()?;
            let broken = journal.inconsistent()?;
            if !broken.is_empty() {
                let mended = journal.write(ctx.clock.timestamp(), |tx| {
                    let mut n = 0;
                    for b in &broken {
                        n += usize::from(tx.mend_article(&b.article())?);
                    }
                    Ok(n)
                })?;
                eprintln!(
                    "nj: mended {mended} of {} article(s) whose text, versions and pending state disagreed",
                    broken.len()
                );
            }
            journal.rebuild_index()?;
            journal.recount_tags()?;
            journal.rebuild_copy_keys(ctx.clock.timestamp())?;
        } else {
            // An index an interrupted sync left to rebuild is not damaged.
            journal.finish_index()?;
        }
        let report = journal.verify()?;
        let ok = report.mismatches.is_empty()
            && report.inconsistent.is_empty()
            && report.index_ok
            && report.tag_counts_ok;
        if ctx.json {
            output::json(&report)?;
        } else {
            let mut s = String::new();
            for m in &report.mismatches {
                let _ = writeln!(s, "MISMATCH {}  {}", short_id(&m.article_id), m.title);
                match m.copy_from.as_deref() {
                    Some("") => {
                        let _ = writeln!(s, "  the text of a copy folded into it");
                    }
                    Some(url) => {
                        let _ = writeln!(s, "  the text of its copy from {url}");
                    }
                    None => {}
                }
                let _ = writeln!(s, "  stored   {}", m.content_hash);
                let _ = writeln!(s, "  computed {}", m.computed_hash);
            }
            for b in &report.inconsistent {
                let _ = writeln!(s, "INCONSISTENT {}  {}", short_id(&b.article_id), b.title);
                let _ = writeln!(s, "  {}", b.problem);
            }
            if !report.index_ok {
                let _ = writeln!(s, "the search index does not match the articles");
            }
            if !report.tag_counts_ok {
                let _ = writeln!(
                    s,
                    "the tag counts (`nj tags`) do not match the articles' tags"
                );
            }
            if ok {
                let _ = writeln!(
                    s,
                    "checked {} of {}: every hash matches, every article agrees with its versions, and the search index is sound",
                    output::count(report.texts_checked, "text"),
                    output::count(report.articles, "article")
                );
            }
            output::print(&s)?;
        }
        if ok {
            return Ok(ExitCode::SUCCESS);
        }
        let mut problems = Vec::new();
        if !report.mismatches.is_empty() {
            problems.push(format!(
                "{} article(s) whose text no longer matches its hash; the file was changed outside nj: clip each from its source again (that heals the stored text), or restore the journal from a backup",
                report.mismatches.len()
            ));
        }
        if !report.inconsistent.is_empty() {
            problems.push(format!(
                "{} article(s) whose text, versions and pending state disagree; `nj verify --repair` mends them",
                report.inconsistent.len()
            ));
        }
        if !report.tag_counts_ok {
            problems.push(
                "the tag counts do not match the articles' tags; `nj verify --repair` counts them again"
                    .to_owned(),
            );
        }
        if !report.index_ok {
            problems.push(
                "the search index does not match the articles; `nj verify --repair` rebuilds it"
                    .to_owned(),
            );
        }
        eprintln!("nj: verify failed: {}", problems.join("; "));
        Ok(ExitCode::FAILURE)
    }
}
