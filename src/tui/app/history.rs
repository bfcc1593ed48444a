//! The history pane (`H`): flows newest first with their steps; enter opens a step decoded,
//! `y` copies it as curl, `x` exports its flow as HAR. Reads go through the shell (effects
//! answered on the channel, each with the id of the load it answers), so a slow disk never
//! blocks a keypress.

use crossterm::event::{KeyCode, KeyEvent};

use super::{App, Effect, Message};
use crate::core::history::{Entry, FlowSummary};

/// A line of the list: a flow's heading, or one of its steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryRow {
    Flow(usize),
    Step(usize, usize),
}

#[derive(Debug, Default)]
pub struct HistoryView {
    pub flows: Vec<FlowSummary>,
    pub rows: Vec<HistoryRow>,
    pub cursor: usize,
    /// The step open on the right, decoded.
    pub opened: Option<Box<Entry>>,
    pub scroll: u16,
    pub loading: bool,
    pub error: Option<String>,
    /// The latest load's id: answers to earlier ones are dropped.
    pub request: u64,
}

/// What the shell does for the pane.
#[derive(Debug, Clone)]
pub enum HistoryEffect {
    /// Read the flows; answer with `HistoryMessage::Flows`.
    Load { id: u64 },
    /// Read one exchange; answer with `HistoryMessage::Opened`.
    Open { id: u64, entry: i64 },
    /// Make the exchange's curl command; answer with `HistoryMessage::Curl`.
    Curl { entry: i64 },
    /// Write the flow's HAR file; answer with a notice.
    ExportHar { flow: i64 },
}

#[derive(Debug)]
pub enum HistoryMessage {
    Flows {
        id: u64,
        result: Result<Vec<FlowSummary>, String>,
    },
    Opened {
        id: u64,
        result: Result<Box<Entry>, String>,
    },
    /// A curl command with secrets as named placeholders: safe to put on the clipboard.
    Curl(Result<String, String>),
}

impl HistoryView {
    fn rows_of(flows: &[FlowSummary]) -> Vec<HistoryRow> {
        let mut rows = Vec::new();
        for (f, flow) in flows.iter().enumerate() {
            rows.push(HistoryRow::Flow(f));
            rows.extend((0..flow.steps.len()).map(|s| HistoryRow::Step(f, s)));
        }
        rows
    }

    /// The exchange under the cursor, if it is a step.
    pub fn selected_entry(&self) -> Option<i64> {
        match self.rows.get(self.cursor)? {
            HistoryRow::Step(f, s) => Some(self.flows[*f].steps[*s].id),
            HistoryRow::Flow(_) => None,
        }
    }

    /// The flow the cursor is in.
    pub fn selected_flow(&self) -> Option<i64> {
        match self.rows.get(self.cursor)? {
            HistoryRow::Step(f, _) | HistoryRow::Flow(f) => Some(self.flows[*f].id),
        }
    }

    fn next_request(&mut self) -> u64 {
        self.request += 1;
        self.request
    }
}

impl App {
    pub(super) fn open_history(&mut self) -> Vec<Effect> {
        let mut view = HistoryView {
            loading: true,
            ..HistoryView::default()
        };
        let id = view.next_request();
        self.history = Some(view);
        vec![Effect::History(HistoryEffect::Load { id })]
    }

    pub(super) fn on_history_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(view) = self.history.as_mut() else {
            return Vec::new();
        };
        self.notice = None;
        let last = view.rows.len().saturating_sub(1);
        match key.code {
            KeyCode::Esc | KeyCode::Char('H') | KeyCode::Char('q') => {
                // Back from the open step first, then out of the pane.
                let step_was_open = view.opened.take().is_some();
                if !step_was_open {
                    self.history = None;
                }
            }
            KeyCode::Up | KeyCode::Char('k') if view.opened.is_some() => {
                view.scroll = view.scroll.saturating_sub(1)
            }
            KeyCode::Down | KeyCode::Char('j') if view.opened.is_some() => {
                view.scroll = view.scroll.saturating_add(1)
            }
            KeyCode::Up | KeyCode::Char('k') => view.cursor = view.cursor.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => view.cursor = (view.cursor + 1).min(last),
            KeyCode::PageUp => view.scroll = view.scroll.saturating_sub(10),
            KeyCode::PageDown => view.scroll = view.scroll.saturating_add(10),
            KeyCode::Enter => {
                if let Some(entry) = view.selected_entry() {
                    let id = view.next_request();
                    view.scroll = 0;
                    return vec![Effect::History(HistoryEffect::Open { id, entry })];
                }
            }
            KeyCode::Char('y') => {
                let entry = view
                    .opened
                    .as_ref()
                    .map(|e| e.summary.id)
                    .or_else(|| view.selected_entry());
                match entry {
                    Some(entry) => return vec![Effect::History(HistoryEffect::Curl { entry })],
                    None => self.notice = Some("Select a step to copy it as curl".into()),
                }
            }
            KeyCode::Char('x') => {
                let flow = view
                    .opened
                    .as_ref()
                    .map(|e| e.summary.flow_id)
                    .or_else(|| view.selected_flow());
                if let Some(flow) = flow {
                    return vec![Effect::History(HistoryEffect::ExportHar { flow })];
                }
            }
            KeyCode::Char('r') => {
                let id = view.next_request();
                view.loading = true;
                return vec![Effect::History(HistoryEffect::Load { id })];
            }
            _ => {}
        }
        Vec::new()
    }

    pub(super) fn on_history_message(&mut self, message: HistoryMessage) -> Vec<Effect> {
        if let HistoryMessage::Curl(result) = message {
            return match result {
                Ok(text) => vec![Effect::Copy {
                    what: "curl command (secrets as {{placeholders}})",
                    text,
                }],
                Err(e) => {
                    self.notice = Some(format!("Cannot copy: {e}"));
                    Vec::new()
                }
            };
        }
        let Some(view) = self.history.as_mut() else {
            return Vec::new();
        };
        match message {
            HistoryMessage::Flows { id, result } if id == view.request => {
                view.loading = false;
                match result {
                    Ok(flows) => {
                        view.rows = HistoryView::rows_of(&flows);
                        view.flows = flows;
                        view.cursor = view.cursor.min(view.rows.len().saturating_sub(1));
                        view.error = None;
                    }
                    Err(e) => view.error = Some(e),
                }
            }
            HistoryMessage::Opened { id, result } if id == view.request => match result {
                Ok(entry) => view.opened = Some(entry),
                Err(e) => self.notice = Some(format!("Cannot open: {e}")),
            },
            _ => {}
        }
        Vec::new()
    }
}

/// A message for the history pane, as the shell sends it.
impl From<HistoryMessage> for Message {
    fn from(m: HistoryMessage) -> Message {
        Message::History(m)
    }
}
