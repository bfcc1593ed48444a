//! The history pane: flows and their steps on the left, the opened step on the right (request,
//! decoded JWTs, lint at the time, response), decoded as the live panes are.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::Theme;
use super::jwt::json_text;
use crate::core::display;
use crate::core::history::{Entry, RecordedBody};
use crate::core::printable::printable_line;
use crate::core::time::rfc3339_seconds;
use crate::tui::app::{App, HistoryRow, HistoryView};

const HINTS: &str = "↑↓ move  enter open  y copy as curl  x export HAR  r reload  esc back";

fn status_style(status: Option<u16>, theme: Theme) -> Style {
    match status {
        Some(s) if (200..300).contains(&s) => theme.fg(Color::Green),
        Some(_) => theme.fg(Color::Red),
        None => theme.dim(),
    }
}

fn list_text(view: &HistoryView, theme: Theme) -> Text<'static> {
    if view.loading && view.flows.is_empty() {
        return Text::raw("Reading the history…");
    }
    if let Some(e) = &view.error {
        return Text::styled(
            format!("Cannot read the history: {e}"),
            theme.fg(Color::Red),
        );
    }
    if view.flows.is_empty() {
        return Text::raw("No history yet: s submits a PAR, `consent-explorer flow` runs a flow.");
    }
    let lines = view.rows.iter().enumerate().map(|(i, row)| {
        let mut line = match *row {
            HistoryRow::Flow(f) => {
                let flow = &view.flows[f];
                Line::styled(
                    format!(
                        "flow {}  {}  {}",
                        flow.id,
                        printable_line(&flow.profile),
                        rfc3339_seconds(flow.started_at)
                    ),
                    theme.fg(Color::Cyan),
                )
            }
            HistoryRow::Step(f, s) => {
                let step = &view.flows[f].steps[s];
                Line::from(vec![
                    Span::raw(format!("  {:>5} {:<9}", step.id, step.step)),
                    Span::styled(
                        format!(
                            "{:>3}",
                            step.status.map_or("-".to_owned(), |c| c.to_string())
                        ),
                        status_style(step.status, theme),
                    ),
                    Span::styled(
                        format!(
                            " {:>6.0} ms  {}",
                            step.elapsed_ms,
                            printable_line(step.note.as_deref().unwrap_or(""))
                        ),
                        theme.dim(),
                    ),
                ])
            }
        };
        if i == view.cursor {
            line = line.style(theme.selected());
        }
        line
    });
    Text::from(lines.collect::<Vec<_>>())
}

fn body_lines(body: &RecordedBody, app: &App, theme: Theme) -> Vec<Line<'static>> {
    match body {
        RecordedBody::Form(fields) => fields
            .iter()
            .map(|(k, v)| {
                Line::from(vec![
                    Span::styled(printable_line(k).into_owned(), theme.fg(Color::Cyan)),
                    Span::raw(format!("={}", printable_line(v))),
                ])
            })
            .collect(),
        RecordedBody::Json(v) => {
            json_text(&display::json_lines_with_dates(v, app.now), theme).collect()
        }
        RecordedBody::Text(t) => t
            .lines()
            .map(|l| Line::raw(printable_line(l).into_owned()))
            .collect(),
    }
}

fn header_lines(headers: &[(String, String)]) -> impl Iterator<Item = Line<'static>> + '_ {
    headers
        .iter()
        .map(|(k, v)| Line::raw(format!("{}: {}", printable_line(k), printable_line(v))))
}

fn detail_text(entry: &Entry, app: &App, theme: Theme) -> Text<'static> {
    let f = entry.exchange.fields();
    let heading = |text: &str| Line::styled(text.to_owned(), theme.dim());
    let mut lines = vec![
        Line::styled(
            format!(
                "#{} {}: {}",
                entry.summary.id,
                f.step.as_str(),
                printable_line(f.note.as_deref().unwrap_or(""))
            ),
            theme.fg(Color::Cyan),
        ),
        Line::raw(format!("{} {}", f.method, printable_line(&f.url))),
        Line::styled(
            format!(
                "{}  {:.0} ms  interaction id {}",
                rfc3339_seconds(f.at),
                f.elapsed_ms,
                printable_line(f.interaction_id.as_deref().unwrap_or("-"))
            ),
            theme.dim(),
        ),
        Line::raw(""),
        heading("request"),
    ];
    lines.extend(header_lines(&f.request_headers));
    if let Some(body) = &f.request_body {
        lines.extend(body_lines(body, app, theme));
    }
    for part in &f.decoded {
        lines.push(Line::raw(""));
        lines.push(heading(&format!("{} header", printable_line(&part.name))));
        lines.extend(json_text(
            &display::json_lines_with_dates(&part.header, app.now),
            theme,
        ));
        lines.push(heading(&format!("{} payload", printable_line(&part.name))));
        lines.extend(json_text(
            &display::json_lines_with_dates(&part.claims, app.now),
            theme,
        ));
    }
    if !f.findings.is_empty() {
        lines.push(Line::raw(""));
        lines.push(heading("lint at the time"));
        lines.extend(f.findings.iter().map(|finding| {
            Line::raw(format!(
                "{} {}: {}",
                finding.severity,
                finding.id,
                printable_line(&finding.message)
            ))
        }));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!(
            "response {}",
            f.status.map_or("none".to_owned(), |s| s.to_string())
        ),
        status_style(f.status, theme),
    ));
    lines.extend(header_lines(&f.response_headers));
    if let Some(body) = &f.response_body {
        lines.extend(body_lines(body, app, theme));
    }
    Text::from(lines)
}

fn boxed(title: &str) -> Block<'static> {
    Block::default()
        .borders(Borders::ALL)
        .title(format!(" {title} "))
}

/// Draws the pane over `main` (the main panes' place while it is open), its keys in `footer`.
pub(super) fn draw(
    frame: &mut Frame,
    app: &App,
    view: &HistoryView,
    theme: Theme,
    main: Rect,
    footer: Rect,
) {
    let hints = match &app.notice {
        Some(notice) => Span::raw(printable_line(notice).into_owned()),
        None => Span::styled(HINTS, theme.dim()),
    };
    frame.render_widget(Paragraph::new(hints), footer);
    let list = Paragraph::new(list_text(view, theme)).block(boxed("History (H)"));
    let detail = view.opened.as_ref().map(|entry| {
        Paragraph::new(detail_text(entry, app, theme))
            .wrap(Wrap { trim: false })
            .scroll((view.scroll, 0))
            .block(boxed("Exchange (secrets as {{placeholders}})"))
    });
    // The list keeps its cursor in sight: scrolled by whole screens.
    let list_scroll = |rect: Rect| {
        let visible = usize::from(rect.height.saturating_sub(2)).max(1);
        u16::try_from(view.cursor / visible * visible).unwrap_or(0)
    };
    match detail {
        Some(detail) if main.width < 120 => frame.render_widget(detail, main),
        Some(detail) => {
            let [left, right] =
                Layout::horizontal([Constraint::Length(64), Constraint::Fill(1)]).areas(main);
            frame.render_widget(list.scroll((list_scroll(left), 0)), left);
            frame.render_widget(detail, right);
        }
        None => frame.render_widget(list.scroll((list_scroll(main), 0)), main),
    }
}
