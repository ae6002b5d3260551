#!/usr/bin/env bash
# Send benchmark (not a timed test): 1,000 letters, each email carrying a ~20 KB attachment,
# sent by `appeal send` and by mailmerge 2.3.0 to the same local aiosmtpd server
# (tests/smtp_server.py, storing every raw message), and prints messages per second for both.
#
#   scripts/test-deps.sh && scripts/bench-send.sh [COUNT]
#
# Both tools send the same letter text (Russian subject, the appeal's body) to the same
# COUNT addresses with the same attachment file. appeal also renders each letter from its
# template, builds text + HTML alternatives and attaches the letter's PDF; that is included
# in its time. Nothing leaves 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-1000}"
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
    f.write("email,name\n")
    for i in range(1, n + 1):
        f.write("r%04d@example.org,Official %d\n" % (i, i))
EOF

port="$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p "$work/maildir"
"$py" tests/smtp_server.py --port "$port" --dir "$work/maildir" > "$work/server.out" &
server_pid=$!
for _ in $(seq 50); do grep -q listening "$work/server.out" 2>/dev/null && break; sleep 0.1; done
stored() { find "$work/maildir/new" -type f | wc -l; }
now() { date +%s.%N; }
rate() { "$py" -c "import sys; n,t=int(sys.argv[1]),float(sys.argv[2]); print(f'{n} messages in {t:.2f} s = {n/t:.0f} messages/s')" "$1" "$2"; }

export APPEAL_NOW=2014-07-14T10:00:00Z
run_appeal() {
    local connections="$1"
    printf '\n[smtp]\nconnections = %s\n' "$connections" > "$work/smtp.toml"
    cat appeal.toml "$work/smtp.toml" > "$work/camp/appeal.toml"
    # A fresh ledger each time: the run sends everything, recording each message as it goes.
    rm -rf "$work/camp/out" "$work/camp/.appeal"
    local before t0 t1 after
    before="$(stored)"; t0="$(now)"
    "$appeal" -q -C "$work/camp" send --yes --smtp "smtp://127.0.0.1:$port?tls=none"
    t1="$(now)"; after="$(stored)"
    echo -n "appeal send, $connections connection(s): "
    rate "$((after - before))" "$(echo "$t1 - $t0" | bc)"
}
run_appeal 1
run_appeal 4

# mailmerge: the same subject, letter text, attachment and addresses.
"$appeal" -C "$work/camp" --only r0001 preview --json | "$py" -c '
import json, sys
letter = json.loads(sys.stdin.readline())
body = letter["text"].split("\n\n", 5)[-1]
sys.stdout.write("TO: {{email}}\nSUBJECT: %s\nFROM: Alex Sample <alex.sample@example.org>\nATTACHMENT: %s\n\n%s" % (letter["subject"], sys.argv[1], body))
' "$work/camp/letters/duambekov/leaflet.pdf" > "$work/template.txt"
printf '[smtp_server]\nhost = 127.0.0.1\nport = %s\nratelimit = 0\n' "$port" > "$work/server.conf"
before="$(stored)"; t0="$(now)"
(cd "$work" && "$mm" --no-dry-run --no-limit --template template.txt --database db.csv \
    --config server.conf --output-format raw > mailmerge.out)
t1="$(now)"; after="$(stored)"
echo -n "mailmerge 2.3.0: "
rate "$((after - before))" "$(echo "$t1 - $t0" | bc)"
