//! panva's oidc-provider (tests/interop/server.mjs, pinned by its lock file) started on
//! 127.0.0.1 for one test, and stopped when dropped.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use consent_explorer::core::request::Endpoints;
use serde_json::Value;

pub const CLIENT_ID: &str = "consent-explorer-demo";
pub const REDIRECT_URI: &str = "http://127.0.0.1:8080/callback";

pub fn interop_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop"))
}

/// `npm ci` from the lock file when the pinned oidc-provider is not installed yet.
fn install_oidc_provider() {
    if interop_dir()
        .join("node_modules/oidc-provider/package.json")
        .exists()
    {
        return;
    }
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(interop_dir())
        .output()
        .expect("npm is needed for the interop tests (Node 20+)");
    assert!(
        out.status.success(),
        "npm ci failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub struct OidcProvider {
    child: Child,
    pub endpoints: Endpoints,
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server trusting the public keys at `jwks_path`, with `extra` flags (`--auto-approve`).
pub fn start(jwks_path: &Path, extra: &[&str]) -> OidcProvider {
    install_oidc_provider();
    // Seen once on a loaded machine: node hung before listening, and the test with it. A
    // bounded wait and a fresh process instead.
    for _attempt in 0..3 {
        let mut child = Command::new("node")
            .arg(interop_dir().join("server.mjs"))
            .args([
                "--port",
                "0",
                "--client-id",
                CLIENT_ID,
                "--redirect-uri",
                REDIRECT_URI,
            ])
            .args(extra)
            .arg("--jwks")
            .arg(jwks_path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node is needed for the interop tests");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        match rx.recv_timeout(STARTUP_WAIT) {
            Ok(line) => return ready(child, &line),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
    panic!("oidc-provider did not print its address within {STARTUP_WAIT:?}, three times");
}

const STARTUP_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

fn ready(child: Child, line: &str) -> OidcProvider {
    let ready: Value = serde_json::from_str(line)
        .unwrap_or_else(|_| panic!("oidc-provider did not start: {line:?}"));
    let s = |k: &str| ready[k].as_str().unwrap().to_owned();
    OidcProvider {
        endpoints: Endpoints {
            issuer: s("issuer"),
            par: Some(s("par_endpoint")),
            authorization: Some(s("authorization_endpoint")),
            token: Some(s("token_endpoint")),
        },
        child,
    }
}
