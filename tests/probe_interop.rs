//! `probe` against panva's oidc-provider (tests/interop): its strict FAPI 2.0 configuration and
//! its defaults (`server.mjs --defaults`).

mod common;
#[path = "common/oidc_provider.rs"]
mod oidc_provider;

use common::{TestEnv, stderr};
use serde_json::Value;

/// A profile for the oidc-provider at `server`, signing with a key made by keygen, whose
/// public JWK Set the server trusts.
fn probe_json(defaults: bool) -> Value {
    let env = TestEnv::new();
    let key = env.keygen("PS256", "client.pem");
    let out = env.run(&["jwks", "--key", key.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut jwks: Value = serde_json::from_slice(&out.stdout).unwrap();
    if defaults {
        // A JWK that names its alg (PS256) may only verify that alg (RFC 7517 4.4), and
        // oidc-provider holds to it: RS256 with the same key is then refused whatever the
        // configuration. Many registered JWK Sets carry no alg; without it the defaults show
        // what the server itself lets through.
        jwks["keys"][0].as_object_mut().unwrap().remove("alg");
    }
    let jwks = env.write("jwks.json", &jwks.to_string());
    let extra: &[&str] = if defaults { &["--defaults"] } else { &[] };
    let server = oidc_provider::start(&jwks, extra);
    let e = &server.endpoints;
    let text = std::fs::read_to_string(common::repo_path("profiles/local.toml"))
        .unwrap()
        .replace(
            "target = \"embedded\"",
            &format!(
                "issuer = \"{}\"\npar_endpoint = \"{}\"\nauthorization_endpoint = \"{}\"\ntoken_endpoint = \"{}\"",
                e.issuer,
                e.par.as_deref().unwrap(),
                e.authorization.as_deref().unwrap(),
                e.token.as_deref().unwrap()
            ),
        )
        .replace("key = \"demo\"", &format!("key = \"{}\"", key.display()));
    let profile = env.write("oidc.toml", &text);
    let out = env.run(&[
        "probe",
        "--profile",
        profile.to_str().unwrap(),
        "--yes",
        "--json",
        "--delay",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn table(doc: &Value) -> Vec<(String, String, String)> {
    doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_owned(),
                r["verdict"].as_str().unwrap().to_owned(),
                r["got"]["error"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// oidc-provider's strict FAPI 2.0 configuration, as a real run answered. Every row is what
/// the spec says except these, each explained:
/// - `request.response-type`: refused with `unsupported_response_type`, the code RFC 6749
///   4.1.2.1 names for it; our rulebook (and the sandbox) say `invalid_request`. Either is
///   a refusal; the row shows the server's code.
/// - `consent.extra-key`: refused, stricter than the Malaysia pack, which leaves consent keys
///   open; tests/interop/server.mjs validates the MY consent with a closed key list.
/// - `authorize.request-uri-reused`: the second use is answered with a fresh interaction (303
///   to /interaction/...): oidc-provider consumes a pushed request only when the
///   authorization ends, which RFC 9126 4 allows (a reload MAY be accepted).
/// - the skew search stops at 10 s: oidc-provider's clockTolerance is 15 s, so 30 s is refused.
const STRICT: &[(&str, &str, &str)] = &[
    ("control.first", "allowed", ""),
    ("request.alg-none", "enforced", "invalid_request_object"),
    ("request.alg-hs256", "enforced", "invalid_request_object"),
    ("request.alg-rs256", "enforced", "invalid_request_object"),
    ("request.aud-wrong", "enforced", "invalid_request_object"),
    (
        "request.aud-par-endpoint",
        "enforced",
        "invalid_request_object",
    ),
    (
        "request.aud-trailing-slash",
        "enforced",
        "invalid_request_object",
    ),
    ("request.aud-array", "allowed", ""),
    ("request.exp-missing", "enforced", "invalid_request_object"),
    ("request.nbf-missing", "enforced", "invalid_request_object"),
    (
        "request.lifetime-over-60m",
        "enforced",
        "invalid_request_object",
    ),
    ("request.expired", "enforced", "invalid_request_object"),
    ("request.nbf-future", "enforced", "invalid_request_object"),
    (
        "request.iss-not-client",
        "enforced",
        "invalid_request_object",
    ),
    (
        "request.client-id-mismatch",
        "enforced",
        "invalid_request_object",
    ),
    ("request.pkce-missing", "enforced", "invalid_request"),
    ("request.pkce-plain", "enforced", "invalid_request"),
    ("request.pkce-short", "enforced", "invalid_request"),
    (
        "request.redirect-uri-unregistered",
        "enforced",
        "invalid_request",
    ),
    (
        "request.response-type",
        "enforced, other code",
        "unsupported_response_type",
    ),
    (
        "request.claims-without-openid",
        "enforced",
        "invalid_request",
    ),
    (
        "rar.type-unknown",
        "enforced",
        "invalid_authorization_details",
    ),
    (
        "consent.permissions-empty",
        "enforced",
        "invalid_authorization_details",
    ),
    (
        "consent.permission-unknown",
        "enforced",
        "invalid_authorization_details",
    ),
    (
        "consent.expiry-past",
        "enforced",
        "invalid_authorization_details",
    ),
    (
        "consent.type-wrong",
        "enforced",
        "invalid_authorization_details",
    ),
    (
        "consent.extra-key",
        "stricter",
        "invalid_authorization_details",
    ),
    ("assertion.aud-token-endpoint", "enforced", "invalid_client"),
    ("assertion.aud-par-endpoint", "enforced", "invalid_client"),
    ("assertion.aud-array", "enforced", "invalid_client"),
    ("assertion.expired", "enforced", "invalid_client"),
    ("assertion.iss-not-sub", "enforced", "invalid_client"),
    ("assertion.jti-replayed", "enforced", "invalid_client"),
    ("key.unregistered", "enforced", "invalid_client"),
    ("header.no-interaction-id", "allowed", ""),
    ("authorize.request-uri-reused", "allowed", ""),
    ("skew.5", "allowed", ""),
    ("skew.10", "allowed", ""),
    ("skew.30", "enforced", "invalid_request_object"),
    ("skew.60", "enforced", "invalid_request_object"),
    ("skew.120", "enforced", "invalid_request_object"),
    ("control.last", "allowed", ""),
];

/// With `--defaults` (no FAPI profile, PKCE left to oidc-provider, every algorithm it knows,
/// unsigned request objects allowed) these rows turn lenient; the rest stay as in STRICT.
/// alg none and HS256 are still refused: oidc-provider does not take `none` for a pushed
/// request, and the HMAC secret (our key's thumbprint) is no client_secret it knows.
const LENIENT_BY_DEFAULT: &[&str] = &[
    "request.alg-rs256",
    "request.exp-missing",
    "request.nbf-missing",
    "request.lifetime-over-60m",
    "request.pkce-missing",
    "assertion.aud-token-endpoint",
    "assertion.aud-par-endpoint",
    "assertion.aud-array",
];

fn assert_table(doc: &Value, expected: &[(String, String, String)]) {
    let got = table(doc);
    for (want, row) in expected.iter().zip(&got) {
        assert_eq!(row, want, "{doc}");
    }
    assert_eq!(got.len(), expected.len());
    assert_eq!(doc["summary"]["largest_skew_tolerated"], 10);
    assert!(
        doc["summary"].get("stopped").is_none(),
        "{}",
        doc["summary"]
    );
}

fn owned(rows: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    rows.iter()
        .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
        .collect()
}

#[test]
fn strict_fapi_configuration_gives_the_expected_verdict_for_every_case() {
    let doc = probe_json(false);
    assert_table(&doc, &owned(STRICT));
    assert_eq!(doc["summary"]["lenient"], 0);
}

#[test]
fn defaults_configuration_shows_lenient_rows() {
    let doc = probe_json(true);
    let expected: Vec<(String, String, String)> = owned(STRICT)
        .into_iter()
        .map(|(id, verdict, error)| {
            if LENIENT_BY_DEFAULT.contains(&id.as_str()) {
                (id, "lenient".to_owned(), String::new())
            } else {
                (id, verdict, error)
            }
        })
        .collect();
    assert_table(&doc, &expected);
    assert_eq!(doc["summary"]["lenient"], LENIENT_BY_DEFAULT.len());
}
