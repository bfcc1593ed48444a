//! DPoP at the resource server, by the real binary: `flow --profile local-dpop` binds the
//! tokens to the profile's generated key, then `call balances` sends the token as
//! `Authorization: DPoP` with a proof carrying `ath`, and says so in its notes (text and
//! --json); the consent endpoints likewise.

mod common;

use common::{TestEnv, stderr, stdout};
use serde_json::Value;

fn run_json(env: &TestEnv, args: &[&str]) -> Value {
    let out = env.run(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}\n{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}\n{}", stdout(&out)))
}

#[test]
fn flow_with_local_dpop_then_call_balances_sends_a_dpop_bound_token() {
    let env = TestEnv::new();
    let flow = run_json(&env, &["flow", "--profile", "local-dpop", "--json"]);
    assert_eq!(flow["token_type"], "DPoP", "{flow}");

    let doc = run_json(
        &env,
        &["call", "--profile", "local-dpop", "balances", "--json"],
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
    );
    assert_eq!(consent["status"], 200, "{consent}");
}
