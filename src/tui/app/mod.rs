//! The TUI's state and its one way to change: `update(message) -> effects`. Effects (submit,
//! clipboard, save, open, editor) are carried out by the shell, which reports back with
//! messages, so update stays testable without a terminal.

mod dialogs;
mod dpop;
mod editor;
mod flow;
mod history;
mod panes;
mod paste;
mod preview;
mod probe;
mod resource;

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use jiff::Timestamp;
use rand::RngCore;
use tui_input::Input;

use super::keymap::{self, Action};
use crate::core::keys::SigningKey;
use crate::core::lint::Finding;
use crate::core::probe::Plan;
use crate::core::profile::{LoadedProfile, ProfileEntry};
use crate::core::request::{ParSeed, ParTicket};
use crate::core::session::{Built, Session};
use crate::core::tls::CertInfo;
use crate::core::transport::{Delivery, NetworkError, Outcome};
pub use dpop::ProofShown;
use editor::{rows_for, selectable};
pub use flow::{
    CallbackWait, FlowReport, FlowState, FlowWork, STEPS, Stage, Step, StepFailure, TokenView,
    report, step_name,
};
pub use history::{HistoryEffect, HistoryMessage, HistoryRow, HistoryView};
pub use panes::{PANES, Pane, Row};
pub use paste::{MAX_PASTE_CHARS, PasteRefused, checked_paste};
pub use preview::{Before, Preview};
pub use probe::{Phase as ProbePhase, ProbeEvent, ProbeView};
pub use resource::{
    Answer, EndpointChoice, Panel, ResourceReport, ResourceView, ResourceWork, consent_status,
};

#[derive(Debug)]
pub enum RequestState {
    Idle,
    Loading { since: Timestamp },
    Done(Box<Delivery>),
    Failed(NetworkError),
}

pub enum Overlay {
    None,
    Help,
    ConfirmSubmit,
    ConfirmQuit,
    Picker {
        entries: Vec<ProfileEntry>,
        selected: usize,
    },
    SaveAs {
        input: Input,
        error: Option<String>,
    },
    /// The authorize URL and its QR code (and, against the sandbox, approve / deny here).
    Authorize,
    /// The whole redirect URL, pasted or typed.
    PasteCallback {
        input: Input,
        error: Option<String>,
    },
    /// Both JWTs beside the portal's sample; `scroll` in rows.
    Compare {
        scroll: u16,
    },
}

pub struct TextEdit {
    pub row: Row,
    pub input: Input,
    pub error: Option<String>,
}

#[derive(Debug)]
pub enum Message {
    Key(KeyEvent),
    /// Text pasted in one piece (bracketed paste): typed into the open field, never run as keys.
    Paste(String),
    /// A click or wheel over a pane (the shell knows where panes are).
    Focus(Pane),
    Scroll(Pane, i32),
    Tick,
    Delivered {
        id: RequestId,
        result: Box<Result<Delivery, NetworkError>>,
    },
    /// The DPoP proof the PAR of submit `id` went with (sent before its `Delivered`).
    ParProof {
        id: RequestId,
        proof: Box<ProofShown>,
    },
    Copied(Result<String, String>),
    /// A save, with the profile as written (so `e` edits the new file).
    Saved(Result<Box<LoadedProfile>, String>),
    Profiles(Vec<ProfileEntry>),
    /// A save found a profile of that name: the next Enter replaces it.
    SaveExists(String),
    /// Something to tell the user.
    Notice(String),
    /// The shell opened another profile, or reopened this one.
    Loaded(Box<Result<Arc<Session>, String>>),
    /// A step of the flow after the PAR reports (see flow.rs).
    Flow {
        id: RequestId,
        report: Box<FlowReport>,
    },
    /// A probe run's row or its end, tagged with the run's id.
    Probe {
        id: RequestId,
        event: ProbeEvent,
    },
    History(HistoryMessage),
    /// A resource call or consent answer (see resource.rs), with the id it answers.
    Resource {
        id: RequestId,
        report: Box<ResourceReport>,
    },
}

/// Which submit an answer belongs to: an answer to any other than the latest is stale.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestId(u64);

impl RequestId {
    fn next(self) -> RequestId {
        RequestId(self.0 + 1)
    }
}

/// What the shell should do. `Debug` leaves out copied text (it may be an assertion).
#[derive(Clone)]
pub enum Effect {
    /// Deliver the ticket through the session; answer with `Message::Delivered` and this id.
    Submit {
        id: RequestId,
        ticket: Box<ParTicket>,
    },
    Copy {
        what: &'static str,
        text: String,
    },
    /// `replace`: the user confirmed replacing an existing profile of that name.
    Save {
        name: String,
        replace: bool,
    },
    ListProfiles,
    Open {
        name: String,
    },
    EditProfile,
    SetMouse(bool),
    /// A step of the flow after the PAR; answer with `Message::Flow` and this id.
    Flow {
        id: RequestId,
        work: FlowWork,
    },
    /// Run the probe plan through the session; each row comes back as `Message::Probe`.
    Probe {
        id: RequestId,
        plan: Plan,
    },
    /// Stop the probe run under way: nothing more is sent.
    StopProbe,
    History(HistoryEffect),
    /// A resource call or consent request; answer with `Message::Resource` and this id.
    Resource {
        id: RequestId,
        work: ResourceWork,
    },
}

impl std::fmt::Debug for Effect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Effect::Submit { id, .. } => write!(f, "Submit({})", id.0),
            Effect::Copy { what, .. } => write!(f, "Copy({what})"),
            Effect::Save { name, replace } => write!(f, "Save({name}, replace: {replace})"),
            Effect::ListProfiles => write!(f, "ListProfiles"),
            Effect::Open { name } => write!(f, "Open({name})"),
            Effect::EditProfile => write!(f, "EditProfile"),
            Effect::SetMouse(on) => write!(f, "SetMouse({on})"),
            Effect::Flow { id, work } => write!(f, "Flow({}, {work:?})", id.0),
            Effect::Probe { id, .. } => write!(f, "Probe({})", id.0),
            Effect::StopProbe => write!(f, "StopProbe"),
            Effect::History(e) => write!(f, "History({e:?})"),
            Effect::Resource { id, work } => write!(f, "Resource({}, {work:?})", id.0),
        }
    }
}

pub struct App {
    /// The profile ready to send; the edits below are made on a working copy of its seed.
    pub session: Arc<Session>,
    /// The profile as last saved (a save changes where `e` opens it).
    pub profile: LoadedProfile,
    pub seed: ParSeed,
    pub key: Arc<SigningKey>,
    pub client_cert: Option<CertInfo>,
    pub ticket: Option<ParTicket>,
    pub build_error: Option<String>,
    pub findings: Vec<Finding>,
    pub rows: Vec<Row>,
    pub cursor: usize,
    pub edit: Option<TextEdit>,
    pub focus: Pane,
    pub scroll: [u16; 5],
    /// What changed with the latest edit, and whether the JAR pane follows it.
    pub preview: Preview,
    pub request: RequestState,
    /// The latest submit's id: answers to others are dropped.
    request_id: RequestId,
    /// The DPoP proof of the submit whose id it carries.
    par_proof: Option<(RequestId, ProofShown)>,
    pub dirty: bool,
    pub overlay: Overlay,
    pub notice: Option<String>,
    pub now: Timestamp,
    pub spinner: usize,
    pub mouse: bool,
    pub quit: bool,
    /// The history pane, while open (`H`).
    pub history: Option<HistoryView>,
    /// The resource step after the token (`u`), while open.
    pub resource: Option<ResourceView>,
    /// Enter on a picker entry, or e, with unsaved edits asks twice.
    discard_armed: bool,
    /// The name a save may replace, once the user has been told it exists.
    replace_armed: Option<String>,
    /// Quit once the save asked for from the quit prompt succeeds.
    quit_after_save: bool,
    /// The stepper after an accepted PAR; `None` before one.
    pub flow: Option<FlowState>,
    /// The latest flow step's id: answers to others are dropped.
    flow_counter: RequestId,
    /// The probe view (`P`), when open.
    pub probe: Option<ProbeView>,
    /// The latest probe run's id: rows of any other are dropped.
    probe_id: RequestId,
    clock: Box<dyn Fn() -> Timestamp + Send>,
    rng: Box<dyn RngCore + Send>,
}

fn ctrl(key: &KeyEvent, c: char) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char(c)
}

impl App {
    pub fn new(
        session: Arc<Session>,
        clock: Box<dyn Fn() -> Timestamp + Send>,
        rng: Box<dyn RngCore + Send>,
    ) -> App {
        let now = clock();
        let seed = session.seed().clone();
        let mut app = App {
            rows: rows_for(&seed),
            profile: session.profile().clone(),
            seed,
            key: session.key().clone(),
            client_cert: session.tls().client_cert.clone(),
            session,
            ticket: None,
            build_error: None,
            findings: Vec::new(),
            cursor: 0,
            edit: None,
            focus: Pane::Editor,
            scroll: [0; 5],
            preview: Preview::default(),
            request: RequestState::Idle,
            request_id: RequestId::default(),
            par_proof: None,
            dirty: false,
            overlay: Overlay::None,
            notice: None,
            now,
            spinner: 0,
            mouse: true,
            quit: false,
            history: None,
            resource: None,
            discard_armed: false,
            replace_armed: None,
            quit_after_save: false,
            flow: None,
            flow_counter: RequestId::default(),
            probe: None,
            probe_id: RequestId::default(),
            clock,
            rng,
        };
        app.cursor = app.first_selectable_row();
        app.rebuild();
        app
    }

    fn first_selectable_row(&self) -> usize {
        self.rows
            .iter()
            .position(|r| selectable(&self.seed, *r))
            .unwrap_or(0)
    }

    /// Re-signs both JWTs from the current edits and lints them.
    pub fn rebuild(&mut self) {
        self.now = (self.clock)();
        match self
            .session
            .build_draft(&self.seed, self.now, &mut self.rng)
        {
            Ok(Built { ticket, findings }) => {
                self.findings = findings;
                self.ticket = Some(ticket);
                self.build_error = None;
            }
            Err(e) => {
                self.build_error = Some(e.to_string());
                self.ticket = None;
                self.findings.clear();
            }
        }
    }

    pub fn overlay_is_none(&self) -> bool {
        matches!(self.overlay, Overlay::None)
    }

    /// The id of the latest submit, the only one whose answer is taken.
    pub fn request_id(&self) -> RequestId {
        self.request_id
    }

    /// How often the shell should send Tick: fast while a spinner turns, every second while
    /// a countdown runs, never when idle.
    pub fn tick_period(&self) -> Option<std::time::Duration> {
        if self.resource.as_ref().is_some_and(ResourceView::busy) {
            return Some(std::time::Duration::from_millis(120));
        }
        if let Some(period) = self.flow_tick_period() {
            return Some(period);
        }
        match &self.request {
            RequestState::Loading { .. } => Some(std::time::Duration::from_millis(120)),
            RequestState::Done(d) => match &d.exchange.outcome {
                Outcome::Accepted { expires_at, .. } if *expires_at > self.now => {
                    Some(std::time::Duration::from_secs(1))
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// Seconds left of the request_uri, when one was issued.
    pub fn remaining(&self) -> Option<i64> {
        match &self.request {
            RequestState::Done(d) => match &d.exchange.outcome {
                Outcome::Accepted { expires_at, .. } => {
                    Some((expires_at.as_second() - self.now.as_second()).max(0))
                }
                _ => None,
            },
            _ => None,
        }
    }

    pub fn update(&mut self, message: Message) -> Vec<Effect> {
        match message {
            Message::Key(key) if key.kind != KeyEventKind::Release => self.on_key(key),
            Message::Key(_) => Vec::new(),
            Message::Paste(text) => {
                self.on_paste(&text);
                Vec::new()
            }
            Message::Focus(pane) => {
                self.focus = pane;
                Vec::new()
            }
            Message::Scroll(pane, delta) => {
                self.scroll_by(pane, delta);
                Vec::new()
            }
            Message::Tick => {
                self.now = (self.clock)();
                self.spinner = self.spinner.wrapping_add(1);
                Vec::new()
            }
            Message::Delivered { id, result } => {
                // An answer to an earlier submit, or to one made before a profile switch.
                let awaited = matches!(self.request, RequestState::Loading { .. });
                if id != self.request_id || !awaited {
                    return Vec::new();
                }
                self.request = match *result {
                    Ok(delivery) => {
                        let accepted =
                            matches!(delivery.exchange.outcome, Outcome::Accepted { .. });
                        self.flow = accepted.then(|| FlowState::ready(self.flow_counter));
                        self.notice = Some(match &delivery.exchange.outcome {
                            Outcome::Accepted { .. } => {
                                "Accepted: o authorizes, c copies the request_uri, a the authorize URL".into()
                            }
                            Outcome::Refused { error, .. } => format!("Refused: {error}"),
                            Outcome::Unexpected { .. } => {
                                "Not an OAuth answer: see the response".into()
                            }
                        });
                        RequestState::Done(Box::new(delivery))
                    }
                    Err(e) => {
                        self.notice = Some(format!("Network/TLS problem: {}", e.message));
                        RequestState::Failed(e)
                    }
                };
                self.now = (self.clock)();
                self.scroll[Pane::Response.index()] = 0;
                if let Some(warning) = self.session.history_warnings().pop() {
                    self.notice = Some(format!("History not kept: {warning}"));
                }
                Vec::new()
            }
            Message::Copied(result) => {
                self.notice = Some(result.unwrap_or_else(|e| format!("Copy failed: {e}")));
                Vec::new()
            }
            Message::Saved(result) => {
                match result {
                    Ok(saved) => {
                        self.dirty = false;
                        self.notice = Some(format!("Saved to {}", saved.source.describe()));
                        self.profile = *saved;
                        self.overlay = Overlay::None;
                        self.replace_armed = None;
                        if self.quit_after_save {
                            self.quit = true;
                        }
                    }
                    Err(e) => {
                        if let Overlay::SaveAs { error, .. } = &mut self.overlay {
                            *error = Some(e.clone());
                        }
                        self.notice = Some(format!("Not saved: {e}"));
                    }
                }
                Vec::new()
            }
            Message::SaveExists(name) => {
                if let Overlay::SaveAs { error, .. } = &mut self.overlay {
                    *error = Some(format!(
                        "a profile named {name} exists: Enter again replaces it"
                    ));
                }
                self.replace_armed = Some(name);
                Vec::new()
            }
            Message::ParProof { id, proof } => {
                self.keep_par_proof(id, *proof);
                Vec::new()
            }
            Message::Notice(text) => {
                self.notice = Some(text);
                Vec::new()
            }
            Message::Profiles(entries) => {
                let selected = entries
                    .iter()
                    .position(|e| e.name == self.profile.name)
                    .unwrap_or(0);
                self.overlay = Overlay::Picker { entries, selected };
                Vec::new()
            }
            Message::Flow { id, report } => self.on_flow_report(id, *report),
            Message::Probe { id, event } => self.on_probe_event(id, event),
            Message::Loaded(result) => {
                match *result {
                    Ok(session) => {
                        self.notice = Some(format!("Profile {} loaded", session.profile().name));
                        self.seed = session.seed().clone();
                        self.rows = rows_for(&self.seed);
                        self.profile = session.profile().clone();
                        self.key = session.key().clone();
                        self.client_cert = session.tls().client_cert.clone();
                        self.session = session;
                        self.cursor = self.first_selectable_row();
                        self.request = RequestState::Idle;
                        self.flow = None;
                        self.dirty = false;
                        self.scroll = [0; 5];
                        self.preview = Preview::default();
                        self.rebuild();
                    }
                    Err(e) => self.notice = Some(format!("Cannot load: {e}")),
                }
                self.overlay = Overlay::None;
                Vec::new()
            }
            Message::History(message) => self.on_history_message(message),
            Message::Resource { id, report } => self.on_resource_report(id, *report),
        }
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if self.edit.is_some() {
            return self.on_edit_key(key);
        }
        if !matches!(self.overlay, Overlay::None) {
            return self.on_overlay_key(key);
        }
        if self.probe.is_some() {
            return self.on_probe_key(key);
        }
        if self.history.is_some() && !ctrl(&key, 'c') {
            return self.on_history_key(key);
        }
        if self.resource.is_some() && !ctrl(&key, 'c') {
            return self.on_resource_key(key);
        }
        // A notice lasts until the next key; then the key hints come back.
        self.notice = None;
        let armed = std::mem::take(&mut self.discard_armed);
        let Some(action) = keymap::action_for(&key) else {
            return Vec::new();
        };
        let in_editor = self.focus == Pane::Editor;
        match action {
            Action::Quit => return self.ask_quit(),
            Action::Help => self.overlay = Overlay::Help,
            Action::Compare => self.overlay = Overlay::Compare { scroll: 0 },
            Action::NextPane => self.focus = PANES[(self.focus.index() + 1) % PANES.len()],
            Action::PreviousPane => {
                self.focus = PANES[(self.focus.index() + PANES.len() - 1) % PANES.len()]
            }
            Action::FocusPane(index) => self.focus = PANES[index],
            Action::Up => self.scroll_by(self.focus, -1),
            Action::Down => self.scroll_by(self.focus, 1),
            Action::PageUp => self.scroll_by(self.focus, -10),
            Action::PageDown => self.scroll_by(self.focus, 10),
            Action::Toggle if in_editor => self.toggle(),
            Action::Previous if in_editor => self.cycle(-1),
            Action::Next if in_editor => self.cycle(1),
            Action::Edit if in_editor => self.start_edit(),
            Action::Toggle | Action::Previous | Action::Next | Action::Edit => {}
            Action::Submit => return self.submit(false),
            Action::CopyRequestUri => return self.copy_request_uri(),
            Action::CopyAuthorizeUrl => return self.copy_authorize_url(),
            Action::CopyJwt => return self.copy_jwt(),
            Action::Save => {
                self.overlay = Overlay::SaveAs {
                    input: Input::new(format!("{}-edited", self.profile.name)),
                    error: None,
                }
            }
            Action::Profiles => return vec![Effect::ListProfiles],
            Action::Probe => self.open_probe(),
            Action::History => return self.open_history(),
            Action::EditProfile => {
                if self.dirty && !armed {
                    self.discard_armed = true;
                    self.notice = Some("Unsaved edits: e again discards them and opens $EDITOR; w saves them first".into());
                    return Vec::new();
                }
                return vec![Effect::EditProfile];
            }
            Action::OpenAuthorize => return self.open_authorize(),
            Action::PasteCallback if !self.awaits_callback() && self.tokens().is_some() => {
                return self.open_consent();
            }
            Action::PasteCallback => self.ask_callback_paste(),
            Action::Resource => return self.open_resource(),
            Action::Refresh => return self.refresh(),
            Action::RevealTokens => self.toggle_reveal(),
            Action::Mouse => {
                self.mouse = !self.mouse;
                self.notice = Some(if self.mouse {
                    "Mouse on: click to focus, wheel to scroll".into()
                } else {
                    "Mouse off: select text with the mouse; m turns it back on".into()
                });
                return vec![Effect::SetMouse(self.mouse)];
            }
        }
        Vec::new()
    }
}
