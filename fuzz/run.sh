#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 60 s each) from its committed seeds.
# Exits non-zero when a target crashed, panicked, timed out or ran out of memory; the input
# that did it is in fuzz/artifacts/TARGET/ (replay: cargo +nightly fuzz run TARGET FILE).
# Usage: fuzz/run.sh [SECONDS] [TARGET...]   (needs the nightly toolchain and cargo-fuzz)
set -euo pipefail

seconds=${1:-60}
shift || true
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
    echo "fuzz/run.sh: SECONDS must be a positive whole number, not \"$seconds\"" >&2
    exit 2
fi
cd "$(dirname "$0")/.."

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

cargo +nightly fuzz build -O
mkdir -p fuzz/logs
failed=()
for target in "${targets[@]}"; do
    log="fuzz/logs/$target.log"
    echo "== $target: ${seconds} s (log: $log)"
    # -timeout: one input taking over 10 s is a hang; -rss_limit_mb bounds memory per input.
    # A dictionary of the format's tokens reaches edge values (expires_in 0) in few mutations.
    dict=()
    if [ -f "fuzz/dicts/$target.dict" ]; then
        dict=(-dict="fuzz/dicts/$target.dict")
    fi
    status=0
    cargo +nightly fuzz run -O "$target" -- "${dict[@]}" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1 || status=$?
    grep -E 'stat::number_of_executed_units|panicked at|SUMMARY|Test unit written' "$log" || true
    grep -E '^#[0-9]+' "$log" | tail -1 || true
    if [ "$status" -ne 0 ]; then
        failed+=("$target")
    fi
done

if [ ${#failed[@]} -ne 0 ]; then
    echo "crashed: ${failed[*]} (inputs in fuzz/artifacts/, logs in fuzz/logs/)" >&2
    exit 1
fi
echo "no crash in ${#targets[@]} targets, ${seconds} s each"
