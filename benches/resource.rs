//! `call balances` against the embedded sandbox as `call` runs it (x-signature signed, the
//! sandbox's checks, the envelope verified against its JWKS, the JWE decrypted): p50 and p99
//! over 200 calls after one flow. Then, with criterion, the decryption alone (one RSA-OAEP
//! private operation and AES-256-GCM) against two raw RSA-2048 private operations: opening a
//! JWE should cost about half of that pair. `cargo bench --bench resource`; under
//! `cargo test` it runs a few calls as a smoke test.

mod common;

use std::hint::black_box;
use std::time::Instant;

use consent_explorer::core::flow::token::TokenOutcome;
use consent_explorer::core::keys::SigningKey;
use consent_explorer::core::resource::jwe::{self, EncryptionKey};
use consent_explorer::core::session::{CallInput, Session};
use consent_explorer::core::transport::ClientOptions;
use criterion::Criterion;
use jsonwebtoken::Algorithm;

fn main() {
    let count = common::rounds(200, 3);
    let data = tempfile::tempdir().unwrap();
    // SAFETY: set before the runtime starts, while this is the only thread.
    unsafe { std::env::set_var("CONSENT_EXPLORER_DATA_DIR", data.path()) };
    common::runtime().block_on(async {
        let key = SigningKey::generate(Algorithm::PS256).unwrap().0;
        let session = Session::builtin_with_key("local", key)
            .unwrap()
            .with_encryption_key(EncryptionKey::generate().unwrap().0)
            .start_sandbox()
            .await
            .unwrap();
        let options = ClientOptions::default();
        let tokens = common::one_flow(&session, &options).await;
        let TokenOutcome::Issued(set) = &tokens.exchange.outcome else {
            panic!("no tokens: {:?}", tokens.exchange.outcome)
        };
        session.keep_tokens(set, None).unwrap();
        let mut times = Vec::with_capacity(count);
        for _ in 0..count {
            let started = Instant::now();
            let exchange = session
                .call(
                    "balances",
                    &[],
                    &CallInput::default(),
                    &options,
                    &mut rand::rng(),
                )
                .await
                .unwrap();
            times.push(started.elapsed());
            assert_eq!(exchange.status, 200);
            assert!(exchange.opened.jwe.as_ref().unwrap().verdict.is_verified());
        }
        common::report("resource", "call balances", times);
    });

    let mut c = Criterion::default().configure_from_args();
    decrypt(&mut c);
    c.final_summary();
}

fn decrypt(c: &mut Criterion) {
    let key = EncryptionKey::generate().unwrap().0;
    let payload = br#"{"data":{"account_id":"sbx-acc-0001","current_balance":{"amount":{"amount":"25000.75","currency":"MYR"},"credit_debit_indicator":"credit"}}}"#;
    let compact = jwe::encrypt(
        payload,
        key.public_jwk(),
        &serde_json::json!({"cty": "JWT"}),
    )
    .unwrap();
    let signer = SigningKey::generate(Algorithm::RS256).unwrap().0;
    let mut group = c.benchmark_group("resource");
    group.bench_function("jwe_decrypt_rsa_oaep_256_a256gcm", |b| {
        b.iter(|| key.decrypt(black_box(&compact)).unwrap())
    });
    group.bench_function("two_raw_rsa2048_private_ops", |b| {
        b.iter(|| {
            signer.sign(black_box(b"a.b")).unwrap();
            signer.sign(black_box(b"a.c")).unwrap()
        })
    });
    group.finish();
}
