//! `nj list`: the articles, as a table fitted to the terminal.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use newsjournal::content::first_line;
use newsjournal::journal::{normalize_tag, short_id, Article, ListFilter, ListSort};
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

    /// Only the articles in this story (its short name, an id prefix, or
    /// the start of its name)
    #[arg(long, value_name = "STORY")]
    story: Option<String>,
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
            story: None,
        };
        let journal = ctx.journal()?;
        let filter = ListFilter {
            story: match &self.story {
                Some(name) => Some(journal.resolve_story(name, false)?.id),
                None => None,
            },
            ..filter
        };
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
            let filtered = !filter.tags.is_empty() || since.is_some() || self.read || self.unread;
            let msg = if self.pending {
                "no pending bookmarks: every article has its text"
            } else if self.removed && filtered {
                "no articles in the bin match"
            } else if self.removed {
                "the bin is empty"
            } else if filtered {
                "no articles match"
            } else if in_bin {
                "no articles outside the bin; `nj list --removed` shows the bin"
            } else {
                "no articles yet; clip one with `nj clip URL`"
            };
            eprintln!("{msg}");
            return Ok(ExitCode::SUCCESS);
        }
        let columns: Vec<&str> = match &ctx.config.list.columns {
            Some(c) => c.iter().map(String::as_str).collect(),
            None => DEFAULT_COLUMNS.to_vec(),
        };
        output::print(&table(&articles, &columns, output::fit_width()))?;
        if more {
            eprintln!(
                "showing the {} {}; use --limit N for more, or --limit 0 for all",
                if matches!(self.sort, Sort::Clipped) {
                    "newest"
                } else {
                    "first"
                },
                articles.len()
            );
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// The columns shown when the config names none.
const DEFAULT_COLUMNS: &[&str] = &["id", "clipped", "read", "words", "tags", "title"];

/// The list as a table of `columns` (see [`super::config::LIST_COLUMNS`]),
/// two spaces apart. With a `width`, the tags and then the title (the
/// columns that grow) are shortened to fit it, at a tag or word, with "…".
fn table(articles: &[Article], columns: &[&str], width: Option<usize>) -> String {
    // Each column's header and cells; tags are kept as lists to shorten.
    let cell = |a: &Article, col: &str| -> String {
        match col {
            "id" => short_id(&a.id).to_owned(),
            "clipped" => a.clipped_at.local_date(),
            "published" => a.published_at.map(|p| p.local_date()).unwrap_or_default(),
            "read" => if a.read_at.is_some() { "✓" } else { "" }.to_owned(),
            "words" if a.pending => "pending".to_owned(),
            "words" => a.word_count.to_string(),
            "tags" => a.tags.join(","),
            "site" => a.site.clone().unwrap_or_default(),
            "title" => first_line(&a.title, 200),
            _ => String::new(),
        }
    };
    let cells: Vec<Vec<String>> = articles
        .iter()
        .map(|a| columns.iter().map(|c| cell(a, c)).collect())
        .collect();
    let headers: Vec<String> = columns.iter().map(|c| c.to_uppercase()).collect();
    let mut widths: Vec<usize> = (0..columns.len())
        .map(|i| {
            cells
                .iter()
                .map(|row| output::display_width(&row[i]))
                .chain(std::iter::once(output::display_width(&headers[i])))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let tags = columns.iter().position(|c| *c == "tags");
    let title = columns.iter().position(|c| *c == "title");
    if let Some(w) = width {
        let gaps = 2 * columns.len().saturating_sub(1);
        let fixed: usize = widths
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != tags && Some(*i) != title)
            .map(|(_, w)| w)
            .sum();
        let mut room = w.saturating_sub(fixed + gaps);
        // Tags take what they need up to a third of the room; the title,
        // what people read, the rest.
        if let Some(t) = tags {
            let share = if title.is_some() {
                (room / 3).max(4)
            } else {
                room.max(4)
            };
            widths[t] = widths[t].min(share);
            room = room.saturating_sub(widths[t]);
        }
        if let Some(t) = title {
            widths[t] = widths[t].min(room.max(10));
        }
    }
    let mut out = String::new();
    let mut line = |row: Vec<String>| {
        let last = row.len().saturating_sub(1);
        let mut l = String::new();
        for (i, c) in row.into_iter().enumerate() {
            if i < last {
                l.push_str(&output::pad(&c, widths[i]));
                l.push_str("  ");
            } else {
                l.push_str(&c);
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(headers);
    for (a, row) in articles.iter().zip(cells) {
        let row = row
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                if Some(i) == tags {
                    output::shorten_list(&a.tags, widths[i])
                } else if Some(i) == title {
                    output::shorten(&c, widths[i])
                } else {
                    c
                }
            })
            .collect();
        line(row);
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::error::ErrorKind;

    use super::List;
    use crate::cmd::tests::{command_of, refused};
    use crate::cmd::Command;

    fn list(args: &[&str]) -> List {
        match command_of(&[&["list"], args].concat()) {
            Command::List(l) => l,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn filters_and_their_mistakes() {
        let l = list(&["-t", "court", "--tag", "jedi", "--any-tag", "-l", "0"]);
        assert_eq!(l.tags, ["court", "jedi"]);
        assert!(l.any_tag);
        assert_eq!(l.limit, 0);
        assert_eq!(
            list(&["--since", "2 weeks ago"]).since.as_deref(),
            Some("2 weeks ago")
        );
        // A WHEN that starts with a dash is read only joined with `=`.
        assert_eq!(list(&["--since=-3d"]).since.as_deref(), Some("-3d"));
        assert_eq!(
            refused(&["list", "--since", "-3d"]),
            ErrorKind::UnknownArgument
        );
        assert_eq!(
            refused(&["list", "--read", "--unread"]),
            ErrorKind::ArgumentConflict
        );
        assert_eq!(
            refused(&["list", "--any-tag"]),
            ErrorKind::MissingRequiredArgument
        );
        assert_eq!(
            refused(&["list", "--sort", "size"]),
            ErrorKind::InvalidValue
        );
        assert_eq!(refused(&["list", "-l", "-1"]), ErrorKind::UnknownArgument);
        assert_eq!(refused(&["list", "-l", "all"]), ErrorKind::ValueValidation);
    }
}
