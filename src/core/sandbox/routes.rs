//! The sandbox's HTTP face: /par (answering like RFC 9126), discovery and /jwks here;
//! /authorize, /token and /userinfo in their own files.

use std::sync::{Arc, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use serde_json::json;

use super::grant::USERINFO_CLAIMS;
use super::store::{Pushed, Stage};
use super::verify::{Refusal, verify_par};
use super::{AppState, ID_TOKEN_ALG, Served, authorize, resource, token};
use crate::core::keys::{FAPI_ALGS, alg_name};
use crate::core::oauth::OAuthError;
use crate::core::transport::INTERACTION_HEADER;

pub(super) fn router(state: Arc<AppState>) -> Router {
    let routes = routes(state.clone());
    match state.config.served.clone() {
        Some(served) => routes.layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                report_served(served.clone(), request, next)
            },
        )),
        None => routes,
    }
}

async fn report_served(
    served: tokio::sync::mpsc::UnboundedSender<Served>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let started = std::time::Instant::now();
    let (method, path) = (
        request.method().to_string(),
        request.uri().path().to_owned(),
    );
    let response = next.run(request).await;
    let interaction_id = response
        .headers()
        .get(INTERACTION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // Nobody listening any more is no reason to fail the answer.
    let _ = served.send(Served {
        method,
        path,
        status: response.status().as_u16(),
        interaction_id,
        elapsed: started.elapsed(),
    });
    response
}

fn routes(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/par", post(par))
        .route("/authorize", get(authorize::show).post(authorize::answer))
        .route("/token", post(token::token))
        .route("/userinfo", get(token::userinfo))
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/v1/accounts", get(resource::my_accounts))
        .route(
            "/v1/accounts/{account_id}/balances",
            get(resource::my_balances),
        )
        .route(
            "/v1/accounts/{account_id}/transactions",
            get(resource::my_transactions),
        )
        .route("/v1/consents/{consent_id}", get(resource::my_consent))
        .route(
            "/consents/{consent_id}/revoke",
            post(resource::my_consent_revoke),
        )
        .route("/open-finance/v2.1/accounts", get(resource::uae_accounts))
        .route(
            "/account-access-consents/{consent_id}",
            get(resource::uae_consent),
        )
        .with_state(state)
}

pub(super) fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub(super) fn oauth_error(refusal: Refusal) -> Response {
    let status = StatusCode::from_u16(refusal.error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = json!({"error": refusal.error.code(), "error_description": refusal.description});
    no_store((status, axum::Json(body)).into_response())
}

/// Answers with the client's x-fapi-interaction-id, or a fresh one (FAPI 2.0 headers).
pub(super) fn with_interaction_id(headers: &HeaderMap, mut response: Response) -> Response {
    let interaction_id = headers
        .get(INTERACTION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    if let Ok(value) = HeaderValue::from_str(&interaction_id) {
        response.headers_mut().insert(INTERACTION_HEADER, value);
    }
    response
}

async fn par(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let now = Timestamp::now();
    let verified = verify_par(&state, &headers, &body, now)
        .and_then(|verified| super::dpop::bind_at_par(&state, &headers, verified, now));
    let response = match verified {
        Ok(verified) => {
            let request_uri = format!("urn:ietf:params:oauth:request_uri:{}", uuid::Uuid::new_v4());
            let lifetime = state.config.request_uri_lifetime;
            state
                .pushed
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(
                    request_uri.clone(),
                    now.as_second() + lifetime,
                    Pushed {
                        client_id: verified.client_id,
                        stage: Stage::Pushed,
                        asked: verified.asked,
                    },
                    now.as_second(),
                );
            let status =
                StatusCode::from_u16(state.config.par_status).unwrap_or(StatusCode::CREATED);
            let body = json!({"request_uri": request_uri, "expires_in": lifetime});
            no_store((status, axum::Json(body)).into_response())
        }
        Err(refusal) => oauth_error(refusal),
    };
    with_interaction_id(&headers, super::dpop::with_nonce(&state, response))
}

async fn discovery(State(state): State<Arc<AppState>>) -> Response {
    let types: Vec<&str> = state
        .config
        .packs
        .packs
        .iter()
        .map(|p| p.type_.as_str())
        .collect();
    axum::Json(json!({
        "issuer": state.issuer,
        "pushed_authorization_request_endpoint": state.url("/par"),
        "authorization_endpoint": state.url("/authorize"),
        "token_endpoint": state.url("/token"),
        "userinfo_endpoint": state.url("/userinfo"),
        "jwks_uri": state.url("/jwks"),
        "require_pushed_authorization_requests": true,
        "require_signed_request_object": true,
        "request_object_signing_alg_values_supported": FAPI_ALGS,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": FAPI_ALGS,
        "code_challenge_methods_supported": ["S256"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [alg_name(ID_TOKEN_ALG)],
        "claims_parameter_supported": true,
        "claims_supported": USERINFO_CLAIMS,
        "scopes_supported": ["openid", "accounts", "profile"],
        "authorization_details_types_supported": types,
        "authorization_response_iss_parameter_supported": true,
        "dpop_signing_alg_values_supported": FAPI_ALGS,
    }))
    .into_response()
}

/// The server's own key, which signs its ID tokens (the client's key is what it trusts, not
/// what it publishes).
async fn jwks(State(state): State<Arc<AppState>>) -> Response {
    match state.server_key() {
        Ok(key) => axum::Json(key.public_jwks()).into_response(),
        Err(e) => oauth_error(Refusal::new(
            OAuthError::ServerError,
            format!("the sandbox has no signing key: {e}"),
        )),
    }
}
