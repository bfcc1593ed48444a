//! The whole flow on the real binary: `flow` against the embedded sandbox, and `submit`, the
//! authorize step, `token --callback`, `refresh` and `tokens clear` against the sandbox run in
//! the foreground (the embedded one stops with the command that started it).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Output, Stdio};

use common::{SandboxProcess, TestEnv, stderr, stdout};
use serde_json::Value;

fn run_json(env: &TestEnv, args: &[&str], code: i32) -> Value {
    let out = env.run(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}: {}{}",
        stdout(&out),
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)))
}

fn assert_tokens(doc: &Value) {
    assert_eq!(doc["status"], 200, "{doc}");
    assert_eq!(doc["token_type"], "Bearer");
    assert_eq!(doc["id_token"]["verified"], true, "{doc}");
    assert_eq!(doc["id_token"]["header"]["alg"], "PS256");
    assert_eq!(doc["id_token"]["claims"]["aud"], "consent-explorer-demo");
    assert_eq!(doc["id_token"]["claims"]["nonce"], "(hidden)");
    assert!(doc["consent_id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(doc["refresh_token_present"], true);
    assert!(doc["expires_at"].is_string());
    assert!(uuid::Uuid::parse_str(doc["interaction_id"].as_str().unwrap()).is_ok());
    let redacted = doc["access_token"]["redacted"].as_str().unwrap();
    assert!(redacted.contains('…'), "{redacted}");
    assert!(doc["access_token"].get("token").is_none(), "{doc}");
    assert!(doc.get("refresh_token").is_none(), "{doc}");
}

#[test]
fn flow_runs_headless_against_the_embedded_sandbox() {
    let env = TestEnv::new();
    let doc = run_json(&env, &["flow", "--profile", "local", "--json"], 0);
    assert_tokens(&doc);
    let accounts = &doc["authorization_details"][0]["consent"]["accounts"];
    assert!(accounts.as_array().is_some_and(|a| !a.is_empty()), "{doc}");
    assert_eq!(doc["stored"], true);

    let uae = run_json(&env, &["flow", "--profile", "local-uae", "--json"], 0);
    assert_tokens(&uae);

    let human = env.run(&["flow", "--profile", "local", "--no-store"]);
    assert_eq!(human.status.code(), Some(0), "{}", stderr(&human));
    let text = stdout(&human);
    for part in [
        "── Tokens",
        "consent       ",
        "ID token: verified",
        "Not kept",
    ] {
        assert!(text.contains(part), "{part:?} not in {text}");
    }
}

#[test]
fn no_secret_outside_the_token_store_after_a_full_run() {
    let env = TestEnv::new();
    let doc = run_json(
        &env,
        &["flow", "--profile", "local", "--json", "--show-tokens"],
        0,
    );
    let access = doc["access_token"]["token"].as_str().unwrap().to_owned();
    let refresh = doc["refresh_token"].as_str().unwrap().to_owned();
    let id_token = doc["id_token"]["token"].as_str().unwrap().to_owned();
    assert_eq!(
        doc["access_token"]["redacted"],
        format!("{}…{}", &access[..4], &access[access.len() - 4..])
    );
    let mut in_store = 0;
    for (path, text) in files(env.data.path()) {
        let in_tokens = path.parent().is_some_and(|p| p.ends_with("tokens"));
        if in_tokens {
            in_store += 1;
            assert!(text.contains(&access) && text.contains(&refresh));
            continue;
        }
        for secret in [&access, &refresh, &id_token] {
            assert!(!text.contains(secret.as_str()), "{path:?}");
        }
        // Any JWT (an assertion, a request object) would start so.
        assert!(!text.contains("eyJ"), "{path:?}");
    }
    assert_eq!(in_store, 1);
}

fn files(dir: &Path) -> Vec<(std::path::PathBuf, String)> {
    common::files(dir)
        .into_iter()
        .map(|(path, bytes)| (path, String::from_utf8_lossy(&bytes).into_owned()))
        .collect()
}

/// The sandbox in the foreground trusting `trust`, and a profile of the same client and
/// key pointing at it.
fn foreground(env: &TestEnv, trust: &str) -> (SandboxProcess, String) {
    let server = env.start_sandbox("sandbox", &["--port", "0", "--trust", trust]);
    let issuer = server.issuer.clone();
    let text = std::fs::read_to_string(env.path(trust))
        .or_else(|_| std::fs::read_to_string(common::repo_path("profiles/local.toml")))
        .unwrap()
        .replace("name = \"local\"", "name = \"remote\"")
        .replace(
            "target = \"embedded\"",
            &format!(
                "issuer = \"{issuer}\"\npar_endpoint = \"{issuer}/par\"\nauthorization_endpoint = \"{issuer}/authorize\""
            ),
        );
    let profile = env.write("remote.toml", &text);
    (server, profile.to_str().unwrap().to_owned())
}

/// GETs a loopback URL without following redirects; answers the whole response.
fn get(url: &str) -> String {
    let url = url::Url::parse(url).unwrap();
    let host = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let mut stream = TcpStream::connect(&host).unwrap();
    write!(
        stream,
        "GET {}?{} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
        url.path(),
        url.query().unwrap_or_default()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// The Location header a GET is answered with.
fn location_of(url: &str) -> String {
    let answer = get(url);
    answer
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("location"))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no Location in {answer}"))
}

/// An accepted PAR by `submit`, approved (or denied) at the sandbox's authorize endpoint:
/// the callback URL and the submit answer.
fn pushed_and_decided(env: &TestEnv, profile: &str, decision: &str) -> (String, Value) {
    let submitted = run_json(env, &["submit", "--profile", profile, "--json"], 0);
    assert!(submitted["state"].is_string(), "{submitted}");
    let authorize = submitted["authorize_url"].as_str().unwrap();
    let callback = location_of(&format!("{authorize}&auto={decision}"));
    (callback, submitted)
}

fn refusal(out: &Output, code: &str) -> Value {
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(out), stderr(out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["error"], code, "{doc}");
    assert!(doc["explanation"].as_str().is_some_and(|e| !e.is_empty()));
    doc
}

#[test]
fn submit_then_token_then_refresh_and_every_refusal() {
    let env = TestEnv::new();
    let (_server, profile) = foreground(&env, "local");
    let token = |callback: &str| {
        env.run(&[
            "token",
            "--profile",
            &profile,
            "--callback",
            callback,
            "--json",
        ])
    };

    let (callback, submitted) = pushed_and_decided(&env, &profile, "approve");
    let query: Vec<(String, String)> = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let param = |name: &str| query.iter().find(|(k, _)| k == name).unwrap().1.clone();
    assert_eq!(param("state"), submitted["state"]);
    let code = param("code");
    let verifier = submitted["code_verifier"].as_str().unwrap().to_owned();
    let out = token(&callback);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_tokens(&doc);
    // The pending flow is used once: the same callback again is unknown.
    refusal(&token(&callback), "state_unknown");
    for (_, text) in files(env.data.path()) {
        assert!(!text.contains(&code) && !text.contains(&verifier));
    }

    let refreshed = run_json(&env, &["refresh", "--profile", &profile, "--json"], 0);
    assert_eq!(refreshed["status"], 200);
    assert_eq!(refreshed["refresh_token_present"], true);
    assert_eq!(refreshed["consent_id"], doc["consent_id"]);

    let (callback, submitted) = pushed_and_decided(&env, &profile, "approve");
    let state = submitted["state"].as_str().unwrap();
    let tampered = callback.replace(state, "tampered-state");
    let doc = refusal(&token(&tampered), "state_unknown");
    assert!(
        doc["error_description"]
            .as_str()
            .unwrap()
            .contains("tampered-state")
    );
    let other_iss = url::Url::parse_with_params(
        callback.split('?').next().unwrap(),
        url::Url::parse(&callback)
            .unwrap()
            .query_pairs()
            .map(|(k, v)| match k.as_ref() {
                "iss" => (k.into_owned(), "https://evil.example".to_owned()),
                _ => (k.into_owned(), v.into_owned()),
            }),
    )
    .unwrap();
    refusal(&token(other_iss.as_str()), "iss_mismatch");

    let (denied, _) = pushed_and_decided(&env, &profile, "deny");
    let doc = refusal(&token(&denied), "access_denied");
    assert!(
        doc["explanation"].as_str().unwrap().contains("refused"),
        "{doc}"
    );

    let cleared = env.run(&["tokens", "clear", "--profile", &profile]);
    assert_eq!(cleared.status.code(), Some(0), "{}", stderr(&cleared));
    assert!(stdout(&cleared).contains("1 token file removed"));
    let again = env.run(&["refresh", "--profile", &profile, "--json"]);
    assert_eq!(again.status.code(), Some(2), "{}", stdout(&again));
    assert!(stderr(&again).contains("no refresh token is kept"));
}

#[test]
fn flow_catches_the_callback_on_a_loopback_redirect_uri() {
    let env = TestEnv::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let trust = std::fs::read_to_string(common::repo_path("profiles/local.toml"))
        .unwrap()
        .replace(
            "http://127.0.0.1:8080/callback",
            &format!("http://127.0.0.1:{port}/callback"),
        );
    env.write("trust.toml", &trust);
    let (_server, profile) = foreground(&env, "trust.toml");
    let mut child = env
        .std_cmd()
        .args(["flow", "--profile", &profile, "--json", "--no-browser"])
        .args(["--wait", "30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let authorize = loop {
        let line = lines
            .next()
            .expect("flow printed the authorize URL")
            .unwrap();
        if let Some(url) = line.strip_prefix("authorize: ") {
            break url.to_owned();
        }
    };
    let callback = location_of(&format!("{authorize}&auto=approve"));
    assert!(callback.starts_with(&format!("http://127.0.0.1:{port}/callback?")));
    // The browser's step: the redirect reaches flow's listener, which answers a page.
    let page = get(&callback);
    assert!(page.contains("you can close this window"), "{page}");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_tokens(&doc);
}

/// The foreground sandbox encrypts resource answers to the trusted profile's [encryption] key,
/// as the embedded one does: a profile pointing at it can call the resource API.
#[test]
fn a_profile_pointing_at_the_foreground_sandbox_calls_its_resource_api() {
    let env = TestEnv::new();
    let (server, profile) = foreground(&env, "local");
    let mut text = std::fs::read_to_string(&profile).unwrap();
    text.push_str(&format!("\n[resource]\nbase_url = \"{}\"\n", server.issuer));
    std::fs::write(&profile, text).unwrap();
    let (callback, _) = pushed_and_decided(&env, &profile, "approve");
    run_json(
        &env,
        &[
            "token",
            "--profile",
            &profile,
            "--callback",
            &callback,
            "--json",
        ],
        0,
    );
    let call = run_json(
        &env,
        &["call", "--profile", &profile, "accounts", "--json"],
        0,
    );
    assert_eq!(call["status"], 200, "{call}");
    assert_eq!(call["jwe"]["verified"], true, "{call}");
    assert!(
        call["payload"].is_object() || call["payload"].is_array(),
        "{call}"
    );
}

/// A redirect_uri port already taken is found before the PAR, so no accepted request is left
/// stranded without a way to catch its callback.
#[test]
fn a_busy_callback_port_stops_the_flow_before_anything_is_sent() {
    let env = TestEnv::new();
    let (_server, profile) = foreground(&env, "local");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let text = std::fs::read_to_string(&profile).unwrap().replace(
        "http://127.0.0.1:8080/callback",
        &format!("http://127.0.0.1:{port}/callback"),
    );
    std::fs::write(&profile, text).unwrap();
    let out = env.run(&["flow", "--profile", &profile, "--no-browser"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("nothing was sent"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("PAR accepted"), "{}", stderr(&out));
}

/// --show-tokens shows the refresh token in text too, not only under --json.
#[test]
fn show_tokens_in_text_shows_the_refresh_token() {
    let env = TestEnv::new();
    let out = env.run(&["flow", "--profile", "local", "--show-tokens"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.starts_with("refresh_token "))
        .unwrap_or_else(|| panic!("no refresh_token line in {text}"));
    let value = line["refresh_token ".len()..].trim();
    assert!(value.len() >= 20 && value != "present", "{line}");
    let hidden = env.run(&["refresh", "--profile", "local"]);
    assert!(
        stdout(&hidden).contains("refresh_token present"),
        "{}",
        stdout(&hidden)
    );
}

/// The foreground sandbox lists each request it answers (method, path, status, interaction
/// id), never a query or a body.
#[test]
fn the_foreground_sandbox_lists_each_request_it_answers() {
    let env = TestEnv::new();
    let mut child = env
        .std_cmd()
        .args(["sandbox", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let wait = std::time::Duration::from_secs(10);
    let issuer = loop {
        let line = lines.recv_timeout(wait).expect("the banner");
        if let Some(rest) = line.trim().strip_prefix("issuer") {
            break rest.trim().to_owned();
        }
    };
    let answer = get(&format!(
        "{issuer}/.well-known/openid-configuration?secret=abc"
    ));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let listed = loop {
        let line = lines.recv_timeout(wait).expect("a line for the request");
        if line.contains("GET /.well-known/openid-configuration") {
            break line;
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        listed.contains("GET /.well-known/openid-configuration  200"),
        "{listed}"
    );
    assert!(!listed.contains("secret"), "no query in the list: {listed}");
}
