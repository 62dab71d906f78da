# tests/lib.sh: shared by the test scripts; sourced, not run.
# The environment comes from AM_TESTS_ENVIRONMENT (tests/Makefile.inc).

set -u
: "${top_srcdir:?run through make check}"
: "${top_builddir:?run through make check}"
WORK="$top_builddir/tests/work/$(basename "$0" .sh)"
rm -rf "$WORK"
mkdir -p "$WORK"
FAILED=0

fail() {
    echo "FAIL: $*" >&2
    FAILED=$((FAILED + 1))
}

# Strict flags every generated file must compile under, warning-free.
STRICT_CFLAGS="-std=c99 -Wall -Wextra -pedantic -Wconversion -Wshadow -Werror"

# The compilers the generated code must satisfy: gcc and clang, those
# configure found, or else $CC.
GCC_AND_CLANG=""
for cc in "$GCC" "$CLANG"; do
    [ -n "$cc" ] && GCC_AND_CLANG="$GCC_AND_CLANG $cc"
done
[ -n "$GCC_AND_CLANG" ] || GCC_AND_CLANG=$CC

# build_with COMPILER OUTPUT SOURCES... : compile and link against the
# runtime as built in this tree (libtool handles the library path).
build_with() {
    compiler=$1 out=$2
    shift 2
    "$LIBTOOL" --quiet --tag=CC --mode=link $compiler $STRICT_CFLAGS $SAN_CFLAGS \
        -I"$top_srcdir/runtime" -o "$out" "$@" \
        "$top_builddir/runtime/libgradrt.la" -lm
}

# build_checkdrv COMPILER...: tests/checkdrv.c, the checks every driver
# that gradcheck writes runs, compiled once with each COMPILER, under the
# flags the drivers get, into $WORK/checkdrv-COMPILER.o.  A driver links
# with that and is compiled with -I"$top_srcdir/tests" (for checkdrv.h).
build_checkdrv() {
    for checkdrv_cc in "$@"; do
        compile_once "$checkdrv_cc" "$WORK/checkdrv-$(basename "$checkdrv_cc").o" \
            "$top_srcdir/tests/checkdrv.c"
    done
}

# build_runtime COMPILER...: the runtime's sources, compiled once with each
# COMPILER under the drivers' flags at -O2, into $WORK/gradrt-COMPILER.a,
# for programs that do not link the library libtool built (random.sh's
# batches mix gcc and clang, whose sanitizer runtimes cannot share one).
build_runtime() {
    for runtime_cc in "$@"; do
        runtime_dir="$WORK/gradrt-$(basename "$runtime_cc")"
        mkdir -p "$runtime_dir"
        for runtime_src in "$top_srcdir"/runtime/*.c; do
            compile_once "$runtime_cc" "$runtime_dir/$(basename "$runtime_src" .c).o" \
                "$runtime_src" -O2 -I"$top_srcdir/runtime"
        done
        rm -f "$runtime_dir.a"
        ar rc "$runtime_dir.a" "$runtime_dir"/*.o
    done
}

# compile_once COMPILER OUT SRC [FLAG...]: SRC compiled under the drivers'
# flags into the object OUT; a failure ends the test.
compile_once() {
    compile_cc=$1 compile_out=$2 compile_src=$3
    shift 3
    $compile_cc $STRICT_CFLAGS $SAN_CFLAGS "$@" -c -o "$compile_out" "$compile_src" \
        2>"$WORK/compile.err" || {
        fail "$compile_src with $compile_cc: $(cat "$WORK/compile.err")"
        finish
    }
}

finish() {
    if [ "$FAILED" -ne 0 ]; then
        echo "$FAILED failure(s)" >&2
        exit 1
    fi
    exit 0
}
