//! `submit` and `local-as` on the real binary, and the embedded server's rules through the
//! core API: replayed jti, one-time request_uri, 200 vs 201.

mod common;
#[path = "sandbox_flow/support.rs"]
mod support;

use common::{SandboxProcess, TestEnv, stderr, stdout};
use consent_explorer::core::consent::PackSet;
use consent_explorer::core::jws;
use consent_explorer::core::keys::SigningKey;
use consent_explorer::core::profile::{self};
use consent_explorer::core::request;
use consent_explorer::core::request::{Endpoints, Overrides};
use consent_explorer::core::sandbox::{Config, Sandbox, TrustedClient};
use consent_explorer::core::tls::TlsMaterial;
use consent_explorer::core::transport::{self, ClientOptions, Outcome};
use jsonwebtoken::Algorithm;
use serde_json::Value;

#[test]
fn submit_local_is_accepted_by_the_embedded_server() {
    let env = TestEnv::new();
    let out = env.run(&["submit", "--profile", "local", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["status"], 201);
    let request_uri = doc["request_uri"].as_str().unwrap();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    assert_eq!(doc["expires_in"], 90);
    let expires_at: jiff::Timestamp = doc["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(expires_at > jiff::Timestamp::now());
    assert!(uuid::Uuid::parse_str(doc["interaction_id"].as_str().unwrap()).is_ok());
    let authorize = doc["authorize_url"].as_str().unwrap();
    assert!(authorize.contains("/authorize?client_id=consent-explorer-demo&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A"), "{authorize}");
    assert_eq!(doc["body"]["request_uri"], request_uri);

    let human = env.run(&["submit", "--profile", "local-uae"]);
    assert_eq!(human.status.code(), Some(0), "{}", stdout(&human));
    let text = stdout(&human);
    for part in [
        "Response: 201",
        "request_uri   urn:ietf:params:oauth:request_uri:",
        "authorize     http://127.0.0.1:",
        "x-fapi-interaction-id:",
    ] {
        assert!(text.contains(part), "{part:?} not in {text}");
    }
}

#[test]
fn a_refusal_exits_1_with_the_oauth_error_explained() {
    let env = TestEnv::new();
    let out = env.run(&[
        "submit",
        "--profile",
        "local",
        "--json",
        "--expiration",
        "-1d",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["status"], 400);
    assert_eq!(doc["error"], "invalid_authorization_details");
    assert!(
        doc["error_description"]
            .as_str()
            .unwrap()
            .contains("consent.expiry-past")
    );
    assert!(
        doc["explanation"]
            .as_str()
            .unwrap()
            .contains("authorization_details")
    );
    assert!(doc["interaction_id"].is_string());

    // RS256 is outside FAPI 2.0: the request object is refused (the assertion too, but the
    // server reports client authentication first).
    let text = std::fs::read_to_string(common::repo_path("profiles/local.toml"))
        .unwrap()
        .replace("alg = \"PS256\"", "alg = \"RS256\"");
    let rs256 = env.write("rs256.toml", &text);
    let out = env.run(&["submit", "--profile", rs256.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["status"], 401, "{doc}");
    assert_eq!(doc["error"], "invalid_client");
    assert!(
        doc["error_description"]
            .as_str()
            .unwrap()
            .contains("assertion.alg"),
        "{doc}"
    );
}

fn remote_profile(env: &TestEnv, issuer: &str, extra: &str) -> String {
    let text = std::fs::read_to_string(common::repo_path("profiles/local.toml"))
        .unwrap()
        .replace("target = \"embedded\"", &format!("issuer = \"{issuer}\"\npar_endpoint = \"{issuer}/par\"\nauthorization_endpoint = \"{issuer}/authorize\"\n{extra}"));
    env.write("remote.toml", &text).to_str().unwrap().to_owned()
}

#[test]
fn network_problems_exit_3_with_what_to_check() {
    let env = TestEnv::new();
    // Nothing listens on a port we just freed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let profile = remote_profile(&env, &format!("http://127.0.0.1:{port}"), "");
    let out = env.run(&["submit", "--profile", &profile, "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["kind"], "connection_refused");
    let human = env.run(&["submit", "--profile", &profile]);
    assert!(
        stderr(&human).contains("nothing listens there"),
        "{}",
        stderr(&human)
    );

    // A server that accepts and never answers: a timeout, exit 3.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_issuer = format!("http://{}", silent.local_addr().unwrap());
    std::thread::spawn(move || {
        if let Ok((stream, _)) = silent.accept() {
            std::thread::sleep(std::time::Duration::from_secs(3));
            drop(stream);
        }
    });
    let profile = remote_profile(&env, &silent_issuer, "");
    let out = env.run(&[
        "submit",
        "--profile",
        &profile,
        "--json",
        "--timeout",
        "0.5",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["kind"], "timeout");

    let plain = remote_profile(&env, "http://as.example", "");
    let out = env.run(&["submit", "--profile", &plain, "--json"]);
    assert_eq!(out.status.code(), Some(3));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["kind"], "plain_http");
}

/// Starts `local-as` (the sandbox's old name) and returns it with its issuer.
fn local_as(env: &TestEnv, args: &[&str]) -> (SandboxProcess, String) {
    start_sandbox(env, "local-as", args)
}

fn start_sandbox(env: &TestEnv, command: &str, args: &[&str]) -> (SandboxProcess, String) {
    let server = env.start_sandbox(command, args);
    let issuer = server.issuer.clone();
    (server, issuer)
}

#[test]
fn local_as_in_the_foreground_serves_par_discovery_and_a_one_time_authorize() {
    let env = TestEnv::new();
    let (_server, issuer) = local_as(&env, &["--port", "0", "--par-status", "200"]);
    assert!(issuer.starts_with("http://127.0.0.1:"), "{issuer}");
    let profile = remote_profile(&env, &issuer, "");
    let out = env.run(&["submit", "--profile", &profile, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["status"], 200);
    assert!(doc["notes"].to_string().contains("RFC 9126 says 201"));

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let http = reqwest::Client::new();
        let discovery: Value = http
            .get(format!("{issuer}/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(discovery["issuer"], issuer.as_str());
        assert_eq!(
            discovery["pushed_authorization_request_endpoint"],
            format!("{issuer}/par")
        );
        assert_eq!(
            discovery["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        let authorize = doc["authorize_url"].as_str().unwrap();
        let first = http.get(authorize).send().await.unwrap();
        assert_eq!(first.status(), 200);
        assert!(first.text().await.unwrap().contains("read_balances"));
        let again = http.get(authorize).send().await.unwrap();
        assert_eq!(again.status(), 400);
        let body: Value = again.json().await.unwrap();
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains("already used")
        );
    });

    // Discovery fills in a missing par_endpoint.
    let text = std::fs::read_to_string(common::repo_path("profiles/local.toml"))
        .unwrap()
        .replace("target = \"embedded\"", &format!("issuer = \"{issuer}\""));
    let no_par = env.write("no-par.toml", &text);
    let out = env.run(&["submit", "--profile", no_par.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn sandbox_is_the_command_and_advertises_the_whole_flow() {
    let env = TestEnv::new();
    let (_server, issuer) = start_sandbox(&env, "sandbox", &["--port", "0"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let discovery: Value = runtime.block_on(async {
        reqwest::get(format!("{issuer}/.well-known/openid-configuration"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(
        discovery["pushed_authorization_request_endpoint"],
        format!("{issuer}/par")
    );
    assert_eq!(discovery["token_endpoint"], format!("{issuer}/token"));
    assert_eq!(discovery["userinfo_endpoint"], format!("{issuer}/userinfo"));
    assert_eq!(
        discovery["grant_types_supported"],
        serde_json::json!(["authorization_code", "refresh_token", "client_credentials"])
    );
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        serde_json::json!(["PS256"])
    );
    assert_eq!(
        discovery["authorization_response_iss_parameter_supported"],
        true
    );
    let profile = remote_profile(&env, &issuer, "");
    let out = env.run(&["submit", "--profile", &profile, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

/// The `sandbox` command completes the loop for a script: `submit`, the authorize URL with
/// `auto=approve`, the callback, the token exchange, the ID token checked against /jwks.
#[test]
fn the_sandbox_command_completes_the_loop_headless() {
    let env = TestEnv::new();
    let (trusted, local) = env.trusted_local();
    let key_path = env.path("client.pem");
    let (_server, issuer) = start_sandbox(
        &env,
        "sandbox",
        &["--port", "0", "--trust", trusted.to_str().unwrap()],
    );
    env.write(
        "trusted.toml",
        &local.replace("target = \"embedded\"", &format!("issuer = \"{issuer}\"")),
    );
    let submitted = env.json(&["submit", "--profile", trusted.to_str().unwrap(), "--json"]);
    let authorize_url = submitted["authorize_url"].as_str().unwrap().to_owned();
    let verifier = submitted["code_verifier"].as_str().unwrap().to_owned();

    let pem = std::fs::read(&key_path).unwrap();
    let key = SigningKey::from_material(&pem, Algorithm::PS256, None).unwrap();
    let client = support::Client::new(&issuer, key, support::local_seed());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let approved = client
            .http
            .get(format!("{authorize_url}&auto=approve"))
            .send()
            .await
            .unwrap();
        let back = support::callback(approved);
        assert!(
            back.as_str().starts_with("http://127.0.0.1:8080/callback?"),
            "{back}"
        );
        assert_eq!(
            support::param(&back, "iss").as_deref(),
            Some(issuer.as_str())
        );
        assert!(support::param(&back, "state").is_some_and(|s| s.len() >= 16));
        let code = support::param(&back, "code").unwrap();
        let (status, tokens) = client
            .token(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "http://127.0.0.1:8080/callback"),
                ("code_verifier", &verifier),
            ])
            .await;
        assert_eq!(status, 200, "{tokens}");
        let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_value(client.jwks().await).unwrap();
        let id_token = jws::decode(tokens["id_token"].as_str().unwrap()).unwrap();
        let jwk = jwks.find(id_token.kid().unwrap()).unwrap();
        assert_eq!(id_token.verify(jwk), Ok(true));
        assert_eq!(id_token.claims["iss"], issuer.as_str());
        assert_eq!(id_token.claims["aud"], "consent-explorer-demo");
    });
}

fn seed() -> consent_explorer::core::request::ParSeed {
    profile::builtin("local")
        .unwrap()
        .seed(&PackSet::builtin(), &Overrides::default(), "http://unused")
        .unwrap()
}

#[tokio::test]
async fn the_embedded_server_refuses_replays_and_untrusted_keys() {
    let key = SigningKey::generate(Algorithm::PS256).unwrap().0;
    let mut seed = seed();
    let client = TrustedClient::of(&seed, &key);
    let server = Sandbox::start(Config::new(client, PackSet::builtin()), 0)
        .await
        .unwrap();
    seed.endpoints = Endpoints::embedded(server.issuer());
    let par_url = format!("{}/par", server.issuer());
    let http = transport::http_client(&par_url, &TlsMaterial::default(), &ClientOptions::default())
        .unwrap();

    let ticket = request::build(&seed, &key, jiff::Timestamp::now(), &mut rand::rng()).unwrap();
    let first = transport::send(&http, &par_url, &ticket).await.unwrap();
    assert_eq!(first.status, 201);
    assert_eq!(
        first.echoed_interaction_id.as_deref(),
        Some(ticket.interaction_id.as_str())
    );
    let replay = transport::send(&http, &par_url, &ticket).await.unwrap();
    assert_eq!(replay.status, 401);
    let Outcome::Refused {
        error,
        error_description,
        ..
    } = &replay.outcome
    else {
        panic!("{replay:?}")
    };
    assert_eq!(error, "invalid_client");
    assert!(
        error_description
            .as_deref()
            .unwrap()
            .contains("already used")
    );

    let stranger = SigningKey::generate(Algorithm::PS256).unwrap().0;
    let ticket =
        request::build(&seed, &stranger, jiff::Timestamp::now(), &mut rand::rng()).unwrap();
    let refused = transport::send(&http, &par_url, &ticket).await.unwrap();
    assert_eq!(refused.status, 401);
    let Outcome::Refused { error, .. } = &refused.outcome else {
        panic!()
    };
    assert_eq!(error, "invalid_client");

    // An unregistered redirect_uri is refused once the client is authenticated.
    seed.redirect_uri = "https://elsewhere.example/cb".into();
    let ticket = request::build(&seed, &key, jiff::Timestamp::now(), &mut rand::rng()).unwrap();
    let refused = transport::send(&http, &par_url, &ticket).await.unwrap();
    assert_eq!(refused.status, 400);
    assert!(
        refused.body.pretty().contains("not registered"),
        "{}",
        refused.body.pretty()
    );
}

/// The embedded sandbox stops with `submit`, so no pending flow (verifier, nonce) is left on
/// disk for a code that can never come; `state` is still reported.
#[test]
fn submit_to_the_embedded_sandbox_keeps_no_pending_flow() {
    let env = TestEnv::new();
    let out = env.run(&["submit", "--profile", "local", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["state"].is_string(), "{doc}");
    let flows = env.data.path().join("flows");
    let kept = std::fs::read_dir(&flows).map_or(0, |d| d.count());
    assert_eq!(kept, 0, "pending flows in {flows:?}");
}
