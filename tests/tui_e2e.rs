//! The TUI end to end, driven in tmux (send-keys, capture-pane) on the real binary: toggle a
//! permission and see the JAR change, submit to the embedded server, watch the countdown go
//! down, copy the request_uri over OSC 52 (tmux keeps it: set-clipboard on, no DISPLAY), save
//! a profile, restart on it and find the edit.

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn new() -> Tmux {
        // One tmux server per test: the tests of this file run at once in one process.
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let socket = format!("ce-e2e-{}-{n}", std::process::id());
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
        self.start_command(&tui_command(env, args));
    }

    /// A session of 160x45 running `command` (the TUI, or a shell to start it from).
    fn start_command(&self, command: &str) {
        self.run(&[
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            "160",
            "-y",
            "45",
            command,
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
        self.wait_until(&format!("{what:?}"), |screen| screen.contains(what))
    }

    /// The screen once `ready` holds for it; fails after 20 s naming `what` and the screen.
    fn wait_until(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < until,
                "{what} never appeared; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A tmux format of the pane, e.g. `#{alternate_on}`.
    fn pane_format(&self, format: &str) -> String {
        self.run(&["display-message", "-p", "-t", "e2e", format])
            .trim()
            .to_owned()
    }

    /// Types a command line into the shell in the pane and runs it.
    fn type_line(&self, line: &str) {
        self.run(&["send-keys", "-t", "e2e", "-l", line]);
        self.keys(&["Enter"]);
    }

    /// Pastes `bytes` as a terminal would (bracketed, when the program asked for it).
    fn paste(&self, bytes: &[u8]) {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), bytes).unwrap();
        let path = file.path().to_str().unwrap();
        self.run(&["load-buffer", "-b", "paste", path]);
        self.run(&["paste-buffer", "-p", "-d", "-b", "paste", "-t", "e2e"]);
    }

    fn resize(&self, width: u16, height: u16) {
        let (width, height) = (width.to_string(), height.to_string());
        self.run(&["resize-window", "-t", "e2e", "-x", &width, "-y", &height]);
    }

    fn wait_gone(&self) {
        let until = Instant::now() + Duration::from_secs(10);
        while !self.gone() {
            assert!(Instant::now() < until, "the TUI did not end");
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

/// The shell command that runs the TUI on the test's own dirs, with no clipboard display.
fn tui_command(env: &common::TestEnv, args: &str) -> String {
    format!(
        "env -u DISPLAY -u WAYLAND_DISPLAY CONSENT_EXPLORER_CONFIG_DIR={} CONSENT_EXPLORER_DATA_DIR={} {} {args}",
        env.config.path().display(),
        env.data.path().display(),
        env!("CARGO_BIN_EXE_consent-explorer")
    )
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
    // Gone from the consent: the only line left that names it is the removal, marked `-`.
    assert!(
        after
            .lines()
            .filter(|l| l.contains("\"read_accounts\""))
            .all(|l| l.contains("│-           \"read_accounts\",")),
        "{after}"
    );
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
    tmux.wait_gone();
    tmux.start(&env, "tui --profile e2e-saved");
    let again = tmux.wait_for("profile e2e-saved");
    assert!(again.contains("[ ] read_accounts"), "{again}");
    assert!(again.contains("[x] read_balances"), "{again}");
}

#[test]
fn the_consent_is_on_the_first_screen_and_a_toggle_shows_without_scrolling() {
    let env = common::TestEnv::new();
    let tmux = Tmux::new();
    tmux.start(&env, "");
    let first = tmux.wait_for("Request object (JAR)");
    // No key pressed: the whole consent and the whole assertion are in view.
    for line in [
        "\"authorization_details\": [",
        "\"consent_purpose\": \"pfm\",",
        "\"read_transactions\"",
        "\"expiration_datetime\":",
        "\"jti\":",
        "\"iat\":",
    ] {
        assert!(
            first.contains(line),
            "{line} not on the first screen:\n{first}"
        );
    }
    // Toggle read_balances off in the editor: its line is marked in the JAR and the footer
    // names the change, without touching the JAR pane.
    tmux.keys(&["Down", "Down", "Down", "Down", "Space"]);
    let after = tmux.wait_for("permissions: - read_balances");
    assert!(after.contains("[ ] read_balances"), "{after}");
    assert!(
        after.contains("│-           \"read_balances\","),
        "the removal is marked in the gutter:\n{after}"
    );
    assert!(after.contains("\"read_transactions\""), "{after}");
    // Purpose: one more field, one changed line, named with both values.
    tmux.keys(&["Up", "Up", "Right"]);
    let purpose = tmux.wait_for("consent_purpose: \"pfm\" →");
    assert!(
        purpose.contains("│~         \"consent_purpose\":"),
        "{purpose}"
    );
    tmux.keys(&["q", "y"]);
    tmux.wait_gone();
}

/// The deliberate panic exists in debug builds only.
#[cfg(debug_assertions)]
#[test]
fn a_panic_gives_the_terminal_back_to_the_shell() {
    use consent_explorer::tui::PANIC_AFTER_FIRST_FRAME_ENV;
    let env = common::TestEnv::new();
    let tmux = Tmux::new();
    tmux.start_command("env PS1='ready> ' sh");
    tmux.wait_for("ready>");
    tmux.type_line(&format!(
        "RUST_BACKTRACE=0 {PANIC_AFTER_FIRST_FRAME_ENV}=1 {}; echo EXIT=$?",
        tui_command(&env, "")
    ));
    let after = tmux.wait_for("EXIT=101");
    assert!(
        after.contains("deliberate panic after the first frame"),
        "the panic message is shown: {after}"
    );
    assert_eq!(
        tmux.pane_format("#{alternate_on}"),
        "0",
        "alternate screen left"
    );
    assert_eq!(
        tmux.pane_format("#{mouse_any_flag}"),
        "0",
        "mouse capture off"
    );

    // In raw mode Enter would never run this line: its output proves the shell reads lines.
    tmux.type_line(
        "stty -a | tr ' ' '\\n' | grep -x -e -icanon -e icanon -e -echo -e echo; echo MARK-$((40+2))",
    );
    let screen = tmux.wait_for("MARK-42");
    let modes: Vec<&str> = screen
        .lines()
        .map(str::trim)
        .filter(|l| ["icanon", "-icanon", "echo", "-echo"].contains(l))
        .collect();
    assert_eq!(modes, ["icanon", "echo"], "{screen}");
}

#[test]
fn a_resize_storm_redraws_to_the_final_size_and_keys_still_work() {
    let env = common::TestEnv::new();
    let tmux = Tmux::new();
    tmux.start(&env, "");
    let before = tmux.wait_until("the full first frame", |s| {
        s.contains("Request object (JAR)") && s.contains("q quit")
    });

    // A tiny terminal gets the short message, all of it, and nothing of the panes.
    tmux.resize(20, 5);
    let tiny = tmux.wait_for("Terminal too small");
    assert!(tiny.contains("20x5, needs 60x16"), "{tiny}");
    assert!(tiny.contains("q quits"), "{tiny}");
    assert!(!tiny.contains('│') && !tiny.contains("JAR"), "{tiny}");

    let sizes = [
        (100, 30),
        (20, 5),
        (60, 16),
        (59, 15),
        (140, 32),
        (139, 31),
        (30, 8),
        (200, 60),
        (80, 24),
        (21, 6),
        (45, 12),
    ];
    for _ in 0..3 {
        for (width, height) in sizes {
            tmux.resize(width, height);
        }
    }
    tmux.resize(160, 45);
    // Nothing but the size changed, so the final frame is the first one again.
    tmux.wait_until("the first frame, redrawn at 160x45", |s| s == before);
    assert!(!tmux.gone(), "the TUI survived");

    tmux.keys(&["Down"]);
    tmux.wait_for("▶ Data provider id");
    tmux.keys(&["q"]);
    tmux.wait_gone();
}

#[test]
fn pasted_text_goes_into_the_field_or_is_refused_with_a_reason() {
    let env = common::TestEnv::new();
    let tmux = Tmux::new();
    tmux.start(&env, "");
    tmux.wait_for("Request object (JAR)");
    tmux.keys(&["Enter", "C-u"]);
    tmux.wait_for("Data consumer id*: ▏");

    // An OSC 52 clipboard write inside a paste: refused whole, named, the field unchanged.
    tmux.paste(b"x\x1b]52;c;aGk=\x07y");
    let screen = tmux.wait_for("not pasted");
    assert!(screen.contains("\\u{1b}"), "{screen}");
    assert!(screen.contains("Data consumer id*: ▏"), "{screen}");

    tmux.paste(b"ab\xff\xfe\xc3cd");
    tmux.wait_for("not UTF-8");

    // Printable text is typed in, and the line break a copied line brings is dropped.
    tmux.paste("pasted-é-ok\n".as_bytes());
    tmux.wait_for("Data consumer id*: pasted-é-ok▏");
    tmux.keys(&["Enter"]);
    tmux.wait_for("[modified");

    // Outside a field a paste never runs as keys (s submits, q quits).
    tmux.paste(b"sq");
    let screen = tmux.wait_for("Nothing to paste into");
    assert!(!screen.contains("201 in"), "{screen}");
    assert!(!tmux.gone(), "the paste did not quit");

    // The save dialog's name field refuses a tab.
    tmux.keys(&["w", "C-u"]);
    tmux.paste(b"name\twith-tab");
    let screen = tmux.wait_for("not pasted");
    assert!(screen.contains("\\t"), "{screen}");
}

/// A panic in a background task (here a submit) is no crash: the UI stays on a raw terminal,
/// nothing is printed over it, and the request ends as a failure that says why.
#[cfg(debug_assertions)]
#[test]
fn a_panic_in_a_submit_ends_that_request_not_the_ui() {
    use consent_explorer::tui::PANIC_IN_SUBMIT_ENV;
    let env = common::TestEnv::new();
    let tmux = Tmux::new();
    tmux.start_command(&format!(
        "RUST_BACKTRACE=0 {PANIC_IN_SUBMIT_ENV}=1 {}",
        tui_command(&env, "")
    ));
    tmux.wait_for("Request object (JAR)");
    tmux.keys(&["s"]);
    let screen = tmux.wait_for("stopped without an answer: deliberate panic in a submit");
    assert!(!screen.contains("panicked at"), "{screen}");
    assert_eq!(tmux.pane_format("#{alternate_on}"), "1", "{screen}");

    tmux.keys(&["Down"]);
    tmux.wait_for("▶ Data provider id");
    tmux.keys(&["q"]);
    tmux.wait_gone();
}

/// The whole loop in the TUI against the embedded sandbox, no browser: push, approve here,
/// the tokens shown (redacted) with the consent, then R refreshes them.
#[test]
fn the_whole_flow_from_the_tui_approved_here_and_refreshed() {
    let env = common::TestEnv::new();
    let tmux = Tmux::new();
    tmux.start(&env, "");
    tmux.wait_for("Request object (JAR)");
    tmux.keys(&["s"]);
    let accepted = tmux.wait_for(" left ");
    assert!(accepted.contains("PAR ✓ › authorize ▸"), "{accepted}");
    tmux.keys(&["o"]);
    let authorize = tmux.wait_for("y approves here");
    assert!(authorize.contains("/authorize?client_id="), "{authorize}");
    tmux.keys(&["y"]);
    let issued = tmux.wait_for("ID token ✓ verified");
    assert!(issued.contains("token ✓"), "{issued}");
    assert!(issued.contains("status authorized"), "{issued}");
    assert!(issued.contains("access token: "), "{issued}");

    // The tokens are kept as `flow` keeps them, and shown only redacted.
    let store = env.data.path().join("tokens");
    let file = std::fs::read_dir(&store)
        .expect("a token store")
        .next()
        .expect("a token file")
        .unwrap()
        .path();
    let kept: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let access = kept["access_token"].as_str().unwrap();
    assert!(!issued.contains(access), "the access token is redacted");
    let head: String = access.chars().take(4).collect();
    assert!(
        issued.contains(&format!("access_token  {head}…")),
        "{issued}"
    );

    tmux.keys(&["R"]);
    let refreshed = tmux.wait_for("refreshed 1 time(s)");
    assert!(refreshed.contains("ID token ✓ verified"), "{refreshed}");
    let kept: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_ne!(
        kept["access_token"], access,
        "the refresh stored new tokens"
    );
    assert!(kept["refresh_token"].is_string());
    tmux.keys(&["q"]);
    tmux.wait_gone();
}

#[test]
fn the_resource_step_calls_balances_then_revokes_the_consent_and_is_refused() {
    let env = common::TestEnv::new();
    let tmux = Tmux::new();
    tmux.start(&env, "");
    tmux.wait_for("Request object (JAR)");
    tmux.keys(&["s"]);
    tmux.wait_for(" left ");
    tmux.keys(&["o"]);
    tmux.wait_for("y approves here");
    tmux.keys(&["y"]);
    tmux.wait_for("ID token ✓ verified");

    tmux.keys(&["u"]);
    let step = tmux.wait_for("Resource API:");
    assert!(step.contains("▸ accounts"), "{step}");
    tmux.keys(&["l"]);
    tmux.wait_for("▸ balances");
    tmux.keys(&["Enter"]);
    let answered = tmux.wait_for("✓ decrypted");
    for mark in [
        "200 in ",
        "x-signature (sent)",
        "✓ verified: the server accepted it",
        "Envelope (JWS)",
        "RSA-OAEP-256",
        "current_balance",
        "MYR",
    ] {
        assert!(answered.contains(mark), "{mark} in\n{answered}");
    }
    assert_eq!(
        answered.matches("✓ verified (kid").count(),
        2,
        "the envelope and the JWE each verified:\n{answered}"
    );

    tmux.keys(&["v"]);
    let consent = tmux.wait_for("consent status authorized");
    assert!(consent.contains("status_history"), "{consent}");
    tmux.keys(&["x"]);
    tmux.wait_for("y revokes, any other key keeps it");
    tmux.keys(&["y"]);
    tmux.wait_for("consent status revoked");

    tmux.keys(&["Enter"]);
    let refused = tmux.wait_for("refused: the server answered 403");
    assert!(refused.contains("consent_revoked"), "{refused}");
    assert!(refused.contains("✗ refused (403)"), "{refused}");
    tmux.keys(&["Escape", "q"]);
    tmux.wait_gone();
}
