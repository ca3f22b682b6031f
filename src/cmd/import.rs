//! `nj import`: bring in a Pocket, Omnivore, wallabag, Instapaper, bookmarks or nj JSON library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use newsjournal::import::{self, Format};
use newsjournal::journal::short_id;

use super::output;
use super::Ctx;

/// Import a library: Pocket, Omnivore, wallabag, Instapaper, bookmarks HTML or nj JSON
///
/// The format is detected from the file's contents. Links without their
/// text become pending articles, which `nj fetch --pending` fetches. The
/// whole import is one transaction: if it stops (a file cut off, a full
/// disk), nothing was imported and it can simply be run again. Importing
/// the same file again adds nothing twice; into an empty journal, an `nj
/// export` comes back as the journal it was, with the same ids and hashes.
#[derive(Debug, Args)]
pub struct Import {
    /// The file to import
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// The file's format, when detection guesses wrong
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<Format>,
}

impl Import {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let name = self.file.display().to_string();
        if self.file.is_dir() {
            anyhow::bail!(
                "{name} is a folder; nj imports an export as the one file it came as: for an unzipped Pocket or Omnivore export, pass its ZIP"
            );
        }
        if !self.file.is_file() {
            anyhow::bail!("cannot read {name}: there is no such file; check the path");
        }
        let mut journal = ctx.journal_or_create()?;
        let (format, report) =
            import::import(&mut journal, &self.file, self.format, ctx.clock.timestamp())?;
        if ctx.json {
            output::json(&serde_json::json!({
                "file": name,
                "format": format,
                "added": report.added,
                "updated": report.updated,
                "skipped_duplicate": report.skipped_duplicate,
                // The first MAX_LISTED_REJECTIONS; the count is of all.
                "rejected": report.rejected,
                "rejected_count": report.rejected_count,
            }))?;
            return Ok(ExitCode::SUCCESS);
        }
        for r in &report.rejected {
            let id =
                r.id.as_deref()
                    .map(|id| format!(" ({})", short_id(id)))
                    .unwrap_or_default();
            eprintln!("rejected {}{id}: {}", r.item, r.reason);
        }
        let unlisted = report.rejected_count - report.rejected.len();
        if unlisted > 0 {
            eprintln!("... and {unlisted} more rejected");
        }
        output::print(&format!(
            "imported {name} ({}): {} added, {} updated, {} skipped (duplicate), {} rejected\n",
            format.name(),
            report.added,
            report.updated,
            report.skipped_duplicate,
            report.rejected_count
        ))?;
        Ok(ExitCode::SUCCESS)
    }
}
