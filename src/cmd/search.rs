//! `nj search`: full-text search over titles, texts, notes and tags.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use newsjournal::journal::{normalize_tag, short_id, SearchHitKind, SearchQuery};
use newsjournal::time::{parse_since, parse_until, Timestamp};

use super::output;
use super::Ctx;

/// Full-text search over titles, text, notes and tags
///
/// The query uses SQLite FTS5 syntax: words must all match, "a phrase" in
/// double quotes, prefix* matches word starts, and AND, OR, NOT and
/// parentheses combine terms. title:word searches one field (title, body,
/// notes, tags). Results are ranked best first.
#[derive(Debug, Args)]
pub struct Search {
    /// What to look for, e.g. 'jedi court', '"contract award"', 'pentag*'
    #[arg(required = true, num_args = 1..)]
    query: Vec<String>,

    /// Only articles with this tag
    #[arg(short = 't', long)]
    tag: Option<String>,

    /// Only articles clipped, and journal notes written, since WHEN
    /// (2026-11-01, yesterday, 7d, 2 weeks ago)
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,

    /// Only those clipped or written before WHEN; a date includes that day
    #[arg(long, value_name = "WHEN")]
    until: Option<String>,

    /// Show at most N hits (0 for all)
    #[arg(short = 'l', long, value_name = "N", default_value_t = 20)]
    limit: usize,

    /// Only the articles of this story, and its own notes (its short
    /// name, an id prefix, or the start of its name)
    #[arg(long, value_name = "STORY")]
    story: Option<String>,
}

impl Search {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let mut journal = ctx.journal()?;
        // A large pull that was interrupted left the index to rebuild.
        if journal.index_is_stale()? {
            eprintln!("nj: finishing the search index an interrupted sync left unbuilt…");
            journal.finish_index()?;
        }
        let color = output::color() && !ctx.json;
        let mark = if color {
            (output::MARK.to_owned(), output::RESET.to_owned())
        } else {
            ("**".to_owned(), "**".to_owned())
        };
        let query = self.query.join(" ");
        let now = ctx.clock.now();
        let since = self
            .since
            .as_deref()
            .map(|s| parse_since(s, now))
            .transpose()?;
        let until = self
            .until
            .as_deref()
            .map(|s| parse_until(s, now))
            .transpose()?;
        let hits = journal.search(&SearchQuery {
            query: query.clone(),
            tag: self.tag.as_deref().and_then(normalize_tag),
            story: match &self.story {
                Some(name) => Some(journal.resolve_story(name, false)?.id),
                None => None,
            },
            since: since.map(Timestamp::from_datetime),
            until: until.map(Timestamp::from_datetime),
            limit: self.limit,
            mark,
        })?;
        if ctx.json {
            output::json(&hits)?;
            return Ok(ExitCode::SUCCESS);
        }
        if hits.is_empty() {
            // As typed: a phrase's own quotes are not escaped.
            if query.contains('"') {
                eprintln!("no matches for '{query}'");
            } else {
                eprintln!("no matches for \"{query}\"");
            }
            return Ok(ExitCode::SUCCESS);
        }
        let mut s = String::new();
        for h in &hits {
            match h.kind {
                SearchHitKind::Article => {
                    let a = h.article.as_ref().expect("article hit has an article");
                    let _ = writeln!(
                        s,
                        "{}  {}  {}",
                        output::bold(short_id(&a.id)),
                        a.clipped_at.local_date(),
                        a.title
                    );
                }
                SearchHitKind::Note => {
                    let n = h.note.as_ref().expect("note hit has a note");
                    let on = match &n.story {
                        Some(story) => format!("note on story {story}"),
                        None => "journal note".to_owned(),
                    };
                    let _ = writeln!(
                        s,
                        "{}  {}  {on}",
                        output::bold(short_id(&n.id)),
                        n.created_at.local_date()
                    );
                }
            }
            let snippet = h.snippet.split_whitespace().collect::<Vec<_>>().join(" ");
            let _ = writeln!(s, "    {snippet}");
        }
        output::print(&s)?;
        Ok(ExitCode::SUCCESS)
    }
}

#[cfg(test)]
mod tests {
    use clap::error::ErrorKind;

    use super::Search;
    use crate::cmd::tests::{command_of, refused};
    use crate::cmd::Command;

    fn search(args: &[&str]) -> Search {
        match command_of(&[&["search"], args].concat()) {
            Command::Search(s) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn query_words_phrases_and_dashes() {
        assert_eq!(search(&["jedi", "court"]).query, ["jedi", "court"]);
        assert_eq!(
            search(&["\"contract award\"", "-t", "court"]).query,
            ["\"contract award\""]
        );
        // A query that starts with a dash, after `--`.
        assert_eq!(search(&["--", "-draft"]).query, ["-draft"]);
        assert_eq!(refused(&["search", "-draft"]), ErrorKind::UnknownArgument);
        assert_eq!(refused(&["search"]), ErrorKind::MissingRequiredArgument);
        assert_eq!(
            refused(&["search", "-t", "court"]),
            ErrorKind::MissingRequiredArgument
        );
    }

    #[test]
    fn since_and_until_take_a_quoted_when() {
        let s = search(&["x", "--since", "2 weeks ago", "--until=yesterday"]);
        assert_eq!(s.since.as_deref(), Some("2 weeks ago"));
        assert_eq!(s.until.as_deref(), Some("yesterday"));
        // Unquoted, the rest of the WHEN joins the query.
        let s = search(&["x", "--since", "2", "weeks", "ago"]);
        assert_eq!(s.since.as_deref(), Some("2"));
        assert_eq!(s.query, ["x", "weeks", "ago"]);
    }
}
