//! The panes of the main screen, the consent editor's rows, and scrolling within them.

use serde_json::Value;

use super::editor::selectable;
use super::{App, RequestState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Editor,
    Request,
    Assertion,
    Lint,
    Response,
}

pub const PANES: [Pane; 5] = [
    Pane::Editor,
    Pane::Request,
    Pane::Assertion,
    Pane::Lint,
    Pane::Response,
];

impl Pane {
    pub fn title(self) -> &'static str {
        match self {
            Pane::Editor => "Consent",
            Pane::Request => "Request object (JAR)",
            Pane::Assertion => "Client assertion",
            Pane::Lint => "Lint",
            Pane::Response => "Response",
        }
    }

    /// Position among PANES: the tab number less one, and the scroll slot.
    pub fn index(self) -> usize {
        PANES.iter().position(|p| *p == self).unwrap_or(0)
    }
}

/// One line of the consent editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// A field's heading (multi-value fields) or its value (the others); index into pack.fields.
    Field(usize),
    /// One value of a multi-value field: (field, value).
    Choice(usize, usize),
    Scope,
    MaxAge,
    Lifetime,
    /// A claim of claims.userinfo, from the pack's list.
    Userinfo(usize),
}

impl App {
    pub(super) fn scroll_by(&mut self, pane: Pane, delta: i32) {
        if pane == Pane::Editor {
            self.move_cursor(delta.signum());
            return;
        }
        self.stop_following(pane);
        let max = i32::from(self.content_lines(pane).saturating_sub(1));
        let s = &mut self.scroll[pane.index()];
        *s = (i32::from(*s) + delta).clamp(0, max.max(0)) as u16;
    }

    /// About how many lines a pane holds (before wrapping), to bound its scrolling.
    fn content_lines(&self, pane: Pane) -> u16 {
        let json_lines =
            |v: &Value| serde_json::to_string_pretty(v).map_or(0, |t| t.lines().count());
        let lines = match (pane, &self.ticket) {
            (Pane::Request, Some(t)) => {
                json_lines(&t.request.header) + json_lines(&t.request.claims) + 2
            }
            (Pane::Assertion, Some(t)) => {
                json_lines(&t.client_assertion.header) + json_lines(&t.client_assertion.claims) + 2
            }
            (Pane::Lint, _) => self.findings.len() * 4,
            (Pane::Response, _) => match &self.request {
                RequestState::Done(d) => {
                    16 + d.exchange.headers.len() + d.exchange.body.pretty().lines().count()
                }
                _ => 4,
            },
            _ => 0,
        };
        u16::try_from(lines).unwrap_or(u16::MAX)
    }

    pub(super) fn move_cursor(&mut self, step: i32) {
        let mut at = self.cursor as i32;
        loop {
            at += step;
            if at < 0 || at >= self.rows.len() as i32 {
                return;
            }
            if selectable(&self.seed, self.rows[at as usize]) {
                self.cursor = at as usize;
                return;
            }
        }
    }
}
