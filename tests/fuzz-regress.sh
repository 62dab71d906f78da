#!/bin/sh
# fuzz-regress.sh: replays the fuzzer's findings and its seed corpus through
# the real gradc.
#
# Every file in tests/fuzz-regress/ (inputs that once crashed, hung or
# leaked; see its README) and in fuzz/corpus/ (the seed corpus) is compiled
# with gradc FILE -o $WORK/out/NAME.c.  Each run must
#   - exit with status 0 or 1: never a signal, never a status above 1,
#   - finish within 20 seconds, and
#   - on status 1 leave no output file (neither NAME.c nor NAME.h, nor a
#     temporary beside them); on status 0 write both, and the .c must
#     compile (-fsyntax-only) under the strict flags of tests/lib.sh.
# A regression input named error-*.grad is one gradc must reject: it must
# exit with status 1 and a FILE:LINE:COL: error: message.
# When valgrind is available and this is not a sanitizer build, the files
# of tests/fuzz-regress/ also run under valgrind memcheck: no error and no
# leak of any kind.
. "$top_srcdir/tests/lib.sh"

LIMIT=20
REGRESS="$top_srcdir/tests/fuzz-regress"
CORPUS="$top_srcdir/fuzz/corpus"
OUT="$WORK/out"

# The status of `timeout` for a run that took too long.
TIMED_OUT=124

count=0
ncompiled=0

# replay FILE: one run of gradc, checked as above.
replay() {
    file=$1
    name=$(basename "$file")
    rm -rf "$OUT"
    mkdir -p "$OUT"
    timeout "$LIMIT" "$GRADC" "$file" -o "$OUT/out.c" >/dev/null 2>"$WORK/stderr"
    status=$?
    count=$((count + 1))
    if [ "$status" -eq "$TIMED_OUT" ]; then
        fail "$name: gradc took more than ${LIMIT}s"
        return
    fi
    if [ "$status" -gt 1 ]; then
        if [ "$status" -gt 128 ]; then
            what="killed by signal $((status - 128))"
        else
            what="exit status $status"
        fi
        fail "$name: gradc $what: $(head -20 "$WORK/stderr")"
        return
    fi
    case $file in
        "$REGRESS"/error-*)
            if [ "$status" -ne 1 ] || ! grep -q "^$file:[0-9]*:[0-9]*: error: " "$WORK/stderr"; then
                fail "$name: gradc must reject it with an error, but exited $status: $(head -5 "$WORK/stderr")"
            fi
            ;;
    esac
    left=$(cd "$OUT" && ls -A)
    if [ "$status" -eq 1 ] && [ -n "$left" ]; then
        fail "$name: gradc failed but left files behind: $left"
    fi
    if [ "$status" -eq 0 ] && [ "$left" != "$(printf 'out.c\nout.h')" ]; then
        fail "$name: gradc succeeded but wrote: $left"
    elif [ "$status" -eq 0 ]; then
        ncompiled=$((ncompiled + 1))
        $CC $STRICT_CFLAGS -fsyntax-only -I"$top_srcdir/runtime" "$OUT/out.c" \
            >"$WORK/cc" 2>&1 ||
            fail "$name: the generated C does not compile: $(head -5 "$WORK/cc")"
    fi
}

nregress=0
for file in "$REGRESS"/* "$CORPUS"/*; do
    [ -f "$file" ] || continue
    case $(basename "$file") in
        README*) continue ;;
    esac
    case $file in
        "$REGRESS"/*) nregress=$((nregress + 1)) ;;
    esac
    replay "$file"
done

nvalgrind=0
if [ -n "$VALGRIND" ] && [ -z "$SAN_CFLAGS" ]; then
    for file in "$REGRESS"/*; do
        [ -f "$file" ] || continue
        name=$(basename "$file")
        case $name in
            README*) continue ;;
        esac
        rm -rf "$OUT"
        mkdir -p "$OUT"
        timeout $((LIMIT * 10)) "$VALGRIND" -q --error-exitcode=99 --leak-check=full --show-leak-kinds=all \
            --errors-for-leak-kinds=all "$GRADC" "$file" -o "$OUT/out.c" \
            >/dev/null 2>"$WORK/valgrind"
        [ $? -eq 99 ] && fail "$name: valgrind: $(grep '^==' "$WORK/valgrind" | head -30)"
        nvalgrind=$((nvalgrind + 1))
    done
fi

echo "fuzz-regress: $count runs ($nregress regression inputs), $ncompiled outputs compiled, $nvalgrind under valgrind"
finish
