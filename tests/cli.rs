//! The CLI as a user runs it: the real binary, isolated config and data dirs.

mod common;

use common::{TestEnv, stderr, stdout};
use serde_json::Value;

#[test]
fn build_local_works_out_of_the_box_and_reuses_the_demo_key() {
    let env = TestEnv::new();
    let out = env.run(&["build", "--profile", "local"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for section in [
        "Request object (JAR, RFC 9101)",
        "Client assertion (private_key_jwt, RFC 7523)",
        "PAR form",
        "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "PKCE code_verifier",
        "Lint: 0 errors",
        "UTC, in 5m",
    ] {
        assert!(text.contains(section), "missing {section:?} in\n{text}");
    }
    let key = env.data.path().join("demo-keys/PS256.pem");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let first = std::fs::read(&key).unwrap();
    let again = env.json(&["build", "--profile", "local", "--json"]);
    assert_eq!(
        std::fs::read(&key).unwrap(),
        first,
        "the demo key is reused"
    );
    let jwks = env.json(&["jwks", "--profile", "local"]);
    assert_eq!(jwks["keys"][0]["kid"], again["request_header"]["kid"]);
}

#[test]
fn build_json_keeps_its_contract() {
    let env = TestEnv::new();
    let report = env.json(&["build", "--profile", "local", "--json"]);
    for key in [
        "request",
        "client_assertion",
        "code_verifier",
        "form",
        "lint",
    ] {
        assert!(report.get(key).is_some(), "no {key}");
    }
    let form = &report["form"];
    assert_eq!(form["client_id"], "consent-explorer-demo");
    assert_eq!(form["request"], report["request"]);
    assert_eq!(form["client_assertion"], report["client_assertion"]);
    assert_eq!(
        form["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    assert_eq!(report["lint"], Value::Array(vec![]));
    assert_eq!(report["code_verifier"].as_str().unwrap().len(), 43);
    // Fresh nonce, state and jti per build.
    let other = env.json(&["build", "--profile", "local", "--json"]);
    for (part, claim) in [
        ("request_claims", "nonce"),
        ("request_claims", "state"),
        ("assertion_claims", "jti"),
    ] {
        assert_ne!(report[part][claim], other[part][claim], "{claim}");
    }
}

#[test]
fn lint_exits_1_on_errors_and_reports_json_findings() {
    let env = TestEnv::new();
    let out = env.run(&[
        "lint",
        "--profile",
        "local",
        "--expiration",
        "-1d",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let findings: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = findings
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "consent.expiry-past")
        .expect("consent.expiry-past");
    assert_eq!(f["severity"], "error");
    assert!(f["reference"].as_str().unwrap().len() > 3);
    assert!(f["message"].as_str().unwrap().contains("in the past"));

    let clean = env.run(&["lint", "--profile", "local"]);
    assert_eq!(clean.status.code(), Some(0), "{}", stdout(&clean));
}

#[test]
fn lint_of_a_foreign_request_object_reads_stdin_and_checks_the_signature() {
    let env = TestEnv::new();
    let built = env.json(&["build", "--profile", "local", "--json"]);
    let request = built["request"].as_str().unwrap();
    let assertion_file = env.write("assertion.jwt", built["client_assertion"].as_str().unwrap());

    let ok = env
        .cmd()
        .args([
            "lint",
            "--profile",
            "local",
            "--request",
            "-",
            "--assertion",
        ])
        .arg(&assertion_file)
        .write_stdin(request)
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));

    // Signed by a key the profile does not have: both signatures are refused.
    let other = env.keygen("PS256", "other.pem");
    let foreign = env.json(&[
        "build",
        "--profile",
        "local",
        "--json",
        "--key",
        other.to_str().unwrap(),
    ]);
    let out = env
        .cmd()
        .args(["lint", "--profile", "local", "--json", "--request", "-"])
        .write_stdin(foreign["request"].as_str().unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let ids: Vec<String> = serde_json::from_slice::<Vec<Value>>(&out.stdout)
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(ids.contains(&"request.signature".to_owned()), "{ids:?}");

    let garbage = env
        .cmd()
        .args(["lint", "--request", "-"])
        .write_stdin("not a jwt")
        .output()
        .unwrap();
    assert_eq!(garbage.status.code(), Some(2));
    assert!(stderr(&garbage).contains("not a compact JWT"));
}

#[test]
fn overrides_change_the_consent() {
    let env = TestEnv::new();
    let report = env.json(&[
        "build",
        "--profile",
        "local",
        "--json",
        "--permission",
        "read_balances",
        "--purpose",
        "credit_underwriting",
        "--expiration",
        "2030-01-01T00:00:00Z",
        "--set",
        "dp_id=",
        "--set",
        "consent.dc_id=DC-42",
    ]);
    let consent = &report["request_claims"]["authorization_details"][0]["consent"];
    assert_eq!(consent["permissions"], serde_json::json!(["read_balances"]));
    assert_eq!(consent["consent_purpose"], "credit_underwriting");
    assert_eq!(consent["expiration_datetime"], "2030-01-01T00:00:00Z");
    assert_eq!(consent["dc_id"], "DC-42");
    assert!(consent.get("dp_id").is_none(), "an empty dp_id is left out");
}

#[test]
fn keygen_writes_0600_keys_for_each_alg_and_never_overwrites() {
    let env = TestEnv::new();
    for alg in ["PS256", "ES256", "EdDSA"] {
        let name = format!("{alg}.pem");
        let path = env.keygen(alg, &name);
        // The profile says PS256: only the RSA key fits; others are refused with exit 2.
        let jwk: Value = {
            let out = env.run(&[
                "jwks",
                "--profile",
                "local",
                "--key",
                path.to_str().unwrap(),
            ]);
            if alg == "PS256" {
                serde_json::from_slice(&out.stdout).unwrap()
            } else {
                assert_eq!(out.status.code(), Some(2));
                assert!(
                    stderr(&out).contains("cannot sign PS256"),
                    "{}",
                    stderr(&out)
                );
                continue;
            }
        };
        assert_eq!(jwk["keys"][0]["alg"], alg);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let again = env.run(&["keygen", "--alg", alg, "--out", path.to_str().unwrap()]);
        assert_eq!(again.status.code(), Some(2));
        assert!(stderr(&again).contains("never overwritten"));
    }
}

#[test]
fn es256_and_eddsa_profiles_sign_with_their_keys() {
    let env = TestEnv::new();
    for (alg, kty) in [("ES256", "EC"), ("EdDSA", "OKP")] {
        let key = env.keygen(alg, &format!("{alg}.pem"));
        let profile = std::fs::read_to_string(common::repo_path("profiles/local.toml"))
            .unwrap()
            .replace("key = \"demo\"", &format!("key = \"{}\"", key.display()))
            .replace("alg = \"PS256\"", &format!("alg = \"{alg}\""));
        let path = env.write(&format!("{alg}.toml"), &profile);
        let report = env.json(&["build", "--profile", path.to_str().unwrap(), "--json"]);
        assert_eq!(report["request_header"]["alg"], alg);
        let jwks = env.json(&["jwks", "--profile", path.to_str().unwrap()]);
        assert_eq!(jwks["keys"][0]["kty"], kty);
    }
}

#[test]
fn profiles_and_packs_are_listed_and_user_files_win() {
    let env = TestEnv::new();
    let list = stdout(&env.run(&["profiles", "list"]));
    for name in ["local", "local-uae", "ozone-mya-sandbox"] {
        assert!(list.contains(name), "{list}");
    }
    let profiles = env.config.path().join("profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    let mine = std::fs::read_to_string(common::repo_path("profiles/local.toml"))
        .unwrap()
        .replace("name = \"local\"", "name = \"local\"\n# my copy")
        .replace("DEMO-BANK", "MY-BANK");
    std::fs::write(profiles.join("local.toml"), mine).unwrap();
    let report = env.json(&["build", "--profile", "local", "--json"]);
    assert_eq!(
        report["request_claims"]["authorization_details"][0]["consent"]["dp_id"],
        "MY-BANK"
    );
    let show = stdout(&env.run(&["profiles", "show", "local"]));
    assert!(
        show.contains("# my copy") && show.contains("MY-BANK"),
        "{show}"
    );

    let packs = stdout(&env.run(&["packs", "list"]));
    assert!(packs.contains("urn:openfinance-ml:account-access-consent:v1.2"));
    assert!(packs.contains("urn:openfinanceuae:account-access-consent:v2.1"));
    let uae = stdout(&env.run(&["packs", "show", "uae-account-access"]));
    assert!(uae.contains("disputed"), "{uae}");
    assert!(uae.contains("ReadProductFinanceRates"));
    let json = env.json(&[
        "packs",
        "show",
        "urn:openfinance-ml:account-access-consent:v1.2",
        "--json",
    ]);
    let purpose = json["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "purpose")
        .unwrap();
    assert!(
        purpose["values"][1]["status"]
            .as_str()
            .unwrap()
            .contains("unconfirmed")
    );

    // A user's own pack: a new ecosystem is a data file.
    let pack_dir = env.config.path().join("consent-packs");
    std::fs::create_dir_all(&pack_dir).unwrap();
    let new_pack = std::fs::read_to_string(common::repo_path(
        "assets/consent-packs/openfinance-my-account-access-v1.2.toml",
    ))
    .unwrap()
    .replace("id = \"my-account-access\"", "id = \"acme\"")
    .replace(
        "urn:openfinance-ml:account-access-consent:v1.2",
        "urn:acme:consent:v1",
    );
    std::fs::write(pack_dir.join("acme.toml"), new_pack).unwrap();
    let report = env.json(&[
        "build",
        "--profile",
        "local",
        "--json",
        "--set",
        "consent_type=urn:openfinance-ml:account-access-consent:v1.2",
    ]);
    assert_eq!(
        report["request_claims"]["authorization_details"][0]["type"],
        "urn:openfinance-ml:account-access-consent:v1.2"
    );
    let acme = env.write(
        "acme.toml",
        &std::fs::read_to_string(common::repo_path("profiles/local.toml"))
            .unwrap()
            .replace("pack = \"my-account-access\"", "pack = \"acme\""),
    );
    let report = env.json(&["build", "--profile", acme.to_str().unwrap(), "--json"]);
    assert_eq!(
        report["request_claims"]["authorization_details"][0]["type"],
        "urn:acme:consent:v1"
    );
}

#[test]
fn the_bare_command_explains_itself() {
    let env = TestEnv::new();
    // No TTY (a pipe, CI): a clear message and exit 2, not a panic in terminal setup.
    let out = env.run(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("needs a terminal"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("panicked"));
    let help = env.run(&["--help"]);
    assert!(stdout(&help).contains("Exit codes"));
}

/// Each bad input: exit 2, a message naming the file or flag and the field, never a panic.
#[test]
fn bad_input_gets_a_clear_error() {
    let env = TestEnv::new();
    let local = std::fs::read_to_string(common::repo_path("profiles/local.toml")).unwrap();
    let ec_key = env.keygen("ES256", "ec.pem");
    let encrypted = env.write(
        "encrypted.pem",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n",
    );
    let malformed = env.write(
        "malformed.pem",
        "-----BEGIN PRIVATE KEY-----\nnot base64 at all!\n-----END PRIVATE KEY-----\n",
    );
    let certificate = env.write(
        "cert.pem",
        "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
    );
    let bad_toml = env.write(
        "bad.toml",
        &local.replace(
            "scope = \"openid accounts profile\"",
            "scope = openid accounts",
        ),
    );
    let typo = env.write(
        "typo.toml",
        &local.replace("max_age = 3600", "max_agee = 3600"),
    );
    let bad_pack = env.write(
        "badpack.toml",
        &local.replace("pack = \"my-account-access\"", "pack = \"no-such-pack\""),
    );
    let bad_perm = env.write(
        "badperm.toml",
        &local.replace(
            "\"read_balances\", \"read_transactions\"",
            "\"read_balances\", \"read_minds\"",
        ),
    );
    let scope_line = local.lines().position(|l| l.starts_with("scope")).unwrap() + 1;
    let perm_line = local
        .lines()
        .position(|l| l.starts_with("permissions"))
        .unwrap()
        + 1;
    let pack_line = local.lines().position(|l| l.starts_with("pack =")).unwrap() + 1;

    let s = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    let cases: Vec<(Vec<String>, Vec<String>)> = vec![
        (
            vec!["--key".into(), s(&env.path("missing.pem"))],
            vec!["--key".into(), "does not exist".into()],
        ),
        (
            vec!["--key".into(), s(&malformed)],
            vec![s(&malformed), "bad PEM".into()],
        ),
        (
            vec!["--key".into(), s(&encrypted)],
            vec![s(&encrypted), "encrypted".into(), "openssl pkey".into()],
        ),
        (
            vec!["--key".into(), s(&certificate)],
            vec!["certificate, not a private key".into()],
        ),
        (
            vec!["--key".into(), s(&ec_key)],
            vec!["EC P-256".into(), "cannot sign PS256".into()],
        ),
        (
            vec!["--profile".into(), s(&bad_toml)],
            vec![
                format!("{}:{scope_line}", s(&bad_toml)),
                "malformed profile".into(),
            ],
        ),
        (
            vec!["--profile".into(), s(&typo)],
            vec![s(&typo), "max_agee".into()],
        ),
        (
            vec!["--profile".into(), s(&bad_perm)],
            vec![
                format!("{}:{perm_line}", s(&bad_perm)),
                "consent.permissions".into(),
                "read_minds".into(),
            ],
        ),
        (
            vec!["--profile".into(), s(&bad_pack)],
            vec![
                format!("{}:{pack_line}", s(&bad_pack)),
                "consent.pack".into(),
                "unknown consent pack".into(),
                "my-account-access".into(),
            ],
        ),
        (
            vec!["--permission".into(), "read_minds".into()],
            vec!["--permission".into(), "read_balances".into()],
        ),
        (
            vec!["--expiration".into(), "next tuesday".into()],
            vec!["--expiration".into(), "RFC 3339".into()],
        ),
        (
            vec![
                "--set".into(),
                "from_date=yesterday".into(),
                "--profile".into(),
                "local-uae".into(),
            ],
            vec!["--set".into(), "not a date".into()],
        ),
        (
            vec!["--set".into(), "colour=blue".into()],
            vec!["no field \"colour\"".into()],
        ),
        (
            vec!["--profile".into(), "no-such-profile".into()],
            vec!["no profile named".into(), "local-uae".into()],
        ),
        (
            vec!["--profile".into(), "ozone-mya-sandbox".into()],
            vec![
                "ozone-mya-sandbox".into(),
                "signing.key".into(),
                "--key".into(),
            ],
        ),
    ];
    for (args, expected) in cases {
        let mut full = vec!["build".to_owned()];
        if !args.contains(&"--profile".to_owned()) {
            full.extend(["--profile".to_owned(), "local".to_owned()]);
        }
        full.extend(args.clone());
        let out = env.cmd().args(&full).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(err.contains("hint: "), "{args:?}: {err}");
        for e in expected {
            assert!(err.contains(&e), "{args:?}: expected {e:?} in {err}");
        }
    }
}

#[test]
fn openssl_made_keys_in_legacy_formats_load() {
    let env = TestEnv::new();
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(env.work.path())
            .output();
        let out = out.expect("openssl is needed for this test (tests/run installs it)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // PKCS#1 RSA and SEC1 EC, as older tooling writes them.
    openssl(&["genrsa", "-traditional", "-out", "rsa1.pem", "2048"]);
    openssl(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-out",
        "sec1.pem",
    ]);
    let rsa1 = std::fs::read_to_string(env.path("rsa1.pem")).unwrap();
    assert!(rsa1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let sec1 = std::fs::read_to_string(env.path("sec1.pem")).unwrap();
    assert!(
        sec1.contains("-----BEGIN EC PARAMETERS-----")
            && sec1.contains("-----BEGIN EC PRIVATE KEY-----")
    );
    let report = env.json(&["build", "--profile", "local", "--json", "--key", "rsa1.pem"]);
    assert_eq!(report["request_header"]["alg"], "PS256");
    let profile = std::fs::read_to_string(common::repo_path("profiles/local.toml"))
        .unwrap()
        .replace("key = \"demo\"", "key = \"sec1.pem\"")
        .replace("alg = \"PS256\"", "alg = \"ES256\"");
    let path = env.write("ec.toml", &profile);
    let report = env.json(&["build", "--profile", path.to_str().unwrap(), "--json"]);
    assert_eq!(report["request_header"]["alg"], "ES256");

    openssl(&["genrsa", "-out", "small.pem", "1024"]);
    let out = env.run(&["build", "--profile", "local", "--key", "small.pem"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("at least 2048"), "{}", stderr(&out));
}

/// A private RSA JWK, its members read from an openssl key, pushed through the refusals a key
/// can meet (wrong alg, damaged members, an ambiguous JWK Set): no private member reaches stderr.
#[test]
fn private_jwk_members_never_reach_error_messages() {
    let env = TestEnv::new();
    let out = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-outform",
            "DER",
        ])
        .output()
        .expect("openssl");
    assert!(out.status.success());
    let text = std::process::Command::new("openssl")
        .args(["pkey", "-inform", "DER", "-noout", "-text"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(&out.stdout)?;
            child.wait_with_output()
        })
        .unwrap();
    let dump = String::from_utf8_lossy(&text.stdout).into_owned();
    let member = |name: &str| -> Vec<u8> {
        let start = dump
            .find(&format!("{name}:"))
            .unwrap_or_else(|| panic!("{name} in {dump}"));
        let hex: String = dump[start + name.len() + 1..]
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with(' '))
            .flat_map(|l| l.trim().split(':').map(str::to_owned).collect::<Vec<_>>())
            .collect();
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let lead = bytes.iter().position(|b| *b != 0).unwrap_or(0);
        bytes[lead..].to_vec()
    };
    use base64::Engine;
    let b64 = |b: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let jwk = serde_json::json!({
        "kty": "RSA", "kid": "mine",
        "n": b64(member("modulus")), "e": "AQAB",
        "d": b64(member("privateExponent")), "p": b64(member("prime1")), "q": b64(member("prime2")),
        "dp": b64(member("exponent1")), "dq": b64(member("exponent2")), "qi": b64(member("coefficient")),
    });
    let secrets: Vec<String> = ["d", "p", "q", "dp", "dq", "qi"]
        .iter()
        .map(|m| jwk[m].as_str().unwrap()[..16].to_owned())
        .collect();
    let path = env.write("key.jwk.json", &jwk.to_string());
    // It signs: the JWK is right.
    let ok = env.json(&[
        "build",
        "--profile",
        "local",
        "--json",
        "--key",
        path.to_str().unwrap(),
    ]);
    assert_eq!(ok["request_header"]["kid"], "mine");
    let mut damaged = jwk.clone();
    damaged["q"] = serde_json::json!(jwk["p"]);
    let set = serde_json::json!({"keys": [jwk.clone(), jwk.clone()]});
    let wrong_alg = env.write(
        "ec-alg.toml",
        &std::fs::read_to_string(common::repo_path("profiles/local.toml"))
            .unwrap()
            .replace("key = \"demo\"", &format!("key = \"{}\"", path.display()))
            .replace("alg = \"PS256\"", "alg = \"ES256\""),
    );
    let damaged_path = env.write("damaged.json", &damaged.to_string());
    let set_path = env.write("set.json", &set.to_string());
    let runs = [
        env.run(&["build", "--profile", wrong_alg.to_str().unwrap()]),
        env.run(&[
            "build",
            "--profile",
            "local",
            "--key",
            damaged_path.to_str().unwrap(),
        ]),
        env.run(&[
            "build",
            "--profile",
            "local",
            "--key",
            set_path.to_str().unwrap(),
        ]),
    ];
    for out in runs {
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let err = stderr(&out);
        for secret in &secrets {
            assert!(
                !err.contains(secret.as_str()),
                "a private member leaked: {err}"
            );
        }
    }
}

#[test]
fn secrets_stay_out_of_errors() {
    let env = TestEnv::new();
    let key = env.keygen("PS256", "k.pem");
    let pem = std::fs::read_to_string(&key).unwrap();
    let body_line = pem.lines().nth(3).unwrap();
    // A key that fits no alg in the profile: the error must not echo key material.
    let profile = std::fs::read_to_string(common::repo_path("profiles/local.toml"))
        .unwrap()
        .replace("key = \"demo\"", "key_env = \"MY_KEY\"")
        .replace("alg = \"PS256\"", "alg = \"ES256\"");
    let path = env.write("env.toml", &profile);
    let out = env
        .cmd()
        .args(["build", "--profile", path.to_str().unwrap()])
        .env("MY_KEY", &pem)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("environment variable MY_KEY"), "{err}");
    assert!(!err.contains(body_line), "{err}");
    let missing = env.run(&["build", "--profile", path.to_str().unwrap()]);
    assert!(stderr(&missing).contains("MY_KEY is not set"));
}
