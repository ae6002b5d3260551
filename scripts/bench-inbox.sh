#!/usr/bin/env bash
# `appeal inbox` benchmark (not a timed test): a real Dovecot on 127.0.0.1 (TLS, a test CA
# made here) with a mailbox of N messages, read once from the start, at two sizes, so the
# figures show whether time grows linearly and whether memory grows at all.
#
#   scripts/bench-inbox.sh [N]        (default 10000; also runs N/10)
#   APPEAL_BENCH_BIN=target/debug/appeal scripts/bench-inbox.sh 1000   (another binary)
#
# The mailbox: 95% plain messages that match no letter, 5% delivery-status reports (the
# Postfix fixture) about letters the ledger does not have: every message is fetched, parsed
# and looked up, none moves a letter. Prints wall time and peak RSS (`/usr/bin/time -v`).
# Needs dovecot-imapd and the test venv (scripts/test.sh makes both).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"
python="${APPEAL_TEST_PYTHON:-$PWD/target/pyenv/bin/python}"
# APPEAL_BENCH_BIN: measure that binary instead of a fresh release build.
bin="${APPEAL_BENCH_BIN:-}"
if [ -z "$bin" ]; then
    cargo build --release --quiet
    bin="$PWD/target/release/appeal"
fi
work="$(mktemp -d)"
chmod 755 "$work"
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

"$python" tests/smtp_server.py --make-certs "$work/certs" >/dev/null
chmod -R a+rX "$work/certs"
if [ "$(id -u)" = 0 ]; then
    login=dovenull internal=dovecot group=dovecot uid=$(id -u dovecot) gid=$(id -g dovecot)
else
    login=$(id -un) internal=$(id -un) group=$(id -gn) uid=$(id -u) gid=$(id -g)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf "small:{PLAIN}bench-password::::::\nlarge:{PLAIN}bench-password::::::\n" > "$work/users"
cat > "$work/dovecot.conf" <<EOF
base_dir = $work/run
state_dir = $work/state
log_path = $work/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <$work/certs/server.pem
ssl_key = <$work/certs/server.key
auth_mechanisms = plain
default_login_user = $login
default_internal_user = $internal
default_internal_group = $group
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN $work/users
}
userdb {
  driver = static
  args = uid=$uid gid=$gid home=$work/home/%u
}
mail_location = maildir:~/Maildir
service imap-login {
  chroot =
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $port
    ssl = yes
  }
}
service anvil {
  chroot =
}
EOF

# A mailbox of $1 messages under $work/home/<name>.
fill() {
    "$python" - "$1" "$work/home/$2/Maildir" <<'PY'
import os, sys
n, box = int(sys.argv[1]), sys.argv[2]
for sub in ("new", "cur", "tmp"):
    os.makedirs(os.path.join(box, sub), exist_ok=True)
dsn = open("tests/fixtures/mail/postfix-hard.eml").read()
for i in range(n):
    if i % 20 == 0:
        text = (dsn.replace("{{MESSAGE_ID}}", f"<unknown.{i}@example.org>")
                   .replace("{{TOKEN}}", "zzzzzzzzzzzzzzzz")
                   .replace("{{RCPT}}", f"r{i}@gov.example.kz"))
    else:
        body = "".join(f"Line {j} of message {i}, about nothing the campaign sent.\n" for j in range(40))
        text = (f"From: list{i % 50}@news.example.net\nTo: alex@example.org\n"
                f"Subject: Newsletter {i}\nDate: Tue, 15 Jul 2014 03:00:00 +0000\n"
                f"Message-ID: <n{i}@news.example.net>\nContent-Type: text/plain\n\n{body}")
    with open(os.path.join(box, "new", f"{1400000000 + i}.M{i}P1.bench"), "w") as f:
        f.write(text.replace("\n", "\r\n"))
PY
    chmod -R 777 "$work/home"
}

small=$((n / 10))
fill "$small" small
fill "$n" large
dovecot -F -c "$work/dovecot.conf" &
pid=$!
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done

# A campaign to read into: the bundled example, nothing sent.
camp="$work/campaign"
mkdir -p "$camp/letters"
cp recipients.toml appeal.toml "$camp/"
cp -r letters/duambekov "$camp/letters/"

# Twice each: the first read also has Dovecot index the new mail.
for size in small large small large; do
    count=$([ "$size" = small ] && echo "$small" || echo "$n")
    rm -rf "$camp/.appeal"
    /usr/bin/time -v env APPEAL_IMAP_PASSWORD=bench-password "$bin" -C "$camp" -q inbox \
        --imap "imaps://${size}@localhost:$port/INBOX" --imap-ca "$work/certs/ca.pem" \
        >"$work/out" 2>"$work/time"
    wall=$(grep 'Elapsed (wall clock)' "$work/time" | awk '{print $NF}')
    rss=$(grep 'Maximum resident set size' "$work/time" | awk '{print $NF}')
    echo "inbox, $count messages: $wall wall, peak RSS $rss KiB; $(head -c 200 "$work/out" | tr '\n' ' ')"
done
