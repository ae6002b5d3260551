#!/usr/bin/env bash
# Send benchmark (not a timed test): 1,000 letters, each email carrying a ~20 KB attachment,
# sent by `appeal send` and by mailmerge 2.3.0 to the same local aiosmtpd server
# (tests/smtp_server.py, storing every raw message), and prints messages per second for both.
#
#   scripts/test-deps.sh && scripts/bench-send.sh [COUNT] [ROUNDS]
#
# Each of ROUNDS rounds (default 3) times appeal with 1 and 4 connections, then mailmerge with
# the same messages and with the leaflet only; the summary gives each one's median and the
# ratios. The rounds interleave the tools, so a machine that slows down slows all of them.
#
# Both tools send the same letter text (Russian subject, the appeal's body) to the same
# COUNT addresses with the same attachments: the campaign's 20 KB leaflet and each letter's own
# PDF. appeal renders each letter from its template, makes its PDF and builds text + HTML
# alternatives, all inside its time; mailmerge is given the PDFs ready-made (by `appeal pdf`,
# untimed), as a word processor's mail merge would be. mailmerge is also timed without the
# letter PDFs (smaller messages), for reference. Before each timed run the disk is synced, so
# no run pays for writing back the one before; each appeal run gets a fresh copy of the
# campaign (deleting the last run's 1,000 files just before creating 1,000 more makes ext4
# slow to find free inodes, which is the benchmark's doing, not the tool's).
# Nothing leaves 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-1000}"
rounds="${2:-3}"
py="${APPEAL_TEST_PYTHON:-$PWD/target/pyenv/bin/python}"
mm="$(dirname "$py")/mailmerge"
[ -x "$py" ] && [ -x "$mm" ] || { echo "bench-send: run scripts/test-deps.sh first" >&2; exit 2; }

cargo build --release --quiet
appeal="$PWD/target/release/appeal"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# A campaign: the bundled letters, COUNT recipients with an email address, a 20 KB attachment.
mkdir -p "$work/camp/letters"
cp -r letters/duambekov "$work/camp/letters/"
cp appeal.toml "$work/camp/appeal.toml"
"$py" - "$work" "$count" <<'EOF'
import os, random, sys
work, n = sys.argv[1], int(sys.argv[2])
camp = os.path.join(work, "camp")
rnd = random.Random(20140714)
leaflet = bytes(rnd.getrandbits(8) for _ in range(20 * 1024))
with open(os.path.join(camp, "letters/duambekov/leaflet.pdf"), "wb") as f:
    f.write(leaflet)
p = os.path.join(camp, "letters/duambekov/campaign.toml")
text = open(p, encoding="utf-8").read()
open(p, "w", encoding="utf-8").write('attachments = ["leaflet.pdf"]\n' + text)
with open(os.path.join(camp, "recipients.toml"), "w", encoding="utf-8") as f:
    for i in range(1, n + 1):
        f.write('[[recipient]]\nid = "r%04d"\nname = "Official %d"\ntitle = "Office %d"\n'
                'address = ["Street %d", "010000 Astana", "Kazakhstan"]\n'
                'email = "r%04d@example.org"\nlanguage = "ru"\n\n' % (i, i, i, i, i))
with open(os.path.join(work, "db.csv"), "w") as f:
    f.write("email,name,pdf\n")
    for i in range(1, n + 1):
        pdf = os.path.join(work, "pdfs/r%04d.pdf" % i)
        f.write("r%04d@example.org,Official %d,%s\n" % (i, i, pdf))
EOF

port="$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p "$work/maildir"
"$py" tests/smtp_server.py --port "$port" --dir "$work/maildir" > "$work/server.out" &
server_pid=$!
for _ in $(seq 50); do grep -q listening "$work/server.out" 2>/dev/null && break; sleep 0.1; done
stored() { find "$work/maildir/new" -type f | wc -l; }
now() { date +%s.%N; }
# rate LABEL COUNT SECONDS: prints the rate and keeps it for the summary.
rate() {
    "$py" -c "import sys; n,t=int(sys.argv[2]),float(sys.argv[3]); print(f'{sys.argv[1]}: {n} messages in {t:.2f} s = {n/t:.0f} messages/s')" "$@"
    echo "$1	$(( $2 ))	$3" >> "$work/rates.tsv"
}

export APPEAL_NOW=2014-07-14T10:00:00Z
run_appeal() {
    local connections="$1" camp
    # A fresh copy and ledger each time: the run sends everything, recording each message.
    camp="$(mktemp -d "$work/appeal-XXXX")"
    cp -r "$work/camp/." "$camp"
    printf '\n[smtp]\nconnections = %s\n' "$connections" >> "$camp/appeal.toml"
    sync
    local before t0 t1 after
    before="$(stored)"; t0="$(now)"
    "$appeal" -q -C "$camp" send --yes --smtp "smtp://127.0.0.1:$port?tls=none"
    t1="$(now)"; after="$(stored)"
    rate "appeal send, $connections connection(s)" "$((after - before))" "$(echo "$t1 - $t0" | bc)"
}

# mailmerge: the same subject, letter text, attachment and addresses.
"$appeal" -C "$work/camp" preview --only r0001 --json | "$py" -c '
import json, sys
letter = json.loads(sys.stdin.readline())
body = letter["text"].split("\n\n", 5)[-1]
head = "TO: {{email}}\nSUBJECT: %s\nFROM: Alex Sample <alex.sample@example.org>\n" % letter["subject"]
leaflet = "ATTACHMENT: %s\n" % sys.argv[1]
with open(sys.argv[2] + "/template.txt", "w") as f:
    f.write(head + leaflet + "ATTACHMENT: {{pdf}}\n\n" + body)
with open(sys.argv[2] + "/template-leaflet.txt", "w") as f:
    f.write(head + leaflet + "\n" + body)
' "$work/camp/letters/duambekov/leaflet.pdf" "$work"
# The letters' PDFs, made before mailmerge's clock starts.
"$appeal" -q -C "$work/camp" pdf --out "$work/pdfs"
printf '[smtp_server]\nhost = 127.0.0.1\nport = %s\nratelimit = 0\n' "$port" > "$work/server.conf"
run_mailmerge() {
    local template="$1" what="$2" before t0 t1 after
    sync
    before="$(stored)"; t0="$(now)"
    (cd "$work" && "$mm" --no-dry-run --no-limit --template "$template" --database db.csv \
        --config server.conf --output-format raw > mailmerge.out)
    t1="$(now)"; after="$(stored)"
    rate "mailmerge 2.3.0, $what" "$((after - before))" "$(echo "$t1 - $t0" | bc)"
}

for round in $(seq "$rounds"); do
    echo "round $round of $rounds"
    run_appeal 1
    run_appeal 4
    run_mailmerge template.txt "same messages (letter PDF + leaflet)"
    run_mailmerge template-leaflet.txt "leaflet only"
done
"$py" - "$work/rates.tsv" "$count" <<'EOF'
import statistics, sys
rates = {}
for line in open(sys.argv[1], encoding="utf-8"):
    label, n, t = line.rstrip("\n").split("\t")
    if int(n) != int(sys.argv[2]):
        sys.exit(f"bench-send: {label} stored {n} of {sys.argv[2]} messages")
    rates.setdefault(label, []).append(int(n) / float(t))
med = {k: statistics.median(v) for k, v in rates.items()}
print("\nmedian of %d round(s), messages/s:" % len(next(iter(rates.values()))))
for k, v in rates.items():
    print("  %-55s %4.0f  (%s)" % (k, med[k], ", ".join("%.0f" % x for x in v)))
mm = [k for k in med if k.startswith("mailmerge")]
for k in (k for k in med if k.startswith("appeal")):
    print("  %s: %s" % (k, ", ".join("%.1fx mailmerge %s" % (med[k] / med[m], m.split(", ", 1)[1]) for m in mm)))
EOF
