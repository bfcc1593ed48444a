//! The probe view: what will be sent and where (before anything is), a progress bar, the
//! table coloured by verdict with the verdict also in words (NO_COLOR), and a row's request
//! and answer on enter.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Gauge, Paragraph, Row as TableRow, Table, Wrap};

use super::Theme;
use crate::core::printable::printable_line;
use crate::core::probe::{DEFAULT_DELAY_MS, Row, Verdict};
use crate::tui::app::{ProbePhase, ProbeView};

fn verdict_style(theme: Theme, verdict: Verdict) -> Style {
    theme.fg(match verdict {
        Verdict::Enforced => Color::Green,
        Verdict::EnforcedOtherCode => Color::Cyan,
        Verdict::Lenient => Color::Red,
        Verdict::Stricter => Color::Yellow,
        Verdict::Allowed => Color::Blue,
        Verdict::Error => Color::Magenta,
        Verdict::Skipped => Color::DarkGray,
    })
}

/// "400 invalid_request_object", "201 accepted", or the note of a row not sent.
fn answer(row: &Row) -> String {
    let got = &row.got;
    match (got.status, &got.error) {
        (Some(status), Some(error)) => format!("{status} {}", printable_line(error)),
        (Some(status), None) if got.accepted => format!("{status} accepted"),
        (Some(status), None) => status.to_string(),
        (None, _) => printable_line(got.note.as_deref().unwrap_or("not sent")).into_owned(),
    }
}

pub fn draw(frame: &mut Frame, view: &ProbeView, theme: Theme, area: Rect) {
    let [header, gauge, body, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    let title = Line::from(vec![
        Span::styled("Probe ", Style::default().add_modifier(Modifier::BOLD)),
        Span::raw(printable_line(&view.target).into_owned()),
    ]);
    let plan = format!(
        "{} cases, at most {} requests, one at a time, {DEFAULT_DELAY_MS} ms apart; each changes one thing of the valid PAR",
        view.plan.cases().len(),
        view.plan.requests()
    );
    frame.render_widget(
        Paragraph::new(vec![title, Line::styled(plan, theme.dim())]),
        header,
    );
    let done = view.rows.len().min(view.total());
    let ratio = done as f64 / view.total().max(1) as f64;
    frame.render_widget(
        Gauge::default()
            .gauge_style(theme.fg(Color::Green))
            .ratio(ratio)
            .label(format!("{done}/{}", view.total())),
        gauge,
    );
    match &view.phase {
        ProbePhase::Confirm => draw_confirm(frame, view, body),
        _ if view.detail => draw_detail(frame, view, body),
        _ => draw_table(frame, view, theme, body),
    }
    let status = match &view.phase {
        ProbePhase::Confirm => "enter / y send them   esc back".to_owned(),
        ProbePhase::Running => {
            "running…   ↑↓ select   enter details   esc stop and close".to_owned()
        }
        ProbePhase::Finished(report) => {
            let mut line = report.summary.line();
            if let Some(stop) = &report.summary.stopped {
                line = format!("{line}; {stop}");
            }
            format!("{line}   enter details   esc close")
        }
        ProbePhase::Failed(e) => format!("could not run: {e}   esc close"),
    };
    frame.render_widget(
        Paragraph::new(printable_line(&status).into_owned()).style(theme.dim()),
        footer,
    );
}

fn draw_confirm(frame: &mut Frame, view: &ProbeView, area: Rect) {
    let text = format!(
        "This sends {} requests to {}, most of them deliberately faulty (alg none, expired, \
         wrong aud, a replayed assertion...), to see which FAPI 2.0 rules the server enforces. \
         Only probe a server you are allowed to test. Each request carries its own \
         x-fapi-interaction-id, shown in the table, so the bank can find it in its logs. \
         The run stops at the first network error, 5xx or 429.",
        view.plan.requests(),
        printable_line(&view.target)
    );
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: true })
            .block(Block::default().borders(Borders::ALL).title("Send them?")),
        area,
    );
}

fn draw_table(frame: &mut Frame, view: &ProbeView, theme: Theme, area: Rect) {
    let header = TableRow::new(["case", "verdict", "answer", "x-fapi-interaction-id"])
        .style(Style::default().add_modifier(Modifier::BOLD));
    // Keep the selected row in sight: the rows above it scroll away.
    let visible = usize::from(area.height.saturating_sub(3)).max(1);
    let first = view.selected.saturating_sub(visible - 1);
    let rows = view.rows.iter().enumerate().skip(first).map(|(i, row)| {
        let style = if i == view.selected {
            theme.selected()
        } else {
            Style::default()
        };
        TableRow::new(vec![
            Cell::from(row.id),
            Cell::from(row.verdict.as_str()).style(verdict_style(theme, row.verdict)),
            Cell::from(answer(row)),
            Cell::from(
                printable_line(row.got.interaction_id.as_deref().unwrap_or("(none sent)"))
                    .into_owned(),
            ),
        ])
        .style(style)
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(34),
            Constraint::Length(21),
            Constraint::Fill(1),
            Constraint::Length(37),
        ],
    )
    .header(header)
    .block(Block::default().borders(Borders::ALL).title("Cases"));
    frame.render_widget(table, area);
}

fn json(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

fn draw_detail(frame: &mut Frame, view: &ProbeView, area: Rect) {
    let Some(row) = view.rows.get(view.selected) else {
        return;
    };
    let sent = &row.sent;
    let mut text = vec![
        format!("{}: {}", row.id, row.changes),
        format!(
            "expected  {}{}  ({})",
            row.expected.outcome,
            row.expected
                .error
                .map(|e| format!(" {e}"))
                .unwrap_or_default(),
            row.expected.reference
        ),
        format!("verdict   {}", row.verdict),
        format!("answer    {}", answer(row)),
    ];
    if let Some(description) = &row.got.error_description {
        text.push(format!("          {description}"));
    }
    text.push(String::new());
    text.push(format!("{} {}", sent.method, sent.url));
    if !sent.request_header.is_null() {
        text.push("request object header and claims:".into());
        text.extend(json(&sent.request_header).lines().map(str::to_owned));
        text.extend(json(&sent.request_claims).lines().map(str::to_owned));
        text.push("client assertion claims:".into());
        text.extend(json(&sent.assertion_claims).lines().map(str::to_owned));
    }
    text.push(String::new());
    text.push("answer body:".into());
    text.extend(sent.answer.lines().map(str::to_owned));
    let lines: Vec<Line> = text
        .iter()
        .map(|l| Line::raw(printable_line(l).into_owned()))
        .collect();
    frame.render_widget(
        Paragraph::new(lines).scroll((view.scroll, 0)).block(
            Block::default()
                .borders(Borders::ALL)
                .title("Request and answer (esc back)"),
        ),
        area,
    );
}
