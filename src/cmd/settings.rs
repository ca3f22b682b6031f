//! nj's own settings from the environment (README, "Environment"), read
//! once when a command starts. Everything else takes them from here, so a
//! setting is named, and its empty value treated, in one place; the
//! library reads none.

use std::ffi::OsString;
use std::path::PathBuf;

#[derive(Debug, Default, Clone)]
pub(crate) struct Settings {
    /// NJ_DB: the journal file.
    pub db: Option<PathBuf>,
    /// NJ_CONFIG: the config file.
    pub config: Option<PathBuf>,
    /// NJ_NOW: the time to run at (tests and scripts).
    pub now: Option<String>,
    /// NJ_REMOTE and NJ_TOKEN: the sync server and this device's token.
    pub remote: Option<String>,
    pub token: Option<String>,
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
        let path = |k: &str| var(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let text = |k: &str| {
            var(k)
                .and_then(|v| v.into_string().ok())
                .filter(|v| !v.trim().is_empty())
        };
        Settings {
            db: path("NJ_DB"),
            config: path("NJ_CONFIG"),
            now: text("NJ_NOW"),
            remote: text("NJ_REMOTE"),
            token: text("NJ_TOKEN"),
            // Blanks may be part of a passphrase; only an empty one is unset.
            passphrase: var("NJ_PASSPHRASE")
                .and_then(|v| v.into_string().ok())
                .filter(|v| !v.is_empty()),
            pager: text("NJ_PAGER"),
            system_pager: text("PAGER"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_unset_and_a_passphrase_keeps_its_blanks() {
        let s = Settings::from_vars(|k| {
            Some(OsString::from(match k {
                "NJ_DB" => "",
                "NJ_REMOTE" => "  ",
                "NJ_TOKEN" => "tok",
                "NJ_PASSPHRASE" => " two words ",
                "NJ_NOW" => "2026-12-07T09:00:00Z",
                _ => return None,
            }))
        });
        assert_eq!(s.db, None);
        assert_eq!(s.remote, None);
        assert_eq!(s.token.as_deref(), Some("tok"));
        assert_eq!(s.passphrase.as_deref(), Some(" two words "));
        assert_eq!(s.now.as_deref(), Some("2026-12-07T09:00:00Z"));
        assert_eq!(s.pager, None);
    }
}
