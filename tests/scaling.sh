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
finish
