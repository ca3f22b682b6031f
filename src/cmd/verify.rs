use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use newsjournal::journal::short_id;

use super::output;
use super::Ctx;

/// Recompute every stored hash and check the search index
#[derive(Debug, Args)]
pub struct Verify {}

impl Verify {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let journal = ctx.journal()?;
        let report = journal.verify()?;
        let ok = report.mismatches.is_empty() && report.index_ok;
        if ctx.json {
            output::json(&report)?;
        } else {
            for m in &report.mismatches {
                println!("MISMATCH {}  {}", short_id(&m.article_id), m.title);
                println!("  stored   {}", m.content_hash);
                println!("  computed {}", m.computed_hash);
            }
            if !report.index_ok {
                println!("the search index does not match the articles");
            }
            if ok {
                println!(
                    "checked {} texts of {} articles: every hash matches, and the search index is sound",
                    report.texts_checked, report.articles
                );
            }
        }
        if ok {
            return Ok(ExitCode::SUCCESS);
        }
        let mut problems = Vec::new();
        if !report.mismatches.is_empty() {
            problems.push(format!(
                "{} article(s) whose text no longer matches its hash; the file was changed outside nj, so restore it from a backup or clip those articles again",
                report.mismatches.len()
            ));
        }
        if !report.index_ok {
            problems
                .push("the search index is damaged; restore the journal from a backup".to_owned());
        }
        eprintln!("nj: verify failed: {}", problems.join("; "));
        Ok(ExitCode::FAILURE)
    }
}
