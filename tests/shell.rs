//! Shell integration: completion scripts for four shells and the man page, generated from the
//! parser's own definition.

mod common;

#[test]
fn completions_for_each_shell_know_the_commands_and_flags() {
    let env = common::TestEnv::new();
    for (shell, marker) in [
        ("bash", "complete -F _consent__explorer"),
        ("zsh", "#compdef consent-explorer"),
        ("fish", "complete -c consent-explorer"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = env.run(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains(marker), "{shell}: no {marker}");
        for word in ["build", "submit", "compare-sample", "manpage"] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
    }
    // The bash script parses.
    let script = env.run(&["completions", "bash"]).stdout;
    let path = env.write("ce.bash", &String::from_utf8(script).unwrap());
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .status()
        .unwrap();
    assert!(check.success());
    let bad = env.run(&["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("possible values"));
}

#[test]
fn the_man_page_is_roff_with_every_command() {
    let env = common::TestEnv::new();
    let out = env.run(&["manpage"]);
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains(".TH consent-explorer 1"), "{page}");
    for command in ["build", "submit", "flow", "completions", "manpage"] {
        assert!(page.contains(command), "the man page lacks {command}");
    }
}

#[test]
fn manpage_dir_writes_a_page_for_every_command_with_its_options() {
    let env = common::TestEnv::new();
    let dir = env.path("man1");
    let out = env.run(&["manpage", "--dir", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    for page in [
        "consent-explorer.1",
        "consent-explorer-flow.1",
        "consent-explorer-call.1",
        "consent-explorer-history-export.1",
    ] {
        assert!(dir.join(page).is_file(), "{page} missing");
    }
    let flow = std::fs::read_to_string(dir.join("consent-explorer-flow.1")).unwrap();
    assert!(
        flow.contains("no\\-browser"),
        "the flow page lists its options: {flow}"
    );
}
