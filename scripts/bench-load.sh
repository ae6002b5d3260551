#!/usr/bin/env bash
# Loading benchmark (not a timed test): a recipients.toml of N recipients and a signatories CSV
# of M rows, each loaded at two sizes so the times show whether loading grows linearly.
#
#   scripts/bench-load.sh [N] [M]        (default 20000 100000)
#
# recipients: `appeal list --only r00005` on N/2 and N recipients (reads, validates and
# positions every recipient, prints one). signatories: `appeal status --signatories` on M/2
# and M rows with an empty ledger (reads and checks every row, no letter rendered); and
# `appeal preview --json --only r00001` on M rows (every row rendered into a letter, streamed).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-20000}"
m="${2:-100000}"
cargo build --release --quiet
bin="$PWD/target/release/appeal"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

recipients() {
    python3 - "$1" <<'PY'
import sys
n = int(sys.argv[1])
for i in range(1, n + 1):
    print(f'[[recipient]]\nid = "r{i:05d}"\nname = "Official {i}"\ntitle = "Ministry {i}"\n'
          f'address = ["Street {i}", "010000 Astana", "Kazakhstan"]\nemail = "r{i}@example.kz"\n'
          f'language = "en"\ntags = ["t{i % 7}"]\n')
PY
}

signatories() {
    python3 - "$1" <<'PY'
import sys
m = int(sys.argv[1])
print("id,name,email,city,address,note")
for i in range(1, m + 1):
    print(f's{i:06d},Signatory {i},s{i}@example.org,Leeds,{i} Park Row|Leeds LS1 5AB,"I write as a citizen, {i}."')
PY
}

setup() {
    mkdir -p "$1"
    cp -r letters appeal.toml "$1/"
}

# Times one command; its exit code is not the benchmark's business (status exits 75 while
# letters are still to do).
timed() {
    local label="$1"; shift
    /usr/bin/time -f "$label: %e s, peak RSS %M KB" "$@" >/dev/null 2>"$work/stderr" || true
    grep -v '^Command exited' "$work/stderr" | tail -1
}

for size in $((n / 2)) "$n"; do
    dir="$work/r$size"
    setup "$dir"
    recipients "$size" >"$dir/recipients.toml"
    timed "list --only r00005 with $size recipients" "$bin" -C "$dir" list --only r00005
done

dir="$work/s"
setup "$dir"
recipients 5 >"$dir/recipients.toml"
for size in $((m / 2)) "$m"; do
    signatories "$size" >"$work/s$size.csv"
    timed "status with $size signatories x 5 recipients (read and check every row)" \
        "$bin" -C "$dir" status --signatories "$work/s$size.csv" --json
done
export APPEAL_NOW=2014-07-14T10:00:00Z
timed "preview --json of $m letters (every row rendered)" \
    "$bin" -C "$dir" preview --json --only r00001 --signatories "$work/s$m.csv"
