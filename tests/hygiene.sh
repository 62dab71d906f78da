#!/bin/sh
# hygiene.sh: the generated code compiles warning-free under gcc and clang,
# at -O0 and -O2, with the strict flags, and its header compiles as C++.
# Then the installed runtime is found through pkg-config, as users do.
. "$top_srcdir/tests/lib.sh"

compilers=""
for cc in "$GCC" "$CLANG"; do
    [ -n "$cc" ] && compilers="$compilers $cc"
done
[ -n "$compilers" ] || compilers=$CC

models=$(ls "$top_srcdir"/examples/*.grad "$top_srcdir"/tests/models/*.grad 2>/dev/null)
count=0
for model in $models; do
    name=$(basename "$model" .grad)
    dir="$WORK/$name"
    mkdir -p "$dir"
    if ! "$GRADC" "$model" -o "$dir/$name.c" 2>"$dir/gradc.err"; then
        fail "$name: gradc failed: $(cat "$dir/gradc.err")"
        continue
    fi
    count=$((count + 1))
    for cc in $compilers; do
        for opt in -O0 -O2; do
            $cc $STRICT_CFLAGS $opt -I"$top_srcdir/runtime" -c "$dir/$name.c" \
                -o "$dir/$name.o" 2>"$dir/cc.err" ||
                fail "$name: $cc $opt: $(cat "$dir/cc.err")"
        done
    done
    if [ -n "$CXX" ]; then
        model_id=$(grep -m1 '^void .*_forward(' "$dir/$name.h" | sed 's/^void \(.*\)_forward(.*/\1/')
        printf '#include "%s.h"\nint main() { %s_tape t; (void)t; return 0; }\n' \
            "$name" "$model_id" >"$dir/cxx.cpp"
        $CXX -Wall -Wextra -pedantic -Werror -I"$dir" -c "$dir/cxx.cpp" \
            -o "$dir/cxx.o" 2>"$dir/cxx.err" ||
            fail "$name: header as C++: $(cat "$dir/cxx.err")"
    fi
done
echo "hygiene: $count models compiled with:$compilers at -O0 and -O2${CXX:+, header as C++}"

# Install into a staging directory and build the Kamper demo the way the
# README says, through pkg-config.
inst="$WORK/install"
if make -s -C "$top_builddir" install DESTDIR="$inst" >"$WORK/install.log" 2>&1; then
    prefix=$(sed -n 's/^prefix=//p' "$top_builddir/runtime/gradrt.pc")
    pcdir=$(find "$inst" -name gradrt.pc -exec dirname {} \;)
    pc="pkg-config --define-variable=prefix=$inst$prefix"
    flags="$(PKG_CONFIG_PATH=$pcdir $pc --cflags gradrt) $(PKG_CONFIG_PATH=$pcdir $pc --libs gradrt)"
    "$inst$prefix/bin/gradc" "$top_srcdir/examples/kamper.grad" -o "$WORK/demo/kamper.c" 2>/dev/null ||
        { mkdir -p "$WORK/demo" && "$inst$prefix/bin/gradc" "$top_srcdir/examples/kamper.grad" -o "$WORK/demo/kamper.c"; }
    libdir=$(dirname "$(find "$inst" -name 'libgradrt.so' | head -1)")
    if $CC $STRICT_CFLAGS $SAN_CFLAGS -I"$WORK/demo" "$top_srcdir/examples/kamper_demo.c" "$WORK/demo/kamper.c" \
        $flags -lm -o "$WORK/demo/kamper_demo" 2>"$WORK/demo/cc.err"; then
        LD_LIBRARY_PATH="$libdir" "$WORK/demo/kamper_demo" >"$WORK/demo/out" ||
            fail "installed demo did not run"
        grep -q '^f(3, -4)  = 0.6035972419924184$' "$WORK/demo/out" ||
            fail "installed demo printed: $(cat "$WORK/demo/out")"
        echo "install: gradc, gradrt.h, libgradrt and gradrt.pc work from $prefix"
    else
        fail "building against the installed runtime: $(cat "$WORK/demo/cc.err")"
    fi
else
    fail "make install failed: $(tail -5 "$WORK/install.log")"
fi
finish
