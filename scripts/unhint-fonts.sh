#!/usr/bin/env bash
# Remakes fonts/ from Noto Sans TTFs with their hinting removed (the TrueType instructions and
# the fpgm, prep and cvt tables ttfautohint adds). Every glyph, OpenType feature and name is
# kept; advances do not change, so neither does any layout. A letter's PDF embeds a subset of
# these fonts, and hinting was about 40 % of it: without it a letter is some 9 KB smaller and
# prints the same (hinting only steers screen pixels at small sizes; PDF viewers ignore it or
# hint for themselves).
#
#   scripts/unhint-fonts.sh DIR    # DIR holds NotoSans-{Regular,Bold,Italic,BoldItalic}.ttf
#
# fonts/ holds Noto Sans 2.004 (notofonts, SIL Open Font License 1.1, fonts/OFL.txt; Noto has
# no Reserved Font Name) put through this script with fontTools 4.55.0.
set -euo pipefail
cd "$(dirname "$0")/.."
src="${1:?usage: scripts/unhint-fonts.sh DIR-WITH-NOTO-SANS-TTFS}"
py="${APPEAL_TEST_PYTHON:-$PWD/target/pyenv/bin/python}"
[ -x "$py" ] || python3 -m venv "$(dirname "$(dirname "$py")")"
"$py" -m pip install --quiet 'fonttools==4.55.0'
for style in Regular Bold Italic BoldItalic; do
    "$py" -m fontTools.subset "$src/NotoSans-$style.ttf" \
        --output-file="fonts/NotoSans-$style.ttf" \
        --unicodes='*' --glyphs='*' --no-hinting \
        --layout-features='*' --layout-scripts='*' \
        --name-IDs='*' --name-languages='*' --name-legacy \
        --notdef-glyph --notdef-outline --glyph-names --legacy-kern --symbol-cmap
    echo "fonts/NotoSans-$style.ttf: $(wc -c < "fonts/NotoSans-$style.ttf") bytes"
done
