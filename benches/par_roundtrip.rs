//! PAR round trip against the embedded sandbox server on loopback: build and sign both JWTs,
//! POST, the server verifies and lints, answer read. p50 and p99 over 1000 requests.
//! `cargo bench --bench par_roundtrip`; under `cargo test` it runs 20 requests as a smoke test.

mod common;

use std::time::Instant;

use consent_explorer::core::tls::TlsMaterial;
use consent_explorer::core::transport::{self, ClientOptions, Outcome};

fn main() {
    let count = common::rounds(1000, 20);
    common::runtime().block_on(async {
        let session = common::sandbox_session().await;
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
        common::report("par_roundtrip", "requests", times);
    });
}
