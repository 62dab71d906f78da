#!/bin/sh
# compile-corpus.sh: the generated C of a fuzzing corpus must compile.
#
#   fuzz/compile-corpus.sh DIR...
#
# The fuzz target checks gradc itself, not the C it writes.  This script
# runs the real gradc (GRADC, default ./gradc) over every file of each DIR
# (say fuzz/work/corpus after make fuzz-run) and compiles the .c of every
# input that gradc accepts with CC (default cc) under the strict flags of
# tests/lib.sh, -fsyntax-only.  Each input whose C does not compile, and
# each run that ends with a status above 1, is copied to
# fuzz/work/cc-fail/ with the compiler's messages beside it.  Exits 1 when
# there was any.
set -u
GRADC=${GRADC:-./gradc}
CC=${CC:-cc}
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
STRICT_CFLAGS="-std=c99 -Wall -Wextra -pedantic -Wconversion -Wshadow -Werror"
FAILS=fuzz/work/cc-fail
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$FAILS"

n=0 accepted=0 bad=0
for dir in "$@"; do
    for f in "$dir"/*; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        rm -f "$TMP/out.c" "$TMP/out.h"
        timeout 20 "$GRADC" "$f" -o "$TMP/out.c" >/dev/null 2>"$TMP/gradc.err"
        status=$?
        name=$(basename "$f")
        if [ "$status" -gt 1 ]; then
            bad=$((bad + 1))
            cp "$f" "$FAILS/$name"
            { echo "gradc exit status $status"; cat "$TMP/gradc.err"; } >"$FAILS/$name.err"
            echo "gradc status $status: $f"
            continue
        fi
        [ "$status" -eq 0 ] || continue
        accepted=$((accepted + 1))
        if ! timeout 60 $CC $STRICT_CFLAGS -fsyntax-only -I"$top/runtime" \
                "$TMP/out.c" >"$TMP/cc.err" 2>&1; then
            bad=$((bad + 1))
            cp "$f" "$FAILS/$name"
            cp "$TMP/cc.err" "$FAILS/$name.err"
            echo "C does not compile: $f: $(grep -m1 'error' "$TMP/cc.err")"
        fi
    done
done
echo "compile-corpus: $n inputs, $accepted accepted by gradc, $bad failures (in $FAILS)"
[ "$bad" -eq 0 ]
