//! The resource step after the token (`u`): pick an endpoint of the pack's resource API and
//! an account of the consent, send, and see each layer of the answer with its verdict; `v`
//! shows the consent as the server has it and `x` revokes it, asking first. Calls are effects
//! the shell runs; answers come back as `Message::Resource` with the id of the request they
//! answer, and an answer to any earlier request is dropped.

use crossterm::event::{KeyCode, KeyEvent};
use jiff::Timestamp;
use serde_json::Value;

use super::{App, Effect, RequestId, Stage, TokenView};
use crate::core::resource::ResourceExchange;
use crate::tui::keymap::{self, ResourceAction};

/// Rows PageUp / PageDown move the layers.
const PAGE: u16 = 10;

/// An endpoint of the pack, as the picker shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointChoice {
    pub name: String,
    pub method: String,
    pub path: String,
    pub permission: Option<String>,
    pub needs_account: bool,
}

/// A request under way, or its outcome.
#[derive(Debug)]
pub enum Answer {
    Waiting {
        since: Timestamp,
        what: String,
    },
    Done(Box<ResourceExchange>),
    /// Why it was not made or not read (no token, no network, ...).
    Failed(String),
}

/// Which answer the step shows below the picker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    Call,
    Consent,
}

#[derive(Debug)]
pub struct ResourceView {
    pub endpoints: Vec<EndpointChoice>,
    pub endpoint: usize,
    pub accounts: Vec<String>,
    pub account: usize,
    /// The latest request's id: answers to others are dropped.
    pub awaited: RequestId,
    pub call: Option<Answer>,
    pub consent: Option<Answer>,
    pub panel: Panel,
    /// `x` was pressed: y revokes, any other key keeps the consent.
    pub confirm_revoke: bool,
    pub scroll: u16,
}

impl ResourceView {
    pub fn chosen(&self) -> Option<&EndpointChoice> {
        self.endpoints.get(self.endpoint)
    }

    pub fn chosen_account(&self) -> Option<&str> {
        self.accounts.get(self.account).map(String::as_str)
    }

    /// A call or consent request is under way.
    pub fn busy(&self) -> bool {
        [&self.call, &self.consent]
            .iter()
            .any(|a| matches!(a, Some(Answer::Waiting { .. })))
    }
}

/// Work for the shell. Nothing here is secret: the token is read by the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceWork {
    Call { endpoint: String, args: Vec<String> },
    ConsentShow,
    ConsentRevoke,
}

/// What the shell reports.
#[derive(Debug)]
pub enum ResourceReport {
    Called(Result<Box<ResourceExchange>, String>),
    Consent(Result<Box<ResourceExchange>, String>),
}

/// The consent's status in a consent answer (MY `data.status`, UAE `Data.Status`).
pub fn consent_status(payload: &Value) -> Option<&str> {
    payload
        .get("data")
        .and_then(|d| d.get("status"))
        .or_else(|| payload.get("Data").and_then(|d| d.get("Status")))
        .and_then(Value::as_str)
}

impl App {
    /// The tokens of the flow, once issued.
    pub fn tokens(&self) -> Option<&TokenView> {
        match &self.flow.as_ref()?.stage {
            Stage::Issued(view) => Some(view),
            _ => None,
        }
    }

    /// `u`: the resource step, once there are tokens and the pack describes a resource API.
    pub(super) fn open_resource(&mut self) -> Vec<Effect> {
        let Some(tokens) = self.tokens() else {
            self.notice = Some("No tokens yet: s, then o, to run the flow; then u calls".into());
            return Vec::new();
        };
        let accounts: Vec<String> = tokens
            .consents
            .iter()
            .flat_map(|c| c.accounts.iter().map(|a| a.account_id.clone()))
            .collect();
        let api = match self.session.resource_api() {
            Ok(api) => api,
            Err(e) => {
                self.notice = Some(format!("No resource step: {e}"));
                return Vec::new();
            }
        };
        let endpoints = api
            .endpoints
            .iter()
            .map(|e| EndpointChoice {
                name: e.name.clone(),
                method: e.method.clone(),
                path: e.path.clone(),
                permission: e.permission.clone(),
                needs_account: e.placeholders().contains(&"account_id"),
            })
            .collect();
        let awaited = self
            .resource
            .as_ref()
            .map_or(self.flow_counter, |r| r.awaited);
        self.resource = Some(ResourceView {
            endpoints,
            endpoint: 0,
            accounts,
            account: 0,
            awaited,
            call: None,
            consent: None,
            panel: Panel::Call,
            confirm_revoke: false,
            scroll: 0,
        });
        self.notice = None;
        Vec::new()
    }

    /// `v` after the tokens: the resource step with the consent asked for.
    pub(super) fn open_consent(&mut self) -> Vec<Effect> {
        let mut effects = self.open_resource();
        if self.resource.is_some() {
            effects.extend(self.ask(ResourceWork::ConsentShow));
        }
        effects
    }

    pub(super) fn on_resource_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(view) = self.resource.as_mut() else {
            return Vec::new();
        };
        if std::mem::take(&mut view.confirm_revoke) {
            if matches!(key.code, KeyCode::Char('y' | 'Y')) {
                return self.ask(ResourceWork::ConsentRevoke);
            }
            self.notice = Some("Not revoked: the consent stands".into());
            return Vec::new();
        }
        self.notice = None;
        let Some(action) = keymap::resource_action_for(&key) else {
            return Vec::new();
        };
        let step = |at: &mut usize, len: usize, by: isize| {
            *at = at.saturating_add_signed(by).min(len.saturating_sub(1));
        };
        match action {
            ResourceAction::PreviousEndpoint => step(&mut view.endpoint, view.endpoints.len(), -1),
            ResourceAction::NextEndpoint => step(&mut view.endpoint, view.endpoints.len(), 1),
            ResourceAction::PreviousAccount => step(&mut view.account, view.accounts.len(), -1),
            ResourceAction::NextAccount => step(&mut view.account, view.accounts.len(), 1),
            ResourceAction::ScrollUp => view.scroll = view.scroll.saturating_sub(PAGE),
            ResourceAction::ScrollDown => view.scroll = view.scroll.saturating_add(PAGE),
            ResourceAction::Close => self.resource = None,
            ResourceAction::Send => return self.send_call(),
            ResourceAction::Consent => return self.ask(ResourceWork::ConsentShow),
            ResourceAction::Revoke => {
                view.confirm_revoke = true;
                view.panel = Panel::Consent;
            }
        }
        Vec::new()
    }

    /// Enter: the chosen endpoint, with the chosen account when its path takes one.
    fn send_call(&mut self) -> Vec<Effect> {
        let Some(view) = self.resource.as_ref() else {
            return Vec::new();
        };
        let Some(endpoint) = view.chosen() else {
            self.notice = Some("The pack's resource API lists no endpoints".into());
            return Vec::new();
        };
        let mut args = Vec::new();
        if endpoint.needs_account {
            let Some(account) = view.chosen_account() else {
                self.notice = Some(format!(
                    "{} needs an account, and the consent granted none",
                    endpoint.name
                ));
                return Vec::new();
            };
            args.push(account.to_owned());
        }
        let endpoint = endpoint.name.clone();
        self.ask(ResourceWork::Call { endpoint, args })
    }

    /// A request to the shell; one already under way is waited for first.
    fn ask(&mut self, work: ResourceWork) -> Vec<Effect> {
        self.flow_counter = self.flow_counter.next();
        let (id, now) = (self.flow_counter, self.now);
        let Some(view) = self.resource.as_mut() else {
            return Vec::new();
        };
        if view.busy() {
            self.notice = Some("A request is already in flight: wait for its answer".into());
            return Vec::new();
        }
        view.awaited = id;
        view.scroll = 0;
        let waiting = |what: &str| {
            Some(Answer::Waiting {
                since: now,
                what: what.to_owned(),
            })
        };
        match &work {
            ResourceWork::Call { endpoint, args } => {
                view.panel = Panel::Call;
                view.call = waiting(&format!("{endpoint} {}", args.join(" ")));
            }
            ResourceWork::ConsentShow => {
                view.panel = Panel::Consent;
                view.consent = waiting("the consent");
            }
            ResourceWork::ConsentRevoke => {
                view.panel = Panel::Consent;
                view.consent = waiting("revoking the consent");
            }
        }
        vec![Effect::Resource { id, work }]
    }

    /// An answer from the shell; one to an earlier request is dropped.
    pub(super) fn on_resource_report(
        &mut self,
        id: RequestId,
        report: ResourceReport,
    ) -> Vec<Effect> {
        self.now = (self.clock)();
        let Some(view) = self.resource.as_mut() else {
            return Vec::new();
        };
        if id != view.awaited {
            return Vec::new();
        }
        let answer = |result: Result<Box<ResourceExchange>, String>| match result {
            Ok(exchange) => Answer::Done(exchange),
            Err(why) => Answer::Failed(why),
        };
        self.notice = Some(match report {
            ResourceReport::Called(result) => {
                let said = called_notice(&result);
                view.call = Some(answer(result));
                said
            }
            ResourceReport::Consent(result) => {
                let said = match &result {
                    Ok(e) => match e.opened.payload.as_ref().and_then(consent_status) {
                        Some(status) => format!("The consent is {status}"),
                        None => format!("The server answered {}", e.status),
                    },
                    Err(_) => "The consent request failed".into(),
                };
                view.consent = Some(answer(result));
                said
            }
        });
        Vec::new()
    }
}

fn called_notice(result: &Result<Box<ResourceExchange>, String>) -> String {
    match result {
        Ok(e) if !e.is_success() => format!("Refused: the server answered {}", e.status),
        Ok(e) => match e.opened.failure() {
            Some((layer, _)) => format!("The {layer} cannot be trusted: see why below"),
            None => format!(
                "Answered {}: each layer's verdict is on its column",
                e.status
            ),
        },
        Err(_) => "The call was not made: see why below".into(),
    }
}
