//! PAR round trip against the embedded sandbox server on loopback: build and sign both JWTs,
//! POST, the server verifies and lints, answer read. p50 and p99 over 1000 requests.
//! `cargo bench --bench par_roundtrip`; under `cargo test` it runs 20 requests as a smoke test.

use std::time::{Duration, Instant};

use consent_explorer::core::keys::SigningKey;
use consent_explorer::core::session::Session;
use consent_explorer::core::tls::TlsMaterial;
use consent_explorer::core::transport::{self, ClientOptions, Outcome};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let count = if benching { 1000 } else { 20 };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let key = SigningKey::generate(jsonwebtoken::Algorithm::PS256)
            .unwrap()
            .0;
        let session = Session::builtin_with_key("local", key)
            .unwrap()
            .start_sandbox()
            .await
            .unwrap();
        let url = session.seed().endpoints.par.clone().unwrap();
        let http = transport::http_client(&url, &TlsMaterial::default(), &ClientOptions::default())
            .unwrap();
        let mut times = Vec::with_capacity(count);
        for _ in 0..count {
            let started = Instant::now();
            let built = session
                .build(&[], jiff::Timestamp::now(), &mut rand::rng())
                .unwrap();
            let exchange = transport::send(&http, &url, &built.ticket).await.unwrap();
            times.push(started.elapsed());
            assert!(
                matches!(exchange.outcome, Outcome::Accepted { .. }),
                "{:?}",
                exchange.outcome
            );
        }
        times.sort();
        println!(
            "par_roundtrip: {count} requests, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3,
            times[times.len() - 1].as_secs_f64() * 1e3
        );
    });
}
