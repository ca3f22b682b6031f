//! `nj completions SHELL`: print nj's shell completion script.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{output, Cli, Ctx};

/// Print a shell completion script: nj completions bash > ~/.local/share/bash-completion/completions/nj
#[derive(Debug, Args)]
pub struct Completions {
    /// bash, zsh, fish, elvish or powershell
    shell: Shell,
}

impl Completions {
    pub fn run(self, _ctx: &Ctx) -> Result<ExitCode> {
        let mut cmd = Cli::command();
        // Into memory first: clap_complete panics when stdout is closed
        // (`nj completions bash | head -1`), and a closed pipe is success.
        let mut script = Vec::new();
        clap_complete::generate(self.shell, &mut cmd, "nj", &mut script);
        output::print_exact(&String::from_utf8_lossy(&script))?;
        Ok(ExitCode::SUCCESS)
    }
}
