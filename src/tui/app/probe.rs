//! The probe view's state (`P`): asks first (target and request count shown), then fills its
//! table as rows come through the one channel, each tagged with the run's id; enter on a row
//! shows what was sent and what came back.

use crossterm::event::{KeyCode, KeyEvent};

use super::{App, Effect, Message, RequestId};
use crate::core::probe::{Plan, Report, Row};

#[derive(Debug)]
pub enum ProbeEvent {
    Row(Box<Row>),
    /// The run ended: the report, or why it could not start.
    Finished(Box<Result<Report, String>>),
}

#[derive(Debug)]
pub enum Phase {
    /// Target and request count shown; nothing sent until enter.
    Confirm,
    Running,
    Finished(Box<Report>),
    Failed(String),
}

#[derive(Debug)]
pub struct ProbeView {
    pub phase: Phase,
    /// The run whose rows this view takes: rows of a run left behind are dropped.
    pub id: RequestId,
    pub plan: Plan,
    pub target: String,
    pub rows: Vec<Row>,
    pub selected: usize,
    /// Enter on a row: its request and answer instead of the table.
    pub detail: bool,
    pub scroll: u16,
}

impl ProbeView {
    /// Rows a whole run fills: both controls and every case.
    pub fn total(&self) -> usize {
        self.plan.cases().len() + 2
    }

    pub fn running(&self) -> bool {
        matches!(self.phase, Phase::Running)
    }
}

impl App {
    /// `P`: the probe view, asking before anything is sent.
    pub(super) fn open_probe(&mut self) {
        let seed = self.session.seed();
        let target =
            seed.endpoints.par.clone().unwrap_or_else(|| {
                format!("{} (PAR endpoint from discovery)", seed.endpoints.issuer)
            });
        let id = self.probe.as_ref().map_or(self.probe_id, |p| p.id);
        self.probe = Some(ProbeView {
            phase: Phase::Confirm,
            id,
            plan: Plan::all(),
            target,
            rows: Vec::new(),
            selected: 0,
            detail: false,
            scroll: 0,
        });
    }

    pub(super) fn on_probe_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(view) = self.probe.as_mut() else {
            return Vec::new();
        };
        match (key.code, &view.phase) {
            (KeyCode::Esc, _) if view.detail => {
                view.detail = false;
            }
            (KeyCode::Enter | KeyCode::Char('y'), Phase::Confirm) => {
                self.probe_id = self.probe_id.next();
                view.id = self.probe_id;
                view.phase = Phase::Running;
                return vec![Effect::Probe {
                    id: view.id,
                    plan: view.plan.clone(),
                }];
            }
            (KeyCode::Esc | KeyCode::Char('q' | 'P'), _) => {
                let running = view.running();
                self.probe = None;
                // Closing stops the run: nothing more is sent to the server.
                if running {
                    self.probe_id = self.probe_id.next();
                    self.notice = Some("Probe stopped".into());
                    return vec![Effect::StopProbe];
                }
            }
            (KeyCode::Up | KeyCode::Char('k'), _) if view.detail => {
                view.scroll = view.scroll.saturating_sub(1);
            }
            (KeyCode::Down | KeyCode::Char('j'), _) if view.detail => {
                view.scroll = view.scroll.saturating_add(1);
            }
            (KeyCode::Up | KeyCode::Char('k'), _) => {
                view.selected = view.selected.saturating_sub(1);
            }
            (KeyCode::Down | KeyCode::Char('j'), _) => {
                view.selected = (view.selected + 1).min(view.rows.len().saturating_sub(1));
            }
            (KeyCode::Enter, _) if !view.rows.is_empty() => {
                view.detail = true;
                view.scroll = 0;
            }
            _ => {}
        }
        Vec::new()
    }

    pub(super) fn on_probe_event(&mut self, id: RequestId, event: ProbeEvent) -> Vec<Effect> {
        let Some(view) = self.probe.as_mut().filter(|v| v.id == id && v.running()) else {
            return Vec::new();
        };
        match event {
            ProbeEvent::Row(row) => view.rows.push(*row),
            ProbeEvent::Finished(result) => {
                view.phase = match *result {
                    Ok(report) => {
                        self.notice = Some(format!("Probe: {}", report.summary.line()));
                        Phase::Finished(Box::new(report))
                    }
                    Err(e) => Phase::Failed(e),
                };
            }
        }
        Vec::new()
    }
}

impl Message {
    pub fn probe_row(id: RequestId, row: &Row) -> Message {
        Message::Probe {
            id,
            event: ProbeEvent::Row(Box::new(row.clone())),
        }
    }
}
