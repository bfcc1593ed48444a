#![no_main]

#[path = "../common/invariants.rs"]
mod invariants;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(answer) = invariants::split_answer(data) {
        invariants::par_answer(answer.status, &answer.headers, answer.body);
    }
});
