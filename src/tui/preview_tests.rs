//! The preview: changes marked after each edit, the consent in view, the footer naming the
//! change, the sample comparison and the help's key column.

use crossterm::event::KeyCode;

use super::{Fixture, snapshot};
use crate::core::display::DiffMark;
use crate::tui::app::{Overlay, Pane, Row};
use crate::tui::keymap::KEYMAP;

/// The marked lines of the JAR that are not fresh: (text, mark).
fn real_changes(f: &Fixture) -> Vec<(String, DiffMark)> {
    f.app
        .marked_claims(Pane::Request)
        .unwrap()
        .iter()
        .filter_map(|l| match l.mark {
            Some(DiffMark::Fresh) | None => None,
            Some(mark) => Some((l.to_string().trim().to_owned(), mark)),
        })
        .collect()
}

/// The keys of the lines marked fresh.
fn fresh_keys(f: &Fixture, pane: Pane) -> Vec<String> {
    f.app
        .marked_claims(pane)
        .unwrap()
        .iter()
        .filter(|l| l.mark == Some(DiffMark::Fresh))
        .filter_map(|l| l.key.clone())
        .collect()
}

fn permissions_row(f: &Fixture, value: usize) -> Row {
    let Row::Field(field) = f.field_row("permissions") else {
        unreachable!()
    };
    Row::Choice(field, value)
}

#[test]
fn a_permission_toggle_marks_exactly_its_line_and_the_footer_names_it() {
    let mut f = Fixture::new("local");
    assert!(real_changes(&f).is_empty(), "nothing marked before an edit");
    let row = permissions_row(&f, 1);
    f.go_to(row);
    f.key(KeyCode::Char(' '));
    assert_eq!(
        real_changes(&f),
        [("\"read_balances\",".to_owned(), DiffMark::Removed)]
    );
    assert_eq!(
        f.app.notice.as_deref(),
        Some("permissions: - read_balances")
    );
    // Re-signing makes new values that are marked quietly, not as the user's change; the
    // clock stood still, so only the random ones differ.
    assert_eq!(
        fresh_keys(&f, Pane::Request),
        ["\"nonce\"", "\"state\"", "\"code_challenge\""]
    );
    assert_eq!(fresh_keys(&f, Pane::Assertion), ["\"jti\""]);
    let screen = f.screen(160, 45);
    assert!(
        screen.contains("││-           \"read_balances\","),
        "{screen}"
    );
    snapshot("toggle_marked_160x45", screen);

    // Toggled back: the item is marked as added.
    f.key(KeyCode::Char(' '));
    assert_eq!(
        real_changes(&f),
        [("\"read_balances\",".to_owned(), DiffMark::Added)]
    );
    assert_eq!(
        f.app.notice.as_deref(),
        Some("permissions: + read_balances")
    );
}

#[test]
fn a_purpose_change_marks_exactly_its_line_and_the_footer_names_it() {
    let mut f = Fixture::new("local");
    let row = f.field_row("purpose");
    f.go_to(row);
    f.key(KeyCode::Right);
    assert_eq!(
        real_changes(&f),
        [(
            "\"consent_purpose\": \"credit_underwriting\",".to_owned(),
            DiffMark::Changed
        )]
    );
    assert_eq!(
        f.app.notice.as_deref(),
        Some("consent_purpose: \"pfm\" → \"credit_underwriting\"")
    );
    let screen = f.screen(160, 45);
    assert!(
        screen.contains("││~         \"consent_purpose\": \"credit_underwriting\","),
        "{screen}"
    );
    assert!(screen.contains("consent_purpose: \"pfm\" → \"credit_underwriting\""));
}

#[test]
fn uae_consent_id_and_relative_expiry_are_fresh_not_changes() {
    let mut f = Fixture::new("local-uae");
    f.advance(1);
    let Row::Field(field) = f.field_row("permissions") else {
        unreachable!()
    };
    f.go_to(Row::Choice(field, 0));
    f.key(KeyCode::Char(' '));
    assert_eq!(
        real_changes(&f),
        [("\"ReadAccountsBasic\",".to_owned(), DiffMark::Removed)]
    );
    let fresh = fresh_keys(&f, Pane::Request);
    assert!(fresh.contains(&"\"ConsentId\"".to_owned()), "{fresh:?}");
    assert!(
        fresh.contains(&"\"ExpirationDateTime\"".to_owned()),
        "{fresh:?}"
    );
}

#[test]
fn the_consent_is_whole_on_the_first_screen_and_a_change_far_down_comes_into_view() {
    for profile in ["local", "local-uae"] {
        let f = Fixture::new(profile);
        let screen = f.screen(160, 45);
        assert!(screen.contains("\"authorization_details\": ["), "{profile}");
        // The JAR's last line (the payload's closing brace) and the assertion's jti.
        assert!(screen.contains("││  }  "), "{profile}: {screen}");
        assert!(screen.contains("\"jti\":"), "{profile}");
    }
    // A user scroll stops the following; the next edit follows again.
    let mut f = Fixture::new("local");
    f.app.update(super::Message::Scroll(Pane::Request, -50));
    assert!(!f.app.preview.follow);
    assert!(f.screen(160, 45).contains("header {\"alg\""));
    let row = permissions_row(&f, 2);
    f.go_to(row);
    f.key(KeyCode::Char(' '));
    assert!(f.app.preview.follow);
    assert!(
        f.screen(160, 45)
            .contains("││-           \"read_transactions\"")
    );
}

#[test]
fn date_notes_never_split_a_phrase() {
    for (profile, width, height) in [
        ("local", 160, 45),
        ("local-uae", 160, 45),
        ("local", 120, 40),
    ] {
        let mut f = Fixture::new(profile);
        f.key(KeyCode::Char('3'));
        let screen = f.screen(width, height);
        for line in screen.lines() {
            let text = line.trim_matches(|c| c == '"' || c == '│' || c == ' ');
            assert!(
                !(text.ends_with(" in") || text.ends_with(", in") || text.starts_with("5m")),
                "{profile} {width}x{height}: {line}"
            );
        }
    }
}

#[test]
fn screen_tabbed_120x40_shows_the_jar_with_marks() {
    let mut f = Fixture::new("local");
    let row = permissions_row(&f, 1);
    f.go_to(row);
    f.key(KeyCode::Char(' '));
    f.key(KeyCode::Char('2'));
    snapshot("jar_tab_120x40", f.screen(120, 40));
    f.key(KeyCode::Char('3'));
    snapshot("assertion_tab_80x24", f.screen(80, 24));
}

#[test]
fn d_compares_with_the_portal_sample() {
    let mut f = Fixture::new("local");
    f.key(KeyCode::Char('d'));
    assert!(matches!(f.app.overlay, Overlay::Compare { .. }));
    let screen = f.screen(160, 45);
    assert!(
        screen.contains("Compared with the portal sample"),
        "{screen}"
    );
    assert!(screen.contains("why: scope has openid"), "{screen}");
    assert!(screen.contains("fresh       nonce"), "{screen}");
    snapshot("compare_160x45", screen);
    f.key(KeyCode::Down);
    f.key(KeyCode::Esc);
    assert!(matches!(f.app.overlay, Overlay::None));
    let mut uae = Fixture::new("local-uae");
    uae.key(KeyCode::Char('d'));
    assert!(uae.screen(160, 45).contains("No portal sample ships for"));
}

#[test]
fn the_help_key_column_fits_the_widest_key() {
    let mut f = Fixture::new("local");
    f.key(KeyCode::Char('?'));
    let screen = f.screen(160, 45);
    let rows: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
    let (top, left) = rows
        .iter()
        .enumerate()
        .find_map(|(y, r)| {
            let s: String = r.iter().collect();
            s.find("┌ Keys")
                .map(|_| (y, r.iter().position(|c| *c == '┌').unwrap()))
        })
        .expect("the help is drawn");
    let widest = KEYMAP.iter().map(|e| e.keys.chars().count()).max().unwrap();
    for (i, entry) in KEYMAP.iter().enumerate() {
        let row = &rows[top + 1 + i];
        let column: String = row[left + 1..left + 1 + widest + 2].iter().collect();
        let rest: String = row[left + 1 + widest + 2..].iter().collect();
        assert_eq!(column.trim_end(), entry.keys, "{column}");
        assert!(rest.starts_with(entry.does), "{rest}");
    }
}

/// The symbol of the gutter cell at column `left` on the row holding `text`, and its colour.
fn gutter_cell(f: &Fixture, color: bool, text: &str, left: u16) -> (String, ratatui::style::Color) {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    let mut terminal = Terminal::new(TestBackend::new(160, 45)).unwrap();
    terminal
        .draw(|frame| {
            crate::tui::view::draw(frame, &f.app, crate::tui::view::Theme { color });
        })
        .unwrap();
    let buffer = terminal.backend().buffer();
    let y = (0..45)
        .find(|y| {
            let row: String = (0..160).map(|x| buffer[(x, *y)].symbol()).collect();
            row.contains(text)
        })
        .unwrap();
    let cell = &buffer[(left, y)];
    (cell.symbol().to_owned(), cell.fg)
}

/// Inside the left borders of the JAR and assertion panes at 160x45.
const JAR_GUTTER: u16 = 43;
const ASSERTION_GUTTER: u16 = 109;

#[test]
fn marks_read_with_and_without_colour() {
    use ratatui::style::Color;
    let mut f = Fixture::new("local");
    let row = permissions_row(&f, 1);
    f.go_to(row);
    f.key(KeyCode::Char(' '));
    assert_eq!(
        gutter_cell(&f, true, "\"read_balances\",", JAR_GUTTER),
        ("-".to_owned(), Color::Red)
    );
    assert_eq!(
        gutter_cell(&f, false, "\"read_balances\",", JAR_GUTTER),
        ("-".to_owned(), Color::Reset)
    );
    assert_eq!(
        gutter_cell(&f, true, "\"jti\"", ASSERTION_GUTTER),
        ("·".to_owned(), Color::DarkGray)
    );
    assert_eq!(gutter_cell(&f, false, "\"jti\"", ASSERTION_GUTTER).0, "·");
}

#[test]
fn a_relative_expiry_moving_with_the_clock_is_not_named_as_the_change() {
    let mut f = Fixture::new("local");
    f.advance(6);
    let row = permissions_row(&f, 1);
    f.go_to(row);
    f.key(KeyCode::Char(' '));
    assert_eq!(
        f.app.notice.as_deref(),
        Some("permissions: - read_balances")
    );
    assert!(fresh_keys(&f, Pane::Request).contains(&"\"expiration_datetime\"".to_owned()));
}
