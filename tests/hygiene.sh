#!/bin/sh
# hygiene.sh: the generated code compiles warning-free under gcc and clang,
# at -O0 and -O2, with the strict flags, and its header compiles as C++.
# Then the installed runtime is found through pkg-config, as users do.
. "$top_srcdir/tests/lib.sh"

compilers=$GCC_AND_CLANG

# compile_checks LABEL DIR NAME: DIR/NAME.c compiles with every compiler
# at -O0 and -O2, and DIR/NAME.h as C++.
compile_checks() {
    label=$1 dir=$2 name=$3
    for cc in $compilers; do
        for opt in -O0 -O2; do
            $cc $STRICT_CFLAGS $opt -I"$top_srcdir/runtime" -c "$dir/$name.c" \
                -o "$dir/$name.o" 2>"$dir/cc.err" ||
                fail "$label: $cc $opt: $(cat "$dir/cc.err")"
        done
    done
    if [ -n "$CXX" ]; then
        model_id=$(grep -m1 '^void .*_forward(' "$dir/$name.h" | sed 's/^void \(.*\)_forward(.*/\1/')
        printf '#include "%s.h"\nint main() { %s_tape t; (void)t; return 0; }\n' \
            "$name" "$model_id" >"$dir/cxx.cpp"
        $CXX -Wall -Wextra -pedantic -Werror -I"$dir" -c "$dir/cxx.cpp" \
            -o "$dir/cxx.o" 2>"$dir/cxx.err" ||
            fail "$label: header as C++: $(cat "$dir/cxx.err")"
    fi
}

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
    compile_checks "$name" "$dir" "$name"
done
echo "hygiene: $count models compiled with:$compilers at -O0 and -O2${CXX:+, header as C++}"

# The model name comes from the file name.  Whatever that is, the names
# made from it (NAME_forward, NAME_tape, ...) must be identifiers that C
# and C++ leave to the user (no leading '_', no "__", no '_' at the end
# before "_forward"), clear of the runtime's gradrt_ and GRADRT_
# (gradrt_softmax_backward is the runtime's own), and compile.  Clang
# also says whether it thinks them reserved.
reserved_flag=""
if [ -n "$CLANG" ] && echo 'int x;' |
    $CLANG -Werror -Wreserved-identifier -x c -fsyntax-only - 2>/dev/null; then
    reserved_flag=-Wreserved-identifier
fi
e_acute=$(printf '\303\251')
count=0
for file in gradrt_softmax GRADRT_X gradrt _net a__b net_ __ 3d _3d EOF \
    "$e_acute" "caf$e_acute" "$e_acute$e_acute-1"; do
    count=$((count + 1))
    dir="$WORK/file-names/$count"
    mkdir -p "$dir"
    printf 'input v[3]\noutput y = softmax(v)\n' >"$dir/$file.grad"
    if ! "$GRADC" "$dir/$file.grad" -o "$dir/m.c" 2>"$dir/gradc.err"; then
        fail "$file.grad: gradc failed: $(cat "$dir/gradc.err")"
        continue
    fi
    model_id=$(grep -m1 '^void .*_forward(' "$dir/m.h" | sed 's/^void \(.*\)_forward(.*/\1/')
    echo "$model_id" | grep -Eq '^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*$' ||
        fail "$file.grad: model name '$model_id' makes reserved C names"
    case $model_id in
    gradrt | gradrt_* | GRADRT | GRADRT_*)
        fail "$file.grad: model name '$model_id' is in the runtime's namespace" ;;
    esac
    compile_checks "$file.grad" "$dir" m
    if [ -n "$reserved_flag" ]; then
        $CLANG $STRICT_CFLAGS $reserved_flag -I"$top_srcdir/runtime" -fsyntax-only \
            "$dir/m.c" 2>"$dir/cc.err" || fail "$file.grad: $CLANG: $(cat "$dir/cc.err")"
    fi
done
echo "hygiene: $count models from awkward file names${reserved_flag:+, checked with $reserved_flag}"

# The polynomial coefficients in runtime/vecmath.c are those that
# runtime/vecmath-coef.py derives, where python3 has mpmath.
if python3 -c 'import mpmath' 2>/dev/null; then
    if python3 "$top_srcdir/runtime/vecmath-coef.py" --check "$top_srcdir/runtime/vecmath.c" \
        2>"$WORK/coef.err"; then
        echo "coefficients: runtime/vecmath.c holds those runtime/vecmath-coef.py derives"
    else
        fail "$(cat "$WORK/coef.err")"
    fi
else
    echo "coefficients: not rederived (no python3 with mpmath)"
fi

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
