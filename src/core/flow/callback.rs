//! The redirect back from the authorization server: parsed from the URL as pasted or as a
//! loopback listener received it, then checked against the pending flow (state), the issuer
//! (RFC 9207 `iss`) and the flow's age. An error redirect is explained in plain words.

use std::fmt;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use jiff::Timestamp;
use tokio::sync::oneshot;

use super::StoreError;
use super::pending::PendingFlow;
use crate::core::oauth;
use crate::core::printable::printable_line;

/// Longer than any redirect a server sends; past it the paste is something else.
const MAX_CALLBACK_LEN: usize = 16 * 1024;

/// The parameters of a redirect to the redirect_uri (RFC 6749 4.1.2, RFC 9207). The code is a
/// secret: `Debug` hides it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub error_uri: Option<String>,
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callback")
            .field("code", &self.code.as_ref().map(|_| "<hidden>"))
            .field("state", &self.state)
            .field("iss", &self.iss)
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .field("error_uri", &self.error_uri)
            .finish()
    }
}

/// Why a pasted or received callback is not one. No message repeats the input: it may hold
/// a code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackParseError {
    #[error("the callback is empty: paste the whole URL the browser was sent to")]
    Empty,
    #[error("the callback is {0} bytes long; a redirect is never longer than {MAX_CALLBACK_LEN}")]
    TooLong(usize),
    #[error("not a URL: paste the whole URL the browser was sent to (http://... or https://...)")]
    NotAUrl,
    #[error("the URL has no query: the code and state come after `?`")]
    NoQuery,
    #[error(
        "the parameters are in the fragment (after #), not the query: FAPI 2.0 answers in the query; check the response_mode"
    )]
    InFragment,
    #[error("{} appears more than once: RFC 6749 3.1 forbids repeating a parameter", printable_line(.0))]
    Duplicate(String),
    #[error("the callback has neither code nor error: is this the redirect from the server?")]
    NoCodeOrError,
}

impl Callback {
    /// Takes the whole redirect URL, or only its query (with or without the leading `?`).
    pub fn parse(url_or_query: &str) -> Result<Callback, CallbackParseError> {
        let text = url_or_query.trim();
        if text.is_empty() {
            return Err(CallbackParseError::Empty);
        }
        if text.len() > MAX_CALLBACK_LEN {
            return Err(CallbackParseError::TooLong(text.len()));
        }
        let query = match (text.strip_prefix('?'), url::Url::parse(text)) {
            (Some(query), _) => query.to_owned(),
            (None, Ok(url)) => match (url.query(), url.fragment()) {
                (Some(query), _) if !query.is_empty() => query.to_owned(),
                (_, Some(fragment)) if fragment.contains('=') => {
                    return Err(CallbackParseError::InFragment);
                }
                _ => return Err(CallbackParseError::NoQuery),
            },
            // Only the query was pasted (`code=...&state=...`): no scheme, but parameters.
            (None, Err(_)) if text.contains('=') => text.to_owned(),
            (None, Err(_)) => return Err(CallbackParseError::NotAUrl),
        };
        let mut callback = Callback::default();
        let mut seen = std::collections::HashSet::new();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if !seen.insert(name.clone()) {
                return Err(CallbackParseError::Duplicate(name.into_owned()));
            }
            let slot = match name.as_ref() {
                "code" => &mut callback.code,
                "state" => &mut callback.state,
                "iss" => &mut callback.iss,
                "error" => &mut callback.error,
                "error_description" => &mut callback.error_description,
                "error_uri" => &mut callback.error_uri,
                _ => continue,
            };
            *slot = Some(value.into_owned());
        }
        if callback.code.is_none() && callback.error.is_none() {
            return Err(CallbackParseError::NoCodeOrError);
        }
        Ok(callback)
    }
}

/// A callback that passed its checks: the code, the flow it continues, and what the user
/// should know. The code is a secret: `Debug` hides it.
#[derive(Clone)]
pub struct AuthorizationCode {
    pub code: String,
    pub flow: PendingFlow,
    pub warnings: Vec<CallbackWarning>,
}

impl fmt::Debug for AuthorizationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationCode")
            .field("flow", &self.flow)
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

/// Taken, but worth saying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackWarning {
    #[error(
        "the callback has no iss (RFC 9207), so a mix-up with another server cannot be ruled out; taken because the server does not announce authorization_response_iss_parameter_supported. A known deployment quirk: the Malaysia (PayNet/Ozone) sample callback has no iss although its platform docs list RFC 9207"
    )]
    IssMissing,
}

/// A callback refused, with the code `token --json` reports under `error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("state_unknown: {}", match .0 {
        Some(state) => format!("no pending flow has state {}", printable_line(state)),
        None => "the callback has no state".to_owned(),
    })]
    StateUnknown(Option<String>),
    #[error("iss_mismatch: the callback's iss is {}, the issuer is {}", printable_line(.got), printable_line(.expected))]
    IssMismatch { expected: String, got: String },
    #[error(
        "iss_missing: the server announces authorization_response_iss_parameter_supported but the callback has no iss"
    )]
    IssMissing,
    #[error("request_expired: the flow could be completed until {usable_until}")]
    RequestExpired { usable_until: Timestamp },
    #[error("{}{}", printable_line(.error), .error_description.as_deref().map(|d| format!(": {}", printable_line(d))).unwrap_or_default())]
    ErrorRedirect {
        error: String,
        error_description: Option<String>,
        error_uri: Option<String>,
    },
}

impl Refusal {
    /// `state_unknown`, `iss_mismatch`, `iss_missing`, `request_expired`, or the server's
    /// OAuth error code.
    pub fn code(&self) -> &str {
        match self {
            Refusal::StateUnknown(_) => "state_unknown",
            Refusal::IssMismatch { .. } => "iss_mismatch",
            Refusal::IssMissing => "iss_missing",
            Refusal::RequestExpired { .. } => "request_expired",
            Refusal::ErrorRedirect { error, .. } => error,
        }
    }

    /// Plain words: what happened and what to do.
    pub fn explanation(&self) -> String {
        match self {
            Refusal::StateUnknown(_) => "No pending flow started here has this state: the callback belongs to another run or profile, was used already (a flow is used once), expired and was purged, or was altered. Push the request again.".into(),
            Refusal::IssMismatch { .. } => "The callback names another issuer than the server the request was pushed to (RFC 9207): the code may come from a different server (a mix-up attack) and must not be sent to this token endpoint. Check the profile's issuer.".into(),
            Refusal::IssMissing => "The server's discovery says its callbacks carry iss (RFC 9207), so a callback without it may not come from that server. Check that the whole redirect URL was pasted.".into(),
            Refusal::RequestExpired { .. } => "The flow is too old: its request_uri expired more than 10 minutes ago, so any code from it has expired too. Push the request again.".into(),
            Refusal::ErrorRedirect { error, .. } => format!("The authorization server redirected with an error instead of a code. {}", oauth::explain(error)),
        }
    }
}

/// Why a callback could not be checked or was refused.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("the pending flows could not be read: {0}")]
    Store(#[from] StoreError),
}

/// Checks a callback in the order RFC 9207 asks: the state finds the flow, the `iss` is the
/// issuer's (error redirects too), then the server's error or the flow's age. `lookup` finds
/// the flow by state: `FlowStore::take` uses it up, `find_by_state` leaves it.
pub fn check(
    callback: &Callback,
    lookup: impl FnOnce(&str) -> Result<Option<PendingFlow>, StoreError>,
    expected_issuer: &str,
    iss_required: bool,
    now: Timestamp,
) -> Result<AuthorizationCode, CheckError> {
    let Some(state) = callback.state.as_deref() else {
        return Err(Refusal::StateUnknown(None).into());
    };
    let flow = lookup(state)?.ok_or_else(|| Refusal::StateUnknown(Some(state.to_owned())))?;
    let mut warnings = Vec::new();
    match callback.iss.as_deref() {
        // RFC 9207 2.4: simple string comparison, no normalization.
        Some(iss) if iss != expected_issuer => {
            return Err(Refusal::IssMismatch {
                expected: expected_issuer.to_owned(),
                got: iss.to_owned(),
            }
            .into());
        }
        Some(_) => {}
        None if iss_required => return Err(Refusal::IssMissing.into()),
        None => warnings.push(CallbackWarning::IssMissing),
    }
    if let Some(error) = &callback.error {
        return Err(Refusal::ErrorRedirect {
            error: error.clone(),
            error_description: callback.error_description.clone(),
            error_uri: callback.error_uri.clone(),
        }
        .into());
    }
    if flow.is_expired(now) {
        return Err(Refusal::RequestExpired {
            usable_until: flow.usable_until(),
        }
        .into());
    }
    // `parse` lets no callback through with neither code nor error.
    let code = callback.code.clone().unwrap_or_default();
    Ok(AuthorizationCode {
        code,
        flow,
        warnings,
    })
}

/// Why the loopback listener returned no callback.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error(
        "the redirect_uri is not http://127.0.0.1:PORT/... or http://localhost:PORT/...: paste the callback instead"
    )]
    NotLoopback,
    #[error("could not listen on {addr} for the callback: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("no callback came within {}", crate::core::time::short_duration(.0.as_secs() as i64))]
    TimedOut(Duration),
    #[error("stopped waiting for the callback")]
    Cancelled,
}

/// How long a browser's kept-alive connection may hold up the listener's shutdown.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(1);

/// Listens on the redirect_uri's loopback port for the one request the browser is sent to.
pub struct CallbackListener {
    listener: tokio::net::TcpListener,
    origin: String,
    path: String,
}

/// Shared by the handler: where the callback comes, and where the first one goes.
struct Waiting {
    origin: String,
    path: String,
    received: Mutex<Option<oneshot::Sender<String>>>,
}

impl CallbackListener {
    /// Binds the port of an `http://127.0.0.1:PORT/...` or `http://localhost:PORT/...`
    /// redirect_uri (`localhost` on 127.0.0.1: browsers fall back to it from `::1`). Binding
    /// before the browser opens means a taken port is reported before the person logs in.
    pub async fn bind(redirect_uri: &str) -> Result<CallbackListener, ListenError> {
        let url = url::Url::parse(redirect_uri).map_err(|_| ListenError::NotLoopback)?;
        let host = url.host_str().unwrap_or_default();
        if url.scheme() != "http" || !matches!(host, "127.0.0.1" | "localhost") {
            return Err(ListenError::NotLoopback);
        }
        let addr = SocketAddr::from((
            Ipv4Addr::LOCALHOST,
            url.port_or_known_default().unwrap_or(80),
        ));
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ListenError::Bind { addr, source })?;
        let port = listener
            .local_addr()
            .map_err(|source| ListenError::Bind { addr, source })?
            .port();
        Ok(CallbackListener {
            listener,
            origin: format!("http://{host}:{port}"),
            path: url.path().to_owned(),
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map_or(0, |a| a.port())
    }

    /// Waits for one request to the redirect path and returns its whole URL; any other request
    /// (a favicon) gets 404 and the wait goes on. The browser is told it may close the page.
    pub async fn wait(
        self,
        timeout: Duration,
        cancel: impl Future<Output = ()>,
    ) -> Result<String, ListenError> {
        let (sender, received) = oneshot::channel();
        let waiting = Arc::new(Waiting {
            origin: self.origin,
            path: self.path,
            received: Mutex::new(Some(sender)),
        });
        let app = axum::Router::new().fallback(answer).with_state(waiting);
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(self.listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        let result = tokio::select! {
            url = received => url.map_err(|_| ListenError::Cancelled),
            () = tokio::time::sleep(timeout) => Err(ListenError::TimedOut(timeout)),
            () = cancel => Err(ListenError::Cancelled),
        };
        let _ = stop.send(());
        let abort = server.abort_handle();
        if tokio::time::timeout(SHUTDOWN_WAIT, server).await.is_err() {
            abort.abort();
        }
        result
    }
}

async fn answer(State(waiting): State<Arc<Waiting>>, request: Request) -> Response {
    if request.uri().path() != waiting.path {
        return (StatusCode::NOT_FOUND, "not the redirect path").into_response();
    }
    if request.method() != Method::GET {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET")]).into_response();
    }
    let query = request.uri().query().unwrap_or_default();
    let url = format!("{}{}?{}", waiting.origin, waiting.path, query);
    let sender = waiting
        .received
        .lock()
        .ok()
        .and_then(|mut slot| slot.take());
    let Some(sender) = sender else {
        return (StatusCode::CONFLICT, "the callback was received already").into_response();
    };
    let page = page_for(&url);
    let _ = sender.send(url);
    Html(page).into_response()
}

/// The page the browser shows: whether a code or an error came, never the code itself.
fn page_for(url: &str) -> String {
    let outcome = match Callback::parse(url) {
        Ok(Callback {
            error: Some(error), ..
        }) => format!(
            "The server answered with an error: <code>{}</code>.",
            html_escape(&error)
        ),
        Ok(_) => "The authorization code was received.".to_owned(),
        Err(e) => format!(
            "The redirect did not read as a callback: {}.",
            html_escape(&e.to_string())
        ),
    };
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>consent-explorer</title></head>\
         <body><p>{outcome}</p><p>consent-explorer has it; you can close this window.</p></body></html>"
    )
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
