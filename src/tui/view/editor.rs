//! The consent editor pane: one row per field, checklists for multi-value fields, the line
//! being edited with its cursor.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use serde_json::Value;

use super::{Theme, block};
use crate::core::consent::{FieldValue, Kind};
use crate::tui::app::{App, Pane, Row};

fn value_text(value: Option<&FieldValue>) -> String {
    match value {
        None => "—".into(),
        Some(FieldValue::Json(Value::String(s))) => s.clone(),
        Some(v) => v.to_string(),
    }
}

/// A checklist line: `[x] value  description`.
fn check_line(
    mark: &str,
    on: bool,
    value: &crate::core::consent::ValueDesc,
    style: Style,
    theme: Theme,
) -> Line<'static> {
    Line::from(vec![
        Span::styled(
            format!("{mark}[{}] {}", if on { "x" } else { " " }, value.value),
            style,
        ),
        Span::styled(format!("  {}", value.description), theme.dim()),
    ])
}

/// Words of `text` in lines of at most `width` characters, each indented by `indent`.
fn wrapped(text: &str, width: usize, indent: &str) -> Vec<String> {
    let room = width.saturating_sub(indent.chars().count()).max(10);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > room {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines.into_iter().map(|l| format!("{indent}{l}")).collect()
}

pub(super) fn draw_editor(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let seed = &app.seed;
    let width = area.width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    let mut cursor_line = 0;
    for (i, row) in app.rows.iter().enumerate() {
        let selected = i == app.cursor && app.focus == Pane::Editor;
        if i == app.cursor {
            cursor_line = lines.len();
        }
        let mark = if selected { "▶ " } else { "  " };
        let style = if selected {
            theme.selected()
        } else {
            Style::default()
        };
        let editing = app
            .edit
            .as_ref()
            .filter(|e| e.row == *row && i == app.cursor);
        let (label, value, hint): (String, String, Option<String>) = match row {
            Row::Field(f) => {
                let field = &seed.pack.fields[*f];
                if field.kind == Kind::MultiEnum {
                    let star = if field.required { "*" } else { "" };
                    lines.push(Line::styled(
                        format!("{}{star}", field.label),
                        theme.fg(Color::Cyan).add_modifier(Modifier::BOLD),
                    ));
                    continue;
                }
                let value = value_text(seed.consent.get(&field.id));
                let hint = match field.kind {
                    Kind::Enum => field.values.iter().find(|v| v.value == value).map(|v| {
                        format!(
                            "◂ ▸ {}{}",
                            v.description,
                            v.status
                                .as_ref()
                                .map(|s| format!(" ({s})"))
                                .unwrap_or_default()
                        )
                    }),
                    _ if selected => Some(field.description.clone()),
                    _ => None,
                };
                (
                    format!("{}{}", field.label, if field.required { "*" } else { "" }),
                    value,
                    hint,
                )
            }
            Row::Choice(f, v) => {
                let field = &seed.pack.fields[*f];
                let desc = &field.values[*v];
                let on = matches!(seed.consent.get(&field.id), Some(FieldValue::Json(Value::Array(a))) if a.iter().any(|x| x.as_str() == Some(desc.value.as_str())));
                lines.push(check_line(mark, on, desc, style, theme));
                continue;
            }
            Row::Scope => ("scope".into(), seed.scope.clone(), None),
            Row::MaxAge => (
                "max_age".into(),
                seed.max_age.map_or("—".into(), |m| m.to_string()),
                None,
            ),
            Row::Lifetime => ("lifetime (s)".into(), seed.lifetime.to_string(), None),
            Row::Userinfo(c) => {
                let claim = &seed.pack.constraints.userinfo_claims[*c];
                if *c == 0 {
                    lines.push(Line::styled(
                        "claims.userinfo",
                        theme.fg(Color::Cyan).add_modifier(Modifier::BOLD),
                    ));
                }
                let on = seed.userinfo_claims.contains(&claim.value);
                lines.push(check_line(mark, on, claim, style, theme));
                continue;
            }
        };
        match editing {
            Some(edit) => {
                let value: Vec<char> = edit.input.value().chars().collect();
                let at = edit.input.visual_cursor().min(value.len());
                let before: String = value[..at].iter().collect();
                let after: String = value[at..].iter().collect();
                let typed = theme.fg(Color::Yellow).add_modifier(Modifier::BOLD);
                lines.push(Line::from(vec![
                    Span::styled(format!("{mark}{label}: "), style),
                    Span::styled(before, typed),
                    Span::styled("▏", typed),
                    Span::styled(after, typed),
                ]));
                let help = edit
                    .error
                    .clone()
                    .map_or("Enter keeps, Esc cancels".to_owned(), |e| format!("✗ {e}"));
                let help_style = if edit.error.is_some() {
                    theme.fg(Color::Red)
                } else {
                    theme.dim()
                };
                lines.extend(
                    wrapped(&help, width, "    ")
                        .into_iter()
                        .map(|l| Line::styled(l, help_style)),
                );
            }
            None => {
                lines.push(Line::from(vec![
                    Span::styled(format!("{mark}{label}: "), style),
                    Span::styled(value, style.add_modifier(Modifier::BOLD)),
                ]));
                if let Some(hint) = hint {
                    lines.extend(
                        wrapped(&hint, width, "    ")
                            .into_iter()
                            .map(|l| Line::styled(l, theme.dim())),
                    );
                }
            }
        }
    }
    let inner_height = area.height.saturating_sub(2) as usize;
    let offset = cursor_line.saturating_sub(inner_height.saturating_sub(3)) as u16;
    frame.render_widget(
        Paragraph::new(lines)
            .block(block(app, theme, Pane::Editor, ""))
            .scroll((offset, 0)),
        area,
    );
}
