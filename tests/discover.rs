//! `discover` on the real binary: against the embedded sandbox (`--profile local`), against
//! oidc-provider (tests/interop), and against a loopback server serving crafted documents.

mod common;
#[path = "common/oidc_provider.rs"]
mod oidc_provider;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;

use common::{TestEnv, stderr, stdout};
use serde_json::{Value, json};

/// Serves one answer, made from the server's own base URL, to every request.
struct DocServer {
    issuer: String,
}

impl DocServer {
    fn start(status: &str, content_type: &str, body: impl FnOnce(&str) -> String) -> DocServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let body = body(&issuer);
        let reply = format!(
            "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                read_head(&mut stream);
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        DocServer { issuer }
    }

    fn json(doc: impl FnOnce(&str) -> Value) -> DocServer {
        DocServer::start("200 OK", "application/json", |issuer| {
            doc(issuer).to_string()
        })
    }
}

fn read_head(stream: &mut std::net::TcpStream) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
    while let Ok(n) = stream.read(&mut buf) {
        seen.extend_from_slice(&buf[..n]);
        if n == 0 || seen.windows(4).any(|w| w == b"\r\n\r\n") {
            return;
        }
    }
}

/// What the `local` profile expects of a server, as a strict one would state it.
fn agreeing(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "pushed_authorization_request_endpoint": format!("{issuer}/par"),
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "request_object_signing_alg_values_supported": ["PS256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["PS256"],
        "authorization_details_types_supported": ["urn:openfinance-ml:account-access-consent:v1.2"],
        "scopes_supported": ["openid", "accounts", "profile"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
    })
}

/// The `local` profile, pointed at a remote issuer (endpoints from discovery).
fn remote_profile(env: &TestEnv, issuer: &str) -> PathBuf {
    let text = std::fs::read_to_string(common::repo_path("profiles/local.toml"))
        .unwrap()
        .replace("target = \"embedded\"", &format!("issuer = \"{issuer}\""));
    env.write("remote.toml", &text)
}

/// Exit code and the `--json` report of `discover --profile` against a crafted document.
fn discover_with(env: &TestEnv, doc: impl FnOnce(&str) -> Value) -> (Option<i32>, Value) {
    let server = DocServer::json(doc);
    run_json(
        env,
        &[
            "--profile",
            remote_profile(env, &server.issuer).to_str().unwrap(),
        ],
    )
}

fn run_json(env: &TestEnv, args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["discover", "--json"];
    all.extend_from_slice(args);
    let out = env.run(&all);
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("not JSON: {}{}", stdout(&out), stderr(&out)));
    (out.status.code(), report)
}

fn ids(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pair(id: &str, severity: &str) -> Vec<(String, String)> {
    vec![(id.to_owned(), severity.to_owned())]
}

#[test]
fn the_embedded_sandbox_agrees_with_the_local_profile() {
    let env = TestEnv::new();
    let (code, report) = run_json(&env, &["--profile", "local"]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["findings"], json!([]));
    assert_eq!(report["profile"], "local");
    assert_eq!(report["require_pushed_authorization_requests"], true);
    assert_eq!(
        report["authorization_response_iss_parameter_supported"],
        true
    );
    let issuer = report["issuer"].as_str().unwrap();
    assert!(issuer.starts_with("http://127.0.0.1:"), "{issuer}");
    assert_eq!(
        report["discovery_url"],
        format!("{issuer}/.well-known/openid-configuration")
    );

    let out = env.run(&["discover", "--profile", "local-uae"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for part in [
        "── Pushed authorization requests",
        "  required          yes",
        "  consent types     urn:openfinance-ml:account-access-consent:v1.2, urn:openfinanceuae:account-access-consent:v2.1",
        "  PKCE methods      S256",
        "Findings, profile local-uae against the server: 0 errors, 0 warnings, 0 info",
    ] {
        assert!(text.contains(part), "{part:?} not in {text}");
    }
}

#[test]
fn crafted_documents_give_their_findings_and_exit_codes() {
    let env = TestEnv::new();
    let (code, report) = discover_with(&env, agreeing);
    assert_eq!((code, ids(&report)), (Some(0), vec![]), "{report}");

    let (code, report) = discover_with(&env, |issuer| {
        let mut doc = agreeing(issuer);
        doc["issuer"] = json!("https://evil.example");
        doc
    });
    assert_eq!(code, Some(1));
    assert_eq!(ids(&report), pair("discovery.issuer-mismatch", "error"));
    assert!(
        report["findings"][0]["reference"]
            .as_str()
            .unwrap()
            .contains("RFC 8414 3.3")
    );

    let (code, report) = discover_with(&env, |issuer| {
        let mut doc = agreeing(issuer);
        doc["request_object_signing_alg_values_supported"] = json!(["ES256", "EdDSA"]);
        doc
    });
    assert_eq!(code, Some(1));
    assert_eq!(
        ids(&report),
        pair("discovery.request-alg-unsupported", "error")
    );
    let message = report["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("PS256") && message.contains("[ES256, EdDSA]"),
        "{message}"
    );

    let (code, report) = discover_with(&env, |issuer| {
        let mut doc = agreeing(issuer);
        doc["authorization_details_types_supported"] = json!(["urn:other:consent"]);
        doc
    });
    assert_eq!(code, Some(1));
    assert_eq!(
        ids(&report),
        pair("discovery.consent-type-unlisted", "error")
    );

    // Warnings only: exit 0. (The profile names no endpoints, so none can differ.)
    let (code, report) = discover_with(&env, |issuer| {
        let mut doc = agreeing(issuer);
        doc["scopes_supported"] = json!(["openid", "accounts"]);
        doc["authorization_response_iss_parameter_supported"] = json!(false);
        doc
    });
    assert_eq!(code, Some(0), "{report}");
    let mut found = ids(&report);
    found.sort();
    assert_eq!(
        found,
        [
            ("discovery.iss-parameter-unsupported", "warning"),
            ("discovery.scope-unlisted", "warning"),
        ]
        .map(|(i, s)| (i.to_owned(), s.to_owned()))
    );
}

#[test]
fn no_document_is_a_finding_and_a_dead_server_a_network_error() {
    let env = TestEnv::new();
    for server in [
        DocServer::start("404 Not Found", "text/html", |_| "<h1>nope</h1>".into()),
        DocServer::start("200 OK", "text/html", |_| "<html>log in</html>".into()),
        DocServer::start("302 Found", "text/html", |_| String::new()),
    ] {
        let (code, report) = run_json(&env, &[&server.issuer]);
        assert_eq!(code, Some(1), "{report}");
        assert_eq!(ids(&report), pair("discovery.no-document", "error"));
        assert_eq!(report["profile"], Value::Null);
        assert!(report.get("issuer").is_none(), "{report}");
    }

    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let (code, report) = run_json(&env, &[&dead]);
    assert_eq!(code, Some(3));
    assert_eq!(report["kind"], "connection_refused");

    let out = env.run(&["discover", "not a url"]);
    assert_eq!(out.status.code(), Some(2));
    let out = env.run(&["discover", "http://as.example"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("plain http"), "{}", stderr(&out));
}

#[test]
fn the_human_text_groups_the_fields_and_shows_server_strings_without_obeying_them() {
    let env = TestEnv::new();
    let server = DocServer::json(|issuer| {
        let mut doc = agreeing(issuer);
        doc["scopes_supported"] = json!(["openid", "accounts", "profile", "\u{1b}]0;pwned\u{7}"]);
        doc["mtls_endpoint_aliases"] = json!({
            "pushed_authorization_request_endpoint": "https://mtls.as.example/par",
            "token_endpoint": "https://mtls.as.example/token",
        });
        doc
    });
    let out = env.run(&["discover", &server.issuer]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains("\\u{1b}]0;pwned"), "{text}");
    for part in [
        format!("  issuer            {}", server.issuer),
        "  mTLS PAR          https://mtls.as.example/par".into(),
        "  mTLS token        https://mtls.as.example/token".into(),
        "  cert-bound        (not stated)".into(),
        "Findings, the server (give --profile P to check a profile against it): 0 errors".into(),
    ] {
        assert!(text.contains(&part), "{part:?} not in {text}");
    }
}

// ---- oidc-provider ---------------------------------------------------------------------------

#[test]
fn oidc_provider_is_read_and_checked_against_a_profile() {
    let env = TestEnv::new();
    let jwks = env.json(&["jwks", "--profile", "local"]);
    let jwks_path = env.write("jwks.json", &jwks.to_string());
    let oidc = oidc_provider::start(&jwks_path, &[]);

    let (code, report) = run_json(&env, &[&oidc.endpoints.issuer]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["issuer"], oidc.endpoints.issuer.as_str());
    assert_eq!(report["require_pushed_authorization_requests"], true);
    assert_eq!(
        report["pushed_authorization_request_endpoint"],
        format!("{}/request", oidc.endpoints.issuer)
    );
    assert_eq!(
        report["authorization_response_iss_parameter_supported"],
        true
    );
    assert!(
        report["authorization_details_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("urn:openfinance-ml:account-access-consent:v1.2"))
    );

    // The local profile's own endpoint paths differ from oidc-provider's (/par vs /request).
    let text = std::fs::read_to_string(common::repo_path("profiles/local.toml"))
        .unwrap()
        .replace(
            "target = \"embedded\"",
            &format!(
                "issuer = \"{0}\"\npar_endpoint = \"{0}/par\"\nauthorization_endpoint = \"{0}/auth\"",
                oidc.endpoints.issuer
            ),
        );
    let profile = env.write("oidc.toml", &text);
    let (code, report) = run_json(&env, &["--profile", profile.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(ids(&report), pair("discovery.endpoint-differs", "warning"));
    let message = report["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("par_endpoint") && message.contains("/request"),
        "{message}"
    );
}
