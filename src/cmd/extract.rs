//! `nj extract`: print the text `nj clip` would store from a source, storing nothing.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use newsjournal::clip::{self, FetchOptions, LoadOptions, Source};
use newsjournal::time::Timestamp;
use serde::Serialize;

use super::output;
use super::Ctx;

#[derive(Serialize)]
struct ExtractJson<'a> {
    title: &'a str,
    author: Option<&'a str>,
    site: Option<&'a str>,
    published_at: Option<Timestamp>,
    canonical_url: Option<&'a str>,
    lang: Option<&'a str>,
    text: &'a str,
}

/// Print the text `nj clip` would store from a source, storing nothing
#[derive(Debug, Args)]
pub struct Extract {
    /// A URL, a file (.html, .txt, .md), or - to read standard input
    source: String,

    /// The page's URL, for a file or stdin (resolves a relative canonical link)
    #[arg(long, value_name = "U")]
    url: Option<String>,

    #[command(flatten)]
    timeout: super::Timeout,
}

impl Extract {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let opts = LoadOptions {
            fetch: FetchOptions {
                timeout: self.timeout.duration()?,
                ..FetchOptions::default()
            },
            title: None,
            url: self.url,
        };
        // The same loading `nj clip` does, and no journal: extract must
        // work, and leave nothing behind, where there is none.
        let page = clip::load(&Source::parse(&self.source), &opts, std::io::stdin().lock())?;
        if ctx.json {
            output::json(&ExtractJson {
                title: &page.title,
                author: page.author.as_deref(),
                site: page.site.as_deref(),
                published_at: page.published_at,
                canonical_url: page.canonical_url.as_deref(),
                lang: page.lang.as_deref(),
                text: &page.content.text,
            })?;
        } else {
            output::print_exact(&page.content.text)?;
        }
        Ok(ExitCode::SUCCESS)
    }
}
