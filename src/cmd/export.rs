//! `nj export`: the journal as newsjournal JSON, Netscape bookmarks, Markdown or iCalendar.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use newsjournal::export::ical::to_ics;
use newsjournal::export::{self, Counts};
use newsjournal::journal::FollowupFilter;

use super::output;
use super::Ctx;

/// Write the journal out: newsjournal JSON, Netscape bookmarks, Markdown or iCalendar
///
/// json holds everything (every article with its URLs, tags, versions and
/// their texts, notes and follow-ups, and the free-standing notes and
/// follow-ups, removed ones included); `nj import` brings it back as the
/// same journal, and the same journal always exports the same bytes.
/// netscape is the bookmark file browsers and bookmark tools import.
/// markdown writes one file per article into a folder (-o DIR), with YAML
/// front matter: an Obsidian vault. ics holds the follow-ups, done ones
/// marked completed.
#[derive(Debug, Args)]
pub struct Export {
    /// What to write
    #[arg(long, value_enum, default_value = "json")]
    format: ExportFormat,

    /// Write to this file (atomically: readers see the old file or the
    /// whole new one) instead of stdout; for markdown, the folder
    #[arg(short = 'o', long, value_name = "PATH")]
    output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExportFormat {
    /// Everything, as newsjournal JSON; `nj import` reads it back
    Json,
    /// Bookmark HTML (URL, title, date, tags, notes) for browsers and bookmark tools
    Netscape,
    /// One .md file per article, with YAML front matter, into the folder -o DIR
    Markdown,
    /// The follow-ups as an iCalendar file of VTODOs
    Ics,
}

impl Export {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let journal = ctx.journal()?;
        let summary = match self.format {
            ExportFormat::Json => {
                let counts = self.to_output(|out| Ok(export::json::write(&journal, out)?))?;
                describe(&counts)
            }
            ExportFormat::Netscape => {
                let w = self.to_output(|out| Ok(export::netscape::write(&journal, out)?))?;
                let mut s = plural(w.bookmarks, "bookmark", "bookmarks");
                if w.without_url > 0 {
                    s.push_str(&format!(
                        " (left out {}: clipped from a file or stdin with no URL)",
                        plural(w.without_url, "article", "articles")
                    ));
                }
                s
            }
            ExportFormat::Markdown => {
                let dir = self.output.as_ref().context(
                    "--format markdown writes one file per article: give the folder with -o DIR",
                )?;
                let n = export::markdown::write(&journal, dir)?;
                let mut s = plural(n.articles, "article", "articles");
                if n.stories > 0 {
                    s.push_str(&format!(" and {}", plural(n.stories, "story", "stories")));
                }
                s
            }
            ExportFormat::Ics => {
                let all = journal.followups(&FollowupFilter::default())?;
                let ics = to_ics(&all, ctx.clock.timestamp());
                self.to_output(|out| Ok(out.write_all(ics.as_bytes())?))?;
                plural(all.len(), "follow-up", "follow-ups")
            }
        };
        if let Some(path) = &self.output {
            eprintln!("exported {summary} to {}", path.display());
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

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `3 articles, 1 note and 2 follow-ups`, then what was removed (the
/// JSON keeps the bin too): `, and from the bin 1 follow-up`.
fn describe(c: &Counts) -> String {
    let mut s = format!(
        "{}, {} and {}",
        plural(c.articles, "article", "articles"),
        plural(c.notes, "note", "notes"),
        plural(c.followups, "follow-up", "follow-ups")
    );
    let removed: Vec<String> = [
        (c.removed_articles, "article", "articles"),
        (c.removed_notes, "note", "notes"),
        (c.removed_followups, "follow-up", "follow-ups"),
    ]
    .into_iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, one, many)| plural(n, one, many))
    .collect();
    if !removed.is_empty() {
        s.push_str(&format!(", and from the bin {}", removed.join(", ")));
    }
    if c.stories > 0 {
        s.push_str(&format!(", in {}", plural(c.stories, "story", "stories")));
    }
    s
}
