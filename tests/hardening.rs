//! Bad input and hostile servers, on the real binary: each case asserts the exit code and that
//! the message names the right thing (a flag, a field, a URL) with a hint. A loopback fault
//! server answers each PAR with a canned reply.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{TestEnv, stderr, stdout};

/// Answers every connection with `reply` (raw HTTP bytes) after reading the request head and
/// body; counts the requests it saw.
struct FaultServer {
    issuer: String,
    hits: Arc<AtomicUsize>,
}

impl FaultServer {
    fn start(reply: Vec<u8>) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                counter.fetch_add(1, Ordering::SeqCst);
                read_request(&mut stream);
                let _ = stream.write_all(&reply);
                let _ = stream.flush();
            }
        });
        FaultServer { issuer, hits }
    }

    fn json(status: &str, body: &str) -> FaultServer {
        FaultServer::start(
            format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
        )
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn read_request(stream: &mut std::net::TcpStream) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen);
        if let Some(head_end) = text.find("\r\n\r\n") {
            let length = text[..head_end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if seen.len() >= head_end + 4 + length {
                break;
            }
        }
    }
}

fn remote_profile(env: &TestEnv, issuer: &str) -> String {
    let text = std::fs::read_to_string(common::repo_path("profiles/local.toml"))
        .unwrap()
        .replace(
            "target = \"embedded\"",
            &format!(
                "issuer = \"{issuer}\"\npar_endpoint = \"{issuer}/par\"\nauthorization_endpoint = \"{issuer}/authorize\""
            ),
        );
    env.write("remote.toml", &text).to_str().unwrap().to_owned()
}

fn submit(env: &TestEnv, server: &FaultServer) -> std::process::Output {
    let profile = remote_profile(env, &server.issuer);
    env.run(&["submit", "--profile", &profile, "--timeout", "5"])
}

fn has_raw_control(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
}

#[test]
fn timeouts_out_of_range_are_refused_naming_the_flag() {
    let env = TestEnv::new();
    for flag in ["--timeout", "--connect-timeout"] {
        for bad in ["-1", "NaN", "inf", "1e30", "0", "soon"] {
            let out = env.run(&["submit", "--profile", "local", &format!("{flag}={bad}")]);
            assert_eq!(out.status.code(), Some(2), "{flag}={bad}: {}", stderr(&out));
            let err = stderr(&out);
            assert!(err.contains(flag), "{flag}={bad}: {err}");
            assert!(!err.contains("panicked"), "{flag}={bad}: {err}");
        }
    }
}

#[test]
fn malformed_acceptances_name_the_field_and_are_not_accepted() {
    let env = TestEnv::new();
    let cases = [
        (
            r#"{"request_uri":"urn:r:1","expires_in":1000000000000}"#,
            "expires_in",
        ),
        (r#"{"request_uri":"urn:r:1","expires_in":0}"#, "expires_in"),
        (
            r#"{"request_uri":"urn:r:1","expires_in":-60}"#,
            "expires_in",
        ),
        (
            r#"{"request_uri":"urn:r:1","expires_in":"60"}"#,
            "expires_in",
        ),
        (
            r#"{"request_uri":"urn:r:1","expires_in":60.5}"#,
            "expires_in",
        ),
        (r#"{"expires_in":60}"#, "request_uri"),
        (r#"{"request_uri":42,"expires_in":60}"#, "request_uri"),
        (r#"{"request_uri":"","expires_in":60}"#, "request_uri"),
    ];
    for (body, field) in cases {
        let server = FaultServer::json("201 Created", body);
        let out = submit(&env, &server);
        let text = format!("{}{}", stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), Some(1), "{body}: {text}");
        assert!(!text.contains("Accepted"), "{body}: {text}");
        assert!(text.contains(field), "{body} should name {field}: {text}");
    }
}

#[test]
fn escape_sequences_from_a_server_never_reach_the_terminal() {
    let env = TestEnv::new();
    let osc52 = "\\u001b]52;c;ZXZpbA==\\u0007";
    let clear = "\\u001b[2J";
    let replies = [
        FaultServer::json(
            "400 Bad Request",
            &format!(r#"{{"error":"invalid_request{clear}","error_description":"bad {osc52} {clear}"}}"#),
        ),
        FaultServer::json(
            "201 Created",
            &format!(r#"{{"request_uri":"urn:r:{osc52}","expires_in":60}}"#),
        ),
        FaultServer::start(
            b"HTTP/1.1 500 Oops\r\ncontent-type: text/plain\r\ncontent-length: 14\r\nconnection: close\r\n\r\nbad \x1b[2J\x1b]0;x\x07"
                .to_vec(),
        ),
    ];
    for server in &replies {
        let out = submit(&env, server);
        for text in [stdout(&out), stderr(&out)] {
            assert!(
                !has_raw_control(&text),
                "raw control characters in: {text:?}"
            );
        }
        assert!(
            stdout(&out).contains("\\u{1b}"),
            "the escape is shown, not dropped: {}",
            stdout(&out)
        );
    }
}

#[test]
fn redirects_are_not_followed_on_the_par_post() {
    let env = TestEnv::new();
    let elsewhere = FaultServer::json("201 Created", r#"{"request_uri":"urn:x","expires_in":60}"#);
    let redirecting = FaultServer::start(
        format!(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: {}/par\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            elsewhere.issuer
        )
        .into_bytes(),
    );
    let out = submit(&env, &redirecting);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_eq!(
        elsewhere.hits(),
        0,
        "the signed JWTs went to the redirect target"
    );
    assert!(text.contains("307"), "{text}");
    assert!(text.contains(&elsewhere.issuer), "where it pointed: {text}");
}

#[test]
fn credentials_in_an_endpoint_url_are_never_printed() {
    let env = TestEnv::new();
    let server = FaultServer::json("201 Created", r#"{"request_uri":"urn:x","expires_in":60}"#);
    let with_secret = server.issuer.replace("http://", "http://alice:s3cr3t-pw@");
    let profile = remote_profile(&env, &with_secret);
    for extra in [&[][..], &["--json"][..]] {
        let mut args = vec!["submit", "--profile", &profile];
        args.extend_from_slice(extra);
        let out = env.run(&args);
        let text = format!("{}{}", stdout(&out), stderr(&out));
        assert!(!text.contains("s3cr3t-pw"), "{text}");
        assert!(text.contains("127.0.0.1"), "the URL is still shown: {text}");
    }
}

#[test]
fn broken_answers_are_network_errors_with_a_hint() {
    let env = TestEnv::new();
    let replies: [&[u8]; 3] = [
        b"HTTP/1.1 2x0 What\r\n\r\n",
        b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 500\r\nconnection: close\r\n\r\n{\"request_uri\":",
        b"NOT HTTP AT ALL\r\n\r\n",
    ];
    for reply in replies {
        let server = FaultServer::start(reply.to_vec());
        let out = submit(&env, &server);
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(3),
            "{reply:?}: {err}{}",
            stdout(&out)
        );
        let hint = err
            .lines()
            .find_map(|l| l.trim().strip_prefix("hint:"))
            .unwrap_or("");
        assert!(!hint.trim().is_empty(), "{reply:?}: no hint in {err}");
    }
}

#[test]
fn a_closed_or_full_stdout_is_no_panic() {
    let env = TestEnv::new();
    let mut child = env
        .std_cmd()
        .args(["build", "--profile", "local"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        !stderr(&out).contains("panicked"),
        "closed pipe: {}",
        stderr(&out)
    );
    assert_ne!(out.status.code(), Some(101));

    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = env
        .std_cmd()
        .args(["build", "--profile", "local"])
        .stdout(full)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("standard output"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn an_endpoint_that_is_not_http_is_a_profile_error() {
    let env = TestEnv::new();
    let profile = remote_profile(&env, "ftp://127.0.0.1:21");
    let out = env.run(&["submit", "--profile", &profile]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("par_endpoint") || err.contains("issuer"),
        "{err}"
    );
    assert!(err.contains("https"), "says what to use: {err}");
}

#[test]
fn a_tls_key_that_is_not_the_certificates_is_a_profile_error() {
    let env = TestEnv::new();
    let certified = rcgen::KeyPair::generate().unwrap();
    let other = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(Vec::<String>::new())
        .unwrap()
        .self_signed(&certified)
        .unwrap();
    env.write("client.crt", &cert.pem());
    env.write("other.key", &other.serialize_pem());
    let server = FaultServer::json("201 Created", r#"{"request_uri":"urn:x","expires_in":60}"#);
    let profile = remote_profile(&env, &server.issuer);
    let text = std::fs::read_to_string(&profile).unwrap();
    std::fs::write(
        &profile,
        format!("{text}\n[tls]\ncert = \"client.crt\"\nkey = \"other.key\"\n"),
    )
    .unwrap();
    let out = env.run(&["submit", "--profile", &profile]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}{}", stdout(&out));
    assert!(err.contains("tls.key"), "{err}");
    assert!(
        err.contains("does not belong to the client certificate"),
        "{err}"
    );
    assert_eq!(server.hits(), 0, "nothing is sent with a broken identity");
}
