//! `nj open`: open an article's page in the web browser.

use std::process::{Command, ExitCode, Stdio};

use anyhow::{bail, Context, Result};
use clap::Args;
use newsjournal::journal::short_id;

use super::output;
use super::Ctx;

/// Open an article's page in the web browser
///
/// Uses $BROWSER when set (a command, or several separated by `:`; `%s`
/// stands for the address), else xdg-open (or open on macOS). With
/// --print, only prints the address.
#[derive(Debug, Args)]
pub struct Open {
    /// The article's id
    id: String,

    /// Print the address instead of opening it
    #[arg(long)]
    print: bool,
}

impl Open {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let journal = ctx.journal()?;
        let article = journal.article(&journal.resolve_article(&self.id)?)?;
        let Some(url) = article
            .url
            .clone()
            .or_else(|| article.urls.first().cloned())
        else {
            bail!(
                "{} has no address to open: it was clipped from a file or stdin without --url; `nj show {}` shows its text",
                short_id(&article.id),
                short_id(&article.id)
            );
        };
        if ctx.json {
            output::json(&serde_json::json!({ "id": article.id, "url": url }))?;
            if self.print {
                return Ok(ExitCode::SUCCESS);
            }
        } else if self.print {
            output::print(&format!("{url}\n"))?;
            return Ok(ExitCode::SUCCESS);
        }
        open_in_browser(&url)?;
        Ok(ExitCode::SUCCESS)
    }
}

/// Hands `url` to the user's browser: each `$BROWSER` command in turn
/// (the convention `man`, `git web--browse` and Python's webbrowser
/// follow), then the desktop's opener. The browser is left running; nj
/// does not wait for it.
fn open_in_browser(url: &str) -> Result<()> {
    let mut tried = Vec::new();
    let browsers = std::env::var("BROWSER").unwrap_or_default();
    let mut commands: Vec<String> = browsers
        .split(':')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    commands.push(
        if cfg!(target_os = "macos") {
            "open"
        } else {
            "xdg-open"
        }
        .to_owned(),
    );
    for command in &commands {
        // A command with arguments ("firefox --new-tab") is split on
        // spaces; `%s` marks where the address goes.
        let mut words: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
        if words.iter().any(|w| w.contains("%s")) {
            for w in &mut words {
                *w = w.replace("%s", url);
            }
        } else {
            words.push(url.to_owned());
        }
        let (program, args) = words.split_first().context("an empty browser command")?;
        match Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
        {
            Ok(_) => return Ok(()),
            Err(e) => tried.push(format!("{program} ({e})")),
        }
    }
    bail!(
        "could not start a browser for {url}: tried {}; set BROWSER to your browser's command, or use `nj open --print ID`",
        tried.join(", ")
    )
}
