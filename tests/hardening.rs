//! Bad input and hostile servers, on the real binary: each case asserts the exit code and that
//! the message names the right thing (a flag, a field, a URL) with a hint. A loopback fault
//! server answers each PAR with a canned reply.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{SandboxProcess, TestEnv, stderr, stdout};

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
    // An answer, a server that closes mid-answer, and nothing listening: every path shows the URL.
    let cut_short = FaultServer::start(
        b"HTTP/1.1 201 Created\r\ncontent-length: 500\r\nconnection: close\r\n\r\n{".to_vec(),
    );
    let refused = format!(
        "http://127.0.0.1:{}",
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    );
    for issuer in [&server.issuer, &cut_short.issuer, &refused] {
        // Credentials may sit in an endpoint (a gateway's basic auth), never in the issuer.
        let profile = remote_profile(&env, issuer).replace(".toml", "");
        let text = std::fs::read_to_string(format!("{profile}.toml"))
            .unwrap()
            .replace(
                &format!("par_endpoint = \"{issuer}"),
                &format!(
                    "par_endpoint = \"{}",
                    issuer.replace("http://", "http://alice:s3cr3t-pw@")
                ),
            );
        let profile = env
            .write("with-secret.toml", &text)
            .to_str()
            .unwrap()
            .to_owned();
        for command in ["submit", "build"] {
            for extra in [&[][..], &["--json"][..]] {
                let mut args = vec![command, "--profile", &profile];
                args.extend_from_slice(extra);
                let out = env.run(&args);
                let text = format!("{}{}", stdout(&out), stderr(&out));
                assert!(!text.contains("s3cr3t-pw"), "{args:?}: {text}");
                assert!(text.contains("127.0.0.1"), "the URL is still shown: {text}");
            }
        }
    }
}

#[test]
fn json_answers_stay_json_whatever_the_server_sends() {
    let env = TestEnv::new();
    let server = FaultServer::json(
        "400 Bad Request",
        r#"{"error":"invalid_request","error_description":"x\u009b31m \u007f \u202e \u200f \u001b[2J"}"#,
    );
    let profile = remote_profile(&env, &server.issuer);
    let out = env.run(&["submit", "--profile", &profile, "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!has_raw_control(&text), "{text:?}");
    assert!(
        !text.contains('\u{202e}') && !text.contains('\u{200f}'),
        "{text:?}"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(
        doc["error_description"], "x\u{9b}31m \u{7f} \u{202e} \u{200f} \u{1b}[2J",
        "the same value, escaped the JSON way"
    );
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
fn an_issuer_with_credentials_is_a_profile_error() {
    let env = TestEnv::new();
    let profile = remote_profile(&env, "https://alice:s3cr3t-pw@as.example");
    let out = env.run(&["build", "--profile", &profile]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("issuer"), "{err}");
    assert!(!err.contains("s3cr3t-pw"), "{err}");
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

// ---------------------------------------------------------------------------------------------
// The bad-input table: one row per case. Each row runs in its own folders, writes its files,
// runs the binary and checks the exit code, that every `names` entry is in the output and that a
// hint follows. In `args` and `names`, `{work}` is the row's working folder, `{data}` its data
// folder, `{issuer}` its fault server and `{authority}` that server's host:port; `@needle` stands for `p.toml:LINE`, the line of
// p.toml that holds `needle`.

/// What a row's fault server does with each connection.
#[derive(Clone)]
enum Server {
    /// Answers with these raw bytes.
    Reply(Vec<u8>),
    /// Nothing listens on the port.
    Refused,
    /// Reads the request and never answers.
    Silent,
}

struct Case {
    name: &'static str,
    /// (path under the work folder, or `data:` and a path under the data folder; contents)
    files: Vec<(String, Vec<u8>)>,
    server: Option<Server>,
    args: &'static str,
    exit: i32,
    names: &'static [&'static str],
}

fn row(
    name: &'static str,
    files: Vec<(String, Vec<u8>)>,
    args: &'static str,
    exit: i32,
    names: &'static [&'static str],
) -> Case {
    Case {
        name,
        files,
        server: None,
        args,
        exit,
        names,
    }
}

/// A row that submits the default remote profile to a fault server.
fn answer(name: &'static str, server: Server, exit: i32, names: &'static [&'static str]) -> Case {
    Case {
        name,
        files: Vec::new(),
        server: Some(server),
        args: "submit --profile remote.toml --timeout 2",
        exit,
        names,
    }
}

fn local_toml() -> String {
    std::fs::read_to_string(common::repo_path("profiles/local.toml")).unwrap()
}

/// p.toml: the local profile with each `(from, to)` replaced (each must be there).
fn profile(edits: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    let mut text = local_toml();
    for (from, to) in edits {
        assert!(text.contains(from), "local.toml has no {from:?}");
        text = text.replacen(from, to, 1);
    }
    vec![("p.toml".into(), text.into_bytes())]
}

/// p.toml signing with `key.pem` (holding `key`) under `alg`.
fn with_key(alg: &str, key: impl Into<Vec<u8>>) -> Vec<(String, Vec<u8>)> {
    let mut files = profile(&[
        ("key = \"demo\"", "key = \"key.pem\""),
        ("alg = \"PS256\"", &format!("alg = \"{alg}\"")),
    ]);
    files.push(("key.pem".into(), key.into()));
    files
}

/// p.toml as an editor set to Latin-1 saves it: an é as the single byte 0xe9.
fn latin1_profile() -> Vec<(String, Vec<u8>)> {
    let mut bytes = local_toml()
        .replacen("Embedded sandbox", "Embedded caf\u{e9}", 1)
        .into_bytes();
    let at = bytes.windows(2).position(|w| w == [0xc3, 0xa9]).unwrap();
    bytes.splice(at..at + 2, [0xe9]);
    vec![("p.toml".into(), bytes)]
}

fn json_reply(status: &str, body: &str) -> Server {
    Server::Reply(
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

fn raw_reply(bytes: &[u8]) -> Server {
    Server::Reply(bytes.to_vec())
}

/// 1024-bit RSA modulus, as a JWK (the rest need not be a real key: the size is checked first).
const RSA_1024_JWK: &str = concat!(
    r#"{"kty":"RSA","n":""#,
    "wMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA",
    "wMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMA",
    r#"","e":"AQAB","d":"AQAB","p":"AQ","q":"AQ","dp":"AQ","dq":"AQ","qi":"AQ"}"#
);
const ENCRYPTED_PEM: &str =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n";

#[rustfmt::skip]
fn profile_cases() -> Vec<Case> {
    let ec = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(Vec::<String>::new())
        .unwrap()
        .self_signed(&ec)
        .unwrap();
    let local = |edits: &[(&str, &str)]| profile(edits);
    let build = "build --profile p.toml";
    vec![
        // TOML syntax and schema
        row("unclosed string", local(&[("scope = \"openid accounts profile\"", "scope = \"openid")]), build, 2, &["@scope =", "TOML syntax"]),
        row("duplicate key", local(&[("max_age = 3600", "max_age = 3600\nmax_age = 60")]), build, 2, &["p.toml:12", "max_age", "duplicate key"]),
        row("max_age a string", local(&[("max_age = 3600", "max_age = \"x\"")]), build, 2, &["@max_age", "`max_age`", "invalid type"]),
        row("lifetime a string", local(&[("lifetime = 300", "lifetime = \"300\"")]), build, 2, &["@lifetime", "signing.lifetime", "invalid type"]),
        row("typ a number", local(&[("lifetime = 300", "lifetime = 300\ntyp = 5")]), build, 2, &["@typ = 5", "signing.typ"]),
        row("claims a string", local(&[("claims = [\"name\", \"email\", \"email_verified\", \"id_type\", \"hashed_id_number\"]", "claims = \"name\"")]), build, 2, &["@claims", "userinfo.claims"]),
        row("target unknown", local(&[("target = \"embedded\"", "target = \"cloud\"")]), build, 2, &["@target", "`target`", "cloud", "remote"]),
        row("unknown top-level key", local(&[("max_age = 3600", "max_age = 3600\nfoo = 1")]), build, 2, &["@foo", "`foo`", "unknown field"]),
        row("unknown signing key", local(&[("lifetime = 300", "lifetime = 300\nkye = 1")]), build, 2, &["@kye", "signing.kye"]),
        row("unknown userinfo key", local(&[("claims = [", "claim = [")]), build, 2, &["@claim =", "userinfo.claim"]),
        row("unknown consent field", local(&[("purpose = \"pfm\"", "purpose = \"pfm\"\nnosuch = 1")]), build, 2, &["@nosuch", "consent.nosuch", "dp_id"]),
        row("missing client_id", local(&[("client_id = \"consent-explorer-demo\"\n", "")]), build, 2, &["p.toml:1", "`client_id`", "missing field"]),
        row("missing redirect_uri", local(&[("redirect_uri = \"http://127.0.0.1:8080/callback\"\n", "")]), build, 2, &["p.toml:1", "`redirect_uri`"]),
        row("missing pack", local(&[("pack = \"my-account-access\"\n", "")]), build, 2, &["@[consent]", "`consent`", "my-account-access"]),
        row("pack a number", local(&[("pack = \"my-account-access\"", "pack = 3")]), build, 2, &["@pack", "consent.pack", "must be a string"]),
        row("unknown pack", local(&[("pack = \"my-account-access\"", "pack = \"nope\"")]), build, 2, &["@pack", "consent.pack", "nope"]),
        row("permission unknown", local(&[("\"read_balances\"", "\"read_everything\"")]), build, 2, &["@permissions", "consent.permissions", "read_everything"]),
        row("permissions a string", local(&[("permissions = [\"read_accounts\", \"read_balances\", \"read_transactions\"]", "permissions = \"read_accounts\"")]), build, 2, &["@permissions", "consent.permissions", "a list"]),
        row("purpose unknown", local(&[("purpose = \"pfm\"", "purpose = \"xyz\"")]), build, 2, &["@purpose", "consent.purpose", "xyz"]),
        row("not UTF-8", latin1_profile(), build, 2, &["@Embedded caf", "not UTF-8", "0xe9", "save the file as UTF-8"]),
        row("empty file", vec![("p.toml".into(), Vec::new())], build, 2, &["p.toml", "`client_id`"]),
        // ranges and dates
        row("lifetime too long", local(&[("lifetime = 300", "lifetime = 99999")]), build, 2, &["@lifetime", "signing.lifetime", "out of range"]),
        row("clock_skew too large", local(&[("lifetime = 300", "lifetime = 300\nclock_skew = 9999")]), build, 2, &["@clock_skew", "signing.clock_skew"]),
        row("max_age negative", local(&[("max_age = 3600", "max_age = -1")]), build, 2, &["@max_age", "`max_age`", "negative"]),
        row("expiration +999999y", local(&[("\"+30d\"", "\"+999999y\"")]), build, 2, &["@expiration", "consent.expiration", "out of range"]),
        row("expiration +10000y", local(&[("\"+30d\"", "\"+10000y\"")]), build, 2, &["@expiration", "consent.expiration", "out of range"]),
        row("expiration -100y", local(&[("\"+30d\"", "\"-100y\"")]), build, 2, &["@expiration", "consent.expiration", "out of range"]),
        row("expiration month 13", local(&[("\"+30d\"", "\"2026-13-40T00:00:00Z\"")]), build, 2, &["@expiration", "consent.expiration", "out of range"]),
        row("expiration before 1970", local(&[("\"+30d\"", "\"1960-01-01T00:00:00Z\"")]), build, 2, &["@expiration", "consent.expiration", "out of range", "1970"]),
        row("expiration after 9999", local(&[("\"+30d\"", "\"9999-12-31T23:59:59Z\"")]), build, 2, &["@expiration", "consent.expiration", "out of range"]),
        row("expiration not a date", local(&[("\"+30d\"", "\"next week\"")]), build, 2, &["@expiration", "consent.expiration", "RFC 3339"]),
        // URLs
        row("issuer not a URL", local(&[("target = \"embedded\"", "issuer = \"not a url\"")]), build, 2, &["@issuer =", "`issuer`", "not a URL"]),
        row("issuer missing", local(&[("target = \"embedded\"", "target = \"remote\"")]), build, 2, &["`issuer`", "missing"]),
        row("par_endpoint ftp", local(&[("target = \"embedded\"", "issuer = \"https://as.example\"\npar_endpoint = \"ftp://as.example/par\"")]), build, 2, &["@par_endpoint", "`par_endpoint`", "ftp:"]),
        row("redirect_uri not a URL", local(&[("target = \"embedded\"", "issuer = \"https://as.example\""), ("\"http://127.0.0.1:8080/callback\"", "\"callback\"")]), build, 2, &["@redirect_uri", "`redirect_uri`", "not a URL"]),
        row("assertion_audience bogus", local(&[("lifetime = 300", "lifetime = 300\nassertion_audience = \"bogus\"")]), build, 2, &["@assertion_audience", "signing.assertion_audience", "bogus"]),
        // keys
        row("alg HS256", local(&[("alg = \"PS256\"", "alg = \"HS256\"")]), build, 2, &["@alg", "signing.alg", "HS256"]),
        row("EC key under PS256", with_key("PS256", ec.serialize_pem()), build, 2, &["{work}/key.pem", "EC P-256", "signing.alg = \"ES256\""]),
        row("RSA 1024", with_key("PS256", RSA_1024_JWK), build, 2, &["{work}/key.pem", "at least 2048", "keygen"]),
        row("encrypted PEM", with_key("PS256", ENCRYPTED_PEM), build, 2, &["{work}/key.pem", "encrypted", "openssl pkey"]),
        row("a public key", with_key("ES256", ec.public_key_pem()), build, 2, &["{work}/key.pem", "public key", "private key"]),
        row("a certificate", with_key("ES256", cert.pem()), build, 2, &["{work}/key.pem", "certificate"]),
        row("garbage key", with_key("PS256", "garbage"), build, 2, &["{work}/key.pem", "not a readable key"]),
        row("empty key file", with_key("PS256", ""), build, 2, &["{work}/key.pem", "not a readable key"]),
        row("symmetric JWK", with_key("PS256", r#"{"kty":"oct","k":"c2VjcmV0"}"#), build, 2, &["{work}/key.pem", "symmetric"]),
        row("empty JWK Set", with_key("PS256", r#"{"keys":[]}"#), build, 2, &["{work}/key.pem", "JWK Set is empty"]),
        row("key file missing", local(&[("key = \"demo\"", "key = \"keys/none.pem\"")]), build, 2, &["@key =", "signing.key", "{work}/keys/none.pem", "profile's folder"]),
        row("no key at all", local(&[("key = \"demo\"\n", "")]), build, 2, &["@[signing]", "signing.key", "keygen"]),
        row("key_env unset", local(&[("key = \"demo\"", "key_env = \"CE_TEST_UNSET_KEY\"")]), build, 2, &["@key_env", "signing.key_env", "CE_TEST_UNSET_KEY"]),
        row("key and key_env", local(&[("key = \"demo\"", "key = \"demo\"\nkey_env = \"X\"")]), build, 2, &["@key_env", "signing.key_env", "keep one"]),
        row("kid empty", local(&[("lifetime = 300", "lifetime = 300\nkid = \" \"")]), build, 2, &["@kid", "signing.kid", "empty"]),
        row("corrupt demo key", vec![("data:demo-keys/PS256.pem".into(), b"junk".to_vec())], "build --profile local", 2, &["{data}/demo-keys/PS256.pem", "delete {data}/demo-keys/PS256.pem", "made on the next run"]),
    ]
}

#[rustfmt::skip]
fn flag_cases() -> Vec<Case> {
    let none = Vec::new;
    let garbage = vec![("g.jwt".to_owned(), b"garbage".to_vec())];
    vec![
        row("--timeout negative", none(), "submit --profile local --timeout=-1", 2, &["--timeout", "out of range"]),
        row("--timeout NaN", none(), "submit --profile local --timeout=NaN", 2, &["--timeout", "out of range"]),
        row("--timeout zero", none(), "submit --profile local --timeout=0", 2, &["--timeout", "more than 0"]),
        row("--timeout a word", none(), "submit --profile local --timeout=soon", 2, &["--timeout", "not a number"]),
        row("--connect-timeout inf", none(), "submit --profile local --connect-timeout=inf", 2, &["--connect-timeout", "out of range"]),
        row("--connect-timeout 1e30", none(), "submit --profile local --connect-timeout=1e30", 2, &["--connect-timeout", "out of range"]),
        row("--expiration +999999y", none(), "build --profile local --expiration=+999999y", 2, &["--expiration", "out of range"]),
        row("--expiration month 13", none(), "build --profile local --expiration=2026-13-40T00:00:00Z", 2, &["--expiration", "out of range"]),
        row("--expiration before 1970", none(), "build --profile local --expiration=1960-01-01T00:00:00Z", 2, &["--expiration", "out of range"]),
        row("--expiration a word", none(), "build --profile local --expiration=soon", 2, &["--expiration", "RFC 3339"]),
        row("--set date month 13", none(), "build --profile local-uae --set from_date=2026-13-40", 2, &["--set", "from_date", "out of range"]),
        row("--set date before 1970", none(), "build --profile local-uae --set from_date=1900-01-01", 2, &["--set", "from_date", "out of range", "1970"]),
        row("--set date +99999y", none(), "build --profile local-uae --set to_date=+99999y", 2, &["--set", "to_date", "out of range"]),
        row("--permission unknown", none(), "build --profile local --permission bogus", 2, &["--permission", "bogus", "packs show"]),
        row("--purpose unknown", none(), "build --profile local --purpose bogus", 2, &["--purpose", "bogus", "pfm"]),
        row("--set unknown field", none(), "build --profile local --set nosuch=1", 2, &["--set", "nosuch", "dp_id"]),
        row("--set without =", none(), "build --profile local --set dp_id", 2, &["--set", "FIELD=VALUE"]),
        row("--key relative, missing", none(), "build --profile local --key rel/none.pem", 2, &["--key", "{work}/rel/none.pem", "current directory"]),
        row("--key a folder", none(), "build --profile local --key {work}", 2, &["--key", "{work}"]),
        row("jwks --key missing", none(), "jwks --profile local --key none.pem", 2, &["--key", "{work}/none.pem", "current directory"]),
        row("--profile unknown", none(), "build --profile nosuch", 2, &["--profile", "nosuch", "local"]),
        row("--profile file missing", none(), "build --profile none.toml", 2, &["none.toml", "cannot read"]),
        row("sandbox --trust unknown", none(), "sandbox --port 0 --trust nosuch", 2, &["--trust", "nosuch"]),
        row("sandbox --par-status 204", none(), "sandbox --port 0 --par-status 204", 2, &["--par-status", "204"]),
        row("profiles show unknown", none(), "profiles show nosuch", 2, &["profiles show", "nosuch"]),
        row("packs show unknown", none(), "packs show nosuch", 2, &["packs show", "nosuch"]),
        row("keygen --alg HS256", none(), "keygen --alg HS256", 2, &["--alg", "HS256"]),
        row("lint --request missing", none(), "lint --request none.jwt", 2, &["none.jwt", "cannot read"]),
        row("lint --request garbage", garbage, "lint --request g.jwt", 2, &["g.jwt", "compact JWT"]),
    ]
}

#[rustfmt::skip]
fn answer_cases() -> Vec<Case> {
    vec![
        answer("400 invalid_request", json_reply("400 Bad Request", r#"{"error":"invalid_request","error_description":"no"}"#), 1, &["{issuer}/par", "invalid_request"]),
        answer("401 invalid_client", json_reply("401 Unauthorized", r#"{"error":"invalid_client"}"#), 1, &["{issuer}/par", "invalid_client"]),
        answer("400 invalid_request_object", json_reply("400 Bad Request", r#"{"error":"invalid_request_object"}"#), 1, &["{issuer}/par", "invalid_request_object"]),
        answer("400 error not a string", json_reply("400 Bad Request", r#"{"error":42}"#), 1, &["{issuer}/par", "400"]),
        answer("500 text/plain", raw_reply(b"HTTP/1.1 500 Oops\r\ncontent-type: text/plain\r\ncontent-length: 4\r\nconnection: close\r\n\r\nboom"), 1, &["{issuer}/par", "500"]),
        answer("503 empty body", raw_reply(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"), 1, &["{issuer}/par", "503"]),
        answer("201 HTML body", raw_reply(b"HTTP/1.1 201 Created\r\ncontent-type: text/html\r\ncontent-length: 13\r\nconnection: close\r\n\r\n<html></html>"), 1, &["{issuer}/par", "201"]),
        answer("201 JSON array", json_reply("201 Created", "[1,2]"), 1, &["{issuer}/par", "201"]),
        answer("201 expires_in a string", json_reply("201 Created", r#"{"request_uri":"urn:r:1","expires_in":"60"}"#), 1, &["{issuer}/par", "expires_in"]),
        answer("201 expires_in zero", json_reply("201 Created", r#"{"request_uri":"urn:r:1","expires_in":0}"#), 1, &["{issuer}/par", "expires_in"]),
        answer("201 expires_in huge", json_reply("201 Created", r#"{"request_uri":"urn:r:1","expires_in":1000000000000}"#), 1, &["{issuer}/par", "expires_in"]),
        answer("201 no request_uri", json_reply("201 Created", r#"{"expires_in":60}"#), 1, &["{issuer}/par", "request_uri"]),
        answer("307 redirect", raw_reply(b"HTTP/1.1 307 Temporary Redirect\r\nlocation: http://127.0.0.1:9/elsewhere\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"), 1, &["{issuer}/par", "307", "http://127.0.0.1:9/elsewhere"]),
        answer("broken status line", raw_reply(b"HTTP/1.1 2x0 What\r\n\r\n"), 3, &["{authority}"]),
        answer("body cut short", raw_reply(b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 500\r\nconnection: close\r\n\r\n{\"request_uri\":"), 3, &["{authority}", "cut short", "end of file", "closed the connection before the whole body"]),
        answer("not HTTP", raw_reply(b"NOT HTTP AT ALL\r\n\r\n"), 3, &["{authority}"]),
        answer("closed without an answer", raw_reply(b""), 3, &["{authority}"]),
        answer("bad header", raw_reply(b"HTTP/1.1 201 Created\r\nbad header line\r\n\r\n"), 3, &["{authority}"]),
        answer("connection refused", Server::Refused, 3, &["{authority}", "refused"]),
        answer("no answer in time", Server::Silent, 3, &["{authority}", "in time", "--timeout"]),
    ]
}

impl Case {
    fn run(&self) -> Result<(), String> {
        let env = TestEnv::new();
        let work = env.work.path().display().to_string();
        let data = env.data.path().display().to_string();
        for (path, bytes) in &self.files {
            let target = match path.strip_prefix("data:") {
                Some(rest) => env.data.path().join(rest),
                None => env.path(path),
            };
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(target, bytes).unwrap();
        }
        let (_keep, issuer) = match &self.server {
            Some(server) => {
                let (keep, issuer) = start_fault(server.clone());
                remote_profile(&env, &issuer);
                (keep, issuer)
            }
            None => (None, String::new()),
        };
        let expand = |s: &str| {
            s.replace("{work}", &work)
                .replace("{data}", &data)
                .replace("{issuer}", &issuer)
                .replace("{authority}", issuer.trim_start_matches("http://"))
        };
        let args: Vec<String> = self.args.split_whitespace().map(expand).collect();
        let out = env.cmd().args(&args).output().unwrap();
        let text = format!("{}{}", stdout(&out), stderr(&out));
        let fail = |why: String| Err(format!("{}: {why}\n--- output:\n{text}", self.name));
        if out.status.code() != Some(self.exit) {
            return fail(format!(
                "exit {:?}, wanted {}",
                out.status.code(),
                self.exit
            ));
        }
        for name in self.names {
            let wanted = match name.strip_prefix('@') {
                Some(needle) => {
                    let p = std::fs::read(env.path("p.toml")).unwrap();
                    let p = String::from_utf8_lossy(&p);
                    let line = p.lines().position(|l| l.contains(needle)).unwrap() + 1;
                    format!("p.toml:{line}:")
                }
                None => expand(name),
            };
            if !text.contains(&wanted) {
                return fail(format!("does not name {wanted:?}"));
            }
        }
        if hint_in(&text).is_none() {
            return fail("no hint".into());
        }
        if text.contains("panicked") {
            return fail("panicked".into());
        }
        Ok(())
    }
}

/// The advice after `hint:` (or, for a server's answer, after `what it means` or under
/// "Not an OAuth answer"), if not empty.
fn hint_in(text: &str) -> Option<&str> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    lines
        .iter()
        .enumerate()
        .filter_map(|(i, line)| {
            let next = lines.get(i + 1).copied().unwrap_or("");
            line.strip_prefix("hint:")
                .or_else(|| line.strip_prefix("what it means"))
                .or_else(|| line.contains("Not an OAuth answer").then_some(next))
        })
        .map(str::trim)
        .find(|h| !h.is_empty())
}

/// Starts a row's server; the returned value keeps it alive.
fn start_fault(server: Server) -> (Option<FaultServer>, String) {
    match server {
        Server::Reply(bytes) => {
            let s = FaultServer::start(bytes);
            let issuer = s.issuer.clone();
            (Some(s), issuer)
        }
        Server::Refused => {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let issuer = format!("http://{}", listener.local_addr().unwrap());
            drop(listener);
            (None, issuer)
        }
        Server::Silent => {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let issuer = format!("http://{}", listener.local_addr().unwrap());
            std::thread::spawn(move || {
                let mut held = Vec::new();
                for stream in listener.incoming().flatten() {
                    held.push(stream);
                }
            });
            (None, issuer)
        }
    }
}

#[test]
fn the_bad_input_table() {
    let cases: Vec<Case> = [profile_cases(), flag_cases(), answer_cases()]
        .into_iter()
        .flatten()
        .collect();
    assert!(cases.len() >= 100, "{} cases", cases.len());
    let next = AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                while let Some(case) = cases.get(next.fetch_add(1, Ordering::SeqCst)) {
                    if let Err(e) = case.run() {
                        failures.lock().unwrap().push(e);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

// ---------------------------------------------------------------------------------------------
// The sandbox under load, as a process of its own so its memory can be read.

/// Resident memory of a sandbox process in KiB, from /proc/PID/status.
fn rss_kib(sandbox: &SandboxProcess) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", sandbox.pid())).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// What a client of the running sandbox needs: the trusted profile's seed pointed at it and
/// its demo key (made by the sandbox in the data dir).
fn sandbox_client(
    env: &TestEnv,
    issuer: &str,
) -> (
    consent_explorer::core::request::ParSeed,
    consent_explorer::core::keys::SigningKey,
    reqwest::Client,
) {
    use consent_explorer::core::{
        consent::PackSet, keys::SigningKey, profile, request, tls, transport,
    };
    let pem = std::fs::read(env.data.path().join("demo-keys/PS256.pem")).unwrap();
    let key = SigningKey::from_material(&pem, jsonwebtoken::Algorithm::PS256, None).unwrap();
    let seed = profile::builtin("local")
        .unwrap()
        .seed(&PackSet::builtin(), &request::Overrides::default(), issuer)
        .unwrap();
    let http = transport::http_client(
        &format!("{issuer}/par"),
        &tls::TlsMaterial::default(),
        &transport::ClientOptions::default(),
    )
    .unwrap();
    (seed, key, http)
}

/// "Flat" here: after the stores are full (1,000 live entries each, see sandbox/store.rs), another
/// 1,000 accepted PARs add less than 1 MiB of resident memory. The unbounded stores this replaced
/// kept about 2 KB per PAR: 2 MB over the same 1,000.
#[test]
fn the_sandbox_memory_stays_flat_over_a_thousand_pars() {
    use consent_explorer::core::{request, transport};
    let env = TestEnv::new();
    let sandbox = env.start_sandbox("sandbox", &["--port", "0"]);
    let (seed, key, http) = sandbox_client(&env, &sandbox.issuer);
    let par_url = format!("{}/par", sandbox.issuer);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let send_pars = |count: usize| {
        for i in 0..count {
            let ticket =
                request::build(&seed, &key, jiff::Timestamp::now(), &mut rand::rng()).unwrap();
            let answer = runtime
                .block_on(transport::send(&http, &par_url, &ticket))
                .unwrap();
            assert_eq!(answer.status, 201, "PAR {i}: {:?}", answer.body);
        }
    };
    send_pars(1_000);
    let full = rss_kib(&sandbox);
    send_pars(1_000);
    let after = rss_kib(&sandbox);
    eprintln!("sandbox VmRSS: {full} KiB with full stores, {after} KiB 1,000 PARs later");
    assert!(
        after < full + 1024,
        "resident memory grew from {full} KiB to {after} KiB over 1,000 PARs with full stores"
    );
}

#[test]
fn the_sandbox_answers_two_hundred_concurrent_connections() {
    use consent_explorer::core::{request, transport};
    let env = TestEnv::new();
    let sandbox = env.start_sandbox("sandbox", &["--port", "0"]);
    let (seed, key, http) = sandbox_client(&env, &sandbox.issuer);
    let par_url = format!("{}/par", sandbox.issuer);
    let tickets: Vec<_> = (0..200)
        .map(|_| request::build(&seed, &key, jiff::Timestamp::now(), &mut rand::rng()).unwrap())
        .collect();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let statuses = runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for ticket in tickets {
            let (http, url) = (http.clone(), par_url.clone());
            tasks.spawn(async move {
                transport::send(&http, &url, &ticket)
                    .await
                    .map(|a| a.status)
            });
        }
        let mut statuses = Vec::new();
        while let Some(done) = tasks.join_next().await {
            statuses.push(done.unwrap());
        }
        statuses
    });
    assert_eq!(statuses.len(), 200);
    let refused: Vec<_> = statuses.iter().filter(|s| !matches!(s, Ok(201))).collect();
    assert!(
        refused.is_empty(),
        "{} of 200 not accepted: {:?}",
        refused.len(),
        &refused[..refused.len().min(5)]
    );
}
