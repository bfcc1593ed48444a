use clap::Parser;
use consent_explorer::{cli, tui};

fn main() -> std::process::ExitCode {
    let command_line = cli::Cli::parse();
    match command_line.tui_profile() {
        Some(profile) => tui::run(profile),
        None => cli::run(command_line),
    }
}
