#!/bin/sh
# cnames.sh: value names that C's headers or gradc's own header take.
#   1. src/libc-macros.def holds every object-like macro of this platform's
#      C library headers (src/libc-macros.sh asks the compilers).
#   2. Every name of that list and of src/reserved-words.def, and every
#      function-like macro of the headers, used as a value name, gives C
#      that compiles after a driver has included every header, under
#      -std=c99 and -std=gnu99, with gcc and clang.
#   3. A value named after the include guard of its own header, or of
#      another model's, keeps its value.
. "$top_srcdir/tests/lib.sh"

compilers=$GCC_AND_CLANG
macros="$top_srcdir/src/libc-macros.sh"

# ---- 1. the list is complete for this platform ----
sed -n 's/^"\(.*\)",$/\1/p' "$top_srcdir/src/libc-macros.def" >"$WORK/listed"
if sh "$macros" -f "$WORK/function-like" $CC $compilers >"$WORK/platform" \
    2>"$WORK/platform.err"; then
    missing=$(LC_ALL=C comm -13 "$WORK/listed" "$WORK/platform")
    [ -z "$missing" ] ||
        fail "$(echo "$missing" | wc -l) macros of this platform are not in" \
            "src/libc-macros.def; run 'make update-libc-macros' and commit it:" $missing
    echo "cnames: $(wc -l <"$WORK/platform") macros of this platform, all in" \
        "src/libc-macros.def ($(wc -l <"$WORK/listed") names)"
else
    fail "src/libc-macros.sh failed: $(cat "$WORK/platform.err")"
    : >"$WORK/function-like"
fi

# ---- 2. every such name compiles as a value name ----
# The words of ops.def are the language's keywords and built-ins, which
# cannot name a value.
sed -n -E 's/^(LEAF|ELEM|ELEM_ARRAY|STRUCT)\([A-Z0-9_]*, *"([a-z_0-9]*)".*/\2/p' \
    "$top_srcdir/src/ops.def" |
    LC_ALL=C sort -u >"$WORK/builtins"
grep -o '"[A-Za-z0-9_]*"' "$top_srcdir/src/reserved-words.def" | tr -d '"' |
    cat - "$WORK/listed" "$WORK/function-like" | LC_ALL=C sort -u |
    LC_ALL=C comm -23 - "$WORK/builtins" >"$WORK/names"
# Each name in turn is an input, a value on the tape, a local and an
# output, so that it is a parameter, a tape member and a local variable.
awk 'BEGIN { print "input x" }
     { r = NR % 4 }
     r == 0 { print "input " $0 }
     r == 1 { print $0 " = exp(x + " NR ")" }
     r == 2 { print $0 " = x * " NR }
     r == 3 { print "output " $0 " = x + " NR }
     r != 3 { terms = terms " + " $0 }
     END { print "output y = x" terms }' "$WORK/names" >"$WORK/all.grad"
if "$GRADC" "$WORK/all.grad" -o "$WORK/all.c" 2>"$WORK/gradc.err"; then
    { sh "$macros" -i; printf '#include "all.h"\n'
      printf 'int main(void) { all_tape t; (void)t; return 0; }\n'; } >"$WORK/driver.c"
    # Syntax only: names break at parsing, and code generation for a
    # function of thousands of parameters takes seconds.
    for cc in $compilers; do
        for std in "-std=c99" "-std=gnu99" "-std=gnu99 -D_GNU_SOURCE"; do
            $cc $STRICT_CFLAGS $std -fsyntax-only "$WORK/driver.c" 2>"$WORK/cc.err" ||
                fail "driver, $cc $std: $(head -5 "$WORK/cc.err")"
        done
        for std in "-std=c99" "-std=gnu99"; do
            $cc $STRICT_CFLAGS $std -I"$top_srcdir/runtime" -fsyntax-only "$WORK/all.c" \
                2>"$WORK/cc.err" || fail "all.c, $cc $std: $(head -5 "$WORK/cc.err")"
        done
    done
    echo "cnames: $(wc -l <"$WORK/names") names in one model compiled with:$compilers"
else
    fail "gradc on the model of every name: $(head -5 "$WORK/gradc.err")"
fi

# ---- 3. the include guard ----
# m.h's guard is GRADC_M_H; n has a value of that name too, and one driver
# includes both headers.
mkdir -p "$WORK/guard"
printf 'input GRADC_M_H, x\noutput y = GRADC_M_H * x\n' >"$WORK/guard/m.grad"
printf 'input GRADC_M_H\noutput z = GRADC_M_H + 1\n' >"$WORK/guard/n.grad"
cat >"$WORK/guard/driver.c" <<'EOF'
#include <stdio.h>
#include "m.h"
#include "n.h"
int main(void)
{
    m_tape tm;
    n_tape tn;
    double y, z;
    m_forward(&tm, 3.0, 4.0, &y);
    n_forward(&tn, 5.0, &z);
    printf("%g %g\n", y, z);
    return 0;
}
EOF
if "$GRADC" "$WORK/guard/m.grad" -o "$WORK/guard/m.c" &&
    "$GRADC" "$WORK/guard/n.grad" -o "$WORK/guard/n.c"; then
    # A sanitizer build's runtime links with one compiler (see numeric.sh).
    link_compilers=$compilers
    [ -z "$SAN_CFLAGS" ] || link_compilers=$CC
    for cc in $link_compilers; do
        if build_with "$cc" "$WORK/guard/driver" -I"$WORK/guard" "$WORK/guard/driver.c" \
            "$WORK/guard/m.c" "$WORK/guard/n.c" 2>"$WORK/guard/cc.err"; then
            out=$("$WORK/guard/driver")
            [ "$out" = "12 6" ] || fail "guard, $cc: printed '$out', not '12 6'"
        else
            fail "guard, $cc: $(head -5 "$WORK/guard/cc.err")"
        fi
    done
    echo "cnames: values named GRADC_M_H beside m.h's include guard"
else
    fail "gradc on the guard models"
fi
finish
