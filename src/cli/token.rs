//! `token` (a callback checked and its code exchanged), `refresh` and `tokens clear`, and the
//! rendering of a token answer that `flow` shares: human text or `--json`, tokens redacted
//! unless `--show-tokens`.

use std::process::ExitCode;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::output::{self, complain, say};
use super::render;
use super::submit::runtime;
use super::{Failure, Outcome, RefreshArgs, TokenArgs, TokenOutputArgs, TokensClearArgs};
use crate::core::flow::callback::{Callback, CheckError};
use crate::core::flow::id_token::{ID_TOKEN_INVALID, VerifiedIdToken};
use crate::core::flow::store::{TokenStore, redacted};
use crate::core::flow::token::{Secret, TokenOutcome, TokenSet};
use crate::core::jws;
use crate::core::printable::printable_line;
use crate::core::profile;
use crate::core::request::Overrides;
use crate::core::session::{FlowError, Session, Tokens};
use crate::core::time::{rfc3339_seconds, short_duration};
use crate::core::transport::{ClientOptions, NetworkError};

/// How a token answer is shown and whether it is kept.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shown {
    pub json: bool,
    pub show_tokens: bool,
    pub store: bool,
}

impl From<&TokenOutputArgs> for Shown {
    fn from(args: &TokenOutputArgs) -> Shown {
        Shown {
            json: args.json,
            show_tokens: args.show_tokens,
            store: !args.no_store,
        }
    }
}

pub fn token(args: &TokenArgs) -> Outcome {
    runtime()?.block_on(async {
        let session =
            super::history::warned(Session::open(&args.profile.profile, &Overrides::default()).await?);
        if session.sandbox_issuer().is_some() {
            return Err(Failure::Other(format!(
                "profile {} targets the embedded sandbox, which stopped with the command that pushed the request: its code cannot be exchanged here\n  hint: `consent-explorer flow --profile {}` runs the whole flow in one go; or run `consent-explorer sandbox` and a profile pointing at its issuer",
                args.profile.profile, args.profile.profile
            )));
        }
        let options = args.network.options();
        let callback = Callback::parse(&args.callback)
            .map_err(|e| Failure::Other(format!("--callback: {e}")))?;
        Ok(complete(&session, &callback, &options, Shown::from(&args.output)).await)
    })
}

/// Checks a callback (state, iss as discovery asks, error redirect, age), exchanges its code
/// and shows the answer: what `token` and `flow` share.
pub(super) async fn complete(
    session: &Session,
    callback: &Callback,
    options: &ClientOptions,
    shown: Shown,
) -> ExitCode {
    // Without discovery, iss cannot be known to be required: a missing one is then a warning.
    let discovery = session.discovery(options).await.ok();
    let code = match session.check_callback(callback, discovery.as_ref(), Timestamp::now()) {
        Ok(code) => code,
        Err(e) => return failed(shown, &e),
    };
    for warning in &code.warnings {
        complain!("warning: {warning}");
    }
    match session
        .exchange_code(&code, options, &mut rand::rng())
        .await
    {
        Ok(tokens) => issued(session, &tokens, None, shown),
        Err(e) => failed(shown, &e),
    }
}

pub fn refresh(args: &RefreshArgs) -> Outcome {
    runtime()?.block_on(async {
        let session = super::history::warned(
            Session::open(&args.profile.profile, &Overrides::default()).await?,
        );
        let options = args.network.options();
        let shown = Shown {
            json: args.json,
            show_tokens: args.show_tokens,
            store: true,
        };
        let kept = session
            .kept_tokens()
            .map_err(|e| Failure::Other(e.to_string()))?;
        let Some(kept) = kept else {
            return Err(Failure::Other(
                FlowError::NoRefreshToken {
                    profile: session.seed().profile_name.clone(),
                }
                .to_string(),
            ));
        };
        Ok(
            match session.refresh(&kept, &options, &mut rand::rng()).await {
                Ok(tokens) => issued(&session, &tokens, Some(&kept), shown),
                Err(e) => failed(shown, &e),
            },
        )
    })
}

pub fn tokens_clear(args: &TokensClearArgs) -> Outcome {
    let store = TokenStore::in_data_dir().map_err(|e| Failure::Other(e.to_string()))?;
    let cleared = match &args.profile {
        Some(name) => {
            let name = profile::find(name)?.name;
            let gone = store
                .clear(&name)
                .map_err(|e| Failure::Other(e.to_string()))?;
            usize::from(gone)
        }
        None => store
            .clear_all()
            .map_err(|e| Failure::Other(e.to_string()))?,
    };
    say!(
        "{cleared} token file{} removed",
        if cleared == 1 { "" } else { "s" }
    );
    Ok(ExitCode::SUCCESS)
}

/// A refusal, a failed check or a network problem: exit 1, 3, or (a local problem) 2.
pub(super) fn failed(shown: Shown, error: &FlowError) -> ExitCode {
    let (code, description, explanation) = match error {
        FlowError::Callback(CheckError::Refused(refusal)) => {
            let description = match refusal {
                crate::core::flow::callback::Refusal::ErrorRedirect {
                    error_description, ..
                } => error_description.clone(),
                other => Some(other.to_string()),
            };
            (
                refusal.code().to_owned(),
                description,
                refusal.explanation(),
            )
        }
        FlowError::IdToken(e) => (
            ID_TOKEN_INVALID.to_owned(),
            Some(e.to_string()),
            "The ID token did not pass verification against the server's keys and this flow (signature, iss, aud, exp, iat, nonce): its claims must not be trusted, so the tokens were not kept.".to_owned(),
        ),
        FlowError::Jwks(e) => (
            ID_TOKEN_INVALID.to_owned(),
            Some(e.to_string()),
            "The server's keys (jwks_uri from its discovery document) could not be read, so the ID token could not be verified and the tokens were not kept.".to_owned(),
        ),
        FlowError::Network(network) => return network_failed(shown.json, network),
        local => {
            complain!("error: {local}");
            return ExitCode::from(2);
        }
    };
    refused(shown.json, &code, description.as_deref(), &explanation);
    ExitCode::from(1)
}

pub(super) fn network_failed(json_out: bool, network: &NetworkError) -> ExitCode {
    if json_out {
        output::json(&json!({
            "error": "network",
            "kind": network.kind,
            "message": network.message,
            "hint": network.hint,
        }));
    } else {
        complain!("error: {}\n  hint: {}", network.message, network.hint);
    }
    ExitCode::from(3)
}

pub(super) fn refused(json_out: bool, code: &str, description: Option<&str>, explanation: &str) {
    if json_out {
        output::json(&json!({
            "error": code,
            "error_description": description,
            "explanation": explanation,
        }));
    } else {
        complain!("refused: {}", printable_line(code));
        if let Some(d) = description {
            complain!("  says          {}", printable_line(d));
        }
        complain!("  what it means {explanation}");
    }
}

/// A token answer: the tokens kept and shown, or the server's refusal.
fn issued(
    session: &Session,
    tokens: &Tokens,
    earlier: Option<&crate::core::flow::store::StoredTokens>,
    shown: Shown,
) -> ExitCode {
    let exchange = &tokens.exchange;
    let set = match &exchange.outcome {
        TokenOutcome::Issued(set) => set,
        TokenOutcome::Refused {
            error,
            error_description,
            explanation,
        } => {
            refused(shown.json, error, error_description.as_deref(), explanation);
            return ExitCode::from(1);
        }
        TokenOutcome::Malformed(problem) => {
            refused(
                shown.json,
                "invalid_token_response",
                Some(&problem.to_string()),
                "The token endpoint answered 2xx with a body that is not a usable token response (RFC 6749 5.1).",
            );
            return ExitCode::from(1);
        }
        TokenOutcome::Unexpected { explanation } => {
            refused(shown.json, "unexpected_answer", None, explanation);
            return ExitCode::from(1);
        }
    };
    let stored = if shown.store {
        match session.keep_tokens(set, earlier) {
            Ok(_) => true,
            Err(e) => {
                complain!("warning: the tokens were not kept: {e}");
                false
            }
        }
    } else {
        false
    };
    let doc = token_json(set, tokens.id_token.as_ref(), shown.show_tokens);
    if shown.json {
        let mut doc = doc;
        doc["status"] = exchange.status.into();
        doc["interaction_id"] = exchange.interaction_id.clone().into();
        doc["stored"] = stored.into();
        let mut notes = set.notes();
        notes.extend(tokens.dpop.iter().flat_map(super::dpop::notes));
        doc["notes"] = json!(notes);
        doc["dpop"] = json!(tokens.dpop.as_ref().map(super::dpop::use_json));
        output::json(&doc);
    } else {
        say!("{}", human(set, &doc, stored, &exchange.interaction_id));
        if let Some(used) = &tokens.dpop {
            let mut out = Vec::new();
            if let Some(proof) = used.trail.last() {
                out.extend(super::dpop::proof_text(
                    "DPoP proof sent with the token request (RFC 9449)",
                    proof,
                    Timestamp::now(),
                ));
            }
            out.extend(
                super::dpop::notes(used)
                    .into_iter()
                    .map(|n| format!("note: {n}")),
            );
            say!("{}", out.join("\n"));
        }
    }
    ExitCode::SUCCESS
}

/// A token shown in full with --show-tokens, else only its ends.
fn token_text(secret: &Secret, show: bool) -> String {
    if show {
        secret.expose().to_owned()
    } else {
        redacted(secret.expose())
    }
}

/// The fields of issue 9's `--json` answer, without status and interaction id.
fn token_json(set: &TokenSet, id_token: Option<&VerifiedIdToken>, show: bool) -> Value {
    let access_claims = jws::decode(set.access_token.expose())
        .ok()
        .map(|jwt| jwt.claims);
    let id_token = id_token.map(|verified| {
        let mut claims = verified.jwt.claims.clone();
        // The nonce ties the token to one request: shown only with the tokens themselves.
        if !show && let Some(nonce) = claims.get_mut("nonce") {
            *nonce = Value::from("(hidden)");
        }
        let mut doc = json!({
            "verified": true,
            "header": verified.jwt.header,
            "claims": claims,
        });
        if show && let Some(compact) = &set.id_token {
            doc["token"] = compact.expose().into();
        }
        doc
    });
    let mut access = json!({"redacted": redacted(set.access_token.expose())});
    if let Some(claims) = access_claims {
        access["claims"] = claims;
    }
    if show {
        access["token"] = set.access_token.expose().into();
    }
    let mut doc = json!({
        "token_type": set.token_type,
        "expires_in": set.expires_in,
        "expires_at": set.expires_at.map(rfc3339_seconds),
        "scope": set.scope,
        "authorization_details": set.authorization_details,
        "consent_id": set.consent_id(),
        "consents": set.consents,
        "id_token": id_token,
        "access_token": access,
        "refresh_token_present": set.refresh_token.is_some(),
    });
    if show && let Some(refresh) = &set.refresh_token {
        doc["refresh_token"] = refresh.expose().into();
    }
    doc
}

fn human(set: &TokenSet, doc: &Value, stored: bool, interaction_id: &str) -> String {
    let mut out = vec![render::title("Tokens")];
    out.push(format!("token_type    {:?}", set.token_type));
    if let (Some(expires_in), Some(at)) = (set.expires_in, set.expires_at) {
        let left = at.as_second() - Timestamp::now().as_second();
        out.push(format!(
            "expires_in    {expires_in} s (at {}, {} left)",
            rfc3339_seconds(at),
            short_duration(left.max(0))
        ));
    }
    if let Some(scope) = &set.scope {
        out.push(format!("scope         {}", printable_line(scope)));
    }
    for consent in &set.consents {
        let id = consent.consent_id.as_deref().unwrap_or("(none)");
        let status = consent.status.as_deref().unwrap_or("(none)");
        out.push(format!(
            "consent       {} status {}",
            printable_line(id),
            printable_line(status)
        ));
        for account in &consent.accounts {
            out.push(format!(
                "  account     {} {}",
                printable_line(&account.account_id),
                printable_line(account.account_name.as_deref().unwrap_or(""))
            ));
        }
    }
    out.push(format!(
        "access_token  {}",
        doc["access_token"]["token"]
            .as_str()
            .map_or_else(|| token_text(&set.access_token, false), str::to_owned)
    ));
    out.push(format!(
        "refresh_token {}",
        match (&set.refresh_token, doc["refresh_token"].as_str()) {
            (_, Some(shown)) => printable_line(shown).into_owned(),
            (Some(_), None) => "present".to_owned(),
            (None, None) => "none".to_owned(),
        }
    ));
    out.push(format!("x-fapi-interaction-id: {interaction_id}"));
    if let Some(claims) = doc["access_token"].get("claims") {
        out.push(render::title("Access token (a JWT, decoded)"));
        out.push(render::json_with_dates(claims, Timestamp::now()));
    }
    if doc["id_token"].is_object() {
        out.push(render::title(
            "ID token: verified (signature, iss, aud, exp, iat, nonce)",
        ));
        out.push(render::json_with_dates(
            &doc["id_token"]["claims"],
            Timestamp::now(),
        ));
    }
    for note in set.notes() {
        out.push(format!("note: {note}"));
    }
    out.push(if stored {
        "Kept in the token store (0600) for `refresh`; `tokens clear` removes them.".into()
    } else {
        "Not kept (--no-store, or the store failed).".into()
    });
    out.join("\n")
}
