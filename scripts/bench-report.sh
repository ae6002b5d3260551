#!/usr/bin/env bash
# Report benchmark (not a timed test): `appeal report` on a ledger of 15,000 letters.
#
#   scripts/test-deps.sh && scripts/bench-report.sh [SIGNATORIES] [ROUNDS]
#
# The bundled example (5 authorities: 3 by email, 2 by post) is sent by SIGNATORIES
# signatories (default 3,000: 9,000 emails to the local aiosmtpd of tests/smtp_server.py and
# 6,000 PDFs), so the ledger is the one a real `send` writes. Then what a mailbox would bring
# is added the way `appeal inbox` records it (a stand-in until inbox is merged, like
# tests/common/ledger_rows.rs): a hard bounce for 5% of the emails, a soft bounce for 3%, an
# auto-reply for 10%, an answer for 5%. The page and the JSON are then made ROUNDS times
# (default 5) each; the script prints every time, the median and the peak RSS.
# Nothing leaves 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
signatories="${1:-3000}"
rounds="${2:-5}"
py="${APPEAL_TEST_PYTHON:-$PWD/target/pyenv/bin/python}"
[ -x "$py" ] || { echo "bench-report: run scripts/test-deps.sh first" >&2; exit 2; }

cargo build --release --quiet
appeal="$PWD/target/release/appeal"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

camp="$work/camp"
mkdir -p "$camp/letters"
cp -r letters/duambekov "$camp/letters/"
cp recipients.toml "$camp/"
printf '%s\n\n[smtp]\nfrom = "Campaign <campaign@example.org>"\n' "$(cat appeal.toml)" > "$camp/appeal.toml"
{
    echo "id,name,email,city"
    for i in $(seq "$signatories"); do printf 's%05d,Signer %d,s%05d@example.org,Leeds\n' "$i" "$i" "$i"; done
} > "$camp/signatories.csv"

port="$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p "$work/maildir"
"$py" tests/smtp_server.py --port "$port" --dir "$work/maildir" > "$work/server.out" &
server_pid=$!
for _ in $(seq 50); do grep -q listening "$work/server.out" 2>/dev/null && break; sleep 0.1; done

export APPEAL_NOW=2014-07-14T10:00:00Z
echo "bench-report: sending $((signatories * 5)) letters (untimed)…" >&2
"$appeal" -C "$camp" -q send --yes --signatories "$camp/signatories.csv" \
    --smtp "smtp://127.0.0.1:$port?tls=none" >/dev/null
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
rm -rf "$work/maildir"

# What a mailbox brings, recorded as `appeal inbox` does (ledger contract, migration 5).
"$py" - "$camp" <<'EOF'
import os, random, sqlite3, sys
camp = sys.argv[1]
db = sqlite3.connect(os.path.join(camp, ".appeal/ledger.db"))
rnd = random.Random(16)
ids = [r[0] for r in db.execute("SELECT id FROM letters WHERE channel = 'email' ORDER BY id")]
replies = os.path.join(camp, "out/duambekov/replies")
os.makedirs(replies, exist_ok=True)
def event(letter, kind, day, state=None, saved=None, subject="Re: appeal"):
    dated = "2014-07-%02dT%02d:%02d:00Z" % (day, rnd.randrange(24), rnd.randrange(60))
    db.execute("INSERT INTO mailbox_events (letter, kind, read_at, dated, sender, subject, status,"
               " diagnostic, saved) VALUES (?, ?, '2014-07-31T08:00:00Z', ?, 'office@example.kz',"
               " ?, NULL, NULL, ?)", (letter, kind, dated, subject, saved))
    if state:
        db.execute("UPDATE letters SET state = ? WHERE id = ?", (state, letter))
        db.execute("INSERT INTO events (letter, at, state, detail) VALUES (?, ?, ?, NULL)",
                   (letter, dated, state))
    else:
        db.execute("UPDATE letters SET soft_bounces = soft_bounces + 1 WHERE id = ?", (letter,))
for letter in ids:
    x = rnd.random()
    day = 15 + rnd.randrange(14)
    if x < 0.05:
        event(letter, "hard_bounce", day, "bounced")
    elif x < 0.08:
        event(letter, "soft_bounce", day)
    elif x < 0.18:
        event(letter, "auto_reply", day, "auto_replied")
    elif x < 0.23:
        name = "%d.eml" % letter
        open(os.path.join(replies, name), "w").write("Subject: Re: appeal\n\nThank you.\n")
        event(letter, "reply", day, "replied", "replies/" + name, "Re: <appeal> #%d" % letter)
db.commit()
print("bench-report: ledger of %d letters, %d mailbox events" % (
    db.execute("SELECT count(*) FROM letters").fetchone()[0],
    db.execute("SELECT count(*) FROM mailbox_events").fetchone()[0]), file=sys.stderr)
EOF

# run LABEL ARGS...: ROUNDS timed runs; prints each, the median and the peak RSS.
run() {
    local label="$1"; shift
    local times=() rss=0
    for _ in $(seq "$rounds"); do
        /usr/bin/time -f '%e %M' -o "$work/time" "$appeal" -C "$camp" -q "$@" > "$work/out"
        read -r t m < "$work/time"
        times+=("$t"); [ "$m" -gt "$rss" ] && rss="$m"
    done
    local median
    median="$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (rounds + 1) / 2 ))p")"
    echo "$label: median ${median} s (runs: ${times[*]}), peak RSS $((rss / 1024)) MB"
}
run "report (HTML page)" report
echo "  page: $(wc -c < "$camp/out/duambekov/report.html") bytes"
run "report --json" report --json
