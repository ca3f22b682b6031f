//! `nj tag`, `title`, `tags`, `rm` and `restore`: tags and titles, the tag list, and the bin.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use newsjournal::journal::{short_id, Article, ArticleRef, Tx};

use super::output;
use super::Ctx;

/// Add and remove tags: nj tag ID +court -draft jedi
#[derive(Debug, Args)]
pub struct Tag {
    /// The article's id
    id: String,

    /// +TAG or TAG adds, -TAG removes; none shows the tags
    #[arg(allow_hyphen_values = true, value_name = "[+|-]TAG")]
    changes: Vec<String>,
}

impl Tag {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let mut add = Vec::new();
        let mut remove = Vec::new();
        // Tag changes may start with '-', so options after them would be
        // read as tags; say so instead of removing a tag called "-json".
        if let Some(opt) = self.changes.iter().find(|c| c.starts_with("--")) {
            anyhow::bail!(
                "{opt} after the tag changes is read as a tag; put options before the id, e.g. nj tag --json ID +a -b"
            );
        }
        for c in &self.changes {
            if let Some(t) = c.strip_prefix('-') {
                remove.push(t.to_owned());
            } else {
                add.push(c.strip_prefix('+').unwrap_or(c).to_owned());
            }
        }
        let mut journal = ctx.journal()?;
        let article = journal.resolve_article(&self.id)?;
        let (added, removed) = journal.write(ctx.clock.timestamp(), |tx| {
            tx.retag(&article, &add, &remove)
        })?;
        let a = journal.article(&article)?;
        if ctx.json {
            output::json(&serde_json::json!({
                "id": a.id, "tags": a.tags, "added": added, "removed": removed
            }))?;
            return Ok(ExitCode::SUCCESS);
        }
        let mut parts = Vec::new();
        if !added.is_empty() {
            parts.push(format!("added {}", added.join(", ")));
        }
        if !removed.is_empty() {
            parts.push(format!("removed {}", removed.join(", ")));
        }
        if parts.is_empty() && !self.changes.is_empty() {
            parts.push("no change".to_owned());
        }
        let tags = if a.tags.is_empty() {
            "(none)".to_owned()
        } else {
            a.tags.join(", ")
        };
        parts.push(format!("tags: {tags}"));
        output::print(&format!("{}: {}\n", short_id(&a.id), parts.join("; ")))?;
        Ok(ExitCode::SUCCESS)
    }
}

/// Give an article a better title: nj title ID New title words
#[derive(Debug, Args)]
pub struct Title {
    /// The article's id
    id: String,
    /// The new title
    #[arg(required = true, num_args = 1..)]
    title: Vec<String>,
}

impl Title {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let mut journal = ctx.journal()?;
        let article = journal.resolve_article(&self.id)?;
        let title = self.title.join(" ");
        journal.write(ctx.clock.timestamp(), |tx| tx.set_title(&article, &title))?;
        let a = journal.article(&article)?;
        if ctx.json {
            output::json(&a)?;
        } else {
            output::print(&format!("{}: {}\n", short_id(&a.id), a.title))?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// List tags with how many articles carry each; rename and merge them
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Tags {
    #[command(subcommand)]
    action: Option<TagsAction>,
}

#[derive(Debug, Subcommand)]
enum TagsAction {
    /// Rename a tag on every article that has it (synced)
    Rename {
        /// The tag now
        old: String,
        /// Its new name; must not be in use (see merge)
        new: String,
    },
    /// Put the articles tagged FROM under INTO, and drop FROM (synced)
    Merge {
        /// The tag that goes
        from: String,
        /// The tag that stays
        into: String,
    },
}

impl Tags {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        if let Some(action) = self.action {
            let (from, to, merge) = match &action {
                TagsAction::Rename { old, new } => (old, new, false),
                TagsAction::Merge { from, into } => (from, into, true),
            };
            let mut journal = ctx.journal()?;
            let (from, to, n) =
                journal.write(ctx.clock.timestamp(), |tx| tx.rename_tag(from, to, merge))?;
            if ctx.json {
                output::json(&serde_json::json!({ "from": from, "to": to, "articles": n }))?;
            } else {
                let verb = if merge { "merged" } else { "renamed" };
                let what = if n == 1 { "article" } else { "articles" };
                let into = if merge { "into" } else { "to" };
                output::print(&format!("{verb} {from} {into} {to} on {n} {what}\n"))?;
            }
            return Ok(ExitCode::SUCCESS);
        }
        let mut journal = ctx.journal()?;
        // A large write stopped before its indexes were built left the
        // tag counts to do as well.
        if journal.index_is_stale()? {
            journal.finish_index()?;
        }
        let tags = journal.tags()?;
        if ctx.json {
            let v: Vec<_> = tags
                .iter()
                .map(|(t, n)| serde_json::json!({ "tag": t, "articles": n }))
                .collect();
            output::json(&v)?;
            return Ok(ExitCode::SUCCESS);
        }
        let mut t = output::table(&["TAG", "ARTICLES"]);
        for (tag, n) in &tags {
            t.add_row(vec![tag.clone(), n.to_string()]);
        }
        output::print_table(&t)?;
        Ok(ExitCode::SUCCESS)
    }
}

/// Move articles to the bin (`nj restore` brings them back)
#[derive(Debug, Args)]
pub struct Rm {
    /// The articles' ids
    #[arg(required = true)]
    ids: Vec<String>,
}

impl Rm {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        set_removed(ctx, &self.ids, true)
    }
}

/// Bring articles back from the bin
#[derive(Debug, Args)]
pub struct Restore {
    /// The articles' ids
    #[arg(required = true)]
    ids: Vec<String>,
}

impl Restore {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        set_removed(ctx, &self.ids, false)
    }
}

fn set_removed(ctx: &Ctx, ids: &[String], removed: bool) -> Result<ExitCode> {
    change_each(
        ctx,
        ids,
        |tx, r| tx.set_removed(r, removed),
        |a, changed| {
            let id = short_id(&a.id);
            let line = match (removed, changed) {
                (true, true) => format!(
                    "removed {id}: {} (`nj restore {id}` brings it back)\n",
                    a.title
                ),
                (true, false) => format!("{id} was already in the bin: {}\n", a.title),
                (false, true) => format!("restored {id}: {}\n", a.title),
                (false, false) => format!("{id} was not in the bin: {}\n", a.title),
            };
            let json = serde_json::json!({ "id": a.id, "title": a.title, "changed": changed, "removed": removed });
            (line, json)
        },
    )
}

/// Makes one change to each article `ids` names, all in one transaction,
/// then prints a line for each (or, with --json, an array of objects):
/// `change` says whether it changed anything, and `describe` makes the
/// article's line and object.
pub(super) fn change_each(
    ctx: &Ctx,
    ids: &[String],
    change: impl Fn(&mut Tx<'_>, &ArticleRef) -> newsjournal::error::Result<bool>,
    describe: impl Fn(&Article, bool) -> (String, serde_json::Value),
) -> Result<ExitCode> {
    let mut journal = ctx.journal()?;
    // Resolve every id before changing anything: one bad id changes nothing.
    let refs = ids
        .iter()
        .map(|id| journal.resolve_article(id))
        .collect::<Result<Vec<_>, _>>()?;
    let changed = journal.write(ctx.clock.timestamp(), |tx| {
        refs.iter()
            .map(|r| change(tx, r))
            .collect::<Result<Vec<_>, _>>()
    })?;
    let mut out = String::new();
    let mut json = Vec::new();
    for (r, changed) in refs.iter().zip(changed) {
        let (line, object) = describe(&journal.article(r)?, changed);
        out.push_str(&line);
        json.push(object);
    }
    if ctx.json {
        output::json(&json)?;
    } else {
        output::print(&out)?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use clap::error::ErrorKind;

    use super::TagsAction;
    use crate::cmd::tests::{command_of, parse, refused};
    use crate::cmd::Command;

    /// `nj tag ARGS` as (id, changes, --json).
    fn tag(args: &[&str]) -> (String, Vec<String>, bool) {
        let cli = parse(&[&["tag"], args].concat()).unwrap();
        match cli.command {
            Command::Tag(t) => (t.id, t.changes, cli.json),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn changes_may_start_with_a_dash() {
        let (id, changes, _) = tag(&["3fa9", "+court", "-draft", "jedi"]);
        assert_eq!(id, "3fa9");
        assert_eq!(changes, ["+court", "-draft", "jedi"]);
        // Options go before the changes: after them they are changes too
        // (which run() refuses, naming the option).
        assert!(tag(&["--json", "3fa9", "-draft"]).2);
        let (_, changes, json) = tag(&["3fa9", "-draft", "--json"]);
        assert_eq!(
            (changes, json),
            (vec!["-draft".to_owned(), "--json".to_owned()], false)
        );
        // The id cannot start with a dash.
        assert_eq!(refused(&["tag", "-draft"]), ErrorKind::UnknownArgument);
    }

    #[test]
    fn title_takes_the_rest_as_words() {
        let Command::Title(t) = command_of(&["title", "3fa9", "New", "title", "words"]) else {
            panic!()
        };
        assert_eq!(t.title, ["New", "title", "words"]);
        assert_eq!(
            refused(&["title", "3fa9"]),
            ErrorKind::MissingRequiredArgument
        );
    }

    #[test]
    fn tags_actions_and_the_bin() {
        let Command::Tags(t) = command_of(&["tags", "merge", "Courts", "court"]) else {
            panic!()
        };
        assert!(matches!(
            t.action,
            Some(TagsAction::Merge { from, into }) if from == "Courts" && into == "court"
        ));
        let Command::Rm(r) = command_of(&["rm", "3fa9", "e494"]) else {
            panic!()
        };
        assert_eq!(r.ids, ["3fa9", "e494"]);
        assert_eq!(refused(&["restore"]), ErrorKind::MissingRequiredArgument);
    }
}
