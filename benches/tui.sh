#!/usr/bin/env bash
# TUI figures on this machine, in release: start to first frame (warm start: the demo key
# already exists; median of 10), idle CPU over 10 s, resident memory. Needs tmux.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=$PWD/target/release/consent-explorer
work=$(mktemp -d)
export CONSENT_EXPLORER_CONFIG_DIR=$work/config CONSENT_EXPLORER_DATA_DIR=$work/data
"$bin" jwks --profile local >/dev/null
sock=ce-bench-$$
tm() { tmux -L "$sock" -f /dev/null "$@"; }
trap 'tm kill-server 2>/dev/null || true; rm -rf "$work"' EXIT
envs="CONSENT_EXPLORER_CONFIG_DIR=$work/config CONSENT_EXPLORER_DATA_DIR=$work/data"

for _ in $(seq 10); do
  tm new-session -d -s first -x 160 -y 45 "exec env $envs CONSENT_EXPLORER_EXIT_AFTER_FIRST_FRAME=1 $bin 2>>$work/first.log"
  while tm has-session -t first 2>/dev/null; do sleep 0.05; done
done
first=$(grep -o '[0-9.]* ms' "$work/first.log" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')

tm new-session -d -s idle -x 160 -y 45 "exec env $envs $bin"
sleep 2
pid=$(tm display -p -t idle '#{pane_pid}')
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks); sleep 10; t1=$(ticks)
idle=$(awk -v d=$((t1 - t0)) -v hz="$hz" 'BEGIN {printf "%.2f", d / hz / 10 * 100}')
rss=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
# After a submit, with the countdown ticking each second.
tm send-keys -t idle s
sleep 1
t0=$(ticks); sleep 10; t1=$(ticks)
counting=$(awk -v d=$((t1 - t0)) -v hz="$hz" 'BEGIN {printf "%.2f", d / hz / 10 * 100}')
rss_after=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
echo "start to first frame (median of 10, warm): $first ms"
echo "idle CPU over 10 s: $idle % of one core; with the countdown running: $counting %"
echo "resident memory: $rss MiB idle, $rss_after MiB after a submit"
