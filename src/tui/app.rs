//! The TUI's state and its one way to change: `update(message) -> effects`. Effects (submit,
//! clipboard, save, open, editor) are carried out by the shell, which reports back with
//! messages, so update stays testable without a terminal.

use std::sync::Arc;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use jiff::Timestamp;
use rand::RngCore;
use serde_json::Value;
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

use crate::core::consent::{FieldValue, Kind, PackSet};
use crate::core::keys::SigningKey;
use crate::core::lint::{self, Finding};
use crate::core::par::{Delivery, NetworkError, Outcome};
use crate::core::profile::{self, LoadedProfile, ProfileEntry, ProfileSource};
use crate::core::request::ParSeed;
use crate::core::request::{self, ParTicket};
use crate::core::tls::CertInfo;

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
}

pub struct TextEdit {
    pub row: Row,
    pub input: Input,
    pub error: Option<String>,
}

#[derive(Debug)]
pub enum Message {
    Key(KeyEvent),
    /// A click or wheel over a pane (the shell knows where panes are).
    Focus(Pane),
    Scroll(Pane, i32),
    Tick,
    Delivered(Box<Result<Delivery, NetworkError>>),
    Copied(Result<String, String>),
    /// A save, with the profile as written (so `e` edits the new file).
    Saved(Result<Box<LoadedProfile>, String>),
    Profiles(Vec<ProfileEntry>),
    /// A save found a profile of that name: the next Enter replaces it.
    SaveExists(String),
    /// Something to tell the user.
    Notice(String),
    /// The shell loaded another profile, or reloaded this one.
    Loaded(Box<Result<Loaded, String>>),
}

/// What a profile switch brings.
pub struct Loaded {
    pub profile: LoadedProfile,
    pub seed: ParSeed,
    pub key: Arc<SigningKey>,
    pub client_cert: Option<CertInfo>,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("profile", &self.profile.name)
            .finish_non_exhaustive()
    }
}

/// What the shell should do. `Debug` leaves out copied text (it may be an assertion).
#[derive(Clone)]
pub enum Effect {
    Submit(Box<ParTicket>),
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
    Quit,
}

impl std::fmt::Debug for Effect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Effect::Submit(_) => write!(f, "Submit"),
            Effect::Copy { what, .. } => write!(f, "Copy({what})"),
            Effect::Save { name, replace } => write!(f, "Save({name}, replace: {replace})"),
            Effect::ListProfiles => write!(f, "ListProfiles"),
            Effect::Open { name } => write!(f, "Open({name})"),
            Effect::EditProfile => write!(f, "EditProfile"),
            Effect::SetMouse(on) => write!(f, "SetMouse({on})"),
            Effect::Quit => write!(f, "Quit"),
        }
    }
}

pub struct App {
    pub profile: LoadedProfile,
    pub packs: PackSet,
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
    pub request: RequestState,
    pub dirty: bool,
    pub overlay: Overlay,
    pub notice: Option<String>,
    pub now: Timestamp,
    pub spinner: usize,
    pub mouse: bool,
    pub quit: bool,
    /// Enter on a picker entry, or e, with unsaved edits asks twice.
    discard_armed: bool,
    /// The name a save may replace, once the user has been told it exists.
    replace_armed: Option<String>,
    /// Quit once the save asked for from the quit prompt succeeds.
    quit_after_save: bool,
    clock: Box<dyn Fn() -> Timestamp + Send>,
    rng: Box<dyn RngCore + Send>,
}

fn rows_for(seed: &ParSeed) -> Vec<Row> {
    let mut rows = Vec::new();
    for (i, field) in seed.pack.fields.iter().enumerate() {
        if field.kind == Kind::Const {
            continue;
        }
        rows.push(Row::Field(i));
        if field.kind == Kind::MultiEnum {
            rows.extend((0..field.values.len()).map(|v| Row::Choice(i, v)));
        }
    }
    rows.extend([Row::Scope, Row::MaxAge, Row::Lifetime]);
    rows.extend((0..seed.pack.constraints.userinfo_claims.len()).map(Row::Userinfo));
    rows
}

fn selectable(seed: &ParSeed, row: Row) -> bool {
    !matches!(row, Row::Field(i) if seed.pack.fields[i].kind == Kind::MultiEnum)
}

fn ctrl(key: &KeyEvent, c: char) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char(c)
}

impl App {
    pub fn new(
        loaded: Loaded,
        packs: PackSet,
        clock: Box<dyn Fn() -> Timestamp + Send>,
        rng: Box<dyn RngCore + Send>,
    ) -> App {
        let now = clock();
        let mut app = App {
            rows: rows_for(&loaded.seed),
            profile: loaded.profile,
            packs,
            seed: loaded.seed,
            key: loaded.key,
            client_cert: loaded.client_cert,
            ticket: None,
            build_error: None,
            findings: Vec::new(),
            cursor: 0,
            edit: None,
            focus: Pane::Editor,
            scroll: [0; 5],
            request: RequestState::Idle,
            dirty: false,
            overlay: Overlay::None,
            notice: None,
            now,
            spinner: 0,
            mouse: true,
            quit: false,
            discard_armed: false,
            replace_armed: None,
            quit_after_save: false,
            clock,
            rng,
        };
        app.cursor = app
            .rows
            .iter()
            .position(|r| selectable(&app.seed, *r))
            .unwrap_or(0);
        app.rebuild();
        app
    }

    /// Re-signs both JWTs from the current edits and lints them.
    pub fn rebuild(&mut self) {
        self.now = (self.clock)();
        match request::build(&self.seed, &self.key, self.now, &mut self.rng) {
            Ok(ticket) => {
                self.findings =
                    lint::lint_ticket(&ticket, &self.seed, &self.key, &self.packs, self.now);
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

    /// How often the shell should send Tick: fast while a spinner turns, every second while
    /// a countdown runs, never when idle.
    pub fn tick_period(&self) -> Option<std::time::Duration> {
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
            Message::Delivered(result) => {
                self.request = match *result {
                    Ok(delivery) => {
                        self.notice = Some(match &delivery.exchange.outcome {
                            Outcome::Accepted { .. } => {
                                "Accepted: c copies the request_uri, a the authorize URL".into()
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
                            return vec![Effect::Quit];
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
            Message::Loaded(result) => {
                match *result {
                    Ok(loaded) => {
                        self.notice = Some(format!("Profile {} loaded", loaded.profile.name));
                        self.rows = rows_for(&loaded.seed);
                        self.profile = loaded.profile;
                        self.seed = loaded.seed;
                        self.key = loaded.key;
                        self.client_cert = loaded.client_cert;
                        self.cursor = self
                            .rows
                            .iter()
                            .position(|r| selectable(&self.seed, *r))
                            .unwrap_or(0);
                        self.request = RequestState::Idle;
                        self.dirty = false;
                        self.scroll = [0; 5];
                        self.rebuild();
                    }
                    Err(e) => self.notice = Some(format!("Cannot load: {e}")),
                }
                self.overlay = Overlay::None;
                Vec::new()
            }
        }
    }

    fn scroll_by(&mut self, pane: Pane, delta: i32) {
        if pane == Pane::Editor {
            self.move_cursor(delta.signum());
            return;
        }
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

    fn move_cursor(&mut self, step: i32) {
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

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if self.edit.is_some() {
            return self.on_edit_key(key);
        }
        if !matches!(self.overlay, Overlay::None) {
            return self.on_overlay_key(key);
        }
        // A notice lasts until the next key; then the key hints come back.
        self.notice = None;
        let armed = std::mem::take(&mut self.discard_armed);
        match key.code {
            _ if ctrl(&key, 'c') => self.ask_quit(),
            KeyCode::Char('q') => self.ask_quit(),
            KeyCode::Char('?') | KeyCode::F(1) => {
                self.overlay = Overlay::Help;
                Vec::new()
            }
            KeyCode::Tab => {
                self.focus = PANES[(self.focus.index() + 1) % PANES.len()];
                Vec::new()
            }
            KeyCode::BackTab => {
                self.focus = PANES[(self.focus.index() + PANES.len() - 1) % PANES.len()];
                Vec::new()
            }
            KeyCode::Char(c @ '1'..='5') => {
                self.focus = PANES[c as usize - '1' as usize];
                Vec::new()
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.scroll_by(self.focus, -1);
                Vec::new()
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.scroll_by(self.focus, 1);
                Vec::new()
            }
            KeyCode::PageUp => {
                self.scroll_by(self.focus, -10);
                Vec::new()
            }
            KeyCode::PageDown => {
                self.scroll_by(self.focus, 10);
                Vec::new()
            }
            KeyCode::Char(' ') if self.focus == Pane::Editor => {
                self.toggle();
                Vec::new()
            }
            KeyCode::Left | KeyCode::Char('h') if self.focus == Pane::Editor => {
                self.cycle(-1);
                Vec::new()
            }
            KeyCode::Right | KeyCode::Char('l') if self.focus == Pane::Editor => {
                self.cycle(1);
                Vec::new()
            }
            KeyCode::Enter if self.focus == Pane::Editor => {
                self.start_edit();
                Vec::new()
            }
            KeyCode::Char('s') | KeyCode::Char('r') => self.submit(false),
            KeyCode::Char('c') => self.copy_request_uri(),
            KeyCode::Char('a') => self.copy_authorize_url(),
            KeyCode::Char('y') => self.copy_jwt(),
            KeyCode::Char('w') => {
                let name = format!("{}-edited", self.profile.name);
                self.overlay = Overlay::SaveAs {
                    input: Input::new(name),
                    error: None,
                };
                Vec::new()
            }
            KeyCode::Char('p') => vec![Effect::ListProfiles],
            KeyCode::Char('e') => {
                if self.dirty && !armed {
                    self.discard_armed = true;
                    self.notice = Some("Unsaved edits: e again discards them and opens $EDITOR; w saves them first".into());
                    return Vec::new();
                }
                vec![Effect::EditProfile]
            }
            KeyCode::Char('m') => {
                self.mouse = !self.mouse;
                self.notice = Some(if self.mouse {
                    "Mouse on: click to focus, wheel to scroll".into()
                } else {
                    "Mouse off: select text with the mouse; m turns it back on".into()
                });
                vec![Effect::SetMouse(self.mouse)]
            }
            _ => Vec::new(),
        }
    }

    fn ask_quit(&mut self) -> Vec<Effect> {
        if self.dirty {
            self.overlay = Overlay::ConfirmQuit;
            Vec::new()
        } else {
            self.quit = true;
            vec![Effect::Quit]
        }
    }

    pub fn submit(&mut self, confirmed: bool) -> Vec<Effect> {
        if matches!(self.request, RequestState::Loading { .. }) {
            self.notice = Some("A request is already in flight: wait for its answer".into());
            return Vec::new();
        }
        // A fresh build: new jti, nonce, state and times for every push.
        self.rebuild();
        if !confirmed && lint::has_errors(&self.findings) {
            self.overlay = Overlay::ConfirmSubmit;
            return Vec::new();
        }
        let Some(ticket) = self.ticket.clone() else {
            self.notice = Some(format!(
                "Nothing to send: {}",
                self.build_error.clone().unwrap_or_default()
            ));
            return Vec::new();
        };
        self.request = RequestState::Loading { since: self.now };
        self.notice = None;
        vec![Effect::Submit(Box::new(ticket))]
    }

    fn accepted(&self) -> Option<(&Delivery, &str)> {
        match &self.request {
            RequestState::Done(d) => match &d.exchange.outcome {
                Outcome::Accepted { request_uri, .. } => Some((d, request_uri.as_str())),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn authorize_url(&self) -> Option<String> {
        let (delivery, request_uri) = self.accepted()?;
        let endpoint = delivery.authorization_endpoint.as_deref()?;
        Some(crate::core::par::authorize_url(
            endpoint,
            &self.seed.client_id,
            request_uri,
        ))
    }

    fn copy_request_uri(&mut self) -> Vec<Effect> {
        if self.remaining() == Some(0) {
            self.notice = Some("That request_uri expired: r pushes a fresh request".into());
            return Vec::new();
        }
        match self.accepted() {
            Some((_, uri)) => vec![Effect::Copy {
                what: "request_uri",
                text: uri.to_owned(),
            }],
            None => {
                self.notice = Some("No request_uri yet: submit with s".into());
                Vec::new()
            }
        }
    }

    fn copy_authorize_url(&mut self) -> Vec<Effect> {
        if self.remaining() == Some(0) {
            self.notice = Some("That request_uri expired: r pushes a fresh request".into());
            return Vec::new();
        }
        match self.authorize_url() {
            Some(url) => vec![Effect::Copy {
                what: "authorize URL",
                text: url,
            }],
            None => {
                self.notice = Some("No authorize URL yet: submit with s".into());
                Vec::new()
            }
        }
    }

    fn copy_jwt(&mut self) -> Vec<Effect> {
        let Some(ticket) = &self.ticket else {
            return Vec::new();
        };
        if self.focus == Pane::Assertion {
            vec![Effect::Copy {
                what: "client assertion",
                text: ticket.client_assertion.compact.clone(),
            }]
        } else {
            vec![Effect::Copy {
                what: "request object",
                text: ticket.request.compact.clone(),
            }]
        }
    }

    fn on_overlay_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let close = matches!(key.code, KeyCode::Esc) || ctrl(&key, 'c');
        match &mut self.overlay {
            Overlay::Help => {
                if close || matches!(key.code, KeyCode::Char('?' | 'q') | KeyCode::Enter) {
                    self.overlay = Overlay::None;
                }
                Vec::new()
            }
            Overlay::ConfirmSubmit => {
                self.overlay = Overlay::None;
                if matches!(key.code, KeyCode::Char('y' | 'Y')) {
                    self.submit(true)
                } else {
                    Vec::new()
                }
            }
            Overlay::ConfirmQuit => match key.code {
                KeyCode::Char('y' | 'Y') => {
                    self.quit = true;
                    vec![Effect::Quit]
                }
                KeyCode::Char('w') => {
                    self.quit_after_save = true;
                    self.overlay = Overlay::SaveAs {
                        input: Input::new(format!("{}-edited", self.profile.name)),
                        error: None,
                    };
                    Vec::new()
                }
                _ => {
                    self.overlay = Overlay::None;
                    Vec::new()
                }
            },
            Overlay::Picker { entries, selected } => match key.code {
                _ if close => {
                    self.overlay = Overlay::None;
                    Vec::new()
                }
                KeyCode::Up | KeyCode::Char('k') => {
                    *selected = selected.saturating_sub(1);
                    Vec::new()
                }
                KeyCode::Down | KeyCode::Char('j') => {
                    *selected = (*selected + 1).min(entries.len().saturating_sub(1));
                    Vec::new()
                }
                KeyCode::Enter => {
                    let Some(entry) = entries.get(*selected) else {
                        return Vec::new();
                    };
                    if self.dirty && !self.discard_armed {
                        self.discard_armed = true;
                        self.notice = Some("Unsaved edits: press Enter again to discard them, or Esc and w to save".into());
                        return Vec::new();
                    }
                    self.discard_armed = false;
                    // A file is opened by its path: the same name may also be built in.
                    let name = match &entry.source {
                        ProfileSource::File(path) => path.display().to_string(),
                        ProfileSource::Builtin(name) => name.clone(),
                    };
                    vec![Effect::Open { name }]
                }
                _ => Vec::new(),
            },
            Overlay::SaveAs { input, error } => match key.code {
                _ if close => {
                    self.overlay = Overlay::None;
                    self.quit_after_save = false;
                    self.replace_armed = None;
                    Vec::new()
                }
                KeyCode::Enter => {
                    let name = input.value().trim().to_owned();
                    if profile::valid_profile_name(&name) {
                        let replace = self.replace_armed.as_deref() == Some(name.as_str());
                        vec![Effect::Save { name, replace }]
                    } else {
                        *error = Some("use letters, digits, . _ and - only".into());
                        Vec::new()
                    }
                }
                _ => {
                    input.handle_event(&Event::Key(key));
                    *error = None;
                    Vec::new()
                }
            },
            Overlay::None => Vec::new(),
        }
    }

    fn current_row(&self) -> Option<Row> {
        self.rows.get(self.cursor).copied()
    }

    fn set_consent(&mut self, id: &str, value: Option<FieldValue>) {
        match value {
            Some(v) => {
                self.seed.consent.insert(id.to_owned(), v);
            }
            None => {
                self.seed.consent.remove(id);
            }
        }
        self.edited();
    }

    fn edited(&mut self) {
        self.dirty = true;
        self.rebuild();
    }

    fn toggle(&mut self) {
        match self.current_row() {
            Some(Row::Choice(f, v)) => {
                let field = self.seed.pack.fields[f].clone();
                let value = field.values[v].value.clone();
                let mut chosen: Vec<String> = match self.seed.consent.get(&field.id) {
                    Some(FieldValue::Json(Value::Array(a))) => a
                        .iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect(),
                    _ => Vec::new(),
                };
                if chosen.contains(&value) {
                    chosen.retain(|c| *c != value);
                } else {
                    chosen.push(value);
                }
                // Keep the pack's order, so a toggle back gives the same JWT.
                let ordered: Vec<Value> = field
                    .values
                    .iter()
                    .filter(|d| chosen.contains(&d.value))
                    .map(|d| Value::String(d.value.clone()))
                    .collect();
                self.set_consent(&field.id, Some(FieldValue::Json(Value::Array(ordered))));
            }
            Some(Row::Field(f)) if self.seed.pack.fields[f].kind == Kind::Bool => {
                let field = &self.seed.pack.fields[f];
                let next = !matches!(
                    self.seed.consent.get(&field.id),
                    Some(FieldValue::Json(Value::Bool(true)))
                );
                let id = field.id.clone();
                self.set_consent(&id, Some(FieldValue::Json(Value::Bool(next))));
            }
            Some(Row::Userinfo(i)) => {
                let claim = self.seed.pack.constraints.userinfo_claims[i].value.clone();
                if self.seed.userinfo_claims.contains(&claim) {
                    self.seed.userinfo_claims.retain(|c| *c != claim);
                } else {
                    let order: Vec<String> = self
                        .seed
                        .pack
                        .constraints
                        .userinfo_claims
                        .iter()
                        .map(|c| c.value.clone())
                        .collect();
                    self.seed.userinfo_claims.push(claim);
                    self.seed
                        .userinfo_claims
                        .sort_by_key(|c| order.iter().position(|o| o == c));
                }
                self.edited();
            }
            Some(Row::Field(f)) if self.seed.pack.fields[f].kind == Kind::Enum => self.cycle(1),
            _ => {
                self.notice =
                    Some("Enter edits this field; space toggles checklists and flags".into())
            }
        }
    }

    fn cycle(&mut self, step: i32) {
        let Some(Row::Field(f)) = self.current_row() else {
            return;
        };
        let field = self.seed.pack.fields[f].clone();
        if field.kind != Kind::Enum {
            return;
        }
        let mut options: Vec<Option<&str>> = field
            .values
            .iter()
            .map(|v| Some(v.value.as_str()))
            .collect();
        if !field.required {
            options.insert(0, None);
        }
        let current = match self.seed.consent.get(&field.id) {
            Some(FieldValue::Json(Value::String(s))) => Some(s.as_str()),
            _ => None,
        };
        let at = options.iter().position(|o| *o == current).unwrap_or(0) as i32;
        let next =
            options[(at + step).rem_euclid(options.len() as i32) as usize].map(str::to_owned);
        self.set_consent(&field.id, next.map(|v| FieldValue::Json(Value::String(v))));
    }

    fn start_edit(&mut self) {
        let Some(row) = self.current_row() else {
            return;
        };
        let text = match row {
            Row::Field(f) => {
                let field = &self.seed.pack.fields[f];
                if matches!(field.kind, Kind::Enum | Kind::Bool | Kind::MultiEnum) {
                    return;
                }
                match self.seed.consent.get(&field.id) {
                    Some(FieldValue::Json(Value::String(s))) => s.clone(),
                    Some(FieldValue::Json(v)) => v.to_string(),
                    Some(FieldValue::Moment(crate::core::time::Moment::Relative {
                        text, ..
                    })) => text.clone(),
                    Some(FieldValue::Moment(crate::core::time::Moment::At(ts))) => {
                        crate::core::time::rfc3339_seconds(*ts)
                    }
                    Some(FieldValue::NewUuid) | None => String::new(),
                }
            }
            Row::Scope => self.seed.scope.clone(),
            Row::MaxAge => self.seed.max_age.map(|m| m.to_string()).unwrap_or_default(),
            Row::Lifetime => self.seed.lifetime.to_string(),
            Row::Choice(..) | Row::Userinfo(_) => return,
        };
        self.edit = Some(TextEdit {
            row,
            input: Input::new(text),
            error: None,
        });
    }

    fn on_edit_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(edit) = self.edit.as_mut() else {
            return Vec::new();
        };
        match key.code {
            KeyCode::Esc => self.edit = None,
            KeyCode::Enter => {
                let row = edit.row;
                let text = edit.input.value().to_owned();
                match self.commit(row, &text) {
                    Ok(()) => {
                        self.edit = None;
                        self.edited();
                    }
                    Err(e) => {
                        if let Some(edit) = self.edit.as_mut() {
                            edit.error = Some(e);
                        }
                    }
                }
            }
            _ if ctrl(&key, 'c') => self.edit = None,
            _ => {
                edit.input.handle_event(&Event::Key(key));
                edit.error = None;
            }
        }
        Vec::new()
    }

    /// Checks an edited value as the profile loader would, and applies it.
    fn commit(&mut self, row: Row, text: &str) -> Result<(), String> {
        match row {
            Row::Field(f) => {
                let field = self.seed.pack.fields[f].clone();
                let accepted = field
                    .parse_text(text)
                    .and_then(|raw| field.accept(&raw))
                    .map_err(|e| e.to_string())?;
                match accepted {
                    Some(v) => self.seed.consent.insert(field.id.clone(), v),
                    None => self.seed.consent.remove(&field.id),
                };
            }
            Row::Scope => {
                if text.trim().is_empty() {
                    return Err("scope cannot be empty (FAPI servers want at least openid)".into());
                }
                self.seed.scope = text.split_whitespace().collect::<Vec<_>>().join(" ");
            }
            Row::MaxAge => {
                self.seed.max_age = match text.trim() {
                    "" => None,
                    t => Some(
                        t.parse::<i64>()
                            .ok()
                            .filter(|v| *v >= 0)
                            .ok_or("a whole number of seconds, or empty for none")?,
                    ),
                };
            }
            Row::Lifetime => {
                let v = text
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|v| (1..=profile::MAX_LIFETIME).contains(v));
                self.seed.lifetime = v.ok_or(format!("1 to {} seconds", profile::MAX_LIFETIME))?;
            }
            Row::Choice(..) | Row::Userinfo(_) => {}
        }
        Ok(())
    }
}
