//! Both JWTs verified through code we did not write: PyJWT on `cryptography`, and the UAE
//! consent validated by Python `jsonschema` (tests/independent/verify.py).

mod common;

/// The issuer build addresses for an embedded profile when no server is bound (README, the
/// `target` row): written here, not asked of the tool, so the verifier does not check the
/// tool against itself.
const EMBEDDED_ISSUER: &str = "http://127.0.0.1:9126";

#[test]
fn pyjwt_verifies_both_jwts_and_jsonschema_accepts_the_uae_consent() {
    let env = common::TestEnv::new();
    let out = std::process::Command::new(common::python())
        .arg(common::repo_path("tests/independent/verify.py"))
        .arg(env!("CARGO_BIN_EXE_consent-explorer"))
        .arg(env.work.path())
        .arg(EMBEDDED_ISSUER)
        .env("CONSENT_EXPLORER_CONFIG_DIR", env.config.path())
        .env("CONSENT_EXPLORER_DATA_DIR", env.data.path())
        .output()
        .expect("python3 is needed (tests/run makes .venv with tests/requirements.txt)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "independent verification failed (install: pip install -r tests/requirements.txt)\n{stdout}\n{stderr}"
    );
    let passed: usize = stdout
        .lines()
        .find_map(|l| l.strip_suffix(" passed, 0 failed")?.parse().ok())
        .unwrap_or(0);
    assert!(passed >= 250, "too few independent checks ran: {stdout}");
}

#[path = "sandbox_flow/support.rs"]
mod sandbox_support;

/// The sandbox's ID token, verified by PyJWT with the key its discovery's jwks_uri serves
/// (tests/independent/id_token.py), while the sandbox keeps serving.
#[tokio::test]
async fn pyjwt_verifies_the_sandboxs_id_token_with_the_keys_at_its_jwks() {
    let sandbox = sandbox_support::Loop::start().await;
    let client = &sandbox.client;
    let (pushed, tokens) = client.tokens().await;
    let args = [
        client.issuer.clone(),
        client.seed.client_id.clone(),
        pushed.nonce().to_owned(),
        tokens["id_token"].as_str().unwrap().to_owned(),
    ];
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(common::python())
            .arg(common::repo_path("tests/independent/id_token.py"))
            .args(args)
            .output()
            .expect("python3 is needed (tests/run makes .venv with tests/requirements.txt)")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "PyJWT refused the sandbox's ID token\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("13 passed, 0 failed"), "{stdout}");
}
