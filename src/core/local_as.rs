//! The embedded sandbox authorization server: a strict FAPI 2.0 PAR endpoint on loopback.
//!
//! It verifies both signatures against the trusted client key, checks the client assertion,
//! refuses replayed jti, and refuses the request object by the same rulebook `lint` shows
//! (one rulebook, not two). It answers like RFC 9126 and serves discovery, /jwks and a
//! minimal one-time /authorize.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::consent::PackSet;
use super::jws::{self, DecodedJwt};
use super::keys::{KeyFacts, SigningKey};
use super::lint::{self, Finding, Refusal, Severity};
use super::request::CLIENT_ASSERTION_TYPE;
use super::request::ParSeed;
use super::transport::INTERACTION_HEADER;

/// The one client the server knows.
#[derive(Debug, Clone)]
pub struct TrustedClient {
    pub client_id: String,
    pub redirect_uris: Vec<String>,
    pub key: KeyFacts,
}

impl TrustedClient {
    /// The client of a profile: its client_id, redirect_uri and the public part of its key.
    pub fn of(seed: &ParSeed, key: &SigningKey) -> TrustedClient {
        TrustedClient {
            client_id: seed.client_id.clone(),
            redirect_uris: vec![seed.redirect_uri.clone()],
            key: key.facts(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub client: TrustedClient,
    pub packs: PackSet,
    /// 201 as RFC 9126 says, or 200 as the Malaysia and UAE deployments answer.
    pub par_status: u16,
    /// expires_in of a request_uri: under 600 s (FAPI 2.0).
    pub request_uri_lifetime: i64,
}

impl Config {
    pub fn new(client: TrustedClient, packs: PackSet) -> Config {
        Config {
            client,
            packs,
            par_status: 201,
            request_uri_lifetime: 90,
        }
    }
}

struct Pushed {
    client_id: String,
    expires_at: i64,
    used: bool,
    authorization_details: Value,
}

struct AppState {
    config: Config,
    issuer: String,
    /// jti -> exp, kept until exp so a replay within the assertion's life is refused.
    used_jti: Mutex<HashMap<String, i64>>,
    pushed: Mutex<HashMap<String, Pushed>>,
}

impl AppState {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
}

/// A running server; dropping it stops it.
pub struct LocalAs {
    issuer: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl LocalAs {
    /// Binds 127.0.0.1:`port` (0: any free port) and serves in the background.
    pub async fn start(config: Config, port: u16) -> std::io::Result<LocalAs> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let issuer = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
        let state = Arc::new(AppState {
            config,
            issuer: issuer.clone(),
            used_jti: Mutex::new(HashMap::new()),
            pushed: Mutex::new(HashMap::new()),
        });
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router(state))
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(LocalAs {
            issuer,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Runs until the server stops (for the foreground `local-as` command).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for LocalAs {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/par", post(par))
        .route("/authorize", get(authorize))
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .with_state(state)
}

fn with_interaction_id(mut response: Response, interaction_id: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(interaction_id) {
        response.headers_mut().insert(INTERACTION_HEADER, value);
    }
    response
}

fn oauth_error(status: StatusCode, error: &str, description: impl Into<String>) -> Response {
    let body = json!({"error": error, "error_description": description.into()});
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn refusal_response(refusal: Refusal, description: String) -> Response {
    let status = if refusal == Refusal::InvalidClient {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    };
    oauth_error(
        status,
        refusal.error_code().unwrap_or("invalid_request"),
        description,
    )
}

fn finding_text(f: &Finding) -> String {
    format!("{} [{}; {}]", f.message, f.id, f.reference)
}

async fn par(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let interaction_id = headers
        .get(INTERACTION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let response = handle_par(&state, &headers, &body, Timestamp::now());
    with_interaction_id(response, &interaction_id)
}

fn handle_par(state: &AppState, headers: &HeaderMap, body: &[u8], now: Timestamp) -> Response {
    let bad = |d: &str| oauth_error(StatusCode::BAD_REQUEST, "invalid_request", d);
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return bad("the PAR must be an application/x-www-form-urlencoded POST (RFC 9126 2.1)");
    }
    let mut form: HashMap<String, String> = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        if form.insert(k.to_string(), v.to_string()).is_some() {
            return bad(&format!("parameter {k} is repeated (RFC 9126 2.1)"));
        }
    }
    if form.contains_key("request_uri") {
        return bad("request_uri must not be sent to the PAR endpoint (RFC 9126 2.1)");
    }
    let client_error = |d: String| oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", d);
    if form.get("client_assertion_type").map(String::as_str) != Some(CLIENT_ASSERTION_TYPE) {
        return client_error(format!(
            "client_assertion_type must be {CLIENT_ASSERTION_TYPE} (private_key_jwt, RFC 7523 2.2)"
        ));
    }
    let assertion = match form.get("client_assertion").map(|a| jws::decode(a)) {
        Some(Ok(a)) => a,
        Some(Err(e)) => return client_error(format!("the client assertion is not a JWT: {e}")),
        None => return client_error("no client_assertion".into()),
    };
    let client = &state.config.client;
    let client_id = form
        .get("client_id")
        .cloned()
        .or_else(|| assertion.claim_str("iss").map(str::to_owned));
    if client_id.as_deref() != Some(client.client_id.as_str()) {
        return client_error(format!(
            "unknown client {:?}: this server trusts {}",
            client_id.unwrap_or_default(),
            client.client_id
        ));
    }
    let request = match form.get("request").map(|r| jws::decode(r)) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request_object",
                format!("the request object is not a JWT: {e}"),
            );
        }
        None => {
            return bad(
                "a signed request object (request) is required (FAPI 2.0 Message Signing 5.3.1)",
            );
        }
    };
    let findings = lint_push(state, &request, &assertion, &client.client_id, now);
    let errors = || findings.iter().filter(|f| f.severity == Severity::Error);
    let refusal_of = |f: &Finding| lint::rule(f.id).map_or(Refusal::InvalidRequest, |r| r.refusal);
    // Client authentication comes first, as on a real server.
    if let Some(f) = errors().find(|f| refusal_of(f) == Refusal::InvalidClient) {
        return refusal_response(Refusal::InvalidClient, finding_text(f));
    }
    if let Err(description) = remember_jti(state, &assertion, now) {
        return client_error(description);
    }
    if let Some(f) = errors().find(|f| refusal_of(f) != Refusal::None) {
        return refusal_response(refusal_of(f), finding_text(f));
    }
    let redirect_uri = request.claim_str("redirect_uri").unwrap_or_default();
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return bad(&format!(
            "redirect_uri {redirect_uri} is not registered for {} (registered: {})",
            client.client_id,
            client.redirect_uris.join(", ")
        ));
    }
    let request_uri = format!("urn:ietf:params:oauth:request_uri:{}", uuid::Uuid::new_v4());
    let lifetime = state.config.request_uri_lifetime;
    state.pushed.lock().expect("lock").insert(
        request_uri.clone(),
        Pushed {
            client_id: client.client_id.clone(),
            expires_at: now.as_second() + lifetime,
            used: false,
            authorization_details: request
                .claim("authorization_details")
                .cloned()
                .unwrap_or(Value::Null),
        },
    );
    let status = StatusCode::from_u16(state.config.par_status).unwrap_or(StatusCode::CREATED);
    let mut response = (
        status,
        axum::Json(json!({"request_uri": request_uri, "expires_in": lifetime})),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn lint_push(
    state: &AppState,
    request: &DecodedJwt,
    assertion: &DecodedJwt,
    client_id: &str,
    now: Timestamp,
) -> Vec<Finding> {
    let par = state.url("/par");
    let token = state.url("/token");
    let authorize = state.url("/authorize");
    let ctx = lint::Context {
        issuer: Some(&state.issuer),
        client_id: Some(client_id),
        par_endpoint: Some(&par),
        token_endpoint: Some(&token),
        authorization_endpoint: Some(&authorize),
        key: Some(&state.config.client.key),
        ..lint::Context::bare(&state.config.packs, now)
    };
    lint::lint(
        &lint::Subject {
            request,
            assertion: Some(assertion),
            form_client_id: Some(client_id),
        },
        &ctx,
    )
}

/// Refuses a jti seen before (until its assertion expires), else remembers it.
fn remember_jti(state: &AppState, assertion: &DecodedJwt, now: Timestamp) -> Result<(), String> {
    let jti = assertion.claim_str("jti").unwrap_or_default().to_owned();
    let exp = assertion
        .claim("exp")
        .and_then(Value::as_i64)
        .unwrap_or(now.as_second());
    let mut used = state.used_jti.lock().expect("lock");
    used.retain(|_, until| *until >= now.as_second());
    if used.contains_key(&jti) {
        return Err(format!(
            "the client assertion jti {jti} was already used: make a fresh assertion per request (RFC 7523 3)"
        ));
    }
    used.insert(jti, exp);
    Ok(())
}

async fn authorize(
    State(state): State<Arc<AppState>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let bad = |error: &str, d: String| oauth_error(StatusCode::BAD_REQUEST, error, d);
    let (Some(client_id), Some(request_uri)) = (query.get("client_id"), query.get("request_uri"))
    else {
        return bad(
            "invalid_request",
            "client_id and request_uri are required (RFC 9126 4)".into(),
        );
    };
    let now = Timestamp::now().as_second();
    let mut pushed = state.pushed.lock().expect("lock");
    let Some(entry) = pushed.get_mut(request_uri) else {
        return bad(
            "invalid_request_uri",
            "unknown request_uri: push the request first".into(),
        );
    };
    if entry.client_id != *client_id {
        return bad(
            "invalid_request",
            format!(
                "request_uri was pushed by {}, not {client_id}",
                entry.client_id
            ),
        );
    }
    if entry.used {
        return bad(
            "invalid_request_uri",
            "request_uri was already used: it is one-time (FAPI 2.0)".into(),
        );
    }
    if now > entry.expires_at {
        return bad(
            "invalid_request_uri",
            "request_uri expired: push the request again".into(),
        );
    }
    entry.used = true;
    let details = serde_json::to_string_pretty(&entry.authorization_details).unwrap_or_default();
    let escaped = details
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    Html(format!(
        "<!doctype html><title>consent-explorer sandbox</title><h1>Authorization request accepted</h1>\
<p>The consent-explorer sandbox accepted this pushed request. A real authorization server would now \
authenticate the user and show the consent for:</p><pre>{escaped}</pre>"
    ))
    .into_response()
}

async fn discovery(State(state): State<Arc<AppState>>) -> Response {
    let types: Vec<&str> = state
        .config
        .packs
        .packs
        .iter()
        .map(|p| p.type_.as_str())
        .collect();
    axum::Json(json!({
        "issuer": state.issuer,
        "pushed_authorization_request_endpoint": state.url("/par"),
        "authorization_endpoint": state.url("/authorize"),
        "token_endpoint": state.url("/token"),
        "jwks_uri": state.url("/jwks"),
        "require_pushed_authorization_requests": true,
        "require_signed_request_object": true,
        "request_object_signing_alg_values_supported": lint::FAPI_ALGS,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": lint::FAPI_ALGS,
        "code_challenge_methods_supported": ["S256"],
        "response_types_supported": ["code"],
        "scopes_supported": ["openid", "accounts", "profile"],
        "authorization_details_types_supported": types,
        "authorization_response_iss_parameter_supported": true,
    }))
    .into_response()
}

/// The server's own signing keys: none, since the sandbox issues no ID tokens or signed
/// responses (the client's key is what it trusts, not what it publishes).
async fn jwks() -> Response {
    axum::Json(json!({"keys": []})).into_response()
}
