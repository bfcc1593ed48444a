//! The response pane: idle hint, spinner, network failure, or the server's answer with the
//! request_uri countdown in big digits.

use crate::core::printable::{printable, printable_line, redact_url};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};

use super::Theme;
use super::jwt::json_text;
use crate::core::display;
use crate::core::transport::{Body, Outcome};
use crate::tui::app::{App, RequestState};

const SPINNER: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];

/// mm:ss in a 3x5 block font, for the request_uri countdown.
pub(super) fn big_digits(text: &str) -> [String; 5] {
    const FONT: [[&str; 5]; 11] = [
        ["███", "█ █", "█ █", "█ █", "███"],
        ["  █", "  █", "  █", "  █", "  █"],
        ["███", "  █", "███", "█  ", "███"],
        ["███", "  █", "███", "  █", "███"],
        ["█ █", "█ █", "███", "  █", "  █"],
        ["███", "█  ", "███", "  █", "███"],
        ["███", "█  ", "███", "█ █", "███"],
        ["███", "  █", "  █", "  █", "  █"],
        ["███", "█ █", "███", "█ █", "███"],
        ["███", "█ █", "███", "  █", "███"],
        [" ", "█", " ", "█", " "],
    ];
    let mut rows: [String; 5] = Default::default();
    for c in text.chars() {
        let glyph = match c {
            '0'..='9' => FONT[c as usize - '0' as usize],
            _ => FONT[10],
        };
        for (row, part) in rows.iter_mut().zip(glyph) {
            row.push_str(part);
            row.push(' ');
        }
    }
    rows
}

pub(super) fn response_text(app: &App, theme: Theme) -> Text<'static> {
    let par = app
        .seed
        .endpoints
        .par
        .as_deref()
        .map_or_else(|| "the PAR endpoint".into(), redact_url);
    match &app.request {
        RequestState::Idle => Text::from(vec![
            Line::raw(format!("Press s to push this request to {par}.")),
            Line::styled(
                "Both JWTs are re-signed with fresh jti, nonce and times on every push.",
                theme.dim(),
            ),
        ]),
        RequestState::Loading { since } => Text::from(vec![Line::styled(
            format!(
                "{} Sending… {:.1} s",
                SPINNER[app.spinner % SPINNER.len()],
                (app.now.as_millisecond() - since.as_millisecond()) as f64 / 1000.0
            ),
            theme.fg(Color::Yellow),
        )]),
        RequestState::Failed(e) => Text::from(vec![
            Line::styled(
                format!("✗ {}", e.message),
                theme.fg(Color::Red).add_modifier(Modifier::BOLD),
            ),
            Line::raw(format!("what to check: {}", e.hint)),
            Line::styled("s tries again", theme.dim()),
        ]),
        RequestState::Done(d) => {
            let x = &d.exchange;
            let mut lines: Vec<Line> = super::flow::bar(app, theme).into_iter().collect();
            lines.push(Line::from(vec![
                Span::styled(
                    format!("{} ", x.status),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                Span::raw(format!(
                    "in {:.1} ms   x-fapi-interaction-id {}",
                    x.elapsed.as_secs_f64() * 1000.0,
                    x.interaction_id
                )),
            ]));
            match &x.outcome {
                Outcome::Accepted { request_uri, .. } => {
                    let left = app.remaining().unwrap_or(0);
                    let colour = match left {
                        ..=10 => Color::Red,
                        11..=30 => Color::Yellow,
                        _ => Color::Green,
                    };
                    lines.push(Line::raw(format!(
                        "request_uri {}",
                        printable_line(request_uri)
                    )));
                    if left == 0 {
                        lines.push(Line::styled(
                            "EXPIRED: press r to push a fresh request",
                            theme.fg(Color::Red).add_modifier(Modifier::BOLD),
                        ));
                    } else {
                        let clock = format!("{:02}:{:02}", left / 60, left % 60);
                        lines.extend(
                            big_digits(&clock)
                                .into_iter()
                                .map(|r| Line::styled(r, theme.fg(colour))),
                        );
                        lines.push(Line::styled(
                            format!("{clock} left   o authorizes, c copies request_uri, a the URL"),
                            theme.dim(),
                        ));
                    }
                }
                Outcome::Refused {
                    error,
                    error_description,
                    explanation,
                } => {
                    lines.push(Line::styled(
                        format!("Refused: {}", printable_line(error)),
                        theme.fg(Color::Red).add_modifier(Modifier::BOLD),
                    ));
                    if let Some(d) = error_description {
                        lines.push(Line::raw(format!("server says: {}", printable_line(d))));
                    }
                    lines.push(Line::raw(format!("what it means: {explanation}")));
                }
                Outcome::Unexpected { explanation } => {
                    lines.push(Line::styled(
                        printable(explanation).into_owned(),
                        theme.fg(Color::Red),
                    ));
                }
            }
            for note in x.notes() {
                lines.push(Line::styled(format!("note: {note}"), theme.dim()));
            }
            if let Some(proof) = app.par_proof() {
                lines.extend(super::dpop::proof_lines("PAR", proof, theme));
            }
            lines.push(Line::raw(""));
            lines.extend(x.headers.iter().map(|(k, v)| {
                Line::styled(
                    format!("{}: {}", printable_line(k), printable_line(v)),
                    theme.dim(),
                )
            }));
            match &x.body {
                Body::Json(v) => lines.extend(json_text(&display::json_lines(v), theme)),
                Body::Text(t) => {
                    lines.extend(t.lines().map(|l| Line::raw(printable(l).into_owned())));
                }
            }
            Text::from(lines)
        }
    }
}
