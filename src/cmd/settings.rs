//! nj's own environment variables (README, "Environment") and the one rule
//! for an empty one. clap reads those that stand for an argument (`NJ_DB`
//! for `--db`, `NJ_REMOTE`, `NJ_TOKEN`, `NJ_TIMEOUT`: their `env`), and
//! `--help` names them without showing their values, as one is a token;
//! the rest are read here, once, when a command starts. The library reads
//! none.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use clap::Command;

#[derive(Debug, Default, Clone)]
pub(crate) struct Settings {
    /// NJ_CONFIG: the config file.
    pub config: Option<PathBuf>,
    /// NJ_NOW: the time to run at (tests and scripts).
    pub now: Option<String>,
    /// NJ_PASSPHRASE: the journal key's passphrase.
    pub passphrase: Option<String>,
    /// NJ_PAGER, then PAGER.
    pub pager: Option<String>,
    pub system_pager: Option<String>,
}

impl Settings {
    pub(crate) fn from_env() -> Settings {
        Settings::from_vars(|k| std::env::var_os(k))
    }

    /// The settings from `var`, where a variable set to nothing (or, for
    /// text, to blanks) is unset, as shells make it easy to leave one.
    fn from_vars(var: impl Fn(&str) -> Option<OsString>) -> Settings {
        Settings {
            config: path(var("NJ_CONFIG")),
            now: text(var("NJ_NOW")),
            // Blanks may be part of a passphrase; only an empty one is unset.
            passphrase: var("NJ_PASSPHRASE")
                .and_then(|v| v.into_string().ok())
                .filter(|v| !v.is_empty()),
            pager: text(var("NJ_PAGER")),
            system_pager: text(var("PAGER")),
        }
    }
}

/// A path setting: unset when empty.
fn path(value: Option<OsString>) -> Option<PathBuf> {
    value.filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// A text setting: unset when blank, or when it is not text at all.
fn text(value: Option<OsString>) -> Option<String> {
    value
        .and_then(|v| v.into_string().ok())
        .filter(|v| !v.trim().is_empty())
}

/// Whether `name`, the variable of one of nj's arguments, is set but
/// counts as unset by the rule above.
fn set_but_unset(name: &OsStr, value: Option<OsString>) -> bool {
    if value.is_none() {
        return false;
    }
    match name.to_str() {
        Some("NJ_DB") => path(value).is_none(),
        Some("NJ_REMOTE" | "NJ_TOKEN") => text(value).is_none(),
        // NJ_TIMEOUT is a number, which clap checks: an empty or blank one
        // is refused as not a number, as it always has been.
        _ => false,
    }
}

/// `cmd` (and its subcommands) with the variable taken off each argument
/// whose variable `var` gives as set but unset by nj's rule: clap would
/// take its value as the argument's, and refuse an empty path. Walking
/// every argument of every command costs a quick command a few percent of
/// its instructions, so it is done only when one of them is.
pub(crate) fn drop_unset_vars(cmd: Command, var: &dyn Fn(&OsStr) -> Option<OsString>) -> Command {
    let any = ["NJ_DB", "NJ_REMOTE", "NJ_TOKEN"]
        .iter()
        .any(|name| set_but_unset(OsStr::new(name), var(OsStr::new(name))));
    if any {
        drop_each(cmd, var)
    } else {
        cmd
    }
}

fn drop_each(cmd: Command, var: &dyn Fn(&OsStr) -> Option<OsString>) -> Command {
    cmd.mut_args(|arg| {
        if arg
            .get_env()
            .is_some_and(|name| set_but_unset(name, var(name)))
        {
            arg.env(None)
        } else {
            arg
        }
    })
    .mut_subcommands(|sub| drop_each(sub, var))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_unset_and_a_passphrase_keeps_its_blanks() {
        let s = Settings::from_vars(|k| {
            Some(OsString::from(match k {
                "NJ_CONFIG" => "",
                "NJ_PAGER" => "  ",
                "NJ_PASSPHRASE" => " two words ",
                "NJ_NOW" => "2026-12-07T09:00:00Z",
                _ => return None,
            }))
        });
        assert_eq!(s.config, None);
        assert_eq!(s.pager, None);
        assert_eq!(s.passphrase.as_deref(), Some(" two words "));
        assert_eq!(s.now.as_deref(), Some("2026-12-07T09:00:00Z"));
        assert_eq!(s.system_pager, None);
    }

    #[test]
    fn an_argument_variable_is_dropped_only_when_set_but_unset() {
        let unset = |name: &str, value: Option<&str>| {
            set_but_unset(OsStr::new(name), value.map(OsString::from))
        };
        assert!(unset("NJ_DB", Some("")));
        // A path may be blanks (an odd name, but a name).
        assert!(!unset("NJ_DB", Some(" ")));
        assert!(unset("NJ_REMOTE", Some(" \t")));
        assert!(unset("NJ_TOKEN", Some("")));
        assert!(!unset("NJ_TOKEN", Some("njt_x")));
        // Not set at all: clap has nothing to take, and --help still names
        // the variable.
        assert!(!unset("NJ_DB", None));
        // clap's own check refuses an empty timeout, as before.
        assert!(!unset("NJ_TIMEOUT", Some("")));
    }
}
