//! Drawing: a function of the state. Wide terminals show the editor and both decoded JWTs
//! side by side with lint and response below; narrow ones show one pane at a time as tabs.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Span, Text};
use ratatui::widgets::{Block, Borders, Paragraph, Tabs, Wrap};

use super::app::{App, Overlay, PANES, Pane};
use crate::core::lint::Severity;

mod compare;
mod dpop;
mod editor;
mod flow;
mod header_footer;
mod history;
mod jwt;
mod lint;
mod overlay;
mod probe;
mod resource;
mod response;
mod wrap;

pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;
/// At least this wide and tall: everything side by side.
const WIDE: (u16, u16) = (140, 32);
/// The consent editor's column on a wide terminal.
const EDITOR_WIDTH: u16 = 42;
/// The right-hand column (assertion, lint): as wide as the assertion's longest
/// claim needs, within these bounds, so the JAR gets the rest.
const SIDE_WIDTH: (u16, u16) = (44, 60);
/// Rows the JAR keeps however long the response.
const JAR_MIN: u16 = 12;
/// Rows the lint keeps however long the assertion.
const LINT_MIN: u16 = 3;

/// Colours, or none when NO_COLOR is set.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    pub fn from_env() -> Theme {
        Theme {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    fn dim(self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default()
        }
    }

    fn selected(self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }

    fn severity(self, s: Severity) -> Style {
        self.fg(match s {
            Severity::Error => Color::Red,
            Severity::Warning => Color::Yellow,
            Severity::Info => Color::Blue,
        })
        .add_modifier(Modifier::BOLD)
    }
}

/// Where each pane was drawn, so the shell can route mouse clicks and wheels.
#[derive(Debug, Default, Clone)]
pub struct HitAreas {
    pub panes: Vec<(Pane, Rect)>,
}

impl HitAreas {
    pub fn pane_at(&self, column: u16, row: u16) -> Option<Pane> {
        self.panes
            .iter()
            .find(|(_, r)| {
                column >= r.x && column < r.x + r.width && row >= r.y && row < r.y + r.height
            })
            .map(|(p, _)| *p)
    }
}

pub fn draw(frame: &mut Frame, app: &App, theme: Theme) -> HitAreas {
    let area = frame.area();
    let mut hits = HitAreas::default();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        frame.render_widget(
            Paragraph::new(too_small_text(app, area)).wrap(Wrap { trim: true }),
            area,
        );
        return hits;
    }
    if let Some(view) = &app.probe {
        probe::draw(frame, view, theme, area);
        return hits;
    }
    let wide = area.width >= WIDE.0 && area.height >= WIDE.1;
    let header_height = if wide { 2 } else { 3 };
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(header_height),
        Constraint::Min(5),
        Constraint::Length(1),
    ])
    .areas(area);
    header_footer::draw_header(frame, app, theme, header);
    if let Some(view) = &app.resource {
        resource::draw(frame, app, view, theme, body, footer);
        overlay::draw_overlay(frame, app, theme, area);
        return hits;
    }
    if let Some(view) = &app.history {
        history::draw(frame, app, view, theme, body, footer);
        overlay::draw_overlay(frame, app, theme, area);
        return hits;
    }
    if wide {
        for (pane, rect) in wide_layout(app, theme, body) {
            draw_pane(frame, app, theme, pane, rect);
            hits.panes.push((pane, rect));
        }
    } else {
        let [tabs, pane] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(body);
        let titles: Vec<String> = PANES
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{} {}", i + 1, p.title()))
            .collect();
        let selected = app.focus.index();
        frame.render_widget(
            Tabs::new(titles)
                .select(selected)
                .highlight_style(theme.selected()),
            tabs,
        );
        draw_pane(frame, app, theme, app.focus, pane);
        hits.panes.push((app.focus, pane));
    }
    header_footer::draw_footer(frame, app, theme, footer);
    overlay::draw_overlay(frame, app, theme, area);
    hits
}

/// Below this the full explanation would be cut off before it says how to quit.
const TINY: (u16, u16) = (40, 8);

/// What a terminal below the minimum shows; a tiny one gets three short lines, so the way out
/// (q, or y at the quit prompt) is always on screen.
fn too_small_text(app: &App, area: Rect) -> String {
    let confirm_quit = matches!(app.overlay, Overlay::ConfirmQuit);
    let (width, height) = (area.width, area.height);
    if width < TINY.0 || height < TINY.1 {
        let action = if confirm_quit {
            "Unsaved: y quits"
        } else {
            "q quits"
        };
        return format!(
            "Terminal too small\n{width}x{height}, needs {MIN_WIDTH}x{MIN_HEIGHT}\n{action}"
        );
    }
    let question = if confirm_quit {
        "\nUnsaved edits: y quits and loses them, any other key goes back."
    } else {
        ""
    };
    format!(
        "Terminal too small: {width}x{height}.\nconsent-explorer needs at least {MIN_WIDTH}x{MIN_HEIGHT} (160x45 shows everything at once).\nEnlarge the window, or press q to quit.{question}"
    )
}

fn block(app: &App, theme: Theme, pane: Pane, extra: &str) -> Block<'static> {
    let index = pane.index() + 1;
    let focused = app.focus == pane;
    let style = if focused {
        theme.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    } else {
        Style::default()
    };
    Block::default()
        .borders(Borders::ALL)
        .border_style(style)
        .title(Span::styled(
            format!(" {index} {}{extra} ", pane.title()),
            style,
        ))
}

/// Wide terminals: the editor at full height; beside it the JAR (as tall as the response
/// leaves, which is enough for the whole consent) with the assertion and lint in a narrower
/// column, and under both the response, as tall as what it has to say.
fn wide_layout(app: &App, theme: Theme, body: Rect) -> [(Pane, Rect); 5] {
    let [editor, main] =
        Layout::horizontal([Constraint::Length(EDITOR_WIDTH), Constraint::Fill(1)]).areas(body);
    let rows = |pane: Pane, width: u16| {
        let inner = width.saturating_sub(2);
        pane_text(app, theme, pane, inner).0.line_count(inner) as u16 + 2
    };
    // The flow stepper (tokens side by side) takes all the rows it may have.
    let response_rows = if flow::takes_over(app) {
        body.height / 2
    } else {
        rows(Pane::Response, main.width).min(body.height / 2)
    };
    let [top, response] =
        Layout::vertical([Constraint::Min(JAR_MIN), Constraint::Length(response_rows)]).areas(main);
    let side = side_width(app).clamp(SIDE_WIDTH.0, SIDE_WIDTH.1);
    let [jar, column] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(side)]).areas(top);
    let assertion_rows = rows(Pane::Assertion, side).min(top.height.saturating_sub(LINT_MIN));
    let [assertion, lint] =
        Layout::vertical([Constraint::Length(assertion_rows), Constraint::Fill(1)]).areas(column);
    [
        (Pane::Editor, editor),
        (Pane::Request, jar),
        (Pane::Assertion, assertion),
        (Pane::Lint, lint),
        (Pane::Response, response),
    ]
}

/// The columns the assertion's longest line needs (gutter, key and value; date notes fold).
fn side_width(app: &App) -> u16 {
    let widest = app.ticket.as_ref().map_or(0, |t| {
        crate::core::display::json_lines(&t.client_assertion.claims)
            .iter()
            .map(|l| l.to_string().chars().count())
            .max()
            .unwrap_or(0)
    });
    u16::try_from(widest + 2 + 2).unwrap_or(u16::MAX)
}

/// What a pane shows, folded to `width` where the pane folds its own lines, with the extra
/// title text and the row to bring into view.
fn pane_text(
    app: &App,
    theme: Theme,
    pane: Pane,
    width: u16,
) -> (Paragraph<'static>, String, Option<usize>) {
    let wrapped = |text: Text<'static>| Paragraph::new(text).wrap(Wrap { trim: false });
    match pane {
        Pane::Editor => (Paragraph::default(), String::new(), None),
        Pane::Request | Pane::Assertion => {
            let rows = jwt::jwt_pane_rows(app, theme, pane, width);
            (Paragraph::new(rows.text), String::new(), rows.anchor)
        }
        Pane::Lint => (
            wrapped(lint::lint_text(app, theme)),
            format!(": {}", crate::core::lint::summary(&app.findings)),
            None,
        ),
        Pane::Response => (
            wrapped(response::response_text(app, theme)),
            String::new(),
            None,
        ),
    }
}

fn draw_pane(frame: &mut Frame, app: &App, theme: Theme, pane: Pane, area: Rect) {
    if pane == Pane::Editor {
        return editor::draw_editor(frame, app, theme, area);
    }
    if pane == Pane::Response && flow::takes_over(app) {
        return flow::draw_flow(frame, app, theme, area);
    }
    let inner = area.width.saturating_sub(2);
    let visible = area.height.saturating_sub(2);
    let (paragraph, extra, anchor) = pane_text(app, theme, pane, inner);
    let rows = paragraph.line_count(inner) as u16;
    let last_start = rows.saturating_sub(visible);
    let scroll = match anchor {
        // Two rows of context above the change; never past the point where the end shows.
        Some(row) if pane == Pane::Request && app.preview.follow => {
            (row as u16).saturating_sub(2).min(last_start)
        }
        _ => app.scroll[pane.index()].min(last_start),
    };
    if pane == Pane::Request {
        app.preview.drawn_scroll.set(scroll);
    }
    frame.render_widget(
        paragraph
            .block(block(app, theme, pane, &extra))
            .scroll((scroll, 0)),
        area,
    );
}
