//! DPoP costs: one ES256 proof signed (p50/p99 over 5000), and the whole flow with DPoP
//! against the embedded sandbox (proofs at PAR and token, dpop_jkt, a JWT access token bound
//! with cnf.jkt), p50/p99 over 300 flows, beside the same flow without DPoP; then `call
//! balances` with the DPoP-bound token (a proof with ath, checked by the sandbox's resource
//! server), p50/p99 over 200 calls: `benches/resource.rs` has the same call with Bearer.
//! `cargo bench --bench dpop`; under `cargo test` it runs a few as a smoke test.

mod common;

use std::time::Instant;

use consent_explorer::core::dpop::{DpopKey, ProofFor};
use consent_explorer::core::flow::token::{TokenOutcome, TokenType};
use consent_explorer::core::resource::jwe::EncryptionKey;
use consent_explorer::core::session::CallInput;
use consent_explorer::core::transport::ClientOptions;
use jsonwebtoken::Algorithm;

fn main() {
    let key = DpopKey::generate(Algorithm::ES256).unwrap().0;
    let target = ProofFor {
        access_token: Some("an-access-token-of-forty-three-characters.."),
        ..ProofFor::post("https://as.example/token?x=1")
    };
    let mut rng = rand::rng();
    let proofs = common::rounds(5000, 20);
    let mut times = Vec::with_capacity(proofs);
    for _ in 0..proofs {
        let started = Instant::now();
        let proof = key
            .proof(&target, jiff::Timestamp::now(), &mut rng)
            .unwrap();
        times.push(started.elapsed());
        assert!(!proof.compact.is_empty());
    }
    common::report("dpop proof (ES256, with ath)", "proofs", times);

    let data = tempfile::tempdir().unwrap();
    // SAFETY: set before the runtime starts, while this is the only thread.
    unsafe { std::env::set_var("CONSENT_EXPLORER_DATA_DIR", data.path()) };
    let flows = common::rounds(300, 3);
    common::runtime().block_on(async {
        let options = ClientOptions::default();
        for with_dpop in [true, false] {
            let session = common::sandbox_session().await;
            let session = if with_dpop {
                session.with_dpop(DpopKey::generate(Algorithm::ES256).unwrap().0)
            } else {
                session
            };
            let mut times = Vec::with_capacity(flows);
            for _ in 0..flows {
                let started = Instant::now();
                let tokens = common::one_flow(&session, &options).await;
                times.push(started.elapsed());
                let TokenOutcome::Issued(set) = &tokens.exchange.outcome else {
                    panic!("{:?}", tokens.exchange.outcome)
                };
                let expected = if with_dpop {
                    TokenType::DPoP
                } else {
                    TokenType::Bearer
                };
                assert_eq!(set.token_type, expected);
            }
            let name = if with_dpop {
                "flow with DPoP"
            } else {
                "flow without DPoP"
            };
            common::report(name, "flows", times);
        }

        let session = common::sandbox_session_with(|s| {
            s.with_dpop(DpopKey::generate(Algorithm::ES256).unwrap().0)
                .with_encryption_key(EncryptionKey::generate().unwrap().0)
        })
        .await;
        let tokens = common::one_flow(&session, &options).await;
        let TokenOutcome::Issued(set) = &tokens.exchange.outcome else {
            panic!("{:?}", tokens.exchange.outcome)
        };
        assert_eq!(set.token_type, TokenType::DPoP);
        session.keep_tokens(set, None).unwrap();
        let calls = common::rounds(200, 3);
        let mut times = Vec::with_capacity(calls);
        for _ in 0..calls {
            let started = Instant::now();
            let exchange = session
                .call("balances", &[], &CallInput::default(), &options, &mut rng)
                .await
                .unwrap();
            times.push(started.elapsed());
            assert_eq!(exchange.status, 200);
            assert!(exchange.dpop.is_some());
        }
        common::report("call balances with DPoP", "calls", times);
    });
}
