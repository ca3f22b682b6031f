use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use newsjournal::clip::{self, FetchOptions, LoadOptions, Source};
use newsjournal::journal::{short_id, ClipOutcome, ClipStatus, NewClip};

use super::output;
use super::Ctx;

/// Clip an article from a URL, an HTML or text file, or - for stdin
#[derive(Debug, Args)]
pub struct Clip {
    /// A URL, a file (.html, .txt, .md), or - to read standard input
    source: String,

    /// Use this title instead of the one found in the source
    #[arg(long, value_name = "T")]
    title: Option<String>,

    /// The source URL of a file or stdin clip
    #[arg(long, value_name = "U")]
    url: Option<String>,

    /// Tag the article (repeatable)
    #[arg(short = 't', long = "tag", value_name = "TAG")]
    tags: Vec<String>,

    /// Add a note saying why it matters
    #[arg(short = 'n', long, value_name = "TEXT")]
    note: Option<String>,

    /// Give up on a URL after this many seconds
    #[arg(long, value_name = "SECS", env = "NJ_TIMEOUT", default_value_t = 30.0)]
    timeout: f64,
}

impl Clip {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let timeout = Duration::try_from_secs_f64(self.timeout)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "--timeout {} is not a positive number of seconds",
                    self.timeout
                )
            })?;
        let opts = LoadOptions {
            fetch: FetchOptions {
                timeout,
                connect_timeout: timeout.min(Duration::from_secs(10)),
                ..FetchOptions::default()
            },
            title: self.title,
            url: self.url,
        };
        // Read and extract before opening the journal: a failed fetch then
        // leaves no trace, and a slow one holds no lock.
        let page = clip::load(&Source::parse(&self.source), &opts, std::io::stdin().lock())?;
        let mut journal = ctx.journal()?;
        let outcome = journal.clip(
            ctx.clock.timestamp(),
            &NewClip {
                content: page.content,
                title: page.title,
                urls: page.urls,
                site: page.site,
                author: page.author,
                lang: page.lang,
                published_at: page.published_at,
                tags: self.tags,
                note: self.note,
            },
        )?;
        if ctx.json {
            output::json(&outcome)?;
        } else {
            output::print(&describe(&outcome))?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

fn describe(o: &ClipOutcome) -> String {
    let a = &o.article;
    let id = output::bold(short_id(&a.id));
    let mut s = match o.status {
        ClipStatus::New => format!("clipped {id}: {}\n", a.title),
        ClipStatus::Duplicate => {
            let mut merged = Vec::new();
            if !o.tags_added.is_empty() {
                merged.push(format!("added tags {}", o.tags_added.join(", ")));
            }
            if !o.urls_added.is_empty() {
                merged.push(format!("added URL {}", o.urls_added.join(", ")));
            }
            if o.note_added {
                merged.push("added the note".to_owned());
            }
            if o.restored {
                merged.push("brought it back from the bin".to_owned());
            }
            let merged = if merged.is_empty() {
                "nothing new to merge".to_owned()
            } else {
                merged.join("; ")
            };
            format!("already clipped as {id}: {} ({merged})\n", a.title)
        }
        ClipStatus::NewVersion => format!(
            "new version of {id}: {} (the text changed; `nj diff {}` shows how)\n",
            a.title,
            short_id(&a.id)
        ),
    };
    s.push_str(&format!("  {}\n", a.content_hash));
    if o.status == ClipStatus::New && !a.tags.is_empty() {
        s.push_str(&format!("  tags: {}\n", a.tags.join(", ")));
    }
    s
}
