//! `nj clip`: store an article from a URL, a file or stdin, with its tags, note and follow-up.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use newsjournal::clip::{self, FetchOptions, LoadOptions, Source};
use newsjournal::journal::{short_id, ClipOutcome, ClipStatus, Followup, NewClip, Story};
use serde::Serialize;

use super::followup::{describe_new, due_and_every, DEFAULT_TEXT};
use super::output;
use super::Ctx;

#[derive(Serialize)]
struct ClipJson<'a> {
    #[serde(flatten)]
    outcome: &'a ClipOutcome,
    followup: Option<&'a Followup>,
    /// The story `--story` filed it into.
    #[serde(skip_serializing_if = "Option::is_none")]
    story: Option<&'a Story>,
    /// Without `--story`: an open story it seems to belong with.
    #[serde(skip_serializing_if = "Option::is_none")]
    suggested_story: Option<Suggested<'a>>,
}

#[derive(Serialize)]
struct Suggested<'a> {
    story: &'a Story,
    shares: &'a [String],
}

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

    /// Add a follow-up saying what to check (needs --due)
    #[arg(long, value_name = "TEXT", requires = "due")]
    follow_up: Option<String>,

    /// When the follow-up is due: friday, in 3 weeks, 2026-12-01, ...
    #[arg(long, value_name = "WHEN")]
    due: Option<String>,

    /// Repeat the follow-up this long after each time it is done (1w, 1mo)
    #[arg(long, value_name = "INTERVAL", requires = "due")]
    every: Option<String>,

    /// File it into this story (its short name, an id prefix, or the
    /// start of its name)
    #[arg(long, value_name = "STORY")]
    story: Option<String>,

    /// Keep a near-copy of an article already in the journal (a
    /// syndicated copy) as an article of its own, instead of folding it
    /// into that one as another source
    #[arg(long)]
    separate: bool,

    #[command(flatten)]
    timeout: super::Timeout,
}

impl Clip {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let timeout = self.timeout.duration()?;
        let opts = LoadOptions {
            fetch: FetchOptions {
                timeout,
                ..FetchOptions::default()
            },
            title: self.title,
            url: self.url,
        };
        // Read WHEN first: a typo should not cost a fetch.
        let follow_up = match &self.due {
            Some(_) => Some(due_and_every(
                ctx,
                self.due.as_deref(),
                self.every.as_deref(),
            )?),
            None => None,
        };
        // And the story: a typo should not cost a fetch either. The journal
        // it is in (which must exist) is the one the clip goes to.
        let (opened, story) = match &self.story {
            Some(name) => {
                let journal = ctx.journal()?;
                let story = journal.resolve_story(name, false)?;
                (Some(journal), Some(story))
            }
            None => (None, None),
        };
        // Read and extract before opening the journal: a failed fetch then
        // leaves no trace, and a slow one holds no lock.
        let page = clip::load(&Source::parse(&self.source), &opts, std::io::stdin().lock())?;
        let mut journal = match opened {
            Some(journal) => journal,
            None => ctx.journal_or_create()?,
        };
        let clip = NewClip {
            tags: self.tags,
            note: self.note,
            separate: self.separate,
            ..page.into_clip()
        };
        let text = self.follow_up.unwrap_or_else(|| DEFAULT_TEXT.to_owned());
        let (outcome, followup) = journal.write(ctx.clock.timestamp(), |tx| {
            let outcome = tx.clip(&clip)?;
            let followup = match follow_up {
                Some((due, every)) => {
                    Some(tx.create_followup(Some(&outcome.article.as_ref()), &text, due, every)?)
                }
                None => None,
            };
            if let Some(s) = &story {
                tx.add_to_story(&s.as_ref(), &outcome.article.as_ref())?;
            }
            Ok((outcome, followup))
        })?;
        let followup = followup.map(|f| journal.followup(&f)).transpose()?;
        let suggestion = match &story {
            Some(_) => None,
            None => journal.story_suggestion(&outcome.article.as_ref())?,
        };
        if ctx.json {
            output::json(&ClipJson {
                outcome: &outcome,
                followup: followup.as_ref(),
                story: story.as_ref(),
                suggested_story: suggestion
                    .as_ref()
                    .map(|(story, shares)| Suggested { story, shares }),
            })?;
        } else {
            let mut s = describe(&outcome, followup.is_some());
            if let Some(f) = &followup {
                s.push_str(&format!("  {}\n", describe_new(f)));
            }
            if let Some(st) = &story {
                s.push_str(&format!("  in story {}: {}\n", st.name, st.title));
            }
            if let Some((st, shares)) = &suggestion {
                s.push_str(&format!(
                    "  related to story \"{}\" (shares {}): nj story add {} {}\n",
                    st.title,
                    shares.join(", "),
                    st.name,
                    outcome.article.short_id()
                ));
            }
            output::print(&s)?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// What a clip did; `followup_added` when `--due` added a follow-up, which
/// a duplicate or a copy counts among what it merged.
fn describe(o: &ClipOutcome, followup_added: bool) -> String {
    let a = &o.article;
    let id = output::bold(short_id(&a.id));
    // A copy's message names its URL alone: "(added https://...)".
    let merged = |url_label: &str| {
        let mut merged = Vec::new();
        if !o.tags_added.is_empty() {
            merged.push(format!("added tags {}", o.tags_added.join(", ")));
        }
        if !o.urls_added.is_empty() {
            merged.push(format!("added {url_label}{}", o.urls_added.join(", ")));
        }
        if o.note_added {
            merged.push("added the note".to_owned());
        }
        if o.restored {
            merged.push("brought it back from the bin".to_owned());
        }
        if followup_added {
            merged.push("added the follow-up".to_owned());
        }
        merged
    };
    let mut s = match o.status {
        ClipStatus::New => format!("clipped {id}: {}\n", a.title),
        ClipStatus::Duplicate => {
            let merged = merged("URL ");
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
        ClipStatus::Copy => {
            let percent = (o.similarity.unwrap_or_default() * 100.0).floor();
            let merged = merged("");
            let merged = if merged.is_empty() {
                String::new()
            } else {
                format!(" ({})", merged.join("; "))
            };
            format!(
                "copy of {id} ({percent}% the same text): {}{merged}\n",
                a.title
            )
        }
    };
    if let (ClipStatus::Copy, Some(copy)) = (o.status, &o.copy_hash) {
        // The copy's own text, which stays as it was clipped.
        s.push_str(&format!(
            "  {copy} (this copy's text; `nj clip --separate` keeps a copy apart)\n"
        ));
    } else {
        s.push_str(&format!("  {}\n", a.content_hash));
    }
    if o.status == ClipStatus::New && !a.tags.is_empty() {
        s.push_str(&format!("  tags: {}\n", a.tags.join(", ")));
    }
    s
}

#[cfg(test)]
mod tests {
    use clap::error::ErrorKind;

    use super::Clip;
    use crate::cmd::tests::{command_of, parse_with, refused};
    use crate::cmd::Command;

    fn clip(args: &[&str]) -> Clip {
        match command_of(&[&["clip"], args].concat()) {
            Command::Clip(c) => c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sources_dashes_and_multi_word_values() {
        assert_eq!(clip(&["-"]).source, "-");
        // A file whose name starts with a dash, after `--`.
        assert_eq!(clip(&["--", "-odd.html"]).source, "-odd.html");
        assert_eq!(refused(&["clip", "-odd.html"]), ErrorKind::UnknownArgument);
        let c = clip(&["x.html", "-t", "a", "--tag", "b", "--due", "in 2 weeks"]);
        assert_eq!(c.tags, ["a", "b"]);
        assert_eq!(c.due.as_deref(), Some("in 2 weeks"));
        // Unquoted, the rest of a WHEN is a stray argument.
        assert_eq!(
            refused(&["clip", "x.html", "--due", "in", "2", "weeks"]),
            ErrorKind::UnknownArgument
        );
    }

    #[test]
    fn a_follow_up_or_a_repeat_needs_due() {
        for extra in ["--follow-up", "--every"] {
            assert_eq!(
                refused(&["clip", "x.html", extra, "x"]),
                ErrorKind::MissingRequiredArgument,
                "{extra}"
            );
        }
        let c = clip(&[
            "x.html",
            "--follow-up",
            "check",
            "--due",
            "friday",
            "--every",
            "1w",
        ]);
        assert_eq!(c.follow_up.as_deref(), Some("check"));
        assert_eq!(c.every.as_deref(), Some("1w"));
    }

    #[test]
    fn timeout_forms_and_nj_timeout() {
        let secs = |vars: &[(&str, &str)], args: &[&str]| match parse_with(
            vars,
            &[&["clip", "x.html"], args].concat(),
        ) {
            Ok(cli) => match cli.command {
                Command::Clip(c) => c.timeout.timeout,
                other => panic!("{other:?}"),
            },
            Err(e) => panic!("{args:?}: {e}"),
        };
        assert_eq!(secs(&[], &[]), 30.0);
        assert_eq!(secs(&[], &["--timeout", "5"]), 5.0);
        assert_eq!(secs(&[], &["--timeout=2.5"]), 2.5);
        assert_eq!(secs(&[("NJ_TIMEOUT", "7")], &[]), 7.0);
        assert_eq!(secs(&[("NJ_TIMEOUT", "7")], &["--timeout", "3"]), 3.0);
        // A negative number is read only joined with `=` (alone, `-1` is
        // an option), and then refused before anything is fetched.
        assert_eq!(
            refused(&["clip", "x.html", "--timeout", "-1"]),
            ErrorKind::UnknownArgument
        );
        let negative = clip(&["x.html", "--timeout=-1"]).timeout.duration();
        assert_eq!(
            negative.unwrap_err().to_string(),
            "--timeout -1 is not a positive number of seconds"
        );
        for zero_or_worse in ["0", "NaN", "inf"] {
            let c = clip(&["x.html", "--timeout", zero_or_worse]);
            assert!(c.timeout.duration().is_err(), "{zero_or_worse}");
        }
        assert_eq!(
            clip(&["x.html", "--timeout", "0.5"])
                .timeout
                .duration()
                .unwrap(),
            std::time::Duration::from_millis(500)
        );
        assert_eq!(
            refused(&["clip", "x.html", "--timeout"]),
            ErrorKind::InvalidValue
        );
        // NJ_TIMEOUT set to nothing is not a number either (unlike nj's
        // other variables, which count as unset then).
        let e = parse_with(&[("NJ_TIMEOUT", "")], &["clip", "x.html"]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValueValidation);
    }
}
