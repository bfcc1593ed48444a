//! Start-up cost: aws-lc must seed from the OS, not from CPU-jitter entropy (about 35 ms of
//! every process start). `.cargo/config.toml` sets AWS_LC_SYS_NO_JITTER_ENTROPY=1 for every
//! build; this fails if the jitter entropy source is linked back in.

#[test]
fn binary_has_no_cpu_jitter_entropy_code() {
    let binary = std::fs::read(env!("CARGO_BIN_EXE_consent-explorer")).unwrap();
    // Every jitter-entropy function is named jent_*: present in the symbol table when linked.
    let needle = b"jent_entropy";
    let linked = binary.windows(needle.len()).any(|w| w == needle);
    assert!(
        !linked,
        "the binary links aws-lc's CPU-jitter entropy (jent_*): build with AWS_LC_SYS_NO_JITTER_ENTROPY=1 (.cargo/config.toml [env])"
    );
}
