//! The lint pane: each finding with its severity, message and reference.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};

use super::Theme;
use crate::tui::app::App;

pub(super) fn lint_text(app: &App, theme: Theme) -> Text<'static> {
    if app.findings.is_empty() {
        return Text::styled(
            "Nothing a strict FAPI 2.0 server would refuse.",
            theme.fg(Color::Green),
        );
    }
    let mut lines = Vec::new();
    for f in &app.findings {
        lines.push(Line::from(vec![
            Span::styled(
                format!("{:<7} ", f.severity.as_str()),
                theme.severity(f.severity),
            ),
            Span::styled(
                f.id.to_owned(),
                Style::default().add_modifier(Modifier::BOLD),
            ),
        ]));
        lines.push(Line::raw(format!("  {}", f.message)));
        lines.push(Line::styled(format!("  [{}]", f.reference), theme.dim()));
    }
    Text::from(lines)
}
