//! Saving over a profile from the TUI: the keys a user presses, the shell's save, and the
//! file afterwards, with its comments.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rand::SeedableRng;

use super::app::{App, Effect, Message, Row};
use super::save_in;
use crate::core::keys::SigningKey;
use crate::core::profile;
use crate::core::session::Session;

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(Message::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

#[test]
fn saving_over_a_profile_keeps_its_comments() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    let text = profile::BUILTIN_PROFILES[0]
        .1
        .replace("name = \"local\"", "name = \"mine\"")
        .replace("key = \"demo\"", "key = \"demo\" # prod key, do not change");
    std::fs::write(&path, &text).unwrap();
    let (key, _) = SigningKey::generate(jsonwebtoken::Algorithm::EdDSA).unwrap();
    let session = Session::builtin_with_key("local", key).unwrap();
    let mut app = App::new(
        Arc::new(session),
        Box::new(|| "2026-01-30T10:00:00Z".parse().unwrap()),
        Box::new(rand::rngs::StdRng::seed_from_u64(7)),
    );
    app.profile = profile::load_file(&path).unwrap();

    // Untick the first userinfo claim ("name"), then w, the name, Enter, and Enter again.
    app.cursor = app
        .rows
        .iter()
        .position(|r| *r == Row::Userinfo(0))
        .unwrap();
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char('w'));
    for _ in 0.."mine-edited".len() {
        press(&mut app, KeyCode::Backspace);
    }
    for c in "mine".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    for confirmed in [false, true] {
        let effects = press(&mut app, KeyCode::Enter);
        let [Effect::Save { name, replace }] = effects.as_slice() else {
            panic!("{effects:?}")
        };
        assert_eq!(*replace, confirmed);
        let answer = save_in(dir.path(), &app, name.clone(), *replace);
        app.update(answer);
    }
    assert!(!app.dirty, "{:?}", app.notice);
    let saved = std::fs::read_to_string(&path).unwrap();
    let expected = text.replace(r#"claims = ["name", "email","#, r#"claims = ["email","#);
    assert_ne!(expected, text);
    assert_eq!(saved, expected);
}
