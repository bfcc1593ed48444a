//! The probe view: asks before sending, fills its table from the channel by run id, shows a
//! row's request and answer, stops the run when closed; and a real run against the sandbox
//! through the shell's task and channel.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::Timestamp;
use rand::SeedableRng;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use serde_json::json;
use tokio::sync::mpsc;

use super::app::{App, Effect, Message, ProbeEvent, ProbePhase, RequestId};
use super::view::{self, Theme};
use crate::core::keys::SigningKey;
use crate::core::probe::{Expect, Got, Row, Sent, Verdict};
use crate::core::session::Session;

fn app_with(session: Session) -> App {
    let now: Timestamp = "2026-01-30T10:00:00Z".parse().unwrap();
    App::new(
        Arc::new(session),
        Box::new(move || now),
        Box::new(rand::rngs::StdRng::seed_from_u64(7)),
    )
}

fn app() -> App {
    let key = SigningKey::generate(jsonwebtoken::Algorithm::ES256)
        .unwrap()
        .0;
    app_with(Session::builtin_with_key("local", key).unwrap())
}

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(Message::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn screen(app: &App, theme: Theme) -> (String, ratatui::buffer::Buffer) {
    let mut terminal = Terminal::new(TestBackend::new(140, 30)).unwrap();
    terminal
        .draw(|f| {
            view::draw(f, app, theme);
        })
        .unwrap();
    let buffer = terminal.backend().buffer().clone();
    let text = buffer
        .content
        .chunks(140)
        .map(|line| line.iter().map(|c| c.symbol()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n");
    (text, buffer)
}

fn row(id: &'static str, verdict: Verdict, error: Option<&str>) -> Row {
    Row {
        id,
        changes: "a change",
        expected: Expect::Rule("request.alg").expected(),
        got: Got {
            status: Some(if error.is_some() { 400 } else { 201 }),
            error: error.map(str::to_owned),
            accepted: error.is_none(),
            interaction_id: Some(format!("iid-{id}")),
            ..Got::default()
        },
        verdict,
        sent: Sent {
            method: "POST",
            url: "http://127.0.0.1:9126/par".into(),
            request_header: json!({"alg": "none"}),
            request_claims: json!({"nonce": "n-secret-0123", "aud": "x"}),
            assertion_claims: json!({"jti": "j-1"}),
            answer: "{\"error\": \"invalid_request_object\"}".into(),
        },
    }
}

fn started(app: &mut App) -> RequestId {
    let effects = press(app, KeyCode::Enter);
    let [Effect::Probe { id, plan }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(plan.requests(), 43);
    *id
}

#[test]
fn p_shows_the_target_and_the_count_and_sends_nothing_until_enter() {
    let mut app = app();
    let effects = app.update(Message::Key(KeyEvent::new(
        KeyCode::Char('P'),
        KeyModifiers::SHIFT,
    )));
    assert!(effects.is_empty(), "{effects:?}");
    let (text, _) = screen(&app, Theme { color: false });
    assert!(text.contains("Probe http://127.0.0.1:9126/par"), "{text}");
    assert!(text.contains("at most 43 requests"), "{text}");
    assert!(text.contains("Send them?"), "{text}");
    assert!(press(&mut app, KeyCode::Esc).is_empty());
    assert!(app.probe.is_none());
}

#[test]
fn rows_fill_the_table_by_run_id_and_enter_shows_request_and_answer() {
    let mut app = app();
    press(&mut app, KeyCode::Char('P'));
    let id = started(&mut app);
    app.update(Message::probe_row(
        id,
        &row("control.first", Verdict::Allowed, None),
    ));
    app.update(Message::probe_row(
        id,
        &row("request.alg-none", Verdict::Lenient, None),
    ));
    app.update(Message::probe_row(
        id,
        &row(
            "request.aud-wrong",
            Verdict::Enforced,
            Some("invalid_request_object"),
        ),
    ));
    let (text, _) = screen(&app, Theme { color: false });
    // NO_COLOR: the verdict is in words.
    assert!(text.contains("lenient"), "{text}");
    assert!(text.contains("enforced"), "{text}");
    assert!(text.contains("400 invalid_request_object"), "{text}");
    assert!(text.contains("iid-request.alg-none"), "{text}");
    assert!(text.contains("3/42"), "{text}");

    // Colour by verdict: the lenient row's verdict cell is red.
    let (_, buffer) = screen(&app, Theme { color: true });
    let (x, y) = (0..30u16)
        .flat_map(|y| (0..140u16).map(move |x| (x, y)))
        .find(|&(x, y)| {
            buffer[(x, y)].symbol() == "l"
                && buffer[(x + 1, y)].symbol() == "e"
                && buffer[(x + 2, y)].symbol() == "n"
        })
        .unwrap();
    assert_eq!(buffer[(x, y)].fg, Color::Red);

    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Enter);
    let (text, _) = screen(&app, Theme { color: false });
    assert!(text.contains("POST http://127.0.0.1:9126/par"), "{text}");
    assert!(text.contains("\"alg\": \"none\""), "{text}");
    assert!(text.contains("answer body:"), "{text}");
    press(&mut app, KeyCode::Esc);
    assert!(!app.probe.as_ref().unwrap().detail);

    // A row of an earlier run is dropped.
    let stale = RequestId::default();
    app.update(Message::probe_row(
        stale,
        &row("skew.5", Verdict::Allowed, None),
    ));
    assert_eq!(app.probe.as_ref().unwrap().rows.len(), 3);
}

#[test]
fn closing_a_running_probe_stops_it_and_late_rows_are_dropped() {
    let mut app = app();
    press(&mut app, KeyCode::Char('P'));
    let id = started(&mut app);
    let effects = press(&mut app, KeyCode::Esc);
    assert!(
        matches!(effects.as_slice(), [Effect::StopProbe]),
        "{effects:?}"
    );
    assert!(app.probe.is_none());
    press(&mut app, KeyCode::Char('P'));
    app.update(Message::probe_row(
        id,
        &row("skew.5", Verdict::Allowed, None),
    ));
    assert!(app.probe.as_ref().unwrap().rows.is_empty());
    // The debug form of the effect names the run only (no claims).
    assert!(!format!("{:?}", Effect::StopProbe).contains("nonce"));
}

/// The shell's task against the sandbox: rows come through the channel with the run's id
/// and the view ends finished with every row.
#[tokio::test]
async fn a_run_against_the_sandbox_comes_through_the_channel() {
    let key = SigningKey::generate(jsonwebtoken::Algorithm::ES256)
        .unwrap()
        .0;
    let session = Session::builtin_with_key("local", key)
        .unwrap()
        .start_sandbox()
        .await
        .unwrap();
    let mut app = app_with(session);
    press(&mut app, KeyCode::Char('P'));
    let effects = press(&mut app, KeyCode::Enter);
    let [Effect::Probe { id, plan }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    super::probe_run_with_delay(
        app.session.clone(),
        plan.clone(),
        Default::default(),
        *id,
        tx,
        std::time::Duration::ZERO,
    )
    .await;
    while let Ok(message) = rx.try_recv() {
        if let Message::Probe {
            event: ProbeEvent::Row(row),
            ..
        } = &message
        {
            assert!(row.verdict != Verdict::Lenient, "{}", row.id);
        }
        app.update(message);
    }
    let view = app.probe.as_ref().unwrap();
    assert_eq!(view.rows.len(), view.total());
    assert!(matches!(view.phase, ProbePhase::Finished(_)));
    assert!(
        app.notice
            .as_deref()
            .unwrap_or("")
            .contains("requests sent")
    );
}
