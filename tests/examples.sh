#!/bin/sh
# examples.sh: every example driver (examples/*_demo.c, softmax_digits.c)
# compiles warning-free under the strict flags, and each one, as built by
# 'make', runs and passes its own checks: the generated gradients against
# the closed forms of the notes, and training that converges.
. "$top_srcdir/tests/lib.sh"

drivers="kamper_demo lstsq_demo abt_demo conv1d_demo nanodegree_demo mlp_demo
softmax_digits"
digits="$top_builddir/examples/data/digits.csv"

for driver in $drivers; do
    # The strict flags, on the driver only (tests/hygiene.sh checks the
    # generated code itself).
    if ! $CC $STRICT_CFLAGS -I"$top_builddir/examples" -I"$top_srcdir/examples" \
            -I"$top_srcdir/runtime" -c "$top_srcdir/examples/$driver.c" \
            -o "$WORK/$driver.o" 2>"$WORK/$driver.cc"; then
        fail "examples/$driver.c does not compile under the strict flags:"
        cat "$WORK/$driver.cc" >&2
    fi

    program="$top_builddir/examples/$driver"
    if [ ! -x "$program" ]; then
        fail "$program is missing (run make)"
        continue
    fi
    set --
    [ "$driver" = softmax_digits ] && set -- "$digits"
    echo "== examples/$driver $*"
    "$program" "$@" >"$WORK/$driver.out" 2>&1
    status=$?
    cat "$WORK/$driver.out"
    [ "$status" -eq 0 ] || fail "examples/$driver exited with status $status"
done
finish
