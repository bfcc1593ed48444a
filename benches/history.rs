//! History: recording one exchange (a real PAR ticket redacted, then one SQLite transaction in
//! WAL mode) and `history list` (the flows with their steps) on a full history of 5,000
//! entries. Prints p50/p99 from its own loop, then criterion's estimates.
//! `cargo bench --bench history`; under `cargo test` a few rounds as a smoke test.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use consent_explorer::core::history::{Exchange, History, Limits};
use consent_explorer::core::keys::SigningKey;
use consent_explorer::core::request::ParTicket;
use consent_explorer::core::session::Session;
use consent_explorer::core::transport::{Body, Outcome, ParExchange};
use criterion::{Criterion, criterion_group};

/// `count` PAR tickets of the `local` profile: each starts a flow of its own (its state).
fn tickets(count: usize) -> Vec<ParTicket> {
    let key = SigningKey::generate(jsonwebtoken::Algorithm::PS256)
        .unwrap()
        .0;
    let session = Session::builtin_with_key("local", key).unwrap();
    (0..count)
        .map(|_| {
            session
                .build(&[], jiff::Timestamp::now(), &mut rand::rng())
                .unwrap()
                .ticket
        })
        .collect()
}

fn answer(now: jiff::Timestamp) -> ParExchange {
    let body = serde_json::json!({"request_uri": "urn:ietf:params:oauth:request_uri:bench", "expires_in": 90});
    ParExchange {
        status: 201,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-fapi-interaction-id".into(), "bench".into()),
        ],
        body: Body::Json(body),
        elapsed: Duration::from_millis(3),
        received_at: now,
        interaction_id: "bench".into(),
        echoed_interaction_id: Some("bench".into()),
        server_date: None,
        outcome: Outcome::Accepted {
            request_uri: "urn:ietf:params:oauth:request_uri:bench".into(),
            expires_in: 90,
            expires_at: now,
        },
    }
}

fn record(history: &History, ticket: &ParTicket, answer: &ParExchange) {
    let exchange = Exchange::of_par(
        "local",
        "http://127.0.0.1:9126/par",
        ticket,
        Ok(answer),
        &[],
    );
    history.record(&exchange).unwrap();
}

fn percentile_line(name: &str, unit: &str, scale: f64, mut times: Vec<Duration>) {
    times.sort();
    let at =
        |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * scale;
    println!(
        "{name}: {} rounds, p50 {:.1} {unit}, p99 {:.1} {unit}",
        times.len(),
        at(0.5),
        at(0.99)
    );
}

/// A history filled to its 5,000-entry bound: 1,250 flows of four exchanges each.
fn full_history(dir: &std::path::Path, answer: &ParExchange) -> (History, Vec<ParTicket>) {
    let (history, _) = History::open(&dir.join("history.db"), Limits::default()).unwrap();
    let tickets = tickets(1_250);
    for ticket in &tickets {
        for _ in 0..4 {
            record(&history, ticket, answer);
        }
    }
    (history, tickets)
}

fn percentiles() {
    let answer = answer(jiff::Timestamp::now());
    let dir = tempfile::tempdir().unwrap();
    let (history, tickets) = full_history(dir.path(), &answer);
    let mut default_list = Vec::new();
    let mut whole_list = Vec::new();
    for _ in 0..common::rounds(50, 3) {
        let started = Instant::now();
        black_box(history.flows(None, 50).unwrap());
        default_list.push(started.elapsed());
        let started = Instant::now();
        let flows = history.flows(None, 10_000).unwrap();
        whole_list.push(started.elapsed());
        assert_eq!(flows.iter().map(|f| f.steps.len()).sum::<usize>(), 5_000);
    }
    percentile_line(
        "history list, 50 newest flows of 5,000 entries",
        "ms",
        1e3,
        default_list,
    );
    percentile_line("history list, all 5,000 entries", "ms", 1e3, whole_list);
    // Each record also drops the oldest entry: the history stays full.
    let mut times = Vec::new();
    for round in 0..common::rounds(2_000, 20) {
        let ticket = &tickets[round % tickets.len()];
        let started = Instant::now();
        record(&history, ticket, &answer);
        times.push(started.elapsed());
    }
    percentile_line("history record (redacted, full history)", "µs", 1e6, times);
}

fn history(c: &mut Criterion) {
    let answer = answer(jiff::Timestamp::now());
    let dir = tempfile::tempdir().unwrap();
    let (history, tickets) = full_history(dir.path(), &answer);
    c.bench_function("history list 50 flows of 5000 entries", |b| {
        b.iter(|| black_box(history.flows(None, 50).unwrap()))
    });
    let mut round = 0;
    c.bench_function("history record one exchange", |b| {
        b.iter(|| {
            round += 1;
            record(&history, &tickets[round % tickets.len()], &answer)
        })
    });
}

criterion_group!(benches, history);

fn main() {
    percentiles();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
