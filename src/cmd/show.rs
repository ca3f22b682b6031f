//! `nj show`: one article's metadata, text, notes and versions.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;
use newsjournal::journal::{
    short_id, ArticleDetail, CopySource, Followup, FollowupFilter, FollowupStatus, Related, Story,
};
use serde::Serialize;

use super::output;
use super::Ctx;

/// Show an article: metadata, text, notes and versions
#[derive(Debug, Args)]
pub struct Show {
    /// The article's id (4 or more characters of it)
    id: String,

    /// Print only the stored text, exactly the bytes that were hashed
    #[arg(long)]
    text: bool,

    /// Show this version's text (1 is the first; default: the latest)
    #[arg(long, value_name = "N", conflicts_with = "copy")]
    version: Option<usize>,

    /// Show the text of the copy clipped from this URL (see the article's
    /// "copy" lines)
    #[arg(long, value_name = "URL")]
    copy: Option<String>,
}

#[derive(Serialize)]
struct ShowJson<'a> {
    #[serde(flatten)]
    detail: &'a ArticleDetail,
    followups: &'a [Followup],
    /// The stories it is in (left out when none).
    #[serde(skip_serializing_if = "<[Story]>::is_empty")]
    stories: &'a [Story],
    text: &'a str,
}

impl Show {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let journal = ctx.journal()?;
        let article = journal.resolve_article(&self.id)?;
        let detail = journal.detail(&article)?;
        let hash = match (self.version, &self.copy) {
            (_, Some(url)) => copy_of(&detail, url)?.content_hash.clone(),
            (None, None) => detail.article.content_hash.clone(),
            (Some(n), None) => match detail.versions.iter().find(|v| v.number == n) {
                Some(v) => v.content_hash.clone(),
                None => bail!(
                    "{} has no version {n}; it has {} (see `nj versions {}`)",
                    short_id(&detail.article.id),
                    detail.versions.len(),
                    short_id(&detail.article.id)
                ),
            },
        };
        let text = journal.text(&hash)?;
        let followups = journal.followups(&FollowupFilter {
            status: None,
            article: Some(article.clone()),
        })?;
        if self.text {
            output::print_exact(&text)?;
            return Ok(ExitCode::SUCCESS);
        }
        let stories = journal.stories_of(&article)?;
        if ctx.json {
            output::json(&ShowJson {
                detail: &detail,
                followups: &followups,
                stories: &stories,
                text: &text,
            })?;
        } else {
            // The story's other articles close the page.
            let related = journal.related(&article, 3)?;
            output::page(
                &render(
                    &detail,
                    &followups,
                    &text,
                    self.version,
                    self.copy.as_deref(),
                    &related,
                    &stories,
                ),
                ctx.config.pager(&ctx.settings),
            )?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// The copy of the article clipped from `url`, or why there is none.
pub fn copy_of<'d>(d: &'d ArticleDetail, url: &str) -> Result<&'d CopySource> {
    let short = short_id(&d.article.id);
    // A page clipped again after it changed has a copy a time: the latest.
    match d
        .copies
        .iter()
        .rev()
        .find(|c| c.url.as_deref() == Some(url))
    {
        Some(c) => Ok(c),
        None if d.copies.is_empty() => bail!("{short} has no copies folded into it"),
        None => {
            let mut urls: Vec<&str> = d
                .copies
                .iter()
                .map(|c| c.url.as_deref().unwrap_or("(a file or stdin)"))
                .collect();
            urls.dedup();
            bail!(
                "{short} has no copy from {url}; its copies are from: {}",
                urls.join(", ")
            )
        }
    }
}

fn render(
    d: &ArticleDetail,
    followups: &[Followup],
    text: &str,
    version: Option<usize>,
    copy: Option<&str>,
    related: &[Related],
    stories: &[Story],
) -> String {
    let a = &d.article;
    let width = output::term_width().clamp(40, 100);
    let mut s = String::new();
    let _ = writeln!(s, "{}", output::bold(&a.title));
    let mut field = |name: &str, value: &str| {
        let _ = writeln!(s, "{}{value}", output::dim(&format!("{name:<11}")));
    };
    field("id", &a.id);
    if let Some(u) = &a.url {
        field("url", u);
    }
    for u in a.urls.iter().filter(|u| Some(*u) != a.url.as_ref()) {
        field("also at", u);
    }
    if let Some(v) = &a.site {
        field("site", v);
    }
    if let Some(v) = &a.author {
        field("author", v);
    }
    if let Some(v) = a.published_at {
        field("published", &v.local());
    }
    field("clipped", &a.clipped_at.local());
    if !a.tags.is_empty() {
        field("tags", &a.tags.join(", "));
    }
    for st in stories {
        let closed = if st.closed_at.is_some() {
            " (closed)"
        } else {
            ""
        };
        field("story", &format!("{}  {}{closed}", st.name, st.title));
    }
    if let Some(t) = a.read_at {
        field("read", &t.local());
    }
    if a.pending {
        field(
            "text",
            "not fetched yet (imported as a bookmark); `nj fetch --pending` fetches it",
        );
    } else {
        field("words", &a.word_count.to_string());
        field("hash", &a.content_hash);
    }
    if a.deleted_at.is_some() {
        field(
            "status",
            &format!(
                "in the bin; `nj restore {}` brings it back",
                short_id(&a.id)
            ),
        );
    }
    for c in &d.copies {
        let percent = (c.similarity * 100.0).floor();
        field(
            "copy",
            &format!(
                "{percent}% alike  {}  {}",
                c.content_hash,
                c.url.as_deref().unwrap_or("(a file or stdin)")
            ),
        );
    }
    if let Some(n) = version {
        field("showing", &format!("version {n} of {}", d.versions.len()));
    }
    if let Some(url) = copy {
        field("showing", &format!("the copy from {url}"));
    }
    s.push('\n');
    for line in text.lines() {
        if line.is_empty() {
            s.push('\n');
            continue;
        }
        for w in textwrap::wrap(line, width) {
            s.push_str(&w);
            s.push('\n');
        }
    }
    if !d.notes.is_empty() {
        let _ = writeln!(s, "\n{}", output::bold("Notes"));
        for n in &d.notes {
            let _ = writeln!(
                s,
                "  {} {}",
                output::dim(short_id(&n.id)),
                output::dim(&n.created_at.local())
            );
            for line in n.text.lines() {
                for w in textwrap::wrap(line, width.saturating_sub(4).max(20)) {
                    let _ = writeln!(s, "    {w}");
                }
            }
            for (i, c) in n.conflicts.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "    {}",
                    output::dim(&format!(
                        "also written, on another device at the same time ({}: nj notes pick {} {}):",
                        i + 1,
                        short_id(&n.id),
                        i + 1
                    ))
                );
                for line in c.lines() {
                    for w in textwrap::wrap(line, width.saturating_sub(6).max(20)) {
                        let _ = writeln!(s, "      {w}");
                    }
                }
            }
        }
    }
    if !followups.is_empty() {
        let _ = writeln!(s, "\n{}", output::bold("Follow-ups"));
        for f in followups {
            let state = match f.status {
                FollowupStatus::Open => format!("due {}", f.due_at.local()),
                FollowupStatus::Done => "done".to_owned(),
            };
            let every = f
                .every
                .as_deref()
                .map(|e| format!(", every {e}"))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "  {}  {state}{every}  {}",
                output::dim(short_id(&f.id)),
                f.text
            );
        }
    }
    if !d.versions.is_empty() {
        let _ = writeln!(s, "\n{}", output::bold("Versions"));
    }
    for v in &d.versions {
        let _ = writeln!(
            s,
            "  {:>3}  {}  {:>6} words  {}",
            v.number,
            v.created_at.local(),
            v.word_count,
            v.content_hash
        );
    }
    if !related.is_empty() {
        let _ = writeln!(s, "\n{}", output::bold("Related"));
        for line in super::related::lines(related, width.saturating_sub(2)).lines() {
            let _ = writeln!(s, "  {line}");
        }
    }
    s
}
