//! Dialogs drawn over the panes: help, confirmations, the profile picker, save-as.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::Theme;
use crate::tui::app::{App, Overlay};
use crate::tui::keymap::KEYMAP;

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

pub(super) fn draw_overlay(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let (title, lines, width, height): (&str, Vec<Line>, u16, u16) = match &app.overlay {
        Overlay::None => return,
        Overlay::Help => (
            " Keys ",
            KEYMAP
                .iter()
                .map(|e| {
                    Line::from(vec![
                        Span::styled(format!("{:<11}", e.keys), theme.fg(Color::Cyan)),
                        Span::raw(e.does),
                    ])
                })
                .collect(),
            90,
            KEYMAP.len() as u16 + 2,
        ),
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
