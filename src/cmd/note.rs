//! `nj note`, `nj jot` and `nj notes`: write, list and change notes.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use newsjournal::content::first_line;
use newsjournal::journal::{short_id, NoteFilter};

use super::output;
use super::Ctx;

/// Add a note to an article, or with --story to a story (TEXT, - for
/// stdin, or none to open $EDITOR)
#[derive(Debug, Args)]
pub struct NoteCmd {
    /// The article's id (with --story, the note)
    #[arg(required_unless_present = "story")]
    id: Option<String>,
    /// The note; - reads stdin; leave out to write it in $EDITOR
    text: Option<String>,
    /// A note of this story's own (its short name, an id prefix, or the
    /// start of its name)
    #[arg(long, value_name = "STORY")]
    story: Option<String>,
}

impl NoteCmd {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        if let Some(name) = &self.story {
            if self.text.is_some() {
                anyhow::bail!("with --story, give only the note: nj note --story STORY TEXT");
            }
            let mut journal = ctx.journal()?;
            let story = journal.resolve_story(name, false)?;
            let text = output::note_text(self.id.as_deref(), "")?;
            let note = journal.write(ctx.clock.timestamp(), |tx| {
                tx.add_story_note(&story.as_ref(), &text)
            })?;
            if ctx.json {
                output::json(&journal.note(&note)?)?;
            } else {
                output::print(&format!(
                    "added note {} to story {}: {}\n",
                    short_id(&note.id),
                    story.name,
                    story.title
                ))?;
            }
            return Ok(ExitCode::SUCCESS);
        }
        let id = self.id.unwrap_or_default();
        // Resolve first, so a wrong id fails before the editor opens.
        let mut journal = ctx.journal()?;
        let article = journal.resolve_article(&id)?;
        let text = output::note_text(self.text.as_deref(), "")?;
        let note = journal.write(ctx.clock.timestamp(), |tx| {
            tx.add_note(Some(&article), &text)
        })?;
        let a = journal.article(&article)?;
        if ctx.json {
            output::json(&journal.note(&note)?)?;
        } else {
            output::print(&format!(
                "added note {} to {}: {}\n",
                short_id(&note.id),
                short_id(&a.id),
                a.title
            ))?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Write a free-standing journal note, not tied to any article
#[derive(Debug, Args)]
pub struct Jot {
    /// The note; - reads stdin; leave out to write it in $EDITOR
    text: Option<String>,
}

impl Jot {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        // The text first: a jot refused for want of one makes no journal.
        let text = output::note_text(self.text.as_deref(), "")?;
        let mut journal = ctx.journal_or_create()?;
        let note = journal.write(ctx.clock.timestamp(), |tx| tx.add_note(None, &text))?;
        if ctx.json {
            output::json(&journal.note(&note)?)?;
        } else {
            output::print(&format!("added journal note {}\n", short_id(&note.id)))?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// List notes; `nj notes edit` and `nj notes rm` change them
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Notes {
    #[command(subcommand)]
    action: Option<NotesAction>,

    /// Only the notes on this article
    #[arg(short = 'a', long, value_name = "ID")]
    article: Option<String>,

    /// Only free-standing journal notes
    #[arg(long)]
    free: bool,

    /// Show at most N notes (0 for all)
    #[arg(short = 'l', long, value_name = "N", default_value_t = 50)]
    limit: usize,

    /// List removed notes instead
    #[arg(long)]
    removed: bool,
}

#[derive(Debug, Subcommand)]
enum NotesAction {
    /// Replace a note's text (TEXT, - for stdin, or none to edit it in $EDITOR)
    Edit {
        /// The note's id
        id: String,
        text: Option<String>,
    },
    /// Remove a note (`nj notes --removed` lists removed ones)
    Rm {
        /// The note's id
        id: String,
    },
    /// Bring a removed note back
    Restore {
        /// The note's id
        id: String,
    },
    /// Make a text written on another device at the same time the note's
    /// text again (`nj notes` marks such notes, and `nj show` numbers their
    /// kept texts); the text it replaces is kept
    Pick {
        /// The note's id
        id: String,
        /// Which kept text: 1 is the newest
        #[arg(default_value_t = 1)]
        revision: usize,
    },
}

impl Notes {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let mut journal = ctx.journal()?;
        match self.action {
            Some(NotesAction::Edit { id, text }) => {
                let note = journal.resolve_note(&id)?;
                let current = journal.note(&note)?.text;
                let text = output::note_text(text.as_deref(), &format!("{current}\n"))?;
                let changed = journal.write(ctx.clock.timestamp(), |tx| {
                    tx.edit_note(&note, &text, &current)
                })?;
                let msg = if changed { "edited" } else { "unchanged" };
                if ctx.json {
                    output::json(&serde_json::json!({ "id": note.id, "changed": changed }))?;
                } else {
                    output::print(&format!("{msg} note {}\n", short_id(&note.id)))?;
                }
            }
            Some(NotesAction::Rm { id }) => {
                let note = journal.resolve_note(&id)?;
                journal.write(ctx.clock.timestamp(), |tx| tx.remove_note(&note))?;
                if ctx.json {
                    output::json(&serde_json::json!({ "id": note.id, "removed": true }))?;
                } else {
                    output::print(&format!("removed note {}\n", short_id(&note.id)))?;
                }
            }
            Some(NotesAction::Pick { id, revision }) => {
                let note = journal.resolve_note(&id)?;
                journal.restore_note_revision(&note, revision, ctx.clock.timestamp())?;
                if ctx.json {
                    output::json(&journal.note(&note)?)?;
                } else {
                    output::print(&format!(
                        "note {} has kept text {revision} again; the text it replaced is kept in its place\n",
                        short_id(&note.id)
                    ))?;
                }
            }
            Some(NotesAction::Restore { id }) => {
                let note = journal.resolve_removed_note(&id)?;
                journal.write(ctx.clock.timestamp(), |tx| tx.restore_note(&note))?;
                if ctx.json {
                    output::json(&journal.note(&note)?)?;
                } else {
                    output::print(&format!("restored note {}\n", short_id(&note.id)))?;
                }
            }
            None => {
                let article = match &self.article {
                    Some(id) => Some(journal.resolve_article(id)?),
                    None => None,
                };
                let notes = journal.notes(&NoteFilter {
                    article,
                    free_only: self.free,
                    limit: self.limit,
                    removed: self.removed,
                })?;
                if ctx.json {
                    output::json(&notes)?;
                } else if notes.is_empty() {
                    eprintln!("no notes yet; add one with `nj note ID TEXT` or `nj jot TEXT`");
                } else {
                    let mut t = output::table(&["ID", "WRITTEN", "ARTICLE", "NOTE"]);
                    // A text kept from another device is picked by number;
                    // say so where every note is listed.
                    let kept_counts = journal.kept_text_counts()?;
                    for n in &notes {
                        let kept = kept_counts.get(&n.id).copied().unwrap_or(0);
                        let mut text = first_line(&n.text, 100);
                        if kept > 0 {
                            text.push_str(&format!(
                                " [{kept} kept from another device: nj notes pick {} N]",
                                short_id(&n.id)
                            ));
                        }
                        t.add_row(vec![
                            short_id(&n.id).to_owned(),
                            n.created_at.local(),
                            match (&n.article_id, &n.story) {
                                (Some(a), _) => short_id(a).to_owned(),
                                (None, Some(story)) => format!("story {story}"),
                                (None, None) => "-".to_owned(),
                            },
                            text,
                        ]);
                    }
                    output::print_table(&t)?;
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

#[cfg(test)]
mod tests {
    use clap::error::ErrorKind;

    use super::NotesAction;
    use crate::cmd::tests::{command_of, parse, refused};
    use crate::cmd::Command;

    /// `nj note ARGS` as (id, text).
    fn note(args: &[&str]) -> (String, Option<String>) {
        match command_of(&[&["note"], args].concat()) {
            Command::Note(n) => (n.id.unwrap_or_default(), n.text),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn text_dash_for_stdin_or_none_for_the_editor() {
        assert_eq!(note(&["3fa9", "-"]), ("3fa9".into(), Some("-".into())));
        assert_eq!(note(&["3fa9"]), ("3fa9".into(), None));
        assert_eq!(note(&["3fa9", "two words"]).1.as_deref(), Some("two words"));
        let Command::Jot(j) = command_of(&["jot", "-"]) else {
            panic!()
        };
        assert_eq!(j.text.as_deref(), Some("-"));
    }

    #[test]
    fn a_text_that_starts_with_a_dash_comes_after_double_dash() {
        assert_eq!(
            note(&["3fa9", "--", "-5% today"]).1.as_deref(),
            Some("-5% today")
        );
        // After `--`, even nj's own options are text.
        let cli = parse(&["note", "3fa9", "--", "--json"]).unwrap();
        assert!(!cli.json);
        assert_eq!(note(&["3fa9", "--", "--json"]).1.as_deref(), Some("--json"));
        assert_eq!(
            refused(&["note", "3fa9", "-5%"]),
            ErrorKind::UnknownArgument
        );
        // Unquoted words are more than one text.
        assert_eq!(
            refused(&["note", "3fa9", "two", "words"]),
            ErrorKind::UnknownArgument
        );
        assert_eq!(refused(&["note"]), ErrorKind::MissingRequiredArgument);
    }

    #[test]
    fn notes_takes_options_or_an_action_not_both() {
        let Command::Notes(n) = command_of(&["notes", "pick", "3fa9"]) else {
            panic!()
        };
        assert!(matches!(
            n.action,
            Some(NotesAction::Pick { id, revision: 1 }) if id == "3fa9"
        ));
        let Command::Notes(n) = command_of(&["notes", "edit", "3fa9", "-"]) else {
            panic!()
        };
        assert!(matches!(
            n.action,
            Some(NotesAction::Edit { text: Some(t), .. }) if t == "-"
        ));
        assert_eq!(
            refused(&["notes", "--free", "rm", "3fa9"]),
            ErrorKind::ArgumentConflict
        );
    }
}
