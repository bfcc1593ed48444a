//! Resource calls and the consent, by the real binary: `flow` then `call` on the `local`
//! profile (its embedded sandbox keeps tokens and consents between commands), `consent show`
//! and `revoke`, the exit codes; and jwcrypto, an implementation we did not write, checking
//! the x-signature and making the envelopes `call` must open or refuse
//! (tests/independent/resource.py).

mod common;

use std::path::PathBuf;

use common::{TestEnv, stderr, stdout};
use serde_json::Value;

fn run_json(env: &TestEnv, args: &[&str], code: i32) -> Value {
    let out = env.run(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}\n{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}\n{}", stdout(&out)))
}

#[test]
fn flow_then_call_balances_and_transactions_then_revoke_on_local() {
    let env = TestEnv::new();
    let none = env.run(&["call", "--profile", "local", "balances"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(
        stderr(&none).contains("run `consent-explorer flow --profile local` first"),
        "{}",
        stderr(&none)
    );

    let flow = run_json(
        &env,
        &["flow", "--profile", "local", "--json", "--show-tokens"],
        0,
    );
    let consent_id = flow["consent_id"].as_str().unwrap().to_owned();
    let access_token = flow["access_token"]["token"].as_str().unwrap().to_owned();

    let doc = run_json(
        &env,
        &[
            "call",
            "--profile",
            "local",
            "balances",
            "sbx-acc-0002",
            "--json",
        ],
        0,
    );
    assert_eq!(doc["status"], 200);
    assert_eq!(doc["envelope"]["verified"], true, "{doc}");
    assert_eq!(doc["envelope"]["claims"]["iss"], consent_id.as_str());
    assert_eq!(doc["jwe"]["verified"], true);
    assert_eq!(doc["jwe"]["header"]["enc"], "A256GCM");
    assert_eq!(doc["payload"]["data"]["account_id"], "sbx-acc-0002");
    let claims = &doc["request"]["x-signature"]["claims"];
    assert_eq!(claims["sub"], consent_id.as_str());
    assert_eq!(claims["iss"], "demo-data-consumer");
    assert_eq!(claims["jti"], doc["interaction_id"]);
    assert_eq!(
        doc["request"]["headers"]["authorization"],
        "Bearer <redacted>"
    );
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("http://https://") && notes.contains("dc_id"),
        "{notes}"
    );
    // The same consent and account give the same balance.
    let again = run_json(
        &env,
        &[
            "call",
            "--profile",
            "local",
            "balances",
            "sbx-acc-0002",
            "--json",
        ],
        0,
    );
    assert_eq!(again["payload"], doc["payload"]);

    // An expired access token is refreshed first, by the next command's sandbox too.
    let kept = std::fs::read_dir(env.data.path().join("tokens"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut stored: Value = serde_json::from_slice(&std::fs::read(&kept).unwrap()).unwrap();
    stored["expires_at"] = "2026-01-01T00:00:00Z".into();
    std::fs::write(&kept, stored.to_string()).unwrap();
    let refreshed = run_json(
        &env,
        &["call", "--profile", "local", "balances", "--json"],
        0,
    );
    assert!(
        refreshed["notes"].to_string().contains("refreshed first"),
        "{refreshed}"
    );

    let page = run_json(
        &env,
        &[
            "call",
            "--profile",
            "local",
            "transactions",
            "sbx-acc-0001",
            "--query",
            "page_size=3",
            "--json",
        ],
        0,
    );
    assert_eq!(page["payload"]["data"].as_array().unwrap().len(), 3);
    assert_eq!(
        page["request"]["x-signature"]["claims"]["qpm"]["page_size"],
        "3"
    );

    let text = env.run(&["call", "--profile", "local", "balances"]);
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    let shown = stdout(&text);
    assert!(shown.contains("Envelope (JWS): ✓ verified"), "{shown}");
    assert!(shown.contains("JWE header: ✓ decrypted"), "{shown}");
    assert!(stderr(&text).contains("the consent's first account was used"));

    let raw = run_json(
        &env,
        &[
            "call",
            "--profile",
            "local",
            "GET",
            "/v1/accounts",
            "--json",
        ],
        0,
    );
    assert_eq!(raw["endpoint"], "accounts");
    assert_eq!(raw["payload"]["data"][0]["account_id"], "sbx-acc-0001");

    let unknown = env.run(&["call", "--profile", "local", "loans"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("accounts, balances, transactions"));

    let shown = run_json(
        &env,
        &["consent", "show", "--profile", "local", "--json"],
        0,
    );
    assert_eq!(shown["payload"]["data"]["status"], "authorized");
    let revoked = run_json(
        &env,
        &["consent", "revoke", "--profile", "local", "--json"],
        0,
    );
    assert_eq!(revoked["payload"]["data"]["status"], "revoked");
    assert_eq!(
        revoked["payload"]["data"]["status_history"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let refused = run_json(
        &env,
        &["call", "--profile", "local", "balances", "--json"],
        1,
    );
    assert_eq!(refused["status"], 403);
    assert_eq!(refused["payload"]["error"], "consent_revoked");

    // The sandbox's state between commands files tokens by hash: only the token store
    // holds the token itself.
    let state = env.data.path().join("sandbox");
    let mut files = 0;
    for entry in std::fs::read_dir(&state).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains(&access_token));
        files += 1;
    }
    assert_eq!(files, 1);
}

#[test]
fn keygen_makes_an_encryption_key_and_jwks_exports_both_uses() {
    let env = TestEnv::new();
    let ec = env.run(&["keygen", "--use", "enc", "--alg", "ES256"]);
    assert_eq!(
        ec.status.code(),
        Some(2),
        "an EC encryption key is not made silently as RSA"
    );
    assert!(
        stderr(&ec).contains("--alg ES256 does not apply with --use enc"),
        "{}",
        stderr(&ec)
    );
    let out = env.run(&[
        "keygen",
        "--use",
        "enc",
        "--out",
        env.path("enc.pem").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let jwk: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (jwk["use"].as_str(), jwk["alg"].as_str()),
        (Some("enc"), Some("RSA-OAEP-256"))
    );
    let set = run_json(&env, &["jwks", "--profile", "local"], 0);
    let uses: Vec<&str> = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["use"].as_str())
        .collect();
    assert_eq!(uses, ["sig", "enc"]);

    let profile = env.write(
        "bad-enc.toml",
        "client_id = \"c\"\nredirect_uri = \"https://c/cb\"\ntarget = \"embedded\"\n[signing]\nkey = \"demo\"\nalg = \"PS256\"\n[consent]\npack = \"my-account-access\"\ndc_id = \"d\"\n[encryption]\nkey = \"missing.pem\"\n",
    );
    let out = env.run(&["jwks", "--profile", profile.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("missing.pem") && stderr(&out).contains("encryption.key"),
        "{}",
        stderr(&out)
    );
}

/// `CONSENT_EXPLORER_PYTHON`, else the venv `tests/run` makes, else python3.
fn python() -> PathBuf {
    std::env::var_os("CONSENT_EXPLORER_PYTHON")
        .map(PathBuf::from)
        .or_else(|| Some(common::repo_path(".venv/bin/python")).filter(|p| p.exists()))
        .unwrap_or_else(|| "python3".into())
}

#[test]
fn jwcrypto_checks_the_x_signature_and_its_envelopes_are_opened_or_refused() {
    let env = TestEnv::new();
    let out = std::process::Command::new(python())
        .arg(common::repo_path("tests/independent/resource.py"))
        .arg(env!("CARGO_BIN_EXE_consent-explorer"))
        .arg(env.work.path())
        .env("CONSENT_EXPLORER_CONFIG_DIR", env.config.path())
        .env("CONSENT_EXPLORER_DATA_DIR", env.data.path())
        .output()
        .expect("python3 is needed (tests/run makes .venv with tests/requirements.txt)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "jwcrypto checks failed (install: pip install -r tests/requirements.txt)\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let passed: usize = stdout
        .lines()
        .find_map(|l| l.strip_suffix(" passed, 0 failed")?.parse().ok())
        .unwrap_or(0);
    assert!(passed >= 50, "too few checks ran: {stdout}");
}

#[test]
fn a_header_http_cannot_carry_is_refused_before_anything_is_sent() {
    let env = TestEnv::new();
    let out = env.run(&[
        "call",
        "--profile",
        "local",
        "accounts",
        "--header",
        "bad header=1",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--header: \"bad header\" is not a valid HTTP header name"),
        "{}",
        stderr(&out)
    );
}

/// DPoP at the resource server: `flow --profile local-dpop` binds the tokens to the profile's
/// generated key, then `call balances` sends the token as `Authorization: DPoP` with a proof
/// carrying `ath`, shows it decoded and says so in its notes (text and --json); the consent
/// endpoints likewise.
#[test]
fn flow_with_local_dpop_then_call_balances_sends_a_dpop_bound_token() {
    let env = TestEnv::new();
    let flow = run_json(&env, &["flow", "--profile", "local-dpop", "--json"], 0);
    assert_eq!(flow["token_type"], "DPoP", "{flow}");

    let doc = run_json(
        &env,
        &["call", "--profile", "local-dpop", "balances", "--json"],
        0,
    );
    assert_eq!(doc["status"], 200, "{doc}");
    assert_eq!(doc["envelope"]["verified"], true, "{doc}");
    assert_eq!(
        doc["request"]["headers"]["authorization"],
        "DPoP <redacted>"
    );
    let proofs = doc["request"]["dpop"]["proofs"].as_array().unwrap();
    let proof = &proofs[0];
    assert_eq!(proof["header"]["typ"], "dpop+jwt");
    assert_eq!(proof["claims"]["htm"], "GET");
    assert!(proof["claims"]["ath"].is_string(), "{proof}");
    assert!(
        !proof["claims"]["htu"].as_str().unwrap().contains('?'),
        "htu without query"
    );
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("Authorization: DPoP with a proof of key"),
        "{notes}"
    );

    let text = env.run(&["call", "--profile", "local-dpop", "balances"]);
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    assert!(
        stderr(&text).contains("note: DPoP: the access token went as Authorization: DPoP"),
        "{}",
        stderr(&text)
    );
    assert!(
        stdout(&text).contains("DPoP proof (sent)"),
        "{}",
        stdout(&text)
    );
    assert!(stdout(&text).contains("\"ath\""), "{}", stdout(&text));

    let consent = run_json(
        &env,
        &["consent", "show", "--profile", "local-dpop", "--json"],
        0,
    );
    assert_eq!(consent["status"], 200, "{consent}");
}
