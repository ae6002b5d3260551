#!/bin/sh
# Batch benchmark (issue 6): the bundled example for N generated signatories × its 5
# recipients, end to end including process start.
#   scripts/bench-batch.sh          200 signatories = 1,000 PDFs (hyperfine if installed)
#   scripts/bench-batch.sh 10000    50,000 PDFs: wall time and peak RSS (/usr/bin/time -v)
# Also times `preview --json` to its first line, to show that it streams.
# TMPDIR=/dev/shm keeps the disk out of the figures.
set -eu
cd "$(dirname "$0")/.."
n=${1:-200}
cargo build --quiet --release
bin=$PWD/target/release/appeal
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp -r letters recipients.toml appeal.toml "$dir/"
{
    echo "id,name,email,city,note"
    i=1
    while [ "$i" -le "$n" ]; do
        echo "s$i,Signatory Number $i,s$i@example.org,City $i,I have followed this case since $((1990 + i % 30)) and ask you to act."
        i=$((i + 1))
    done
} >"$dir/signatories.csv"
export APPEAL_NOW=2014-07-14T10:00:00Z
run="$bin -C $dir pdf -q --signatories $dir/signatories.csv --out $dir/out"
letters=$((n * 5))
if [ "$n" -le 1000 ] && command -v hyperfine >/dev/null 2>&1; then
    hyperfine --warmup 1 --runs 10 --prepare "rm -rf $dir/out" "$run"
else
    rm -rf "$dir/out"
    /usr/bin/time -v $run 2>"$dir/time.txt"
    wall=$(grep "Elapsed (wall clock)" "$dir/time.txt" | sed 's/.*: //')
    rss=$(grep "Maximum resident set size" "$dir/time.txt" | sed 's/.*: //')
    echo "$letters letters: $wall wall, peak RSS $rss KB"
fi
count=$(find "$dir/out" -name '*.pdf' | wc -l)
kb=$(find "$dir/out" -name "*.pdf" -printf "%s\n" | awk '{ s += $1 } END { printf "%d", s / 1024 }')
echo "$count PDFs, $kb KB in all ($((kb / count)) KB per letter)"
# Streaming: how long until preview --json prints its first letter, and in all.
first=$( { /usr/bin/time -f %e $bin -C "$dir" preview --json --signatories "$dir/signatories.csv" | head -c 1 >/dev/null; } 2>&1 | tail -1)
echo "preview --json of $letters letters: first output after ${first}s"
/usr/bin/time -f "preview --json of $letters letters: %e s in all, peak RSS %M KB" $bin -C "$dir" preview --json --signatories "$dir/signatories.csv" >/dev/null
