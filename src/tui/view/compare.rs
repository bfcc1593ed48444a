//! The `d` overlay: both JWTs beside the portal sample's, key by key, one row per key with
//! our value and the sample's in two columns, the reason for a known difference under it.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use super::Theme;
use crate::core::printable::printable_line;
use crate::core::sample::{self, KeyComparison, PortalSample, Verdict};
use crate::tui::app::App;

const VERDICT_WIDTH: usize = 12;

fn verdict_style(verdict: Verdict, theme: Theme) -> Style {
    match verdict {
        Verdict::Same => theme.dim(),
        Verdict::Fresh => theme.dim(),
        Verdict::Differs => theme.fg(Color::Yellow).add_modifier(Modifier::BOLD),
        Verdict::OnlyOurs | Verdict::OnlySample => {
            theme.fg(Color::Magenta).add_modifier(Modifier::BOLD)
        }
    }
}

/// `text` in exactly `width` columns: cut with an ellipsis, or padded.
fn cell(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count > width {
        let kept: String = text.chars().take(width.saturating_sub(1)).collect();
        format!("{kept}…")
    } else {
        format!("{text}{}", " ".repeat(width - count))
    }
}

fn value_text(value: &Option<serde_json::Value>) -> String {
    value.as_ref().map_or_else(
        || "—".into(),
        |v| printable_line(&v.to_string()).into_owned(),
    )
}

fn key_rows(k: &KeyComparison, theme: Theme, widths: (usize, usize)) -> Vec<Line<'static>> {
    let (path_width, value_width) = widths;
    let style = verdict_style(k.verdict, theme);
    let mut rows = vec![Line::from(vec![
        Span::styled(cell(k.verdict.label(), VERDICT_WIDTH), style),
        Span::styled(
            cell(&printable_line(&k.path), path_width),
            theme.fg(Color::Cyan),
        ),
        Span::raw(" "),
        Span::raw(cell(&value_text(&k.ours), value_width)),
        Span::raw(" "),
        Span::raw(cell(&value_text(&k.sample), value_width)),
    ])];
    if let Some(reason) = k.reason {
        rows.push(Line::styled(
            format!("{}  why: {reason}", " ".repeat(VERDICT_WIDTH)),
            theme.dim(),
        ));
    }
    rows
}

/// The overlay's lines for a box `width` columns wide (inside its border).
pub(super) fn compare_lines(app: &App, theme: Theme, width: u16) -> Vec<Line<'static>> {
    let Some(ticket) = &app.ticket else {
        return vec![Line::raw("Nothing built yet: fix the consent first.")];
    };
    let Some(portal) = PortalSample::for_request(&ticket.request.claims) else {
        return vec![
            Line::raw(format!(
                "No portal sample ships for {}.",
                app.seed.pack.type_
            )),
            Line::styled(
                format!(
                    "Samples exist for: {}",
                    PortalSample::known_types().join(", ")
                ),
                theme.dim(),
            ),
        ];
    };
    let comparison = sample::compare(ticket, &portal);
    let width = usize::from(width);
    let path_width = comparison
        .keys
        .iter()
        .map(|k| k.path.chars().count())
        .max()
        .unwrap_or(10)
        .min(width / 3);
    let value_width = width.saturating_sub(VERDICT_WIDTH + path_width + 2) / 2;
    let unexplained = comparison.unexplained().count();
    let mut lines = vec![
        Line::styled(
            if unexplained == 0 {
                format!(
                    "{}: every difference has a known reason.",
                    comparison.sample
                )
            } else {
                format!(
                    "{}: {unexplained} difference(s) without a known reason, worth a look.",
                    comparison.sample
                )
            },
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Line::styled(
            format!(
                "{}{} {} {}",
                " ".repeat(VERDICT_WIDTH),
                cell("key", path_width),
                cell("ours", value_width),
                cell("portal sample", value_width)
            ),
            theme.dim().add_modifier(Modifier::UNDERLINED),
        ),
    ];
    let mut group = ("", "");
    for k in &comparison.keys {
        if (k.jwt, k.part) != group {
            group = (k.jwt, k.part);
            let name = if k.jwt == "request" {
                "Request object (JAR)"
            } else {
                "Client assertion"
            };
            lines.push(Line::styled(
                format!("{name} {}", k.part),
                Style::default().add_modifier(Modifier::BOLD),
            ));
        }
        lines.extend(key_rows(k, theme, (path_width, value_width)));
    }
    lines
}
