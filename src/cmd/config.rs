//! The config file: what people would otherwise retype on every command.
//!
//! `$XDG_CONFIG_HOME/newsjournal/config.toml` (usually
//! `~/.config/newsjournal/config.toml`), or the file `NJ_CONFIG` names.
//! Command-line flags and environment variables win over it. A file that
//! does not parse, or has a key nj does not know (a typo, most often), is
//! an error that names the file and the key: a setting silently ignored is
//! worse than a refusal.

use super::settings::Settings;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::NaiveTime;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The journal file; `~/` is the home folder. `--db` and `NJ_DB` win.
    pub db: Option<String>,
    /// The pager of `show` and `diff`. `NJ_PAGER` wins; this wins over
    /// `PAGER` (as git's core.pager does).
    pub pager: Option<String>,
    /// The time of day a WHEN without one means: "09:00", "8am".
    pub follow_up_time: Option<String>,
    #[serde(default)]
    pub remote: RemoteConfig,
    #[serde(default)]
    pub list: ListConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteConfig {
    /// The sync server, for a journal with none set by `nj remote set`.
    /// `NJ_REMOTE` wins.
    pub url: Option<String>,
    /// Its token. `NJ_TOKEN` wins.
    pub token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListConfig {
    /// The columns of `nj list`, in order (see [`LIST_COLUMNS`]).
    pub columns: Option<Vec<String>>,
}

/// The columns `nj list` can show.
pub const LIST_COLUMNS: &[&str] = &[
    "id",
    "clipped",
    "published",
    "read",
    "words",
    "tags",
    "site",
    "title",
];

/// Where the config file is: `NJ_CONFIG`, else the platform's config
/// folder.
pub fn path(settings: &Settings) -> Option<PathBuf> {
    if let Some(p) = &settings.config {
        return Some(p.clone());
    }
    // On Linux and the BSDs, XDG's rule read directly: every command reads
    // this path, and `directories` works out eight folders to give one
    // (a third of a millisecond on each command).
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        let absolute = |v: std::ffi::OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .and_then(absolute)
            .or_else(|| {
                std::env::var_os("HOME")
                    .and_then(absolute)
                    .map(|h| h.join(".config"))
            });
        if let Some(base) = base {
            return Some(base.join("newsjournal").join("config.toml"));
        }
    }
    directories::ProjectDirs::from("", "", "newsjournal")
        .map(|d| d.config_dir().join("config.toml"))
}

impl Config {
    /// The config, or the defaults when there is no file.
    pub fn load(settings: &Settings) -> Result<Config> {
        match path(settings) {
            Some(p) => Config::load_from(&p),
            None => Ok(Config::default()),
        }
    }

    pub fn load_from(path: &Path) -> Result<Config> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => bail!("cannot read the config file {}: {e}", path.display()),
        };
        let config: Config = toml::from_str(&text).map_err(|e| {
            // One line: where, and what toml says (its own rendering draws
            // the line over several).
            let at = e
                .span()
                .map(|s| format!(" at line {}", text[..s.start.min(text.len())].matches('\n').count() + 1))
                .unwrap_or_default();
            anyhow::anyhow!(
                "the config file {} is not valid{at}: {}; fix it (README, \"Config file\", lists the keys) or move it away",
                path.display(),
                e.message().trim().replace('\n', " ")
            )
        })?;
        config.check(path)?;
        Ok(config)
    }

    /// Checks the values that have a form, so a mistake is reported once,
    /// with the file, not in the middle of some command.
    fn check(&self, path: &Path) -> Result<()> {
        if let Some(t) = &self.follow_up_time {
            parse_time(t).with_context(|| format!("in the config file {}", path.display()))?;
        }
        if let Some(cols) = &self.list.columns {
            if cols.is_empty() {
                bail!(
                    "in the config file {}: list.columns is empty; name some of: {}",
                    path.display(),
                    LIST_COLUMNS.join(", ")
                );
            }
            for c in cols {
                if !LIST_COLUMNS.contains(&c.as_str()) {
                    bail!(
                        "in the config file {}: list.columns has {c:?}, which is not a column; use some of: {}",
                        path.display(),
                        LIST_COLUMNS.join(", ")
                    );
                }
            }
        }
        Ok(())
    }

    /// The journal file the config names, with `~/` expanded.
    pub fn db(&self) -> Option<PathBuf> {
        self.db
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .map(expand_home)
    }

    /// The time of day a date without one means.
    pub fn follow_up_time(&self) -> NaiveTime {
        self.follow_up_time
            .as_deref()
            .and_then(|t| parse_time(t).ok())
            .unwrap_or(newsjournal::time::DEFAULT_TIME)
    }

    /// The pager: NJ_PAGER, the config's, then PAGER.
    pub fn pager(&self, settings: &Settings) -> Option<String> {
        settings
            .pager
            .clone()
            .or_else(|| self.pager.clone().filter(|p| !p.trim().is_empty()))
            .or_else(|| settings.system_pager.clone())
    }
}

/// A time of day as WHEN reads one ("09:00", "8am", "noon").
fn parse_time(s: &str) -> Result<NaiveTime> {
    newsjournal::time::parse_time_of_day(s).with_context(|| {
        format!("follow_up_time = {s:?} is not a time of day; write it like \"09:00\" or \"8am\"")
    })
}

fn expand_home(p: &str) -> PathBuf {
    match p.strip_prefix("~/") {
        Some(rest) => directories::BaseDirs::new()
            .map(|b| b.home_dir().join(rest))
            .unwrap_or_else(|| PathBuf::from(p)),
        None => PathBuf::from(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        std::fs::write(&p, text).unwrap();
        Config::load_from(&p)
    }

    #[test]
    fn every_key_is_read() {
        let c = parse(
            "db = \"/tmp/j.db\"\npager = \"most\"\nfollow_up_time = \"8am\"\n\
             [remote]\nurl = \"http://h:8787\"\ntoken = \"njt_x\"\n\
             [list]\ncolumns = [\"id\", \"title\"]\n",
        )
        .unwrap();
        assert_eq!(c.db(), Some(PathBuf::from("/tmp/j.db")));
        assert_eq!(
            c.follow_up_time(),
            NaiveTime::from_hms_opt(8, 0, 0).unwrap()
        );
        assert_eq!(c.remote.url.as_deref(), Some("http://h:8787"));
        assert_eq!(
            c.list.columns.as_deref(),
            Some(&["id".to_owned(), "title".to_owned()][..])
        );
    }

    #[test]
    fn mistakes_name_the_file_and_the_key() {
        let e = parse("pager = \"less\"\ndbb = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("config.toml is not valid at line 2: unknown field `dbb`"),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
        let e = parse("follow_up_time = \"25:00\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("is not a time of day"), "{e:#}");
        let e = parse("[list]\ncolumns = [\"size\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"size\", which is not a column"), "{e}");
        let e = parse("db = [").unwrap_err().to_string();
        assert!(e.contains("is not valid"), "{e}");
        // No file: the defaults.
        let none = Config::load_from(Path::new("/nonexistent/nj/config.toml")).unwrap();
        assert_eq!(none.follow_up_time(), newsjournal::time::DEFAULT_TIME);
    }

    #[test]
    fn times_of_day() {
        for (s, h, m) in [
            ("09:00", 9, 0),
            ("17:45", 17, 45),
            ("8am", 8, 0),
            ("5:30pm", 17, 30),
            ("12am", 0, 0),
            ("12pm", 12, 0),
        ] {
            assert_eq!(
                parse_time(s).unwrap(),
                NaiveTime::from_hms_opt(h, m, 0).unwrap(),
                "{s}"
            );
        }
        for bad in ["9", "13pm", "noonish", "25:00"] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }
}
