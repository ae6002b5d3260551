#!/usr/bin/env bash
# Runs every test of `appeal`, first installing what the tests need on a fresh Debian
# machine: poppler-utils and qpdf (to read PDFs back), postfix (only for its smtp-sink, the
# fault-injecting SMTP server of tests/ledger_send.rs; Postfix itself is left unconfigured and
# not started), libharfbuzz-bin, fonts-noto-cjk and a Thai font (hb-shape, and fonts for the
# letters in other scripts), chromium (the report page), dovecot-imapd (the IMAP server) and
# a Python venv with aiosmtpd (a real SMTP server on 127.0.0.1). Safe to re-run: it installs
# only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

missing=()
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
command -v qpdf >/dev/null 2>&1 || missing+=(qpdf)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
[ -x /usr/sbin/smtp-sink ] || missing+=(postfix)
# chromium: tests/report.rs opens the report page headless (DOM and screenshot).
[ -x /usr/bin/chromium ] || missing+=(chromium)
# dovecot-imapd: the real IMAP server of tests/inbox.rs (started by the tests, not as a service).
[ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
# tests/scripts.rs: HarfBuzz's hb-shape to check shaped advances, an installed CJK font.
command -v hb-shape >/dev/null 2>&1 || missing+=(libharfbuzz-bin)
ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
# tests/scripts.rs: an installed Thai font (any) for the Thai letter.
fc-list :lang=th 2>/dev/null | grep -q . || missing+=(fonts-tlwg-garuda-ttf)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "test.sh: installing ${missing[*]}" >&2
    # postfix: install it without configuring a mail system (no questions, nothing started).
    echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

pyenv=target/pyenv
if ! "$pyenv/bin/python" -c 'import aiosmtpd, cryptography' >/dev/null 2>&1; then
    echo "test.sh: creating $pyenv with aiosmtpd" >&2
    python3 -m venv "$pyenv"
    "$pyenv/bin/pip" install -q --disable-pip-version-check aiosmtpd cryptography
fi
export APPEAL_TEST_PYTHON="$PWD/$pyenv/bin/python"

cargo test --locked "$@"
