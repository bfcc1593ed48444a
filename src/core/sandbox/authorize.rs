//! /authorize: the one use of a pushed request. A browser gets a consent page (what is asked,
//! in the pack's words) whose form answers approve or deny; scripts add `auto=approve` (or
//! `auto=deny`) to the authorize URL and get the redirect at once. Either way the answer is a
//! 303 to the redirect_uri with `code` (or `error=access_denied`), `state` and `iss`
//! (RFC 9207).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, PoisonError};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use jiff::Timestamp;
use rand::RngCore;
use serde_json::Value;

use super::grant::{Asked, Grant, IssuedCode, authorized_details, random_secret};
use super::routes::{no_store, oauth_error};
use super::store::{Pushed, Stage};
use super::verify::{Refusal, read_form};
use super::{AppState, CODE_LIFETIME};
use crate::core::consent::{Field, get_path};
use crate::core::oauth::OAuthError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Approve,
    Deny,
}

impl Decision {
    fn parse(text: &str) -> Result<Decision, Refusal> {
        match text {
            "approve" => Ok(Decision::Approve),
            "deny" => Ok(Decision::Deny),
            other => Err(Refusal::new(
                OAuthError::InvalidRequest,
                format!("the decision is approve or deny, not {other:?}"),
            )),
        }
    }
}

pub(super) async fn show(
    State(state): State<Arc<AppState>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    start(&state, &query, Timestamp::now(), &mut rand::rng()).unwrap_or_else(oauth_error)
}

pub(super) async fn answer(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    read_form(&headers, &body, "the consent answer", "HTML form")
        .and_then(|form| finish(&state, &form, Timestamp::now(), &mut rand::rng()))
        .unwrap_or_else(oauth_error)
}

fn start(
    state: &AppState,
    query: &HashMap<String, String>,
    now: Timestamp,
    rng: &mut dyn RngCore,
) -> Result<Response, Refusal> {
    let (Some(client_id), Some(request_uri)) = (query.get("client_id"), query.get("request_uri"))
    else {
        return Err(Refusal::new(
            OAuthError::InvalidRequest,
            "client_id and request_uri are required (RFC 9126 4)",
        ));
    };
    let auto = query.get("auto").map(|a| Decision::parse(a)).transpose()?;
    let mut pushed = state.pushed.lock().unwrap_or_else(PoisonError::into_inner);
    let entry = live(&mut pushed, request_uri, now)?;
    if entry.client_id != *client_id {
        return Err(Refusal::new(
            OAuthError::InvalidRequest,
            format!(
                "request_uri was pushed by {}, not {client_id}",
                entry.client_id
            ),
        ));
    }
    if entry.stage != Stage::Pushed {
        return Err(Refusal::new(
            OAuthError::InvalidRequestUri,
            "request_uri was already used: it is one-time (FAPI 2.0)",
        ));
    }
    if let Some(decision) = auto {
        entry.stage = Stage::Decided;
        return Ok(redirect(state, entry, decision, now, rng));
    }
    let interaction = random_secret(rng);
    let page = consent_page(state, request_uri, &interaction, &entry.asked);
    entry.stage = Stage::Shown { interaction };
    Ok(no_store(Html(page).into_response()))
}

fn live<'a>(
    pushed: &'a mut super::store::PushedRequests,
    request_uri: &str,
    now: Timestamp,
) -> Result<&'a mut Pushed, Refusal> {
    pushed.live(request_uri, now.as_second()).ok_or_else(|| {
        Refusal::new(
            OAuthError::InvalidRequestUri,
            "unknown or expired request_uri: push the request (again)",
        )
    })
}

/// The consent form's answer: only for the page last shown, and only once.
fn finish(
    state: &AppState,
    form: &HashMap<String, String>,
    now: Timestamp,
    rng: &mut dyn RngCore,
) -> Result<Response, Refusal> {
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let decision = Decision::parse(field("decision"))?;
    let mut pushed = state.pushed.lock().unwrap_or_else(PoisonError::into_inner);
    let entry = live(&mut pushed, field("request_uri"), now)?;
    let shown =
        matches!(&entry.stage, Stage::Shown { interaction } if interaction == field("interaction"));
    if !shown {
        return Err(Refusal::new(
            OAuthError::InvalidRequest,
            "this consent page was already answered or never shown: start again from the authorize URL",
        ));
    }
    entry.stage = Stage::Decided;
    Ok(redirect(state, entry, decision, now, rng))
}

/// The 303 back to the client; an approval first stores the code it carries.
fn redirect(
    state: &AppState,
    entry: &Pushed,
    decision: Decision,
    now: Timestamp,
    rng: &mut dyn RngCore,
) -> Response {
    let asked = &entry.asked;
    let mut params: Vec<(&str, String)> = Vec::new();
    match decision {
        Decision::Approve => {
            let code = random_secret(rng);
            let grant = Grant {
                client_id: entry.client_id.clone(),
                scope: asked.scope.clone(),
                userinfo_claims: asked.userinfo_claims.clone(),
                authorization_details: authorized_details(
                    &asked.authorization_details,
                    &state.config.packs,
                    now,
                    rng,
                ),
                auth_time: now.as_second(),
            };
            let issued = IssuedCode {
                grant,
                redirect_uri: asked.redirect_uri.clone(),
                code_challenge: asked.code_challenge.clone(),
                nonce: asked.nonce.clone(),
                used: false,
            };
            let now = now.as_second();
            state
                .codes
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(code.clone(), now + CODE_LIFETIME, issued, now);
            super::dpop::bind_code(
                state,
                &code,
                asked.dpop_jkt.as_deref(),
                now + CODE_LIFETIME,
                now,
            );
            params.push(("code", code));
        }
        Decision::Deny => {
            params.push(("error", OAuthError::AccessDenied.code().into()));
            params.push(("error_description", "the user denied the consent".into()));
        }
    }
    if let Some(client_state) = &asked.state {
        params.push(("state", client_state.clone()));
    }
    params.push(("iss", state.issuer.clone()));
    let location = with_query(&asked.redirect_uri, &params);
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    no_store(response)
}

/// The redirect_uri with `params` added to whatever query it already has.
fn with_query(redirect_uri: &str, params: &[(&str, String)]) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            url.query_pairs_mut()
                .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
            url.into()
        }
        Err(_) => {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
                .finish();
            format!("{redirect_uri}?{query}")
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn consent_page(state: &AppState, request_uri: &str, interaction: &str, asked: &Asked) -> String {
    let mut page = String::from(
        "<!doctype html><meta charset=\"utf-8\"><title>consent-explorer sandbox: consent</title>\
<h1>Consent</h1>",
    );
    let _ = write!(
        page,
        "<p><b>{}</b> asks to access your data (you are the sandbox test user). It will be sent back to {}.</p><p>Scope: {}</p>",
        escape(&state.config.client.client_id),
        escape(&asked.redirect_uri),
        escape(&asked.scope)
    );
    for item in asked.authorization_details.as_array().into_iter().flatten() {
        describe_item(&mut page, state, item);
    }
    let _ = write!(
        page,
        "<form method=\"post\" action=\"/authorize\">\
<input type=\"hidden\" name=\"request_uri\" value=\"{}\">\
<input type=\"hidden\" name=\"interaction\" value=\"{}\">\
<button name=\"decision\" value=\"approve\">Approve</button> \
<button name=\"decision\" value=\"deny\">Deny</button></form>",
        escape(request_uri),
        escape(interaction)
    );
    page
}

/// One authorization_details item in the pack's own words; raw JSON when no pack knows it.
fn describe_item(page: &mut String, state: &AppState, item: &Value) {
    let kind = item.get("type").and_then(Value::as_str).unwrap_or("?");
    let Some(pack) = state.config.packs.find(kind) else {
        let raw = serde_json::to_string_pretty(item).unwrap_or_default();
        let _ = write!(page, "<h2>{}</h2><pre>{}</pre>", escape(kind), escape(&raw));
        return;
    };
    let _ = write!(page, "<h2>{}</h2><dl>", escape(&pack.name));
    for field in &pack.fields {
        if let Some(value) = get_path(item, &field.path) {
            let _ = write!(
                page,
                "<dt>{}</dt><dd>{}</dd>",
                escape(&field.label),
                in_words(field, value)
            );
        }
    }
    page.push_str("</dl>");
}

/// A value as the pack describes it: each listed value with its description.
fn in_words(field: &Field, value: &Value) -> String {
    let describe = |v: &Value| {
        let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        let description = field
            .values
            .iter()
            .find(|d| d.value == text)
            .map(|d| format!(": {}", d.description))
            .unwrap_or_default();
        escape(&format!("{text}{description}"))
    };
    match value {
        Value::Array(list) => list.iter().map(describe).collect::<Vec<_>>().join("<br>"),
        other => describe(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::consent::PackSet;
    use crate::core::jws::DecodedJwt;
    use crate::core::keys::SigningKey;
    use crate::core::sandbox::{Config, TrustedClient};
    use jsonwebtoken::Algorithm;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use serde_json::json;

    const NOW: i64 = 1_769_767_200;

    fn state() -> AppState {
        let key = SigningKey::generate(Algorithm::ES256).unwrap().0;
        let client = TrustedClient {
            client_id: "c<1>".into(),
            redirect_uris: vec!["https://tpp.example/cb?x=1".into()],
            key: key.facts(),
        };
        AppState::new(
            Config::new(client, PackSet::builtin()),
            "http://127.0.0.1:9126".into(),
        )
    }

    fn asked(details: serde_json::Value) -> Asked {
        Asked::of(&DecodedJwt {
            header: json!({}),
            claims: json!({"redirect_uri": "https://tpp.example/cb?x=1", "state": "s-1",
                "code_challenge": "cc", "scope": "openid accounts",
                "authorization_details": details}),
            compact: String::new(),
        })
    }

    #[test]
    fn the_page_says_what_is_asked_in_the_packs_words_and_escapes_the_clients_text() {
        let state = state();
        let details = json!([
            {"type": "urn:openfinance-ml:account-access-consent:v1.2",
             "consent": {"dp_id": "<script>x</script>", "permissions": ["read_balances"]}},
            {"type": "urn:unknown\"><b>", "x": 1},
        ]);
        let page = consent_page(&state, "urn:r", "i-1", &asked(details));
        assert!(page.contains("read_balances: Account balances"), "{page}");
        assert!(page.contains("&lt;script&gt;x&lt;/script&gt;"), "{page}");
        assert!(page.contains("c&lt;1&gt;"), "{page}");
        assert!(
            !page.contains("<script>") && !page.contains("\"><b>"),
            "{page}"
        );
        assert!(page.contains("name=\"interaction\" value=\"i-1\""));
        assert!(page.contains("value=\"approve\"") && page.contains("value=\"deny\""));
    }

    #[test]
    fn the_callback_keeps_the_redirect_uris_query_and_adds_code_state_and_iss() {
        let state = state();
        let pushed = Pushed {
            client_id: "c<1>".into(),
            stage: Stage::Decided,
            asked: asked(json!([])),
        };
        let now = Timestamp::from_second(NOW).unwrap();
        let mut rng = StdRng::seed_from_u64(3);
        let approved = redirect(&state, &pushed, Decision::Approve, now, &mut rng);
        assert_eq!(approved.status(), StatusCode::SEE_OTHER);
        let location = url::Url::parse(approved.headers()["location"].to_str().unwrap()).unwrap();
        let params: Vec<(String, String)> = location.query_pairs().into_owned().collect();
        let names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["x", "code", "state", "iss"]);
        assert_eq!(params[3].1, "http://127.0.0.1:9126");
        let code = &params[1].1;
        let mut codes = state.codes.lock().unwrap();
        let issued = codes.get_mut(code, NOW + CODE_LIFETIME).expect("stored");
        assert_eq!(issued.code_challenge, "cc");
        assert!(codes.get_mut(code, NOW + CODE_LIFETIME + 1).is_none());
        drop(codes);

        let denied = redirect(&state, &pushed, Decision::Deny, now, &mut rng);
        let location = denied.headers()["location"].to_str().unwrap();
        assert!(location.contains("error=access_denied"), "{location}");
        assert!(!location.contains("code="), "{location}");
    }

    #[test]
    fn only_approve_and_deny_are_decisions() {
        assert_eq!(Decision::parse("approve"), Ok(Decision::Approve));
        assert_eq!(Decision::parse("deny"), Ok(Decision::Deny));
        let refusal = Decision::parse("yes").unwrap_err();
        assert_eq!(refusal.error, OAuthError::InvalidRequest);
    }
}
