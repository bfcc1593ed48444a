//! The whole flow against the embedded sandbox server on loopback, as `flow` runs it: build
//! and push the PAR, record the pending flow, authorize (headless), check the callback, trade
//! the code (fresh assertion) and verify the ID token against the server's JWKS. p50 and p99
//! over 300 flows. `cargo bench --bench flow`; under `cargo test` it runs 5 as a smoke test.

mod common;

use std::time::Instant;

use consent_explorer::core::flow::token::TokenOutcome;
use consent_explorer::core::transport::{self, ClientOptions};

fn main() {
    let count = common::rounds(300, 5);
    // The pending flows go to a data dir of their own, never the user's.
    let data = tempfile::tempdir().unwrap();
    // SAFETY: set before the runtime starts, while this is the only thread.
    unsafe { std::env::set_var("CONSENT_EXPLORER_DATA_DIR", data.path()) };
    common::runtime().block_on(async {
        let session = common::sandbox_session().await;
        let options = ClientOptions::default();
        let mut times = Vec::with_capacity(count);
        for _ in 0..count {
            let started = Instant::now();
            let tokens = common::full_flow(&session, &options).await;
            times.push(started.elapsed());
            assert!(matches!(tokens.exchange.outcome, TokenOutcome::Issued(_)));
            assert!(tokens.id_token.is_some(), "the ID token was verified");
        }
        // One client built the way each step builds its own: the share of set-up in a flow.
        let issuer = session.seed().endpoints.issuer.clone();
        let started = Instant::now();
        for _ in 0..count {
            transport::http_client(&issuer, &Default::default(), &options).unwrap();
        }
        let per_client = started.elapsed() / count as u32;
        common::report("flow", "flows", times);
        println!(
            "flow: building one HTTP client takes {:.2} ms (a flow builds several)",
            per_client.as_secs_f64() * 1e3
        );
    });
}
