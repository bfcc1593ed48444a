//! /token (the authorization_code and refresh_token grants) and /userinfo.
//!
//! The client authenticates as at PAR (same rules, same jti store). A code is spent by its
//! first presentation, whatever follows, so a wrong verifier cannot be retried against it.
//! Refresh tokens are not rotated (as the Malaysia platform does).

use std::sync::{Arc, PoisonError};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use rand::RngCore;
use serde_json::{Map, Value, json};

use super::grant::{Grant, TEST_USER, random_secret, test_user_claim};
use super::routes::{no_store, oauth_error, with_interaction_id};
use super::verify::{Form, Refusal, authenticate_client, read_form};
use super::{ACCESS_TOKEN_LIFETIME, AppState, REFRESH_TOKEN_LIFETIME};
use crate::core::jws;
use crate::core::keys::alg_name;
use crate::core::oauth::OAuthError;
use crate::core::request::s256_challenge;

pub(super) async fn token(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let response = match exchange(&state, &headers, &body, Timestamp::now(), &mut rand::rng()) {
        Ok(answer) => no_store(axum::Json(answer).into_response()),
        Err(refusal) => oauth_error(refusal),
    };
    with_interaction_id(&headers, super::dpop::with_nonce(&state, response))
}

fn exchange(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    now: Timestamp,
    rng: &mut dyn RngCore,
) -> Result<Value, Refusal> {
    let form = read_form(headers, body, "the token request", "RFC 6749 3.2")?;
    let client_id = authenticate_client(state, &form, now)?;
    let dpop_jkt = super::dpop::check_at_token(state, headers, &form, now)?;
    let answer = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => redeem_code(state, &form, &client_id, now, rng),
        Some("refresh_token") => refresh(state, &form, &client_id, now, rng),
        Some("client_credentials") => Ok(super::resource::client_token(
            state, &form, &client_id, now, rng,
        )),
        Some(other) => Err(Refusal::new(
            OAuthError::UnsupportedGrantType,
            format!(
                "grant_type {other:?} is not served here: this sandbox takes authorization_code, refresh_token and client_credentials"
            ),
        )),
        None => Err(Refusal::new(
            OAuthError::InvalidRequest,
            "grant_type is required (RFC 6749 4.1.3)",
        )),
    }?;
    match dpop_jkt {
        Some(jkt) => super::dpop::bind_answer(state, answer, &jkt, now, rng),
        None => Ok(answer),
    }
}

fn required<'a>(form: &'a Form, name: &str, reference: &str) -> Result<&'a str, Refusal> {
    form.get(name).map(String::as_str).ok_or_else(|| {
        Refusal::new(
            OAuthError::InvalidRequest,
            format!("{name} is required ({reference})"),
        )
    })
}

fn invalid_grant(description: String) -> Refusal {
    Refusal::new(OAuthError::InvalidGrant, description)
}

fn redeem_code(
    state: &AppState,
    form: &Form,
    client_id: &str,
    now: Timestamp,
    rng: &mut dyn RngCore,
) -> Result<Value, Refusal> {
    let code = required(form, "code", "RFC 6749 4.1.3")?;
    let (grant, nonce) = {
        let mut codes = state.codes.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(issued) = codes.get_mut(code, now.as_second()) else {
            return Err(invalid_grant(
                "unknown or expired code: a code lives 60 s; authorize again".into(),
            ));
        };
        if issued.used {
            return Err(invalid_grant(
                "the code was already used: a code is single use (RFC 6749 4.1.2)".into(),
            ));
        }
        issued.used = true;
        if issued.grant.client_id != client_id {
            return Err(invalid_grant(format!(
                "the code was issued to {}, not {client_id} (RFC 6749 4.1.3)",
                issued.grant.client_id
            )));
        }
        let redirect_uri = form.get("redirect_uri").map(String::as_str);
        if redirect_uri != Some(issued.redirect_uri.as_str()) {
            return Err(invalid_grant(format!(
                "redirect_uri {} is not the one the code was issued for, {} (RFC 6749 4.1.3)",
                redirect_uri.map_or("(missing)".into(), |r| format!("{r:?}")),
                issued.redirect_uri
            )));
        }
        let Some(verifier) = form.get("code_verifier") else {
            return Err(invalid_grant(
                "code_verifier is missing: the code was bound to a PKCE challenge (RFC 7636 4.5)"
                    .into(),
            ));
        };
        if s256_challenge(verifier) != issued.code_challenge {
            return Err(invalid_grant(
                "the code_verifier does not match: S256(code_verifier) differs from the code_challenge (RFC 7636 4.6)".into(),
            ));
        }
        (issued.grant.clone(), issued.nonce.clone())
    };
    let id_token = id_token(state, &grant, nonce.as_deref(), now)?;
    let refresh_token = random_secret(rng);
    let at = now.as_second();
    state
        .refresh_tokens
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(
            refresh_token.clone(),
            at + REFRESH_TOKEN_LIFETIME,
            grant.clone(),
            at,
        );
    super::resource::keep_refresh_grant(state, &refresh_token, &grant, at + REFRESH_TOKEN_LIFETIME);
    Ok(token_response(
        state,
        &grant,
        now,
        rng,
        refresh_token,
        Some(id_token),
    ))
}

fn refresh(
    state: &AppState,
    form: &Form,
    client_id: &str,
    now: Timestamp,
    rng: &mut dyn RngCore,
) -> Result<Value, Refusal> {
    let token = required(form, "refresh_token", "RFC 6749 6")?;
    let grant = {
        let mut tokens = state
            .refresh_tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut kept = super::resource::kept_refresh_grant(state, token, now);
        let Some(grant) = tokens.get_mut(token, now.as_second()).or(kept.as_mut()) else {
            return Err(invalid_grant("unknown or expired refresh token".into()));
        };
        if grant.client_id != client_id {
            return Err(invalid_grant(format!(
                "the refresh token was issued to {}, not {client_id} (RFC 6749 6)",
                grant.client_id
            )));
        }
        grant.clone()
    };
    Ok(token_response(
        state,
        &grant,
        now,
        rng,
        token.to_owned(),
        None,
    ))
}

/// A fresh opaque access token, stored for /userinfo, and the answer (S-TOK's shape).
fn token_response(
    state: &AppState,
    grant: &Grant,
    now: Timestamp,
    rng: &mut dyn RngCore,
    refresh_token: String,
    id_token: Option<String>,
) -> Value {
    let access_token = random_secret(rng);
    let at = now.as_second();
    state
        .access_tokens
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(
            access_token.clone(),
            at + ACCESS_TOKEN_LIFETIME,
            grant.clone(),
            at,
        );
    super::resource::remember_token(state, &access_token, grant, now);
    let mut answer = Map::new();
    answer.insert("access_token".into(), access_token.into());
    answer.insert("token_type".into(), "Bearer".into());
    answer.insert("expires_in".into(), ACCESS_TOKEN_LIFETIME.into());
    answer.insert("scope".into(), grant.scope.clone().into());
    answer.insert("refresh_token".into(), refresh_token.into());
    if let Some(id_token) = id_token {
        answer.insert("id_token".into(), id_token.into());
    }
    answer.insert(
        "authorization_details".into(),
        grant.authorization_details.clone(),
    );
    Value::Object(answer)
}

/// The ID token (OpenID Connect Core 2), signed with the sandbox's own key.
fn id_token(
    state: &AppState,
    grant: &Grant,
    nonce: Option<&str>,
    now: Timestamp,
) -> Result<String, Refusal> {
    let server_error = |e: &dyn std::fmt::Display| {
        Refusal::new(
            OAuthError::ServerError,
            format!("the sandbox could not sign the ID token: {e}"),
        )
    };
    let key = state.server_key().map_err(|e| server_error(e))?;
    let header = json!({"alg": alg_name(key.alg()), "kid": key.kid(), "typ": "JWT"});
    let mut claims = json!({
        "iss": state.issuer,
        "sub": TEST_USER,
        "aud": grant.client_id,
        "azp": grant.client_id,
        "exp": now.as_second() + ACCESS_TOKEN_LIFETIME,
        "iat": now.as_second(),
        "auth_time": grant.auth_time,
    });
    if let Some(nonce) = nonce {
        claims["nonce"] = nonce.into();
    }
    jws::sign(&header, &claims, key).map_err(|e| server_error(&e))
}

pub(super) async fn userinfo(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| {
            scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("dpop")
        })
        .map(|(scheme, token)| (scheme, token.trim()));
    let now = Timestamp::now();
    let grant = presented.and_then(|(_, token)| {
        state
            .access_tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(token, now.as_second())
            .map(|grant| grant.clone())
    });
    if let (Some((scheme, token)), Some(_)) = (presented, &grant)
        && let Err(refusal) =
            super::dpop::check_at_resource(&state, &headers, scheme, token, "GET", "/userinfo", now)
    {
        return super::dpop::resource_refusal(&state, refusal);
    }
    match grant {
        Some(grant) => no_store(axum::Json(user_claims(&grant)).into_response()),
        None => {
            let mut response = oauth_error(Refusal::new(
                OAuthError::InvalidToken,
                "send a live access token as Authorization: Bearer (RFC 6750 2.1)",
            ));
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            response
        }
    }
}

/// `sub` and the test user's claims the request object asked for.
fn user_claims(grant: &Grant) -> Value {
    let mut claims = Map::new();
    claims.insert("sub".into(), TEST_USER.into());
    for name in &grant.userinfo_claims {
        if let Some(value) = test_user_claim(name) {
            claims.insert(name.clone(), value);
        }
    }
    Value::Object(claims)
}

#[cfg(test)]
#[path = "token_tests.rs"]
mod tests;
