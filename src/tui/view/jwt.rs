//! The request object and client assertion panes, and the JSON colouring the response pane shares.
//!
//! Each line of a decoded JWT carries a gutter: what changed since the build before the last
//! edit (`~` changed, `+` added, `-` removed, drawn struck out), and `·` for the values that
//! change on every build. The symbols say it all without colour (NO_COLOR).

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};

use super::Theme;
use super::wrap::{Piece, fold};
use crate::core::diff;
use crate::core::display::{self, DiffMark, JsonKind, JsonLine};
use crate::core::jws::DecodedJwt;
use crate::tui::app::{App, Pane};

/// A gutter symbol and the space after it.
const GUTTER: usize = 2;
/// How far a wrapped value or note goes in from its key.
const HANG: usize = 2;

fn value_style(kind: JsonKind, theme: Theme) -> Style {
    match kind {
        JsonKind::String => theme.fg(Color::Green),
        JsonKind::Number => theme.fg(Color::Yellow),
        JsonKind::Bool | JsonKind::Null => theme.fg(Color::Magenta),
        JsonKind::Punctuation => Style::default(),
    }
}

/// One line of JSON, coloured by what each token is.
fn json_line(line: &JsonLine, theme: Theme) -> Line<'static> {
    let mut spans = vec![Span::raw(line.indent())];
    if let Some(key) = &line.key {
        spans.push(Span::styled(key.clone(), theme.fg(Color::Cyan)));
        spans.push(Span::raw(": "));
    }
    spans.push(Span::styled(
        line.value_text(),
        value_style(line.value.kind, theme),
    ));
    if let Some(note) = line.note() {
        spans.push(Span::styled(note, theme.dim()));
    }
    Line::from(spans)
}

pub(super) fn json_text(lines: &[JsonLine], theme: Theme) -> impl Iterator<Item = Line<'static>> {
    lines.iter().map(move |l| json_line(l, theme))
}

fn gutter(mark: Option<DiffMark>, theme: Theme) -> Span<'static> {
    let (symbol, style) = match mark {
        None => (" ", Style::default()),
        Some(DiffMark::Changed) => ("~", theme.fg(Color::Yellow).add_modifier(Modifier::BOLD)),
        Some(DiffMark::Added) => ("+", theme.fg(Color::Green).add_modifier(Modifier::BOLD)),
        Some(DiffMark::Removed) => ("-", theme.fg(Color::Red).add_modifier(Modifier::BOLD)),
        Some(DiffMark::Fresh) => ("·", theme.dim()),
    };
    Span::styled(format!("{symbol} "), style)
}

/// A line with its gutter, folded to `width`: a value that does not fit goes under its key,
/// a date note moves by whole phrases.
fn marked_rows(line: &JsonLine, theme: Theme, width: usize) -> Vec<Line<'static>> {
    let lead = gutter(line.mark, theme);
    let emphasis = match line.mark {
        Some(DiffMark::Changed | DiffMark::Added) => Style::default().add_modifier(Modifier::BOLD),
        Some(DiffMark::Removed) => theme.dim().add_modifier(Modifier::CROSSED_OUT),
        _ => Style::default(),
    };
    let mut pieces = vec![Piece::new(lead.content.clone(), lead.style)];
    let key = line
        .key
        .as_ref()
        .map_or(String::new(), |k| format!("{k}: "));
    pieces.push(Piece::new(
        format!("{}{key}", line.indent()),
        theme.fg(Color::Cyan).patch(emphasis),
    ));
    let value_style = if line.mark == Some(DiffMark::Removed) {
        emphasis
    } else {
        value_style(line.value.kind, theme).patch(emphasis)
    };
    pieces.push(Piece::new(line.value_text(), value_style));
    if let Some(date) = &line.date {
        // Each phrase ("2026-01-30 10:05:00 UTC," / "in 5m") moves to the next row whole.
        let mut phrases = date.split_inclusive(", ");
        if let Some(first) = phrases.next() {
            pieces.push(Piece::new(
                format!("{}{}", display::NOTE_SEPARATOR, first.trim_end()),
                theme.dim(),
            ));
        }
        pieces.extend(phrases.map(|p| Piece::new(format!(" {}", p.trim_end()), theme.dim())));
    }
    let hang = line.indent().len() + HANG;
    fold(pieces, width, &Span::raw(" ".repeat(GUTTER)), hang)
}

fn decoded(app: &App, pane: Pane) -> Option<&DecodedJwt> {
    app.ticket.as_ref().map(|t| {
        if pane == Pane::Request {
            &t.request
        } else {
            &t.client_assertion
        }
    })
}

/// A JWT pane folded to `width`, and the row the JAR pane should bring into view: its first
/// change that is not fresh, else the start of `authorization_details` (the consent).
pub(super) struct JwtRows {
    pub text: Text<'static>,
    pub anchor: Option<usize>,
}

/// The decoded request object or client assertion, or why the ticket could not be built.
pub(super) fn jwt_pane_rows(app: &App, theme: Theme, pane: Pane, width: u16) -> JwtRows {
    let width = usize::from(width);
    let Some(jwt) = decoded(app, pane) else {
        let text = match &app.build_error {
            Some(e) => Text::styled(format!("Cannot build: {e}"), theme.fg(Color::Red)),
            None => Text::raw(""),
        };
        return JwtRows { text, anchor: None };
    };
    let header = serde_json::to_string(&jwt.header).unwrap_or_default();
    // One piece per member: the header folds between members, not inside a kid.
    let mut pieces = vec![
        Piece::new(" ".repeat(GUTTER), Style::default()),
        Piece::new("header ", theme.dim()),
    ];
    pieces.extend(
        header
            .split_inclusive(',')
            .map(|m| Piece::new(m, theme.dim())),
    );
    let mut rows = fold(pieces, width, &Span::raw(" ".repeat(GUTTER)), HANG);
    let lines = app.marked_claims(pane).unwrap_or_default();
    let target = diff::first_change(&lines).or_else(|| {
        lines
            .iter()
            .position(|l| l.depth == 1 && l.key.as_deref() == Some("\"authorization_details\""))
    });
    let mut anchor = None;
    for (i, line) in lines.iter().enumerate() {
        if Some(i) == target {
            anchor = Some(rows.len());
        }
        rows.extend(marked_rows(line, theme, width));
    }
    JwtRows {
        text: Text::from(rows),
        anchor,
    }
}
