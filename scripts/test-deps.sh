#!/bin/sh
# Installs what the integration tests and the send benchmark need into target/pyenv:
# aiosmtpd (the SMTP server the tests talk to), cryptography (the test CA), mailmerge 2.3.0
# (the benchmark's baseline). Run once before `cargo test`.
set -eu
cd "$(dirname "$0")/.."
if [ ! -x target/pyenv/bin/python ]; then
    python3 -m venv target/pyenv
fi
target/pyenv/bin/pip install --quiet --disable-pip-version-check aiosmtpd cryptography mailmerge==2.3.0
target/pyenv/bin/python -c 'import aiosmtpd, cryptography, mailmerge; print("test deps ready:", "target/pyenv")'
