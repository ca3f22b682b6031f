//! `nj key`: the journal key, and reading a key or passphrase for the commands that need one.

use super::settings::Settings;
use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use newsjournal::journal::{parse_key, Journal};
use newsjournal::sync::crypto::JournalKey;
use newsjournal::time::Timestamp;

use super::output;
use super::Ctx;

/// The journal key that encrypts everything sync sends
#[derive(Debug, Args)]
pub struct Key {
    #[command(subcommand)]
    action: KeyAction,
}

#[derive(Debug, Subcommand)]
enum KeyAction {
    /// Print the key as a recovery string, to bring to another device
    Show,
    /// Use KEY (from `nj key show` on another device) as this journal's key
    Import {
        /// The recovery string; read from standard input when left out or `-`
        key: Option<String>,
    },
    /// Keep the key only wrapped under a passphrase (asked for, or NJ_PASSPHRASE)
    Passphrase {
        /// Keep the key unwrapped again
        #[arg(long)]
        remove: bool,
    },
}

/// A recovery string given as an argument, or read from standard input
/// for `-`: a key on the command line is visible to other users of the
/// machine (in `ps`) and stays in the shell's history.
pub fn key_text(arg: &str) -> Result<String> {
    if arg != "-" {
        return Ok(arg.to_owned());
    }
    let mut s = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut s)
        .context("cannot read the key from standard input")?;
    Ok(s)
}

/// The passphrase from NJ_PASSPHRASE, or asked for on the terminal.
pub fn passphrase(prompt: &str, settings: &Settings) -> Result<String> {
    ask(
        settings,
        prompt,
        "the journal key is protected by a passphrase; set NJ_PASSPHRASE, or run this in a terminal to be asked",
    )
}

/// NJ_PASSPHRASE, or `prompt` on the terminal; without a terminal, fails
/// with `no_terminal`.
fn ask(settings: &Settings, prompt: &str, no_terminal: &str) -> Result<String> {
    if let Some(p) = &settings.passphrase {
        return Ok(p.clone());
    }
    if !std::io::stdin().is_terminal() {
        bail!("{no_terminal}");
    }
    Ok(rpassword::prompt_password(prompt)?)
}

/// A new passphrase, asked twice on a terminal so a typo cannot lock the
/// key away.
fn new_passphrase(settings: &Settings) -> Result<String> {
    if let Some(p) = &settings.passphrase {
        return Ok(p.clone());
    }
    // Nothing is wrapped yet, so say what is asked for, not that a
    // passphrase protects the key.
    let no_terminal = "a new passphrase is asked for twice on a terminal; run this in a terminal, or set NJ_PASSPHRASE to the new passphrase; nothing was changed";
    let first = ask(settings, "new passphrase: ", no_terminal)?;
    let again = ask(settings, "the same again: ", no_terminal)?;
    if first != again {
        bail!("the two passphrases differ; nothing was changed");
    }
    Ok(first)
}

/// The journal's key, asking for the passphrase if it is wrapped.
pub fn unlock(journal: &Journal, settings: &Settings) -> Result<Option<JournalKey>> {
    Ok(journal.unlock_key(|| {
        passphrase("passphrase for the journal key: ", settings).map_err(Into::into)
    })?)
}

/// What to tell a user about a key just made: it is needed everywhere
/// and cannot be recovered from the server.
pub fn created_notice(key: &JournalKey) -> String {
    format!(
        "created this journal's encryption key; every device that syncs it needs the key, and nothing on the server can be read without it, so keep a copy somewhere safe:\n  {}\n(`nj key show` prints it again; on another device: nj remote set URL --token TOKEN --key KEY)\n",
        key.to_recovery()
    )
}

/// Stores `key` in place of the journal's, keeping it wrapped (under a
/// passphrase asked for now) if the old one was. The old key need not open:
/// the recovery string is how a forgotten passphrase or a damaged key is
/// put right.
pub fn replace(
    journal: &mut Journal,
    now: Timestamp,
    key: &JournalKey,
    settings: &Settings,
) -> Result<()> {
    let pass = if journal.key_is_wrapped()? {
        Some(new_passphrase(settings)?)
    } else {
        None
    };
    journal.store_key(now, key, pass.as_deref())?;
    Ok(())
}

impl Key {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        // A new device may bring its key before anything else; the key is
        // read (and a bad one refused) before a journal is made.
        let import = match &self.action {
            KeyAction::Import { key } => {
                let text = key_text(key.as_deref().unwrap_or("-"))?;
                Some(parse_key(&text)?)
            }
            _ => None,
        };
        let mut journal = match import {
            Some(_) => ctx.journal_or_create()?,
            None => ctx.journal()?,
        };
        let now = ctx.clock.timestamp();
        match self.action {
            KeyAction::Show => {
                let Some(key) = unlock(&journal, &ctx.settings)? else {
                    bail!("this journal has no key yet; `nj remote set URL --token TOKEN` makes one (or `nj key import KEY` brings one)");
                };
                if ctx.json {
                    output::json(&serde_json::json!({ "key": key.to_recovery() }))?;
                } else {
                    output::print(&format!("{}\n", key.to_recovery()))?;
                }
            }
            KeyAction::Import { .. } => {
                let key = import.expect("read above");
                replace(&mut journal, now, &key, &ctx.settings)?;
                output::print("imported the journal key; run `nj sync`\n")?;
            }
            KeyAction::Passphrase { remove } => {
                let Some(key) = unlock(&journal, &ctx.settings)? else {
                    bail!(
                        "this journal has no key yet; `nj remote set URL --token TOKEN` makes one"
                    );
                };
                if remove {
                    journal.store_key(now, &key, None)?;
                    output::print("the journal key is no longer wrapped under a passphrase\n")?;
                } else {
                    let p = new_passphrase(&ctx.settings)?;
                    journal.store_key(now, &key, Some(&p))?;
                    output::print("the journal key is now kept only wrapped under the passphrase; nj asks for it (or reads NJ_PASSPHRASE) when it syncs\n")?;
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
