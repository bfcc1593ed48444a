//! A keypress to the redrawn preview: toggle a permission (re-signing both JWTs, PS256) and
//! draw the 160x45 screen. Target: under 16 ms.

use std::sync::Arc;

use consent_explorer::core::keys::SigningKey;
use consent_explorer::core::session::Session;
use consent_explorer::tui::app::{App, Message, Row};
use consent_explorer::tui::view::{self, Theme};
use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rand::SeedableRng;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn keypress(c: &mut Criterion) {
    let key = SigningKey::generate(jsonwebtoken::Algorithm::PS256)
        .unwrap()
        .0;
    let session = Session::builtin_with_key("local", key).unwrap();
    let mut app = App::new(
        Arc::new(session),
        Box::new(jiff::Timestamp::now),
        Box::new(rand::rngs::StdRng::from_os_rng()),
    );
    app.cursor = app
        .rows
        .iter()
        .position(|r| matches!(r, Row::Choice(..)))
        .unwrap();
    let mut terminal = Terminal::new(TestBackend::new(160, 45)).unwrap();
    let space = KeyEvent::new(KeyCode::Char(' '), KeyModifiers::NONE);
    c.bench_function("tui_toggle_and_redraw_PS256", |b| {
        b.iter(|| {
            app.update(Message::Key(space));
            terminal
                .draw(|f| {
                    view::draw(f, &app, Theme { color: true });
                })
                .unwrap();
        })
    });
}

criterion_group!(benches, keypress);
criterion_main!(benches);
