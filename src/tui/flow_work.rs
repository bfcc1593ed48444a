//! The shell's side of the stepper: each step's slow work on a task of its own, reporting
//! through the one channel with the id of the step it answers. Nothing here waits on the UI
//! thread: a listener, a browser, a token exchange all run beside it.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use rand::SeedableRng;
use tokio::sync::{mpsc, oneshot};

use super::app::{self, FlowReport, FlowWork, Message, RequestId, Step, StepFailure, TokenView};
use crate::core::flow::callback::{Callback, CallbackListener, CheckError, ListenError, Refusal};
use crate::core::flow::store::StoredTokens;
use crate::core::flow::token::{Secret, TokenOutcome};
use crate::core::session::{FlowError, Session, Tokens};
use crate::core::transport::ClientOptions;

/// How long the listener waits for the person at the bank.
const CALLBACK_WAIT: Duration = Duration::from_secs(15 * 60);
/// A listener being stopped may hold the port up to a second (kept-alive browser connection).
const BIND_RETRIES: u32 = 20;

/// What outlives one step: the running listener, stopped when a new authorize step starts.
#[derive(Default)]
pub(super) struct FlowShell {
    stop_listener: Option<oneshot::Sender<()>>,
}

impl FlowShell {
    pub(super) fn start(
        &mut self,
        id: RequestId,
        work: FlowWork,
        session: Arc<Session>,
        options: ClientOptions,
        tx: mpsc::UnboundedSender<Message>,
    ) {
        let send = move |report: FlowReport| {
            let _ = tx.send(app::report(id, report));
        };
        match work {
            FlowWork::Authorize { url, redirect_uri } => {
                // Dropping the sender stops the earlier listener and frees its port.
                self.stop_listener = None;
                let (stop, stopped) = oneshot::channel::<()>();
                self.stop_listener = Some(stop);
                let listen = send.clone();
                tokio::spawn(async move {
                    let Some(listener) = bind(&redirect_uri, &listen).await else {
                        return;
                    };
                    listen(FlowReport::Listening(listener.port()));
                    let cancel = async {
                        let _ = stopped.await;
                    };
                    match listener.wait(CALLBACK_WAIT, cancel).await {
                        Ok(url) => listen(FlowReport::Callback(Ok(Secret::new(url)))),
                        // A newer authorize step took over: nothing to say.
                        Err(ListenError::Cancelled) => {}
                        Err(e) => listen(FlowReport::Callback(Err(failure(
                            Step::Callback,
                            e.to_string(),
                            Some("v pastes the redirect URL if the browser got one".into()),
                        )))),
                    }
                });
                tokio::task::spawn_blocking(move || {
                    send(FlowReport::Browser(
                        webbrowser::open(&url).map_err(|e| e.to_string()),
                    ));
                });
            }
            FlowWork::Headless { url, approve } => {
                tokio::spawn(async move {
                    let result = session
                        .authorize_headless(&url, approve, &options)
                        .await
                        .map(Secret::new)
                        .map_err(|e| failure(Step::Authorize, e.message, Some(e.hint)));
                    send(FlowReport::Callback(result));
                });
            }
            FlowWork::Exchange { callback } => off_thread(move || async move {
                let result = exchange(&session, &options, &callback).await;
                send(FlowReport::Tokens(result.map(Box::new)));
            }),
            FlowWork::Refresh { refreshes } => off_thread(move || async move {
                let result = refresh(&session, &options).await.map(|mut view| {
                    view.refreshes = refreshes;
                    Box::new(view)
                });
                send(FlowReport::Tokens(result));
            }),
        }
    }
}

/// Runs a future that cannot move between threads (Session's token calls borrow a
/// `dyn RngCore`) on a blocking thread of its own, off the UI's.
pub(super) fn off_thread<F: Future<Output = ()>>(work: impl FnOnce() -> F + Send + 'static) {
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || handle.block_on(work()));
}

/// The listener on a loopback redirect_uri; `None` (reported) when there is none.
async fn bind(redirect_uri: &str, send: &impl Fn(FlowReport)) -> Option<CallbackListener> {
    let mut tries = 0;
    loop {
        match CallbackListener::bind(redirect_uri).await {
            Ok(listener) => return Some(listener),
            Err(ListenError::NotLoopback) => return None,
            Err(ListenError::Bind { .. }) if tries < BIND_RETRIES => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => {
                send(FlowReport::ListenFailed(e.to_string()));
                return None;
            }
        }
    }
}

fn failure(step: Step, message: String, explanation: Option<String>) -> StepFailure {
    StepFailure {
        step,
        message,
        explanation,
        retry_paste: false,
    }
}

/// The step a flow error belongs to, with its message and plain words.
fn flow_failure(step: Step, error: FlowError) -> StepFailure {
    match error {
        FlowError::Callback(CheckError::Refused(refusal)) => failure(
            Step::Callback,
            refusal.to_string(),
            Some(refusal.explanation()),
        ),
        FlowError::Network(network) => failure(step, network.message, Some(network.hint)),
        FlowError::IdToken(e) => failure(
            Step::Token,
            e.to_string(),
            Some("The ID token did not pass verification against the server's keys and this flow: its claims must not be trusted, so the tokens were not kept.".into()),
        ),
        other => failure(step, other.to_string(), None),
    }
}

/// The callback checked (state, iss, error redirect, age) and its code traded.
async fn exchange(
    session: &Session,
    options: &ClientOptions,
    callback: &Secret,
) -> Result<TokenView, StepFailure> {
    let not_this_flow = |message: String| StepFailure {
        retry_paste: true,
        ..failure(Step::Callback, message, None)
    };
    let callback = Callback::parse(callback.expose()).map_err(|e| not_this_flow(e.to_string()))?;
    // Without discovery, iss cannot be known to be required: a missing one is then a warning.
    let discovery = session.discovery(options).await.ok();
    let code = session
        .check_callback(&callback, discovery.as_ref(), Timestamp::now())
        .map_err(|e| match e {
            FlowError::Callback(CheckError::Refused(refusal @ Refusal::StateUnknown(_))) => {
                not_this_flow(refusal.to_string())
            }
            other => flow_failure(Step::Callback, other),
        })?;
    let warnings = code.warnings.iter().map(ToString::to_string).collect();
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let tokens = session
        .exchange_code(&code, options, &mut rng)
        .await
        .map_err(|e| flow_failure(Step::Token, e))?;
    issued(session, &tokens, None, warnings)
}

async fn refresh(session: &Session, options: &ClientOptions) -> Result<TokenView, StepFailure> {
    let local = |e: FlowError| flow_failure(Step::Token, e);
    let kept = session.kept_tokens().map_err(local)?.ok_or_else(|| {
        local(FlowError::NoRefreshToken {
            profile: session.seed().profile_name.clone(),
        })
    })?;
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let tokens = session
        .refresh(&kept, options, &mut rng)
        .await
        .map_err(local)?;
    issued(session, &tokens, Some(&kept), Vec::new())
}

/// Tokens kept in the store (as the CLI keeps them, for `refresh` and later calls) and shown;
/// a refusal named with the server's words.
fn issued(
    session: &Session,
    tokens: &Tokens,
    earlier: Option<&StoredTokens>,
    mut warnings: Vec<String>,
) -> Result<TokenView, StepFailure> {
    let exchange = &tokens.exchange;
    let set = match &exchange.outcome {
        TokenOutcome::Issued(set) => set,
        TokenOutcome::Refused {
            error,
            error_description,
            explanation,
        } => {
            let says = error_description
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            return Err(failure(
                Step::Token,
                format!("refused ({}): {error}{says}", exchange.status),
                Some(explanation.clone()),
            ));
        }
        TokenOutcome::Malformed(problem) => {
            return Err(failure(
                Step::Token,
                format!("not a usable token response: {problem}"),
                None,
            ));
        }
        TokenOutcome::Unexpected { explanation } => {
            return Err(failure(Step::Token, explanation.clone(), None));
        }
    };
    if let Err(e) = session.keep_tokens(set, earlier) {
        warnings.push(format!(
            "the tokens were not kept, so R cannot refresh: {e}"
        ));
    }
    TokenView::of(tokens, warnings)
        .ok_or_else(|| failure(Step::Token, "no tokens were issued".into(), None))
}
