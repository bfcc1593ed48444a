//! The ozone-mya-sandbox profile reproduces the Ozone portal sample's structure: the same keys,
//! the same nesting, the same order (tests/fixtures/ozone-mya-par-sample.txt, as published).

mod common;

use std::collections::BTreeSet;

use serde_json::Value;

/// The JSON blocks of the sample, in order: JAR header, JAR body, assertion header and body,
/// response.
fn sample_blocks() -> Vec<Value> {
    let text =
        std::fs::read_to_string(common::repo_path("tests/fixtures/ozone-mya-par-sample.txt"))
            .unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line == "{" {
            current = Some(String::new());
        }
        if let Some(block) = current.as_mut() {
            block.push_str(line);
            block.push('\n');
            if line == "}" {
                blocks.push(serde_json::from_str(block).unwrap());
                current = None;
            }
        }
    }
    blocks
}

/// Every path of keys in a JSON value; array elements share the path `[]`.
fn key_tree(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let path = format!("{prefix}/{k}");
                out.insert(path.clone());
                key_tree(v, &path, out);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|v| key_tree(v, &format!("{prefix}[]"), out)),
        _ => {}
    }
}

fn tree(value: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    key_tree(value, "", &mut out);
    out
}

/// `build --json` of the ozone-mya-sandbox profile with a fresh key, and the key's path.
fn ozone_build(env: &common::TestEnv) -> (std::path::PathBuf, Value) {
    let key = env.keygen("PS256", "portal.pem");
    let ours = env.json(&[
        "build",
        "--profile",
        "ozone-mya-sandbox",
        "--key",
        key.to_str().unwrap(),
        "--json",
    ]);
    (key, ours)
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn ozone_profile_reproduces_the_portal_sample() {
    let blocks = sample_blocks();
    assert_eq!(blocks.len(), 5, "the sample has five JSON blocks");
    let (jar_header, jar, pk_header, pk) = (&blocks[0], &blocks[1], &blocks[2], &blocks[3]);

    let env = common::TestEnv::new();
    let (_, ours) = ozone_build(&env);

    assert_eq!(tree(&ours["request_header"]), tree(jar_header));
    assert_eq!(tree(&ours["assertion_header"]), tree(pk_header));
    assert_eq!(tree(&ours["request_claims"]), tree(jar));
    assert_eq!(tree(&ours["assertion_claims"]), tree(pk));
    // Same order of claims, and of the consent's keys.
    assert_eq!(keys(&ours["request_claims"]), keys(jar));
    assert_eq!(keys(&ours["assertion_claims"]), keys(pk));
    let consent = |v: &Value| v["authorization_details"][0]["consent"].clone();
    assert_eq!(keys(&consent(&ours["request_claims"])), keys(&consent(jar)));

    // Same values where the profile keeps the sample's.
    let claims = &ours["request_claims"];
    for claim in [
        "aud",
        "iss",
        "client_id",
        "redirect_uri",
        "response_type",
        "code_challenge_method",
        "max_age",
        "claims",
    ] {
        assert_eq!(claims[claim], jar[claim], "{claim}");
    }
    let (c, s) = (consent(claims), consent(jar));
    for field in [
        "dc_id",
        "dp_id",
        "consent_type",
        "consent_purpose",
        "permissions",
    ] {
        assert_eq!(c[field], s[field], "{field}");
    }
    assert_eq!(
        claims["authorization_details"][0]["type"],
        jar["authorization_details"][0]["type"]
    );
    for claim in ["aud", "iss", "sub"] {
        assert_eq!(
            ours["assertion_claims"][claim], pk[claim],
            "assertion {claim}"
        );
    }
    assert_eq!(ours["form"]["client_id"], jar["client_id"]);

    // The two deliberate differences, each commented in the profile.
    assert_eq!(jar["scope"], "accounts profile");
    assert_eq!(claims["scope"], "openid accounts profile");
    assert_ne!(c["expiration_datetime"], s["expiration_datetime"]);
    // The sample's times are fractional; ours are whole seconds.
    assert!(jar["exp"].is_f64() && claims["exp"].is_i64());
}

#[test]
fn the_sample_itself_is_flagged_by_lint() {
    // The sample's JAR claims, re-signed with our key, linted against the Ozone profile:
    // claims without openid (error) and fractional times (warning) must be reported.
    let env = common::TestEnv::new();
    let (key, ours) = ozone_build(&env);
    let jar = &sample_blocks()[1];
    let header = ours["request_header"].to_string();
    let b64 = |s: &str| base64_url(s.as_bytes());
    let unsigned = format!("{}.{}.AAAA", b64(&header), b64(&jar.to_string()));
    let out = env
        .cmd()
        .args([
            "lint",
            "--json",
            "--request",
            "-",
            "--profile",
            "ozone-mya-sandbox",
            "--key",
            key.to_str().unwrap(),
        ])
        .write_stdin(unsigned)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let ids: Vec<String> = serde_json::from_slice::<Vec<Value>>(&out.stdout)
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}:{}",
                f["severity"].as_str().unwrap(),
                f["id"].as_str().unwrap()
            )
        })
        .collect();
    for expected in [
        "error:request.claims-without-openid",
        "info:request.nonce-without-openid",
        "info:request.max-age-without-openid",
        "warning:jwt.fractional-time",
        "error:request.expired",
        "error:request.signature",
    ] {
        assert!(
            ids.contains(&expected.to_owned()),
            "{expected} not in {ids:?}"
        );
    }
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn compare_sample_lists_the_known_differences_and_nothing_else() {
    let env = common::TestEnv::new();
    let key = env.keygen("PS256", "portal.pem");
    let out = env
        .cmd()
        .args([
            "build",
            "--profile",
            "ozone-mya-sandbox",
            "--key",
            key.to_str().unwrap(),
            "--compare-sample",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["unexplained"], 0);
    let keys = report["keys"].as_array().unwrap();
    let with = |verdict: &str| -> BTreeSet<String> {
        keys.iter()
            .filter(|k| k["verdict"] == verdict)
            .map(|k| {
                format!(
                    "{} {} {}",
                    k["jwt"].as_str().unwrap(),
                    k["part"].as_str().unwrap(),
                    k["path"].as_str().unwrap()
                )
            })
            .collect()
    };
    let expected: BTreeSet<String> = [
        "request header kid",
        "request claims exp",
        "request claims nbf",
        "request claims scope",
        "request claims authorization_details[0].consent.expiration_datetime",
        "assertion header kid",
        "assertion claims exp",
        "assertion claims iat",
    ]
    .map(String::from)
    .into();
    assert_eq!(with("differs"), expected);
    assert!(with("only_ours").is_empty() && with("only_sample").is_empty());
    let fresh: BTreeSet<String> = [
        "request claims nonce",
        "request claims state",
        "request claims code_challenge",
        "assertion claims jti",
    ]
    .map(String::from)
    .into();
    assert_eq!(with("fresh"), fresh);
    let reason = |path: &str| {
        keys.iter()
            .find(|k| k["jwt"] == "request" && k["path"] == path)
            .and_then(|k| k["reason"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(reason("scope").contains("openid"), "{}", reason("scope"));
    assert!(reason("exp").contains("whole seconds"), "{}", reason("exp"));
    assert!(with("same").contains("request claims authorization_details[0].consent.permissions"));

    // Text: the same verdict, for a person; a pack without a sample is a clear error.
    let text = env.run(&[
        "build",
        "--profile",
        "ozone-mya-sandbox",
        "--key",
        key.to_str().unwrap(),
        "--compare-sample",
    ]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        text.contains("Every difference has a known reason."),
        "{text}"
    );
    let uae = env.run(&["build", "--profile", "local-uae", "--compare-sample"]);
    assert_eq!(uae.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&uae.stderr).contains("no portal sample ships for consent type")
    );
}
