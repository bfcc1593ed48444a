//! HTTP clients kept for reuse. Building a reqwest client loads the TLS roots and costs about
//! 2.7 ms, and a whole flow asks for half a dozen; a `ClientCache` hands the same client back
//! for the same TLS material and options. A Session holds one and runs its calls inside
//! `ClientCache::scope`, so `http_client` finds it without every transport function taking a
//! cache argument. Outside a scope nothing is cached: each call builds its own client, as before.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::core::tls::TlsMaterial;

use super::client::ClientOptions;

/// Enough for every (loopback or not) x (options) pair a session uses; a long-lived TUI that
/// tries many timeouts drops the oldest instead of growing.
const MAX_CLIENTS: usize = 8;

tokio::task_local! {
    static CURRENT: ClientCache;
}

/// What makes two clients interchangeable: the proxy rule (loopback or not), the timeouts,
/// certificate checking, and the TLS identity and CA (by hash: the key is never kept twice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ClientKey {
    loopback: bool,
    connect_timeout: Duration,
    timeout: Duration,
    insecure: bool,
    tls: u64,
}

impl ClientKey {
    pub(super) fn new(loopback: bool, tls: &TlsMaterial, options: &ClientOptions) -> ClientKey {
        let mut hasher = DefaultHasher::new();
        tls.identity_pem.hash(&mut hasher);
        tls.ca_pem.hash(&mut hasher);
        ClientKey {
            loopback,
            connect_timeout: options.connect_timeout,
            timeout: options.timeout,
            insecure: options.insecure,
            tls: hasher.finish(),
        }
    }
}

/// Clients by key, oldest first. Cloning shares the cache (a client is itself a handle).
#[derive(Clone, Default)]
pub struct ClientCache {
    clients: Arc<Mutex<Vec<(ClientKey, reqwest::Client)>>>,
}

impl std::fmt::Debug for ClientCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientCache({} clients)", self.len())
    }
}

impl ClientCache {
    pub fn new() -> ClientCache {
        ClientCache::default()
    }

    /// Runs `work` with this cache as the one `http_client` uses.
    pub async fn scope<F: Future>(&self, work: F) -> F::Output {
        CURRENT.scope(self.clone(), work).await
    }

    /// Runs synchronous `work` with this cache as the one `http_client` uses.
    pub fn run<R>(&self, work: impl FnOnce() -> R) -> R {
        CURRENT.sync_scope(self.clone(), work)
    }

    pub fn len(&self) -> usize {
        self.clients.lock().map_or(0, |c| c.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn get_or_build<E>(
        &self,
        key: ClientKey,
        build: impl FnOnce() -> Result<reqwest::Client, E>,
    ) -> Result<reqwest::Client, E> {
        // A poisoned lock only means another thread panicked mid-insert: the Vec is still whole.
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, client)) = clients.iter().find(|(k, _)| *k == key) {
            return Ok(client.clone());
        }
        let client = build()?;
        if clients.len() >= MAX_CLIENTS {
            clients.remove(0);
        }
        clients.push((key, client.clone()));
        Ok(client)
    }
}

/// The scope's client for `key`, built once; outside a scope, a new one.
pub(super) fn cached<E>(
    key: ClientKey,
    build: impl FnOnce() -> Result<reqwest::Client, E>,
) -> Result<reqwest::Client, E> {
    match CURRENT.try_with(ClientCache::clone) {
        Ok(cache) => cache.get_or_build(key, build),
        Err(_) => build(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(loopback: bool, timeout: u64) -> ClientKey {
        let options = ClientOptions {
            timeout: Duration::from_secs(timeout),
            ..ClientOptions::default()
        };
        ClientKey::new(loopback, &TlsMaterial::default(), &options)
    }

    #[tokio::test]
    async fn a_scope_builds_each_kind_of_client_once() {
        let builds = std::sync::atomic::AtomicUsize::new(0);
        let build = || {
            builds.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok::<_, ()>(reqwest::Client::new())
        };
        let cache = ClientCache::new();
        cache
            .scope(async {
                cached(key(true, 30), build).unwrap();
                cached(key(true, 30), build).unwrap();
                cached(key(false, 30), build).unwrap();
                cached(key(true, 5), build).unwrap();
            })
            .await;
        assert_eq!(builds.load(std::sync::atomic::Ordering::SeqCst), 3);
        assert_eq!(cache.len(), 3);
        // Synchronous work (a resource call's client) shares the same clients.
        cache.run(|| cached(key(true, 30), build).unwrap());
        assert_eq!(builds.load(std::sync::atomic::Ordering::SeqCst), 3);
        // Outside the scope every call builds.
        cached(key(true, 30), build).unwrap();
        assert_eq!(builds.load(std::sync::atomic::Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn the_cache_is_bounded_and_keyed_by_the_tls_material() {
        let cache = ClientCache::new();
        cache
            .scope(async {
                for timeout in 0..(MAX_CLIENTS as u64 + 3) {
                    cached(key(true, timeout), || Ok::<_, ()>(reqwest::Client::new())).unwrap();
                }
            })
            .await;
        assert_eq!(cache.len(), MAX_CLIENTS);
        let with_identity = TlsMaterial {
            identity_pem: Some(b"cert and key".to_vec()),
            ..TlsMaterial::default()
        };
        let options = ClientOptions::default();
        assert_ne!(
            ClientKey::new(true, &with_identity, &options),
            ClientKey::new(true, &TlsMaterial::default(), &options)
        );
    }
}
