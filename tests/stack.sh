#!/bin/sh
# stack.sh: no generated function needs more than its stack budget, whatever
# the model's size.  The 784-256-10 network at batch 4096 (temporaries of
# 8 MB each) runs on an 8 MB stack and in a thread with a 256 KiB one, with
# its gradient checked against plain C (tests/stack.c); every header states
# at most the budget; and a residual net's stack follows its width, not its
# depth, because dead arrays are reused.
. "$top_srcdir/tests/lib.sh"

# stack_bytes FILE.h: the stack each function declares, one line each.
stack_bytes() {
    tr '\n' ' ' <"$1" | grep -o 'take  *\* [0-9]* bytes of stack' | grep -o '[0-9][0-9]*'
}

cat >"$WORK/net.grad" <<'GRAD'
data  X[4096, 784], Y[4096, 10]
input W1[784, 256], b1[256], W2[256, 10], b2[10]
h = sigmoid(X @ W1 + b1)
output loss = -sum(Y * log_softmax(h @ W2 + b2)) / 4096
GRAD
if "$GRADC" "$WORK/net.grad" -o "$WORK/net.c" 2>"$WORK/gradc.err"; then
    for bytes in $(stack_bytes "$WORK/net.h"); do
        [ "$bytes" -le 65536 ] || fail "net.h: $bytes bytes of stack, above the default 65536"
    done
    grep -q "one call at a time per tape" "$WORK/net.h" ||
        fail "net.h does not say that its backward pass writes the tape"
    if build_with "$CC" "$WORK/stack" -O2 -pthread -I"$WORK" "$top_srcdir/tests/stack.c" \
        "$WORK/net.c" 2>"$WORK/build.err"; then
        # the default stack of most systems, whatever this shell's is
        (ulimit -s 8192 && "$WORK/stack") >"$WORK/stack.out" 2>&1 ||
            fail "the network at batch 4096: $(cat "$WORK/stack.out")"
        cat "$WORK/stack.out"
    else
        fail "building tests/stack.c: $(head -20 "$WORK/build.err")"
    fi
else
    fail "gradc on the batch-4096 network: $(cat "$WORK/gradc.err")"
fi

# --stack-limit: nothing above it, however small; 0 puts every array in
# the tape's work area.
for limit in 0 1000 100000; do
    if "$GRADC" --stack-limit=$limit "$WORK/net.grad" -o "$WORK/limit.c"; then
        for bytes in $(stack_bytes "$WORK/limit.h"); do
            [ "$bytes" -le $limit ] || fail "--stack-limit=$limit: $bytes bytes of stack"
        done
    else
        fail "gradc --stack-limit=$limit"
    fi
done

# h = tanh(h @ W + b) + h over L layers of [16, 64]: the same stack at 10
# layers and at 1000 (16 MB of it at 1000 before arrays were reused).
resnet() {
    awk -v n="$1" 'BEGIN {
        print "data X[16, 64]"
        print "input W[64, 64], b[64]"
        print "h1 = tanh(X @ W + b) + X"
        for (i = 2; i <= n; i++)
            print "h" i " = tanh(h" i - 1 " @ W + b) + h" i - 1
        print "output loss = sum(h" n "^2)"
    }' >"$WORK/resnet$1.grad"
    "$GRADC" "$WORK/resnet$1.grad" -o "$WORK/resnet$1.c" || fail "gradc on resnet$1"
    stack_bytes "$WORK/resnet$1.h" | tr '\n' ' '
}
shallow=$(resnet 10)
deep=$(resnet 1000)
echo "stack bytes (forward, backward): 10 layers: $shallow; 1000 layers: $deep"
[ -n "$deep" ] && [ "$shallow" = "$deep" ] ||
    fail "the residual net's stack grows with its depth: $shallow at 10 layers, $deep at 1000"
finish
