//! What the shell is asked to do and the dialogs around it: submit (with its lint prompt),
//! copies, quit, save as, and the profile picker.

use crossterm::event::{Event, KeyCode, KeyEvent};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

use super::{App, Effect, Overlay, Pane, RequestState, ctrl};
use crate::core::lint;
use crate::core::profile::{self, ProfileSource};
use crate::core::transport::{Delivery, Outcome};

/// More rows than a comparison has (about two per claim).
const COMPARE_ROWS: u16 = 200;

impl App {
    pub(super) fn ask_quit(&mut self) -> Vec<Effect> {
        if self.dirty {
            self.overlay = Overlay::ConfirmQuit;
            Vec::new()
        } else {
            self.quit = true;
            Vec::new()
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
        // A new PAR starts a new flow: the old one's answers no longer count.
        self.flow = None;
        self.request_id = self.request_id.next();
        self.notice = None;
        vec![Effect::Submit {
            id: self.request_id,
            ticket: Box::new(ticket),
        }]
    }

    pub(super) fn accepted(&self) -> Option<(&Delivery, &str)> {
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
        Some(crate::core::transport::authorize_url(
            endpoint,
            &self.seed.client_id,
            request_uri,
        ))
    }

    pub(super) fn copy_request_uri(&mut self) -> Vec<Effect> {
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

    pub(super) fn copy_authorize_url(&mut self) -> Vec<Effect> {
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

    pub(super) fn copy_jwt(&mut self) -> Vec<Effect> {
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

    pub(super) fn on_overlay_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let close = matches!(key.code, KeyCode::Esc) || ctrl(&key, 'c');
        match &mut self.overlay {
            Overlay::Help => {
                if close || matches!(key.code, KeyCode::Char('?' | 'q') | KeyCode::Enter) {
                    self.overlay = Overlay::None;
                }
                Vec::new()
            }
            Overlay::Compare { scroll } => {
                match key.code {
                    KeyCode::Up | KeyCode::Char('k') => *scroll = scroll.saturating_sub(1),
                    // The view stops at the last row; this bound keeps ↑ from taking as long.
                    KeyCode::Down | KeyCode::Char('j') => *scroll = (*scroll + 1).min(COMPARE_ROWS),
                    KeyCode::PageUp => *scroll = scroll.saturating_sub(10),
                    KeyCode::PageDown => *scroll = (*scroll + 10).min(COMPARE_ROWS),
                    _ => self.overlay = Overlay::None,
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
                    Vec::new()
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
            Overlay::Authorize => match key.code {
                KeyCode::Char('y') => self.decide_here(true),
                KeyCode::Char('n') => self.decide_here(false),
                KeyCode::Char('v') => {
                    self.overlay = Overlay::None;
                    self.ask_callback_paste();
                    Vec::new()
                }
                _ if close || matches!(key.code, KeyCode::Char('o' | 'q') | KeyCode::Enter) => {
                    self.overlay = Overlay::None;
                    Vec::new()
                }
                _ => Vec::new(),
            },
            Overlay::PasteCallback { input, error } => match key.code {
                _ if close => {
                    self.overlay = Overlay::None;
                    Vec::new()
                }
                KeyCode::Enter => {
                    let text = input.value().to_owned();
                    match self.pasted_callback(&text) {
                        Ok(effects) => effects,
                        Err(why) => {
                            if let Overlay::PasteCallback { error, .. } = &mut self.overlay {
                                *error = Some(why);
                            }
                            Vec::new()
                        }
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
}
