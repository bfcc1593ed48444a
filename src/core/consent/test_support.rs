//! The built-in packs and a fixed clock and UUID source, for the tests of each part.

use jiff::Timestamp;

use super::{Pack, PackSet};

pub(super) fn now() -> Timestamp {
    "2026-01-30T10:00:00Z".parse().unwrap()
}

pub(super) fn my() -> Pack {
    PackSet::builtin()
        .find("urn:openfinance-ml:account-access-consent:v1.2")
        .unwrap()
        .clone()
}

pub(super) fn uae() -> Pack {
    PackSet::builtin()
        .find("uae-account-access")
        .unwrap()
        .clone()
}

pub(super) fn counter() -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        format!("00000000-0000-4000-8000-{n:012}")
    }
}
