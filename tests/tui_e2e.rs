//! The TUI end to end, driven in tmux (send-keys, capture-pane) on the real binary: toggle a
//! permission and see the JAR change, submit to the embedded server, watch the countdown go
//! down, copy the request_uri over OSC 52 (tmux keeps it: set-clipboard on, no DISPLAY), save
//! a profile, restart on it and find the edit.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn new() -> Tmux {
        let socket = format!("ce-e2e-{}", std::process::id());
        Tmux { socket }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("tmux");
        command
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args);
        command
    }

    fn output(&self, args: &[&str]) -> std::process::Output {
        self.command(args)
            .output()
            .expect("tmux is needed for this test (tests/run installs it)")
    }

    /// One tmux command; when tmux itself fails (no session, a bad key name, no server) the
    /// test stops here naming the command, not 20 s later on a screen that never changes.
    fn run(&self, args: &[&str]) -> String {
        let out = self.output(args);
        assert!(
            out.status.success(),
            "tmux {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn start(&self, env: &common::TestEnv, args: &str) {
        let command = format!(
            "env -u DISPLAY -u WAYLAND_DISPLAY CONSENT_EXPLORER_CONFIG_DIR={} CONSENT_EXPLORER_DATA_DIR={} {} {args}",
            env.config.path().display(),
            env.data.path().display(),
            env!("CARGO_BIN_EXE_consent-explorer")
        );
        self.run(&[
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            "160",
            "-y",
            "45",
            &command,
            // The same tmux command: the option is set before any key can reach the TUI.
            ";",
            "set-option",
            "-g",
            "set-clipboard",
            "on",
        ]);
    }

    fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.run(&["send-keys", "-t", "e2e", key]);
        }
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "e2e"])
    }

    fn wait_for(&self, what: &str) -> String {
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen();
            if screen.contains(what) {
                return screen;
            }
            assert!(
                Instant::now() < until,
                "{what:?} never appeared; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn gone(&self) -> bool {
        let out = self.output(&["has-session", "-t", "e2e"]);
        // has-session answers 1 when the session, or the whole server, has ended.
        match out.status.code() {
            Some(0) => false,
            Some(1) => true,
            _ => panic!(
                "tmux has-session -t e2e failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // Unchecked: the server may have ended with the session, and a panic here would
        // abort over the test's own failure message.
        let _ = self.command(&["kill-server"]).output();
    }
}

/// The seconds left in the countdown line "01:29 left".
fn seconds_left(screen: &str) -> u32 {
    let at = screen.find(" left ").expect("a countdown");
    let clock = &screen[at - 5..at];
    clock[..2].parse::<u32>().unwrap() * 60 + clock[3..].parse::<u32>().unwrap()
}

#[test]
fn the_tui_end_to_end_in_tmux() {
    let env = common::TestEnv::new();
    let tmux = Tmux::new();
    tmux.start(&env, "");
    tmux.wait_for("Request object (JAR)");

    // The JAR pane scrolled to the consent shows read_accounts...
    tmux.keys(&["2", "PageDown", "PageDown"]);
    let before = tmux.wait_for("\"read_accounts\"");
    assert!(before.contains("\"read_balances\""));
    // ...until it is toggled off in the editor: the preview is re-signed at once.
    tmux.keys(&["1", "Down", "Down", "Down", "Space"]);
    let after = tmux.wait_for("[ ] read_accounts");
    assert!(!after.contains("\"read_accounts\""), "{after}");
    assert!(after.contains("\"read_balances\""), "{after}");
    assert!(after.contains("[modified"), "{after}");

    // Submit to the in-process sandbox server; the countdown goes down.
    tmux.keys(&["s"]);
    let first = tmux.wait_for(" left ");
    assert!(first.contains("201 in"), "{first}");
    let start_left = seconds_left(&first);
    std::thread::sleep(Duration::from_millis(2500));
    let later = seconds_left(&tmux.screen());
    assert!(
        later < start_left && later + 5 > start_left,
        "{start_left} then {later}"
    );

    // Copy the request_uri: OSC 52, kept by tmux.
    tmux.keys(&["c"]);
    tmux.wait_for("Copied the request_uri to OSC 52");
    let copied = tmux.run(&["show-buffer"]);
    assert!(
        copied.starts_with("urn:ietf:params:oauth:request_uri:"),
        "{copied:?}"
    );
    assert!(
        tmux.screen().contains(copied.trim()),
        "the copied request_uri is the one shown"
    );

    // Save as a profile, quit, restart on it: the edit is there.
    tmux.keys(&["w", "C-u"]);
    tmux.run(&["send-keys", "-t", "e2e", "-l", "e2e-saved"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("Saved to");
    assert!(env.config.path().join("profiles/e2e-saved.toml").exists());
    tmux.keys(&["q"]);
    let until = Instant::now() + Duration::from_secs(10);
    while !tmux.gone() {
        assert!(Instant::now() < until, "q did not quit");
        std::thread::sleep(Duration::from_millis(100));
    }
    tmux.start(&env, "tui --profile e2e-saved");
    let again = tmux.wait_for("profile e2e-saved");
    assert!(again.contains("[ ] read_accounts"), "{again}");
    assert!(again.contains("[x] read_balances"), "{again}");
}
