//! The sandbox's HTTP face: /par (answering like RFC 9126), a one-time /authorize,
//! discovery and /jwks.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use serde_json::json;

use super::AppState;
use super::store::Pushed;
use super::verify::{Refusal, verify_par};
use crate::core::keys::FAPI_ALGS;
use crate::core::oauth::OAuthError;
use crate::core::transport::INTERACTION_HEADER;

pub(super) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/par", post(par))
        .route("/authorize", get(authorize))
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .with_state(state)
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn oauth_error(refusal: Refusal) -> Response {
    let status = StatusCode::from_u16(refusal.error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = json!({"error": refusal.error.code(), "error_description": refusal.description});
    no_store((status, axum::Json(body)).into_response())
}

async fn par(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let interaction_id = headers
        .get(INTERACTION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let now = Timestamp::now();
    let mut response = match verify_par(&state, &headers, &body, now) {
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
                        used: false,
                        authorization_details: verified.authorization_details,
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
    if let Ok(value) = HeaderValue::from_str(&interaction_id) {
        response.headers_mut().insert(INTERACTION_HEADER, value);
    }
    response
}

async fn authorize(
    State(state): State<Arc<AppState>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let refuse =
        |error: OAuthError, description: String| oauth_error(Refusal { error, description });
    let (Some(client_id), Some(request_uri)) = (query.get("client_id"), query.get("request_uri"))
    else {
        return refuse(
            OAuthError::InvalidRequest,
            "client_id and request_uri are required (RFC 9126 4)".into(),
        );
    };
    let now = Timestamp::now().as_second();
    let mut pushed = state.pushed.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(entry) = pushed.live(request_uri, now) else {
        return refuse(
            OAuthError::InvalidRequestUri,
            "unknown or expired request_uri: push the request (again)".into(),
        );
    };
    if entry.client_id != *client_id {
        return refuse(
            OAuthError::InvalidRequest,
            format!(
                "request_uri was pushed by {}, not {client_id}",
                entry.client_id
            ),
        );
    }
    if entry.used {
        return refuse(
            OAuthError::InvalidRequestUri,
            "request_uri was already used: it is one-time (FAPI 2.0)".into(),
        );
    }
    entry.used = true;
    let details = serde_json::to_string_pretty(&entry.authorization_details).unwrap_or_default();
    let escaped = details
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    Html(format!(
        "<!doctype html><title>consent-explorer sandbox</title><h1>Authorization request accepted</h1>\
<p>The consent-explorer sandbox accepted this pushed request. A real authorization server would now \
authenticate the user and show the consent for:</p><pre>{escaped}</pre>"
    ))
    .into_response()
}

/// No token_endpoint: the sandbox has no /token route, and a client must not be sent there.
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
        "jwks_uri": state.url("/jwks"),
        "require_pushed_authorization_requests": true,
        "require_signed_request_object": true,
        "request_object_signing_alg_values_supported": FAPI_ALGS,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": FAPI_ALGS,
        "code_challenge_methods_supported": ["S256"],
        "response_types_supported": ["code"],
        "scopes_supported": ["openid", "accounts", "profile"],
        "authorization_details_types_supported": types,
        "authorization_response_iss_parameter_supported": true,
    }))
    .into_response()
}

/// The server's own signing keys: none, since the sandbox issues no ID tokens or signed
/// responses (the client's key is what it trusts, not what it publishes).
async fn jwks() -> Response {
    axum::Json(json!({"keys": []})).into_response()
}
