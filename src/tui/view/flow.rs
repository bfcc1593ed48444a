//! The stepper in the response pane (PAR, authorize, callback, token), the authorize overlay
//! with its QR code, the paste field for a redirect URL, and the tokens: the ID token and the
//! access token decoded side by side under the consent and the access token's countdown.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Paragraph, Wrap};
use tui_input::Input;

use super::Theme;
use super::jwt::json_text;
use super::response::big_digits;
use crate::core::display;
use crate::core::flow::store::redacted;
use crate::core::printable::{printable, printable_line};
use crate::tui::app::{App, CallbackWait, FlowState, Pane, ProofShown, STEPS, Stage, TokenView};

pub(super) const SPINNER: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];

/// The step line: each step done (✓), at hand (▸), failed (✗) or still to come.
pub(super) fn bar(app: &App, theme: Theme) -> Option<Line<'static>> {
    let flow = app.flow.as_ref()?;
    let at = flow.step();
    let all_done = matches!(flow.stage, Stage::Issued(_));
    let failed = matches!(flow.stage, Stage::Failed { .. });
    let mut spans = Vec::new();
    for (i, (step, name)) in STEPS.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" › ", theme.dim()));
        }
        let (mark, style) = if *step < at || all_done {
            ("✓", theme.fg(Color::Green))
        } else if *step == at && failed {
            ("✗", theme.fg(Color::Red).add_modifier(Modifier::BOLD))
        } else if *step == at {
            ("▸", theme.fg(Color::Yellow).add_modifier(Modifier::BOLD))
        } else {
            (" ", theme.dim())
        };
        spans.push(Span::styled(format!("{name} {mark}"), style));
    }
    Some(Line::from(spans))
}

/// Whether the stepper draws the response pane (past the PAR step).
pub(super) fn takes_over(app: &App) -> bool {
    app.flow
        .as_ref()
        .is_some_and(|f| !matches!(f.stage, Stage::Ready))
}

/// The response pane once the flow is past the PAR.
pub(super) fn draw_flow(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let Some(flow) = app.flow.as_ref() else {
        return;
    };
    let block = super::block(app, theme, Pane::Response, ": flow");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let scroll = app.scroll[Pane::Response.index()];
    let mut head: Vec<Line<'static>> = bar(app, theme).into_iter().collect();
    let Stage::Issued(view) = &flow.stage else {
        head.extend(step_lines(app, flow, theme));
        if let Some(proof) = app.par_proof() {
            head.extend(super::dpop::proof_lines("PAR", proof, theme));
        }
        frame.render_widget(
            Paragraph::new(head)
                .wrap(Wrap { trim: false })
                .scroll((scroll, 0)),
            inner,
        );
        return;
    };
    head.extend(issued_head(app, flow, view, theme, inner.height >= 24));
    // The columns keep at least four rows: the tokens are what the user came for.
    let rows: usize = head
        .iter()
        .map(|l| l.width().max(1).div_ceil(usize::from(inner.width.max(1))))
        .sum();
    let head_height = u16::try_from(rows)
        .unwrap_or(u16::MAX)
        .min(inner.height.saturating_sub(4));
    let [top, columns] =
        Layout::vertical([Constraint::Length(head_height), Constraint::Min(0)]).areas(inner);
    frame.render_widget(Paragraph::new(head).wrap(Wrap { trim: false }), top);
    let [left, right] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(columns);
    for (text, rect) in [
        (id_token_text(view, app.now, theme), left),
        (
            access_token_text(view, app.par_proof(), flow.reveal, app.now, theme),
            right,
        ),
    ] {
        frame.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: false })
                .scroll((scroll, 0)),
            rect,
        );
    }
}

fn step_lines(app: &App, flow: &FlowState, theme: Theme) -> Vec<Line<'static>> {
    match &flow.stage {
        Stage::Ready | Stage::Issued(_) => Vec::new(),
        Stage::Authorizing { url, wait, browser } => {
            let mut lines = vec![
                Line::styled("Authorize at this URL:", Style::default()),
                Line::styled(printable_line(url).into_owned(), theme.fg(Color::Cyan)),
            ];
            // The bank refuses a request_uri past its expiry: the time left stays in view.
            match app.remaining() {
                Some(0) => lines.push(Line::styled(
                    "The request_uri has expired: r pushes a fresh request, then o again",
                    theme.fg(Color::Red).add_modifier(Modifier::BOLD),
                )),
                Some(left) => lines.push(Line::styled(
                    format!("request_uri {:02}:{:02} left", left / 60, left % 60),
                    theme.fg(if left <= 15 {
                        Color::Yellow
                    } else {
                        Color::Green
                    }),
                )),
                None => {}
            }
            lines.push(Line::raw(match wait {
                CallbackWait::Sandbox => {
                    "The embedded sandbox: o, then y approves here or n denies (no browser needed)"
                        .to_owned()
                }
                CallbackWait::Listener(Some(port)) => {
                    format!("Waiting for the callback on 127.0.0.1:{port}…")
                }
                CallbackWait::Listener(None) => "Starting the callback listener…".to_owned(),
                CallbackWait::Paste => {
                    "The redirect_uri is not on loopback: v pastes the redirect URL".to_owned()
                }
            }));
            if let Some(browser) = browser {
                lines.push(Line::styled(
                    printable_line(browser).into_owned(),
                    theme.dim(),
                ));
            }
            lines.push(Line::styled(
                "o shows the URL and QR code   v pastes the redirect URL",
                theme.dim(),
            ));
            lines
        }
        Stage::Exchanging { since } => vec![Line::styled(
            format!(
                "{} Checking the callback and exchanging the code… {:.1} s",
                SPINNER[app.spinner % SPINNER.len()],
                (app.now.as_millisecond() - since.as_millisecond()).max(0) as f64 / 1000.0
            ),
            theme.fg(Color::Yellow),
        )],
        Stage::Failed {
            step,
            message,
            explanation,
        } => {
            let name = crate::tui::app::step_name(*step);
            let mut lines = vec![Line::styled(
                format!("✗ {name}: {}", printable_line(message)),
                theme.fg(Color::Red).add_modifier(Modifier::BOLD),
            )];
            if let Some(explanation) = explanation {
                lines.push(Line::raw(format!(
                    "what it means: {}",
                    printable_line(explanation)
                )));
            }
            lines.push(Line::styled(
                "r pushes a fresh request to start again",
                theme.dim(),
            ));
            lines
        }
    }
}

/// What `T` does next: show the tokens in full, or redact them again.
fn reveal_hint(flow: &FlowState) -> &'static str {
    if flow.reveal {
        "T hides the tokens"
    } else {
        "T shows the tokens"
    }
}

/// The answer's facts, the consent, and the access token's countdown.
fn issued_head(
    app: &App,
    flow: &FlowState,
    view: &TokenView,
    theme: Theme,
    big: bool,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    match flow.access_remaining(app.now) {
        Some(0) => lines.push(Line::styled(
            "access token EXPIRED: R refreshes",
            theme.fg(Color::Red).add_modifier(Modifier::BOLD),
        )),
        Some(left) => {
            let clock = format!("{:02}:{:02}", left / 60, left % 60);
            let colour = match left {
                ..=30 => Color::Red,
                31..=120 => Color::Yellow,
                _ => Color::Green,
            };
            if big {
                lines.extend(
                    big_digits(&clock)
                        .into_iter()
                        .map(|r| Line::styled(r, theme.fg(colour))),
                );
            }
            lines.push(Line::styled(
                format!(
                    "access token: {clock} left   R refreshes, {}",
                    reveal_hint(flow)
                ),
                theme.fg(colour),
            ));
        }
        None => lines.push(Line::styled(
            format!(
                "access token: no expires_in given   R refreshes, {}",
                reveal_hint(flow)
            ),
            theme.dim(),
        )),
    }
    lines.push(Line::from(vec![
        Span::styled(
            format!("{} ", view.status),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!(
            "in {:.1} ms   {}   scope {}",
            view.elapsed_ms,
            view.token_type,
            printable_line(view.scope.as_deref().unwrap_or("(none)")),
        )),
    ]));
    for consent in &view.consents {
        let accounts: Vec<String> = consent
            .accounts
            .iter()
            .map(|a| match &a.account_name {
                Some(name) => format!("{} ({})", a.account_id, name),
                None => a.account_id.clone(),
            })
            .collect();
        lines.push(Line::from(vec![
            Span::raw("consent "),
            Span::styled(
                printable_line(consent.consent_id.as_deref().unwrap_or("(none)")).into_owned(),
                theme.fg(Color::Cyan),
            ),
            Span::raw("  status "),
            Span::styled(
                printable_line(consent.status.as_deref().unwrap_or("(none)")).into_owned(),
                theme.fg(Color::Green),
            ),
            Span::raw(if accounts.is_empty() {
                String::new()
            } else {
                format!("  accounts {}", printable_line(&accounts.join(", ")))
            }),
        ]));
    }
    if flow.refreshing {
        lines.push(Line::styled(
            format!("{} Refreshing…", SPINNER[app.spinner % SPINNER.len()]),
            theme.fg(Color::Yellow),
        ));
    } else if let Some(error) = &flow.refresh_error {
        lines.push(Line::styled(
            format!("✗ refresh: {}", printable_line(error)),
            theme.fg(Color::Red),
        ));
    } else if view.refreshes > 0 {
        lines.push(Line::styled(
            format!("refreshed {} time(s)", view.refreshes),
            theme.dim(),
        ));
    }
    for warning in &view.warnings {
        lines.push(Line::styled(
            format!("note: {}", printable_line(warning)),
            theme.dim(),
        ));
    }
    lines
}

fn id_token_text(view: &TokenView, now: Timestamp, theme: Theme) -> Text<'static> {
    let Some((header, claims)) = &view.id_token else {
        return Text::from(Line::styled("No ID token issued", theme.dim()));
    };
    let alg = header["alg"].as_str().unwrap_or("?");
    let mut lines = vec![Line::styled(
        format!("ID token ✓ verified ({})", printable_line(alg)),
        theme.fg(Color::Green).add_modifier(Modifier::BOLD),
    )];
    lines.extend(json_text(
        &display::json_lines_with_dates(claims, now),
        theme,
    ));
    Text::from(lines)
}

fn access_token_text(
    view: &TokenView,
    par_proof: Option<&ProofShown>,
    reveal: bool,
    now: Timestamp,
    theme: Theme,
) -> Text<'static> {
    let shown = |token: &str| {
        if reveal {
            printable(token).into_owned()
        } else {
            redacted(token)
        }
    };
    let mut lines = vec![Line::styled(
        match view.access_claims {
            Some(_) => "Access token (a JWT, decoded)",
            None => "Access token (opaque)",
        },
        Style::default().add_modifier(Modifier::BOLD),
    )];
    lines.push(Line::raw(format!(
        "access_token  {}",
        shown(view.access_token.expose())
    )));
    lines.push(Line::raw(format!(
        "refresh_token {}",
        view.refresh_token
            .as_ref()
            .map_or_else(|| "none".to_owned(), |t| shown(t.expose()))
    )));
    if let Some(claims) = &view.access_claims {
        lines.extend(json_text(
            &display::json_lines_with_dates(claims, now),
            theme,
        ));
    }
    lines.push(Line::styled(
        format!(
            "x-fapi-interaction-id {}",
            printable_line(&view.interaction_id)
        ),
        theme.dim(),
    ));
    if let Some(proof) = &view.dpop {
        lines.extend(super::dpop::proof_lines("token request", proof, theme));
    }
    if let Some(proof) = par_proof {
        lines.extend(super::dpop::proof_lines("PAR", proof, theme));
    }
    Text::from(lines)
}

/// The authorize overlay: the URL, its QR code when it fits, and what to do next.
pub(super) fn authorize_overlay(
    app: &App,
    theme: Theme,
    room: Rect,
) -> (Vec<Line<'static>>, u16, u16) {
    let Some(Stage::Authorizing { url, wait, .. }) = app.flow.as_ref().map(|f| &f.stage) else {
        return (vec![Line::raw("No authorize step is running")], 60, 3);
    };
    let mut lines = vec![Line::styled(
        printable_line(url).into_owned(),
        theme.fg(Color::Cyan),
    )];
    let width = room.width.min(100);
    let url_rows = (url.chars().count() as u16).div_ceil(width.saturating_sub(2).max(1));
    let qr = qr_rows(url);
    // The hint and url rows, the borders and a blank line around the code.
    let fits = qr.len() as u16 + url_rows + 5 <= room.height
        && qr
            .first()
            .is_some_and(|r| r.chars().count() as u16 + 2 <= width);
    if fits {
        lines.push(Line::raw(""));
        lines.extend(qr.into_iter().map(Line::raw));
    } else {
        lines.push(Line::styled(
            "(a larger terminal shows the URL as a QR code)",
            theme.dim(),
        ));
    }
    lines.push(Line::styled(
        match wait {
            CallbackWait::Sandbox => {
                "y approves here as the sandbox's test user, n denies, esc closes"
            }
            _ => "scan it or use the browser; the callback is awaited · v pastes it · esc closes",
        },
        theme.fg(Color::Yellow),
    ));
    let height = lines.len() as u16 + url_rows + 1;
    (lines, width, height)
}

/// The URL as a QR code in half blocks (two modules a character), light on dark like the
/// CLI's, so phone cameras read it on dark terminals.
fn qr_rows(url: &str) -> Vec<String> {
    use qrcode::render::unicode::Dense1x2;
    let Ok(code) = qrcode::QrCode::new(url.as_bytes()) else {
        return Vec::new();
    };
    code.render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .build()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The paste field for the whole redirect URL.
pub(super) fn paste_overlay(
    input: &Input,
    error: Option<&String>,
    theme: Theme,
) -> Vec<Line<'static>> {
    vec![
        Line::from(vec![
            Span::raw("redirect URL: "),
            Span::styled(
                format!("{}▏", printable_line(input.value())),
                theme.fg(Color::Yellow),
            ),
        ]),
        Line::styled(
            error.cloned().unwrap_or_else(|| {
                "the whole URL the browser was sent to (with code, state and iss)".into()
            }),
            if error.is_some() {
                theme.fg(Color::Red)
            } else {
                theme.dim()
            },
        ),
    ]
}
