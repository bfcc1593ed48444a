//! The probe's full matrix against the embedded sandbox with no pause between requests: the
//! whole run, and each case (build, lint, send, read: the time between two rows). `cargo
//! bench --bench probe` runs 20 matrices; under `cargo test` it runs 1 as a smoke test.

mod common;

use std::time::{Duration, Instant};

use consent_explorer::core::probe::{self, Plan, Verdict};
use consent_explorer::core::transport::ClientOptions;
use rand::SeedableRng;

fn main() {
    let runs = common::rounds(20, 1);
    common::runtime().block_on(async {
        let session = common::sandbox_session().await;
        let plan = Plan::all();
        let mut totals = Vec::with_capacity(runs);
        let mut cases: Vec<(&'static str, Duration)> = Vec::new();
        for run in 0..runs {
            let started = Instant::now();
            let mut last = started;
            let mut on_row = |row: &probe::Row| {
                let now = Instant::now();
                cases.push((row.id, now - last));
                last = now;
            };
            let rng = rand::rngs::StdRng::seed_from_u64(run as u64);
            let report = probe::run(
                &session,
                &plan,
                &ClientOptions::default(),
                Duration::ZERO,
                rng,
                &mut on_row,
            )
            .await
            .unwrap();
            totals.push(started.elapsed());
            assert_eq!(report.summary.count(Verdict::Lenient), 0);
            assert_eq!(report.summary.requests_sent, plan.requests());
        }
        common::report("probe full matrix", "runs", totals);
        let mut slowest: Vec<(&str, Duration)> = cases.clone();
        common::report(
            "probe per case",
            "cases",
            cases.into_iter().map(|(_, d)| d).collect(),
        );
        slowest.sort_by_key(|(_, d)| std::cmp::Reverse(*d));
        let (id, time) = slowest[0];
        println!(
            "probe slowest case: {id}, {:.2} ms",
            time.as_secs_f64() * 1e3
        );
    });
}
