use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, Ctx};

/// Print a shell completion script: nj completions bash > ~/.local/share/bash-completion/completions/nj
#[derive(Debug, Args)]
pub struct Completions {
    /// bash, zsh, fish, elvish or powershell
    shell: Shell,
}

impl Completions {
    pub fn run(self, _ctx: &Ctx) -> Result<ExitCode> {
        let mut cmd = Cli::command();
        clap_complete::generate(self.shell, &mut cmd, "nj", &mut std::io::stdout().lock());
        Ok(ExitCode::SUCCESS)
    }
}
