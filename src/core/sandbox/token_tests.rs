//! The token endpoint on a fixed clock with a seeded rng: what it issues and every refusal.

use jsonwebtoken::Algorithm;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;
use crate::core::consent::PackSet;
use crate::core::keys::SigningKey;
use crate::core::request::CLIENT_ASSERTION_TYPE;
use crate::core::sandbox::grant::{IssuedCode, random_uuid};
use crate::core::sandbox::{Config, TrustedClient};

const NOW: i64 = 1_769_767_200;
const ISSUER: &str = "http://127.0.0.1:9126";
const CLIENT: &str = "client-1";
const REDIRECT: &str = "https://tpp.example/cb";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap()
}

struct Fixture {
    state: AppState,
    key: SigningKey,
    rng: StdRng,
}

impl Fixture {
    fn new() -> Fixture {
        let key = SigningKey::generate(Algorithm::PS256).unwrap().0;
        let client = TrustedClient {
            client_id: CLIENT.into(),
            redirect_uris: vec![REDIRECT.into()],
            key: key.facts(),
        };
        let config = Config::new(client, PackSet::builtin());
        Fixture {
            state: AppState::new(config, ISSUER.into()),
            key,
            rng: StdRng::seed_from_u64(9),
        }
    }

    /// An approved code issued at `issued_at`, as /authorize stores it.
    fn code(&self, code: &str, issued_at: i64) {
        let grant = Grant {
            client_id: CLIENT.into(),
            scope: "openid accounts".into(),
            userinfo_claims: vec!["name".into()],
            authorization_details: json!([{"type": "t", "consent_id": "c-1"}]),
            auth_time: issued_at,
        };
        let issued = IssuedCode {
            grant,
            redirect_uri: REDIRECT.into(),
            code_challenge: s256_challenge(VERIFIER),
            nonce: Some("n-0S6_WzA2Mj".into()),
            used: false,
        };
        self.state.codes.lock().unwrap().insert(
            code.into(),
            issued_at + super::super::CODE_LIFETIME,
            issued,
            issued_at,
        );
    }

    fn assertion(&mut self, now: i64, aud: &str) -> String {
        let header = json!({"alg": "PS256", "kid": self.key.kid()});
        let claims = json!({"aud": aud, "exp": now + 60, "iss": CLIENT, "sub": CLIENT,
            "jti": random_uuid(&mut self.rng), "iat": now});
        jws::sign(&header, &claims, &self.key).unwrap()
    }

    fn post_with(
        &mut self,
        assertion: &str,
        params: &[(&str, &str)],
        now: i64,
    ) -> Result<Value, Refusal> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", CLIENT)
            .append_pair("client_assertion_type", CLIENT_ASSERTION_TYPE)
            .append_pair("client_assertion", assertion)
            .extend_pairs(params)
            .finish();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        exchange(
            &self.state,
            &headers,
            body.as_bytes(),
            at(now),
            &mut self.rng,
        )
    }

    fn post(&mut self, params: &[(&str, &str)], now: i64) -> Result<Value, Refusal> {
        let assertion = self.assertion(now, ISSUER);
        self.post_with(&assertion, params, now)
    }

    fn redeem(&mut self, code: &str, now: i64) -> Result<Value, Refusal> {
        self.post(
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            now,
        )
    }
}

fn refused(result: Result<Value, Refusal>, error: OAuthError, words: &str) {
    let refusal = result.expect_err("refused");
    assert_eq!(refusal.error, error, "{}", refusal.description);
    assert!(
        refusal.description.contains(words),
        "{:?} lacks {words:?}",
        refusal.description
    );
}

#[test]
fn a_code_buys_tokens_and_an_id_token_signed_by_the_servers_own_key() {
    let mut f = Fixture::new();
    f.code("code-1", NOW);
    let answer = f.redeem("code-1", NOW + 5).unwrap();
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["expires_in"], 600);
    assert_eq!(answer["scope"], "openid accounts");
    assert_eq!(answer["authorization_details"][0]["consent_id"], "c-1");
    assert!(answer["access_token"].as_str().unwrap().len() >= 43);
    assert!(answer["refresh_token"].as_str().unwrap().len() >= 43);

    let id_token = jws::decode(answer["id_token"].as_str().unwrap()).unwrap();
    let server = f.state.server_key().unwrap();
    assert_eq!(id_token.verify(&server.public_jwk()), Ok(true));
    assert_eq!(id_token.verify(&f.key.public_jwk()), Ok(false));
    assert_eq!(id_token.alg(), Some("PS256"));
    assert_eq!(id_token.kid(), Some(server.kid()));
    assert_eq!(
        id_token.claims,
        json!({"iss": ISSUER, "sub": TEST_USER, "aud": CLIENT, "azp": CLIENT,
            "exp": NOW + 5 + 600, "iat": NOW + 5, "auth_time": NOW, "nonce": "n-0S6_WzA2Mj"})
    );
}

#[test]
fn a_code_is_single_use_and_lives_sixty_seconds() {
    let mut f = Fixture::new();
    f.code("late", NOW);
    refused(
        f.redeem("late", NOW + 61),
        OAuthError::InvalidGrant,
        "expired",
    );
    f.code("just-in-time", NOW);
    f.redeem("just-in-time", NOW + 60).unwrap();
    refused(
        f.redeem("just-in-time", NOW + 60),
        OAuthError::InvalidGrant,
        "already used",
    );
}

#[test]
fn a_code_is_bound_to_its_redirect_uri_and_pkce_verifier() {
    let mut f = Fixture::new();
    let base = [("grant_type", "authorization_code"), ("code", "c")];
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[
                ("redirect_uri", "https://other.example/cb"),
                ("code_verifier", VERIFIER),
            ],
            "not the one the code was issued for",
        ),
        (&[("code_verifier", VERIFIER)], "(missing)"),
        (
            &[
                ("redirect_uri", REDIRECT),
                (
                    "code_verifier",
                    "wrong-verifier-wrong-verifier-wrong-verifier",
                ),
            ],
            "does not match",
        ),
        (&[("redirect_uri", REDIRECT)], "code_verifier is missing"),
    ];
    for (extra, words) in cases {
        f.code("c", NOW);
        let params: Vec<(&str, &str)> = base.iter().chain(extra).copied().collect();
        refused(f.post(&params, NOW), OAuthError::InvalidGrant, words);
        // The refused attempt spent the code: the right verifier cannot follow it.
        refused(f.redeem("c", NOW), OAuthError::InvalidGrant, "already used");
    }
    refused(
        f.redeem("never-issued", NOW),
        OAuthError::InvalidGrant,
        "unknown",
    );
}

#[test]
fn the_client_is_authenticated_as_at_par() {
    let mut f = Fixture::new();
    f.code("c", NOW);
    let assertion = f.assertion(NOW, ISSUER);
    let params = [
        ("grant_type", "authorization_code"),
        ("code", "c"),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    f.post_with(&assertion, &params, NOW).unwrap();
    f.code("d", NOW);
    let replay = [
        ("grant_type", "authorization_code"),
        ("code", "d"),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    refused(
        f.post_with(&assertion, &replay, NOW),
        OAuthError::InvalidClient,
        "already used",
    );
    let token_aud = f.assertion(NOW, &format!("{ISSUER}/token"));
    let refusal = f.post_with(&token_aud, &params, NOW).unwrap_err();
    assert_eq!(refusal.error, OAuthError::InvalidClient);
    assert!(
        refusal.description.contains("the token endpoint"),
        "{}",
        refusal.description
    );
    assert_eq!(refusal.error.status(), 401);
    let stranger = SigningKey::generate(Algorithm::PS256).unwrap().0;
    let header = json!({"alg": "PS256", "kid": f.key.kid()});
    let claims = json!({"aud": ISSUER, "exp": NOW + 60, "iss": CLIENT, "sub": CLIENT, "jti": "j-x", "iat": NOW});
    let forged = jws::sign(&header, &claims, &stranger).unwrap();
    refused(
        f.post_with(&forged, &params, NOW),
        OAuthError::InvalidClient,
        "signature",
    );
}

#[test]
fn grants_other_than_code_and_refresh_are_refused() {
    let mut f = Fixture::new();
    let refusal = f.post(&[("grant_type", "password")], NOW).unwrap_err();
    assert_eq!(refusal.error, OAuthError::UnsupportedGrantType);
    assert_eq!(refusal.error.code(), "unsupported_grant_type");
    assert_eq!(refusal.error.status(), 400);
    refused(
        f.post(&[], NOW),
        OAuthError::InvalidRequest,
        "grant_type is required",
    );
}

#[test]
fn a_refresh_token_buys_a_new_access_token_and_is_not_rotated() {
    let mut f = Fixture::new();
    f.code("c", NOW);
    let first = f.redeem("c", NOW).unwrap();
    let refresh_token = first["refresh_token"].as_str().unwrap();
    let params = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    let second = f.post(&params, NOW + 700).unwrap();
    assert_ne!(second["access_token"], first["access_token"]);
    assert_eq!(second["refresh_token"], refresh_token);
    assert_eq!(
        second["authorization_details"],
        first["authorization_details"]
    );
    assert!(second.get("id_token").is_none());
    let unknown = [("grant_type", "refresh_token"), ("refresh_token", "nope")];
    refused(
        f.post(&unknown, NOW),
        OAuthError::InvalidGrant,
        "unknown or expired refresh token",
    );
}

#[test]
fn userinfo_answers_the_claims_asked_for() {
    let grant = Grant {
        client_id: CLIENT.into(),
        scope: "openid".into(),
        userinfo_claims: vec!["name".into(), "email".into(), "shoe_size".into()],
        authorization_details: Value::Null,
        auth_time: NOW,
    };
    assert_eq!(
        user_claims(&grant),
        json!({"sub": TEST_USER, "name": "Sandbox Test User", "email": "sandbox.user@example.test"})
    );
}
