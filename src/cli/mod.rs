//! The headless CLI: a thin shell over `core`. Prints human text or `--json`, maps problems
//! to exit codes (0 fine, 1 lint errors, 2 a local problem: profile, key, bad value).

mod args;
mod build;
mod call;
mod catalog;
mod compare;
mod consent;
mod discover;
mod dpop;
mod flow;
mod history;
mod keys;
mod output;
mod probe;
mod render;
mod shell;
mod submit;
mod token;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::core::error::ConfigError;

use args::*;

#[derive(Debug, Parser)]
#[command(
    name = "consent-explorer",
    version,
    about = "Build, lint and submit FAPI 2.0 Pushed Authorization Requests for Open Finance",
    long_about = "Build, lint and submit FAPI 2.0 Pushed Authorization Requests (PAR) for Open Finance \
(Malaysia, UAE, any strict FAPI 2.0 server): a signed request object with authorization_details and \
PKCE S256, and a private_key_jwt client assertion, decoded side by side, with a pre-flight lint that \
says what a strict server would refuse and why.\n\nStart with `consent-explorer build --profile local`: \
it needs no key and no network. Without a subcommand, the terminal UI opens on the `local` profile.",
    after_help = "Exit codes: 0 fine, 1 lint found errors or the server refused, 2 a local problem (profile, key, value), 3 a network or TLS problem."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Open the terminal UI on a profile (the bare command opens it on `local`)
    Tui(ProfileArg),
    /// Build both signed JWTs of a PAR and print them decoded, with the form body and lint
    Build(BuildArgs),
    /// Say what a strict FAPI 2.0 server would refuse (exit 1 on any error)
    Lint(LintArgs),
    /// Send the PAR and show the answer (exit 1 refused, 3 network/TLS problem)
    Submit(SubmitArgs),
    /// Check a callback and exchange its code for tokens, the ID token verified (exit 1 refused or a failed check)
    Token(TokenArgs),
    /// PAR, authorize, callback and token in one command (headless against the embedded sandbox)
    Flow(FlowArgs),
    /// Trade the kept refresh token for new tokens
    Refresh(RefreshArgs),
    /// The kept tokens (0600, in the data dir)
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Read the server's discovery document; with a profile, where they disagree (exit 1 on an error)
    Discover(DiscoverArgs),
    /// Map what a server enforces: each case changes one thing of the valid PAR (asks first unless --yes)
    Probe(ProbeArgs),
    /// Call the resource API with the kept token: request signed, answer verified and decrypted (exit 1 refused or a layer failed)
    Call(CallArgs),
    /// Show or revoke the consent of the latest flow (or the one given)
    #[command(subcommand)]
    Consent(ConsentCommand),
    /// Run the embedded sandbox authorization server in the foreground
    #[command(alias = "local-as")]
    Sandbox(SandboxArgs),
    /// Print the public JWK Set of a profile's key, to register with the authorization server
    Jwks(JwksArgs),
    /// Make a new private key (file mode 0600) and print its public JWK
    Keygen(KeygenArgs),
    /// List or show profiles
    #[command(subcommand)]
    Profiles(ProfilesCommand),
    /// List or show consent packs
    #[command(subcommand)]
    Packs(PacksCommand),
    /// Every exchange sent (redacted): list, show, clear, export as HAR, report a flow as Markdown
    History(HistoryArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell) to stdout
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff) to stdout; with --dir, write one page per command there
    Manpage {
        /// Write consent-explorer.1 and a page for every subcommand (consent-explorer-flow.1, ...) into DIR
        #[arg(long, value_name = "DIR")]
        dir: Option<std::path::PathBuf>,
    },
}

/// A command's failure: a local problem (exit 2) or a plain message.
#[derive(Debug)]
pub enum Failure {
    Config(ConfigError),
    Other(String),
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::Config(e)
    }
}

pub type Outcome = Result<ExitCode, Failure>;

impl Cli {
    /// The profile the terminal UI opens on, when the command line asks for the UI.
    pub fn tui_profile(&self) -> Option<&str> {
        match &self.command {
            None => Some("local"),
            Some(Command::Tui(args)) => Some(&args.profile),
            Some(_) => None,
        }
    }
}

/// Runs a subcommand; the terminal UI is `main`'s to start (see `Cli::tui_profile`).
pub fn run(cli: Cli) -> ExitCode {
    let outcome = match cli.command {
        None | Some(Command::Tui(_)) => {
            let _ = writeln!(
                std::io::stderr(),
                "error: the terminal UI is not a subcommand of the CLI"
            );
            return ExitCode::from(2);
        }
        Some(Command::Build(args)) => build::build(&args),
        Some(Command::Lint(args)) => build::lint(&args),
        Some(Command::Submit(args)) => submit::submit(&args),
        Some(Command::Token(args)) => token::token(&args),
        Some(Command::Flow(args)) => flow::flow(&args),
        Some(Command::Refresh(args)) => token::refresh(&args),
        Some(Command::Tokens(TokensCommand::Clear(args))) => token::tokens_clear(&args),
        Some(Command::Discover(args)) => discover::discover(&args),
        Some(Command::Probe(args)) => probe::probe(&args),
        Some(Command::Call(args)) => call::call(&args),
        Some(Command::Consent(ConsentCommand::Show(args))) => consent::show(&args),
        Some(Command::Consent(ConsentCommand::Revoke(args))) => consent::revoke(&args),
        Some(Command::Sandbox(args)) => submit::sandbox(&args),
        Some(Command::Jwks(args)) => keys::jwks(&args),
        Some(Command::Keygen(args)) => keys::keygen(&args),
        Some(Command::Profiles(ProfilesCommand::List)) => catalog::profiles_list(),
        Some(Command::Profiles(ProfilesCommand::Show { name })) => catalog::profiles_show(&name),
        Some(Command::Packs(PacksCommand::List)) => catalog::packs_list(),
        Some(Command::Packs(PacksCommand::Show { name, json })) => catalog::packs_show(&name, json),
        Some(Command::History(args)) => history::history(&args),
        Some(Command::Completions { shell }) => shell::completions(shell),
        Some(Command::Manpage { dir }) => shell::manpage(dir.as_deref()),
    };
    match outcome {
        Ok(code) => output::finish(code),
        Err(failure) => {
            let message = match failure {
                Failure::Config(e) => e.to_string(),
                Failure::Other(m) => m,
            };
            output::error_line(&format!("error: {message}"));
            ExitCode::from(2)
        }
    }
}
