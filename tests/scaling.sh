#!/bin/sh
# scaling.sh: the generated code for a 784-H-10 network over a batch of B
# compiles warning-free, and its tape and code grow linearly with the
# model: the tape holds exactly the hidden activations [B, H], their
# derivatives [B, H] (exact, computed from the pre-activations) and the logits
# [B, 10] (for log_softmax's), no weight-sized or squared storage; and the
# code is the same size whatever the dimensions (loops, not unrolling).
# Compiled with --stack-limit=0, so that every size keeps its temporaries
# in the tape's work area: two [B, H] arrays (the backward pass's d_h and
# the pre-activation's adjoint, live together) and two [B, 10].
#
# And gradc's own memory grows linearly with the model, at a bounded cost
# per statement: bench/gen.py's scalar chain of 10^4 and 10^5 statements
# (issue 11: 10^6 in < 2 GB), by the peak resident size wait4() reports.
# No timing: that is bench/'s job.
. "$top_srcdir/tests/lib.sh"

net() { # B H -> $WORK/net_B_H.grad
    cat >"$WORK/net_$1_$2.grad" <<EOM
data  X[$1, 784], Y[$1, 10]
input W1[784, $2], b1[$2], W2[$2, 10], b2[10]
h = sigmoid(X @ W1 + b1)
output loss = -sum(Y * log_softmax(h @ W2 + b2)) / $1
EOM
}

first_size=""
for bh in "64 128" "128 128" "64 256" "32 64"; do
    set -- $bh
    b=$1 h=$2 name="net_$1_$2"
    net "$b" "$h"
    if ! "$GRADC" --stack-limit=0 "$WORK/$name.grad" -o "$WORK/$name.c"; then
        fail "$name: gradc failed"
        continue
    fi
    printf '#include <stddef.h>\n#include <stdio.h>\n#include "%s.h"\nint main(void) { printf("%%zu %%zu\\n", offsetof(%s_tape, work), sizeof(%s_tape) - offsetof(%s_tape, work)); return 0; }\n' \
        "$name" "$name" "$name" "$name" >"$WORK/size_$name.c"
    if ! build_with "$CC" "$WORK/size_$name" "$WORK/size_$name.c" "$WORK/$name.c" 2>"$WORK/$name.err"; then
        fail "$name: does not compile warning-free: $(cat "$WORK/$name.err")"
        continue
    fi
    set -- $("$WORK/size_$name")
    tape=$1 work=$2
    want=$((8 * (2 * b * h + b * 10)))
    [ "$tape" = "$want" ] || fail "$name: tape is $tape bytes, expected 8 * (2*$b*$h + $b*10) = $want"
    want=$((8 * (2 * b * h + 2 * b * 10)))
    [ "$work" = "$want" ] ||
        fail "$name: work area is $work bytes, expected 8 * (2*$b*$h + 2*$b*10) = $want"
    # The code differs between sizes only in the digits of the dimensions.
    size=$(sed 's/[0-9]//g' "$WORK/$name.c" | wc -c)
    [ -z "$first_size" ] && first_size=$size
    [ "$size" = "$first_size" ] || fail "$name: code size $size differs from $first_size (without digits)"
    echo "$name: tape $tape bytes, work area $work bytes, code $(wc -c <"$WORK/$name.c") bytes"
done
# chain N: bench/gen.py's chain of N statements, in awk.
chain() {
    awk -v n="$1" 'BEGIN {
        print "input x, y"
        a = "y"; b = "x"
        for (k = 1; k <= n; k++) {
            name = k == n ? "f" : "t" k
            printf "%s%s = 2 * %s - %s - 0.01 * %s(%s)\n", k == n ? "output " : "", name,
                   a, b, k % 2 ? "sin" : "tanh", a
            b = a; a = name
        }
    }' >"$WORK/chain$1.grad"
}

cat >"$WORK/maxrss.c" <<'EOM'
/* maxrss PROGRAM ARGS...: runs it and prints its peak resident size. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int status;
    struct rusage ru;
    pid_t pid = argc > 1 ? fork() : -1;
    if (pid == 0) {
        execv(argv[1], argv + 1);
        _exit(127);
    }
    if (pid < 0 || wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        return 1;
    printf("%ld\n", (long)ru.ru_maxrss);
    return 0;
}
EOM
if [ -n "$SAN_CFLAGS" ]; then
    echo "gradc's memory: skipped under sanitizers, whose shadow memory it would measure"
elif ! $CC $STRICT_CFLAGS -o "$WORK/maxrss" "$WORK/maxrss.c" 2>"$WORK/maxrss.err"; then
    fail "maxrss.c does not compile: $(cat "$WORK/maxrss.err")"
else
    small=10000 big=100000
    for n in $small $big; do
        chain $n
        rss=$("$WORK/maxrss" "$GRADC" "$WORK/chain$n.grad" -o "$WORK/chain$n.c") ||
            fail "chain $n: gradc failed"
        eval "rss_$n=\${rss:-0}"
        rm -f "$WORK/chain$n.c" "$WORK/chain$n.h"
    done
    # ru_maxrss is in KiB on Linux (bytes on some systems): the ratio holds
    # anywhere, the bound per statement where the unit is KiB.
    eval "a=\$rss_$small b=\$rss_$big"
    echo "gradc's peak memory: $a for $small statements, $b for $big"
    [ "$a" -gt 0 ] && [ "$b" -le $((12 * a)) ] ||
        fail "gradc's memory grows faster than the model: $a for $small statements, $b for $big"
    per=$(((b - a) * 1024 / (big - small)))
    if [ "$(uname -s)" = Linux ]; then
        echo "gradc: $per bytes per statement"
        [ "$per" -le 3072 ] ||
            fail "gradc takes $per bytes per statement of the chain, more than 3 KiB"
    fi
fi
finish
