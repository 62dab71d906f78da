#!/bin/sh
# errors.sh: every error and warning gradc reports, byte for byte.
#
# Each tests/errors/NAME.err is one case: gradc's exact expected stderr.
# The case's input is
#   - tests/errors/NAME.grad, or
#   - for sources that must hold CR, NUL or non-UTF-8 bytes, a file written
#     below with printf (write_binary_sources), or
#   - for command-line cases (cli-*), the arguments given in run_case.
# gradc runs in the directory that holds NAME.grad, as
#     gradc NAME.grad -o $OUT/out.c
# so every message names the file just NAME.grad, wherever the tree is
# built; this is how users see it when they compile a file beside them.
#
# A case named warn-* must exit 0 with empty stdout and write both output
# files.  Every other case must exit with status exactly 1, write nothing
# to stdout, and leave $OUT as it was: the sentinel out.c and out.h
# unchanged and no other file (a leftover temporary) beside them.
. "$top_srcdir/tests/lib.sh"

# Messages quoted from the C library (strerror) in the expected files are
# glibc's, in English.
LC_ALL=C
export LC_ALL

SRC="$top_srcdir/tests/errors"
GEN="$WORK/src"     # generated inputs, the directory for command-line cases
OUT="$WORK/out"     # the output directory gradc must not touch on error
mkdir -p "$GEN"

write_binary_sources() {
    printf 'input x\r\noutput y = x +\r\n' >"$GEN/crlf-missing-operand.grad"
    printf 'input x\noutput y = x\000 * 2\n' >"$GEN/byte-nul.grad"
    printf 'input x\n\200output y = x\n' >"$GEN/byte-0x80.grad"
    printf '# caf\303\251 is fine in a comment\ninput x\ncaf\303\251 = x * 2\noutput y = caf\303\251\n' \
        >"$GEN/byte-utf8-letter.grad"
    # for the command-line cases
    printf 'input x\noutput y = 2 * x\n' >"$GEN/valid.grad"
    mkdir -p "$GEN/dir.grad"
}

# A fresh $OUT holding the sentinels; the file list and checksums of what
# it holds go to $WORK/before.
reset_output() {
    rm -rf "$OUT"
    mkdir "$OUT"
    echo "sentinel: gradc must not change out.c" >"$OUT/out.c"
    echo "sentinel: gradc must not change out.h" >"$OUT/out.h"
}

snapshot() {
    (cd "$OUT" && find . | LC_ALL=C sort && find . -type f | LC_ALL=C sort | xargs cksum)
}

# run_gradc DIR ARGS...: gradc in DIR; sets status, output in $WORK.
run_gradc() {
    dir=$1
    shift
    (cd "$dir" && "$GRADC" "$@") >"$WORK/stdout" 2>"$WORK/stderr"
    status=$?
}

# run_case NAME: run gradc on case NAME's input.
run_case() {
    case $1 in
    cli-missing-file)   run_gradc "$GEN" no-such-file.grad -o "$OUT/out.c" ;;
    cli-input-directory) run_gradc "$GEN" dir.grad -o "$OUT/out.c" ;;
    cli-unwritable-output) run_gradc "$GEN" valid.grad -o /nonexistent/x.c ;;
    cli-output-is-directory)
        # out.c's header could be written, out.c cannot: neither may change.
        mkdir "$OUT/dir-out.c"
        echo "sentinel: gradc must not change dir-out.h" >"$OUT/dir-out.h"
        snapshot >"$WORK/before"
        run_gradc "$OUT" "$GEN/valid.grad" -o dir-out.c ;;
    # Output names: NAME.c, with a header name #include "..." can hold.
    cli-output-not-c)   run_gradc "$OUT" "$GEN/valid.grad" -o out.h ;;
    cli-output-empty)   run_gradc "$OUT" "$GEN/valid.grad" -o '' ;;
    cli-output-no-name) run_gradc "$OUT" "$GEN/valid.grad" -o .c ;;
    cli-output-quote)   run_gradc "$OUT" "$GEN/valid.grad" -o 'q"x.c' ;;
    cli-output-backslash) run_gradc "$OUT" "$GEN/valid.grad" -o 'q\x.c' ;;
    cli-output-apostrophe) run_gradc "$OUT" "$GEN/valid.grad" -o "q'x.c" ;;
    cli-output-newline) run_gradc "$OUT" "$GEN/valid.grad" -o "$(printf 'q\nx.c')" ;;
    cli-output-tab)     run_gradc "$OUT" "$GEN/valid.grad" -o "$(printf 'q\tx.c')" ;;
    cli-output-trigraph) run_gradc "$OUT" "$GEN/valid.grad" -o 'q??=x.c' ;;
    cli-output-too-long)
        run_gradc "$OUT" "$GEN/valid.grad" -o "$(printf '%254s' '' | tr ' ' a).c" ;;
    cli-output-same-file)
        # Written through, the header link would be the .c file itself.
        ln -s same.c "$OUT/same.h"
        snapshot >"$WORK/before"
        run_gradc "$OUT" "$GEN/valid.grad" -o same.c ;;
    cli-output-symlink-loop)
        ln -s loop.c "$OUT/loop.c"
        snapshot >"$WORK/before"
        run_gradc "$OUT" "$GEN/valid.grad" -o loop.c ;;
    cli-output-not-regular)
        mkfifo "$OUT/fifo.c"
        snapshot >"$WORK/before"
        run_gradc "$OUT" "$GEN/valid.grad" -o fifo.c ;;
    cli-no-input)       run_gradc "$GEN" -o "$OUT/out.c" ;;
    cli-two-inputs)     run_gradc "$GEN" valid.grad second.grad -o "$OUT/out.c" ;;
    cli-unknown-option) run_gradc "$GEN" --frobnicate valid.grad -o "$OUT/out.c" ;;
    # -O2 out of habit: 'O' is unknown, its "2" shares the argument.
    cli-unknown-short-option) run_gradc "$GEN" valid.grad -O2 -o "$OUT/out.c" ;;
    cli-missing-argument) run_gradc "$GEN" valid.grad -o ;;
    cli-stack-limit-negative)
        run_gradc "$GEN" --stack-limit=-1 valid.grad -o "$OUT/out.c" ;;
    cli-stack-limit-not-number)
        run_gradc "$GEN" --stack-limit=64k valid.grad -o "$OUT/out.c" ;;
    cli-function-size-zero)
        run_gradc "$GEN" --function-size=0 valid.grad -o "$OUT/out.c" ;;
    cli-stack-limit-too-large)
        run_gradc "$GEN" --stack-limit=99999999999999999999 valid.grad -o "$OUT/out.c" ;;
    cli-type-half)
        run_gradc "$GEN" --type=half valid.grad -o "$OUT/out.c" ;;
    cli-type-empty)
        run_gradc "$GEN" --type= valid.grad -o "$OUT/out.c" ;;
    *)
        if [ -f "$SRC/$1.grad" ]; then
            run_gradc "$SRC" "$1.grad" -o "$OUT/out.c"
        elif [ -f "$GEN/$1.grad" ]; then
            run_gradc "$GEN" "$1.grad" -o "$OUT/out.c"
        else
            fail "$1: no input (no $1.grad and no command line in errors.sh)"
            return 1
        fi ;;
    esac
}

write_binary_sources
count=0
for expected in "$SRC"/*.err; do
    name=$(basename "$expected" .err)
    count=$((count + 1))
    reset_output
    snapshot >"$WORK/before"
    run_case "$name" || continue

    if ! cmp -s "$expected" "$WORK/stderr"; then
        fail "$name: stderr differs from tests/errors/$name.err:"
        diff -u "$expected" "$WORK/stderr" | sed 's/^/    /' >&2
    fi
    [ -s "$WORK/stdout" ] && fail "$name: wrote to stdout: $(head -5 "$WORK/stdout")"

    case $name in
    warn-*)
        [ "$status" -eq 0 ] || fail "$name: exit status $status, expected 0"
        # Both files written, nothing else left beside them.
        grep -q sentinel "$OUT/out.c" "$OUT/out.h" &&
            fail "$name: the output files were not written"
        [ "$(cd "$OUT" && ls -A | tr '\n' ' ')" = "out.c out.h " ] ||
            fail "$name: stray files in the output directory: $(ls -A "$OUT")"
        ;;
    *)
        [ "$status" -eq 1 ] || fail "$name: exit status $status, expected 1"
        snapshot >"$WORK/after"
        if ! cmp -s "$WORK/before" "$WORK/after"; then
            fail "$name: the output directory changed:"
            diff -u "$WORK/before" "$WORK/after" | sed 's/^/    /' >&2
        fi
        ;;
    esac
done

# An input that affects no output gets a zero gradient, not a missing one.
reset_output
run_case warn-unused-input
if ! grep -q '^ *\*grad_z = 0\(\.0\)\{0,1\};' "$OUT/out.c"; then
    fail "warn-unused-input: the backward pass does not zero grad_z:"
    sed -n '/_backward(/,/^}/p' "$OUT/out.c" | sed 's/^/    /' >&2
fi

# Every source in tests/errors has its expected output.
for source in "$SRC"/*.grad; do
    name=$(basename "$source" .grad)
    [ -f "$SRC/$name.err" ] || fail "tests/errors/$name.grad has no $name.err"
done

echo "errors: $count cases"
finish
