use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};
use newsjournal::export::{self, Counts};

use super::output;
use super::Ctx;

/// Write the whole journal out: newsjournal JSON (complete, re-importable)
///
/// JSON holds every article with its URLs, tags, versions and their texts,
/// notes and follow-ups, and the free-standing notes and follow-ups,
/// removed ones included. `nj import` brings it back as the same journal.
/// The same journal always exports the same bytes.
#[derive(Debug, Args)]
pub struct Export {
    /// What to write
    #[arg(long, value_enum, default_value = "json")]
    format: ExportFormat,

    /// Write to this file (atomically: readers see the old file or the
    /// whole new one) instead of stdout
    #[arg(short = 'o', long, value_name = "PATH")]
    output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExportFormat {
    /// Everything, as newsjournal JSON; `nj import` reads it back
    Json,
}

impl Export {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let journal = ctx.journal()?;
        let counts = match self.format {
            ExportFormat::Json => self.to_output(|out| Ok(export::json::write(&journal, out)?))?,
        };
        if let Some(path) = &self.output {
            eprintln!("exported {} to {}", describe(&counts), path.display());
        }
        Ok(ExitCode::SUCCESS)
    }

    /// Runs `write` on the output file (atomically) or on stdout.
    fn to_output<T>(&self, write: impl FnOnce(&mut dyn Write) -> Result<T>) -> Result<T> {
        match &self.output {
            Some(path) => output::write_atomically(path, |out| write(out)),
            None => {
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                let value = write(&mut out)?;
                out.flush()?;
                Ok(value)
            }
        }
    }
}

/// `3 articles, 1 note and 2 follow-ups`.
fn describe(c: &Counts) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "{}, {} and {}",
        plural(c.articles, "article", "articles"),
        plural(c.notes, "note", "notes"),
        plural(c.followups, "follow-up", "follow-ups")
    )
}
