//! Shell integration generated from the same clap definition the parser uses, so completions
//! and the man page list exactly the commands and flags that exist.

use std::process::ExitCode;

use clap::CommandFactory;

use super::{Cli, Failure, Outcome};

pub fn completions(shell: clap_complete::Shell) -> Outcome {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "consent-explorer", &mut script);
    write_raw(&script)
}

pub fn manpage() -> Outcome {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|e| Failure::Other(format!("cannot render the man page: {e}")))?;
    write_raw(&page)
}

/// A script or roff page: our own text (tabs and newlines pass `printable` unchanged).
fn write_raw(bytes: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(bytes);
    super::output::line(text.trim_end());
    Ok(ExitCode::SUCCESS)
}
