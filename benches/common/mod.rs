//! What the loop benchmarks share: a runtime, a session on the embedded sandbox with a fresh
//! PS256 key, and the p50/p99 line they print.

#![allow(dead_code)]

use std::time::Duration;

use consent_explorer::core::flow::callback::Callback;
use consent_explorer::core::keys::SigningKey;
use consent_explorer::core::session::{Session, Tokens};
use consent_explorer::core::transport::{self, ClientOptions, Outcome};

/// `bench` rounds under `cargo bench`, `smoke` under `cargo test` (a smoke test).
pub fn rounds(bench: usize, smoke: usize) -> usize {
    if std::env::args().any(|a| a == "--bench") {
        bench
    } else {
        smoke
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The `local` profile with a new PS256 key, its sandbox running.
pub async fn sandbox_session() -> Session {
    sandbox_session_with(|s| s).await
}

/// As `sandbox_session`, the session changed by `adjust` before its sandbox starts (a DPoP
/// key, an encryption key).
pub async fn sandbox_session_with(adjust: impl FnOnce(Session) -> Session) -> Session {
    let key = SigningKey::generate(jsonwebtoken::Algorithm::PS256)
        .unwrap()
        .0;
    adjust(Session::builtin_with_key("local", key).unwrap())
        .start_sandbox()
        .await
        .unwrap()
}

/// "NAME: N WHAT, p50 .. ms, p99 .. ms, max .. ms".
pub fn report(name: &str, what: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let at = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{name}: {} {what}, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        times.len(),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(times[times.len() - 1])
    );
}

/// One flow as `flow` runs it: build and push the PAR, record the pending flow, authorize
/// (headless), check the callback, trade the code and verify the ID token.
#[allow(dead_code)] // the flow benches use it, par_roundtrip does not
pub async fn one_flow(session: &Session, options: &ClientOptions) -> Tokens {
    let now = jiff::Timestamp::now();
    let built = session.build(&[], now, &mut rand::rng()).unwrap();
    let delivery = session.deliver(&built.ticket, options).await.unwrap();
    let Outcome::Accepted { request_uri, .. } = &delivery.exchange.outcome else {
        panic!("{:?}", delivery.exchange.outcome);
    };
    session
        .record_flow(&built.ticket, &delivery.exchange.outcome, now)
        .unwrap();
    let authorize = transport::authorize_url(
        delivery.authorization_endpoint.as_deref().unwrap(),
        &session.seed().client_id,
        request_uri,
    );
    let redirect = session
        .authorize_headless(&authorize, true, options)
        .await
        .unwrap();
    let callback = Callback::parse(&redirect).unwrap();
    let discovery = session.discovery(options).await.unwrap();
    let code = session
        .check_callback(&callback, Some(&discovery), jiff::Timestamp::now())
        .unwrap();
    session
        .exchange_code(&code, options, &mut rand::rng())
        .await
        .unwrap()
}
