//! `build` and `lint`: the request lifecycle up to the signed ticket, and the pre-flight lint.

use std::io::Read;
use std::process::ExitCode;

use jiff::Timestamp;

use super::output::{self, say};
use super::render::{self, json_with_dates};
use super::{BuildArgs, Failure, LintArgs, Outcome};
use crate::core::consent::PackSet;
use crate::core::error::{ConfigError, Origin};
use crate::core::jws::{self, DecodedJwt};
use crate::core::lint::{self, Finding};
use crate::core::paths;
use crate::core::printable::redact_url;
use crate::core::profile;
use crate::core::request::{Overrides, ParTicket};
use crate::core::session::{Built, Session};
use serde::Serialize;
use serde_json::{Map, Value};

/// Builds and lints once; a value the build refuses is a local problem (exit 2).
fn build_once(session: &Session, now: Timestamp) -> Result<Built, Failure> {
    session.build(&[], now, &mut rand::rng()).map_err(|e| {
        Failure::Config(ConfigError::new(
            session.profile().origin_of("consent"),
            "",
            e.to_string(),
            "check the profile's values",
        ))
    })
}

pub fn build(args: &BuildArgs) -> Outcome {
    let session = Session::offline(&args.profile.profile, &args.overrides.to_overrides())?;
    let now = Timestamp::now();
    let Built { ticket, findings } = build_once(&session, now)?;
    if args.curl {
        return curl_command(&session, &ticket);
    }
    if args.compare_sample {
        return super::compare::compare_sample(&session, &ticket, args.json);
    }
    if args.json {
        let report = BuildReport::new(&ticket, &findings);
        let mut doc = serde_json::to_value(&report).unwrap_or_default();
        if let Some(proof) = par_proof(&session, now) {
            doc["dpop"] = serde_json::json!({
                "jkt": session.dpop_jkt(),
                "par_proof_header": proof.header,
                "par_proof_claims": proof.claims,
            });
        }
        output::json(&doc);
        return Ok(ExitCode::SUCCESS);
    }
    say!("{}", human_build(&session, &ticket, &findings, now));
    Ok(ExitCode::SUCCESS)
}

/// The exact PAR as curl; without a par_endpoint (read from discovery when sending) there is
/// no URL to give.
fn curl_command(session: &Session, ticket: &ParTicket) -> Outcome {
    let Some(par) = &session.seed().endpoints.par else {
        return Err(Failure::Other(format!(
            "profile {} has no par_endpoint (it is read from discovery when sending), so there is no URL for curl\n  hint: set par_endpoint in the profile",
            session.profile().name
        )));
    };
    let tls = crate::core::history::curl::CurlTls::of_profile(session.profile());
    say!(
        "{}",
        crate::core::history::curl::par_command(par, ticket, &tls)
    );
    Ok(ExitCode::SUCCESS)
}

fn human_build(session: &Session, t: &ParTicket, findings: &[Finding], now: Timestamp) -> String {
    let seed = session.seed();
    let key = session.key();
    let mut out = vec![
        format!(
            "Profile {} ({}), consent pack {}",
            session.profile().name,
            session.profile().source.describe(),
            seed.pack.type_
        ),
        format!("Issuer  {}", seed.endpoints.issuer),
        format!(
            "Key     {} {}, kid {}",
            key.kind().describe(),
            crate::core::keys::alg_name(key.alg()),
            key.kid()
        ),
    ];
    out.extend(super::dpop::key_line(session));
    out.push(String::new());
    for (name, jwt) in [
        ("Request object (JAR, RFC 9101)", &t.request),
        (
            "Client assertion (private_key_jwt, RFC 7523)",
            &t.client_assertion,
        ),
    ] {
        out.push(render::title(name));
        out.push("header".into());
        out.push(json_with_dates(&jwt.header, now));
        out.push("payload".into());
        out.push(json_with_dates(&jwt.claims, now));
        out.push(String::new());
    }
    if let Some(proof) = par_proof(session, now) {
        out.extend(super::dpop::proof_text(
            "DPoP proof for the PAR (RFC 9449; each send signs a fresh one)",
            &proof,
            now,
        ));
        out.push(String::new());
    }
    out.push(render::title(
        "PAR form (application/x-www-form-urlencoded)",
    ));
    out.push(format!(
        "POST {}\nx-fapi-interaction-id: {}\n",
        seed.endpoints.par.as_deref().map_or_else(
            || "(no par_endpoint: read from discovery)".into(),
            redact_url
        ),
        t.interaction_id
    ));
    for (k, v) in &t.form {
        out.push(format!("{k}={v}"));
    }
    out.push(String::new());
    out.push(format!(
        "PKCE code_verifier (keep it for the token exchange): {}",
        t.code_verifier
    ));
    out.push(String::new());
    out.push(render::findings_block(findings));
    out.join("\n")
}

/// A PAR proof as `submit` would send it, when the profile uses DPoP.
fn par_proof(session: &Session, now: Timestamp) -> Option<DecodedJwt> {
    let endpoints = &session.seed().endpoints;
    let par = endpoints.par.as_deref().unwrap_or(&endpoints.issuer);
    session.dpop_proof("POST", par, None, now)?.ok()
}

fn read_jwt_arg(arg: &str, what: &str) -> Result<DecodedJwt, Failure> {
    let text = if arg == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::Other(format!("cannot read the {what} from stdin: {e}")))?;
        text
    } else {
        std::fs::read_to_string(arg).map_err(|e| {
            Failure::Config(ConfigError::new(
                Origin::file(arg),
                "",
                format!("cannot read the {what}: {e}"),
                "give a file holding the compact JWT (header.payload.signature), or - for stdin",
            ))
        })?
    };
    jws::decode(&text).map_err(|e| {
        Failure::Config(ConfigError::new(
            if arg == "-" {
                Origin::Flag("stdin".into())
            } else {
                Origin::file(arg)
            },
            "",
            format!("the {what} is not a compact JWT: {e}"),
            "give the compact form header.payload.signature",
        ))
    })
}

pub fn lint(args: &LintArgs) -> Outcome {
    let now = Timestamp::now();
    let overrides = args.overrides.to_overrides();
    let (findings, notes) = match &args.request {
        None => {
            let session = Session::offline(args.profile.as_deref().unwrap_or("local"), &overrides)?;
            (build_once(&session, now)?.findings, Vec::new())
        }
        Some(request_arg) => lint_foreign(args, request_arg, &overrides, now)?,
    };
    if args.json {
        output::json(&findings);
    } else {
        for note in &notes {
            say!("note: {note}");
        }
        say!("{}", render::findings_block(&findings));
    }
    Ok(if lint::has_errors(&findings) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Lints JWTs made by the user's own client, against a profile when one is given.
fn lint_foreign(
    args: &LintArgs,
    request_arg: &str,
    overrides: &Overrides,
    now: Timestamp,
) -> Result<(Vec<Finding>, Vec<String>), Failure> {
    if request_arg == "-" && args.assertion.as_deref() == Some("-") {
        return Err(Failure::Config(ConfigError::new(
            Origin::Flag("--assertion".into()),
            "",
            "--request and --assertion cannot both read stdin",
            "give one of them as a file",
        )));
    }
    let request = read_jwt_arg(request_arg, "request object")?;
    let assertion = args
        .assertion
        .as_deref()
        .map(|a| read_jwt_arg(a, "client assertion"))
        .transpose()?;
    let packs = PackSet::load(paths::user_packs_dir().as_deref())?;
    let mut notes = Vec::new();
    if assertion.is_none() {
        notes.push("no --assertion given: client assertion checks skipped".to_owned());
    }
    let Some(profile_name) = &args.profile else {
        notes.push(
            "no --profile given: issuer, client_id, endpoint and signature checks skipped".into(),
        );
        let ctx = lint::Context::bare(&packs, now);
        let subject = lint::Subject {
            request: &request,
            assertion: assertion.as_ref(),
            form_client_id: None,
        };
        return Ok((lint::lint(&subject, &ctx), notes));
    };
    let loaded = profile::find(profile_name)?;
    let seed = loaded.seed(&packs, overrides, &profile::default_embedded_base())?;
    let facts = match loaded.signing_key(overrides.key.as_deref()) {
        Ok(key) => Some(key.facts()),
        Err(e) => {
            notes.push(format!("signatures not checked: {}", e.message));
            None
        }
    };
    let ctx = lint::Context::for_seed(&seed, &packs, facts.as_ref(), now);
    // No form here: the profile's client_id is what the JWTs are checked against.
    let subject = lint::Subject {
        request: &request,
        assertion: assertion.as_ref(),
        form_client_id: None,
    };
    Ok((lint::lint(&subject, &ctx), notes))
}

/// The `build --json` document: a contract scripts rely on.
#[derive(Debug, Serialize)]
struct BuildReport<'a> {
    pub request: &'a str,
    pub client_assertion: &'a str,
    pub code_verifier: &'a str,
    pub form: Map<String, Value>,
    pub interaction_id: &'a str,
    pub request_header: &'a Value,
    pub request_claims: &'a Value,
    pub assertion_header: &'a Value,
    pub assertion_claims: &'a Value,
    pub lint: &'a [Finding],
}

impl<'a> BuildReport<'a> {
    fn new(ticket: &'a ParTicket, lint: &'a [Finding]) -> Self {
        BuildReport {
            request: &ticket.request.compact,
            client_assertion: &ticket.client_assertion.compact,
            code_verifier: &ticket.code_verifier,
            form: ticket
                .form
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
            interaction_id: &ticket.interaction_id,
            request_header: &ticket.request.header,
            request_claims: &ticket.request.claims,
            assertion_header: &ticket.client_assertion.header,
            assertion_claims: &ticket.client_assertion.claims,
            lint,
        }
    }
}
