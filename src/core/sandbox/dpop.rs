//! DPoP at the sandbox (RFC 9449): a proof checked wherever one comes (signature with the jwk
//! of its header, typ, htm/htu, iat window, jti replay, ath, the server's nonce when
//! `sandbox --dpop-nonce`), the key bound at PAR (`dpop_jkt`, else the proof's), the code, the
//! refresh token and the access token bound to it, and access tokens issued as JWTs carrying
//! `cnf.jkt` with token_type DPoP.

use std::sync::PoisonError;

use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use jiff::Timestamp;
use rand::RngCore;
use serde_json::{Value, json};

use super::grant::random_secret;
use super::store::JtiUse;
use super::verify::{Form, Refusal, Verified};
use super::{ACCESS_TOKEN_LIFETIME, AppState};
use crate::core::dpop::{NONCE_HEADER, PROOF_HEADER, PROOF_TYP, ath, htu};
use crate::core::jws::{self, DecodedJwt};
use crate::core::keys::alg_name;
use crate::core::lint::{self, DpopFacts};
use crate::core::oauth::OAuthError;

/// How far a proof's iat may be from the server's clock, either way (RFC 9449 11.1).
pub const IAT_WINDOW: i64 = 60;
/// How long a nonce the server gave stays good.
pub const NONCE_LIFETIME: i64 = 300;
/// Live proof jti kept against replay: each lives 2 * IAT_WINDOW.
pub const PROOF_JTI_CAP: usize = 20_000;

fn invalid(description: impl Into<String>) -> Refusal {
    Refusal::new(OAuthError::InvalidDpopProof, description)
}

/// The one proof of a request, if it has one (two `DPoP` headers are refused: RFC 9449 4.3).
fn proof_header(headers: &HeaderMap) -> Result<Option<&str>, Refusal> {
    let mut values = headers.get_all(PROOF_HEADER).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(invalid("more than one DPoP header (RFC 9449 4.3 (1))"));
    }
    first
        .to_str()
        .map(Some)
        .map_err(|_| invalid("the DPoP header is not text"))
}

/// What a request's proof must match: its method and URL, and the access token it carries.
pub(super) struct Expect<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub access_token: Option<&'a str>,
}

/// Checks a request's proof, if it has one, and answers its key's thumbprint. `request` is
/// the request object the proof came with (PAR), for the rulebook's dpop_jkt check.
pub(super) fn check_proof(
    state: &AppState,
    headers: &HeaderMap,
    expect: &Expect,
    request: Option<&DecodedJwt>,
    now: Timestamp,
) -> Result<Option<String>, Refusal> {
    let Some(compact) = proof_header(headers)? else {
        return Ok(None);
    };
    let proof =
        jws::decode(compact).map_err(|e| invalid(format!("the DPoP proof is not a JWT: {e}")))?;
    if proof.header.get("typ").and_then(Value::as_str) != Some(PROOF_TYP) {
        return Err(invalid(format!(
            "the proof's typ must be {PROOF_TYP} (RFC 9449 4.2)"
        )));
    }
    let jwk_value = proof
        .header
        .get("jwk")
        .cloned()
        .ok_or_else(|| invalid("the proof's header has no jwk (RFC 9449 4.2)"))?;
    if ["d", "p", "q", "dp", "dq", "qi", "k"]
        .iter()
        .any(|m| jwk_value.get(m).is_some())
    {
        return Err(invalid(
            "the proof's jwk holds private key material (RFC 9449 4.3 (7))",
        ));
    }
    let facts = DpopFacts { proof, mtls: false };
    let no_request = DecodedJwt {
        header: json!({}),
        claims: json!({}),
        compact: String::new(),
    };
    let findings = lint::lint_dpop(
        request.unwrap_or(&no_request),
        &facts,
        None,
        &state.config.packs,
        now,
    );
    if let Some(f) = findings
        .iter()
        .find(|f| f.refusal == Some(OAuthError::InvalidDpopProof))
    {
        return Err(invalid(format!(
            "{} [{}; {}]",
            f.message, f.id, f.reference
        )));
    }
    let proof = facts.proof;
    let jwk = serde_json::from_value(jwk_value)
        .map_err(|e| invalid(format!("the proof's jwk is not a public JWK: {e}")))?;
    if !proof.verify(&jwk).unwrap_or(false) {
        return Err(invalid(
            "the proof's signature does not verify with the jwk of its header (RFC 9449 4.3 (6))",
        ));
    }
    let claim = |name: &str| proof.claim_str(name);
    if claim("htm") != Some(expect.method) {
        return Err(invalid(format!(
            "htm is {:?}, not this request's method {} (RFC 9449 4.3 (8))",
            claim("htm").unwrap_or("missing"),
            expect.method
        )));
    }
    if claim("htu").map(htu) != Some(htu(expect.url)) {
        return Err(invalid(format!(
            "htu is {:?}, not this request's URL {} (RFC 9449 4.3 (9))",
            claim("htu").unwrap_or("missing"),
            htu(expect.url)
        )));
    }
    let iat = proof
        .claim("iat")
        .and_then(Value::as_i64)
        .ok_or_else(|| invalid("iat is missing or not a number (RFC 9449 4.2)"))?;
    if (iat - now.as_second()).abs() > IAT_WINDOW {
        return Err(invalid(format!(
            "iat is {}s from the server's clock; at most {IAT_WINDOW}s is accepted (RFC 9449 4.3 (11))",
            iat - now.as_second()
        )));
    }
    if let Some(token) = expect.access_token
        && claim("ath") != Some(ath(token).as_str())
    {
        return Err(invalid(
            "ath is missing or not the SHA-256 of the access token sent (RFC 9449 4.3 (12))",
        ));
    }
    if state.config.dpop_nonce && !nonce_is_live(state, claim("nonce"), now) {
        return Err(Refusal::new(
            OAuthError::UseDpopNonce,
            "this server requires its nonce in the DPoP proof: send again with the DPoP-Nonce given (RFC 9449 8)",
        ));
    }
    let jti = claim("jti").ok_or_else(|| invalid("jti is missing (RFC 9449 4.2)"))?;
    let first = state
        .proof_jti
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .first_use(jti, now.as_second() + 2 * IAT_WINDOW, now.as_second());
    match first {
        JtiUse::First => {}
        JtiUse::Replay => {
            return Err(invalid(
                "the proof's jti was used before: a proof is single use (RFC 9449 11.1)",
            ));
        }
        JtiUse::StoreFull => {
            return Err(Refusal::new(
                OAuthError::TemporarilyUnavailable,
                "too many live DPoP proofs; retry in a minute",
            ));
        }
    }
    Ok(Some(crate::core::keys::thumbprint(&jwk)))
}

fn nonce_is_live(state: &AppState, nonce: Option<&str>, now: Timestamp) -> bool {
    let Some(nonce) = nonce else { return false };
    state
        .dpop_nonces
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_mut(nonce, now.as_second())
        .is_some()
}

/// The nonce a response offers when nonces are required: the latest while it is young, else
/// a fresh one.
fn current_nonce(state: &AppState, now: Timestamp) -> String {
    let mut latest = state
        .latest_nonce
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let young = latest
        .as_ref()
        .is_some_and(|(_, made)| now.as_second() - made < NONCE_LIFETIME / 2);
    if !young {
        let nonce = random_secret(&mut rand::rng());
        state
            .dpop_nonces
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                nonce.clone(),
                now.as_second() + NONCE_LIFETIME,
                (),
                now.as_second(),
            );
        *latest = Some((nonce, now.as_second()));
    }
    latest.as_ref().map(|(n, _)| n.clone()).unwrap_or_default()
}

/// Adds `DPoP-Nonce` to an answer when the sandbox requires nonces.
pub(super) fn with_nonce(state: &AppState, mut response: Response) -> Response {
    if state.config.dpop_nonce
        && let Ok(value) = HeaderValue::from_str(&current_nonce(state, Timestamp::now()))
    {
        response.headers_mut().insert(NONCE_HEADER, value);
    }
    response
}

fn bind(state: &AppState, key: String, jkt: &str, expires_at: i64, now: i64) {
    state
        .dpop_bindings
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key, expires_at, jkt.to_owned(), now);
}

fn bound(state: &AppState, key: &str, now: i64) -> Option<String> {
    state
        .dpop_bindings
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_mut(key, now)
        .cloned()
}

/// At PAR: the proof checked against the PAR URL and the request object's dpop_jkt; the key
/// the flow is bound to is dpop_jkt, else the proof's (RFC 9449 10).
pub(super) fn bind_at_par(
    state: &AppState,
    headers: &HeaderMap,
    mut verified: Verified,
    now: Timestamp,
) -> Result<Verified, Refusal> {
    let expect = Expect {
        method: "POST",
        url: &state.url("/par"),
        access_token: None,
    };
    // The rulebook's dpop_jkt check reads the request object's claim.
    let request = DecodedJwt {
        header: json!({}),
        claims: json!({"dpop_jkt": verified.asked.dpop_jkt}),
        compact: String::new(),
    };
    let proof_jkt = check_proof(state, headers, &expect, Some(&request), now)?;
    verified.asked.dpop_jkt = verified.asked.dpop_jkt.take().or(proof_jkt);
    Ok(verified)
}

/// Remembers that a code is bound to the key its PAR named.
pub(super) fn bind_code(
    state: &AppState,
    code: &str,
    jkt: Option<&str>,
    expires_at: i64,
    now: i64,
) {
    if let Some(jkt) = jkt {
        bind(state, format!("code:{code}"), jkt, expires_at, now);
    }
}

/// At the token endpoint: the proof checked, and for a bound code or refresh token, required
/// and of the bound key. Answers the key the new tokens are bound to.
pub(super) fn check_at_token(
    state: &AppState,
    headers: &HeaderMap,
    form: &Form,
    now: Timestamp,
) -> Result<Option<String>, Refusal> {
    let expect = Expect {
        method: "POST",
        url: &state.url("/token"),
        access_token: None,
    };
    let proof_jkt = check_proof(state, headers, &expect, None, now)?;
    let binding = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => form.get("code").map(|c| format!("code:{c}")),
        Some("refresh_token") => form.get("refresh_token").map(|t| format!("rt:{t}")),
        _ => None,
    };
    if let Some(required) = binding.and_then(|key| bound(state, &key, now.as_second())) {
        match &proof_jkt {
            None => {
                return Err(invalid(
                    "this grant is bound to a DPoP key: send a DPoP proof signed with it (RFC 9449 5, 10)",
                ));
            }
            Some(jkt) if *jkt != required => {
                return Err(invalid(format!(
                    "the proof's key ({jkt}) is not the one this grant is bound to ({required}) (RFC 9449 10)"
                )));
            }
            Some(_) => {}
        }
    }
    Ok(proof_jkt)
}

/// A token answer bound to `jkt`: token_type DPoP, the access token a JWT with cnf.jkt (kept
/// in place of the opaque one), the refresh token bound too.
pub(super) fn bind_answer(
    state: &AppState,
    mut answer: Value,
    jkt: &str,
    now: Timestamp,
    rng: &mut dyn RngCore,
) -> Result<Value, Refusal> {
    let at = now.as_second();
    let opaque = answer["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let grant = {
        let mut tokens = state
            .access_tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let grant = tokens.get_mut(&opaque, at).map(|g| g.clone());
        tokens.remove(&opaque);
        grant
    };
    // A client_credentials token is kept by the resource server only.
    let issued_to = grant
        .as_ref()
        .map(|g| (g.client_id.clone(), g.scope.clone()))
        .or_else(|| {
            let mut resource = state
                .resource
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            resource.token(&opaque).map(|g| (g.client_id, g.scope))
        });
    let Some((client_id, scope)) = issued_to else {
        return Err(Refusal::new(
            OAuthError::ServerError,
            "the sandbox lost the token it just issued",
        ));
    };
    let key = state.server_key().map_err(|e| {
        Refusal::new(
            OAuthError::ServerError,
            format!("the sandbox has no signing key: {e}"),
        )
    })?;
    let header = json!({"alg": alg_name(key.alg()), "kid": key.kid(), "typ": "at+jwt"});
    let claims = json!({
        "iss": state.issuer,
        "sub": super::TEST_USER,
        "client_id": client_id,
        "aud": state.issuer,
        "iat": at,
        "exp": at + ACCESS_TOKEN_LIFETIME,
        "jti": random_secret(rng),
        "scope": scope,
        "cnf": {"jkt": jkt},
    });
    let token = jws::sign(&header, &claims, key).map_err(|e| {
        Refusal::new(
            OAuthError::ServerError,
            format!("the sandbox could not sign the access token: {e}"),
        )
    })?;
    if let Some(grant) = grant {
        state
            .access_tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(token.clone(), at + ACCESS_TOKEN_LIFETIME, grant, at);
    }
    state
        .resource
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .bind_token(&opaque, &token, jkt);
    bind(
        state,
        format!("at:{token}"),
        jkt,
        at + ACCESS_TOKEN_LIFETIME,
        at,
    );
    if let Some(refresh) = answer["refresh_token"].as_str() {
        bind(
            state,
            format!("rt:{refresh}"),
            jkt,
            at + super::REFRESH_TOKEN_LIFETIME,
            at,
        );
    }
    answer["access_token"] = token.into();
    answer["token_type"] = "DPoP".into();
    Ok(answer)
}

/// At a resource (/userinfo): the key an access token is bound to, if any. A bound token
/// must come as `Authorization: DPoP` with a proof of that key carrying its `ath`.
pub(super) fn check_at_resource(
    state: &AppState,
    headers: &HeaderMap,
    scheme: &str,
    token: &str,
    method: &str,
    path: &str,
    now: Timestamp,
) -> Result<(), Refusal> {
    let Some(required) = bound(state, &format!("at:{token}"), now.as_second()) else {
        return Ok(());
    };
    let url = state.url(path);
    check_bound_use(state, headers, scheme, token, &required, method, &url, now)
}

/// A use of an access token bound to `required` (a thumbprint): `Authorization: DPoP` with a
/// proof of that key for this method and URL, carrying the token's `ath` (RFC 9449 7.1).
#[allow(clippy::too_many_arguments)]
pub(super) fn check_bound_use(
    state: &AppState,
    headers: &HeaderMap,
    scheme: &str,
    token: &str,
    required: &str,
    method: &str,
    url: &str,
    now: Timestamp,
) -> Result<(), Refusal> {
    if !scheme.eq_ignore_ascii_case("dpop") {
        return Err(Refusal::new(
            OAuthError::InvalidToken,
            "this access token is DPoP-bound: send it as Authorization: DPoP with a proof (RFC 9449 7.1)",
        ));
    }
    let expect = Expect {
        method,
        url,
        access_token: Some(token),
    };
    match check_proof(state, headers, &expect, None, now)? {
        None => Err(invalid(
            "a DPoP-bound access token needs a DPoP proof (RFC 9449 7.1)",
        )),
        Some(jkt) if jkt != *required => Err(invalid(format!(
            "the proof's key ({jkt}) is not the one the access token is bound to ({required}) (RFC 9449 7.1)"
        ))),
        Some(_) => Ok(()),
    }
}

/// A resource's refusal (RFC 9449 7.1, 9): 401 with `WWW-Authenticate: DPoP error=...`, the
/// nonce offered when one is wanted.
pub(super) fn resource_refusal(state: &AppState, refusal: Refusal) -> Response {
    let code = refusal.error.code();
    let mut response = super::routes::oauth_error(refusal);
    *response.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
    let challenge = format!("DPoP error=\"{code}\", algs=\"PS256 ES256 EdDSA\"");
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(axum::http::header::WWW_AUTHENTICATE, value);
    }
    with_nonce(state, response)
}
