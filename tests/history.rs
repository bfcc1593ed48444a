//! History on the real binary: a flow recorded step by step with nothing secret kept, the
//! HAR export checked by Python `jsonschema`, `build --curl` run with the real curl, and the
//! SQLite file under two writer processes and a kill -9.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::TestEnv;
use consent_explorer::core::history::{
    Exchange, ExchangeFields, History, Limits, RawExchange, RecordedBody, Step,
};
use serde_json::Value;

const WRITER_DB: &str = "HISTORY_TEST_WRITER_DB";
const WRITER_COUNT: &str = "HISTORY_TEST_WRITER_COUNT";

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Runs an outside program (python, the shell's curl); its stdout, once it succeeded.
fn stdout_of_success(command: &mut Command, needs: &str) -> String {
    let out = command.output().expect(needs);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    said
}

#[test]
fn a_flow_is_recorded_step_by_step_and_nothing_secret_is_kept() {
    let env = TestEnv::new();
    let doc = env.json(&["flow", "--profile", "local", "--json", "--show-tokens"]);
    let access = doc["access_token"]["token"].as_str().unwrap().to_owned();
    let refresh = doc["refresh_token"].as_str().unwrap().to_owned();
    let id_token = doc["id_token"]["token"].as_str().unwrap().to_owned();
    let signature = id_token.rsplit('.').next().unwrap().to_owned();

    let flows = env.json(&["history", "--json"]);
    let flows = flows.as_array().unwrap();
    assert_eq!(flows.len(), 1, "{flows:?}");
    let steps: Vec<(&str, Value)> = flows[0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["status"].clone()))
        .collect();
    assert_eq!(
        steps,
        [
            ("par", Value::from(201)),
            ("callback", Value::Null),
            ("token", Value::from(200))
        ]
    );
    let text = String::from_utf8(env.run(&["history", "list"]).stdout).unwrap();
    assert!(
        text.contains("par") && text.contains("token") && text.contains("issued"),
        "{text}"
    );

    let par_id = flows[0]["steps"][0]["id"].as_i64().unwrap().to_string();
    let par = env.json(&["history", "show", &par_id, "--json"]);
    let claims = &par["exchange"]["decoded"][0]["claims"];
    assert_eq!(claims["nonce"], "{{nonce}}");
    assert_eq!(claims["client_id"], "consent-explorer-demo");
    let curl = String::from_utf8(env.run(&["history", "show", &par_id, "--curl"]).stdout).unwrap();
    assert!(
        curl.contains("'client_assertion={{client_assertion}}'"),
        "{curl}"
    );
    assert!(curl.contains("'request={{request_object}}'"), "{curl}");

    let flow_id = flows[0]["id"].as_i64().unwrap().to_string();
    let report = env.path("report.md");
    let out = env.run(&[
        "history",
        "report",
        &flow_id,
        "--out",
        report.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = std::fs::read_to_string(report).unwrap();
    for part in [
        "## 1 par: accepted",
        "callback",
        "### ID token (decoded)",
        "x-fapi-interaction-id",
    ] {
        assert!(report.contains(part), "{part} not in the report");
    }

    // The key the demo profile signs with: no line of its body may reach the history.
    let key_pem = std::fs::read_to_string(env.data.path().join("demo-keys/PS256.pem")).unwrap();
    let key_lines: Vec<&str> = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 40)
        .collect();
    assert!(!key_lines.is_empty());
    for (path, bytes) in common::files(env.data.path()) {
        let store = ["tokens", "demo-keys"];
        if path
            .parent()
            .is_some_and(|p| store.iter().any(|s| p.ends_with(s)))
        {
            continue;
        }
        for secret in [&access, &refresh, &id_token, &signature] {
            assert!(!contains(&bytes, secret), "{path:?}");
        }
        for line in &key_lines {
            assert!(!contains(&bytes, line), "{path:?} holds the private key");
        }
        assert!(!contains(&bytes, "eyJ"), "{path:?} holds a JWT");
    }
    assert!(!report.contains(&access) && !report.contains(&signature));
}

#[test]
fn the_har_export_is_valid_har_1_2_in_time_order() {
    let env = TestEnv::new();
    env.json(&["flow", "--profile", "local", "--json"]);
    env.json(&["flow", "--profile", "local", "--json"]);
    let har = env.path("all.har");
    let out = env.run(&["history", "export", "--har", har.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = stdout_of_success(
        Command::new(common::python())
            .arg(common::repo_path("tests/history/validate_har.py"))
            .arg(common::repo_path("tests/schemas/har-1.2.schema.json"))
            .arg(&har),
        "python3 with jsonschema is needed (tests/run makes .venv)",
    );
    assert_eq!(said.trim(), "ok 6");

    let doc: Value = serde_json::from_slice(&std::fs::read(&har).unwrap()).unwrap();
    let par = &doc["log"]["entries"][0];
    assert_eq!(par["_step"], "par");
    assert_eq!(par["response"]["status"], 201);
    let params = par["request"]["postData"]["params"].as_array().unwrap();
    assert!(params.iter().any(|p| p["value"] == "{{client_assertion}}"));

    let one = env.path("one.har");
    let out = env.run(&[
        "history",
        "export",
        "--har",
        one.to_str().unwrap(),
        "--flow",
        "1",
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("3 exchanges"));
    let out = env.run(&[
        "history",
        "export",
        "--har",
        one.to_str().unwrap(),
        "--flow",
        "99",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no flow 99"));
}

#[test]
fn build_curl_is_the_exact_par_and_the_sandbox_answers_201() {
    let env = TestEnv::new();
    let (server, local) = env.sandbox_trusting_local();
    let issuer = &server.issuer;
    let remote = env.write(
        "remote.toml",
        &local.replace(
            "target = \"embedded\"",
            &format!("issuer = \"{issuer}\"\npar_endpoint = \"{issuer}/par\""),
        ),
    );
    let out = env.run(&["build", "--profile", remote.to_str().unwrap(), "--curl"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let command = String::from_utf8(out.stdout).unwrap();
    assert!(command.contains("-H 'x-fapi-interaction-id: "), "{command}");
    assert!(
        command.contains("--data-urlencode 'client_id=consent-explorer-demo'"),
        "{command}"
    );
    let answer = stdout_of_success(Command::new("sh").arg("-c").arg(&command), "sh and curl");
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert!(answer.contains("request_uri"), "{answer}");

    // Without a par_endpoint there is no URL to give: said, not guessed.
    let discovered = env.write(
        "discovered.toml",
        &local.replace("target = \"embedded\"", &format!("issuer = \"{issuer}\"")),
    );
    let out = env.run(&["build", "--profile", discovered.to_str().unwrap(), "--curl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("par_endpoint"));
}

#[test]
fn clear_asks_on_a_terminal_and_refuses_without_one_unless_yes() {
    let env = TestEnv::new();
    env.json(&["flow", "--profile", "local", "--json"]);
    let out = env
        .cmd()
        .args(["history", "clear"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    let out = env.run(&["history", "clear", "--before", "2000-01-01", "--yes"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 history entries removed"));
    let out = env.run(&["history", "clear", "--before", "someday", "--yes"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--before someday: not a date"));
    let out = env.run(&["history", "clear", "--yes"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("3 history entries removed"));
    assert_eq!(env.json(&["history", "--json"]), serde_json::json!([]));
}

#[test]
fn a_corrupt_history_is_set_aside_and_the_command_still_runs() {
    let env = TestEnv::new();
    std::fs::write(
        env.data.path().join("history.db"),
        "not sqlite at all".repeat(100),
    )
    .unwrap();
    let out = env.run(&["flow", "--profile", "local", "--json"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: the history file") && stderr.contains("moved to"),
        "{stderr}"
    );
    let aside = std::fs::read_dir(env.data.path())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("history.db.corrupt-")
        })
        .count();
    assert_eq!(aside, 1);
    assert_eq!(
        env.json(&["history", "--json"]).as_array().unwrap().len(),
        1
    );

    // A history that cannot be written (its folder is a file) warns; the flow succeeds.
    let env = TestEnv::new();
    std::fs::create_dir(env.data.path().join("history.db")).unwrap();
    let out = env.run(&["flow", "--profile", "local", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: history not kept"));
}

fn sample(n: usize, writer: &str) -> Exchange {
    Exchange::redact(RawExchange {
        fields: ExchangeFields {
            at: jiff::Timestamp::now(),
            profile: "local".into(),
            step: Step::Par,
            flow_key: format!("{writer}-{n}"),
            method: "POST".into(),
            url: "https://as.example/par".into(),
            status: Some(201),
            elapsed_ms: 1.0,
            interaction_id: Some(format!("{writer}-{n}")),
            request_headers: vec![],
            request_body: Some(RecordedBody::Form(vec![("scope".into(), "openid".into())])),
            response_headers: vec![],
            response_body: Some(RecordedBody::Text("x".repeat(2000))),
            decoded: vec![],
            findings: vec![],
            note: None,
        },
        secrets: vec![],
    })
}

/// Run by the tests below as a child process: records `WRITER_COUNT` exchanges (or forever).
#[test]
#[ignore = "a helper the concurrency tests start as a process"]
fn history_writer_process() {
    let Some(db) = std::env::var_os(WRITER_DB) else {
        return;
    };
    let count: usize = std::env::var(WRITER_COUNT).unwrap().parse().unwrap();
    let (history, _) = History::open(Path::new(&db), Limits::default()).unwrap();
    let writer = std::process::id().to_string();
    for n in 0..count {
        history.record(&sample(n, &writer)).unwrap();
    }
}

fn writer(db: &Path, count: usize) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "history_writer_process", "--ignored", "--quiet"])
        .env(WRITER_DB, db)
        .env(WRITER_COUNT, count.to_string())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn two_writer_processes_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.db");
    let mut a = writer(&db, 100);
    let mut b = writer(&db, 100);
    assert!(a.wait().unwrap().success());
    assert!(b.wait().unwrap().success());
    let (history, notice) = History::open(&db, Limits::default()).unwrap();
    assert!(notice.is_none());
    assert_eq!(history.count().unwrap(), 200);
    assert_eq!(history.flows(None, 1000).unwrap().len(), 200);
}

#[test]
fn a_kill_during_a_write_loop_leaves_a_readable_history() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.db");
    let mut child = writer(&db, 1_000_000);
    // Until it has written some, then mid-loop.
    for _ in 0..200 {
        std::thread::sleep(Duration::from_millis(25));
        if std::fs::metadata(&db).is_ok_and(|m| m.len() > 0) && db.with_extension("db-wal").exists()
        {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let (history, notice) = History::open(&db, Limits::default()).unwrap();
    assert!(notice.is_none(), "{notice:?}");
    assert_eq!(history.integrity().unwrap(), "ok");
    let count = history.count().unwrap();
    assert!(count > 0);
    assert_eq!(history.all_entries().unwrap().len() as i64, count);
}

/// Every compact JWS in `bytes` (`eyJ` in three filled parts) whose signature is not a
/// placeholder: an envelope, x-signature, proof or token kept whole.
fn signed_jws_in(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let is_part = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.split(|c: char| !(is_part(c) || c == '.'))
        .filter(|run| run.starts_with("eyJ"))
        .find(|run| {
            let parts: Vec<&str> = run.split('.').collect();
            parts.len() == 3 && parts.iter().all(|p| !p.is_empty())
        })
        .map(str::to_owned)
}

#[test]
fn calls_and_consent_are_recorded_and_no_signature_or_token_is_kept() {
    let env = TestEnv::new();
    let doc = env.json(&["flow", "--profile", "local", "--json", "--show-tokens"]);
    let access = doc["access_token"]["token"].as_str().unwrap().to_owned();
    let refresh = doc["refresh_token"].as_str().unwrap().to_owned();
    let id_token = doc["id_token"]["token"].as_str().unwrap().to_owned();
    let call = env.json(&["call", "--profile", "local", "balances", "--json"]);
    let x_signature = call["request"]["x-signature"]["compact"]
        .as_str()
        .unwrap()
        .to_owned();
    let x_signature_sig = x_signature.rsplit('.').next().unwrap().to_owned();
    let revoke = env.run(&["consent", "revoke", "--profile", "local", "--json"]);
    assert!(revoke.status.success(), "{}", common::stderr(&revoke));

    let flows = env.json(&["history", "--json"]);
    // Three commands, one flow: the consent's calls join the flow that granted it.
    assert_eq!(flows.as_array().unwrap().len(), 1, "{flows:#}");
    let mut steps: Vec<String> = flows
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["steps"].as_array().unwrap().clone())
        .map(|s| format!("{} {}", s["step"].as_str().unwrap(), s["status"]))
        .collect();
    steps.sort();
    for step in [
        "par 201",
        "callback null",
        "token 200",
        "resource 200",
        "consent 200",
    ] {
        assert!(steps.iter().any(|s| s == step), "{step} not in {steps:?}");
    }
    let resource = flows
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["steps"].as_array().unwrap().clone())
        .find(|s| s["step"] == "resource")
        .unwrap();
    let id = resource["id"].as_i64().unwrap().to_string();
    let shown = env.json(&["history", "show", &id, "--json"]);
    let exchange = &shown["exchange"];
    let headers = exchange["request_headers"].to_string();
    assert!(headers.contains("Bearer {{access_token}}"), "{headers}");
    let signed = x_signature.rsplit_once('.').unwrap().0;
    assert!(
        headers.contains(&format!("{signed}.{{{{signature}}}}")),
        "the x-signature keeps what it signed: {headers}"
    );
    let decoded = exchange["decoded"].to_string();
    assert!(
        decoded.contains("\"qpm\"") || decoded.contains("\"htu\"") || decoded.contains("\"iat\""),
        "{decoded}"
    );
    assert!(
        decoded.contains("payload"),
        "the decrypted payload is kept: {decoded}"
    );
    assert!(exchange["interaction_id"].is_string());

    let har = env.path("calls.har");
    let out = env.run(&["history", "export", "--har", har.to_str().unwrap()]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let said = stdout_of_success(
        Command::new(common::python())
            .arg(common::repo_path("tests/history/validate_har.py"))
            .arg(common::repo_path("tests/schemas/har-1.2.schema.json"))
            .arg(&har),
        "python3 with jsonschema is needed (tests/run makes .venv)",
    );
    assert!(said.starts_with("ok "), "{said}");

    let mut seen_history = false;
    for (path, bytes) in common::files(env.data.path()) {
        // The token store, the key stores and the sandbox's own state (hashed tokens) keep
        // what they must.
        let store = ["tokens", "demo-keys", "dpop-keys", "sandbox"];
        if path
            .parent()
            .is_some_and(|p| store.iter().any(|s| p.ends_with(s)))
        {
            continue;
        }
        seen_history |= path.file_name().is_some_and(|n| n == "history.db");
        for (what, secret) in [
            ("access token", &access),
            ("refresh token", &refresh),
            ("ID token", &id_token),
            ("x-signature", &x_signature),
            ("x-signature's signature", &x_signature_sig),
        ] {
            assert!(!contains(&bytes, secret), "the {what} is in {path:?}");
        }
        assert_eq!(signed_jws_in(&bytes), None, "a signed JWS is in {path:?}");
    }
    assert!(seen_history);
}

#[test]
fn a_probe_run_is_one_flow_with_an_entry_per_request() {
    let env = TestEnv::new();
    let out = env.run(&[
        "probe",
        "--profile",
        "local",
        "--yes",
        "--delay",
        "0",
        "--only",
        "header.no-interaction-id,authorize.request-uri-reused",
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let flows = env.json(&["history", "--json"]);
    let flows = flows.as_array().unwrap();
    assert_eq!(flows.len(), 1, "one run, one flow: {flows:?}");
    let steps = flows[0]["steps"].as_array().unwrap();
    // The opening control, one PAR, the authorize URL used twice, the closing control.
    assert_eq!(steps.len(), 5, "{steps:?}");
    assert!(steps.iter().all(|s| s["step"] == "probe"), "{steps:?}");
    let methods: Vec<&str> = steps
        .iter()
        .map(|s| s["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods, ["POST", "POST", "GET", "GET", "POST"]);

    let without_id = steps[1]["id"].as_i64().unwrap().to_string();
    let shown = env.json(&["history", "show", &without_id, "--json"]);
    let exchange = &shown["exchange"];
    assert!(
        exchange["note"]
            .as_str()
            .unwrap()
            .starts_with("case header.no-interaction-id"),
        "{exchange}"
    );
    assert_eq!(exchange["interaction_id"], Value::Null);
    let form = exchange["request_body"].to_string();
    assert!(form.contains("{{client_assertion}}") && form.contains("{{request_object}}"));
    for (path, bytes) in common::files(env.data.path()) {
        if path.parent().is_some_and(|p| p.ends_with("demo-keys")) {
            continue;
        }
        assert_eq!(signed_jws_in(&bytes), None, "a signed JWS is in {path:?}");
    }
}

#[test]
fn dpop_proofs_are_recorded_by_name_only() {
    let env = TestEnv::new();
    let local = std::fs::read_to_string(common::repo_path("profiles/local.toml")).unwrap();
    let profile = env.write("dpop.toml", &format!("{local}\n[dpop]\nenabled = true\n"));
    let profile = profile.to_str().unwrap();
    let doc = env.json(&["flow", "--profile", profile, "--json", "--show-tokens"]);
    let access = doc["access_token"]["token"].as_str().unwrap().to_owned();

    let flows = env.json(&["history", "--json"]);
    let steps = flows[0]["steps"].as_array().unwrap();
    for step in steps.iter().filter(|s| s["step"] != "callback") {
        let id = step["id"].as_i64().unwrap().to_string();
        let shown = env.json(&["history", "show", &id, "--json"]);
        let headers = shown["exchange"]["request_headers"].to_string();
        assert!(
            headers.contains(r#"["dpop","{{dpop_proof}}"]"#),
            "{} {headers}",
            step["step"]
        );
    }
    for (path, bytes) in common::files(env.data.path()) {
        let store = ["tokens", "demo-keys", "dpop-keys", "sandbox"];
        if path
            .parent()
            .is_some_and(|p| store.iter().any(|s| p.ends_with(s)))
        {
            continue;
        }
        assert!(
            !contains(&bytes, &access),
            "the access token is in {path:?}"
        );
        assert_eq!(signed_jws_in(&bytes), None, "a signed JWS is in {path:?}");
    }
}

#[test]
fn the_token_step_records_the_endpoint_discovery_named() {
    let env = TestEnv::new();
    let (server, local) = env.sandbox_trusting_local();
    let issuer = &server.issuer;
    let discovered = env.write(
        "discovered.toml",
        &local.replace("target = \"embedded\"", &format!("issuer = \"{issuer}\"")),
    );
    let profile = discovered.to_str().unwrap();
    let submitted = env.json(&["submit", "--profile", profile, "--json"]);
    let authorize = format!(
        "{}&auto=approve",
        submitted["authorize_url"].as_str().unwrap()
    );
    let callback = stdout_of_success(
        Command::new("curl").args(["-s", "-o", "/dev/null", "-w", "%{redirect_url}", &authorize]),
        "curl",
    );
    let out = env.run(&["token", "--profile", profile, "--callback", &callback]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let flows = env.json(&["history", "--json"]);
    let token = flows[0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "token")
        .unwrap()
        .clone();
    assert_eq!(token["url"], format!("{issuer}/token"), "{token}");
}
