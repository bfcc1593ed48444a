//! The command line's arguments, command by command (clap derive): what each subcommand
//! takes, checked as it is parsed.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args, Subcommand};

use super::output;
use crate::core::request::Overrides;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(super) struct HistoryArgs {
    #[command(subcommand)]
    pub(super) command: Option<HistoryCommand>,
    #[command(flatten)]
    pub(super) list: HistoryListArgs,
}

#[derive(Debug, Subcommand)]
pub(super) enum HistoryCommand {
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
pub(super) struct HistoryListArgs {
    /// Only this profile's flows
    #[arg(long, short)]
    pub(super) profile: Option<String>,
    /// The flows as a JSON array of {id, profile, started_at, steps}
    #[arg(long)]
    pub(super) json: bool,
    /// At most this many flows
    #[arg(long, default_value_t = 50)]
    pub(super) limit: usize,
}

#[derive(Debug, Args)]
pub(super) struct HistoryShowArgs {
    /// The exchange's number (the first column of `history`)
    pub(super) id: i64,
    /// The whole entry as JSON
    #[arg(long)]
    pub(super) json: bool,
    /// The request as a curl command, secrets as named placeholders ({{code}}, ...)
    #[arg(long, conflicts_with = "json")]
    pub(super) curl: bool,
}

#[derive(Debug, Args)]
pub(super) struct HistoryClearArgs {
    /// Only entries made before this date (2026-01-30, an RFC 3339 time, or relative: -7d)
    #[arg(long, value_name = "DATE", allow_hyphen_values = true)]
    pub(super) before: Option<String>,
    /// Do not ask (needed when stdin is not a terminal)
    #[arg(long)]
    pub(super) yes: bool,
}

#[derive(Debug, Args)]
pub(super) struct HistoryExportArgs {
    /// Where to write the HAR file
    #[arg(long, value_name = "FILE")]
    pub(super) har: PathBuf,
    /// Only this flow's exchanges (default: all)
    #[arg(long, value_name = "ID")]
    pub(super) flow: Option<i64>,
}

#[derive(Debug, Args)]
pub(super) struct HistoryReportArgs {
    /// The flow's number (`history` shows it after "flow")
    pub(super) id: i64,
    /// Where to write the Markdown
    #[arg(long, value_name = "FILE.md")]
    pub(super) out: PathBuf,
}

#[derive(Debug, Args)]
pub(super) struct ProfileArg {
    /// Profile name (config dir, then ./profiles/, then built-in) or path to a .toml file
    #[arg(long, short, default_value = "local")]
    pub(super) profile: String,
}

#[derive(Debug, Args)]
pub(super) struct OverrideArgs {
    /// Sign with this private key (PEM, JWK or JWK Set) instead of the profile's
    #[arg(long, value_name = "PATH")]
    pub(super) key: Option<PathBuf>,
    /// Ask for this permission (repeatable; replaces the profile's list)
    #[arg(long = "permission", value_name = "X")]
    pub(super) permissions: Vec<String>,
    /// Consent purpose
    #[arg(long, value_name = "X")]
    pub(super) purpose: Option<String>,
    /// Consent expiry: RFC 3339 (2026-11-30T23:59:59Z) or relative (+30d, -1d)
    #[arg(long, value_name = "X", allow_hyphen_values = true)]
    pub(super) expiration: Option<String>,
    /// Another consent field, by id or dotted path (e.g. dp_id=BANK1, consent.dp_id=BANK1)
    #[arg(long = "set", value_name = "FIELD=VALUE", value_parser = parse_assignment)]
    pub(super) set: Vec<(String, String)>,
}

impl OverrideArgs {
    pub(super) fn to_overrides(&self) -> Overrides {
        Overrides {
            key: self.key.clone(),
            permissions: self.permissions.clone(),
            purpose: self.purpose.clone(),
            expiration: self.expiration.clone(),
            set: self.set.clone(),
        }
    }
}

pub(super) fn parse_assignment(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!(
            "\"{text}\" is not FIELD=VALUE\n  hint: name the consent field and its value, e.g. --set dp_id=BANK1; `consent-explorer packs show PACK` lists the fields"
        )),
    }
}

/// A wait in seconds, checked before it becomes a `Duration` (which panics on a negative, NaN or
/// huge value).
pub(super) fn parse_wait(text: &str) -> Result<Duration, String> {
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

pub(super) fn parse_par_status(text: &str) -> Result<u16, String> {
    match text.trim() {
        "200" => Ok(200),
        "201" => Ok(201),
        _ => Err(format!(
            "\"{text}\" is not a status the sandbox answers a PAR with\n  hint: give 201 (RFC 9126) or 200 (the MY and UAE deployments)"
        )),
    }
}

#[derive(Debug, Args)]
pub(super) struct BuildArgs {
    #[command(flatten)]
    pub(super) profile: ProfileArg,
    #[command(flatten)]
    pub(super) overrides: OverrideArgs,
    /// One JSON object: request, client_assertion, code_verifier, form, lint, ...
    #[arg(long)]
    pub(super) json: bool,
    /// The PAR of a fresh build as a curl command (TLS files from the profile's [tls])
    #[arg(long, conflicts_with = "json")]
    pub(super) curl: bool,
    /// Compare both JWTs with the portal's published sample, key by key (exit 1 when a
    /// difference has no known reason)
    #[arg(long)]
    pub(super) compare_sample: bool,
}

#[derive(Debug, Args)]
pub(super) struct LintArgs {
    /// Profile to build from, or to check --request against
    #[arg(long, short)]
    pub(super) profile: Option<String>,
    #[command(flatten)]
    pub(super) overrides: OverrideArgs,
    /// Lint your own client's request object instead of building one: a file, or - for stdin
    #[arg(long, value_name = "FILE|-")]
    pub(super) request: Option<String>,
    /// Your own client's client assertion, with --request: a file, or - for stdin
    #[arg(long, value_name = "FILE|-", requires = "request")]
    pub(super) assertion: Option<String>,
    /// Findings as a JSON array of {id, severity, message, reference}
    #[arg(long)]
    pub(super) json: bool,
}

#[derive(Debug, Args)]
pub(super) struct SubmitArgs {
    #[command(flatten)]
    pub(super) profile: ProfileArg,
    #[command(flatten)]
    pub(super) overrides: OverrideArgs,
    /// One JSON object: status, request_uri, expires_in, expires_at, interaction_id, authorize_url, body (or error, error_description, explanation)
    #[arg(long)]
    pub(super) json: bool,
    #[command(flatten)]
    pub(super) network: NetworkArgs,
}

/// How tokens are shown and kept: the same flags for `token` and `flow`.
#[derive(Debug, Args)]
pub(super) struct TokenOutputArgs {
    /// One JSON object: status, token_type, expires_in, expires_at, scope, authorization_details, consent_id, id_token, access_token, refresh_token_present, interaction_id (or error, error_description, explanation)
    #[arg(long)]
    pub(super) json: bool,
    /// Print the tokens in full (else only their first and last 4 characters)
    #[arg(long)]
    pub(super) show_tokens: bool,
    /// Do not keep the tokens in the token store
    #[arg(long)]
    pub(super) no_store: bool,
}

#[derive(Debug, Args)]
pub(super) struct TokenArgs {
    #[command(flatten)]
    pub(super) profile: ProfileArg,
    /// The whole URL the browser was redirected to (or only its query)
    #[arg(long, value_name = "URL")]
    pub(super) callback: String,
    #[command(flatten)]
    pub(super) output: TokenOutputArgs,
    #[command(flatten)]
    pub(super) network: NetworkArgs,
}

#[derive(Debug, Args)]
pub(super) struct FlowArgs {
    #[command(flatten)]
    pub(super) profile: ProfileArg,
    /// Print the authorize URL without opening the system browser
    #[arg(long)]
    pub(super) no_browser: bool,
    /// Seconds to wait for the callback on a loopback redirect_uri
    #[arg(long, default_value = "300", value_name = "SECONDS", value_parser = parse_wait)]
    pub(super) wait: Duration,
    #[command(flatten)]
    pub(super) output: TokenOutputArgs,
    #[command(flatten)]
    pub(super) network: NetworkArgs,
}

#[derive(Debug, Args)]
pub(super) struct RefreshArgs {
    #[command(flatten)]
    pub(super) profile: ProfileArg,
    /// The same JSON object as `token --json`
    #[arg(long)]
    pub(super) json: bool,
    /// Print the tokens in full (else only their first and last 4 characters)
    #[arg(long)]
    pub(super) show_tokens: bool,
    #[command(flatten)]
    pub(super) network: NetworkArgs,
}

#[derive(Debug, Subcommand)]
pub(super) enum TokensCommand {
    /// Remove the kept tokens of one profile, or of every profile
    Clear(TokensClearArgs),
}

#[derive(Debug, Args)]
pub(super) struct TokensClearArgs {
    /// Only this profile's tokens (default: every profile's)
    #[arg(long, short)]
    pub(super) profile: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["issuer", "profile"])))]
pub(super) struct DiscoverArgs {
    /// The issuer identifier (https://...): ISSUER/.well-known/openid-configuration is read
    pub(super) issuer: Option<String>,
    /// Check this profile against its server's document (an embedded profile: its sandbox)
    #[arg(long, short)]
    pub(super) profile: Option<String>,
    /// One JSON object: the document's fields this flow uses, discovery_url, profile, findings
    #[arg(long)]
    pub(super) json: bool,
    #[command(flatten)]
    pub(super) network: NetworkArgs,
}

#[derive(Debug, Args)]
pub(super) struct CallArgs {
    #[command(flatten)]
    pub(super) profile: ProfileArg,
    /// An endpoint of the pack (accounts, balances, transactions, ...) or a method (GET)
    pub(super) endpoint: String,
    /// The endpoint's arguments (an ACCOUNT_ID), or the path after a method
    pub(super) args: Vec<String>,
    /// A query parameter (repeatable), e.g. --query page_size=5
    #[arg(long = "query", value_name = "K=V", value_parser = parse_pair)]
    pub(super) query: Vec<(String, String)>,
    /// An extra header (repeatable), e.g. --header x-fapi-customer-ip-address=203.0.113.7
    #[arg(long = "header", value_name = "NAME=VALUE", value_parser = parse_pair)]
    pub(super) headers: Vec<(String, String)>,
    /// One JSON object: status, interaction_id, request (x-signature header and claims), envelope (verified, header, claims), jwe (header), payload, notes
    #[arg(long)]
    pub(super) json: bool,
    #[command(flatten)]
    pub(super) network: NetworkArgs,
}

pub(super) fn parse_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!(
            "\"{text}\" is not NAME=VALUE\n  hint: e.g. --query page_size=5"
        )),
    }
}

#[derive(Debug, Subcommand)]
pub(super) enum ConsentCommand {
    /// The consent's status and history, as the server says
    Show(ConsentArgs),
    /// Revoke the consent: later resource calls with its tokens fail
    Revoke(ConsentArgs),
}

#[derive(Debug, Args)]
pub(super) struct ConsentArgs {
    #[command(flatten)]
    pub(super) profile: ProfileArg,
    /// The consent id (default: the latest flow's)
    pub(super) consent_id: Option<String>,
    /// The same JSON object as `call --json`
    #[arg(long)]
    pub(super) json: bool,
    #[command(flatten)]
    pub(super) network: NetworkArgs,
}

/// How to talk to a server: the same flags for every command that does.
#[derive(Debug, Args)]
pub(super) struct NetworkArgs {
    /// Do not verify the server's TLS certificate (test servers only)
    #[arg(long)]
    pub(super) insecure: bool,
    /// Seconds to wait for the whole exchange (more than 0, at most 3600)
    #[arg(long, default_value = "30", value_name = "SECONDS", value_parser = parse_wait)]
    pub(super) timeout: Duration,
    /// Seconds to wait for the connection (more than 0, at most 3600)
    #[arg(long, default_value = "10", value_name = "SECONDS", value_parser = parse_wait)]
    pub(super) connect_timeout: Duration,
}

impl NetworkArgs {
    /// The client options, warning first when the server's certificate goes unchecked.
    pub(super) fn options(&self) -> crate::core::transport::ClientOptions {
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
pub(super) struct ProbeArgs {
    #[command(flatten)]
    pub(super) profile: ProfileArg,
    #[command(flatten)]
    pub(super) overrides: OverrideArgs,
    /// Only these cases (comma-separated ids; the controls are always sent)
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub(super) only: Vec<String>,
    /// One JSON object: rows of {id, changes, expected, got, verdict} and summary (progress goes to stderr)
    #[arg(long)]
    pub(super) json: bool,
    /// Also write the report as Markdown, to share with the bank's support
    #[arg(long, value_name = "FILE.md")]
    pub(super) report: Option<PathBuf>,
    /// Send without asking (needed without a terminal)
    #[arg(long)]
    pub(super) yes: bool,
    /// Pause between requests: milliseconds (200), or 500ms, 2s
    #[arg(long, default_value = "200", value_name = "MS", value_parser = super::probe::parse_delay)]
    pub(super) delay: Duration,
    /// Exit 1 when any case is lenient (CI of a bank's own server)
    #[arg(long)]
    pub(super) strict: bool,
    #[command(flatten)]
    pub(super) network: NetworkArgs,
}

#[derive(Debug, Args)]
pub(super) struct SandboxArgs {
    /// Port on 127.0.0.1 (0: any free port)
    #[arg(long, default_value_t = crate::core::profile::DEFAULT_EMBEDDED_PORT)]
    pub(super) port: u16,
    /// Trust this profile's client_id, redirect_uri and key
    #[arg(long, default_value = "local", value_name = "PROFILE")]
    pub(super) trust: String,
    /// Status of a successful PAR: 201 (RFC 9126) or 200 (the MY and UAE deployments)
    #[arg(long, default_value_t = 201, value_parser = parse_par_status)]
    pub(super) par_status: u16,
    /// Require the server's nonce in DPoP proofs (answer use_dpop_nonce first, RFC 9449 8)
    #[arg(long)]
    pub(super) dpop_nonce: bool,
}

#[derive(Debug, Args)]
pub(super) struct JwksArgs {
    #[command(flatten)]
    pub(super) profile: ProfileArg,
    /// Use this private key instead of the profile's
    #[arg(long, value_name = "PATH")]
    pub(super) key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(super) struct KeygenArgs {
    /// PS256 (default), ES256, EdDSA, or another asymmetric JWS alg
    #[arg(long, default_value = "PS256")]
    pub(super) alg: String,
    /// Where to write the private key (default: the data dir's keys/ folder); never overwritten
    #[arg(long, value_name = "PATH")]
    pub(super) out: Option<PathBuf>,
    /// sig (default): a signing key for --alg; enc: an RSA-2048 key for RSA-OAEP-256 encryption
    #[arg(long = "use", default_value = "sig", value_parser = ["sig", "enc"])]
    pub(super) key_use: String,
}

#[derive(Debug, Subcommand)]
pub(super) enum ProfilesCommand {
    /// Every profile found: config dir, ./profiles/, built-in
    List,
    /// A profile's file and what it resolves to
    Show { name: String },
}

#[derive(Debug, Subcommand)]
pub(super) enum PacksCommand {
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
