//! Runs the real binary with its own config and data dirs, so tests never touch the user's.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};

use assert_cmd::Command;
use serde_json::Value;

pub struct TestEnv {
    pub config: tempfile::TempDir,
    pub data: tempfile::TempDir,
    pub work: tempfile::TempDir,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        TestEnv {
            config: tempfile::tempdir().unwrap(),
            data: tempfile::tempdir().unwrap(),
            work: tempfile::tempdir().unwrap(),
        }
    }

    /// The binary, run from an empty folder (so ./profiles/ is not the repo's).
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_consent-explorer"));
        cmd.env("CONSENT_EXPLORER_CONFIG_DIR", self.config.path())
            .env("CONSENT_EXPLORER_DATA_DIR", self.data.path())
            .current_dir(self.work.path());
        cmd
    }

    pub fn cmd(&self) -> Command {
        Command::from_std(self.std_cmd())
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `consent-explorer COMMAND ARGS` (`sandbox` or its alias `local-as`) in the foreground,
    /// with the issuer read from its banner.
    pub fn start_sandbox(&self, command: &str, args: &[&str]) -> SandboxProcess {
        let mut child = self
            .std_cmd()
            .arg(command)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let issuer = loop {
            let line = lines
                .next()
                .expect("the sandbox printed its issuer")
                .unwrap();
            if let Some(rest) = line.trim().strip_prefix("issuer") {
                break rest.trim().to_owned();
            }
        };
        // Keep reading so a full pipe never blocks the server.
        std::thread::spawn(move || lines.for_each(drop));
        SandboxProcess { child, issuer }
    }

    /// The `local` profile signing with a new PS256 key, written as `trusted.toml`: what a
    /// foreground `sandbox --trust` and a profile pointing at it share. The profile's text too.
    pub fn trusted_local(&self) -> (PathBuf, String) {
        let key_path = self.keygen("PS256", "client.pem");
        let local = std::fs::read_to_string(repo_path("profiles/local.toml"))
            .unwrap()
            .replace(
                "key = \"demo\"",
                &format!("key = \"{}\"", key_path.display()),
            );
        (self.write("trusted.toml", &local), local)
    }

    /// A foreground sandbox trusting `trusted.toml` (see `trusted_local`), and that profile's
    /// text, for profiles of the same client and key pointing at the sandbox.
    pub fn sandbox_trusting_local(&self) -> (SandboxProcess, String) {
        let (trusted, local) = self.trusted_local();
        let server = self.start_sandbox(
            "sandbox",
            &["--port", "0", "--trust", trusted.to_str().unwrap()],
        );
        (server, local)
    }

    /// A new key of `alg` made by the binary's own keygen.
    pub fn keygen(&self, alg: &str, name: &str) -> PathBuf {
        let path = self.path(name);
        let out = self.run(&["keygen", "--alg", alg, "--out", path.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        path
    }
}

/// A sandbox process, killed when dropped.
pub struct SandboxProcess {
    child: Child,
    pub issuer: String,
}

impl SandboxProcess {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every file below `dir`, with its bytes.
pub fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            let bytes = std::fs::read(&path).unwrap();
            out.push((path, bytes));
        }
    }
    out
}

/// `CONSENT_EXPLORER_PYTHON`, else the venv `tests/run` makes, else python3.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("CONSENT_EXPLORER_PYTHON") {
        return p.into();
    }
    let venv = repo_path(".venv/bin/python");
    if venv.exists() {
        venv
    } else {
        "python3".into()
    }
}

pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}
