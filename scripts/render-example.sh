#!/bin/sh
# Renders page 1 of the bundled example's Russian letter (recipient `ombudsman`) to
# docs/example-ru.png, for the README. Needs poppler-utils (pdftoppm).
set -eu
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
APPEAL_NOW=2014-07-14T10:00:00Z cargo run --quiet --release -- pdf -q --only ombudsman --out "$out"
pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$out/ombudsman.pdf" docs/example-ru
echo "wrote docs/example-ru.png"
