//! Tests of the command line as clap reads it, and the helpers each
//! command's own parsing tests use.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use clap::error::ErrorKind;
use clap::CommandFactory;

use super::{Cli, Command};

/// The variables clap reads for nj's arguments.
const ARG_VARS: [&str; 4] = ["NJ_DB", "NJ_REMOTE", "NJ_TOKEN", "NJ_TIMEOUT"];

/// Held while a test sets [`ARG_VARS`]: clap reads them when the command
/// is built, so one test must not build its command with another's.
static VARS: Mutex<()> = Mutex::new(());

/// `nj ARGS` parsed as `nj` parses it, with exactly `vars` of
/// [`ARG_VARS`] set (those of whoever runs the tests are hidden).
pub(super) fn parse_with(vars: &[(&str, &str)], args: &[&str]) -> Result<Cli, clap::Error> {
    let cmd = {
        let _held = VARS.lock().unwrap_or_else(PoisonError::into_inner);
        let saved: Vec<(&str, Option<OsString>)> =
            ARG_VARS.map(|k| (k, std::env::var_os(k))).into();
        for k in ARG_VARS {
            std::env::remove_var(k);
        }
        for (k, v) in vars {
            assert!(ARG_VARS.contains(k), "{k} is not one of ARG_VARS");
            std::env::set_var(k, v);
        }
        let cmd = super::command();
        for (k, v) in saved {
            match v {
                Some(v) => std::env::set_var(k, v),
                None => std::env::remove_var(k),
            }
        }
        cmd
    };
    super::parse_from(cmd, std::iter::once("nj").chain(args.iter().copied()))
}

/// `nj ARGS` parsed with none of nj's argument variables set.
pub(super) fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    parse_with(&[], args)
}

/// The command `nj ARGS` runs, which must parse.
pub(super) fn command_of(args: &[&str]) -> Command {
    match parse(args) {
        Ok(cli) => cli.command,
        Err(e) => panic!("nj {} was refused: {e}", args.join(" ")),
    }
}

/// What kind of mistake clap says `nj ARGS` is, which must be refused.
pub(super) fn refused(args: &[&str]) -> ErrorKind {
    match parse(args) {
        Ok(cli) => panic!("nj {} parsed: {cli:?}", args.join(" ")),
        Err(e) => e.kind(),
    }
}

#[test]
fn cli_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn global_options_go_before_or_after_the_command() {
    for args in [
        &["--db", "a.db", "list"][..],
        &["list", "--db", "a.db"],
        &["--db=a.db", "list"],
        &["list", "--db=a.db"],
    ] {
        let cli = parse(args).unwrap();
        assert_eq!(cli.db, Some(PathBuf::from("a.db")), "{args:?}");
        assert!(matches!(cli.command, Command::List(_)), "{args:?}");
    }
    assert!(parse(&["--json", "list"]).unwrap().json);
    assert!(parse(&["list", "--json"]).unwrap().json);
    // A subcommand's subcommand too.
    assert!(parse(&["tags", "rename", "a", "b", "--json"]).unwrap().json);
    assert!(!parse(&["list"]).unwrap().json);
}

#[test]
fn db_flag_wins_over_nj_db_and_an_empty_nj_db_is_unset() {
    let db = |vars: &[(&str, &str)], args: &[&str]| parse_with(vars, args).unwrap().db;
    assert_eq!(db(&[], &["list"]), None);
    assert_eq!(
        db(&[("NJ_DB", "/env/j.db")], &["list"]),
        Some(PathBuf::from("/env/j.db"))
    );
    assert_eq!(
        db(&[("NJ_DB", "/env/j.db")], &["list", "--db", "flag.db"]),
        Some(PathBuf::from("flag.db"))
    );
    // Set to nothing, as `NJ_DB= nj list` does: unset, so the config's
    // journal or the default one is used.
    assert_eq!(db(&[("NJ_DB", "")], &["list"]), None);
    // Blanks are a (strange) file name, as they always were.
    assert_eq!(db(&[("NJ_DB", " ")], &["list"]), Some(PathBuf::from(" ")));
    // An empty --db is a mistake on the command line, and a missing value.
    assert_eq!(refused(&["list", "--db", ""]), ErrorKind::InvalidValue);
    assert_eq!(refused(&["list", "--db"]), ErrorKind::InvalidValue);
}

#[test]
fn help_names_the_variables_and_shows_none_of_their_values() {
    let help = |args: &[&str]| {
        let vars = [
            ("NJ_DB", "/secret/j.db"),
            ("NJ_REMOTE", "http://secret.example"),
            ("NJ_TOKEN", "njt_secret"),
            ("NJ_TIMEOUT", "7"),
        ];
        let e = parse_with(&vars, args).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DisplayHelp, "{args:?}");
        // One line: help wraps to the terminal's width.
        let text = e
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(!text.contains("secret") && !text.contains("=7"), "{text}");
        text
    };
    assert!(help(&["--help"]).contains("[env: NJ_DB]"));
    let sync = help(&["sync", "--help"]);
    for name in ["[env: NJ_DB]", "[env: NJ_REMOTE]", "[env: NJ_TOKEN]"] {
        assert!(sync.contains(name), "{name}: {sync}");
    }
    assert!(help(&["remote", "set", "--help"]).contains("[env: NJ_TOKEN]"));
    assert!(help(&["remote", "show", "--help"]).contains("[env: NJ_REMOTE]"));
    for command in ["clip", "extract", "fetch", "recheck"] {
        let text = help(&[command, "--help"]);
        assert!(text.contains("[env: NJ_TIMEOUT] [default: 30]"), "{text}");
    }
}

#[test]
fn every_fetching_command_takes_timeout() {
    for args in [
        &["clip", "x.html"][..],
        &["extract", "x.html"],
        &["fetch", "--pending"],
        &["recheck"],
    ] {
        let with = |extra: &[&'static str]| [args, extra].concat();
        parse(&with(&["--timeout", "5"])).unwrap();
        assert_eq!(
            refused(&with(&["--timeout", "soon"])),
            ErrorKind::ValueValidation,
            "{args:?}"
        );
    }
}

#[test]
fn mistakes_in_the_command_itself() {
    assert_eq!(
        refused(&[]),
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    assert_eq!(refused(&["bogus"]), ErrorKind::InvalidSubcommand);
    // Close to follow-ups, so clap suggests it.
    assert_eq!(refused(&["followups"]), ErrorKind::InvalidSubcommand);
    assert_eq!(refused(&["--version"]), ErrorKind::DisplayVersion);
    assert_eq!(refused(&["list", "--bogus"]), ErrorKind::UnknownArgument);
}
