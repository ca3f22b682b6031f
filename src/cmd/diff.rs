//! `nj versions` and `nj diff`: an article's text versions, and what changed between two.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;
use newsjournal::content::line_diff;
use newsjournal::journal::{short_id, Version};
use serde::Serialize;

use super::output;
use super::Ctx;

/// List the versions of an article's text
#[derive(Debug, Args)]
pub struct Versions {
    /// The article's id
    id: String,
}

impl Versions {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let journal = ctx.journal()?;
        let article = journal.resolve_article(&self.id)?;
        let versions = journal.versions_with_changes(&article)?;
        if ctx.json {
            output::json(&versions)?;
            return Ok(ExitCode::SUCCESS);
        }
        let mut t = output::table(&["VERSION", "DATE", "WORDS", "CHANGE", "HASH"]);
        for v in &versions {
            let change = match v.change {
                None => String::new(),
                Some(c) => format!(
                    "+{} -{}{}",
                    c.words_added,
                    c.words_removed,
                    if c.minor { " minor" } else { "" }
                ),
            };
            t.add_row(vec![
                v.number.to_string(),
                v.created_at.local(),
                v.word_count.to_string(),
                change,
                v.content_hash.clone(),
            ]);
        }
        output::print_table(&t)?;
        Ok(ExitCode::SUCCESS)
    }
}

/// Show how an article's text changed between two versions
#[derive(Debug, Args)]
pub struct Diff {
    /// The article's id
    id: String,

    /// The older version (default: the one before --to)
    #[arg(long, value_name = "N")]
    from: Option<usize>,

    /// The newer version (default: the latest)
    #[arg(long, value_name = "N")]
    to: Option<usize>,

    /// Compare the article's current text with the copy clipped from this
    /// URL instead
    #[arg(long, value_name = "URL", conflicts_with_all = ["from", "to"])]
    copy: Option<String>,
}

#[derive(Serialize)]
struct DiffJson<'a> {
    from: &'a Version,
    to: &'a Version,
    lines_added: usize,
    lines_removed: usize,
    diff: String,
}

impl Diff {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let journal = ctx.journal()?;
        let article = journal.resolve_article(&self.id)?;
        if let Some(url) = &self.copy {
            let detail = journal.detail(&article)?;
            let copy = super::show::copy_of(&detail, url)?;
            let old = journal.text(&detail.article.content_hash)?;
            let new = journal.text(&copy.content_hash)?;
            let d = line_diff(
                &old,
                &new,
                &format!("{} {}", short_id(&article.id), detail.article.content_hash),
                &format!("copy {url} {}", copy.content_hash),
            );
            let json = CopyDiffJson {
                copy,
                lines_added: d.added,
                lines_removed: d.removed,
                diff: &d.unified,
            };
            return print_diff(ctx, d.added, d.removed, &d.unified, &json);
        }
        let versions = journal.versions(&article)?;
        let short = short_id(&article.id);
        let pick = |n: usize| -> Result<&Version> {
            match versions.iter().find(|v| v.number == n) {
                Some(v) => Ok(v),
                None => bail!(
                    "{short} has no version {n}; it has {} (see `nj versions {short}`)",
                    versions.len()
                ),
            }
        };
        if versions.len() < 2 && self.from.is_none() {
            bail!("{short} has only one version, so there is nothing to compare; `nj clip` its URL again to record a new one");
        }
        let to = pick(self.to.unwrap_or(versions.len()))?;
        let from = pick(self.from.unwrap_or(to.number.saturating_sub(1).max(1)))?;
        let old = journal.text(&from.content_hash)?;
        let new = journal.text(&to.content_hash)?;
        let d = line_diff(
            &old,
            &new,
            &format!("version {} {}", from.number, from.content_hash),
            &format!("version {} {}", to.number, to.content_hash),
        );
        let json = DiffJson {
            from,
            to,
            lines_added: d.added,
            lines_removed: d.removed,
            diff: d.unified.clone(),
        };
        print_diff(ctx, d.added, d.removed, &d.unified, &json)
    }
}

#[derive(Serialize)]
struct CopyDiffJson<'a> {
    copy: &'a newsjournal::journal::CopySource,
    lines_added: usize,
    lines_removed: usize,
    diff: &'a str,
}

/// Prints a unified diff (coloured on a terminal) and its counts, or
/// `json`.
fn print_diff(
    ctx: &Ctx,
    added: usize,
    removed: usize,
    unified: &str,
    json: &impl Serialize,
) -> Result<ExitCode> {
    if ctx.json {
        output::json(json)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut s = String::new();
    let color = output::color();
    for line in unified.lines() {
        let painted = match line.as_bytes().first() {
            _ if !color => line.to_owned(),
            Some(b'+') if !line.starts_with("+++") => {
                format!("{}{line}{}", output::GREEN, output::RESET)
            }
            Some(b'-') if !line.starts_with("---") => {
                format!("{}{line}{}", output::RED, output::RESET)
            }
            Some(b'@') => format!("{}{line}{}", output::CYAN, output::RESET),
            _ => line.to_owned(),
        };
        let _ = writeln!(s, "{painted}");
    }
    let _ = writeln!(s, "{added} lines added, {removed} removed");
    output::page(&s, ctx.config.pager(&ctx.settings))?;
    Ok(ExitCode::SUCCESS)
}
