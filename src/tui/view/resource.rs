//! The resource step: the endpoint and account picker, then the call's layers side by side
//! (the x-signature sent, the envelope's claims, the JWE header, the decrypted payload), each
//! titled with its verdict in words and a mark (✓ ⚠ ✗), so it reads without colour too; or
//! the consent as the server has it, and the question before a revoke.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use serde_json::Value;

use super::Theme;
use super::jwt::json_text;
use crate::core::display;
use crate::core::printable::printable_line;
use crate::core::resource::{Layer, ResourceExchange, Verdict};
use crate::tui::app::{Answer, App, Panel, ProofShown, ResourceView};
use crate::tui::keymap::resource_footer;

/// The envelope's `data` (the JWE) is shown as its length: its header has a column.
const DATA_SHOWN_CHARS: usize = 24;
/// Below this a layer's JSON folds too much to read: the layers go two by two.
const NARROWEST_LAYER: u16 = 30;

pub(super) fn draw(
    frame: &mut Frame,
    app: &App,
    view: &ResourceView,
    theme: Theme,
    body: Rect,
    footer: Rect,
) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.fg(Color::Cyan))
        .title(format!(
            " Resource API: {} ",
            printable_line(&app.seed.pack.id)
        ));
    let inner = block.inner(body);
    frame.render_widget(block, body);
    let mut head = picker_lines(view, theme);
    let answer = match view.panel {
        Panel::Call => view.call.as_ref(),
        Panel::Consent => view.consent.as_ref(),
    };
    head.extend(answer_head(app, answer, view.panel, theme));
    let head_height = u16::try_from(head.len())
        .unwrap_or(u16::MAX)
        .min(inner.height.saturating_sub(4));
    let [top, rest] =
        Layout::vertical([Constraint::Length(head_height), Constraint::Min(0)]).areas(inner);
    frame.render_widget(Paragraph::new(head).wrap(Wrap { trim: false }), top);
    match (view.panel, answer) {
        (Panel::Call, Some(Answer::Done(exchange))) => {
            let columns = layer_areas(rest);
            for (text, rect) in call_columns(exchange, theme).into_iter().zip(columns) {
                frame.render_widget(
                    Paragraph::new(text)
                        .wrap(Wrap { trim: false })
                        .scroll((view.scroll, 0))
                        .block(Block::default().borders(Borders::TOP)),
                    rect,
                );
            }
        }
        (Panel::Consent, Some(Answer::Done(exchange))) => {
            let mut lines: Vec<Line<'static>> = Vec::new();
            if let Some(payload) = &exchange.opened.payload {
                lines.push(Line::styled(
                    "What the server said",
                    Style::default().add_modifier(Modifier::BOLD),
                ));
                lines.extend(json_text(&display::json_lines(payload), theme));
            }
            frame.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .scroll((view.scroll, 0))
                    .block(Block::default().borders(Borders::TOP)),
                rest,
            );
        }
        _ => {}
    }
    if view.confirm_revoke {
        confirm_revoke(frame, app, theme, body);
    }
    let line = match &app.notice {
        Some(n) => Line::styled(printable_line(n).into_owned(), theme.fg(Color::Yellow)),
        None => Line::styled(resource_footer(), theme.dim()),
    };
    frame.render_widget(Paragraph::new(line), footer);
}

/// Four columns side by side when each gets at least `NARROWEST_LAYER`, else two by two.
fn layer_areas(area: Rect) -> [Rect; 4] {
    if area.width >= NARROWEST_LAYER * 4 {
        return Layout::horizontal([Constraint::Fill(1); 4]).areas(area);
    }
    let [top, bottom] = Layout::vertical([Constraint::Fill(1); 2]).areas(area);
    let [a, b] = Layout::horizontal([Constraint::Fill(1); 2]).areas(top);
    let [c, d] = Layout::horizontal([Constraint::Fill(1); 2]).areas(bottom);
    [a, b, c, d]
}

/// The endpoints in a row (the chosen one marked), the accounts, and the chosen path.
fn picker_lines(view: &ResourceView, theme: Theme) -> Vec<Line<'static>> {
    let mut endpoints = vec![Span::raw("endpoint  ")];
    for (i, e) in view.endpoints.iter().enumerate() {
        let name = printable_line(&e.name).into_owned();
        endpoints.push(if i == view.endpoint {
            Span::styled(format!("▸ {name} "), theme.selected())
        } else {
            Span::raw(format!("  {name} "))
        });
        endpoints.push(Span::raw(" "));
    }
    let mut accounts = vec![Span::raw("account   ")];
    if view.accounts.is_empty() {
        accounts.push(Span::styled("(the consent granted none)", theme.dim()));
    }
    for (i, a) in view.accounts.iter().enumerate() {
        let id = printable_line(a).into_owned();
        accounts.push(if i == view.account {
            Span::styled(format!("▸ {id} "), theme.selected())
        } else {
            Span::raw(format!("  {id} "))
        });
        accounts.push(Span::raw(" "));
    }
    let mut lines = vec![Line::from(endpoints), Line::from(accounts)];
    if let Some(e) = view.chosen() {
        let permission = e
            .permission
            .as_deref()
            .map(|p| format!("   needs {}", printable_line(p)))
            .unwrap_or_default();
        lines.push(Line::styled(
            format!(
                "{} {}{permission}{}",
                printable_line(&e.method),
                printable_line(&e.path),
                if e.needs_account {
                    "   (the account above)"
                } else {
                    ""
                }
            ),
            theme.dim(),
        ));
    }
    lines
}

/// The answer's status line, its refusal, and its notes.
fn answer_head(
    app: &App,
    answer: Option<&Answer>,
    panel: Panel,
    theme: Theme,
) -> Vec<Line<'static>> {
    let exchange = match answer {
        None if panel == Panel::Call => {
            return vec![Line::styled(
                "enter sends the call; v shows the consent",
                theme.dim(),
            )];
        }
        None => return Vec::new(),
        Some(Answer::Waiting { since, what }) => {
            return vec![Line::styled(
                format!(
                    "{} {}… {:.1} s",
                    super::flow::SPINNER[app.spinner % super::flow::SPINNER.len()],
                    printable_line(what),
                    (app.now.as_millisecond() - since.as_millisecond()).max(0) as f64 / 1000.0
                ),
                theme.fg(Color::Yellow),
            )];
        }
        Some(Answer::Failed(why)) => {
            return vec![Line::styled(
                format!("✗ not made: {}", printable_line(why)),
                theme.fg(Color::Red).add_modifier(Modifier::BOLD),
            )];
        }
        Some(Answer::Done(exchange)) => exchange,
    };
    let status_style = if exchange.is_success() {
        theme.fg(Color::Green)
    } else {
        theme.fg(Color::Red)
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("{} ", exchange.status),
            status_style.add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!(
            "in {} ms   {} {}   x-fapi-interaction-id {}",
            exchange.elapsed.as_millis(),
            printable_line(&exchange.method),
            printable_line(&exchange.url),
            printable_line(
                exchange
                    .header("x-fapi-interaction-id")
                    .unwrap_or(&exchange.interaction_id)
            ),
        )),
    ])];
    if panel == Panel::Consent {
        let status = exchange
            .opened
            .payload
            .as_ref()
            .and_then(crate::tui::app::consent_status)
            .unwrap_or("(not said)");
        lines.push(Line::from(vec![
            Span::raw("consent status "),
            Span::styled(
                printable_line(status).into_owned(),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::styled("   x revokes it (asks first)", theme.dim()),
        ]));
    }
    if let Some(refusal) = refusal(exchange) {
        lines.push(Line::styled(
            format!("✗ {refusal}"),
            theme.fg(Color::Red).add_modifier(Modifier::BOLD),
        ));
    }
    for note in &exchange.notes {
        lines.push(Line::styled(
            format!("note: {}", printable_line(note)),
            theme.dim(),
        ));
    }
    lines
}

/// Why the answer cannot be used, when it cannot: the server refused, or a layer failed.
fn refusal(exchange: &ResourceExchange) -> Option<String> {
    if !exchange.is_success() {
        let payload = exchange.opened.payload.as_ref();
        let said = |key: &str| payload.and_then(|p| p.get(key)).and_then(Value::as_str);
        let error = said("error").unwrap_or("(no error code)");
        let description = said("error_description")
            .map(|d| format!(": {}", printable_line(d)))
            .unwrap_or_default();
        return Some(format!(
            "refused: the server answered {} {}{description}",
            exchange.status,
            printable_line(error)
        ));
    }
    exchange.opened.failure().map(|(layer, why)| {
        format!(
            "refused: the {layer} cannot be trusted: {}",
            printable_line(why)
        )
    })
}

fn verdict_mark(verdict: &Verdict, theme: Theme) -> Line<'static> {
    let (text, colour) = match verdict {
        Verdict::Verified(kid) => (
            format!("✓ verified (kid {})", printable_line(kid)),
            Color::Green,
        ),
        Verdict::NotVerified(why) => (
            format!("⚠ not verified: {}", printable_line(why)),
            Color::Yellow,
        ),
        Verdict::Failed(why) => (format!("✗ FAILED: {}", printable_line(why)), Color::Red),
    };
    Line::styled(text, theme.fg(colour).add_modifier(Modifier::BOLD))
}

fn json_lines(value: &Value, theme: Theme) -> impl Iterator<Item = Line<'static>> {
    json_text(&display::json_lines(value), theme)
        .collect::<Vec<_>>()
        .into_iter()
}

/// The four columns: x-signature sent, envelope, JWE (and the inner JWT), payload.
fn call_columns(exchange: &ResourceExchange, theme: Theme) -> [Text<'static>; 4] {
    let opened = &exchange.opened;
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut sent = Vec::new();
    match &exchange.x_signature {
        Some(signature) => {
            let name = printable_line(&signature.header_name).into_owned();
            sent.push(Line::styled(format!("{name} (sent)"), bold));
            sent.push(if exchange.is_success() {
                Line::styled(
                    "✓ verified: the server accepted it",
                    theme.fg(Color::Green).add_modifier(Modifier::BOLD),
                )
            } else {
                Line::styled(
                    format!(
                        "⚠ not known: the server refused the call ({})",
                        exchange.status
                    ),
                    theme.fg(Color::Yellow).add_modifier(Modifier::BOLD),
                )
            });
            sent.extend(json_lines(&signature.header, theme));
            sent.extend(json_lines(&signature.claims, theme));
        }
        None => sent.push(Line::styled(
            "No request signature (the pack asks none)",
            theme.dim(),
        )),
    }
    // A DPoP-bound token went with a proof (ath = its hash): shown under the signature.
    if let Some(proof) = exchange.dpop.as_ref().and_then(ProofShown::of) {
        sent.extend(super::dpop::proof_lines("call", &proof, theme));
    }
    let layer_text = |what: &str, layer: Option<&Layer>, missing: &str| -> Vec<Line<'static>> {
        let Some(layer) = layer else {
            return vec![
                Line::styled(what.to_owned(), bold),
                Line::styled(missing.to_owned(), theme.dim()),
            ];
        };
        let mut lines = vec![
            Line::styled(what.to_owned(), bold),
            verdict_mark(&layer.verdict, theme),
        ];
        lines.extend(json_lines(&layer.header, theme));
        if let Some(claims) = &layer.claims {
            lines.extend(json_lines(&short_data(claims), theme));
        }
        lines
    };
    let absent = if opened.failure().is_some() {
        "(not opened: a layer above failed)"
    } else if exchange.is_success() {
        "(not in this answer)"
    } else {
        "(none: the server refused the call)"
    };
    let envelope = layer_text("Envelope (JWS)", opened.envelope.as_ref(), absent);
    let mut jwe = layer_text("JWE", opened.jwe.as_ref(), absent);
    if let Some(inner) = &opened.inner {
        jwe.push(Line::raw(""));
        jwe.extend(layer_text("Inner JWT", Some(inner), ""));
    }
    let mut payload = payload_title(exchange, theme);
    if let Some(value) = &opened.payload {
        payload.extend(json_lines(value, theme));
    }
    [sent, envelope, jwe, payload].map(Text::from)
}

fn payload_title(exchange: &ResourceExchange, theme: Theme) -> Vec<Line<'static>> {
    let opened = &exchange.opened;
    let (what, text, colour) = if !exchange.is_success() {
        (
            "Answer",
            format!("✗ refused ({})", exchange.status),
            Color::Red,
        )
    } else if let Some((layer, _)) = opened.failure() {
        (
            "Payload",
            format!("✗ not trusted: the {layer} failed"),
            Color::Red,
        )
    } else if opened.jwe.as_ref().is_some_and(|l| l.verdict.is_verified()) {
        ("Payload", "✓ decrypted".to_owned(), Color::Green)
    } else if opened.jwe.is_some() {
        ("Payload", "⚠ not decrypted".to_owned(), Color::Yellow)
    } else {
        (
            "Payload",
            "plain JSON, not encrypted".to_owned(),
            Color::Reset,
        )
    };
    vec![
        Line::styled(what, Style::default().add_modifier(Modifier::BOLD)),
        Line::styled(text, theme.fg(colour).add_modifier(Modifier::BOLD)),
    ]
}

/// The envelope's claims with the long `data` (the JWE) cut to its first characters.
fn short_data(claims: &Value) -> Value {
    let mut claims = claims.clone();
    if let Some(data) = claims.get_mut("data")
        && let Some(text) = data.as_str()
        && text.chars().count() > DATA_SHOWN_CHARS
    {
        let head: String = text.chars().take(DATA_SHOWN_CHARS).collect();
        *data = Value::String(format!("{head}… (the JWE →)"));
    }
    claims
}

/// The question before a revoke, over the step.
fn confirm_revoke(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let consent = app
        .tokens()
        .and_then(|t| t.consents.first())
        .and_then(|c| c.consent_id.clone())
        .unwrap_or_else(|| "of the latest flow".into());
    let lines = vec![
        Line::raw(format!(
            "Revoke consent {}? Calls with it will be refused from now on.",
            printable_line(&consent)
        )),
        Line::styled("y revokes, any other key keeps it", theme.fg(Color::Yellow)),
    ];
    let width = 100.min(area.width);
    // A long consent id folds the question: room for four rows of it.
    let height = 6.min(area.height);
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Revoke the consent ")
                .border_style(theme.fg(Color::Red)),
        ),
        rect,
    );
}
