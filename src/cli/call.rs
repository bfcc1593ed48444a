//! `call`: a resource call with the kept token, signed the deployment's way, and its answer
//! opened layer by layer (envelope, JWE, inner JWT), each with its verdict.

use std::process::ExitCode;

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::output::{self, complain, say};
use super::render::{json_with_dates, title};
use super::submit::runtime;
use super::token::network_failed;
use super::{CallArgs, Failure, Outcome};
use crate::core::error::{ConfigError, Origin};
use crate::core::request::Overrides;
use crate::core::resource::{CallError, Layer, ResourceExchange, Verdict};
use crate::core::session::{CallInput, Session};

pub fn call(args: &CallArgs) -> Outcome {
    check_headers(&args.headers)?;
    runtime()?.block_on(async {
        let session = Session::open(&args.profile.profile, &Overrides::default()).await?;
        let input = CallInput {
            query: args.query.clone(),
            headers: args.headers.clone(),
        };
        let options = args.network.options();
        let made = session
            .call(
                &args.endpoint,
                &args.args,
                &input,
                &options,
                &mut rand::rng(),
            )
            .await;
        finish(made, args.json, "call")
    })
}

/// A call's outcome as an exit code: 0 answered and every layer good, 1 refused or a layer
/// failed, 2 a local problem (named after `command`), 3 the network.
pub(super) fn finish(
    made: Result<ResourceExchange, CallError>,
    json_out: bool,
    command: &str,
) -> Outcome {
    match made {
        Ok(exchange) => Ok(report(&exchange, json_out)),
        Err(CallError::Network(network)) => Ok(network_failed(json_out, &network)),
        Err(e) => Err(Failure::Config(ConfigError::new(
            Origin::Flag(command.into()),
            "",
            e.to_string(),
            hint(&e),
        ))),
    }
}

fn hint(e: &CallError) -> &'static str {
    match e {
        CallError::NoTokens { .. } | CallError::NoConsentId { .. } => {
            "resource calls and consent commands use the tokens of the profile's latest flow"
        }
        CallError::UnknownEndpoint { .. } => {
            "`consent-explorer packs show PACK --json` lists the resource endpoints"
        }
        CallError::NoBaseUrl => {
            "e.g. [resource] base_url = \"https://rs1.sandbox.mya.ozoneapi.io\""
        }
        CallError::MissingArgument { .. } | CallError::OtherOrigin { .. } => {
            "`consent-explorer call --help` shows the forms"
        }
        _ => "check the profile's [resource] and [encryption]",
    }
}

fn verdict_json(verdict: &Verdict) -> (bool, Value) {
    match verdict {
        Verdict::Verified(kid) => (true, json!({"kid": kid})),
        Verdict::NotVerified(why) => (false, json!({"reason": why})),
        Verdict::Failed(why) => (false, json!({"failed": true, "reason": why})),
    }
}

fn layer_json(layer: &Layer) -> Value {
    let (verified, detail) = verdict_json(&layer.verdict);
    let mut out = Map::new();
    out.insert("verified".into(), verified.into());
    if let Value::Object(detail) = detail {
        out.extend(detail);
    }
    out.insert("header".into(), layer.header.clone());
    if let Some(claims) = &layer.claims {
        out.insert("claims".into(), claims.clone());
    }
    Value::Object(out)
}

pub(super) fn to_json(exchange: &ResourceExchange) -> Value {
    let opened = &exchange.opened;
    let headers: Map<String, Value> = exchange
        .sent_headers
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let x_signature = exchange.x_signature.as_ref().map(|s| {
        json!({"name": s.header_name, "compact": s.compact, "header": s.header, "claims": s.claims})
    });
    let mut doc = json!({
        "endpoint": exchange.endpoint,
        "status": exchange.status,
        "interaction_id": exchange.header("x-fapi-interaction-id").unwrap_or(&exchange.interaction_id),
        "request": {
            "method": exchange.method,
            "url": exchange.url,
            "headers": headers,
            "x-signature": x_signature,
        },
        "envelope": opened.envelope.as_ref().map(layer_json),
        "jwe": opened.jwe.as_ref().map(layer_json),
        "payload": opened.payload,
        "notes": exchange.notes,
        "elapsed_ms": exchange.elapsed.as_millis() as u64,
    });
    if let Some(trail) = &exchange.dpop {
        // Decoded only: a compact proof could be replayed within its iat window.
        let proofs: Vec<Value> = trail
            .proofs
            .iter()
            .map(|p| json!({"header": p.header, "claims": p.claims}))
            .collect();
        doc["request"]["dpop"] = json!({"proofs": proofs, "nonce_retry": trail.nonce_retry});
    }
    if let Some(inner) = &opened.inner {
        doc["inner"] = layer_json(inner);
    }
    if let Some((layer, why)) = opened.failure() {
        doc["refused"] = json!({"layer": layer, "reason": why});
    }
    doc
}

fn mark(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Verified(kid) => format!("✓ verified (kid {kid})"),
        Verdict::NotVerified(why) => format!("⚠ not verified: {why}"),
        Verdict::Failed(why) => format!("✗ FAILED: {why}"),
    }
}

/// The envelope's claims with a long `data` (the JWE) cut short: its header is shown below,
/// and `--json` has it whole.
fn shortened_data(claims: &Value) -> Value {
    let mut claims = claims.clone();
    if let Some(data) = claims.get_mut("data")
        && let Some(text) = data.as_str()
        && text.chars().count() > 60
    {
        // By characters: an outside server's text may not be ASCII.
        let head: String = text.chars().take(40).collect();
        let count = text.chars().count();
        *data = format!("{head}… ({count} characters; --json shows it whole)").into();
    }
    claims
}

fn report(exchange: &ResourceExchange, json_out: bool) -> ExitCode {
    let failure = exchange.opened.failure();
    let code = if exchange.is_success() && failure.is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    if json_out {
        output::json(&to_json(exchange));
        return code;
    }
    let now = Timestamp::now();
    say!("{}", title("Request"));
    say!("  {} {}", exchange.method, exchange.url);
    for (name, value) in &exchange.sent_headers {
        say!("  {name}: {value}");
    }
    if let Some(signature) = &exchange.x_signature {
        say!(
            "{}",
            title(&format!(
                "{} (sent, signed with kid {})",
                signature.header_name,
                signature
                    .header
                    .get("kid")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
            ))
        );
        say!("{}", json_with_dates(&signature.header, now));
        say!("{}", json_with_dates(&signature.claims, now));
    }
    for proof in exchange.dpop.iter().flat_map(|t| &t.proofs) {
        say!("{}", title("DPoP proof (sent)"));
        say!("{}", json_with_dates(&proof.header, now));
        say!("{}", json_with_dates(&proof.claims, now));
    }
    say!(
        "{}",
        title(&format!(
            "Response: {} ({} ms)",
            exchange.status,
            exchange.elapsed.as_millis()
        ))
    );
    for (name, value) in &exchange.headers {
        say!("  {name}: {value}");
    }
    let opened = &exchange.opened;
    if let Some(envelope) = &opened.envelope {
        say!(
            "{}",
            title(&format!("Envelope (JWS): {}", mark(&envelope.verdict)))
        );
        say!("{}", json_with_dates(&envelope.header, now));
        if let Some(claims) = &envelope.claims {
            say!("{}", json_with_dates(&shortened_data(claims), now));
        }
    }
    if let Some(jwe) = &opened.jwe {
        let what = match &jwe.verdict {
            Verdict::Verified(kid) => format!("✓ decrypted with kid {kid}"),
            other => mark(other),
        };
        say!("{}", title(&format!("JWE header: {what}")));
        say!("{}", json_with_dates(&jwe.header, now));
    }
    if let Some(inner) = &opened.inner {
        say!("{}", title(&format!("Inner JWT: {}", mark(&inner.verdict))));
        say!("{}", json_with_dates(&inner.header, now));
    }
    if let Some(payload) = &opened.payload {
        say!("{}", title("Payload"));
        say!("{}", json_with_dates(payload, now));
    }
    for note in &exchange.notes {
        complain!("note: {note}");
    }
    if let Some((layer, why)) = failure {
        complain!("refused: the {layer} cannot be trusted: {why}");
    } else if !exchange.is_success() {
        let error = opened
            .payload
            .as_ref()
            .and_then(|p| p.get("error"))
            .and_then(Value::as_str)
            .unwrap_or("(no error code)");
        complain!("refused: the server answered {} {error}", exchange.status);
    }
    code
}

/// A header HTTP cannot carry is the user's typo, not a network failure: said before sending.
fn check_headers(headers: &[(String, String)]) -> Result<(), Failure> {
    for (name, value) in headers {
        let problem = if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            format!("{name:?} is not a valid HTTP header name")
        } else if reqwest::header::HeaderValue::from_str(value).is_err() {
            format!("the value of {name} is not a valid HTTP header value")
        } else {
            continue;
        };
        return Err(Failure::Config(ConfigError::new(
            Origin::Flag("--header".into()),
            "",
            problem,
            "give NAME=VALUE with a name of letters, digits and - (e.g. --header x-customer-user-agent=cli)",
        )));
    }
    Ok(())
}
