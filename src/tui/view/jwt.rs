//! The request object and client assertion panes, and the JSON colouring the response pane shares.

use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span, Text};

use super::Theme;
use crate::core::display::{self, JsonKind, JsonLine};
use crate::core::jws::DecodedJwt;
use crate::tui::app::{App, Pane};

/// One line of JSON, coloured by what each token is.
fn json_line(line: &JsonLine, theme: Theme) -> Line<'static> {
    let mut spans = vec![Span::raw(line.indent())];
    if let Some(key) = &line.key {
        spans.push(Span::styled(key.clone(), theme.fg(Color::Cyan)));
        spans.push(Span::raw(": "));
    }
    let style = match line.value.kind {
        JsonKind::String => theme.fg(Color::Green),
        JsonKind::Number => theme.fg(Color::Yellow),
        JsonKind::Bool | JsonKind::Null => theme.fg(Color::Magenta),
        JsonKind::Punctuation => Style::default(),
    };
    spans.push(Span::styled(line.value_text(), style));
    if let Some(note) = line.note() {
        spans.push(Span::styled(note, theme.dim()));
    }
    Line::from(spans)
}

pub(super) fn json_text(lines: &[JsonLine], theme: Theme) -> impl Iterator<Item = Line<'static>> {
    lines.iter().map(move |l| json_line(l, theme))
}

/// The decoded request object or client assertion, or why the ticket could not be built.
pub(super) fn jwt_pane_text(app: &App, theme: Theme, pane: Pane) -> Text<'static> {
    let jwt = app.ticket.as_ref().map(|t| {
        if pane == Pane::Request {
            &t.request
        } else {
            &t.client_assertion
        }
    });
    match (jwt, &app.build_error) {
        (Some(jwt), _) => jwt_text(jwt, app, theme),
        (None, Some(e)) => Text::styled(format!("Cannot build: {e}"), theme.fg(Color::Red)),
        (None, None) => Text::raw(""),
    }
}

fn jwt_text(jwt: &DecodedJwt, app: &App, theme: Theme) -> Text<'static> {
    let mut lines = vec![Line::styled("header", theme.dim())];
    lines.extend(json_text(
        &display::json_lines_with_dates(&jwt.header, app.now),
        theme,
    ));
    lines.push(Line::styled("payload", theme.dim()));
    lines.extend(json_text(
        &display::json_lines_with_dates(&jwt.claims, app.now),
        theme,
    ));
    Text::from(lines)
}
