//! Building and signing both JWTs of a PAR, against one raw signature and against
//! jsonwebtoken's encode (which re-parses the key on every call). Compare with
//! `openssl speed -seconds 2 rsa2048` on the same machine: the build should cost within
//! 1.5x of two raw RSA-2048 signatures.

use consent_explorer::core::consent::PackSet;
use consent_explorer::core::keys::SigningKey;
use consent_explorer::core::profile::{self};
use consent_explorer::core::request;
use consent_explorer::core::request::{Overrides, ParSeed};
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::Algorithm;
use std::hint::black_box;

fn seed(name: &str) -> ParSeed {
    profile::builtin(name)
        .unwrap()
        .seed(
            &PackSet::builtin(),
            &Overrides::default(),
            &profile::default_embedded_base(),
        )
        .unwrap()
}

fn signing(c: &mut Criterion) {
    let now = jiff::Timestamp::now();
    let mut group = c.benchmark_group("par");
    for alg in [Algorithm::PS256, Algorithm::ES256, Algorithm::EdDSA] {
        let (key, pem) = SigningKey::generate(alg).unwrap();
        let seed = seed("local");
        group.bench_function(format!("build_both_jwts_{alg:?}"), |b| {
            b.iter(|| request::build(black_box(&seed), &key, now, &mut rand::rng()).unwrap())
        });
        group.bench_function(format!("raw_signature_{alg:?}"), |b| {
            b.iter(|| {
                key.sign(black_box(b"eyJhbGciOiJQUzI1NiJ9.eyJhIjoxfQ"))
                    .unwrap()
            })
        });
        if alg == Algorithm::PS256 {
            let encoding = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
            let header = jsonwebtoken::Header::new(alg);
            let claims = serde_json::json!({"a": 1});
            group.bench_function("jsonwebtoken_encode_PS256", |b| {
                b.iter(|| jsonwebtoken::encode(&header, black_box(&claims), &encoding).unwrap())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, signing);
criterion_main!(benches);
