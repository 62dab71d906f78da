#!/bin/sh
# split.sh: a function of many operations is split into parts of about
# --function-size operations (default 250), so that C compilers, whose
# time grows faster than a function's size, compile big models at a steady
# rate.  A chain of 5000 statements where every value forks: every
# generated function stays short, and gcc -O2 compiles the file within a
# CPU limit far above what it needs (before splitting, a chain of 2000
# statements took 41 s and one of 10^4 did not finish in ten minutes).
# numeric.sh and random.sh check the numbers of split functions.
. "$top_srcdir/tests/lib.sh"

awk -v n=5000 'BEGIN {
    print "input x, y"
    print "t1 = 2 * y - x - 0.01 * sin(y)"
    print "t2 = 2 * t1 - y - 0.01 * tanh(t1)"
    for (i = 3; i <= n; i++)
        print "t" i " = 2 * t" i - 1 " - t" i - 2 " - 0.01 * " (i % 2 ? "sin" : "tanh") "(t" i - 1 ")"
    print "output f = t" n " + t" n - 1
}' >"$WORK/chain.grad"
"$GRADC" "$WORK/chain.grad" -o "$WORK/chain.c" || fail "gradc on the chain"

# The longest function body, in lines.
longest=$(awk '/^{$/ { n = 0; next } /^}$/ { if (n > max) max = n; next } { n++ }
               END { print max + 0 }' "$WORK/chain.c")
parts=$(grep -c '^static GRADRT_NOINLINE void' "$WORK/chain.c")
echo "chain of 5000 statements: $parts parts, the longest function $longest lines"
[ "$parts" -ge 20 ] || fail "the chain is split into $parts parts, expected 20 or more"
[ "$longest" -le 6000 ] || fail "a function of $longest lines"

if [ -n "${GCC:-}" ]; then
    start=$(date +%s)
    (ulimit -t 300 && $GCC -O2 -I"$top_srcdir/runtime" -c -o "$WORK/chain.o" \
        "$WORK/chain.c") 2>"$WORK/gcc.err" ||
        fail "gcc -O2 on the split chain, within 300 s of CPU: $(tail -5 "$WORK/gcc.err")"
    echo "gcc -O2: $(($(date +%s) - start)) s"
fi
finish
