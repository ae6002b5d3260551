#!/usr/bin/env bash
# Runs the cargo-fuzz targets under fuzz/ (not part of CI). Needs a nightly toolchain.
#   scripts/fuzz.sh                 every target for 10 minutes each
#   scripts/fuzz.sh template 60     one target for 60 seconds
# Crashes land in fuzz/artifacts/<target>/; add each as a case in tests/hostile.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
targets=(recipients campaign template signatories markdown signatory_letter)
if [ $# -ge 1 ]; then targets=("$1"); fi
seconds="${2:-600}"
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t"
    echo "fuzz: $t for ${seconds}s" >&2
    cargo +nightly fuzz run "$t" "fuzz/corpus/$t" -- -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048
done
