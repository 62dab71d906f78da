#!/bin/sh
# valgrind.sh: gradc under valgrind memcheck over every example, test
# model and error case: no invalid access, no uninitialised value, no leak
# of any kind.  Skipped (77) when valgrind is absent or gradc was built
# with sanitizers (the two do not mix).
. "$top_srcdir/tests/lib.sh"

if [ -z "$VALGRIND" ] || [ -n "$SAN_CFLAGS" ]; then
    echo "valgrind: skipped (no valgrind, or a sanitizer build)"
    exit 77
fi

count=0
for model in "$top_srcdir"/examples/*.grad "$top_srcdir"/tests/models/*.grad \
             "$top_srcdir"/tests/models/*/*.grad "$top_srcdir"/tests/errors/*.grad; do
    [ -f "$model" ] || continue
    count=$((count + 1))
    name=$(basename "$model" .grad)
    "$VALGRIND" -q --error-exitcode=99 --leak-check=full --show-leak-kinds=all \
        --errors-for-leak-kinds=all "$GRADC" "$model" -o "$WORK/$name.c" \
        >/dev/null 2>"$WORK/$name.vg"
    [ $? -eq 99 ] && fail "$name: valgrind: $(grep -v '^gradc\|^[a-z].*grad:' "$WORK/$name.vg" | head -20)"
done
# The non-source paths too: a missing file, a directory, an unwritable output.
for args in "$WORK/missing.grad" "$top_srcdir/examples" \
            "$top_srcdir/examples/kamper.grad -o /nonexistent/dir/k.c"; do
    count=$((count + 1))
    $VALGRIND -q --error-exitcode=99 --leak-check=full --show-leak-kinds=all \
        --errors-for-leak-kinds=all "$GRADC" $args >/dev/null 2>"$WORK/args.vg"
    [ $? -eq 99 ] && fail "gradc $args: valgrind: $(head -20 "$WORK/args.vg")"
done
echo "valgrind: $count runs of gradc, zero errors and zero leaks"
finish
