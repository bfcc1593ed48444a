//! The token exchange, the token response parser and ID token verification, against loopback
//! fake servers (a token endpoint, discovery and a JWKS) with a fixed clock and seeded rng.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use consent_explorer::core::consent::PackSet;
use consent_explorer::core::flow::id_token::{
    self, Check, Expected, ID_TOKEN_SKEW_SECS, IdTokenError,
};
use consent_explorer::core::flow::token::{
    self, FoundIn, Grant, Secret, TokenOutcome, TokenRequest, TokenResponseError, TokenSet,
    TokenType,
};
use consent_explorer::core::jws;
use consent_explorer::core::keys::{SigningKey, b64url};
use consent_explorer::core::profile;
use consent_explorer::core::request::{Overrides, ParSeed};
use consent_explorer::core::tls::TlsMaterial;
use consent_explorer::core::transport::{self, ClientOptions, NetworkErrorKind};
use jiff::Timestamp;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::JwkSet;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

const CLIENT_ID: &str = "client-1";
const NONCE: &str = "n-0S6_WzA2Mj";

fn now() -> Timestamp {
    "2026-01-30T10:00:00Z".parse().unwrap()
}

#[derive(Default)]
struct Seen {
    form: HashMap<String, String>,
    interaction_id: Option<String>,
}

/// A loopback token endpoint answering one fixed status and body, with discovery and a JWKS.
struct FakeServer {
    base: String,
    seen: Arc<Mutex<Seen>>,
}

#[derive(Clone)]
struct Answer {
    status: u16,
    body: Value,
    jwks: Value,
    base: String,
    seen: Arc<Mutex<Seen>>,
}

async fn token_route(
    State(answer): State<Answer>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    let mut seen = answer.seen.lock().unwrap();
    seen.form = form;
    seen.interaction_id = headers
        .get("x-fapi-interaction-id")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        StatusCode::from_u16(answer.status).unwrap(),
        Json(answer.body.clone()),
    )
}

async fn start(status: u16, body: Value, jwks: Value) -> FakeServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Seen::default()));
    let answer = Answer {
        status,
        body,
        jwks,
        base: base.clone(),
        seen: seen.clone(),
    };
    let app = Router::new()
        .route("/token", post(token_route))
        .route(
            "/jwks",
            get(|State(a): State<Answer>| async move { Json(a.jwks) }),
        )
        .route(
            "/.well-known/openid-configuration",
            get(|State(a): State<Answer>| async move {
                Json(json!({"issuer": a.base, "jwks_uri": format!("{}/jwks", a.base)}))
            }),
        )
        .with_state(answer);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    FakeServer { base, seen }
}

fn seed(base: &str) -> ParSeed {
    let mut seed = profile::builtin("local")
        .unwrap()
        .seed(&PackSet::builtin(), &Overrides::default(), base)
        .unwrap();
    seed.client_id = CLIENT_ID.into();
    seed
}

fn code_grant() -> Grant {
    Grant::AuthorizationCode {
        code: Secret::new("code-SplxlOBeZQQYbYS6WxSbIA"),
        redirect_uri: "http://127.0.0.1:9999/cb".into(),
        code_verifier: Secret::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
    }
}

fn request(seed: &ParSeed, key: &SigningKey, grant: &Grant, rng_seed: u64) -> TokenRequest {
    TokenRequest::new(
        seed,
        key,
        grant,
        now(),
        &mut StdRng::seed_from_u64(rng_seed),
    )
    .unwrap()
}

/// The exchange over plain loopback HTTP (no client certificate).
async fn exchange(
    seed: &ParSeed,
    request: &TokenRequest,
) -> Result<token::TokenExchange, transport::NetworkError> {
    let (tls, options) = (TlsMaterial::default(), ClientOptions::default());
    token::exchange(&seed.endpoints, &tls, &options, request).await
}

fn ps256() -> SigningKey {
    SigningKey::generate(Algorithm::PS256).unwrap().0
}

/// The Malaysia sample's token response (S-TOK) with the tokens the DC docs promise.
fn my_token_response() -> Value {
    json!({
        "access_token": "at-3f2c9e7a1b",
        "expires_in": 600,
        "token_type": "Bearer",
        "scope": "openid accounts",
        "state": "af0ifjsldkj",
        "id_token": "eyJ.id.token",
        "refresh_token": "rt-77aa01",
        "authorization_details": [{
            "type": "urn:openfinance-ml:account-access-consent:v1.2",
            "consent": {
                "dc_id": "dc-1",
                "consent_id": "c0a8012e-7f00-4d3a-9a11-2b8d4f1e6c55",
                "status": "authorized",
                "accounts": [
                    {"account_id": "acc-001", "account_number": "1234567890", "account_name": "Savings"},
                    {"account_id": "acc-002"}
                ]
            }
        }]
    })
}

#[test]
fn the_code_grant_form_has_every_field_and_a_fresh_assertion_for_the_issuer() {
    let key = ps256();
    let seed = seed("http://127.0.0.1:9126");
    let first = request(&seed, &key, &code_grant(), 1);
    let again = request(&seed, &key, &code_grant(), 1);
    let other = request(&seed, &key, &code_grant(), 2);
    let names: Vec<&str> = first.form.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "grant_type",
            "code",
            "redirect_uri",
            "code_verifier",
            "client_id",
            "client_assertion_type",
            "client_assertion"
        ]
    );
    assert_eq!(first.form_value("grant_type"), Some("authorization_code"));
    assert_eq!(first.form_value("client_id"), Some(CLIENT_ID));
    let assertion = &first.client_assertion;
    assert_eq!(assertion.claims["aud"], "http://127.0.0.1:9126");
    assert_eq!(assertion.claims["iss"], CLIENT_ID);
    assert_eq!(assertion.claims["sub"], CLIENT_ID);
    assert_eq!(assertion.claims["iat"], now().as_second());
    assert_eq!(
        jws::decode(first.form_value("client_assertion").unwrap())
            .unwrap()
            .verify(&key.public_jwk()),
        Ok(true)
    );
    assert_eq!(assertion.claims, again.client_assertion.claims);
    assert_ne!(
        assertion.claims["jti"],
        other.client_assertion.claims["jti"]
    );
    assert_ne!(first.interaction_id, other.interaction_id);
    let debug = format!("{first:?} {:?}", code_grant());
    for secret in [
        "code-SplxlOBeZQQYbYS6WxSbIA",
        "dBjftJeZ4CVP",
        &assertion.compact,
    ] {
        assert!(!debug.contains(secret), "{debug}");
    }
}

#[test]
fn the_assertion_audience_follows_the_profile() {
    let mut seed = seed("http://127.0.0.1:9126");
    seed.assertion_audience = consent_explorer::core::request::AssertionAudience::TokenEndpoint;
    let r = request(&seed, &ps256(), &code_grant(), 1);
    assert_eq!(
        r.client_assertion.claims["aud"],
        "http://127.0.0.1:9126/token"
    );
}

#[tokio::test]
async fn a_code_is_exchanged_over_the_transport_and_the_answer_typed() {
    let server = start(200, my_token_response(), json!({"keys": []})).await;
    let seed = seed(&server.base);
    let request = request(&seed, &ps256(), &code_grant(), 3);
    let exchange = exchange(&seed, &request).await.unwrap();
    {
        let seen = server.seen.lock().unwrap();
        assert_eq!(seen.form["code"], "code-SplxlOBeZQQYbYS6WxSbIA");
        assert_eq!(
            seen.form["code_verifier"],
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
        assert_eq!(seen.form["redirect_uri"], "http://127.0.0.1:9999/cb");
        assert_eq!(
            seen.interaction_id.as_deref(),
            Some(request.interaction_id.as_str())
        );
    }
    assert_eq!(exchange.status, 200);
    assert!(exchange.refusal_body.is_none());
    let TokenOutcome::Issued(set) = &exchange.outcome else {
        panic!("{:?}", exchange.outcome)
    };
    assert_eq!(set.token_type, TokenType::Bearer);
    assert_eq!(set.access_token.expose(), "at-3f2c9e7a1b");
    assert_eq!(set.refresh_token.as_ref().unwrap().expose(), "rt-77aa01");
    assert_eq!(set.expires_in, Some(600));
    assert_eq!(
        set.expires_at,
        Some(exchange.received_at + jiff::SignedDuration::from_secs(600))
    );
    assert_eq!(
        set.consent_id(),
        Some("c0a8012e-7f00-4d3a-9a11-2b8d4f1e6c55")
    );
    let consent = &set.consents[0];
    assert_eq!(consent.status.as_deref(), Some("authorized"));
    assert_eq!(consent.found_in, Some(FoundIn::Consent));
    assert_eq!(consent.accounts.len(), 2);
    assert_eq!(consent.accounts[0].account_name.as_deref(), Some("Savings"));
    assert_eq!(consent.accounts[1].account_number, None);
    assert!(set.notes().iter().any(|n| n.contains("state")));
    let debug = format!("{exchange:?}");
    for secret in ["at-3f2c9e7a1b", "rt-77aa01", "eyJ.id.token"] {
        assert!(!debug.contains(secret), "{debug}");
    }
}

#[tokio::test]
async fn a_refresh_sends_the_refresh_token_with_a_fresh_assertion() {
    let server = start(200, my_token_response(), json!({"keys": []})).await;
    let seed = seed(&server.base);
    let grant = Grant::RefreshToken {
        refresh_token: Secret::new("rt-77aa01"),
    };
    let request = request(&seed, &ps256(), &grant, 4);
    assert!(!format!("{grant:?} {request:?}").contains("rt-77aa01"));
    let exchange = exchange(&seed, &request).await.unwrap();
    assert!(matches!(exchange.outcome, TokenOutcome::Issued(_)));
    let seen = server.seen.lock().unwrap();
    assert_eq!(seen.form["grant_type"], "refresh_token");
    assert_eq!(seen.form["refresh_token"], "rt-77aa01");
    assert!(!seen.form.contains_key("code"));
    assert_eq!(
        seen.form["client_assertion"],
        request.client_assertion.compact
    );
}

#[tokio::test]
async fn an_oauth_refusal_is_explained() {
    let body = json!({"error": "invalid_grant", "error_description": "code already used"});
    let server = start(400, body, json!({"keys": []})).await;
    let seed = seed(&server.base);
    let exchange = exchange(&seed, &request(&seed, &ps256(), &code_grant(), 5))
        .await
        .unwrap();
    let TokenOutcome::Refused {
        error,
        error_description,
        explanation,
    } = exchange.outcome
    else {
        panic!("{:?}", exchange.outcome)
    };
    assert_eq!(error, "invalid_grant");
    assert_eq!(error_description.as_deref(), Some("code already used"));
    assert!(explanation.contains("PKCE verifier"), "{explanation}");
    assert!(exchange.refusal_body.is_some());
}

#[tokio::test]
async fn a_closed_port_is_named_as_a_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let seed = seed(&base);
    let err = exchange(&seed, &request(&seed, &ps256(), &code_grant(), 6))
        .await
        .unwrap_err();
    assert_eq!(err.kind, NetworkErrorKind::ConnectionRefused);
}

fn parse(body: Value) -> Result<TokenSet, TokenResponseError> {
    TokenSet::parse(&body, now())
}

fn with(field: &str, value: Value) -> Value {
    let mut body = my_token_response();
    body[field] = value;
    body
}

fn without(field: &str) -> Value {
    let mut body = my_token_response();
    body.as_object_mut().unwrap().remove(field);
    body
}

#[test]
fn a_malformed_token_response_names_the_field_and_the_problem() {
    let cases = [
        (json!([1]), "the answer is not a JSON object"),
        (without("access_token"), "access_token is missing"),
        (
            with("access_token", json!(5)),
            "access_token is a number, not a string",
        ),
        (with("access_token", json!(" ")), "access_token is empty"),
        (without("token_type"), "token_type is missing"),
        (
            with("token_type", json!("mac")),
            "token_type is \"mac\": neither Bearer nor DPoP",
        ),
        (with("expires_in", json!(0)), "expires_in is 0"),
        (with("expires_in", json!(-5)), "expires_in is -5"),
        (with("expires_in", json!(60.5)), "expires_in is 60.5"),
        (
            with("expires_in", json!("600")),
            "expires_in is a string, not a number",
        ),
        (
            with("expires_in", json!(1_000_000_000_000_i64)),
            "expires_in 1000000000000 is out of range",
        ),
        (
            with("scope", json!(["a"])),
            "scope is an array, not a string",
        ),
        (
            with("id_token", json!({})),
            "id_token is an object, not a string",
        ),
        (with("refresh_token", json!("")), "refresh_token is empty"),
        (
            with("authorization_details", json!({"type": "x"})),
            "authorization_details is an object, not an array",
        ),
        (
            with("authorization_details", json!(["x"])),
            "authorization_details[0] is a string, not an object",
        ),
        (
            with(
                "authorization_details",
                json!([{"consent": {"consent_id": 7}}]),
            ),
            "authorization_details[0].consent.consent_id is a number, not a string",
        ),
        (
            with(
                "authorization_details",
                json!([{"consent": {"accounts": {}}}]),
            ),
            "authorization_details[0].consent.accounts is an object, not an array",
        ),
        (
            with(
                "authorization_details",
                json!([{"consent": {"accounts": [{"account_name": "x"}]}}]),
            ),
            "authorization_details[0].consent.accounts[0].account_id is missing",
        ),
    ];
    for (body, expected) in cases {
        let err = parse(body.clone()).expect_err(&body.to_string());
        assert!(err.to_string().contains(expected), "{body}: {err}");
    }
}

#[test]
fn the_token_response_is_read_leniently_where_the_standards_allow() {
    let set = parse(with("token_type", json!("dpop"))).unwrap();
    assert_eq!(set.token_type, TokenType::DPoP);
    assert_eq!(
        parse(with("token_type", json!("BEARER")))
            .unwrap()
            .token_type,
        TokenType::Bearer
    );
    let bare = json!({"access_token": "a", "token_type": "Bearer"});
    let set = parse(bare).unwrap();
    assert_eq!((set.expires_in, set.expires_at), (None, None));
    assert!(set.refresh_token.is_none() && set.id_token.is_none());
    assert!(set.consents.is_empty());
    assert!(set.notes().iter().any(|n| n.contains("no expires_in")));
}

#[test]
fn consent_facts_are_found_in_the_consent_object_or_at_the_item_level() {
    let uae = with(
        "authorization_details",
        json!([{"type": "urn:openfinanceuae:account-access-consent:v2.1",
                "consent": {"ConsentId": "uae-1", "Status": "Authorized"}}]),
    );
    let set = parse(uae).unwrap();
    assert_eq!(set.consent_id(), Some("uae-1"));
    assert_eq!(set.consents[0].status.as_deref(), Some("Authorized"));
    assert_eq!(set.consents[0].found_in, Some(FoundIn::Consent));
    let item_level = with(
        "authorization_details",
        json!([{"type": "t", "consent": {"dc_id": "d"}, "consent_id": "item-1",
                "status": "authorized", "accounts": [{"account_id": "a1"}]}]),
    );
    let set = parse(item_level).unwrap();
    assert_eq!(set.consent_id(), Some("item-1"));
    assert_eq!(set.consents[0].found_in, Some(FoundIn::Item));
    assert_eq!(set.consents[0].accounts[0].account_id, "a1");
    assert!(set.notes().iter().any(|n| n.contains("item level")));
    let plain_echo = with(
        "authorization_details",
        json!([{"type": "t", "consent": {}}]),
    );
    let set = parse(plain_echo).unwrap();
    assert_eq!((set.consent_id(), set.consents[0].found_in), (None, None));
    assert!(!set.notes().iter().any(|n| n.contains("item level")));
}

#[test]
fn answers_that_are_not_oauth_are_named() {
    let html = transport::Body::parse(b"<html>Bad Gateway</html>");
    let TokenOutcome::Unexpected { explanation } = token::token_outcome(502, None, &html, now())
    else {
        panic!()
    };
    assert!(explanation.contains("HTML page"), "{explanation}");
    let redirect = transport::Body::parse(b"");
    let TokenOutcome::Unexpected { explanation } =
        token::token_outcome(302, Some("https://elsewhere.example/"), &redirect, now())
    else {
        panic!()
    };
    assert!(explanation.contains("not followed"), "{explanation}");
    let text = transport::Body::parse(b"ok");
    assert!(matches!(
        token::token_outcome(200, None, &text, now()),
        TokenOutcome::Malformed(TokenResponseError::NotObject)
    ));
}

// ID tokens.

fn good_claims(issuer: &str) -> Value {
    json!({
        "iss": issuer,
        "sub": "user-1",
        "aud": CLIENT_ID,
        "azp": CLIENT_ID,
        "exp": now().as_second() + 300,
        "iat": now().as_second(),
        "nonce": NONCE,
        "auth_time": now().as_second(),
    })
}

fn signed(key: &SigningKey, claims: &Value) -> String {
    let header =
        json!({"alg": consent_explorer::core::keys::alg_name(key.alg()), "kid": key.kid()});
    jws::sign(&header, claims, key).unwrap()
}

fn unsigned_with_alg(alg: &str, kid: &str, claims: &Value) -> String {
    let header = json!({"alg": alg, "kid": kid});
    format!(
        "{}.{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes()),
        if alg == "none" { "" } else { "c2lnbmF0dXJl" }
    )
}

fn expected(issuer: &str) -> Expected<'_> {
    Expected {
        issuer,
        client_id: CLIENT_ID,
        nonce: NONCE,
        now: now(),
        skew_secs: ID_TOKEN_SKEW_SECS,
    }
}

/// The JWKS as the client gets it: through discovery's jwks_uri from the fake server.
async fn served_jwks(keys: &[&SigningKey]) -> (String, JwkSet) {
    let jwks = JwkSet {
        keys: keys.iter().map(|k| k.public_jwk()).collect(),
    };
    let server = start(200, json!({}), serde_json::to_value(&jwks).unwrap()).await;
    let client = transport::http_client(
        &server.base,
        &TlsMaterial::default(),
        &ClientOptions::default(),
    )
    .unwrap();
    let uri = id_token::jwks_uri(&client, &server.base).await.unwrap();
    assert_eq!(uri, format!("{}/jwks", server.base));
    let fetched = id_token::fetch_jwks(&client, &uri).await.unwrap();
    (server.base, fetched)
}

/// The ID token as the client gets it: in a token response from a fake token endpoint.
async fn through_token_endpoint(id_token: &str) -> String {
    let body = json!({"access_token": "at", "token_type": "Bearer", "id_token": id_token});
    let server = start(200, body, json!({"keys": []})).await;
    let seed = seed(&server.base);
    // An EC client key: RSA key generation would dominate this test's time.
    let client_key = SigningKey::generate(Algorithm::ES256).unwrap().0;
    let exchange = exchange(&seed, &request(&seed, &client_key, &code_grant(), 8))
        .await
        .unwrap();
    let TokenOutcome::Issued(set) = exchange.outcome else {
        panic!("{:?}", exchange.outcome)
    };
    set.id_token.unwrap().expose().to_owned()
}

fn refused(result: Result<id_token::VerifiedIdToken, IdTokenError>) -> IdTokenError {
    let err = result.expect_err("accepted");
    assert_eq!(err.code(), "id_token_invalid");
    assert!(err.to_string().starts_with("id_token_invalid"), "{err}");
    err
}

#[tokio::test]
async fn a_good_id_token_is_accepted_and_each_bad_one_refused_for_its_reason() {
    let server_key = ps256();
    let other_key = ps256();
    let (issuer, jwks) = served_jwks(&[&server_key]).await;
    let issuer = issuer.as_str();
    let good = signed(&server_key, &good_claims(issuer));
    let verified = id_token::verify(
        &through_token_endpoint(&good).await,
        &jwks,
        &expected(issuer),
    )
    .unwrap();
    assert_eq!(verified.jwt.claims["sub"], "user-1");
    assert_eq!(verified.kid.as_deref(), Some(server_key.kid()));
    let debug = format!("{verified:?} {:?}", expected(issuer));
    assert!(!debug.contains(&good) && !debug.contains(NONCE), "{debug}");

    let now_s = now().as_second();
    let skew = ID_TOKEN_SKEW_SECS;
    // One claim changed from the good token's, the token signed by the server's key.
    let changed_claim = [
        ("nonce", json!("other"), Check::Nonce, "nonce differs"),
        ("nonce", Value::Null, Check::Nonce, "nonce"),
        ("aud", json!("client-2"), Check::Aud, "another client"),
        (
            "iss",
            json!("https://evil.example"),
            Check::Iss,
            "not the issuer",
        ),
        (
            "exp",
            json!(now_s - skew - 1),
            Check::Exp,
            "expired 61 s ago (exp",
        ),
        ("exp", json!("soon"), Check::Exp, "not a NumericDate"),
        (
            "iat",
            json!(now_s + 3600),
            Check::Iat,
            "3600 s in the future (60 s skew allowed)",
        ),
        ("azp", json!("other"), Check::Azp, "not the client_id"),
        ("sub", Value::Null, Check::Sub, "sub is missing"),
    ];
    let mut cases: Vec<(String, String, Check, &str)> = changed_claim
        .into_iter()
        .map(|(claim, value, check, reason)| {
            let name = format!("{claim} = {value}");
            let mut claims = good_claims(issuer);
            claims[claim] = value;
            (name, signed(&server_key, &claims), check, reason)
        })
        .collect();
    let claims = good_claims(issuer);
    let kid = server_key.kid();
    let forged = jws::sign(&json!({"alg": "PS256", "kid": kid}), &claims, &other_key).unwrap();
    let rotated = jws::sign(
        &json!({"alg": "PS256", "kid": "rotated"}),
        &claims,
        &server_key,
    );
    let mut multi_aud = good_claims(issuer);
    multi_aud["aud"] = json!([CLIENT_ID, "other"]);
    multi_aud.as_object_mut().unwrap().remove("azp");
    let whole_token = [
        (
            "forged signature",
            forged,
            Check::Signature,
            "does not verify",
        ),
        (
            "alg none",
            unsigned_with_alg("none", kid, &claims),
            Check::Alg,
            "alg is none",
        ),
        (
            "HS256",
            unsigned_with_alg("HS256", kid, &claims),
            Check::Alg,
            "shared-secret",
        ),
        (
            "RS256",
            unsigned_with_alg("RS256", kid, &claims),
            Check::Alg,
            "RS256",
        ),
        (
            "aud array, no azp",
            signed(&server_key, &multi_aud),
            Check::Azp,
            "azp is missing",
        ),
        (
            "unknown kid",
            rotated.unwrap(),
            Check::Key,
            "no signing key with kid \"rotated\"",
        ),
        (
            "not a JWT",
            "abc".into(),
            Check::Format,
            "three dot-separated parts",
        ),
    ];
    cases.extend(
        whole_token
            .into_iter()
            .map(|(name, token, check, reason)| (name.to_owned(), token, check, reason)),
    );
    for (name, token, check, reason) in cases {
        let token = through_token_endpoint(&token).await;
        let err = refused(id_token::verify(&token, &jwks, &expected(issuer)));
        assert_eq!(err.check, check, "{name}: {err}");
        assert!(err.reason.contains(reason), "{name}: {err}");
    }
}

#[tokio::test]
async fn the_skew_and_the_key_choice_without_kid() {
    let rsa = ps256();
    let ec = SigningKey::generate(Algorithm::ES256).unwrap().0;
    let ed = SigningKey::generate(Algorithm::EdDSA).unwrap().0;
    let (issuer, jwks) = served_jwks(&[&rsa, &ec, &ed]).await;
    let issuer = issuer.as_str();
    // Within the skew, and with a fractional NumericDate as some deployments send.
    let mut claims = good_claims(issuer);
    claims["exp"] = json!(now().as_second() as f64 - 30.5);
    claims["aud"] = json!([CLIENT_ID, "Paynet OFP"]);
    for key in [&rsa, &ec, &ed] {
        let kid_less = jws::sign(
            &json!({"alg": consent_explorer::core::keys::alg_name(key.alg())}),
            &claims,
            key,
        )
        .unwrap();
        id_token::verify(&kid_less, &jwks, &expected(issuer))
            .unwrap_or_else(|e| panic!("{:?}: {e}", key.alg()));
    }
    let second_rsa = ps256();
    let (issuer, two_rsa) = served_jwks(&[&rsa, &second_rsa]).await;
    let kid_less = jws::sign(&json!({"alg": "PS256"}), &good_claims(&issuer), &rsa).unwrap();
    let err = refused(id_token::verify(&kid_less, &two_rsa, &expected(&issuer)));
    assert_eq!(err.check, Check::Key);
    assert!(err.reason.contains("2 keys"), "{err}");
}

#[tokio::test]
async fn a_missing_jwks_is_a_named_error() {
    let server = start(200, json!({}), json!({"keys": "none"})).await;
    let client = transport::http_client(
        &server.base,
        &TlsMaterial::default(),
        &ClientOptions::default(),
    )
    .unwrap();
    let err = id_token::fetch_jwks(&client, &format!("{}/jwks", server.base))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("is not a JWK Set"), "{err}");
    let err = id_token::fetch_jwks(&client, &format!("{}/nothing", server.base))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("answered 404"), "{err}");
}

#[tokio::test]
async fn an_oversized_token_answer_is_not_read() {
    let huge = json!({"access_token": "a".repeat(transport::BODY_CAP), "token_type": "Bearer"});
    let server = start(200, huge, json!({"keys": []})).await;
    let seed = seed(&server.base);
    let err = exchange(&seed, &request(&seed, &ps256(), &code_grant(), 7))
        .await
        .unwrap_err();
    assert_eq!(err.kind, NetworkErrorKind::BodyTooLarge);
    assert!(err.hint.contains("token"), "{}", err.hint);
}
