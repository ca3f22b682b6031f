use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use newsjournal::journal::{first_line, normalize_tag, short_id, Article, ListFilter, ListSort};
use newsjournal::time::{parse_since, Timestamp};

use super::output;
use super::Ctx;

/// List articles, newest first
///
/// On a terminal the table fits its width: titles and tags are shortened
/// at a word (or tag), with "…". `COLUMNS` sets the width, also in a pipe.
#[derive(Debug, Args)]
pub struct List {
    /// Only articles with this tag; repeat it for articles with all of them
    #[arg(short = 't', long = "tag", value_name = "TAG")]
    tags: Vec<String>,

    /// With several --tag: articles with any of them, not all
    #[arg(long, requires = "tags")]
    any_tag: bool,

    /// The order: clipped (newest first), published (newest first), title
    /// (A to Z) or words (longest first)
    #[arg(long, value_enum, default_value = "clipped")]
    sort: Sort,

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

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Sort {
    Clipped,
    Published,
    Title,
    Words,
}

impl List {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let since = match &self.since {
            Some(s) => Some(Timestamp::from_datetime(parse_since(s, ctx.clock.now())?)),
            None => None,
        };
        let filter = ListFilter {
            tags: self.tags.iter().filter_map(|t| normalize_tag(t)).collect(),
            any_tag: self.any_tag,
            sort: match self.sort {
                Sort::Clipped => ListSort::Clipped,
                Sort::Published => ListSort::Published,
                Sort::Title => ListSort::Title,
                Sort::Words => ListSort::Words,
            },
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
            } else if !filter.tags.is_empty() || since.is_some() || self.read || self.unread {
                "no articles match"
            } else if in_bin {
                "no articles outside the bin; `nj list --removed` shows the bin"
            } else {
                "no articles yet; clip one with `nj clip URL`"
            };
            eprintln!("{msg}");
            return Ok(ExitCode::SUCCESS);
        }
        output::print(&table(&articles, output::fit_width()))?;
        if more {
            eprintln!(
                "showing the newest {}; use --limit N for more, or --limit 0 for all",
                articles.len()
            );
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// The list as a table: ID, CLIPPED, READ (a check mark once read), WORDS,
/// TAGS and TITLE, columns two spaces apart. With a `width`, tags and then
/// the title are shortened to fit it, at a tag or word, with "…".
fn table(articles: &[Article], width: Option<usize>) -> String {
    let words: Vec<String> = articles
        .iter()
        .map(|a| {
            if a.pending {
                "pending".to_owned()
            } else {
                a.word_count.to_string()
            }
        })
        .collect();
    let titles: Vec<String> = articles.iter().map(|a| first_line(&a.title, 200)).collect();
    let words_w = words.iter().map(|w| w.len()).max().unwrap_or(0).max(5);
    let tags_natural = articles
        .iter()
        .map(|a| output::display_width(&a.tags.join(",")))
        .max()
        .unwrap_or(0)
        .max(4);
    // ID, CLIPPED, READ and WORDS, each with the two spaces after it.
    let fixed = 8 + 2 + 10 + 2 + 4 + 2 + words_w + 2;
    let (tags_w, title_w) = match width {
        None => (tags_natural, usize::MAX),
        Some(w) => {
            let room = w.saturating_sub(fixed + 2);
            // Tags take what they need up to a third of the room; the
            // title, what people read, the rest.
            let tags_w = tags_natural.min((room / 3).max(4));
            (tags_w, room.saturating_sub(tags_w).max(10))
        }
    };
    let mut out = format!(
        "{:<8}  {:<10}  {:<4}  {:<words_w$}  {}  TITLE\n",
        "ID",
        "CLIPPED",
        "READ",
        "WORDS",
        output::pad("TAGS", tags_w)
    );
    for ((a, words), title) in articles.iter().zip(&words).zip(&titles) {
        let tags = output::shorten_list(&a.tags, tags_w);
        let line = format!(
            "{:<8}  {:<10}  {:<4}  {:<words_w$}  {}  {}",
            short_id(&a.id),
            a.clipped_at.local_date(),
            if a.read_at.is_some() { "✓" } else { "" },
            words,
            output::pad(&tags, tags_w),
            output::shorten(title, title_w)
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
