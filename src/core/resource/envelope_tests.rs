use jsonwebtoken::Algorithm;
use serde_json::json;

use super::*;
use crate::core::keys::SigningKey;

struct Fixture {
    server: SigningKey,
    set: JwkSet,
    client: EncryptionKey,
    scheme: ResponseScheme,
    now: Timestamp,
}

fn fixture() -> Fixture {
    let server = SigningKey::generate(Algorithm::PS256).unwrap().0;
    let set = server.public_jwks();
    let scheme = crate::core::consent::PackSet::builtin()
        .find("my-account-access")
        .unwrap()
        .resource
        .clone()
        .unwrap()
        .response;
    Fixture {
        server,
        set,
        client: EncryptionKey::generate().unwrap().0,
        scheme,
        now: "2026-01-30T10:00:00Z".parse().unwrap(),
    }
}

fn claims(now: Timestamp) -> Value {
    json!({"iss": "c-1", "aud": ["Paynet OFP", "DP"], "exp": now.as_second() + 300})
}

#[test]
fn every_layer_is_opened_and_verified() {
    let f = fixture();
    let payload = json!({"data": {"account_id": "a1"}});
    let body = seal(
        &payload,
        &claims(f.now),
        &f.server,
        f.client.public_jwk(),
        Some("JWT"),
    )
    .unwrap();
    let keys = Keys {
        envelope: Some(&f.set),
        envelope_missing: "",
        decryption: Some(&f.client),
    };
    let opened = open(&body, &f.scheme, &keys, f.now);
    assert!(
        opened.envelope.as_ref().unwrap().verdict.is_verified(),
        "{opened:?}"
    );
    assert!(opened.jwe.as_ref().unwrap().verdict.is_verified());
    assert_eq!(opened.jwe.as_ref().unwrap().header["cty"], "JWT");
    assert_eq!(opened.payload, Some(payload));
    assert_eq!(opened.failure(), None);
}

#[test]
fn a_wrong_signer_or_key_is_a_failure_and_a_missing_key_is_said() {
    let f = fixture();
    let payload = json!({"data": 1});
    let impostor = SigningKey::generate(Algorithm::PS256).unwrap().0;
    // Signed by another key under the expected kid.
    let forged = {
        let body = seal(
            &payload,
            &claims(f.now),
            &impostor,
            f.client.public_jwk(),
            None,
        )
        .unwrap();
        let mut parts: Vec<String> = body.split('.').map(str::to_owned).collect();
        let header = json!({"alg": "PS256", "kid": f.server.kid(), "typ": "JWT"});
        parts[0] = crate::core::keys::b64url(header.to_string().as_bytes());
        let input = format!("{}.{}", parts[0], parts[1]);
        parts[2] = crate::core::keys::b64url(&impostor.sign(input.as_bytes()).unwrap());
        parts.join(".")
    };
    let keys = Keys {
        envelope: Some(&f.set),
        envelope_missing: "",
        decryption: Some(&f.client),
    };
    let opened = open(&forged, &f.scheme, &keys, f.now);
    let (layer, why) = opened.failure().unwrap();
    assert_eq!(layer, "envelope");
    assert!(why.contains("does not verify"), "{why}");
    assert!(
        opened.jwe.is_none(),
        "nothing under a failed envelope is opened"
    );

    let other_client = EncryptionKey::generate().unwrap().0;
    let body = seal(
        &payload,
        &claims(f.now),
        &f.server,
        other_client.public_jwk(),
        None,
    )
    .unwrap();
    let opened = open(&body, &f.scheme, &keys, f.now);
    assert_eq!(opened.failure().unwrap().0, "JWE");
    assert!(opened.failure().unwrap().1.contains("another key"));

    let no_keys = Keys {
        envelope: None,
        envelope_missing: "no key configured: set resource.jwks_uri",
        decryption: Some(&f.client),
    };
    let body = seal(
        &payload,
        &claims(f.now),
        &f.server,
        f.client.public_jwk(),
        None,
    )
    .unwrap();
    let opened = open(&body, &f.scheme, &no_keys, f.now);
    assert_eq!(
        opened.envelope.unwrap().verdict,
        Verdict::NotVerified("no key configured: set resource.jwks_uri".into())
    );
    assert_eq!(opened.payload, Some(payload));
}

#[test]
fn a_signed_jwt_inside_becomes_the_payload_and_plain_json_passes_through() {
    let f = fixture();
    let inner = jws::sign(
        &json!({"alg": "PS256", "kid": f.server.kid()}),
        &json!({"data": {"x": 1}}),
        &f.server,
    )
    .unwrap();
    let data = super::super::jwe::encrypt(
        inner.as_bytes(),
        f.client.public_jwk(),
        &json!({"cty": "JWT"}),
    )
    .unwrap();
    let mut c = claims(f.now);
    c["data"] = data.into();
    let body = jws::sign(
        &json!({"alg": "PS256", "kid": f.server.kid()}),
        &c,
        &f.server,
    )
    .unwrap();
    let keys = Keys {
        envelope: Some(&f.set),
        envelope_missing: "",
        decryption: Some(&f.client),
    };
    let opened = open(&body, &f.scheme, &keys, f.now);
    assert!(opened.inner.unwrap().verdict.is_verified());
    assert_eq!(opened.payload, Some(json!({"data": {"x": 1}})));

    let plain = open("{\"Data\": []}", &ResponseScheme::default(), &keys, f.now);
    assert_eq!(plain.payload, Some(json!({"Data": []})));
    assert!(plain.envelope.is_none());
}
