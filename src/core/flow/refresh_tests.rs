//! A refreshed ID token's nonce (OpenID Connect Core 12.2): it may be left out, and when it is
//! there it must be the first authentication's.

use jiff::Timestamp;
use jsonwebtoken::jwk::JwkSet;
use serde_json::{Value, json};

use super::id_token::{self, Check, Expected, ID_TOKEN_SKEW_SECS};
use crate::core::jws;
use crate::core::keys::{SigningKey, alg_name};

const ISSUER: &str = "https://as.example";
const CLIENT: &str = "client-1";
const NONCE: &str = "n-first-authentication";

fn now() -> Timestamp {
    "2026-01-30T10:00:00Z".parse().unwrap()
}

fn signed(key: &SigningKey, nonce: Option<&str>) -> String {
    let mut claims = json!({
        "iss": ISSUER, "aud": CLIENT, "sub": "user-1",
        "exp": now().as_second() + 300, "iat": now().as_second(),
    });
    if let Some(nonce) = nonce {
        claims["nonce"] = Value::from(nonce);
    }
    let header = json!({"alg": alg_name(key.alg()), "kid": key.kid()});
    jws::sign(&header, &claims, key).unwrap()
}

fn expected() -> Expected<'static> {
    Expected {
        issuer: ISSUER,
        client_id: CLIENT,
        nonce: NONCE,
        now: now(),
        skew_secs: ID_TOKEN_SKEW_SECS,
    }
}

#[test]
fn a_refreshed_id_token_may_leave_nonce_out_but_not_change_it() {
    let key = SigningKey::generate(jsonwebtoken::Algorithm::ES256)
        .unwrap()
        .0;
    let jwks = JwkSet {
        keys: vec![key.public_jwk()],
    };
    let without = signed(&key, None);
    assert!(id_token::verify_refreshed(&without, &jwks, &expected()).is_ok());
    // The first ID token of a flow must carry the request's nonce.
    let err = id_token::verify(&without, &jwks, &expected()).unwrap_err();
    assert_eq!(err.check, Check::Nonce);

    assert!(id_token::verify_refreshed(&signed(&key, Some(NONCE)), &jwks, &expected()).is_ok());
    let err =
        id_token::verify_refreshed(&signed(&key, Some("other")), &jwks, &expected()).unwrap_err();
    assert_eq!(err.check, Check::Nonce);
}
