//! The sandbox's resource server, shaped by each pack's `[resource]`: Malaysia's accounts,
//! balances and transactions answered in a signed envelope whose `data` is a JWE to the
//! client's encryption key, the UAE's accounts as plain JSON, and the consent endpoints
//! (show, revoke). The data is fake and the same for the same consent and account.

use std::sync::{Arc, PoisonError};

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Value, json};

use rand::RngCore;

use super::grant::{Grant, random_secret};
use super::resource_data::{accounts, balances, transactions};
use super::resource_dpop::refused_use;
use super::resource_store::TokenGrant;
use super::resource_verify::{self, Incoming, ResourceRefusal};
use super::routes::{no_store, with_interaction_id};
use super::verify::Form;
use super::{ACCESS_TOKEN_LIFETIME, AppState};
use crate::core::consent::resource_api::{Endpoint, ResourceApi, TokenKind, Wrapping};
use crate::core::resource::envelope;

const MY_PACK: &str = "my-account-access";
const UAE_PACK: &str = "uae-account-access";

fn refusal(refusal: ResourceRefusal) -> Response {
    let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = json!({"error": refusal.code, "error_description": refusal.description});
    let mut response = no_store((status, axum::Json(body)).into_response());
    if refusal.status == 401
        && let Ok(value) = HeaderValue::from_str(&format!("Bearer error=\"{}\"", refusal.code))
    {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn api_of<'a>(state: &'a AppState, pack: &str) -> Result<&'a ResourceApi, ResourceRefusal> {
    state
        .config
        .packs
        .find(pack)
        .and_then(|p| p.resource.as_ref())
        .ok_or_else(|| ResourceRefusal {
            status: 404,
            code: "not_found".into(),
            description: format!("the pack {pack} describes no resource API here"),
        })
}

struct Call<'a> {
    pack: &'static str,
    endpoint: &'a str,
    path: String,
    account_id: Option<String>,
    query: Option<String>,
}

/// Every check, then the data, wrapped the pack's way.
fn serve(
    state: &AppState,
    headers: &HeaderMap,
    call: Call<'_>,
) -> Result<Response, ResourceRefusal> {
    let now = Timestamp::now();
    let api = api_of(state, call.pack)?;
    let endpoint = api.endpoint(call.endpoint).ok_or_else(|| ResourceRefusal {
        status: 404,
        code: "not_found".into(),
        description: format!("no endpoint {}", call.endpoint),
    })?;
    let grant = resource_verify::token(state, headers, now.as_second())?;
    let url = format!("{}{}", state.issuer, call.path);
    // A refused DPoP use is answered as RFC 9449 7.1 says, not as a resource refusal.
    if let Some(refused) = refused_use(state, headers, &grant, &endpoint.method, &url, now) {
        return Ok(refused);
    }
    let account_id = call.account_id.as_deref();
    let record = resource_verify::consent(state, api, &grant, endpoint, account_id)?;
    let consent_id = grant.consent_id.clone().unwrap_or_default();
    let query = query_pairs(call.query.as_deref());
    if let Some(scheme) = &api.request_signature {
        let incoming = Incoming {
            headers,
            url,
            query: query.clone(),
        };
        resource_verify::signature(
            state,
            scheme,
            &incoming,
            &record,
            &consent_id,
            now.as_second(),
        )?;
    }
    let payload = match (call.pack, call.endpoint) {
        (UAE_PACK, _) => json!({"Data": {"Account": accounts(&consent_id, &record, true)}}),
        (_, "accounts") => json!({"data": accounts(&consent_id, &record, false)}),
        (_, "balances") => json!({"data": balances(&consent_id, account_id.unwrap_or_default())}),
        _ => {
            let size = query
                .iter()
                .find(|(k, _)| k == "page_size")
                .and_then(|(_, v)| v.parse::<usize>().ok())
                .unwrap_or(10);
            json!({"data": transactions(&consent_id, account_id.unwrap_or_default(), size, now)})
        }
    };
    wrap(
        state,
        api,
        &payload,
        &consent_id,
        record.field("dp_id").unwrap_or_default(),
        now,
    )
}

/// The answer as the pack says: plain JSON, or the signed envelope holding a JWE.
fn wrap(
    state: &AppState,
    api: &ResourceApi,
    payload: &Value,
    consent_id: &str,
    dp_id: &str,
    now: Timestamp,
) -> Result<Response, ResourceRefusal> {
    if api.response.wrapping == Wrapping::Plain {
        return Ok(no_store(axum::Json(payload).into_response()));
    }
    let server_error = |description: String| ResourceRefusal {
        status: 500,
        code: "server_error".into(),
        description,
    };
    let recipient = state.config.client_encryption_key.as_ref().ok_or_else(|| {
        server_error("the sandbox knows no encryption key of the client: set [encryption] key in the profile (\"demo\" makes one)".into())
    })?;
    let key = state
        .server_key()
        .map_err(|e| server_error(format!("the sandbox has no signing key: {e}")))?;
    let at = now.as_second();
    let claims = json!({
        "iss": consent_id,
        "aud": ["Paynet OFP", dp_id],
        "exp": at + 300,
        "iat": at,
        "nbf": at,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    let body = envelope::seal(
        payload,
        &claims,
        key,
        recipient,
        api.response.cty.as_deref(),
    )
    .map_err(server_error)?;
    let content_type = api
        .response
        .content_type
        .as_deref()
        .unwrap_or("application/jose");
    let mut response = no_store(body.into_response());
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    Ok(response)
}

fn answer(state: &AppState, headers: &HeaderMap, call: Call<'_>) -> Response {
    let response = serve(state, headers, call).unwrap_or_else(refusal);
    with_interaction_id(headers, response)
}

pub(super) async fn my_accounts(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let call = Call {
        pack: MY_PACK,
        endpoint: "accounts",
        path: "/v1/accounts".into(),
        account_id: None,
        query,
    };
    answer(&state, &headers, call)
}

pub(super) async fn my_balances(
    State(state): State<Arc<AppState>>,
    Path(account_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let path = format!("/v1/accounts/{}/balances", encode(&account_id));
    let call = Call {
        pack: MY_PACK,
        endpoint: "balances",
        path,
        account_id: Some(account_id),
        query,
    };
    answer(&state, &headers, call)
}

pub(super) async fn my_transactions(
    State(state): State<Arc<AppState>>,
    Path(account_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let path = format!("/v1/accounts/{}/transactions", encode(&account_id));
    let call = Call {
        pack: MY_PACK,
        endpoint: "transactions",
        path,
        account_id: Some(account_id),
        query,
    };
    answer(&state, &headers, call)
}

pub(super) async fn uae_accounts(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let call = Call {
        pack: UAE_PACK,
        endpoint: "accounts",
        path: "/open-finance/v2.1/accounts".into(),
        account_id: None,
        query,
    };
    answer(&state, &headers, call)
}

fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}

/// The consent endpoints: a client_credentials token where the pack says so.
fn consent_call(
    state: &AppState,
    headers: &HeaderMap,
    pack: &str,
    consent_id: &str,
    pick: fn(&ResourceApi) -> Option<&Endpoint>,
    revoke: bool,
) -> Result<Response, ResourceRefusal> {
    let now = Timestamp::now().as_second();
    let api = api_of(state, pack)?;
    let not_offered = || ResourceRefusal {
        status: 404,
        code: "not_found".into(),
        description: "this deployment offers no such consent endpoint".into(),
    };
    let endpoint = pick(api).ok_or_else(not_offered)?;
    let grant = resource_verify::token(state, headers, now)?;
    let path = endpoint.path.replace("{consent_id}", &encode(consent_id));
    let url = format!("{}{path}", state.issuer);
    let at = Timestamp::from_second(now).unwrap_or_else(|_| Timestamp::now());
    if let Some(refused) = refused_use(state, headers, &grant, &endpoint.method, &url, at) {
        return Ok(refused);
    }
    if endpoint.token == TokenKind::ClientCredentials && grant.consent_id.is_some() {
        return Err(ResourceRefusal {
            status: 401,
            code: "invalid_token".into(),
            description: format!(
                "{} takes a client_credentials token, not the user's access token",
                endpoint.name
            ),
        });
    }
    let mut store = state
        .resource
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let record = if revoke {
        store.revoke(consent_id, "data consumer", now)
    } else {
        store.consent(consent_id)
    };
    let record = record.ok_or_else(|| ResourceRefusal {
        status: 404,
        code: "not_found".into(),
        description: format!("consent {consent_id} is unknown"),
    })?;
    let body = if pack == UAE_PACK {
        let status = capitalised(&record.status);
        json!({"Data": {"ConsentId": consent_id, "Status": status,
            "Permissions": record.permissions(), "StatusHistory": record.history}})
    } else {
        json!({"data": {"consent_id": consent_id, "status": record.status,
            "dc_id": record.field("dc_id"), "dp_id": record.field("dp_id"),
            "permissions": record.permissions(), "accounts": record.consent.get("accounts"),
            "status_history": record.history}})
    };
    Ok(no_store(axum::Json(body).into_response()))
}

fn capitalised(status: &str) -> String {
    let mut chars = status.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

pub(super) async fn my_consent(
    State(state): State<Arc<AppState>>,
    Path(consent_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let response = consent_call(
        &state,
        &headers,
        MY_PACK,
        &consent_id,
        |a| a.consent_show.as_ref(),
        false,
    );
    with_interaction_id(&headers, response.unwrap_or_else(refusal))
}

pub(super) async fn my_consent_revoke(
    State(state): State<Arc<AppState>>,
    Path(consent_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let response = consent_call(
        &state,
        &headers,
        MY_PACK,
        &consent_id,
        |a| a.consent_revoke.as_ref(),
        true,
    );
    with_interaction_id(&headers, response.unwrap_or_else(refusal))
}

pub(super) async fn uae_consent(
    State(state): State<Arc<AppState>>,
    Path(consent_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let response = consent_call(
        &state,
        &headers,
        UAE_PACK,
        &consent_id,
        |a| a.consent_show.as_ref(),
        false,
    );
    with_interaction_id(&headers, response.unwrap_or_else(refusal))
}

/// Files an access token issued for a grant with the consent it stands for.
pub(super) fn remember_token(state: &AppState, token: &str, grant: &Grant, now: Timestamp) {
    let at = now.as_second();
    let details = grant.authorization_details.as_array();
    let consent = details.and_then(|items| {
        items
            .iter()
            .map(|item| item.get("consent").unwrap_or(item))
            .find(|c| c.get("consent_id").is_some())
    });
    let consent_id = consent
        .and_then(|c| c.get("consent_id"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let token_grant = TokenGrant {
        client_id: grant.client_id.clone(),
        scope: grant.scope.clone(),
        consent_id,
        issued_at: at,
        expires_at: at + ACCESS_TOKEN_LIFETIME,
        jkt: None,
    };
    state
        .resource
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .issue_token(token, token_grant, consent.cloned());
}

/// Keeps a refresh token's grant (by hash) for the next command's sandbox.
pub(super) fn keep_refresh_grant(state: &AppState, token: &str, grant: &Grant, expires_at: i64) {
    if let Ok(grant) = serde_json::to_value(grant) {
        state
            .resource
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keep_refresh(token, grant, expires_at);
    }
}

/// A refresh token's grant kept by an earlier command's sandbox, while it lives.
pub(super) fn kept_refresh_grant(state: &AppState, token: &str, now: Timestamp) -> Option<Grant> {
    let kept = state
        .resource
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .refresh_grant(token, now.as_second())?;
    serde_json::from_value(kept).ok()
}

/// The client_credentials grant (RFC 6749 4.4): a token for the client itself, for the
/// consent endpoints. The client was authenticated before this is called.
pub(super) fn client_token(
    state: &AppState,
    form: &Form,
    client_id: &str,
    now: Timestamp,
    rng: &mut dyn RngCore,
) -> Value {
    let token = random_secret(rng);
    let at = now.as_second();
    let scope = form
        .get("scope")
        .cloned()
        .unwrap_or_else(|| "accounts".into());
    let grant = TokenGrant {
        client_id: client_id.to_owned(),
        scope: scope.clone(),
        consent_id: None,
        issued_at: at,
        expires_at: at + ACCESS_TOKEN_LIFETIME,
        jkt: None,
    };
    state
        .resource
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .issue_token(&token, grant, None);
    json!({"access_token": token, "token_type": "Bearer", "expires_in": ACCESS_TOKEN_LIFETIME, "scope": scope})
}

#[cfg(test)]
#[path = "resource_tests.rs"]
mod tests;
