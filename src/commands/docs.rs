//! `appeal completions` and `appeal man`: the shell completions and the manual page, made
//! from the command line's own definition.

use anyhow::Result;

use crate::cli::{Cli, Shell};
use crate::exit::Exit;

/// `appeal completions SHELL`: the completion script on stdout.
pub fn completions(shell: Shell) -> Result<Exit> {
    use clap_complete::Shell as S;
    let shell = match shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Elvish => S::Elvish,
        Shell::Powershell => S::PowerShell,
    };
    let mut command = <Cli as clap::CommandFactory>::command();
    clap_complete::generate(shell, &mut command, "appeal", &mut std::io::stdout().lock());
    Ok(Exit::Success)
}

/// `appeal man`: the manual page (roff) on stdout.
pub fn man() -> Result<Exit> {
    let man = clap_mangen::Man::new(<Cli as clap::CommandFactory>::command());
    man.render(&mut std::io::stdout().lock())?;
    Ok(Exit::Success)
}
