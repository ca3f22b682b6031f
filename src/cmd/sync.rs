//! `nj remote` and `nj sync`: where this journal syncs, and syncing with it.

use super::settings::Settings;
use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use newsjournal::journal::{parse_key, Journal, JournalReplica};
use newsjournal::sync::client::HttpTransport;
use newsjournal::sync::crypto::JournalKey;
use newsjournal::sync::{sync, Summary, SyncError};
use newsjournal::time::Timestamp;
use serde::Serialize;

use super::output::{self, count};
use super::Ctx;

/// Operations per request, each way.
const PAGE: usize = 10_000;

/// Where this journal syncs: nj remote set URL --token TOKEN
#[derive(Debug, Args)]
pub struct Remote {
    #[command(subcommand)]
    action: RemoteAction,
}

#[derive(Debug, Subcommand)]
enum RemoteAction {
    /// Sync with the server at URL, using a token from `nj server new-journal` or `new-token`
    Set {
        /// The server, e.g. http://192.168.1.20:8787
        url: String,
        /// This device's token
        #[arg(long, env = "NJ_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// The journal key from `nj key show` on a device that already
        /// syncs (`-` reads it from standard input, out of sight of `ps`);
        /// left out on the first device, which makes one
        #[arg(long)]
        key: Option<String>,
    },
    /// Print the remote this journal syncs with
    Show {
        #[command(flatten)]
        server: Server,
    },
}

/// `--remote URL` and `--token TOKEN` (or NJ_REMOTE and NJ_TOKEN): a server
/// and token for this run, over those `nj remote set` stored.
#[derive(Debug, Args)]
struct Server {
    /// The sync server, instead of the one `nj remote set` stored
    #[arg(
        long,
        value_name = "URL",
        env = "NJ_REMOTE",
        hide_env_values = true,
        global = true
    )]
    remote: Option<String>,
    /// This device's token on it, instead of the stored one
    #[arg(
        long,
        value_name = "TOKEN",
        env = "NJ_TOKEN",
        hide_env_values = true,
        global = true
    )]
    token: Option<String>,
}

/// The server and token: `--remote` and `--token` (or NJ_REMOTE and
/// NJ_TOKEN), then what `nj remote set` stored in the journal, then the
/// config file's `[remote]`.
fn remote(server: &Server, ctx: &Ctx, journal: &Journal) -> Result<(String, String)> {
    let url = server
        .remote
        .clone()
        .or(journal.meta("remote_url")?)
        .or_else(|| ctx.config.remote.url.clone());
    let token = server
        .token
        .clone()
        .or(journal.meta("remote_token")?)
        .or_else(|| ctx.config.remote.token.clone());
    match (url, token) {
        (Some(u), Some(t)) => Ok((u, t)),
        (None, _) => bail!("no remote is set; run `nj remote set URL --token TOKEN` (or set NJ_REMOTE and NJ_TOKEN)"),
        (Some(_), None) => bail!("the remote has no token; run `nj remote set URL --token TOKEN` (or set NJ_TOKEN)"),
    }
}

/// The journal's key, made now if it has none; with the notice to show
/// when it was made.
fn ensure_key(
    journal: &mut Journal,
    now: Timestamp,
    settings: &Settings,
) -> Result<(JournalKey, Option<String>)> {
    if let Some(k) = super::key::unlock(journal, settings)? {
        return Ok((k, None));
    }
    let k = JournalKey::generate();
    journal.store_key(now, &k, None)?;
    let notice = super::key::created_notice(&k);
    Ok((k, Some(notice)))
}

/// Asks the server, before anything is stored, whether the token works and
/// whether the key this device would sync with (`key`, or the journal's
/// own) is the journal's there: a mistake shows now, not at `nj sync`, and
/// a second device given no key is not handed a useless new one. A server
/// that cannot be reached is no reason to refuse (the laptop may be away
/// from home); `nj sync` checks again.
fn check_with_server(
    journal: Option<&Journal>,
    url: &str,
    token: &str,
    key: Option<&JournalKey>,
    settings: &Settings,
) -> Result<()> {
    use newsjournal::sync::protocol::{check_join, JoinCheck};
    let own = match (key, journal) {
        (None, Some(j)) => super::key::unlock(j, settings)?,
        _ => None,
    };
    let mut transport = HttpTransport::new(url, token);
    match check_join(&mut transport, key.or(own.as_ref())) {
        Ok(JoinCheck::NoKeyYet | JoinCheck::KeyMatches) => Ok(()),
        Ok(JoinCheck::KeyNeeded) => bail!(
            "the journal on {url} already has an encryption key, and this device has none; bring that key rather than making a new one: run `nj key show` on a device that already syncs, then `nj remote set {url} --token TOKEN --key -` and paste it (nothing was changed)"
        ),
        Ok(JoinCheck::WrongKey) => bail!(
            "{} is not the key the journal on {url} is encrypted with; copy the key again from `nj key show` on a device that already syncs (nothing was changed)",
            if key.is_some() { "the key given" } else { "this journal's key" }
        ),
        // No answer: the laptop may be away from home; set it anyway.
        Err(SyncError::Unreachable(e)) => {
            eprintln!(
                "nj: warning: could not check the token and key with the server: {e}; the remote is set anyway, and `nj sync` checks them"
            );
            Ok(())
        }
        // An answer, but not the one an `nj serve` gives (a mistyped port
        // on another web server, a redirect, a failure): not stored.
        Err(e) => bail!("{e} (nothing was changed)"),
    }
}

fn mask(token: &str) -> String {
    let keep: String = token.chars().take(8).collect();
    format!("{keep}…")
}

impl Remote {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let now = ctx.clock.timestamp();
        match self.action {
            RemoteAction::Set { url, token, key } => {
                let url = url.trim().trim_end_matches('/').to_owned();
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    bail!(
                        "{url:?} is not a server address; give one like http://192.168.1.20:8787"
                    );
                }
                let token = token
                    .filter(|t| !t.trim().is_empty())
                    .context("give the device's token with --token (from `nj server new-journal` or `nj server new-token`)")?;
                // A bad key is refused before anything is stored.
                let key = key
                    .map(|k| super::key::key_text(&k).and_then(|t| Ok(parse_key(&t)?)))
                    .transpose()?;
                // Checked before a journal is made: `remote set` makes the
                // journal of a new device, but not for a refused token.
                let existing = ctx.journal().ok();
                check_with_server(
                    existing.as_ref(),
                    &url,
                    token.trim(),
                    key.as_ref(),
                    &ctx.settings,
                )?;
                let mut journal = match existing {
                    Some(j) => j,
                    None => ctx.journal_or_create()?,
                };
                journal.set_meta(now, "remote_url", &url)?;
                journal.set_meta(now, "remote_token", token.trim())?;
                let created = match key {
                    Some(k) => {
                        super::key::replace(&mut journal, now, &k, &ctx.settings)?;
                        None
                    }
                    None => ensure_key(&mut journal, now, &ctx.settings)?.1,
                };
                let snapshot = journal.enable_sync(now)?;
                let device = journal.meta("device_id")?.unwrap_or_default();
                if ctx.json {
                    output::json(&serde_json::json!({
                        "url": url, "device_id": device, "pending": journal.unpushed_count()?,
                        "key_created": created.is_some(),
                    }))?;
                } else {
                    let mut s = format!("this journal now syncs with {url} as device {device}\n");
                    if let Some(notice) = created {
                        s.push_str(&notice);
                    }
                    if snapshot > 0 {
                        s.push_str(&format!(
                            "{} ready to push; run `nj sync`\n",
                            count(snapshot, "change")
                        ));
                    }
                    output::print(&s)?;
                }
            }
            RemoteAction::Show { server } => {
                let journal = ctx.journal()?;
                let (url, token) = remote(&server, ctx, &journal)?;
                let device = journal.meta("device_id")?.unwrap_or_default();
                if ctx.json {
                    output::json(
                        &serde_json::json!({ "url": url, "device_id": device, "token": mask(&token) }),
                    )?;
                } else {
                    output::print(&format!(
                        "{url}\n  device {device}\n  token  {}\n",
                        mask(&token)
                    ))?;
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Push this device's changes and pull everyone else's
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Sync {
    #[command(subcommand)]
    action: Option<SyncAction>,

    #[command(flatten)]
    server: Server,
}

#[derive(Debug, Subcommand)]
enum SyncAction {
    /// What waits to be pushed, and when the last sync was
    Status,
}

#[derive(Serialize)]
struct StatusJson {
    remote: Option<String>,
    device_id: Option<String>,
    pending: i64,
    last_sync_at: Option<Timestamp>,
}

impl Sync {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let mut journal = ctx.journal()?;
        if let Some(SyncAction::Status) = self.action {
            let last = journal
                .meta("last_sync_at")?
                .and_then(|v| v.parse().ok())
                .map(Timestamp);
            let status = StatusJson {
                remote: remote(&self.server, ctx, &journal).ok().map(|(u, _)| u),
                device_id: journal.meta("device_id")?,
                pending: journal.unpushed_count()?,
                last_sync_at: last,
            };
            if ctx.json {
                output::json(&status)?;
            } else {
                let last = last.map(|t| t.local()).unwrap_or_else(|| "never".into());
                let remote = status
                    .remote
                    .as_deref()
                    .unwrap_or("(none; `nj remote set URL --token TOKEN`)");
                output::print(&format!(
                    "remote     {remote}\nto push    {}\nlast sync  {last}\n",
                    count(status.pending as usize, "change")
                ))?;
            }
            return Ok(ExitCode::SUCCESS);
        }
        let (url, token) = remote(&self.server, ctx, &journal)?;
        let now = ctx.clock.timestamp();
        let (key, created) = ensure_key(&mut journal, now, &ctx.settings)?;
        if let Some(notice) = created {
            eprint!("{notice}");
        }
        journal.enable_sync(now)?;
        let device = journal.meta("device_id")?.unwrap_or_default();
        let mut transport = HttpTransport::new(&url, &token).with_device(&device);
        // A bar over the changes to push (their number is known), then a
        // count of what is pulled.
        let pending = journal.unpushed_count()?.max(0) as u64;
        let bar = if std::io::stderr().is_terminal() && !ctx.json {
            let bar = ProgressBar::new(pending);
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} changes pushed {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        } else {
            ProgressBar::hidden()
        };
        if journal.meta("repull_below")?.is_some() && !ctx.json {
            eprintln!(
                "reading the journal's changes from the server again, once: the nj before this one could not keep some of them (syndicated copies, say), so this sync takes longer"
            );
        }
        // What this pull brings comes after it.
        let seen = journal.last_article_seq()?;
        let summary = {
            let mut replica = JournalReplica::new(&mut journal, now);
            let mut pulling = false;
            sync(&mut replica, &mut transport, &key, PAGE, |s: &Summary| {
                if s.pulled > 0 && !pulling {
                    pulling = true;
                    bar.set_style(
                        ProgressStyle::with_template("{spinner} {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                }
                if pulling {
                    bar.set_message(format!(
                        "pushed {}, pulled {} changes and {} texts",
                        s.pushed, s.pulled, s.blobs_pulled
                    ));
                    bar.tick();
                } else {
                    bar.set_position(s.pushed as u64);
                }
            })
        };
        bar.finish_and_clear();
        let summary = summary.with_context(|| format!("sync with {url}"))?;
        journal.set_meta(now, "last_sync_at", &now.0.to_string())?;
        // A report clipped here and its copy clipped on another device,
        // or the other way round, become one article, on every device.
        let folded = journal.fold_pulled_copies(now, seen)?;
        if folded > 0 && !ctx.json {
            eprintln!(
                "folded {} from another device into the article{} {} (`nj show ID` lists it); the other devices get the fold at their next sync",
                if folded == 1 { "1 syndicated copy".to_owned() } else { format!("{folded} syndicated copies") },
                if folded == 1 { "" } else { "s" },
                if folded == 1 { "it copies" } else { "they copy" }
            );
        }
        if ctx.json {
            output::json(&summary)?;
        } else {
            let mut s = format!(
                "pushed {} and {}, pulled {} and {}",
                count(summary.pushed, "change"),
                count(summary.blobs_pushed, "text"),
                count(summary.pulled, "change"),
                count(summary.blobs_pulled, "text")
            );
            if summary.conflicts > 0 {
                s.push_str(&format!(
                    "; kept {} written at the same time on two devices (`nj notes` marks them; `nj notes pick ID N` takes one)",
                    count(summary.conflicts, "note text")
                ));
            }
            output::print(&format!("{s}\n"))?;
        }
        if let Some([first, last]) = summary.lost {
            let which = if first == last {
                format!("change #{first}")
            } else {
                format!("changes #{first} to #{last}")
            };
            eprintln!(
                "nj: the server had lost this device's {which} (was its data restored from a backup?); this journal has them, and so do the devices that synced before, but a device that joins now will not. This device's waiting changes now follow on from what the server holds, so sync goes on"
            );
        }
        if summary.skipped > 0 {
            // Said on stderr in JSON mode too: it means the server's copy
            // was altered, or another key sealed part of it.
            eprintln!(
                "nj: skipped {} from the server that failed authentication or could not be read: altered on the server, or sealed with another key; nothing of them was applied",
                count(summary.skipped, "change")
            );
            if let Some(first) = summary.unreadable.first() {
                let more = summary
                    .unreadable_total
                    .saturating_sub(summary.unreadable.len());
                let mut named = summary.unreadable.join(", ");
                if more > 0 {
                    named.push_str(&format!(" and {more} more"));
                }
                // Visible: device ids come from the server.
                eprintln!(
                    "{}",
                    output::visible(&format!(
                        "nj: the ones that did not open: {named}; whoever runs the server can list them with `nj server ops --journal JID --bad` and remove each with `nj server remove-op --journal JID {first}`"
                    ))
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

#[cfg(test)]
mod tests {
    use clap::error::ErrorKind;

    use super::{RemoteAction, Server, SyncAction};
    use crate::cmd::tests::{parse_with, refused};
    use crate::cmd::Command;

    /// The server and token `nj sync ARGS` (or `nj sync status`) is given,
    /// with `vars` set.
    fn sync(vars: &[(&str, &str)], args: &[&str]) -> (Option<String>, Option<String>) {
        match parse_with(vars, &[&["sync"], args].concat())
            .unwrap()
            .command
        {
            Command::Sync(s) => {
                let Server { remote, token } = s.server;
                (remote, token)
            }
            other => panic!("{other:?}"),
        }
    }

    fn some(a: &str, b: &str) -> (Option<String>, Option<String>) {
        (Some(a.to_owned()), Some(b.to_owned()))
    }

    #[test]
    fn flags_win_over_nj_remote_and_nj_token() {
        let env = [("NJ_REMOTE", "http://env:8787"), ("NJ_TOKEN", "njt_env")];
        assert_eq!(sync(&[], &[]), (None, None));
        assert_eq!(sync(&env, &[]), some("http://env:8787", "njt_env"));
        assert_eq!(
            sync(&env, &["--remote", "http://flag:8787"]),
            some("http://flag:8787", "njt_env")
        );
        assert_eq!(
            sync(&env, &["--token=njt_flag"]),
            some("http://env:8787", "njt_flag")
        );
        // `status` takes them after its name, and from the environment.
        let Command::Sync(s) = parse_with(&[], &["sync", "status", "--remote", "http://flag:8787"])
            .unwrap()
            .command
        else {
            panic!()
        };
        assert!(matches!(s.action, Some(SyncAction::Status)));
        assert_eq!(s.server.remote.as_deref(), Some("http://flag:8787"));
        assert_eq!(sync(&env, &["status"]), some("http://env:8787", "njt_env"));
        // Before it, an option conflicts with `status`, as options and
        // actions do in nj's other commands that have both.
        assert_eq!(
            refused(&["sync", "--remote", "http://flag:8787", "status"]),
            ErrorKind::ArgumentConflict
        );
    }

    #[test]
    fn empty_values_are_unset() {
        let vars = [("NJ_DB", ""), ("NJ_REMOTE", "  "), ("NJ_TOKEN", "tok")];
        let cli = parse_with(&vars, &["sync"]).unwrap();
        assert_eq!(cli.db, None);
        let Command::Sync(s) = cli.command else {
            panic!()
        };
        assert_eq!(s.server.remote, None);
        assert_eq!(s.server.token.as_deref(), Some("tok"));
        assert_eq!(sync(&[("NJ_TOKEN", "\t")], &[]), (None, None));
    }

    #[test]
    fn remote_set_takes_nj_token_and_remote_show_nj_remote() {
        let set = |vars: &[(&str, &str)], args: &[&str]| match parse_with(
            vars,
            &[&["remote", "set"], args].concat(),
        )
        .unwrap()
        .command
        {
            Command::Remote(r) => match r.action {
                RemoteAction::Set { url, token, key } => (url, token, key),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        };
        let url = "http://192.168.1.20:8787";
        assert_eq!(set(&[], &[url]), (url.to_owned(), None, None));
        let env = [("NJ_TOKEN", "njt_env")];
        assert_eq!(set(&env, &[url]).1.as_deref(), Some("njt_env"));
        assert_eq!(
            set(&env, &[url, "--token", "njt_flag"]).1.as_deref(),
            Some("njt_flag")
        );
        assert_eq!(set(&[("NJ_TOKEN", " ")], &[url]).1, None);
        assert_eq!(set(&[], &[url, "--key", "-"]).2.as_deref(), Some("-"));
        assert_eq!(
            refused(&["remote", "set"]),
            ErrorKind::MissingRequiredArgument
        );
        let Command::Remote(r) =
            parse_with(&[("NJ_REMOTE", "http://env:8787")], &["remote", "show"])
                .unwrap()
                .command
        else {
            panic!()
        };
        let RemoteAction::Show { server } = r.action else {
            panic!()
        };
        assert_eq!(server.remote.as_deref(), Some("http://env:8787"));
    }
}
