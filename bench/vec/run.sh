#!/bin/sh
# run.sh: build bench/vec/vecbench with each set of flags below, run each
# build RUNS times (default 3), taking turns, and print for each the
# fastest figure of any run.
#   bench/vec/run.sh [CC]      (default cc; run from anywhere)
# The runtime is compiled into the program with the same flags, so the
# -march=native build shows what a library built for this CPU would give;
# -DCPU_CLONES= leaves out the AVX2 clone of the array kernels
# (runtime/vecmath.c), as on a CPU without AVX2 or a system without ifuncs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$here/../..
cc=${1:-cc}
runs=${RUNS:-3}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "$($cc --version | sed 1q); $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')"
echo "fastest of $runs runs, each the fastest of 40 rounds"
set -- "-O2" "-O2 -DCPU_CLONES=" "-O2 -march=native"
b=0
for flags in "$@"; do
    b=$((b + 1))
    # shellcheck disable=SC2086 # the flags are words
    $cc -std=c99 $flags -I"$top/runtime" -o "$dir/bench$b" "$here/vecbench.c" \
        "$here/inline.c" "$top/runtime/gradrt.c" -lm
done
r=0
while [ $r -lt "$runs" ]; do
    r=$((r + 1))
    b=0
    for flags in "$@"; do
        b=$((b + 1))
        "$dir/bench$b" >>"$dir/out$b"
    done
done
b=0
for flags in "$@"; do
    b=$((b + 1))
    echo
    echo "== $cc $flags"
    # the case name is the first 48 columns, the figures the last two
    awk '/^CPU ns/ { if (!seen) print; seen = 1; next }
        {
            name = substr($0, 1, 48)
            if (!(name in small)) {
                order[++count] = name
                small[name] = $(NF - 1) + 0; large[name] = $NF + 0
            }
            if ($(NF - 1) < small[name]) small[name] = $(NF - 1)
            if ($NF < large[name]) large[name] = $NF
        }
        END {
            for (i = 1; i <= count; i++)
                printf "%s %10.2f %10.2f\n", order[i], small[order[i]], large[order[i]]
        }' "$dir/out$b"
done
