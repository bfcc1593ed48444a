//! Dialogs drawn over the panes: help, confirmations, the profile picker, save-as.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::Theme;
use crate::tui::app::{App, Overlay};

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

pub const HELP: &[(&str, &str)] = &[
    (
        "↑ ↓  j k",
        "move in the editor (and in the profile list); scroll other panes",
    ),
    ("space", "toggle a permission, claim or flag"),
    ("◂ ▸  h l", "choose the value of a selector"),
    (
        "enter",
        "edit a text, date or number field (enter keeps, esc cancels)",
    ),
    ("s", "submit the PAR (asks first when lint has errors)"),
    ("r", "push again (e.g. after EXPIRED)"),
    ("c / a", "copy the request_uri / the authorize URL"),
    (
        "y",
        "copy the JWT of the focused pane (request object or assertion)",
    ),
    ("w", "save the edits as a profile"),
    ("p", "pick another profile"),
    ("e", "open the profile in $EDITOR, then reload it"),
    (
        "tab, shift-tab, 1-5",
        "focus a pane (tabs on small terminals)",
    ),
    ("mouse", "click focuses a pane, the wheel scrolls it"),
    ("pgup pgdn", "scroll"),
    ("m", "mouse capture on/off (off lets you select text)"),
    ("?, F1 / esc", "this help / close"),
    ("q, ctrl-c", "quit (asks when edits are unsaved)"),
];

pub(super) fn draw_overlay(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let (title, lines, width, height): (&str, Vec<Line>, u16, u16) = match &app.overlay {
        Overlay::None => return,
        Overlay::Help => (
            " Keys ",
            HELP.iter()
                .map(|(k, d)| {
                    Line::from(vec![
                        Span::styled(format!("{k:<11}"), theme.fg(Color::Cyan)),
                        Span::raw(*d),
                    ])
                })
                .collect(),
            90,
            HELP.len() as u16 + 2,
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
