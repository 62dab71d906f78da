#!/bin/sh
# threads.sh: the generated code and the runtime on threads (OpenMP).  Two
# models large enough that their loops get GRADRT_PARALLEL_FOR and their
# products and array kernels are split over threads: the generated code
# compiles warning-free with and without -fopenmp, with gcc and clang; built
# with -fopenmp it passes gradcheck's checks on 2 threads; and its outputs
# and gradients on 1, 2 and 3 threads are identical bit for bit to each
# other and to the code built without -fopenmp.  (tests/gemm compares the
# runtime's product on several threads on its own.)
. "$top_srcdir/tests/lib.sh"

if [ -z "${OPENMP_CFLAGS:-}" ]; then
    echo "threads: skipped: configured without OpenMP"
    exit 77
fi

# mlp: 512 x 128 elementwise loops (2^16), products of 2^20 multiply-adds
# split by rows (X W1) and by columns (X^T dZ), a sigmoid array kernel of
# 2^16.  mix: broadcasts, transposes, an outer product and a group of
# elementwise operations, each over 2^16 elements, and products of 2^20.
# The shared dimensions are short so that gradcheck's reference stays
# quick.
cat >"$WORK/mlp.grad" <<'GRAD'
data  X[512, 16], Y[512, 10]
input W1[16, 128], b1[128], W2[128, 10], b2[10]
h = sigmoid(X @ W1 + b1)
output loss = -sum(Y * log_softmax(h @ W2 + b2)) / 512
GRAD
cat >"$WORK/mix.grad" <<'GRAD'
data  X[256, 16]
input A[16, 256], c[256], u[256]
Z = tanh(X @ A + c) * u
T = transpose(Z) * 0.5
output f = sum(Z * transpose(T)) / 256 + sum(outer(u, c)) / 100
GRAD

compile_once "$CC" "$WORK/checkdrv.o" "$top_srcdir/tests/checkdrv.c"
compile_once "$CC" "$WORK/threads.o" "$top_srcdir/tests/threads.c" -I"$top_srcdir/tests"

for model in mlp mix; do
    before=$FAILED
    dir="$WORK/$model"
    mkdir -p "$dir"
    if ! "$GRADC" "$WORK/$model.grad" -o "$dir/$model.c" 2>"$dir/gradc.err"; then
        fail "$model: gradc failed: $(cat "$dir/gradc.err")"
        continue
    fi
    grep -q GRADRT_PARALLEL_FOR "$dir/$model.c" ||
        fail "$model: no loop marked GRADRT_PARALLEL_FOR"
    for cc in $GCC_AND_CLANG; do
        for flags in "" "$OPENMP_CFLAGS"; do
            # shellcheck disable=SC2086 # flags are words
            $cc $STRICT_CFLAGS -Wunknown-pragmas $flags -I"$top_srcdir/runtime" \
                -c "$dir/$model.c" -o "$dir/compile.o" 2>"$dir/compile.err" ||
                fail "$model: $cc ${flags:-without OpenMP}: $(cat "$dir/compile.err")"
        done
    done
    if ! "$GRADCHECK" --points 2 --header "$model.h" -o "$dir/check.c" \
        "$WORK/$model.grad" 2>"$dir/gradcheck.err"; then
        fail "$model: gradcheck failed: $(cat "$dir/gradcheck.err")"
        continue
    fi
    # shellcheck disable=SC2086 # flags are words
    if ! build_with "$CC" "$dir/check" -no-install $OPENMP_CFLAGS -I"$dir" \
            -I"$top_srcdir/tests" "$dir/check.c" "$dir/$model.c" "$WORK/checkdrv.o" \
            2>"$dir/build.err" ||
        ! build_with "$CC" "$dir/values-omp" -no-install $OPENMP_CFLAGS -I"$dir" \
            -I"$top_srcdir/tests" "$dir/check.c" "$dir/$model.c" "$WORK/threads.o" \
            2>>"$dir/build.err" ||
        ! build_with "$CC" "$dir/values" -no-install -I"$dir" -I"$top_srcdir/tests" \
            "$dir/check.c" "$dir/$model.c" "$WORK/threads.o" 2>>"$dir/build.err"; then
        fail "$model: could not build: $(head -20 "$dir/build.err")"
        continue
    fi
    if OMP_NUM_THREADS=2 "$dir/check" >"$dir/check.out" 2>"$dir/check.err"; then
        echo "threads: $model on 2 threads: $(cat "$dir/check.out")"
    else
        fail "$model on 2 threads: $(cat "$dir/check.err")"
    fi
    OMP_NUM_THREADS=1 "$dir/values" >"$dir/serial.out" ||
        fail "$model: the values program failed"
    [ -s "$dir/serial.out" ] || fail "$model: no values printed"
    for threads in 1 2 3; do
        OMP_NUM_THREADS=$threads "$dir/values-omp" >"$dir/omp-$threads.out" ||
            fail "$model: the values program failed on $threads threads"
        cmp -s "$dir/serial.out" "$dir/omp-$threads.out" ||
            fail "$model: built with $OPENMP_CFLAGS, on $threads thread(s), differs" \
                 "from the serial build: $(diff "$dir/serial.out" "$dir/omp-$threads.out" |
                                          head -5)"
    done
    [ "$FAILED" -ne "$before" ] ||
        echo "threads: $model: $(grep -c . "$dir/serial.out") values identical on 1, 2 and 3 threads and without OpenMP"
done
finish
