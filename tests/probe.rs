//! `probe` end to end: against the sandbox in the foreground (answering 200 as the MY and UAE
//! deployments do), and against a tiny loopback server that answers by script: the control
//! refused, a 429, a 5xx, everything accepted (--strict); and no --yes without a terminal.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{TestEnv, stderr, stdout};
use serde_json::Value;

fn remote_profile(env: &TestEnv, issuer: &str) -> String {
    let text = std::fs::read_to_string(common::repo_path("profiles/local.toml"))
        .unwrap()
        .replace(
            "target = \"embedded\"",
            &format!("issuer = \"{issuer}\"\npar_endpoint = \"{issuer}/par\"\nauthorization_endpoint = \"{issuer}/authorize\"\ntoken_endpoint = \"{issuer}/token\""),
        );
    env.write("remote.toml", &text).to_str().unwrap().to_owned()
}

const ACCEPTED: (u16, &str) = (
    201,
    r#"{"request_uri":"urn:ietf:params:oauth:request_uri:probe","expires_in":60}"#,
);
const REFUSED: (u16, &str) = (
    400,
    r#"{"error":"invalid_request_object","error_description":"no"}"#,
);

/// A loopback server answering the n-th request with `script[n]` (the last entry once the
/// script runs out), counting what it receives. Each answer closes its connection.
struct FaultServer {
    issuer: String,
    received: Arc<AtomicUsize>,
}

fn fault_server(script: Vec<(u16, &'static str)>) -> FaultServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let received = Arc::new(AtomicUsize::new(0));
    let counter = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let (status, text) = script[n.min(script.len() - 1)];
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    FaultServer { issuer, received }
}

fn probe(env: &TestEnv, profile: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["probe", "--profile", profile, "--delay", "0"];
    args.extend_from_slice(extra);
    env.cmd().args(&args).output().unwrap()
}

#[test]
fn without_yes_and_without_a_terminal_nothing_is_sent() {
    let env = TestEnv::new();
    let server = fault_server(vec![ACCEPTED]);
    let profile = remote_profile(&env, &server.issuer);
    let out = probe(&env, &profile, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    // The target and the count are shown before anything else.
    assert!(err.contains(&format!("to {}/par", server.issuer)), "{err}");
    assert!(err.contains("at most 43 requests"), "{err}");
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(server.received.load(Ordering::SeqCst), 0);
}

#[test]
fn a_refused_control_stops_the_run_after_one_request() {
    let env = TestEnv::new();
    let server = fault_server(vec![REFUSED]);
    let profile = remote_profile(&env, &server.issuer);
    let out = probe(&env, &profile, &["--yes", "--json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the profile itself is not accepted"),
        "{}",
        stderr(&out)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["stopped"]["reason"], "control_refused");
    assert_eq!(doc["rows"].as_array().unwrap().len(), 1);
    assert_eq!(server.received.load(Ordering::SeqCst), 1);
}

#[test]
fn a_429_or_a_5xx_stops_the_run_at_once_with_exit_3() {
    for (status, reason) in [(429, "rate_limited"), (503, "server_error")] {
        let env = TestEnv::new();
        let server = fault_server(vec![ACCEPTED, REFUSED, (status, "{}"), ACCEPTED]);
        let profile = remote_profile(&env, &server.issuer);
        let out = probe(&env, &profile, &["--yes", "--json"]);
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["summary"]["stopped"]["reason"], reason, "{doc}");
        let rows = doc["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[2]["verdict"], "error");
        assert_eq!(rows[2]["got"]["status"], status);
        // Nothing after the stop: the closing control is not sent either.
        assert_eq!(server.received.load(Ordering::SeqCst), 3);
        assert_eq!(doc["summary"]["requests_sent"], 3);
    }
}

#[test]
fn a_server_that_accepts_everything_is_lenient_and_strict_makes_that_exit_1() {
    let env = TestEnv::new();
    let server = fault_server(vec![ACCEPTED]);
    let profile = remote_profile(&env, &server.issuer);
    let only = "request.alg-none,request.aud-array,consent.permissions-empty";
    let report = env.path("report.md");
    let out = probe(
        &env,
        &profile,
        &[
            "--yes",
            "--only",
            only,
            "--report",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("request.alg-none"), "{text}");
    assert!(text.contains("x-fapi-interaction-id"), "{text}");
    assert!(
        text.contains("2 lenient, 3 allowed; 5 requests sent"),
        "{text}"
    );
    let markdown = std::fs::read_to_string(&report).unwrap();
    assert!(markdown.contains("| `request.alg-none` |"), "{markdown}");
    assert!(markdown.contains("**lenient**"), "{markdown}");

    let out = probe(&env, &profile, &["--yes", "--only", only, "--strict"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(server.received.load(Ordering::SeqCst), 10);

    let out = probe(&env, &profile, &["--yes", "--only", "request.nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("request.alg-none"),
        "{}",
        stderr(&out)
    );
    assert_eq!(server.received.load(Ordering::SeqCst), 10);
}

#[test]
fn against_the_sandbox_answering_200_the_control_still_counts_as_accepted() {
    let env = TestEnv::new();
    let sandbox = env.start_sandbox("sandbox", &["--port", "0", "--par-status", "200"]);
    let profile = remote_profile(&env, &sandbox.issuer);
    let out = probe(&env, &profile, &["--yes", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows[0]["id"], "control.first");
    assert_eq!(rows[0]["got"]["status"], 200);
    assert_eq!(rows[0]["verdict"], "allowed");
    for row in rows {
        let verdict = row["verdict"].as_str().unwrap();
        assert!(
            verdict == "enforced" || verdict == "allowed",
            "{}: {verdict} {}",
            row["id"],
            row["got"]
        );
        // The JSON shape the issue gives.
        for key in ["id", "changes", "expected", "got", "verdict"] {
            assert!(row.get(key).is_some(), "{key}");
        }
        for key in ["outcome", "error", "reference"] {
            assert!(row["expected"].get(key).is_some(), "{key}");
        }
        for key in ["status", "error", "error_description", "interaction_id"] {
            assert!(row["got"].get(key).is_some(), "{key}");
        }
    }
    assert_eq!(doc["summary"]["lenient"], 0);
    assert_eq!(doc["summary"]["largest_skew_tolerated"], 10);
    assert!(doc["summary"].get("stopped").is_none());
    // Progress with each interaction id went to stderr, so stdout stays one JSON document.
    assert_eq!(
        stderr(&out).matches("x-fapi-interaction-id").count(),
        rows.len()
    );
}

#[test]
fn a_network_error_stops_the_run_with_exit_3() {
    let env = TestEnv::new();
    // Nothing listens on a port just freed.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let profile = remote_profile(&env, &format!("http://127.0.0.1:{port}"));
    let out = probe(&env, &profile, &["--yes", "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["stopped"]["reason"], "network", "{doc}");
    assert_eq!(doc["rows"][0]["verdict"], "error");
    assert_eq!(doc["summary"]["requests_sent"], 1);
}
