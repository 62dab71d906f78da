#!/bin/sh
# hostile.sh: inputs built to break a compiler.  Each must give either
# correct output (exit 0, both files written) or a clear
# "FILE:LINE:COL: error:" / "gradc: error:" message with exit status 1 and
# no output file: never a signal, a hang (everything runs under timeout)
# or a partial file.  Inputs that take a quadratic compiler minutes also
# run under a limit on CPU time, which a loaded machine does not eat into.
. "$top_srcdir/tests/lib.sh"

LIMIT=${HOSTILE_TIMEOUT:-600}
CPU=""

# expect WANT NAME ARGS...: run gradc on ARGS, writing $WORK/NAME.c, within
# LIMIT seconds and, when CPU is set, CPU seconds of CPU time.
expect() {
    want=$1 name=$2
    shift 2
    rm -f "$WORK/$name.c" "$WORK/$name.h"
    (
        # Past the soft limit comes SIGXCPU, which would dump core.
        [ -z "$CPU" ] || { ulimit -c 0 && ulimit -S -t "$CPU"; }
        exec timeout "$LIMIT" "$GRADC" "$@" -o "$WORK/$name.c"
    ) >"$WORK/$name.out" 2>"$WORK/$name.err"
    status=$?
    if [ -n "$CPU" ] && [ "$status" -eq $((128 + 24)) ]; then
        fail "$name: more than $CPU s of CPU time"
        return
    fi
    if [ "$status" -ne "$want" ]; then
        fail "$name: exit status $status, expected $want: $(head -c 300 "$WORK/$name.err")"
        return
    fi
    if [ "$want" -eq 0 ]; then
        [ -s "$WORK/$name.c" ] && [ -s "$WORK/$name.h" ] || fail "$name: output missing"
    else
        [ ! -e "$WORK/$name.c" ] && [ ! -e "$WORK/$name.h" ] || fail "$name: output written on error"
        grep -q "error: " "$WORK/$name.err" || fail "$name: no error message"
    fi
    [ -z "$(ls -A "$WORK" | grep '^\.')" ] || fail "$name: temporary files left behind"
    echo "$name: exit $status ($(head -c 100 "$WORK/$name.err" | head -1))"
}

gen() { # NAME AWK-PROGRAM: write $WORK/NAME.grad
    awk "BEGIN { $2 }" >"$WORK/$1.grad" </dev/null
}

# 200,000 nested parentheses around a real computation, and unclosed.
gen deep 'printf "input x\noutput y = "; for (i = 0; i < 200000; i++) printf "(x + "; printf "1"; for (i = 0; i < 200000; i++) printf ")"; print ""'
expect 0 deep "$WORK/deep.grad"
gen deep-open 'printf "input x\noutput y = "; for (i = 0; i < 200000; i++) printf "("; print "x"'
expect 1 deep-open "$WORK/deep-open.grad"
grep -q "deep-open.grad:2:200013: error: syntax error" "$WORK/deep-open.err" ||
    fail "deep-open: wrong location: $(head -1 "$WORK/deep-open.err")"

# A 100,000-character identifier.
gen long-name 'printf "input "; for (i = 0; i < 100000; i++) printf "a"; printf "\noutput y = "; for (i = 0; i < 100000; i++) printf "a"; print " * 2"'
expect 0 long-name "$WORK/long-name.grad"

# A 1,000,000-statement model, every value used twice.  Under sanitizers,
# which multiply time and memory, 100,000 statements make the same point.
n=1000000
[ -n "$SAN_CFLAGS" ] && n=100000
gen million "n = $n"'; print "input x"; print "v0 = x"; for (i = 1; i < n; i++) printf "v%d = v%d * 0.5 + x\n", i, i - 1; printf "output y = v%d + v0\n", n - 1'
expect 0 million "$WORK/million.grad"

# Long statements: each shape with 1,000,000 operators in one statement
# (100,000 under sanitizers) within 60 s of CPU time, where gradc needs
# at most 15.  Measuring the whole statement for every tape member's
# comment took 86 s (the chained powers) to over 550 s (the max chain).
# The outputs are hundreds of MB: removed once checked.
n=1000000
[ -n "$SAN_CFLAGS" ] && n=100000
CPU=${HOSTILE_CPU:-60}
timed() { # WANT NAME AWK-PROGRAM (n is set): a model, compiled and removed
    gen "$2" "n = $n; $3"
    start=$(date +%s)
    expect "$1" "$2" "$WORK/$2.grad"
    echo "$2: $(($(date +%s) - start)) s"
    rm -f "$WORK/$2.grad" "$WORK/$2.c" "$WORK/$2.h"
}
timed 0 product 'printf "input x\noutput y = sin(x)"; for (i = 1; i < n; i++) printf "*sin(x)"; print ""'
timed 0 nested 'printf "input x\noutput y = "; for (i = 0; i < n; i++) printf "sin("; printf "x"; for (i = 0; i < n; i++) printf ")"; print ""'
timed 0 pow-right 'printf "input x\noutput y = x"; for (i = 1; i < n; i++) printf " ^ x"; print ""'
timed 0 pow-left 'printf "input x\noutput y = "; for (i = 0; i < n; i++) printf "("; printf "x"; for (i = 0; i < n; i++) printf "^2)"; print ""'
timed 0 sum 'printf "input x\noutput y = x"; for (i = 1; i < n; i++) printf " + x"; print ""'
timed 0 max 'printf "input x\noutput y = "; for (i = 1; i < n; i++) printf "max("; printf "x"; for (i = 1; i < n; i++) printf ", %d)", i; print ""'
timed 0 parens 'printf "input x\noutput y = "; for (i = 0; i < n; i++) printf "("; printf "x"; for (i = 0; i < n; i++) printf ")"; print ""'
# One value used by every term: its adjoint sums n / 2 contributions.
timed 0 fork 'printf "input x\noutput y = sin(x)"; for (i = 1; i < n / 2; i++) printf " + sin(x) * %d", i + 1; print ""'

# A warning at each of 100,000 numbers in one statement (10,000 under
# sanitizers): each warning shows only the part of the line around its
# column, not the whole line again (10,000 took over 280 s).
n=100000
[ -n "$SAN_CFLAGS" ] && n=10000
timed 0 warnings 'printf "input x\noutput y = x"; for (i = 1; i < n; i++) printf " + x * 1e-400"; print ""'
[ "$(wc -c <"$WORK/warnings.err")" -le $((1000 * n)) ] ||
    fail "warnings: $(wc -c <"$WORK/warnings.err") bytes of warnings for $n numbers"
rm -f "$WORK/warnings.err"

# Many statements (a tenth under sanitizers).  200,000 outputs, each
# found at its value without a scan of all the outputs (it took 117 s).
n=200000
[ -n "$SAN_CFLAGS" ] && n=20000
timed 0 outputs 'print "input x"; for (i = 1; i <= n; i++) printf "output y%d = x * %d\n", i, i + 1'
# 16,384 values whose names differ only in underscores: all want the C
# name a_b_..._o and get numbers, without trying every number taken
# (which took 165 s and 6 GB).
bits=14
[ -n "$SAN_CFLAGS" ] && bits=11
timed 0 underscores 'b = '"$bits"'; print "input x"; prev = "x"; for (k = 0; k < 2 ^ b; k++) { s = "a"; for (j = 0; j < b; j++) s = s (int(k / 2 ^ j) % 2 ? "__" : "_") sprintf("%c", 98 + j); printf "%s = %s * 0.5 + x\n", s, prev; prev = s } printf "output y = %s\n", prev'
# A name of 131,072 letters, misspelt 20 times after 100,000 statements:
# the suggestions measure names only as far as a suggestion may be long
# (this took 100 s).
n=100000
[ -n "$SAN_CFLAGS" ] && n=10000
timed 1 misspelt 'print "input x"; print "v0 = x"; for (i = 1; i < n; i++) printf "v%d = v%d * 0.5 + x\n", i, i - 1; for (q = "q"; length(q) < 100000;) q = q q; printf "output y = v%d", n - 1; for (i = 0; i < 20; i++) printf " + %s", q; print ""'
# An output of each partial sum of a long statement: the copies bring
# its comment back between them, quoted in full only once, so the code
# stays linear in size (10,000 terms: 8.5 MB, where it was 800 MB).
n=10000
[ -n "$SAN_CFLAGS" ] && n=1000
gen partial-sums "n = $n"'; print "input x"; for (i = 1; i <= n; i++) printf "u%d = x * %d\n", i, i + 1; printf "output big = u1"; for (i = 2; i <= n; i++) printf " + u%d", i; print ""; print "w1 = u1"; for (i = 2; i <= n; i++) { printf "output w%d = w%d + u%d\n", i, i - 1, i; printf "output z%d = w%d\n", i, i }'
expect 0 partial-sums "$WORK/partial-sums.grad"
size=$(cat "$WORK/partial-sums.c" "$WORK/partial-sums.h" | wc -c)
[ "$size" -le $((3000 * n)) ] || fail "partial-sums: $size bytes of code for $n terms"
rm -f "$WORK/partial-sums.c" "$WORK/partial-sums.h"
CPU=""

# A 50 MB file (of comments around a small model).
gen fifty 'print "input x"; c = sprintf("%98s", ""); gsub(/ /, "c", c); for (i = 0; i < 510000; i++) print "#" c; print "output y = x^2"'
expect 0 fifty "$WORK/fifty.grad"
[ "$(wc -c <"$WORK/fifty.grad")" -ge 50000000 ] || fail "fifty: file is under 50 MB"

# Inputs are read up to 256 MiB (GRADC_MAX_SOURCE_BYTES): an endless one
# is an error, not all the memory there is.  Memory is capped here so that
# a gradc without the limit fails fast (not under ASan, which reserves
# terabytes of address space).
big() { echo "gradc: error: cannot read '$1': it is larger than 256 MiB"; }
(
    [ -n "$SAN_CFLAGS" ] || ulimit -v 4000000
    exec timeout 60 "$GRADC" /dev/zero -o "$WORK/zero.c"
) >/dev/null 2>"$WORK/zero.err"
status=$?
[ "$status" -eq 1 ] && [ "$(cat "$WORK/zero.err")" = "$(big /dev/zero)" ] ||
    fail "/dev/zero: exit status $status: $(head -c 300 "$WORK/zero.err")"
echo "/dev/zero: exit $status ($(head -c 100 "$WORK/zero.err"))"
# A file one byte too large is refused without reading it (a sparse file
# of NUL bytes in a comment).
printf 'input x\noutput y = x\n#' >"$WORK/huge.grad"
truncate -s $((256 * 1024 * 1024 + 1)) "$WORK/huge.grad"
CPU=60
expect 1 huge "$WORK/huge.grad"
CPU=""
[ "$(cat "$WORK/huge.err")" = "$(big "$WORK/huge.grad")" ] ||
    fail "huge: $(head -c 300 "$WORK/huge.err")"
rm -f "$WORK/huge.grad"
# A pipe is read like a file.
mkfifo "$WORK/fifo.grad"
timeout 60 sh -c 'printf "input x\noutput y = x^2\n" >"$1"' sh "$WORK/fifo.grad" &
expect 0 fifo "$WORK/fifo.grad"
wait

# A megabyte of NUL bytes in one comment, linear since the lexer scans
# comments in pieces (it took hours).
{ printf 'input x\noutput y = x # '; head -c 1000000 /dev/zero; echo; } >"$WORK/nul-long.grad"
CPU=60
expect 0 nul-long "$WORK/nul-long.grad"
CPU=""

# NUL bytes and invalid UTF-8 in code: errors; in a comment: fine.
printf 'input x\noutput y = x \000+ 1\n' >"$WORK/nul.grad"
expect 1 nul "$WORK/nul.grad"
printf 'input x # \000 \377\376 comment\noutput y = x\n' >"$WORK/nul-comment.grad"
expect 0 nul-comment "$WORK/nul-comment.grad"
printf 'input x\noutput y = x * \377\376\n' >"$WORK/utf8.grad"
expect 1 utf8 "$WORK/utf8.grad"

# Not a readable file: a directory, a missing file; an unwritable output.
mkdir -p "$WORK/dir.grad"
expect 1 directory "$WORK/dir.grad"
expect 1 missing "$WORK/missing.grad"
printf 'input x\noutput y = x\n' >"$WORK/ok.grad"
timeout "$LIMIT" "$GRADC" "$WORK/ok.grad" -o /nonexistent/dir/out.c 2>"$WORK/unwritable.err"
[ $? -eq 1 ] && grep -q "^gradc: error: cannot write '/nonexistent/dir/out.h'" "$WORK/unwritable.err" ||
    fail "unwritable: $(cat "$WORK/unwritable.err")"
cp "$WORK/ok.grad" "$WORK/keep.grad"
timeout "$LIMIT" "$GRADC" "$WORK/ok.grad" -o "$WORK/ok.grad" 2>"$WORK/onto-input.err"
[ $? -eq 1 ] && cmp -s "$WORK/ok.grad" "$WORK/keep.grad" ||
    fail "-o onto the input: $(cat "$WORK/onto-input.err")"
# A .c name is required, so only the header can be the input.
cp "$WORK/ok.grad" "$WORK/in.h"
timeout "$LIMIT" "$GRADC" "$WORK/in.h" -o "$WORK/in.c" 2>"$WORK/onto-input.err"
[ $? -eq 1 ] && cmp -s "$WORK/in.h" "$WORK/keep.grad" && [ ! -e "$WORK/in.c" ] &&
    grep -q "^gradc: error: writing '.*/in.h' would overwrite the input$" "$WORK/onto-input.err" ||
    fail "header onto the input: $(cat "$WORK/onto-input.err")"

# Dimensions whose product overflows size_t, or that do not fit at all.
printf 'input W[4294967296, 4294967296]\noutput y = sum(W)\n' >"$WORK/dims.grad"
expect 1 dims "$WORK/dims.grad"
printf 'input W[65536, 65536]\noutput y = sum(W)\n' >"$WORK/dims-product.grad"
expect 1 dims-product "$WORK/dims-product.grad"
printf 'input W[99999999999999999999999999]\noutput y = sum(W)\n' >"$WORK/dims-huge.grad"
expect 1 dims-huge "$WORK/dims-huge.grad"
finish
