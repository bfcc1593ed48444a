#![no_main]

#[path = "../common/invariants.rs"]
mod invariants;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(answer) = invariants::split_answer(data) {
        // A seed asks for the mutual-TLS aliases with an `mtls:` header line.
        let mtls = answer.headers.iter().any(|(k, _)| k == "mtls");
        invariants::discovery(answer.status, answer.body, mtls);
    }
});
