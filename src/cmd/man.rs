//! `nj man`: write a man page for nj and for each of its commands.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, CommandFactory};

use super::{output, Cli, Ctx};

/// Write a man page for nj and for each of its commands
///
/// `nj man -o ~/.local/share/man/man1` writes nj.1, nj-clip.1,
/// nj-follow-up.1, ..., nj-server-revoke.1: then `man nj-clip` works.
#[derive(Debug, Args)]
pub struct Man {
    /// The folder to write the pages in (made if missing)
    #[arg(short = 'o', long, value_name = "DIR")]
    output: PathBuf,
}

impl Man {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        if self.output.exists() && !self.output.is_dir() {
            anyhow::bail!(
                "{} is a file; give the folder to write the man pages in, e.g. ~/.local/share/man/man1",
                self.output.display()
            );
        }
        std::fs::create_dir_all(&self.output)
            .with_context(|| format!("cannot make the folder {}", self.output.display()))?;
        let mut cmd = Cli::command();
        cmd.build();
        let mut written = Vec::new();
        write_pages(&cmd, "nj", "nj", &self.output, &mut written)?;
        if ctx.json {
            output::json(&serde_json::json!({ "written": written }))?;
        } else {
            output::print(&format!(
                "wrote {} man pages to {}; with that folder in MANPATH (~/.local/share/man is by default), try `man nj` or `man nj-clip`\n",
                written.len(),
                self.output.display()
            ))?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Writes `name.1` for `cmd` and, for each subcommand, `name-sub.1`;
/// `invoked` is how it is typed ("nj follow-up edit").
fn write_pages(
    cmd: &clap::Command,
    name: &str,
    invoked: &str,
    dir: &Path,
    written: &mut Vec<String>,
) -> Result<()> {
    // The page's title and NAME line use the page's name ("nj-clip").
    let page = cmd
        .clone()
        .name(name.to_owned())
        .bin_name(invoked.to_owned())
        .version(env!("CARGO_PKG_VERSION"));
    let mut bytes = Vec::new();
    clap_mangen::Man::new(page).render(&mut bytes)?;
    let file = format!("{name}.1");
    output::write_atomically(&dir.join(&file), |out| {
        std::io::Write::write_all(out, &bytes)?;
        Ok(())
    })?;
    written.push(file);
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let sub_name = sub.get_name();
        write_pages(
            sub,
            &format!("{name}-{sub_name}"),
            &format!("{invoked} {sub_name}"),
            dir,
            written,
        )?;
    }
    Ok(())
}
