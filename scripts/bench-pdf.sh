#!/bin/sh
# Times `appeal pdf` end to end for 1,000 letters (the example campaign's Russian letter to
# 1,000 generated recipients), including process start. Uses hyperfine if installed, else
# /usr/bin/time. Usage: scripts/bench-pdf.sh [COUNT]; TMPDIR=/dev/shm keeps the disk out of it.
set -eu
cd "$(dirname "$0")/.."
count=${1:-1000}
cargo build --quiet --release
bin=$PWD/target/release/appeal
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp -r letters appeal.toml "$dir/"
i=1
while [ "$i" -le "$count" ]; do
    printf '[[recipient]]\nid = "r%04d"\nname = "А. Ш. Шакирову %d"\ntitle = "Уполномоченному по правам человека в РК"\naddress = ["Дом министерств, подъезд 15", "левый берег реки Ишим", "010000, г. Астана", "Республика Казахстан"]\nlanguage = "ru"\n\n' "$i" "$i"
    i=$((i + 1))
done >"$dir/recipients.toml"
export APPEAL_NOW=2014-07-14T10:00:00Z
run="$bin -C $dir pdf -q --out $dir/out"
if command -v hyperfine >/dev/null 2>&1; then
    hyperfine --warmup 1 --prepare "rm -rf $dir/out" "$run"
else
    $run # warm the page cache
    rm -rf "$dir/out"
    /usr/bin/time -f "$count letters: %e s wall, %U s user, %S s system, %M KB max RSS" $run
fi
n=$(ls "$dir/out" | wc -l)
kb=$(du -sk "$dir/out" | cut -f1)
echo "$n PDFs, $kb KB in all ($((kb / n)) KB per letter on disk)"
