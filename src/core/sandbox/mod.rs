//! The embedded sandbox authorization server: a strict FAPI 2.0 PAR endpoint on loopback.
//!
//! It verifies both signatures against the trusted client key, checks the client assertion,
//! refuses replayed jti, and refuses the request object by the same rulebook `lint` shows
//! (one rulebook, not two). It answers like RFC 9126, then completes the loop: a consent
//! page at /authorize (approve or deny, or `auto=approve` for scripts), /token (codes bound
//! to client, redirect_uri and PKCE; refresh tokens), an ID token signed with its own PS256
//! key served at /jwks, /userinfo and discovery. Its memory (pushed requests, used jti,
//! codes, tokens) is bounded.

mod authorize;
mod dpop;
mod grant;
mod resource;
mod resource_data;
mod resource_dpop;
mod resource_store;
mod resource_verify;
mod routes;
mod store;
mod token;
mod verify;

use std::sync::{Arc, Mutex, OnceLock};

use jsonwebtoken::Algorithm;
use tokio::sync::oneshot;

use super::consent::PackSet;
use super::keys::{KeyError, KeyFacts, SigningKey};
use super::request::ParSeed;
use store::{Codes, Expiring, JTI_CAP, PushedRequests, STORE_CAP, Tokens, UsedJti};

pub use grant::TEST_USER;

/// What the sandbox signs its ID tokens with (PS256, as FAPI 2.0 deployments do).
pub const ID_TOKEN_ALG: Algorithm = Algorithm::PS256;
/// How long an authorization code lives (the Malaysia platform's 60 s).
pub const CODE_LIFETIME: i64 = 60;
/// expires_in of an access token (S-TOK: 600).
pub const ACCESS_TOKEN_LIFETIME: i64 = 600;
/// How long a refresh token lives; not rotated on use (DC).
pub const REFRESH_TOKEN_LIFETIME: i64 = 86_400;

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
    /// Require the server's nonce in DPoP proofs (`sandbox --dpop-nonce`, RFC 9449 8).
    pub dpop_nonce: bool,
    /// The client's public encryption key: resource answers are encrypted to it.
    pub client_encryption_key: Option<jsonwebtoken::jwk::Jwk>,
    /// Where the resource server keeps its tokens and consents between processes.
    pub state_file: Option<std::path::PathBuf>,
    /// Each request answered, as it is answered (the foreground `sandbox` prints them).
    pub served: Option<tokio::sync::mpsc::UnboundedSender<Served>>,
}

/// One request the sandbox answered: what a person debugging their client looks for. The
/// path only: queries and bodies may carry codes and tokens.
#[derive(Debug, Clone)]
pub struct Served {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub interaction_id: Option<String>,
    pub elapsed: std::time::Duration,
}

impl Config {
    pub fn new(client: TrustedClient, packs: PackSet) -> Config {
        Config {
            client,
            packs,
            par_status: 201,
            request_uri_lifetime: 90,
            dpop_nonce: false,
            client_encryption_key: None,
            state_file: None,
            served: None,
        }
    }
}

struct AppState {
    config: Config,
    issuer: String,
    used_jti: Mutex<UsedJti>,
    pushed: Mutex<PushedRequests>,
    codes: Mutex<Codes>,
    access_tokens: Mutex<Tokens>,
    refresh_tokens: Mutex<Tokens>,
    /// DPoP: proof jti seen, nonces given (and the latest), and the key each code, refresh
    /// token and access token is bound to (by "code:", "rt:", "at:" and the value).
    proof_jti: Mutex<UsedJti>,
    dpop_nonces: Mutex<Expiring<()>>,
    latest_nonce: Mutex<Option<(String, i64)>>,
    dpop_bindings: Mutex<Expiring<String>>,
    resource: Mutex<resource_store::ResourceState>,
    /// jti of resource-call signatures, each kept until its signature expires.
    resource_jti: Mutex<UsedJti>,
    /// The sandbox's own ID token key, made on first use (/jwks or /token): an RSA key takes
    /// about 100 ms, which every `submit` to the embedded server would otherwise pay, even
    /// at exit (the runtime waits for a background key generation to finish).
    server_key: OnceLock<Result<SigningKey, KeyError>>,
}

impl AppState {
    fn new(config: Config, issuer: String) -> AppState {
        let state_file = config.state_file.clone();
        AppState {
            config,
            issuer,
            used_jti: Mutex::new(UsedJti::new(JTI_CAP)),
            pushed: Mutex::new(PushedRequests::new(STORE_CAP)),
            codes: Mutex::new(Codes::new(STORE_CAP)),
            access_tokens: Mutex::new(Tokens::new(STORE_CAP)),
            refresh_tokens: Mutex::new(Tokens::new(STORE_CAP)),
            proof_jti: Mutex::new(UsedJti::new(dpop::PROOF_JTI_CAP)),
            dpop_nonces: Mutex::new(Expiring::new(STORE_CAP)),
            latest_nonce: Mutex::new(None),
            dpop_bindings: Mutex::new(Expiring::new(3 * STORE_CAP)),
            resource: Mutex::new(resource_store::ResourceState::new(state_file)),
            resource_jti: Mutex::new(UsedJti::new(JTI_CAP)),
            server_key: OnceLock::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    fn server_key(&self) -> Result<&SigningKey, &KeyError> {
        self.server_key
            .get_or_init(|| SigningKey::generate(ID_TOKEN_ALG).map(|(key, _pem)| key))
            .as_ref()
    }
}

/// A running server; dropping it stops it.
pub struct Sandbox {
    issuer: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Sandbox {
    /// Binds 127.0.0.1:`port` (0: any free port) and serves in the background.
    pub async fn start(config: Config, port: u16) -> std::io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let issuer = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
        let state = Arc::new(AppState::new(config, issuer.clone()));
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, routes::router(state))
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Sandbox {
            issuer,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Runs until the server stops (for the foreground `sandbox` command).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
