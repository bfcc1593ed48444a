//! Dialogs drawn over the panes: help, confirmations, the profile picker, save-as.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::Theme;
use crate::tui::app::{App, Overlay};
use crate::tui::keymap::{KEYMAP, RESOURCE_KEYMAP};

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn widest<'a>(texts: impl Iterator<Item = &'a str>) -> usize {
    texts.map(|t| Span::raw(t).width()).max().unwrap_or(0)
}

/// The help's key column: the widest key of the table and two spaces, so no key runs into
/// what it does.
fn key_column_width() -> usize {
    widest(KEYMAP.iter().map(|e| e.keys)) + 2
}

/// `text` padded to `width` columns (by display width: the arrows are one column each).
fn pad(text: &str, width: usize) -> String {
    let fill = width.saturating_sub(Span::raw(text).width());
    format!("{text}{}", " ".repeat(fill))
}

pub(super) fn draw_overlay(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let (title, lines, width, height): (&str, Vec<Line>, u16, u16) = match &app.overlay {
        Overlay::None => return,
        Overlay::Help => {
            let column = key_column_width();
            (
                " Keys ",
                KEYMAP
                    .iter()
                    .map(|e| (e.keys, e.does))
                    .chain(RESOURCE_KEYMAP.iter().map(|e| (e.keys, e.does)))
                    .map(|(keys, does)| {
                        Line::from(vec![
                            Span::styled(pad(keys, column), theme.fg(Color::Cyan)),
                            Span::raw(does),
                        ])
                    })
                    .collect(),
                u16::try_from(column + widest(KEYMAP.iter().map(|e| e.does)) + 2)
                    .unwrap_or(u16::MAX),
                (KEYMAP.len() + RESOURCE_KEYMAP.len()) as u16 + 2,
            )
        }
        Overlay::Compare { scroll } => {
            let width = area.width.saturating_sub(4);
            let lines = super::compare::compare_lines(app, theme, width.saturating_sub(2));
            let height = area.height.saturating_sub(2);
            let rect = centered(area, width, height);
            frame.render_widget(Clear, rect);
            let last_start = (lines.len() as u16).saturating_sub(height.saturating_sub(2));
            frame.render_widget(
                Paragraph::new(lines)
                    .scroll(((*scroll).min(last_start), 0))
                    .block(
                        Block::default()
                            .borders(Borders::ALL)
                            .title(" Compared with the portal sample (↑↓ scroll, esc closes) ")
                            .border_style(theme.fg(Color::Cyan)),
                    ),
                rect,
            );
            return;
        }
        Overlay::ConfirmSubmit => (
            " Lint found errors ",
            vec![
                Line::raw(format!(
                    "A strict server would refuse this request ({}).",
                    crate::core::lint::summary(&app.findings)
                )),
                Line::raw("Send it anyway? y sends, any other key goes back."),
            ],
            80,
            4,
        ),
        Overlay::ConfirmQuit => (
            " Unsaved edits ",
            vec![Line::raw(
                "Quit and lose the edits? y quits, w saves first, any other key goes back.",
            )],
            84,
            3,
        ),
        Overlay::Picker { entries, selected } => (
            " Profiles: enter opens, esc closes ",
            entries
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let source = match &e.source {
                        crate::core::profile::ProfileSource::File(p) => p.display().to_string(),
                        crate::core::profile::ProfileSource::Builtin(_) => "built-in".into(),
                    };
                    Line::styled(
                        format!("{:<24} {source}", e.name),
                        if i == *selected {
                            theme.selected()
                        } else {
                            Style::default()
                        },
                    )
                })
                .collect(),
            90,
            entries.len() as u16 + 2,
        ),
        Overlay::SaveAs { input, error } => (
            " Save as profile (enter saves, esc cancels) ",
            vec![
                Line::from(vec![
                    Span::raw("name: "),
                    Span::styled(format!("{}▏", input.value()), theme.fg(Color::Yellow)),
                ]),
                Line::styled(
                    error
                        .clone()
                        .unwrap_or_else(|| "saved in your config dir's profiles/".into()),
                    if error.is_some() {
                        theme.fg(Color::Red)
                    } else {
                        theme.dim()
                    },
                ),
            ],
            90,
            5,
        ),
        Overlay::Authorize => {
            let (lines, width, height) = super::flow::authorize_overlay(app, theme, area);
            (" Authorize: open this URL ", lines, width, height)
        }
        Overlay::PasteCallback { input, error } => (
            " Paste the redirect URL (enter checks it, esc cancels) ",
            super::flow::paste_overlay(input, error.as_ref(), theme),
            100,
            5,
        ),
    };
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(title)
                .border_style(theme.fg(Color::Cyan)),
        ),
        rect,
    );
}
