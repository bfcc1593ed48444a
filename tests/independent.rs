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

/// Our DPoP proofs (each FAPI alg; with and without nonce and access token) checked by PyJWT
/// (tests/independent/dpop.py): signature with the header's jwk, typ, htm, htu without query,
/// iat, jti, nonce, ath, and the RFC 7638 thumbprint computed there.
#[test]
fn pyjwt_checks_our_dpop_proofs_claims_ath_and_thumbprint() {
    use consent_explorer::core::dpop::{DpopKey, ProofFor};
    use jsonwebtoken::Algorithm;
    let now = jiff::Timestamp::now();
    let mut cases = String::new();
    for alg in [Algorithm::ES256, Algorithm::PS256, Algorithm::EdDSA] {
        let key = DpopKey::generate(alg).unwrap().0;
        let targets = [
            ("POST", "https://as.example/par", None, None),
            (
                "POST",
                "https://as.example:8443/token?x=1#f",
                Some("server-nonce-1"),
                None,
            ),
            (
                "GET",
                "https://rs.example/accounts?page=2",
                None,
                Some("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            ),
        ];
        for (method, url, nonce, access_token) in targets {
            let target = ProofFor {
                method,
                url,
                nonce,
                access_token,
            };
            let proof = key.proof(&target, now, &mut rand::rng()).unwrap();
            let mut case = serde_json::json!({
                "proof": proof.compact, "method": method, "url": url,
                "jkt": key.thumbprint(), "now": now.as_second(),
            });
            if let Some(nonce) = nonce {
                case["nonce"] = nonce.into();
            }
            if let Some(token) = access_token {
                case["access_token"] = token.into();
            }
            cases.push_str(&format!("{case}\n"));
        }
    }
    cases.push_str(&resource_proofs(now));
    let mut child = std::process::Command::new(common::python())
        .arg(common::repo_path("tests/independent/dpop.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 is needed (tests/run makes .venv with tests/requirements.txt)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(cases.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "PyJWT refused a DPoP proof\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("128 passed, 0 failed") || stdout.contains(" passed, 0 failed"),
        "{stdout}"
    );
}

/// The proofs a resource call sends (`Session::with_proofs`, as `call` uses it) for a GET with
/// a query: the first try, refused 401 `use_dpop_nonce`, and the retry with the resource
/// server's nonce; both carry the token's ath. As dpop.py cases.
fn resource_proofs(now: jiff::Timestamp) -> String {
    use consent_explorer::core::dpop::DpopKey;
    use consent_explorer::core::keys::SigningKey;
    use consent_explorer::core::resource::Answer;
    use consent_explorer::core::session::Session;
    use jsonwebtoken::Algorithm;
    let key = DpopKey::generate(Algorithm::ES256).unwrap().0;
    let jkt = key.thumbprint().to_owned();
    let client_key = SigningKey::generate(Algorithm::PS256).unwrap().0;
    let session = Session::builtin_with_key("local", client_key)
        .unwrap()
        .with_dpop(key);
    let url = "https://rs.example/v1/accounts/a1/transactions?page_size=2";
    let token = "at-0123456789-resource-token";
    let sent = std::sync::Mutex::new(Vec::new());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (_, trail) = runtime
        .block_on(session.with_proofs("GET", url, Some(token), |proof| {
            let mut sent = sent.lock().unwrap();
            sent.push(proof);
            let challenge = sent.len() == 1;
            let headers = if challenge {
                vec![
                    (
                        "www-authenticate".to_owned(),
                        "DPoP error=\"use_dpop_nonce\"".to_owned(),
                    ),
                    ("dpop-nonce".to_owned(), "rs-nonce-1".to_owned()),
                ]
            } else {
                Vec::new()
            };
            std::future::ready(Ok(Answer {
                status: if challenge { 401 } else { 200 },
                headers,
                body: String::new(),
                elapsed: std::time::Duration::ZERO,
            }))
        }))
        .unwrap();
    assert!(trail.nonce_retry.is_some(), "the challenge was answered");
    let sent = sent.into_inner().unwrap();
    assert_eq!(sent.len(), 2);
    sent.iter()
        .zip([None, Some("rs-nonce-1")])
        .map(|(proof, nonce)| {
            let mut case = serde_json::json!({
                "proof": proof, "method": "GET", "url": url, "jkt": jkt,
                "now": jiff::Timestamp::now().as_second().max(now.as_second()),
                "access_token": token,
            });
            if let Some(nonce) = nonce {
                case["nonce"] = nonce.into();
            }
            format!("{case}\n")
        })
        .collect()
}
