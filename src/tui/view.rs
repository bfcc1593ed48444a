//! Drawing: a function of the state. Wide terminals show the editor and both decoded JWTs
//! side by side with lint and response below; narrow ones show one pane at a time as tabs.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Tabs, Wrap};
use serde_json::Value;

use super::app::{App, Overlay, PANES, Pane, RequestState, Row};
use crate::core::consent::{FieldValue, Kind};
use crate::core::jws::DecodedJwt;
use crate::core::lint::Severity;
use crate::core::par::Outcome;
use crate::core::time;

pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;
/// At least this wide and tall: everything side by side.
const WIDE: (u16, u16) = (140, 32);

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
        let question = match app.overlay {
            Overlay::ConfirmQuit => {
                "\nUnsaved edits: y quits and loses them, any other key goes back."
            }
            _ => "",
        };
        let text = format!(
            "Terminal too small: {}x{}.\nconsent-explorer needs at least {MIN_WIDTH}x{MIN_HEIGHT} (160x45 shows everything at once).\nEnlarge the window, or press q to quit.{question}",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
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
    draw_header(frame, app, theme, header);
    if wide {
        let [top, bottom] =
            Layout::vertical([Constraint::Min(10), Constraint::Length(13)]).areas(body);
        let [editor, jar, assertion] = Layout::horizontal([
            Constraint::Length(46),
            Constraint::Fill(1),
            Constraint::Fill(1),
        ])
        .areas(top);
        let [lint, response] =
            Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(bottom);
        for (pane, rect) in [
            (Pane::Editor, editor),
            (Pane::Request, jar),
            (Pane::Assertion, assertion),
            (Pane::Lint, lint),
            (Pane::Response, response),
        ] {
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
    draw_footer(frame, app, theme, footer);
    draw_overlay(frame, app, theme, area);
    hits
}

fn draw_header(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let seed = &app.seed;
    let mtls = match &app.client_cert {
        Some(c) => format!("mTLS on ({})", c.subject),
        None => "mTLS off".into(),
    };
    let dirty = if app.dirty {
        "  [modified: w saves]"
    } else {
        ""
    };
    let line1 = Line::from(vec![
        Span::styled(
            "consent-explorer ",
            theme.fg(Color::Cyan).add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            format!("profile {}", app.profile.name),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::styled(dirty, theme.fg(Color::Yellow)),
        Span::raw(format!(
            "   {} {}, kid {}   {mtls}",
            seed.pack.id,
            crate::core::keys::alg_name(app.key.alg()),
            app.key.kid()
        )),
    ]);
    let line2 = Line::from(vec![
        Span::styled("issuer ", theme.dim()),
        Span::raw(seed.endpoints.issuer.clone()),
        Span::styled("   PAR ", theme.dim()),
        Span::raw(
            seed.endpoints
                .par
                .clone()
                .unwrap_or_else(|| "(from discovery)".into()),
        ),
    ]);
    frame.render_widget(
        Paragraph::new(vec![line1, line2]).wrap(Wrap { trim: false }),
        area,
    );
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

fn draw_pane(frame: &mut Frame, app: &App, theme: Theme, pane: Pane, area: Rect) {
    let scroll = app.scroll[pane.index()];
    let (text, extra) = match pane {
        Pane::Editor => return draw_editor(frame, app, theme, area),
        Pane::Request | Pane::Assertion => {
            let jwt = app.ticket.as_ref().map(|t| {
                if pane == Pane::Request {
                    &t.request
                } else {
                    &t.client_assertion
                }
            });
            let text = match (jwt, &app.build_error) {
                (Some(jwt), _) => jwt_text(jwt, app, theme),
                (None, Some(e)) => Text::styled(format!("Cannot build: {e}"), theme.fg(Color::Red)),
                (None, None) => Text::raw(""),
            };
            (text, String::new())
        }
        Pane::Lint => (
            lint_text(app, theme),
            format!(": {}", crate::core::lint::summary(&app.findings)),
        ),
        Pane::Response => (response_text(app, theme), String::new()),
    };
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .block(block(app, theme, pane, &extra))
            .scroll((scroll, 0)),
        area,
    );
}

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
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let last = lines.last_mut().expect("never empty");
        if !last.is_empty() && last.chars().count() + 1 + word.chars().count() > room {
            lines.push(word.to_owned());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines.into_iter().map(|l| format!("{indent}{l}")).collect()
}

fn draw_editor(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
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

/// One line of pretty JSON, coloured: keys, strings, numbers, literals.
fn json_line(line: &str, theme: Theme) -> Line<'static> {
    let (code, comment) = match line.find("    // ") {
        Some(at) => (&line[..at], Some(&line[at..])),
        None => (line, None),
    };
    let indent_len = code.len() - code.trim_start().len();
    let mut spans = vec![Span::raw(code[..indent_len].to_owned())];
    let rest = &code[indent_len..];
    let value = match rest
        .strip_prefix('"')
        .and_then(|r| r.find("\": ").map(|end| (r, end)))
    {
        Some((r, end)) => {
            spans.push(Span::styled(
                format!("\"{}\"", &r[..end]),
                theme.fg(Color::Cyan),
            ));
            spans.push(Span::raw(": "));
            &r[end + 3..]
        }
        None => rest,
    };
    let style = match value.chars().next() {
        Some('"') => theme.fg(Color::Green),
        Some('0'..='9' | '-') => theme.fg(Color::Yellow),
        Some('t' | 'f' | 'n') => theme.fg(Color::Magenta),
        _ => Style::default(),
    };
    spans.push(Span::styled(value.to_owned(), style));
    if let Some(c) = comment {
        spans.push(Span::styled(c.to_owned(), theme.dim()));
    }
    Line::from(spans)
}

fn jwt_text(jwt: &DecodedJwt, app: &App, theme: Theme) -> Text<'static> {
    let mut lines = vec![Line::styled("header", theme.dim())];
    lines.extend(
        time::json_with_dates(&jwt.header, app.now)
            .lines()
            .map(|l| json_line(l, theme)),
    );
    lines.push(Line::styled("payload", theme.dim()));
    lines.extend(
        time::json_with_dates(&jwt.claims, app.now)
            .lines()
            .map(|l| json_line(l, theme)),
    );
    Text::from(lines)
}

fn lint_text(app: &App, theme: Theme) -> Text<'static> {
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

const SPINNER: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];

/// mm:ss in a 3x5 block font, for the request_uri countdown.
fn big_digits(text: &str) -> [String; 5] {
    const FONT: [[&str; 5]; 11] = [
        ["███", "█ █", "█ █", "█ █", "███"],
        ["  █", "  █", "  █", "  █", "  █"],
        ["███", "  █", "███", "█  ", "███"],
        ["███", "  █", "███", "  █", "███"],
        ["█ █", "█ █", "███", "  █", "  █"],
        ["███", "█  ", "███", "  █", "███"],
        ["███", "█  ", "███", "█ █", "███"],
        ["███", "  █", "  █", "  █", "  █"],
        ["███", "█ █", "███", "█ █", "███"],
        ["███", "█ █", "███", "  █", "███"],
        [" ", "█", " ", "█", " "],
    ];
    let mut rows: [String; 5] = Default::default();
    for c in text.chars() {
        let glyph = match c {
            '0'..='9' => FONT[c as usize - '0' as usize],
            _ => FONT[10],
        };
        for (row, part) in rows.iter_mut().zip(glyph) {
            row.push_str(part);
            row.push(' ');
        }
    }
    rows
}

fn response_text(app: &App, theme: Theme) -> Text<'static> {
    let par = app
        .seed
        .endpoints
        .par
        .clone()
        .unwrap_or_else(|| "the PAR endpoint".into());
    match &app.request {
        RequestState::Idle => Text::from(vec![
            Line::raw(format!("Press s to push this request to {par}.")),
            Line::styled(
                "Both JWTs are re-signed with fresh jti, nonce and times on every push.",
                theme.dim(),
            ),
        ]),
        RequestState::Loading { since } => Text::from(vec![Line::styled(
            format!(
                "{} Sending… {:.1} s",
                SPINNER[app.spinner % SPINNER.len()],
                (app.now.as_millisecond() - since.as_millisecond()) as f64 / 1000.0
            ),
            theme.fg(Color::Yellow),
        )]),
        RequestState::Failed(e) => Text::from(vec![
            Line::styled(
                format!("✗ {}", e.message),
                theme.fg(Color::Red).add_modifier(Modifier::BOLD),
            ),
            Line::raw(format!("what to check: {}", e.hint)),
            Line::styled("s tries again", theme.dim()),
        ]),
        RequestState::Done(d) => {
            let x = &d.exchange;
            let mut lines = vec![Line::from(vec![
                Span::styled(
                    format!("{} ", x.status),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                Span::raw(format!(
                    "in {:.1} ms   x-fapi-interaction-id {}",
                    x.elapsed.as_secs_f64() * 1000.0,
                    x.interaction_id
                )),
            ])];
            match &x.outcome {
                Outcome::Accepted { request_uri, .. } => {
                    let left = app.remaining().unwrap_or(0);
                    let colour = match left {
                        0 => Color::Red,
                        1..=10 => Color::Red,
                        11..=30 => Color::Yellow,
                        _ => Color::Green,
                    };
                    lines.push(Line::raw(format!("request_uri {request_uri}")));
                    if left == 0 {
                        lines.push(Line::styled(
                            "EXPIRED: press r to push a fresh request",
                            theme.fg(Color::Red).add_modifier(Modifier::BOLD),
                        ));
                    } else {
                        let clock = format!("{:02}:{:02}", left / 60, left % 60);
                        lines.extend(
                            big_digits(&clock)
                                .into_iter()
                                .map(|r| Line::styled(r, theme.fg(colour))),
                        );
                        lines.push(Line::styled(
                            format!("{clock} left   c copies request_uri, a the authorize URL"),
                            theme.dim(),
                        ));
                    }
                }
                Outcome::Refused {
                    error,
                    error_description,
                    explanation,
                } => {
                    lines.push(Line::styled(
                        format!("Refused: {error}"),
                        theme.fg(Color::Red).add_modifier(Modifier::BOLD),
                    ));
                    if let Some(d) = error_description {
                        lines.push(Line::raw(format!("server says: {d}")));
                    }
                    lines.push(Line::raw(format!("what it means: {explanation}")));
                }
                Outcome::Unexpected { explanation } => {
                    lines.push(Line::styled(explanation.clone(), theme.fg(Color::Red)));
                }
            }
            for note in x.notes() {
                lines.push(Line::styled(format!("note: {note}"), theme.dim()));
            }
            lines.push(Line::raw(""));
            lines.extend(
                x.headers
                    .iter()
                    .map(|(k, v)| Line::styled(format!("{k}: {v}"), theme.dim())),
            );
            lines.extend(x.body.pretty().lines().map(|l| json_line(l, theme)));
            Text::from(lines)
        }
    }
}

fn draw_footer(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let line = match &app.notice {
        Some(n) => Line::styled(n.clone(), theme.fg(Color::Yellow)),
        None => Line::styled(super::keymap::footer(area.width >= 130), theme.dim()),
    };
    frame.render_widget(Paragraph::new(line), area);
}

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

fn draw_overlay(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let (title, lines, width, height): (&str, Vec<Line>, u16, u16) = match &app.overlay {
        Overlay::None => return,
        Overlay::Help => (
            " Keys ",
            super::keymap::KEYMAP
                .iter()
                .map(|e| {
                    Line::from(vec![
                        Span::styled(format!("{:<11}", e.keys), theme.fg(Color::Cyan)),
                        Span::raw(e.does),
                    ])
                })
                .collect(),
            90,
            super::keymap::KEYMAP.len() as u16 + 2,
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
