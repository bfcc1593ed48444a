//! The headless CLI: a thin shell over `core`. Prints human text or `--json`, maps problems
//! to exit codes (0 fine, 1 lint errors, 2 a local problem: profile, key, bad value).

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
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand};

use crate::core::error::ConfigError;
use crate::core::request::Overrides;

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
    /// Print the man page (roff) to stdout
    Manpage,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
struct HistoryArgs {
    #[command(subcommand)]
    command: Option<HistoryCommand>,
    #[command(flatten)]
    list: HistoryListArgs,
}

#[derive(Debug, Subcommand)]
enum HistoryCommand {
    /// Flows newest first, each with its steps (the default)
    List(HistoryListArgs),
    /// One exchange in full: request, response, decoded JWTs, lint at the time
    Show(HistoryShowArgs),
    /// Remove entries (all, or those before a date); asks first on a terminal
    Clear(HistoryClearArgs),
    /// Write exchanges as a HAR 1.2 file (devtools and request tools load it)
    Export(HistoryExportArgs),
    /// Write one flow up as Markdown, for a ticket with the bank
    Report(HistoryReportArgs),
}

#[derive(Debug, Args)]
struct HistoryListArgs {
    /// Only this profile's flows
    #[arg(long, short)]
    profile: Option<String>,
    /// The flows as a JSON array of {id, profile, started_at, steps}
    #[arg(long)]
    json: bool,
    /// At most this many flows
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

#[derive(Debug, Args)]
struct HistoryShowArgs {
    /// The exchange's number (the first column of `history`)
    id: i64,
    /// The whole entry as JSON
    #[arg(long)]
    json: bool,
    /// The request as a curl command, secrets as named placeholders ({{code}}, ...)
    #[arg(long, conflicts_with = "json")]
    curl: bool,
}

#[derive(Debug, Args)]
struct HistoryClearArgs {
    /// Only entries made before this date (2026-01-30, an RFC 3339 time, or relative: -7d)
    #[arg(long, value_name = "DATE", allow_hyphen_values = true)]
    before: Option<String>,
    /// Do not ask (needed when stdin is not a terminal)
    #[arg(long)]
    yes: bool,
}

#[derive(Debug, Args)]
struct HistoryExportArgs {
    /// Where to write the HAR file
    #[arg(long, value_name = "FILE")]
    har: PathBuf,
    /// Only this flow's exchanges (default: all)
    #[arg(long, value_name = "ID")]
    flow: Option<i64>,
}

#[derive(Debug, Args)]
struct HistoryReportArgs {
    /// The flow's number (`history` shows it after "flow")
    id: i64,
    /// Where to write the Markdown
    #[arg(long, value_name = "FILE.md")]
    out: PathBuf,
}

#[derive(Debug, Args)]
struct ProfileArg {
    /// Profile name (config dir, then ./profiles/, then built-in) or path to a .toml file
    #[arg(long, short, default_value = "local")]
    profile: String,
}

#[derive(Debug, Args)]
struct OverrideArgs {
    /// Sign with this private key (PEM, JWK or JWK Set) instead of the profile's
    #[arg(long, value_name = "PATH")]
    key: Option<PathBuf>,
    /// Ask for this permission (repeatable; replaces the profile's list)
    #[arg(long = "permission", value_name = "X")]
    permissions: Vec<String>,
    /// Consent purpose
    #[arg(long, value_name = "X")]
    purpose: Option<String>,
    /// Consent expiry: RFC 3339 (2026-11-30T23:59:59Z) or relative (+30d, -1d)
    #[arg(long, value_name = "X", allow_hyphen_values = true)]
    expiration: Option<String>,
    /// Another consent field, by id or dotted path (e.g. dp_id=BANK1, consent.dp_id=BANK1)
    #[arg(long = "set", value_name = "FIELD=VALUE", value_parser = parse_assignment)]
    set: Vec<(String, String)>,
}

impl OverrideArgs {
    fn to_overrides(&self) -> Overrides {
        Overrides {
            key: self.key.clone(),
            permissions: self.permissions.clone(),
            purpose: self.purpose.clone(),
            expiration: self.expiration.clone(),
            set: self.set.clone(),
        }
    }
}

fn parse_assignment(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!(
            "\"{text}\" is not FIELD=VALUE\n  hint: name the consent field and its value, e.g. --set dp_id=BANK1; `consent-explorer packs show PACK` lists the fields"
        )),
    }
}

/// A wait in seconds, checked before it becomes a `Duration` (which panics on a negative, NaN or
/// huge value).
fn parse_wait(text: &str) -> Result<Duration, String> {
    const MAX_WAIT: f64 = 3600.0;
    let seconds: f64 = text
        .trim()
        .parse()
        .map_err(|_| {
            format!(
                "\"{text}\" is not a number of seconds\n  hint: give seconds as a number, e.g. 30 or 2.5"
            )
        })?;
    if !(seconds > 0.0 && seconds <= MAX_WAIT) {
        return Err(format!(
            "{text} is out of range: give more than 0 and at most {MAX_WAIT} seconds\n  hint: e.g. 30; the default is 30 for --timeout and 10 for --connect-timeout"
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

fn parse_par_status(text: &str) -> Result<u16, String> {
    match text.trim() {
        "200" => Ok(200),
        "201" => Ok(201),
        _ => Err(format!(
            "\"{text}\" is not a status the sandbox answers a PAR with\n  hint: give 201 (RFC 9126) or 200 (the MY and UAE deployments)"
        )),
    }
}

#[derive(Debug, Args)]
struct BuildArgs {
    #[command(flatten)]
    profile: ProfileArg,
    #[command(flatten)]
    overrides: OverrideArgs,
    /// One JSON object: request, client_assertion, code_verifier, form, lint, ...
    #[arg(long)]
    json: bool,
    /// The PAR of a fresh build as a curl command (TLS files from the profile's [tls])
    #[arg(long, conflicts_with = "json")]
    curl: bool,
    /// Compare both JWTs with the portal's published sample, key by key (exit 1 when a
    /// difference has no known reason)
    #[arg(long)]
    compare_sample: bool,
}

#[derive(Debug, Args)]
struct LintArgs {
    /// Profile to build from, or to check --request against
    #[arg(long, short)]
    profile: Option<String>,
    #[command(flatten)]
    overrides: OverrideArgs,
    /// Lint your own client's request object instead of building one: a file, or - for stdin
    #[arg(long, value_name = "FILE|-")]
    request: Option<String>,
    /// Your own client's client assertion, with --request: a file, or - for stdin
    #[arg(long, value_name = "FILE|-", requires = "request")]
    assertion: Option<String>,
    /// Findings as a JSON array of {id, severity, message, reference}
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct SubmitArgs {
    #[command(flatten)]
    profile: ProfileArg,
    #[command(flatten)]
    overrides: OverrideArgs,
    /// One JSON object: status, request_uri, expires_in, expires_at, interaction_id, authorize_url, body (or error, error_description, explanation)
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    network: NetworkArgs,
}

/// How tokens are shown and kept: the same flags for `token` and `flow`.
#[derive(Debug, Args)]
struct TokenOutputArgs {
    /// One JSON object: status, token_type, expires_in, expires_at, scope, authorization_details, consent_id, id_token, access_token, refresh_token_present, interaction_id (or error, error_description, explanation)
    #[arg(long)]
    json: bool,
    /// Print the tokens in full (else only their first and last 4 characters)
    #[arg(long)]
    show_tokens: bool,
    /// Do not keep the tokens in the token store
    #[arg(long)]
    no_store: bool,
}

#[derive(Debug, Args)]
struct TokenArgs {
    #[command(flatten)]
    profile: ProfileArg,
    /// The whole URL the browser was redirected to (or only its query)
    #[arg(long, value_name = "URL")]
    callback: String,
    #[command(flatten)]
    output: TokenOutputArgs,
    #[command(flatten)]
    network: NetworkArgs,
}

#[derive(Debug, Args)]
struct FlowArgs {
    #[command(flatten)]
    profile: ProfileArg,
    /// Print the authorize URL without opening the system browser
    #[arg(long)]
    no_browser: bool,
    /// Seconds to wait for the callback on a loopback redirect_uri
    #[arg(long, default_value = "300", value_name = "SECONDS", value_parser = parse_wait)]
    wait: Duration,
    #[command(flatten)]
    output: TokenOutputArgs,
    #[command(flatten)]
    network: NetworkArgs,
}

#[derive(Debug, Args)]
struct RefreshArgs {
    #[command(flatten)]
    profile: ProfileArg,
    /// The same JSON object as `token --json`
    #[arg(long)]
    json: bool,
    /// Print the tokens in full (else only their first and last 4 characters)
    #[arg(long)]
    show_tokens: bool,
    #[command(flatten)]
    network: NetworkArgs,
}

#[derive(Debug, Subcommand)]
enum TokensCommand {
    /// Remove the kept tokens of one profile, or of every profile
    Clear(TokensClearArgs),
}

#[derive(Debug, Args)]
struct TokensClearArgs {
    /// Only this profile's tokens (default: every profile's)
    #[arg(long, short)]
    profile: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["issuer", "profile"])))]
struct DiscoverArgs {
    /// The issuer identifier (https://...): ISSUER/.well-known/openid-configuration is read
    issuer: Option<String>,
    /// Check this profile against its server's document (an embedded profile: its sandbox)
    #[arg(long, short)]
    profile: Option<String>,
    /// One JSON object: the document's fields this flow uses, discovery_url, profile, findings
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    network: NetworkArgs,
}

#[derive(Debug, Args)]
struct CallArgs {
    #[command(flatten)]
    profile: ProfileArg,
    /// An endpoint of the pack (accounts, balances, transactions, ...) or a method (GET)
    endpoint: String,
    /// The endpoint's arguments (an ACCOUNT_ID), or the path after a method
    args: Vec<String>,
    /// A query parameter (repeatable), e.g. --query page_size=5
    #[arg(long = "query", value_name = "K=V", value_parser = parse_pair)]
    query: Vec<(String, String)>,
    /// An extra header (repeatable), e.g. --header x-fapi-customer-ip-address=203.0.113.7
    #[arg(long = "header", value_name = "NAME=VALUE", value_parser = parse_pair)]
    headers: Vec<(String, String)>,
    /// One JSON object: status, interaction_id, request (x-signature header and claims), envelope (verified, header, claims), jwe (header), payload, notes
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    network: NetworkArgs,
}

fn parse_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!(
            "\"{text}\" is not NAME=VALUE\n  hint: e.g. --query page_size=5"
        )),
    }
}

#[derive(Debug, Subcommand)]
enum ConsentCommand {
    /// The consent's status and history, as the server says
    Show(ConsentArgs),
    /// Revoke the consent: later resource calls with its tokens fail
    Revoke(ConsentArgs),
}

#[derive(Debug, Args)]
struct ConsentArgs {
    #[command(flatten)]
    profile: ProfileArg,
    /// The consent id (default: the latest flow's)
    consent_id: Option<String>,
    /// The same JSON object as `call --json`
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    network: NetworkArgs,
}

/// How to talk to a server: the same flags for every command that does.
#[derive(Debug, Args)]
struct NetworkArgs {
    /// Do not verify the server's TLS certificate (test servers only)
    #[arg(long)]
    insecure: bool,
    /// Seconds to wait for the whole exchange (more than 0, at most 3600)
    #[arg(long, default_value = "30", value_name = "SECONDS", value_parser = parse_wait)]
    timeout: Duration,
    /// Seconds to wait for the connection (more than 0, at most 3600)
    #[arg(long, default_value = "10", value_name = "SECONDS", value_parser = parse_wait)]
    connect_timeout: Duration,
}

impl NetworkArgs {
    /// The client options, warning first when the server's certificate goes unchecked.
    fn options(&self) -> crate::core::transport::ClientOptions {
        if self.insecure {
            output::complain!(
                "warning: --insecure: the server's TLS certificate is NOT verified; use this only with a test server you trust"
            );
        }
        crate::core::transport::ClientOptions {
            connect_timeout: self.connect_timeout,
            timeout: self.timeout,
            insecure: self.insecure,
        }
    }
}

#[derive(Debug, Args)]
struct ProbeArgs {
    #[command(flatten)]
    profile: ProfileArg,
    #[command(flatten)]
    overrides: OverrideArgs,
    /// Only these cases (comma-separated ids; the controls are always sent)
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    only: Vec<String>,
    /// One JSON object: rows of {id, changes, expected, got, verdict} and summary (progress goes to stderr)
    #[arg(long)]
    json: bool,
    /// Also write the report as Markdown, to share with the bank's support
    #[arg(long, value_name = "FILE.md")]
    report: Option<PathBuf>,
    /// Send without asking (needed without a terminal)
    #[arg(long)]
    yes: bool,
    /// Pause between requests: milliseconds (200), or 500ms, 2s
    #[arg(long, default_value = "200", value_name = "MS", value_parser = probe::parse_delay)]
    delay: Duration,
    /// Exit 1 when any case is lenient (CI of a bank's own server)
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    network: NetworkArgs,
}

#[derive(Debug, Args)]
struct SandboxArgs {
    /// Port on 127.0.0.1 (0: any free port)
    #[arg(long, default_value_t = crate::core::profile::DEFAULT_EMBEDDED_PORT)]
    port: u16,
    /// Trust this profile's client_id, redirect_uri and key
    #[arg(long, default_value = "local", value_name = "PROFILE")]
    trust: String,
    /// Status of a successful PAR: 201 (RFC 9126) or 200 (the MY and UAE deployments)
    #[arg(long, default_value_t = 201, value_parser = parse_par_status)]
    par_status: u16,
    /// Require the server's nonce in DPoP proofs (answer use_dpop_nonce first, RFC 9449 8)
    #[arg(long)]
    dpop_nonce: bool,
}

#[derive(Debug, Args)]
struct JwksArgs {
    #[command(flatten)]
    profile: ProfileArg,
    /// Use this private key instead of the profile's
    #[arg(long, value_name = "PATH")]
    key: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct KeygenArgs {
    /// PS256 (default), ES256, EdDSA, or another asymmetric JWS alg
    #[arg(long, default_value = "PS256")]
    alg: String,
    /// Where to write the private key (default: the data dir's keys/ folder); never overwritten
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
    /// sig (default): a signing key for --alg; enc: an RSA-2048 key for RSA-OAEP-256 encryption
    #[arg(long = "use", default_value = "sig", value_parser = ["sig", "enc"])]
    key_use: String,
}

#[derive(Debug, Subcommand)]
enum ProfilesCommand {
    /// Every profile found: config dir, ./profiles/, built-in
    List,
    /// A profile's file and what it resolves to
    Show { name: String },
}

#[derive(Debug, Subcommand)]
enum PacksCommand {
    /// Every consent pack: built-in and the config dir's consent-packs/
    List,
    /// A pack's fields, values and constraints, by type URN or id
    Show {
        name: String,
        /// The pack as JSON
        #[arg(long)]
        json: bool,
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
        Some(Command::Manpage) => shell::manpage(),
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
