//! What every parser of outside input must hold to, whatever it is fed. One copy, shared by
//! the cargo-fuzz targets (fuzz/fuzz_targets/) and the property tests (tests/parsers.rs), so
//! the two cannot drift apart. Each check panics on a broken promise; a parser that panics by
//! itself is caught the same way.

#![allow(dead_code)] // each fuzz target uses one check

use consent_explorer::core::consent::{PackSet, parse_pack};
use consent_explorer::core::error::{ConfigError, Origin};
use consent_explorer::core::profile::{self, ProfileSource};
use consent_explorer::core::request::Overrides;
use consent_explorer::core::transport::{Outcome, read_answer, read_discovery};
use consent_explorer::core::{display, jws};
use jiff::{SignedDuration, Timestamp};
use std::sync::OnceLock;

pub const FILE: &str = "fuzz.toml";
pub const DISCOVERY_URL: &str = "https://as.example/.well-known/openid-configuration";

/// The fixed clock of every check, so a failure replays exactly.
pub fn now() -> Timestamp {
    Timestamp::from_second(1_769_767_200).expect("2026-01-30T10:00:00Z is in range")
}

fn uuids() -> impl FnMut() -> String {
    let mut n = 0u64;
    move || {
        n += 1;
        format!("00000000-0000-4000-8000-{n:012}")
    }
}

/// Parsed once: a fuzzer runs the check millions of times.
fn builtin_packs() -> &'static PackSet {
    static PACKS: OnceLock<PackSet> = OnceLock::new();
    PACKS.get_or_init(PackSet::builtin)
}

fn assert_explained(e: &ConfigError) {
    assert!(
        !e.message.trim().is_empty(),
        "an error without a message: {e:?}"
    );
    assert!(!e.hint.trim().is_empty(), "an error without a hint: {e}");
}

fn line_of(e: &ConfigError) -> Option<usize> {
    match &e.origin {
        Origin::File { line, .. } => *line,
        other => panic!("a file's error points elsewhere: {other:?}"),
    }
}

/// A profile from text: a TOML mistake names its line; a profile that parses is resolved
/// against the built-in packs and its consent item built, each failure naming its field.
pub fn profile(text: &str) {
    let loaded = match profile::parse(text, ProfileSource::File(FILE.into()), "fuzz") {
        Ok(loaded) => loaded,
        Err(e) => {
            assert_explained(&e);
            let line = line_of(&e).unwrap_or_else(|| panic!("no line in: {e}"));
            let last = text.matches('\n').count() + 1;
            assert!((1..=last).contains(&line), "line {line} of {last}: {e}");
            return;
        }
    };
    match loaded.seed(
        builtin_packs(),
        &Overrides::default(),
        "http://127.0.0.1:8787",
    ) {
        Ok(seed) => {
            // Whatever the profile gave, building the item must not panic (dates, paths).
            let _ = seed
                .pack
                .authorization_detail(&seed.consent, now(), &mut uuids());
        }
        Err(e) => {
            assert_explained(&e);
            assert!(!e.field.is_empty(), "a resolve error names no field: {e}");
        }
    }
}

/// A consent pack from text: a mistake names a line; a pack that loads has defaults that
/// build an item.
pub fn pack(text: &str) {
    match parse_pack(text, Origin::file(FILE)) {
        Ok(pack) => {
            let defaults = pack
                .default_values()
                .expect("parse_pack checked the defaults");
            let _ = pack.authorization_detail(&defaults, now(), &mut uuids());
        }
        Err(e) => {
            assert_explained(&e);
            let _ = line_of(&e);
        }
    }
}

/// A compact JWS for the preview: both parts decoded are JSON objects, and the compact form
/// kept is the trimmed input.
pub fn jwt(text: &str) {
    let Ok(decoded) = jws::decode(text) else {
        return;
    };
    assert!(decoded.header.is_object() && decoded.claims.is_object());
    assert_eq!(decoded.compact, text.trim());
    assert_eq!(decoded.compact.matches('.').count(), 2);
    let _ = (decoded.alg(), decoded.kid(), decoded.claim_str("iss"));
    // The preview draws both parts with dates explained (exp, iat, nbf in any range).
    for part in [&decoded.header, &decoded.claims] {
        let lines = display::json_lines_with_dates(part, now());
        let _ = display::plain_text(&lines);
    }
}

/// A PAR answer: accepted only from a 2xx with a non-empty request_uri and a positive
/// expires_in whose expiry date is right; refused only with an error code from a non-2xx.
pub fn par_answer(status: u16, headers: &[(String, String)], body: &[u8]) {
    let (_, outcome) = read_answer(status, headers, body, now());
    match outcome {
        Outcome::Accepted {
            request_uri,
            expires_in,
            expires_at,
        } => {
            assert!(
                (200..300).contains(&status),
                "accepted with status {status}"
            );
            assert!(
                !request_uri.trim().is_empty(),
                "accepted with an empty request_uri"
            );
            assert!(expires_in > 0, "accepted with expires_in {expires_in}");
            assert_eq!(expires_at, now() + SignedDuration::from_secs(expires_in));
        }
        Outcome::Refused { explanation, .. } => {
            assert!(
                !(200..400).contains(&status),
                "refused with status {status}"
            );
            assert!(!explanation.is_empty());
        }
        Outcome::Unexpected { explanation } => {
            assert!(!explanation.is_empty(), "status {status}: no explanation");
        }
    }
}

/// A discovery answer: endpoints only from a 2xx JSON body; otherwise an error naming the URL.
pub fn discovery(status: u16, body: &[u8], mtls: bool) {
    match read_discovery(DISCOVERY_URL, status, body, mtls) {
        Ok(_) => {
            assert!(
                (200..300).contains(&status),
                "a document from status {status}"
            );
            assert!(serde_json::from_slice::<serde_json::Value>(body).is_ok());
        }
        Err(e) => {
            assert!(e.to_string().contains(DISCOVERY_URL), "{e}");
            assert!(!e.hint.is_empty(), "{e}");
        }
    }
}

/// An answer as the fuzzers feed it.
pub struct Answer<'a> {
    pub status: u16,
    /// Lower-case names, trimmed values.
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
}

/// An HTTP-like answer for the fuzzers, easy to write by hand in a seed: a status line of
/// digits, `name: value` header lines, an empty line, then the body as bytes.
pub fn split_answer(data: &[u8]) -> Option<Answer<'_>> {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &[][..]),
    };
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.lines();
    let status = lines.next()?.trim().parse::<u16>().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some(Answer {
        status,
        headers,
        body,
    })
}
