#!/bin/sh
# golden.sh: the generated C for every example, byte for byte.
#   tests/golden.sh            compare (run by make check)
#   tests/golden.sh --update   rewrite tests/golden/ (make update-golden);
#                              review the diff before committing it
# and, for the examples in FLOAT, the code of gradc --type=float as
# NAME-float.c and NAME-float.h.
FLOAT="softmax swell"
if [ "${1:-}" = --update ]; then
    set -eu
    for model in "$top_srcdir"/examples/*.grad; do
        name=$(basename "$model" .grad)
        "$GRADC" "$model" -o "$top_srcdir/tests/golden/$name.c"
    done
    for name in $FLOAT; do
        "$GRADC" --type=float "$top_srcdir/examples/$name.grad" \
            -o "$top_srcdir/tests/golden/$name-float.c"
    done
    echo "updated $top_srcdir/tests/golden; review: git diff tests/golden"
    exit 0
fi
. "$top_srcdir/tests/lib.sh"

count=0
# compare NAME OUT [GRADC OPTIONS...]: examples/NAME.grad through gradc
# against tests/golden/OUT.c and OUT.h.
compare() {
    name=$1 out=$2
    shift 2
    count=$((count + 1))
    if ! "$GRADC" "$@" "$top_srcdir/examples/$name.grad" -o "$WORK/$out.c"; then
        fail "$out: gradc $* failed"
        return
    fi
    for ext in c h; do
        golden="$top_srcdir/tests/golden/$out.$ext"
        if [ ! -f "$golden" ]; then
            fail "$out.$ext: no golden file (make update-golden)"
        elif ! cmp -s "$golden" "$WORK/$out.$ext"; then
            fail "$out.$ext differs from tests/golden/$out.$ext:"
            diff -u "$golden" "$WORK/$out.$ext" | head -40 >&2
        fi
    done
}
for model in "$top_srcdir"/examples/*.grad; do
    name=$(basename "$model" .grad)
    compare "$name" "$name"
done
for name in $FLOAT; do
    compare "$name" "$name-float" --type=float
done
# Every golden file belongs to an example (NAME-float to NAME, in FLOAT).
for golden in "$top_srcdir"/tests/golden/*.c; do
    name=$(basename "$golden" .c)
    case " $FLOAT " in
    *" ${name%-float} "*) [ "$name" = "${name%-float}" ] || continue ;;
    esac
    [ -f "$top_srcdir/examples/$name.grad" ] || fail "tests/golden/$name.c has no example"
done
echo "golden: $count models compared (the examples, and $FLOAT with --type=float)"
finish
