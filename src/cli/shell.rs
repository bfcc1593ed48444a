//! Shell integration generated from the same clap definition the parser uses, so completions
//! and the man page list exactly the commands and flags that exist.

use std::process::ExitCode;

use clap::CommandFactory;

use super::{Cli, Failure, Outcome};
use crate::core::error::{ConfigError, Origin};

pub fn completions(shell: clap_complete::Shell) -> Outcome {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "consent-explorer", &mut script);
    write_raw(&script)
}

pub fn manpage(dir: Option<&std::path::Path>) -> Outcome {
    if let Some(dir) = dir {
        return manpages_into(dir);
    }
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|e| Failure::Other(format!("cannot render the man page: {e}")))?;
    write_raw(&page)
}

/// Every page, named as man looks them up (the top page's SEE ALSO names the others).
fn manpages_into(dir: &std::path::Path) -> Outcome {
    let failed = |e: std::io::Error| {
        Failure::Config(ConfigError::new(
            Origin::Flag("--dir".into()),
            "",
            format!("cannot write the man pages into {}: {e}", dir.display()),
            "give a directory you can write to, e.g. ~/.local/share/man/man1",
        ))
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    clap_mangen::generate_to(Cli::command(), dir).map_err(failed)?;
    super::output::complain!("wrote the man pages into {}", dir.display());
    Ok(ExitCode::SUCCESS)
}

/// A script or roff page: our own text (tabs and newlines pass `printable` unchanged).
fn write_raw(bytes: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(bytes);
    super::output::line(text.trim_end());
    Ok(ExitCode::SUCCESS)
}
