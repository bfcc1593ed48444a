//! The flow after an accepted PAR, as a stepper: PAR ✓, authorize (browser and QR code, or
//! approve/deny here against the embedded sandbox), callback (loopback listener or a pasted
//! redirect URL), token (ID token verified, access token decoded, refresh). Slow steps are
//! effects the shell runs; their answers come back as `Message::Flow` with the id of the step
//! they answer, and an answer to any other step is dropped.

use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;
use tui_input::Input;

use super::{App, Effect, Message, Overlay, RequestId};
use crate::core::flow::callback::Callback;
use crate::core::flow::token::{GrantedConsent, Secret, TokenSet, TokenType};
use crate::core::jws;
use crate::core::session::Tokens;
use crate::core::transport::is_loopback_url;

/// The steps, in order, as the stepper names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Par,
    Authorize,
    Callback,
    Token,
}

pub const STEPS: [(Step, &str); 4] = [
    (Step::Par, "PAR"),
    (Step::Authorize, "authorize"),
    (Step::Callback, "callback"),
    (Step::Token, "token"),
];

/// How the callback is awaited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackWait {
    /// A loopback listener on the redirect_uri's port (`None` until it is bound).
    Listener(Option<u16>),
    /// The redirect_uri is elsewhere: the user pastes the whole redirect URL.
    Paste,
    /// The embedded sandbox: approve or deny here, no browser needed.
    Sandbox,
}

#[derive(Debug, Clone)]
pub enum Stage {
    /// The PAR was accepted: `o` goes on.
    Ready,
    Authorizing {
        url: String,
        wait: CallbackWait,
        /// What became of the browser: opened, or why not.
        browser: Option<String>,
    },
    /// The callback came; its code is being exchanged.
    Exchanging {
        since: Timestamp,
    },
    Issued(Box<TokenView>),
    Failed {
        step: Step,
        message: String,
        explanation: Option<String>,
    },
}

/// What a token answer showed, ready to draw. `Debug` hides the tokens (`Secret`).
#[derive(Debug, Clone)]
pub struct TokenView {
    pub status: u16,
    pub interaction_id: String,
    pub elapsed_ms: f64,
    pub token_type: &'static str,
    pub expires_at: Option<Timestamp>,
    pub scope: Option<String>,
    pub consents: Vec<GrantedConsent>,
    /// The verified ID token's header and claims (nonce hidden).
    pub id_token: Option<(Value, Value)>,
    /// The access token's claims when it is a JWT.
    pub access_claims: Option<Value>,
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub warnings: Vec<String>,
    /// How many refreshes gave these tokens.
    pub refreshes: u32,
    /// The DPoP proof the token request went with.
    pub dpop: Option<super::ProofShown>,
}

impl TokenView {
    /// The view of an issued token answer; `None` when the server did not issue tokens.
    pub fn of(tokens: &Tokens, warnings: Vec<String>) -> Option<TokenView> {
        let exchange = &tokens.exchange;
        let crate::core::flow::token::TokenOutcome::Issued(set) = &exchange.outcome else {
            return None;
        };
        let set: &TokenSet = set;
        let id_token = tokens.id_token.as_ref().map(|verified| {
            let mut claims = verified.jwt.claims.clone();
            // The nonce ties the token to one request: not for the screen.
            if let Some(nonce) = claims.get_mut("nonce") {
                *nonce = Value::from("(hidden)");
            }
            (verified.jwt.header.clone(), claims)
        });
        Some(TokenView {
            status: exchange.status,
            interaction_id: exchange.interaction_id.clone(),
            elapsed_ms: exchange.elapsed.as_secs_f64() * 1000.0,
            token_type: match set.token_type {
                TokenType::Bearer => "Bearer",
                TokenType::DPoP => "DPoP",
            },
            expires_at: set.expires_at,
            scope: set.scope.clone(),
            consents: set.consents.clone(),
            id_token,
            access_claims: jws::decode(set.access_token.expose())
                .ok()
                .map(|jwt| jwt.claims),
            access_token: set.access_token.clone(),
            refresh_token: set.refresh_token.clone(),
            warnings: warnings
                .into_iter()
                .chain(set.notes())
                .chain(tokens.dpop.iter().flat_map(|used| used.notes()))
                .collect(),
            refreshes: 0,
            dpop: tokens
                .dpop
                .as_ref()
                .and_then(|used| super::ProofShown::of(&used.trail)),
        })
    }
}

/// Why a step did not go through, for the stepper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFailure {
    pub step: Step,
    pub message: String,
    pub explanation: Option<String>,
    /// The redirect URL was not this flow's (unreadable, or no pending flow has its state):
    /// the flow is untouched, so another paste may still complete it.
    pub retry_paste: bool,
}

/// What the shell reports about a step.
#[derive(Debug)]
pub enum FlowReport {
    Listening(u16),
    /// The listener could not be bound: the callback is pasted instead.
    ListenFailed(String),
    /// The browser opened, or why not.
    Browser(Result<(), String>),
    /// The whole redirect URL (it holds the code: never shown, never in Debug output).
    Callback(Result<Secret, StepFailure>),
    Tokens(Result<Box<TokenView>, StepFailure>),
}

/// Work for the shell. `Debug` names the work only: the callback URL holds the code.
#[derive(Clone)]
pub enum FlowWork {
    /// Bind a listener on a loopback redirect_uri (when it is one) and open the browser.
    Authorize {
        url: String,
        redirect_uri: String,
    },
    /// The embedded sandbox decides as its test user: the callback comes back at once.
    Headless {
        url: String,
        approve: bool,
    },
    Exchange {
        callback: Secret,
    },
    /// Trade the kept refresh token; `refreshes` is carried to the new view.
    Refresh {
        refreshes: u32,
    },
}

impl std::fmt::Debug for FlowWork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FlowWork::Authorize { .. } => "Authorize",
            FlowWork::Headless { approve: true, .. } => "Headless(approve)",
            FlowWork::Headless { .. } => "Headless(deny)",
            FlowWork::Exchange { .. } => "Exchange",
            FlowWork::Refresh { .. } => "Refresh",
        })
    }
}

/// The stepper's state: the stage, the id of the step whose answer is awaited, and whether
/// the user asked to see the tokens in full.
#[derive(Debug, Clone)]
pub struct FlowState {
    pub stage: Stage,
    pub awaited: RequestId,
    pub reveal: bool,
    /// A refresh is in flight (the tokens stay on screen meanwhile).
    pub refreshing: bool,
    /// The last refresh's failure, shown under the tokens it left in place.
    pub refresh_error: Option<String>,
    /// The authorize step a pasted callback left, to go back to when the paste was wrong.
    pub authorizing: Option<Stage>,
}

impl FlowState {
    pub fn ready(awaited: RequestId) -> FlowState {
        FlowState {
            stage: Stage::Ready,
            awaited,
            reveal: false,
            refreshing: false,
            refresh_error: None,
            authorizing: None,
        }
    }

    /// The step the stepper is at (the one running or failed, or Token once issued).
    pub fn step(&self) -> Step {
        match &self.stage {
            // The person is at the bank until the callback comes.
            Stage::Ready | Stage::Authorizing { .. } => Step::Authorize,
            Stage::Exchanging { .. } | Stage::Issued(_) => Step::Token,
            Stage::Failed { step, .. } => *step,
        }
    }

    /// Seconds left of the access token, when it has an expiry.
    pub fn access_remaining(&self, now: Timestamp) -> Option<i64> {
        match &self.stage {
            Stage::Issued(view) => view
                .expires_at
                .map(|at| (at.as_second() - now.as_second()).max(0)),
            _ => None,
        }
    }
}

impl App {
    /// The tick the stepper needs: a spinner while a code or refresh is traded, a second
    /// while the access token counts down.
    pub(super) fn flow_tick_period(&self) -> Option<Duration> {
        let flow = self.flow.as_ref()?;
        if flow.refreshing || matches!(flow.stage, Stage::Exchanging { .. }) {
            return Some(Duration::from_millis(120));
        }
        (flow.access_remaining(self.now)? > 0).then_some(Duration::from_secs(1))
    }

    fn next_flow_id(&mut self) -> RequestId {
        self.flow_counter = self.flow_counter.next();
        self.flow_counter
    }

    /// `o`: the authorize step. Refused with the reason when there is no request_uri, when it
    /// expired (said before any browser opens) or when its flow went past authorize.
    pub(super) fn open_authorize(&mut self) -> Vec<Effect> {
        if self.remaining() == Some(0) {
            self.notice = Some(
                "That request_uri expired: r pushes a fresh request before authorizing".into(),
            );
            return Vec::new();
        }
        let (Some(url), Some(flow)) = (self.authorize_url(), self.flow.as_ref()) else {
            self.notice = Some("No authorize URL yet: submit with s".into());
            return Vec::new();
        };
        match &flow.stage {
            Stage::Ready => {}
            Stage::Authorizing { .. } => {
                self.overlay = Overlay::Authorize;
                return Vec::new();
            }
            _ => {
                self.notice = Some(
                    "This request_uri was used: r pushes a fresh request for a new flow".into(),
                );
                return Vec::new();
            }
        }
        let redirect_uri = self.seed.redirect_uri.clone();
        let sandbox = self.session.sandbox_issuer().is_some();
        let wait = if sandbox {
            CallbackWait::Sandbox
        } else if url::Url::parse(&redirect_uri).is_ok_and(|u| is_loopback_url(&u)) {
            CallbackWait::Listener(None)
        } else {
            CallbackWait::Paste
        };
        let id = self.next_flow_id();
        let Some(flow) = self.flow.as_mut() else {
            return Vec::new();
        };
        flow.awaited = id;
        flow.stage = Stage::Authorizing {
            url: url.clone(),
            wait: wait.clone(),
            browser: None,
        };
        self.overlay = Overlay::Authorize;
        if wait == CallbackWait::Sandbox {
            return Vec::new();
        }
        vec![Effect::Flow {
            id,
            work: FlowWork::Authorize { url, redirect_uri },
        }]
    }

    /// Approve or deny at the embedded sandbox, from the authorize overlay.
    pub(super) fn decide_here(&mut self, approve: bool) -> Vec<Effect> {
        self.overlay = Overlay::None;
        let Some(flow) = self.flow.as_mut() else {
            return Vec::new();
        };
        let Stage::Authorizing {
            url,
            wait: CallbackWait::Sandbox,
            ..
        } = &flow.stage
        else {
            return Vec::new();
        };
        let url = url.clone();
        self.notice = Some(if approve {
            "Approving at the sandbox as its test user…".into()
        } else {
            "Denying at the sandbox…".into()
        });
        vec![Effect::Flow {
            id: self
                .flow
                .as_ref()
                .map_or_else(RequestId::default, |f| f.awaited),
            work: FlowWork::Headless { url, approve },
        }]
    }

    pub(super) fn awaits_callback(&self) -> bool {
        matches!(
            self.flow.as_ref().map(|f| &f.stage),
            Some(Stage::Authorizing { .. })
        )
    }

    /// `v`: the paste field for the redirect URL, while a callback is awaited.
    pub(super) fn ask_callback_paste(&mut self) {
        if self.awaits_callback() {
            self.overlay = Overlay::PasteCallback {
                input: Input::default(),
                error: None,
            };
        } else {
            self.notice = Some("No callback is awaited: o starts the authorize step".into());
        }
    }

    /// Enter in the paste field: a URL that parses as a callback goes to the exchange.
    pub(super) fn pasted_callback(&mut self, text: &str) -> Result<Vec<Effect>, String> {
        Callback::parse(text.trim()).map_err(|e| e.to_string())?;
        self.overlay = Overlay::None;
        Ok(self.exchange(Secret::new(text.trim())))
    }

    fn exchange(&mut self, callback: Secret) -> Vec<Effect> {
        let id = self.next_flow_id();
        let now = self.now;
        let Some(flow) = self.flow.as_mut() else {
            return Vec::new();
        };
        flow.awaited = id;
        let left = std::mem::replace(&mut flow.stage, Stage::Exchanging { since: now });
        flow.authorizing = matches!(left, Stage::Authorizing { .. }).then_some(left);
        self.notice = Some("Callback received: exchanging the code".into());
        vec![Effect::Flow {
            id,
            work: FlowWork::Exchange { callback },
        }]
    }

    /// `R`: the refresh_token grant with the kept refresh token.
    pub(super) fn refresh(&mut self) -> Vec<Effect> {
        let id = self.next_flow_id();
        let Some(flow) = self.flow.as_mut() else {
            self.notice = Some("No tokens yet: s, then o, to run the flow".into());
            return Vec::new();
        };
        let Stage::Issued(view) = &flow.stage else {
            self.notice = Some("No tokens yet: finish the flow first".into());
            return Vec::new();
        };
        if view.refresh_token.is_none() {
            self.notice = Some("The server issued no refresh token: nothing to refresh".into());
            return Vec::new();
        }
        if flow.refreshing {
            self.notice = Some("A refresh is already in flight".into());
            return Vec::new();
        }
        let refreshes = view.refreshes + 1;
        flow.awaited = id;
        flow.refreshing = true;
        flow.refresh_error = None;
        vec![Effect::Flow {
            id,
            work: FlowWork::Refresh { refreshes },
        }]
    }

    /// `T`: the tokens in full, or redacted again.
    pub(super) fn toggle_reveal(&mut self) {
        match self.flow.as_mut() {
            Some(flow) if matches!(flow.stage, Stage::Issued(_)) => {
                flow.reveal = !flow.reveal;
                self.notice = Some(if flow.reveal {
                    "Tokens shown in full: T hides them again".into()
                } else {
                    "Tokens redacted".into()
                });
            }
            _ => self.notice = Some("No tokens to show yet".into()),
        }
    }

    /// A report from the shell; one for a step no longer awaited is dropped.
    pub(super) fn on_flow_report(&mut self, id: RequestId, report: FlowReport) -> Vec<Effect> {
        self.now = (self.clock)();
        let Some(flow) = self.flow.as_mut() else {
            return Vec::new();
        };
        if id != flow.awaited {
            return Vec::new();
        }
        match report {
            FlowReport::Listening(port) => {
                if let Stage::Authorizing { wait, .. } = &mut flow.stage {
                    *wait = CallbackWait::Listener(Some(port));
                }
            }
            FlowReport::ListenFailed(why) => {
                if let Stage::Authorizing { wait, .. } = &mut flow.stage {
                    *wait = CallbackWait::Paste;
                }
                self.notice = Some(format!("{why}: v pastes the redirect URL instead"));
            }
            FlowReport::Browser(result) => {
                if let Stage::Authorizing { browser, .. } = &mut flow.stage {
                    *browser = Some(match result {
                        Ok(()) => "browser opened".into(),
                        Err(e) => format!(
                            "no browser opened ({e}): open the URL yourself or scan the QR code"
                        ),
                    });
                }
            }
            FlowReport::Callback(Ok(callback)) => {
                if matches!(
                    self.overlay,
                    Overlay::Authorize | Overlay::PasteCallback { .. }
                ) {
                    self.overlay = Overlay::None;
                }
                return self.exchange(callback);
            }
            FlowReport::Callback(Err(failure)) | FlowReport::Tokens(Err(failure))
                if failure.retry_paste && flow.authorizing.is_some() =>
            {
                if let Some(mut authorizing) = flow.authorizing.take() {
                    // A listener answers one callback: from here on the URL is pasted.
                    if let Stage::Authorizing { wait, .. } = &mut authorizing {
                        *wait = CallbackWait::Paste;
                    }
                    flow.stage = authorizing;
                }
                self.notice =
                    Some("That redirect URL was not accepted: paste another, or esc".into());
                self.overlay = Overlay::PasteCallback {
                    input: Input::default(),
                    error: Some(failure.message),
                };
            }
            FlowReport::Callback(Err(failure)) | FlowReport::Tokens(Err(failure))
                if !flow.refreshing =>
            {
                self.notice = Some(format!("The {} step failed", step_name(failure.step)));
                flow.stage = Stage::Failed {
                    step: failure.step,
                    message: failure.message,
                    explanation: failure.explanation,
                };
            }
            FlowReport::Callback(Err(failure)) | FlowReport::Tokens(Err(failure)) => {
                flow.refreshing = false;
                self.notice = Some("Refresh refused: the tokens shown are the earlier ones".into());
                flow.refresh_error = Some(failure.message);
            }
            FlowReport::Tokens(Ok(mut view)) => {
                // A refresh answer often has no ID token: the one verified before still holds.
                if let (Stage::Issued(earlier), None) = (&flow.stage, &view.id_token) {
                    view.id_token = earlier.id_token.clone();
                    if view.id_token.is_some() {
                        view.warnings.push(
                            "the refresh issued no ID token: the one shown is the first".into(),
                        );
                    }
                }
                self.notice = Some(if flow.refreshing {
                    "Refreshed: new tokens".into()
                } else {
                    "Tokens issued; the ID token verified. R refreshes, T shows them in full".into()
                });
                flow.refreshing = false;
                flow.stage = Stage::Issued(view);
                self.scroll[super::Pane::Response.index()] = 0;
            }
        }
        Vec::new()
    }
}

pub fn step_name(step: Step) -> &'static str {
    STEPS
        .iter()
        .find(|(s, _)| *s == step)
        .map_or("", |(_, name)| name)
}

/// A message from the shell about a step (kept here so the shell needs no stepper types).
pub fn report(id: RequestId, report: FlowReport) -> Message {
    Message::Flow {
        id,
        report: Box::new(report),
    }
}
