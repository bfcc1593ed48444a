//! Mutual TLS on loopback: a TLS server that requires a client certificate, with test
//! certificates made here (rcgen). The identity is presented and accepted; without it, or with
//! an untrusted server certificate, a clear TLS error and exit 3 (unless --insecure for the
//! latter).

mod common;

use std::sync::Arc;

use common::{TestEnv, stderr, stdout};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::Value;

struct Pki {
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: Vec<u8>,
    client_cert_pem: String,
    client_cert_der: Vec<u8>,
    client_key_pem: String,
    client_key_der: Vec<u8>,
}

fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "consent-explorer test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();

    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let mut client_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    client_params
        .distinguished_name
        .push(DnType::CommonName, "consent-explorer test client");
    let client = client_params.signed_by(&client_key, &ca).unwrap();
    Pki {
        ca_pem: ca.pem(),
        ca_der: ca.der().clone(),
        server_chain: vec![server.der().clone()],
        server_key: server_key.serialize_der(),
        client_cert_pem: client.pem(),
        client_cert_der: client.der().to_vec(),
        client_key_pem: client_key.serialize_pem(),
        client_key_der: client_key.serialize_der(),
    }
}

/// A PAR stand-in over mutual TLS: answers 201 and names the client certificate it saw.
async fn start_server(pki: &Pki) -> String {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca_der.clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
        .build()
        .unwrap();
    let config = rustls::ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            pki.server_chain.clone(),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server_key.clone())),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let peer = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .and_then(|c| consent_explorer::core::tls::cert_info(c.as_ref()))
                    .map(|i| i.subject)
                    .unwrap_or_default();
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let peer = peer.clone();
                    async move {
                        let id = req.headers().get("x-fapi-interaction-id").cloned();
                        let body = serde_json::json!({"request_uri": "urn:ietf:params:oauth:request_uri:mtls", "expires_in": 60, "client_certificate": peer});
                        let mut response = Response::builder()
                            .status(201)
                            .header("content-type", "application/json");
                        if let Some(id) = id {
                            response = response.header("x-fapi-interaction-id", id);
                        }
                        Ok::<_, std::convert::Infallible>(
                            response
                                .body(Full::new(Bytes::from(body.to_string())))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    format!("https://127.0.0.1:{port}")
}

fn profile(env: &TestEnv, name: &str, issuer: &str, tls: &str) -> String {
    let text = std::fs::read_to_string(common::repo_path("profiles/local.toml"))
        .unwrap()
        .replace("target = \"embedded\"", &format!("issuer = \"{issuer}\"\npar_endpoint = \"{issuer}/par\"\nauthorization_endpoint = \"{issuer}/authorize\""));
    env.write(&format!("{name}.toml"), &format!("{text}\n[tls]\n{tls}\n"))
        .to_str()
        .unwrap()
        .to_owned()
}

/// `submit --profile P --json EXTRA...` with `vars` set; the exit code must be `code`.
/// Returns the JSON answer and stderr.
fn submit_json(
    env: &TestEnv,
    profile: &str,
    extra: &[&str],
    vars: &[(&str, &str)],
    code: i32,
) -> (Value, String) {
    let out = env
        .std_cmd()
        .args(["submit", "--profile", profile, "--json"])
        .args(extra)
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    (json(&out), stderr(&out))
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("not JSON: {}{}", stdout(out), stderr(out)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_presents_the_identity_and_names_each_failure() {
    let pki = pki();
    let issuer = start_server(&pki).await;
    let env = TestEnv::new();
    env.write("ca.pem", &pki.ca_pem);
    env.write("client.pem", &pki.client_cert_pem);
    env.write("client.key", &pki.client_key_pem);

    // PEM identity + CA: accepted, and the server saw our certificate.
    let full = profile(
        &env,
        "full",
        &issuer,
        "cert = \"client.pem\"\nkey = \"client.key\"\nca = \"ca.pem\"",
    );
    let (doc, _) = submit_json(&env, &full, &[], &[], 0);
    assert_eq!(
        doc["body"]["client_certificate"],
        "CN=consent-explorer test client"
    );
    assert_eq!(
        doc["client_certificate"]["subject"],
        "CN=consent-explorer test client"
    );
    let x5t = doc["client_certificate"]["x5t#S256"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        x5t,
        consent_explorer::core::tls::cert_info(&pki.client_cert_der)
            .unwrap()
            .x5t_s256
    );
    let human = env.run(&["submit", "--profile", &full]);
    assert!(
        stdout(&human).contains("Client certificate: subject CN=consent-explorer test client"),
        "{}",
        stdout(&human)
    );

    // The same identity from a PKCS#12 bundle, passphrase from the environment.
    let mut store = p12_keystore::KeyStore::new();
    let chain = p12_keystore::PrivateKeyChain::new(
        b"id".to_vec(),
        p12_keystore::PrivateKey::from_der(&pki.client_key_der).unwrap(),
        vec![p12_keystore::Certificate::from_der(&pki.client_cert_der).unwrap()],
    );
    store.add_entry(
        "client",
        p12_keystore::KeyStoreEntry::PrivateKeyChain(chain),
    );
    std::fs::write(
        env.path("client.p12"),
        store.writer("s3cret").write().unwrap(),
    )
    .unwrap();
    let p12 = profile(
        &env,
        "p12",
        &issuer,
        "pkcs12 = \"client.p12\"\npkcs12_password_env = \"TEST_P12_PASSWORD\"\nca = \"ca.pem\"",
    );
    let (doc, _) = submit_json(&env, &p12, &[], &[("TEST_P12_PASSWORD", "s3cret")], 0);
    assert_eq!(
        doc["body"]["client_certificate"],
        "CN=consent-explorer test client"
    );
    let wrong = env
        .cmd()
        .args(["submit", "--profile", &p12])
        .env("TEST_P12_PASSWORD", "nope")
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    assert!(stderr(&wrong).contains("tls.pkcs12"), "{}", stderr(&wrong));

    // No client certificate: the server refuses the handshake: exit 3, says which side.
    let no_identity = profile(&env, "no-identity", &issuer, "ca = \"ca.pem\"");
    let (doc, _) = submit_json(&env, &no_identity, &[], &[], 3);
    assert_eq!(doc["kind"], "client_certificate", "{doc}");
    // Under TLS 1.3 the refusal comes after the handshake: the alert or a closed connection,
    // whichever the client sees first; both are named the same. Run it a few times.
    assert!(doc["hint"].as_str().unwrap().contains("CLIENT certificate"));
    for _ in 0..5 {
        let (doc, _) = submit_json(&env, &no_identity, &[], &[], 3);
        assert_eq!(doc["kind"], "client_certificate", "{doc}");
    }

    // The server's certificate is not trusted without the CA: exit 3, names the server side.
    let no_ca = profile(
        &env,
        "no-ca",
        &issuer,
        "cert = \"client.pem\"\nkey = \"client.key\"",
    );
    let (doc, _) = submit_json(&env, &no_ca, &[], &[], 3);
    assert_eq!(doc["kind"], "server_certificate", "{doc}");
    assert!(
        doc["hint"]
            .as_str()
            .unwrap()
            .contains("SERVER's certificate")
    );
    // --insecure accepts it, with a warning.
    let (_, warnings) = submit_json(&env, &no_ca, &["--insecure"], &[], 0);
    assert!(warnings.contains("NOT verified"), "{warnings}");

    // An encrypted TLS key is explained, not skipped silently.
    env.write(
        "enc.key",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n",
    );
    let enc = profile(
        &env,
        "enc",
        &issuer,
        "cert = \"client.pem\"\nkey = \"enc.key\"\nca = \"ca.pem\"",
    );
    let out = env.run(&["submit", "--profile", &enc]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("encrypted"), "{}", stderr(&out));
}
