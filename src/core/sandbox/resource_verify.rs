//! The resource server's checks, in the order a strict server makes them: the bearer token
//! (issued here, live, for a consent, with the scope), the consent (not revoked, the
//! permission the endpoint needs, the account among its accounts), then the request
//! signature claim by claim, its jti used once.

use std::sync::PoisonError;

use axum::http::HeaderMap;
use axum::http::header;
use serde_json::Value;

use super::AppState;
use super::resource_store::{ConsentRecord, TokenGrant};
use super::store::JtiUse;
use crate::core::consent::resource_api::{Endpoint, RequestSignature, ResourceApi};
use crate::core::jws;
use crate::core::resource::xsig::{Vars, query_object};

/// A refusal of the resource server: HTTP status, error code, what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRefusal {
    pub status: u16,
    pub code: String,
    pub description: String,
}

fn refuse(status: u16, code: &str, description: impl Into<String>) -> ResourceRefusal {
    ResourceRefusal {
        status,
        code: code.to_owned(),
        description: description.into(),
    }
}

fn bad_signature(description: impl Into<String>) -> ResourceRefusal {
    refuse(401, "invalid_signature", description)
}

/// The request as the resource server saw it.
pub struct Incoming<'a> {
    pub headers: &'a HeaderMap,
    /// The full URL without the query, as the server is addressed.
    pub url: String,
    pub query: Vec<(String, String)>,
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    presented(headers).map(|(_, token)| token)
}

/// The Authorization header's scheme (Bearer, or DPoP for a DPoP-bound token: RFC 9449 7.1)
/// and token.
pub fn presented(headers: &HeaderMap) -> Option<(&str, &str)> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .split_once(' ')
        .filter(|(scheme, _)| {
            scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("dpop")
        })
        .map(|(scheme, token)| (scheme, token.trim()))
}

/// A live token this server issued.
pub fn token(
    state: &AppState,
    headers: &HeaderMap,
    now: i64,
) -> Result<TokenGrant, ResourceRefusal> {
    let token = bearer(headers).ok_or_else(|| {
        refuse(
            401,
            "invalid_token",
            "send the access token as Authorization: Bearer (RFC 6750 2.1)",
        )
    })?;
    let grant = state
        .resource
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .token(token)
        .ok_or_else(|| {
            refuse(
                401,
                "invalid_token",
                "the access token is unknown: it was not issued by this server",
            )
        })?;
    if grant.expires_at < now {
        return Err(refuse(
            401,
            "invalid_token",
            format!(
                "the access token expired {} s ago: refresh it (grant_type=refresh_token)",
                now - grant.expires_at
            ),
        ));
    }
    if grant.client_id != state.config.client.client_id {
        return Err(refuse(
            401,
            "invalid_token",
            "the access token was issued to another client",
        ));
    }
    Ok(grant)
}

/// The consent a user token stands for, live, with what the endpoint needs.
pub fn consent(
    state: &AppState,
    api: &ResourceApi,
    grant: &TokenGrant,
    endpoint: &Endpoint,
    account_id: Option<&str>,
) -> Result<ConsentRecord, ResourceRefusal> {
    let consent_id = grant.consent_id.as_deref().ok_or_else(|| {
        refuse(
            403,
            "insufficient_scope",
            "a client_credentials token cannot read account data: use the user's access token",
        )
    })?;
    let record = state
        .resource
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .consent(consent_id)
        .ok_or_else(|| {
            refuse(
                401,
                "invalid_token",
                format!("consent {consent_id} is unknown"),
            )
        })?;
    if record.status != "authorized" {
        return Err(refuse(
            api.revoked_status,
            &api.revoked_error,
            format!(
                "consent {consent_id} is {}: authorize a new consent",
                record.status
            ),
        ));
    }
    if let Some(scope) = &endpoint.scope
        && !grant.scope.split(' ').any(|s| s == scope)
    {
        return Err(refuse(
            403,
            "insufficient_scope",
            format!("the token's scope lacks {scope}"),
        ));
    }
    if let Some(permission) = &endpoint.permission
        && !record.permissions().contains(permission)
    {
        return Err(refuse(
            403,
            "insufficient_permissions",
            format!(
                "consent {consent_id} does not grant {permission}, which {} needs",
                endpoint.name
            ),
        ));
    }
    if let Some(account) = account_id
        && !record.account_ids().iter().any(|a| a == account)
    {
        return Err(refuse(
            403,
            "forbidden",
            format!("account {account} is not among the accounts of consent {consent_id}"),
        ));
    }
    Ok(record)
}

/// The request signature, every claim of it.
pub fn signature(
    state: &AppState,
    scheme: &RequestSignature,
    incoming: &Incoming<'_>,
    record: &ConsentRecord,
    consent_id: &str,
    now: i64,
) -> Result<(), ResourceRefusal> {
    let compact = incoming
        .headers
        .get(scheme.header.as_str())
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            bad_signature(format!(
                "the {} header is missing: every resource call is signed",
                scheme.header
            ))
        })?;
    let jwt = jws::decode(compact).map_err(|e| {
        bad_signature(format!(
            "the {} header is not a compact JWS: {e}",
            scheme.header
        ))
    })?;
    let client = &state.config.client;
    if jwt.alg() != Some(scheme.alg.as_str()) {
        return Err(bad_signature(format!(
            "alg must be {}, not {:?}",
            scheme.alg,
            jwt.alg()
        )));
    }
    let verified = jwt.verify(&client.key.public_jwk).unwrap_or(false);
    if !verified {
        return Err(bad_signature(format!(
            "the {} signature does not verify with the client's registered key (kid {}): signed by another key?",
            scheme.header,
            client
                .key
                .public_jwk
                .common
                .key_id
                .as_deref()
                .unwrap_or("?")
        )));
    }
    let vars = Vars {
        dc_id: record.field("dc_id").unwrap_or_default().to_owned(),
        dp_id: record.field("dp_id").unwrap_or_default().to_owned(),
        consent_id: consent_id.to_owned(),
        client_id: client.client_id.clone(),
    };
    let claim = |name: &str| jwt.claim(name).cloned().unwrap_or(Value::Null);
    for (name, template) in [("iss", &scheme.iss), ("sub", &scheme.sub)] {
        let expected = vars.fill(template);
        if claim(name) != Value::String(expected.clone()) {
            return Err(bad_signature(format!(
                "{name} must be {expected:?}, not {}",
                claim(name)
            )));
        }
    }
    let expected_aud: Vec<Value> = scheme
        .aud
        .iter()
        .map(|a| Value::String(vars.fill(a)))
        .collect();
    if claim("aud") != Value::Array(expected_aud.clone()) {
        return Err(bad_signature(format!(
            "aud must be {}, not {}",
            Value::Array(expected_aud),
            claim("aud")
        )));
    }
    let number = |name: &str| claim(name).as_f64().map(|n| n as i64);
    let (Some(iat), Some(nbf), Some(exp)) = (number("iat"), number("nbf"), number("exp")) else {
        return Err(bad_signature("iat, nbf and exp are required NumericDates"));
    };
    if nbf > now + scheme.clock_skew || iat > now + scheme.clock_skew {
        return Err(bad_signature(format!(
            "iat/nbf are {} s in the future",
            iat.max(nbf) - now
        )));
    }
    if exp < now {
        return Err(bad_signature(format!(
            "the signature expired {} s ago",
            now - exp
        )));
    }
    if exp - iat > scheme.lifetime + scheme.clock_skew {
        return Err(bad_signature(format!(
            "exp - iat is {} s; at most {} are allowed",
            exp - iat,
            scheme.lifetime
        )));
    }
    if claim(&scheme.url_claim) != Value::String(incoming.url.clone()) {
        return Err(bad_signature(format!(
            "{} must be the request URL without its query, {:?}, not {}",
            scheme.url_claim,
            incoming.url,
            claim(&scheme.url_claim)
        )));
    }
    let qpm = query_object(&incoming.query);
    if claim(&scheme.qpm_claim) != qpm {
        return Err(bad_signature(format!(
            "{} must be the query parameters as strings, {qpm}, not {}",
            scheme.qpm_claim,
            claim(&scheme.qpm_claim)
        )));
    }
    let jti = jwt
        .claim_str("jti")
        .ok_or_else(|| bad_signature("jti is required: a fresh one per call"))?;
    let used = state
        .resource_jti
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .first_use(jti, exp, now);
    match used {
        JtiUse::First => Ok(()),
        JtiUse::Replay => Err(bad_signature(format!(
            "jti {jti} was already used: the signature is replayed"
        ))),
        JtiUse::StoreFull => Err(refuse(
            503,
            "temporarily_unavailable",
            "too many live signatures; retry shortly",
        )),
    }
}
