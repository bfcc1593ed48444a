//! The embedded sandbox authorization server: a strict FAPI 2.0 PAR endpoint on loopback.
//!
//! It verifies both signatures against the trusted client key, checks the client assertion,
//! refuses replayed jti, and refuses the request object by the same rulebook `lint` shows
//! (one rulebook, not two). It answers like RFC 9126 and serves discovery, /jwks and a
//! minimal one-time /authorize. Its memory (pushed requests, used jti) is bounded.

mod routes;
mod store;
mod verify;

use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::consent::PackSet;
use super::keys::{KeyFacts, SigningKey};
use super::request::ParSeed;
use store::{PushedRequests, STORE_CAP, UsedJti};

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

struct AppState {
    config: Config,
    issuer: String,
    used_jti: Mutex<UsedJti>,
    pushed: Mutex<PushedRequests>,
}

impl AppState {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
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
        let state = Arc::new(AppState {
            config,
            issuer: issuer.clone(),
            used_jti: Mutex::new(UsedJti::new(STORE_CAP)),
            pushed: Mutex::new(PushedRequests::new(STORE_CAP)),
        });
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
