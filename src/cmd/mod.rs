//! The command line: one file per subcommand, each a clap struct with a
//! `run` that calls the library and prints. No journal logic lives here.

mod clip;
mod completions;
mod config;
mod copies;
mod diff;
mod due;
mod export;
mod extract;
mod fetch;
mod followup;
mod import;
mod key;
mod list;
mod man;
mod note;
mod open;
pub(crate) mod output;
mod read;
mod recheck;
mod related;
mod search;
mod serve;
mod settings;
mod show;
mod story;
mod sync;
mod tag;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use newsjournal::journal::Journal;
use newsjournal::time::{Clock, Timestamp};

#[derive(Debug, Parser)]
#[command(
    name = "nj",
    version,
    about = "newsjournal: clip news articles, note why they matter, follow stories up",
    long_about = None,
    max_term_width = 100
)]
pub struct Cli {
    /// The journal file [default: $XDG_DATA_HOME/newsjournal/journal.db]
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        env = "NJ_DB",
        hide_env_values = true
    )]
    db: Option<PathBuf>,

    /// Print JSON instead of text
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Clip(clip::Clip),
    Extract(extract::Extract),
    List(list::List),
    Show(show::Show),
    Open(open::Open),
    Versions(diff::Versions),
    Diff(diff::Diff),
    Copies(copies::Copies),
    Related(related::RelatedCmd),
    Story(story::StoryCmd),
    Stories(story::Stories),
    Verify(verify::Verify),
    Note(note::NoteCmd),
    Jot(note::Jot),
    Notes(note::Notes),
    Tag(tag::Tag),
    Title(tag::Title),
    Tags(tag::Tags),
    Rm(tag::Rm),
    Restore(tag::Restore),
    Read(read::Read),
    Unread(read::Unread),
    Search(search::Search),
    #[command(name = "follow-up")]
    FollowUp(followup::FollowUp),
    #[command(name = "follow-ups")]
    FollowUps(followup::FollowUps),
    Due(due::Due),
    Done(followup::Done),
    Snooze(followup::Snooze),
    Reopen(followup::Reopen),
    Recheck(recheck::Recheck),
    Fetch(fetch::Fetch),
    Export(export::Export),
    Import(import::Import),
    Completions(completions::Completions),
    Man(man::Man),
    Remote(sync::Remote),
    Sync(sync::Sync),
    Key(key::Key),
    Serve(serve::Serve),
    Server(serve::ServerCmd),
}

/// What every command needs: where the journal is, how to print, and the
/// time.
pub struct Ctx {
    /// `--db` or NJ_DB.
    db: Option<PathBuf>,
    json: bool,
    clock: Clock,
    config: config::Config,
    settings: settings::Settings,
}

impl Ctx {
    fn db_path(&self) -> Result<PathBuf> {
        if let Some(p) = &self.db {
            return Ok(p.clone());
        }
        if let Some(p) = self.config.db() {
            return Ok(p);
        }
        let dirs = directories::ProjectDirs::from("", "", "newsjournal")
            .context("cannot find a home folder for the journal; pass --db PATH or set NJ_DB")?;
        Ok(dirs.data_dir().join("journal.db"))
    }

    /// The journal, which must exist: a reading command (or one that names
    /// what is in it) on a mistyped `--db` says so instead of showing an
    /// empty journal it has just made.
    fn journal(&self) -> Result<Journal> {
        let path = self.db_path()?;
        if !path.exists() {
            anyhow::bail!(
                "no journal at {}; `nj clip` creates one, or check --db and NJ_DB",
                path.display()
            );
        }
        self.with_copy_keys(opened(&path)?)
    }

    /// Reads a WHEN now, where a day without a time means the config's
    /// `follow_up_time` (09:00 unless set).
    fn when(&self, input: &str) -> Result<chrono::DateTime<chrono::Utc>> {
        Ok(newsjournal::time::parse_when_at(
            input,
            self.clock.now(),
            &chrono::Local,
            self.config.follow_up_time(),
        )?)
    }

    /// The journal, made (with its folder) if there is none yet: for the
    /// commands that put something new in it.
    fn journal_or_create(&self) -> Result<Journal> {
        let path = self.db_path()?;
        self.with_copy_keys(opened(&path)?)
    }

    /// Just after the upgrade that brought copy detection, every article
    /// waits for its copy keys, which the next write makes: that is said
    /// first, since in a large journal it takes a while, and done now, so
    /// the command the user ran is not the one that seems slow.
    fn with_copy_keys(&self, mut journal: Journal) -> Result<Journal> {
        let waiting = journal.copy_keys_waiting()?;
        if waiting >= COPY_KEYS_TO_SAY {
            eprintln!(
                "nj: making the keys that recognise syndicated copies for {waiting} articles, once after the upgrade (about 15 s per 100,000 articles)"
            );
            journal.make_copy_keys(Timestamp::from_datetime(self.clock.now()))?;
        }
        Ok(journal)
    }
}

/// How many articles waiting for copy keys take long enough (about a third
/// of a second) to say so.
const COPY_KEYS_TO_SAY: i64 = 2_000;

/// Opens the journal at `path`, saying once when its file had to be made
/// private.
fn opened(path: &std::path::Path) -> Result<Journal> {
    let journal = Journal::open(path)?;
    if journal.was_tightened() {
        eprintln!(
            "nj: note: {} could be read by other users of this machine; it holds the sync token and the journal key, so it is now readable by you alone (mode 0600)",
            path.display()
        );
    }
    Ok(journal)
}

/// nj's command line: [`Cli`]'s definition, where the variable of an
/// argument (`NJ_DB` for `--db`, ...) set to nothing counts as unset, as
/// nj's other variables do (see [`settings`]).
pub fn command() -> clap::Command {
    settings::drop_unset_vars(Cli::command(), &|name| std::env::var_os(name))
}

/// Parses the command line, or exits with clap's message (and code 2).
pub fn parse() -> Cli {
    parse_from(command(), std::env::args_os()).unwrap_or_else(|e| e.exit())
}

/// `args` (the program's name first) parsed by `cmd`, as [`command`]
/// builds it.
fn parse_from(
    cmd: clap::Command,
    args: impl IntoIterator<Item = impl Into<std::ffi::OsString> + Clone>,
) -> Result<Cli, clap::Error> {
    let mut matches = cmd.try_get_matches_from(args)?;
    Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut command()))
}

impl Cli {
    pub fn run(self) -> Result<ExitCode> {
        let settings = settings::Settings::from_env();
        let ctx = Ctx {
            db: self.db,
            json: self.json,
            clock: Clock::from_setting(settings.now.as_deref())?,
            config: config::Config::load(&settings)?,
            settings,
        };
        match self.command {
            Command::Clip(c) => c.run(&ctx),
            Command::Extract(c) => c.run(&ctx),
            Command::List(c) => c.run(&ctx),
            Command::Show(c) => c.run(&ctx),
            Command::Open(c) => c.run(&ctx),
            Command::Versions(c) => c.run(&ctx),
            Command::Diff(c) => c.run(&ctx),
            Command::Copies(c) => c.run(&ctx),
            Command::Related(c) => c.run(&ctx),
            Command::Story(c) => c.run(&ctx),
            Command::Stories(c) => c.run(&ctx),
            Command::Verify(c) => c.run(&ctx),
            Command::Note(c) => c.run(&ctx),
            Command::Jot(c) => c.run(&ctx),
            Command::Notes(c) => c.run(&ctx),
            Command::Tag(c) => c.run(&ctx),
            Command::Title(c) => c.run(&ctx),
            Command::Tags(c) => c.run(&ctx),
            Command::Rm(c) => c.run(&ctx),
            Command::Restore(c) => c.run(&ctx),
            Command::Read(c) => c.run(&ctx),
            Command::Unread(c) => c.run(&ctx),
            Command::Fetch(c) => c.run(&ctx),
            Command::Search(c) => c.run(&ctx),
            Command::FollowUp(c) => c.run(&ctx),
            Command::FollowUps(c) => c.run(&ctx),
            Command::Due(c) => c.run(&ctx),
            Command::Done(c) => c.run(&ctx),
            Command::Snooze(c) => c.run(&ctx),
            Command::Reopen(c) => c.run(&ctx),
            Command::Recheck(c) => c.run(&ctx),
            Command::Export(c) => c.run(&ctx),
            Command::Import(c) => c.run(&ctx),
            Command::Remote(c) => c.run(&ctx),
            Command::Sync(c) => c.run(&ctx),
            Command::Key(c) => c.run(&ctx),
            Command::Completions(c) => c.run(&ctx),
            Command::Man(c) => c.run(&ctx),
            Command::Serve(c) => c.run(&ctx),
            Command::Server(c) => c.run(&ctx),
        }
    }
}

/// `--timeout SECS` or NJ_TIMEOUT, declared once for the commands that
/// fetch pages (clip, extract, fetch, recheck).
#[derive(clap::Args, Debug)]
struct Timeout {
    /// Give up on a URL after this many seconds
    #[arg(
        long,
        value_name = "SECS",
        env = "NJ_TIMEOUT",
        hide_env_values = true,
        default_value_t = 30.0
    )]
    timeout: f64,
}

impl Timeout {
    /// The timeout as a duration; zero, negative and not-a-number are
    /// refused.
    fn duration(&self) -> Result<std::time::Duration> {
        let secs = self.timeout;
        std::time::Duration::try_from_secs_f64(secs)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| anyhow::anyhow!("--timeout {secs} is not a positive number of seconds"))
    }
}

#[cfg(test)]
mod tests;
