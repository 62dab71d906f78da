#!/bin/sh
# golden.sh: the generated C for every example, byte for byte.
#   tests/golden.sh            compare (run by make check)
#   tests/golden.sh --update   rewrite tests/golden/ (make update-golden);
#                              review the diff before committing it
if [ "${1:-}" = --update ]; then
    set -eu
    for model in "$top_srcdir"/examples/*.grad; do
        name=$(basename "$model" .grad)
        "$GRADC" "$model" -o "$top_srcdir/tests/golden/$name.c"
    done
    echo "updated $top_srcdir/tests/golden; review: git diff tests/golden"
    exit 0
fi
. "$top_srcdir/tests/lib.sh"

count=0
for model in "$top_srcdir"/examples/*.grad; do
    name=$(basename "$model" .grad)
    count=$((count + 1))
    if ! "$GRADC" "$model" -o "$WORK/$name.c"; then
        fail "$name: gradc failed"
        continue
    fi
    for ext in c h; do
        golden="$top_srcdir/tests/golden/$name.$ext"
        if [ ! -f "$golden" ]; then
            fail "$name.$ext: no golden file (make update-golden)"
        elif ! cmp -s "$golden" "$WORK/$name.$ext"; then
            fail "$name.$ext differs from tests/golden/$name.$ext:"
            diff -u "$golden" "$WORK/$name.$ext" | head -40 >&2
        fi
    done
done
# Every golden file belongs to an example.
for golden in "$top_srcdir"/tests/golden/*.c; do
    name=$(basename "$golden" .c)
    [ -f "$top_srcdir/examples/$name.grad" ] || fail "tests/golden/$name.c has no example"
done
echo "golden: $count examples compared"
finish
