//! `submit`: build, send the PAR (to the embedded sandbox server when the profile targets it),
//! and show the answer. `sandbox`: the sandbox server in the foreground.

use std::io::IsTerminal;
use std::process::ExitCode;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::output::{self, complain, say};
use super::render;
use super::{Failure, Outcome, SandboxArgs, SubmitArgs};
use crate::core::consent::PackSet;
use crate::core::dpop::ProofTrail;
use crate::core::error::{ConfigError, Origin};
use crate::core::keys;
use crate::core::paths;
use crate::core::printable::{printable_line, redact_url};
use crate::core::profile;
use crate::core::request::Overrides;
use crate::core::sandbox::{Config, Sandbox, Served, TrustedClient};
use crate::core::session::{Built, Session};
use crate::core::transport::{self, Delivery, Outcome as ParOutcome};

pub(super) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::Other(format!("cannot start the async runtime: {e}")))
}

fn bind_failed(port: u16, e: std::io::Error) -> Failure {
    Failure::Config(ConfigError::new(
        Origin::Flag("--port".into()),
        "",
        format!("cannot listen on 127.0.0.1:{port}: {e}"),
        "choose another --port, or 0 for any free port",
    ))
}

pub fn submit(args: &SubmitArgs) -> Outcome {
    runtime()?.block_on(submit_async(args))
}

async fn submit_async(args: &SubmitArgs) -> Outcome {
    let session = super::history::warned(
        Session::open(&args.profile.profile, &args.overrides.to_overrides()).await?,
    );
    let options = args.network.options();
    let built = build_now(&session)?;
    // A person watching a slow server sees where the request went and how long it may wait.
    if std::io::stderr().is_terminal() {
        let target = session.seed().endpoints.par.as_deref();
        complain!(
            "sending the PAR to {} (waits up to {} s)...",
            target.map_or_else(|| "the PAR endpoint from discovery".into(), redact_url),
            options.timeout.as_secs()
        );
    }
    match session.deliver_traced(&built.ticket, &options).await {
        Ok((delivery, trail)) => {
            let state = remember(&session, &built, &delivery);
            Ok(report(
                args.json,
                &session,
                &built,
                (&delivery, trail.as_ref()),
                state.as_deref(),
            ))
        }
        Err(network) => {
            if args.json {
                output::json(
                    &json!({"error": "network", "kind": network.kind, "message": network.message, "hint": network.hint}),
                );
            } else {
                complain!("error: {}\n  hint: {}", network.message, network.hint);
            }
            Ok(ExitCode::from(3))
        }
    }
}

/// Records the flow an accepted PAR started, for `token --callback`; answers its state. A
/// flow that cannot be kept is said, not fatal: the PAR itself went through.
fn remember(session: &Session, built: &Built, delivery: &Delivery) -> Option<String> {
    if !matches!(delivery.exchange.outcome, ParOutcome::Accepted { .. }) {
        return None;
    }
    // The embedded sandbox stops with this command: its code could never be exchanged, so a
    // pending flow (verifier and nonce) would only wait on disk for nothing.
    if session.sandbox_issuer().is_some() {
        return built.ticket.request.claim_str("state").map(str::to_owned);
    }
    match session.record_flow(&built.ticket, &delivery.exchange.outcome, Timestamp::now()) {
        Ok(flow) => Some(flow.state),
        Err(e) => {
            complain!("warning: the pending flow was not kept, so `token` cannot complete it: {e}");
            None
        }
    }
}

/// How to go on after an accepted PAR. The embedded sandbox stops with this process, so its
/// flow can only be completed by `flow`.
fn next_steps(session: &Session) -> String {
    let profile = &session.seed().profile_name;
    if session.sandbox_issuer().is_some() {
        format!(
            "next          the embedded sandbox stops with this command: `consent-explorer flow --profile {profile}` runs PAR, authorize and token in one go"
        )
    } else {
        format!(
            "next          open the authorize URL, approve, then `consent-explorer token --profile {profile} --callback URL` with the URL the browser was sent to"
        )
    }
}

/// The profile built as it stands, now; a value it refuses is a local problem.
pub(super) fn build_now(session: &Session) -> Result<Built, Failure> {
    session
        .build(&[], Timestamp::now(), &mut rand::rng())
        .map_err(|e| {
            Failure::Config(ConfigError::new(
                session.profile().origin_of("consent"),
                "",
                e.to_string(),
                "check the profile's values",
            ))
        })
}

fn report(
    json_out: bool,
    session: &Session,
    built: &Built,
    (delivery, trail): (&Delivery, Option<&ProofTrail>),
    state: Option<&str>,
) -> ExitCode {
    let exchange = &delivery.exchange;
    let mut notes = exchange.notes();
    notes.extend(trail.map(ProofTrail::notes).unwrap_or_default());
    let client_cert = session.tls().client_cert.as_ref();
    let authorize_url = |request_uri: &str| {
        delivery
            .authorization_endpoint
            .as_deref()
            .map(|a| transport::authorize_url(a, &session.seed().client_id, request_uri))
            .map(|url| crate::core::printable::redact_url(&url))
    };
    let code = match exchange.outcome {
        ParOutcome::Accepted { .. } => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    };
    if json_out {
        let mut doc = json!({
            "status": exchange.status,
            "interaction_id": exchange.interaction_id,
            "body": exchange.body,
            "elapsed_ms": exchange.elapsed.as_secs_f64() * 1000.0,
            "notes": notes,
            "dpop": trail.map(|t| super::dpop::trail_json(session.dpop_jkt(), t)),
            "lint": built.findings,
            "client_certificate": client_cert.map(|c| json!({
                "subject": c.subject,
                "issuer": c.issuer,
                "not_after": c.not_after,
                "x5t#S256": c.x5t_s256,
            })),
        });
        let extra = match &exchange.outcome {
            ParOutcome::Accepted {
                request_uri,
                expires_in,
                expires_at,
            } => json!({
                "request_uri": request_uri,
                "expires_in": expires_in,
                "expires_at": crate::core::time::rfc3339_seconds(*expires_at),
                "authorize_url": authorize_url(request_uri),
                "code_verifier": built.ticket.code_verifier,
                "state": state,
            }),
            ParOutcome::Refused {
                error,
                error_description,
                explanation,
            } => json!({
                "error": error,
                "error_description": error_description,
                "explanation": explanation,
            }),
            ParOutcome::Unexpected { explanation } => {
                json!({"error": Value::Null, "explanation": explanation})
            }
        };
        if let (Some(doc), Some(extra)) = (doc.as_object_mut(), extra.as_object()) {
            doc.extend(extra.clone());
        }
        output::json(&doc);
        return code;
    }
    let mut out = vec![
        format!(
            "Profile {} → POST {}",
            session.seed().profile_name,
            crate::core::printable::redact_url(&delivery.par_endpoint)
        ),
        format!(
            "Client certificate: {}",
            client_cert.map_or("none (no [tls] in the profile)".into(), ToString::to_string)
        ),
        format!("x-fapi-interaction-id: {}", exchange.interaction_id),
        format!("Lint before sending: {}", render::summary(&built.findings)),
    ];
    out.extend(
        built
            .findings
            .iter()
            .filter(|f| f.severity == crate::core::lint::Severity::Error)
            .map(render::finding),
    );
    out.push(String::new());
    out.push(render::title(&format!(
        "Response: {} in {:.1} ms",
        exchange.status,
        exchange.elapsed.as_secs_f64() * 1000.0
    )));
    out.extend(
        exchange
            .headers
            .iter()
            .map(|(k, v)| format!("{}: {}", printable_line(k), printable_line(v))),
    );
    out.push(String::new());
    out.push(exchange.body.pretty());
    out.push(String::new());
    match &exchange.outcome {
        ParOutcome::Accepted {
            request_uri,
            expires_in,
            expires_at,
        } => {
            out.push(render::title("Accepted"));
            out.push(format!("request_uri   {}", printable_line(request_uri)));
            out.push(format!(
                "expires_in    {expires_in} s (at {})",
                crate::core::time::rfc3339_seconds(*expires_at)
            ));
            if let Some(url) = authorize_url(request_uri) {
                out.push(format!("authorize     {url}"));
            }
            // The verifier is a secret: kept in the pending flow for `token --callback`, shown
            // only to scripts that ask (--json).
            out.push(if session.sandbox_issuer().is_some() {
                "code_verifier not kept (the embedded sandbox stops with this command); --json shows it".into()
            } else {
                "code_verifier kept with the pending flow (0600); --json shows it".into()
            });
            if let Some(state) = state {
                out.push(format!("state         {}", printable_line(state)));
            }
            out.push(next_steps(session));
        }
        ParOutcome::Refused {
            error,
            error_description,
            explanation,
        } => {
            out.push(render::title(&format!(
                "Refused: {}",
                printable_line(error)
            )));
            if let Some(d) = error_description {
                out.push(format!("server says   {}", printable_line(d)));
            }
            out.push(format!("what it means {explanation}"));
        }
        ParOutcome::Unexpected { explanation } => {
            out.push(render::title("Not an OAuth answer"));
            out.push(explanation.clone());
        }
    }
    if let Some(proof) = trail.and_then(ProofTrail::last) {
        out.push(String::new());
        out.extend(super::dpop::proof_text(
            "DPoP proof sent with the PAR (RFC 9449)",
            proof,
            Timestamp::now(),
        ));
    }
    for note in notes {
        out.push(format!("note: {note}"));
    }
    say!("{}", out.join("\n"));
    code
}

pub fn sandbox(args: &SandboxArgs) -> Outcome {
    runtime()?.block_on(async {
        let loaded = profile::find_given_by(&args.trust, "--trust")?;
        let packs = PackSet::load(paths::user_packs_dir().as_deref())?;
        let key = loaded.signing_key(None)?;
        let base = format!("http://127.0.0.1:{}", args.port);
        let seed = loaded.seed(&packs, &Overrides::default(), &base)?;
        let client = TrustedClient::of(&seed, &key);
        let mut config = Config::new(client, packs);
        config.par_status = args.par_status;
        config.dpop_nonce = args.dpop_nonce;
        // Resource answers are encrypted to the trusted profile's [encryption] key.
        config.client_encryption_key = loaded
            .encryption_key()?
            .map(|k| k.public_jwk().clone());
        let (served_tx, mut served) = tokio::sync::mpsc::unbounded_channel();
        config.served = Some(served_tx);
        let server = Sandbox::start(config, args.port)
            .await
            .map_err(|e| bind_failed(args.port, e))?;
        let issuer = server.issuer().to_owned();
        say!("consent-explorer sandbox authorization server (strict FAPI 2.0)");
        say!("  issuer     {issuer}");
        say!(
            "  PAR        {issuer}/par   (answers {} on success)",
            args.par_status
        );
        say!("  discovery  {issuer}/.well-known/openid-configuration");
        say!(
            "  trusts     client {} from profile {}: {} {}, kid {}; redirect_uri {}",
            seed.client_id,
            loaded.name,
            key.kind().describe(),
            keys::alg_name(key.alg()),
            key.kid(),
            seed.redirect_uri
        );
        if args.dpop_nonce {
            say!("  DPoP       nonces required: a proof without this server's nonce is answered use_dpop_nonce");
        }
        say!("Press Ctrl-C to stop. Each request answered is listed below.");
        let log = async {
            while let Some(line) = served.recv().await {
                say!("{}", served_line(&line, Timestamp::now()));
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = server.wait() => {}
            _ = log => {}
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `21:52:36  POST /par  201  1.3 ms  x-fapi-interaction-id ...`: the path only (queries and
/// bodies carry codes and tokens).
fn served_line(served: &Served, now: Timestamp) -> String {
    let mut line = format!(
        "{}  {} {}  {}  {:.1} ms",
        now.strftime("%H:%M:%S"),
        served.method,
        printable_line(&served.path),
        served.status,
        served.elapsed.as_secs_f64() * 1000.0
    );
    if let Some(id) = &served.interaction_id {
        line.push_str(&format!("  x-fapi-interaction-id {}", printable_line(id)));
    }
    line
}
