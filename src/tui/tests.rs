//! The TUI without a terminal: update() on messages, and every screen drawn on a TestBackend
//! and compared with insta snapshots (fixed clock and rng; an Ed25519 key from the RFC 8032
//! test vector, so kid and signatures are the same every run).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::Timestamp;
use rand::SeedableRng;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::{Value, json};

use super::app::{App, Effect, Message, Overlay, Pane, RequestState, Row};
use super::keymap;
use super::view::{self, Theme};
use crate::core::consent::FieldValue;
use crate::core::keys::SigningKey;
use crate::core::profile::{self};
use crate::core::session::Session;
use crate::core::transport::{
    Body, Delivery, NetworkError, NetworkErrorKind, Outcome, ParExchange,
};

/// RFC 8032 section 7.1, test 1: a published key, not a secret.
const RFC8032_SEED: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const RFC8032_PUBLIC: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

pub(super) fn test_key() -> SigningKey {
    let jwk = json!({"kty": "OKP", "crv": "Ed25519", "d": RFC8032_SEED, "x": RFC8032_PUBLIC});
    SigningKey::from_material(
        jwk.to_string().as_bytes(),
        jsonwebtoken::Algorithm::EdDSA,
        None,
    )
    .unwrap()
}

/// A built-in profile with the test key, its sandbox at the nominal address (not started).
fn session(profile_name: &str, key: SigningKey) -> Arc<Session> {
    let session = Session::builtin_with_key(profile_name, key).unwrap();
    Arc::new(session)
}

pub(super) fn start() -> Timestamp {
    "2026-01-30T10:00:00Z".parse().unwrap()
}

pub(super) struct Fixture {
    pub(super) app: App,
    clock: Arc<Mutex<Timestamp>>,
}

impl Fixture {
    pub(super) fn new(profile_name: &str) -> Fixture {
        let key = test_key();
        let clock = Arc::new(Mutex::new(start()));
        let shared = clock.clone();
        let app = App::new(
            session(profile_name, key),
            Box::new(move || *shared.lock().unwrap()),
            Box::new(rand::rngs::StdRng::seed_from_u64(7)),
        );
        Fixture { app, clock }
    }

    /// The answer to the latest submit.
    pub(super) fn answer(&mut self, result: Result<Delivery, NetworkError>) -> Vec<Effect> {
        let id = self.app.request_id();
        self.app.update(Message::Delivered {
            id,
            result: Box::new(result),
        })
    }

    pub(super) fn key(&mut self, code: KeyCode) -> Vec<Effect> {
        self.app
            .update(Message::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    fn text(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    pub(super) fn advance(&mut self, seconds: i64) {
        let mut now = self.clock.lock().unwrap();
        *now += jiff::SignedDuration::from_secs(seconds);
    }

    /// Puts the cursor on a row.
    fn go_to(&mut self, row: Row) {
        self.app.cursor = self.app.rows.iter().position(|r| *r == row).unwrap();
    }

    fn field_row(&self, id: &str) -> Row {
        Row::Field(
            self.app
                .seed
                .pack
                .fields
                .iter()
                .position(|f| f.id == id)
                .unwrap(),
        )
    }

    fn consent(&self) -> Value {
        self.app.ticket.as_ref().unwrap().request.claims["authorization_details"][0]["consent"]
            .clone()
    }

    pub(super) fn screen(&self, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|f| {
                view::draw(f, &self.app, Theme { color: false });
            })
            .unwrap();
        format!("{}", terminal.backend())
    }
}

fn delivery(status: u16, outcome: Outcome, at: Timestamp) -> Delivery {
    let body = match &outcome {
        Outcome::Accepted {
            request_uri,
            expires_in,
            ..
        } => json!({"request_uri": request_uri, "expires_in": expires_in}),
        Outcome::Refused {
            error,
            error_description,
            ..
        } => json!({"error": error, "error_description": error_description}),
        Outcome::Unexpected { .. } => json!({}),
    };
    Delivery {
        par_endpoint: "http://127.0.0.1:9126/par".into(),
        authorization_endpoint: Some("http://127.0.0.1:9126/authorize".into()),
        exchange: ParExchange {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Body::Json(body),
            elapsed: Duration::from_micros(2400),
            received_at: at,
            interaction_id: "00000000-0000-4000-8000-000000000001".into(),
            echoed_interaction_id: Some("00000000-0000-4000-8000-000000000001".into()),
            server_date: Some(at),
            outcome,
        },
    }
}

pub(super) fn accepted(at: Timestamp) -> Delivery {
    delivery(
        201,
        Outcome::Accepted {
            request_uri: "urn:ietf:params:oauth:request_uri:00000000-0000-4000-8000-00000000abcd"
                .into(),
            expires_in: 90,
            expires_at: at + jiff::SignedDuration::from_secs(90),
        },
        at,
    )
}

#[test]
fn toggling_a_permission_changes_the_signed_request() {
    let mut f = Fixture::new("local");
    let before = f.app.ticket.as_ref().unwrap().request.compact.clone();
    let field = f
        .app
        .seed
        .pack
        .fields
        .iter()
        .position(|x| x.id == "permissions")
        .unwrap();
    f.go_to(Row::Choice(field, 0));
    f.key(KeyCode::Char(' '));
    assert_eq!(
        f.consent()["permissions"],
        json!(["read_balances", "read_transactions"])
    );
    assert!(f.app.dirty);
    assert_ne!(f.app.ticket.as_ref().unwrap().request.compact, before);
    // Toggled back: the pack's order again.
    f.key(KeyCode::Char(' '));
    assert_eq!(
        f.consent()["permissions"],
        json!(["read_accounts", "read_balances", "read_transactions"])
    );
    // All off: lint says so at once.
    for v in 0..3 {
        f.go_to(Row::Choice(field, v));
        f.key(KeyCode::Char(' '));
    }
    assert!(
        f.app
            .findings
            .iter()
            .any(|x| x.id == "consent.permissions-empty")
    );
}

#[test]
fn purpose_is_chosen_with_the_arrows() {
    let mut f = Fixture::new("local");
    let row = f.field_row("purpose");
    f.go_to(row);
    f.key(KeyCode::Right);
    assert_eq!(f.consent()["consent_purpose"], "credit_underwriting");
    f.key(KeyCode::Right);
    assert_eq!(f.consent()["consent_purpose"], "pfm");
    // An optional enum can be emptied: UAE identifier type.
    let mut u = Fixture::new("local-uae");
    let row = u.field_row("on_behalf_of.identifier_type");
    u.go_to(row);
    u.key(KeyCode::Right);
    assert_eq!(u.consent()["OnBehalfOf"]["IdentifierType"], "Other");
    u.key(KeyCode::Right);
    assert!(u.consent().get("OnBehalfOf").is_none());
}

#[test]
fn text_fields_are_validated_before_they_apply() {
    let mut f = Fixture::new("local");
    let row = f.field_row("expiration");
    f.go_to(row);
    f.key(KeyCode::Enter);
    assert!(f.app.edit.is_some());
    for _ in 0..10 {
        f.key(KeyCode::Backspace);
    }
    f.text("next week");
    f.key(KeyCode::Enter);
    let edit = f.app.edit.as_ref().expect("still editing");
    assert!(
        edit.error.as_deref().unwrap().contains("not an RFC 3339"),
        "{:?}",
        edit.error
    );
    f.key(KeyCode::Esc);
    assert!(f.app.edit.is_none());
    assert!(!f.app.dirty);

    f.key(KeyCode::Enter);
    for _ in 0..10 {
        f.key(KeyCode::Backspace);
    }
    f.text("2026-12-31T23:59:59Z");
    f.key(KeyCode::Enter);
    assert!(f.app.edit.is_none());
    assert_eq!(f.consent()["expiration_datetime"], "2026-12-31T23:59:59Z");
    assert!(f.app.dirty);

    f.go_to(Row::Lifetime);
    f.key(KeyCode::Enter);
    for _ in 0..5 {
        f.key(KeyCode::Backspace);
    }
    f.text("4000");
    f.key(KeyCode::Enter);
    let claims = &f.app.ticket.as_ref().unwrap().request.claims;
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["nbf"].as_i64().unwrap(),
        4000
    );
    assert!(f.app.findings.iter().any(|x| x.id == "request.lifetime"));
}

#[test]
fn submit_is_async_refuses_a_second_one_and_asks_when_lint_has_errors() {
    let mut f = Fixture::new("local");
    let effects = f.key(KeyCode::Char('s'));
    assert!(matches!(effects.as_slice(), [Effect::Submit { .. }]));
    assert!(matches!(f.app.request, RequestState::Loading { .. }));
    assert_eq!(f.app.tick_period(), Some(Duration::from_millis(120)));
    assert!(f.key(KeyCode::Char('s')).is_empty());
    assert!(
        f.app
            .notice
            .as_deref()
            .unwrap()
            .contains("already in flight")
    );

    f.answer(Err(NetworkError {
        kind: NetworkErrorKind::ConnectionRefused,
        message: "connection refused".into(),
        hint: "check the port".into(),
    }));
    assert!(matches!(f.app.request, RequestState::Failed(_)));
    assert_eq!(f.app.tick_period(), None);

    // With a lint error, submitting asks first; y sends anyway.
    f.app.seed.consent.insert(
        "expiration".into(),
        FieldValue::Json(json!("2020-01-01T00:00:00Z")),
    );
    assert!(f.key(KeyCode::Char('s')).is_empty());
    assert!(matches!(f.app.overlay, Overlay::ConfirmSubmit));
    assert!(matches!(
        f.key(KeyCode::Char('y')).as_slice(),
        [Effect::Submit { .. }]
    ));
}

/// Submits, then switches to another profile while the answer is still on its way.
fn submit_then_switch(f: &mut Fixture) -> Vec<Effect> {
    let first = f.key(KeyCode::Char('s'));
    f.app.update(Message::Loaded(Box::new(Ok(session(
        "local-uae",
        test_key(),
    )))));
    assert_eq!(f.app.profile.name, "local-uae");
    assert!(matches!(f.app.request, RequestState::Idle));
    first
}

fn submitted_id(effects: &[Effect]) -> super::app::RequestId {
    match effects {
        [Effect::Submit { id, .. }] => *id,
        other => panic!("expected one submit, got {other:?}"),
    }
}

#[test]
fn a_late_answer_after_a_profile_switch_is_ignored() {
    let mut f = Fixture::new("local");
    let old = submitted_id(&submit_then_switch(&mut f));
    f.app.update(Message::Delivered {
        id: old,
        result: Box::new(Ok(accepted(start()))),
    });
    assert!(matches!(f.app.request, RequestState::Idle));
    assert_eq!(f.app.notice.as_deref(), Some("Profile local-uae loaded"));
    assert_eq!(f.app.tick_period(), None);
}

#[test]
fn a_submit_after_a_switch_takes_only_its_own_answer() {
    let mut f = Fixture::new("local");
    let old = submitted_id(&submit_then_switch(&mut f));
    f.key(KeyCode::Char('s'));
    // The test key signs EdDSA, an alg the UAE pack does not allow: lint asks first.
    assert!(matches!(f.app.overlay, Overlay::ConfirmSubmit));
    let new = submitted_id(&f.key(KeyCode::Char('y')));
    assert_ne!(old, new);
    // Still one request in flight: the new one.
    assert!(f.key(KeyCode::Char('s')).is_empty());
    f.app.update(Message::Delivered {
        id: old,
        result: Box::new(Ok(accepted(start()))),
    });
    assert!(matches!(f.app.request, RequestState::Loading { .. }));
    f.app.update(Message::Delivered {
        id: new,
        result: Box::new(Err(NetworkError {
            kind: NetworkErrorKind::ConnectionRefused,
            message: "connection refused".into(),
            hint: "check the port".into(),
        })),
    });
    assert!(matches!(f.app.request, RequestState::Failed(_)));
}

#[test]
fn the_countdown_ticks_to_expired_and_copies_work() {
    let mut f = Fixture::new("local");
    assert!(f.key(KeyCode::Char('c')).is_empty());
    assert!(
        f.app
            .notice
            .as_deref()
            .unwrap()
            .contains("No request_uri yet")
    );
    f.key(KeyCode::Char('s'));
    f.answer(Ok(accepted(start())));
    assert_eq!(f.app.remaining(), Some(90));
    assert_eq!(f.app.tick_period(), Some(Duration::from_secs(1)));
    f.advance(30);
    f.app.update(Message::Tick);
    assert_eq!(f.app.remaining(), Some(60));
    let effects = f.key(KeyCode::Char('c'));
    let [Effect::Copy { what, text }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(*what, "request_uri");
    assert!(text.starts_with("urn:ietf:params:oauth:request_uri:"));
    let effects = f.key(KeyCode::Char('a'));
    let [Effect::Copy { text, .. }] = effects.as_slice() else {
        panic!()
    };
    assert!(text.starts_with(
        "http://127.0.0.1:9126/authorize?client_id=consent-explorer-demo&request_uri=urn%3A"
    ));
    f.app.focus = Pane::Assertion;
    let effects = f.key(KeyCode::Char('y'));
    let [Effect::Copy { what, text }] = effects.as_slice() else {
        panic!()
    };
    assert_eq!(
        (*what, text.as_str()),
        (
            "client assertion",
            f.app
                .ticket
                .as_ref()
                .unwrap()
                .client_assertion
                .compact
                .as_str()
        )
    );
    assert!(
        !format!("{effects:?}").contains(text.as_str()),
        "Debug must not show copied secrets"
    );
    f.advance(61);
    f.app.update(Message::Tick);
    assert_eq!(f.app.remaining(), Some(0));
    assert_eq!(f.app.tick_period(), None, "no ticks once EXPIRED");
    assert!(f.screen(160, 45).contains("EXPIRED"));
    assert!(matches!(
        f.key(KeyCode::Char('r')).as_slice(),
        [Effect::Submit { .. }]
    ));
}

#[test]
fn save_and_quit_protect_unsaved_edits() {
    let mut f = Fixture::new("local");
    assert!(f.key(KeyCode::Char('q')).is_empty());
    assert!(f.app.quit);
    let mut f = Fixture::new("local");
    f.go_to(Row::Userinfo(0));
    f.key(KeyCode::Char(' '));
    assert!(f.app.dirty);
    assert!(f.key(KeyCode::Char('q')).is_empty());
    assert!(matches!(f.app.overlay, Overlay::ConfirmQuit));
    f.key(KeyCode::Char('n'));
    assert!(!f.app.quit);
    f.key(KeyCode::Char('w'));
    for _ in 0.."local-edited".len() {
        f.key(KeyCode::Backspace);
    }
    f.text("../bad");
    assert!(f.key(KeyCode::Enter).is_empty());
    let Overlay::SaveAs { error, .. } = &f.app.overlay else {
        panic!()
    };
    assert!(error.is_some());
    for _ in 0.."../bad".len() {
        f.key(KeyCode::Backspace);
    }
    f.text("mine");
    let effects = f.key(KeyCode::Enter);
    let [Effect::Save { name, replace }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!((name.as_str(), *replace), ("mine", false));
    // The shell finds a profile of that name: the next Enter replaces it, knowingly.
    f.app.update(Message::SaveExists("mine".into()));
    let Overlay::SaveAs { error, .. } = &f.app.overlay else {
        panic!()
    };
    assert!(
        error
            .as_deref()
            .unwrap()
            .contains("Enter again replaces it")
    );
    let effects = f.key(KeyCode::Enter);
    assert!(
        matches!(effects.as_slice(), [Effect::Save { replace: true, .. }]),
        "{effects:?}"
    );
    f.app.update(Message::Saved(Err("disk full".into())));
    assert!(f.app.dirty, "a failed save keeps the edits marked");
    let mut saved = profile::builtin("local").unwrap();
    saved.name = "mine".into();
    f.app.update(Message::Saved(Ok(Box::new(saved))));
    assert!(!f.app.dirty);
    assert_eq!(
        f.app.profile.name, "mine",
        "the saved profile becomes the current one"
    );
    assert!(f.key(KeyCode::Char('q')).is_empty());
    assert!(f.app.quit);
}

#[test]
fn saving_from_the_quit_prompt_quits_after_the_save() {
    let mut f = Fixture::new("local");
    f.go_to(Row::Userinfo(1));
    f.key(KeyCode::Char(' '));
    f.key(KeyCode::Char('q'));
    f.key(KeyCode::Char('w'));
    assert!(matches!(
        f.key(KeyCode::Enter).as_slice(),
        [Effect::Save { .. }]
    ));
    let effects = f.app.update(Message::Saved(Ok(Box::new(
        profile::builtin("local").unwrap(),
    ))));
    assert!(effects.is_empty());
    assert!(f.app.quit);
}

#[test]
fn e_asks_before_discarding_edits() {
    let mut f = Fixture::new("local");
    assert!(matches!(
        f.key(KeyCode::Char('e')).as_slice(),
        [Effect::EditProfile]
    ));
    f.go_to(Row::Userinfo(0));
    f.key(KeyCode::Char(' '));
    assert!(f.key(KeyCode::Char('e')).is_empty());
    assert!(
        f.app
            .notice
            .as_deref()
            .unwrap()
            .contains("e again discards")
    );
    assert!(matches!(
        f.key(KeyCode::Char('e')).as_slice(),
        [Effect::EditProfile]
    ));
    // Any other key in between disarms it.
    f.key(KeyCode::Char('e'));
    f.key(KeyCode::Down);
    assert!(f.key(KeyCode::Char('e')).is_empty());
}

#[test]
fn notices_last_one_key_and_expired_uris_are_not_copied() {
    let mut f = Fixture::new("local");
    f.key(KeyCode::Char('c'));
    assert!(f.app.notice.is_some());
    f.key(KeyCode::Down);
    assert!(f.app.notice.is_none());
    f.key(KeyCode::Char('s'));
    f.answer(Ok(accepted(start())));
    f.advance(91);
    f.app.update(Message::Tick);
    assert!(f.key(KeyCode::Char('c')).is_empty());
    assert!(f.app.notice.as_deref().unwrap().contains("expired"));
    assert!(f.key(KeyCode::Char('a')).is_empty());
}

#[test]
fn scrolling_is_bounded_and_the_mouse_focuses_and_scrolls() {
    let mut f = Fixture::new("local");
    f.app.update(Message::Focus(Pane::Request));
    assert_eq!(f.app.focus, Pane::Request);
    for _ in 0..100 {
        f.key(KeyCode::PageDown);
    }
    let lines = f
        .app
        .ticket
        .as_ref()
        .unwrap()
        .request
        .claims
        .to_string()
        .len();
    let scrolled = f.app.scroll[1];
    assert!(scrolled > 10 && (scrolled as usize) < lines, "{scrolled}");
    f.app.update(Message::Scroll(Pane::Request, -3));
    assert_eq!(f.app.scroll[1], scrolled - 3);
    for _ in 0..100 {
        f.key(KeyCode::PageUp);
    }
    assert_eq!(f.app.scroll[1], 0);
    // The wheel over the editor moves its cursor.
    let before = f.app.cursor;
    f.app.update(Message::Scroll(Pane::Editor, 3));
    assert_ne!(f.app.cursor, before);
}

#[test]
fn picker_asks_before_discarding_edits() {
    let mut f = Fixture::new("local");
    assert!(matches!(
        f.key(KeyCode::Char('p')).as_slice(),
        [Effect::ListProfiles]
    ));
    f.app.update(Message::Profiles(profile::list()));
    assert!(matches!(f.app.overlay, Overlay::Picker { .. }));
    f.app.dirty = true;
    assert!(f.key(KeyCode::Enter).is_empty());
    let effects = f.key(KeyCode::Enter);
    assert!(
        matches!(effects.as_slice(), [Effect::Open { .. }]),
        "{effects:?}"
    );
}

pub(super) fn snapshot(name: &str, screen: String) {
    insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, screen);
    });
}

#[test]
fn screen_main_my_and_uae() {
    snapshot("main_my_160x45", Fixture::new("local").screen(160, 45));
    snapshot("main_uae_160x45", Fixture::new("local-uae").screen(160, 45));
}

#[test]
fn screen_narrow_and_too_small() {
    let my = Fixture::new("local");
    snapshot("narrow_80x24", my.screen(80, 24));
    snapshot("too_small", my.screen(50, 10));
}

#[test]
fn screen_help() {
    let mut my = Fixture::new("local");
    my.key(KeyCode::Char('?'));
    snapshot("help", my.screen(160, 45));
}

#[test]
fn screen_editing_with_an_error() {
    let mut my = Fixture::new("local");
    let row = my.field_row("expiration");
    my.go_to(row);
    my.key(KeyCode::Enter);
    my.text("!");
    my.key(KeyCode::Enter);
    snapshot("editing", my.screen(160, 45));
}

#[test]
fn screen_sending_and_countdown() {
    let mut my = Fixture::new("local");
    my.key(KeyCode::Char('s'));
    snapshot("sending", my.screen(160, 45));
    my.answer(Ok(accepted(start())));
    my.advance(75);
    my.app.update(Message::Tick);
    snapshot("accepted_countdown", my.screen(160, 45));
}

#[test]
fn screen_refused_and_confirm_submit() {
    let mut refused = Fixture::new("local");
    refused.key(KeyCode::Char('s'));
    refused.answer(Ok(delivery(
        400,
        Outcome::Refused {
            error: "invalid_request_object".into(),
            error_description: Some("exp - nbf is 3700 s".into()),
            explanation: crate::core::oauth::explain("invalid_request_object"),
        },
        start(),
    )));
    snapshot("refused", refused.screen(160, 45));
    refused.app.seed.consent.insert(
        "expiration".into(),
        FieldValue::Json(json!("2020-01-01T00:00:00Z")),
    );
    refused.key(KeyCode::Char('s'));
    let screen = refused.screen(160, 45);
    assert!(
        screen.contains("Send it anyway? y sends"),
        "the question must show"
    );
    snapshot("confirm_submit", screen);
}

#[test]
fn readme_lists_every_key_of_the_help() {
    let readme = include_str!("../../README.md");
    for entry in keymap::KEYMAP {
        let row = format!("| `{}` | {} |", entry.keys, entry.does);
        assert!(readme.contains(&row), "README lacks {row}");
    }
}

#[path = "preview_tests.rs"]
mod preview_tests;
