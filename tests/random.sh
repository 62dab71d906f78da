#!/bin/sh
# random.sh: random models (tests/randgen) through gradc, checked against
# gradcheck's forward-mode reference, with finite differences as a second
# opinion (tests/gradcheck.c).
#
# For each seed: randgen writes rSEED.grad, gradc compiles it (an error or a
# warning fails), gradcheck writes a driver whose entry point is
# check_rSEED (with the options of the model's '# gradcheck:' line, if it
# has one), and a batch of models is built into one program with a main
# that runs every entry.  Batches are built with $CC and $CLANG in turn, at
# -O0 and -O2 in turn (the generated code; the drivers at -O0), under the
# strict flags, and run in parallel.
#
# Environment:
#   RANDOM_COUNT   number of models (default 300)
#   RANDOM_SEED0   the first seed (default 1)
#   RANDOM_JOBS    batches built and run at once (default 2)
#   RANDOM_BATCH   models per batch program (default 50)
#   RANDOM_POINTS  random points per model (default 4)
#   RANDOM_KEEP    1: keep every batch's files (by default only failed ones)
#
# With 200 models or more it also checks that the models cover every
# operator, built-in, form of '@', broadcast direction, fork pattern and
# kind of name (see coverage below), from gradc's own dumps of them.
#
# A third of the models are compiled with --stack-limit=0 (every local
# array in the tape's work area) and functions split into parts of about 4
# operations, and a third with --stack-limit=512 (small arrays on the
# stack, the rest in the work area) and parts of about 25; see
# gradc_options.
#
# Every tenth model is also checked in single precision, as fSEED (gradc
# and gradcheck --type=float; see float_copy).
#
# A failure prints the seed, the model and the command that reproduces it.
. "$top_srcdir/tests/lib.sh"

COUNT=${RANDOM_COUNT:-300}
SEED0=${RANDOM_SEED0:-1}
JOBS=${RANDOM_JOBS:-2}
BATCH=${RANDOM_BATCH:-50}
POINTS=${RANDOM_POINTS:-4}
KEEP=${RANDOM_KEEP:-0}
: "${RANDGEN:=$top_builddir/tests/randgen}"
start=$(date +%s)

compilers=$CC
if [ -n "${CLANG:-}" ] && [ "$CLANG" != "$CC" ]; then
    compilers="$compilers $CLANG"
fi
ncompilers=$(echo $compilers | wc -w)
build_checkdrv $compilers
build_runtime $compilers
coverage=no
[ "$COUNT" -ge 200 ] && coverage=yes

# categorize rN.graph... rN.ast...: what gradc's dumps of a batch of models
# (--dump=graph, --dump=ast) contain, one category per line: per node, per
# name, or per model.
categorize() {
    awk '
    function shape_of(line,   s) {
        if (match(line, /\[[0-9, ]+\]/)) {
            s = substr(line, RSTART + 1, RLENGTH - 2)
            gsub(/ /, "", s)
            return s
        }
        return ""
    }
    function rank(s) { return s == "" ? 0 : split(s, _d, ",") }
    function dim(s, i) { split(s, _d, ","); return _d[i] + 0 }
    function last(s,   n) { n = split(s, _d, ","); return n ? _d[n] + 0 : 1 }
    function note(c) { print c }
    # what is known of a whole model, when the next file starts
    function model_done(   n, k) {
        for (n in uses) if (uses[n] >= 4) note("a value read 4 times or more")
        k = 0
        for (n in outshape) k++
        if (outputs >= 2 && k >= 2) note("outputs of different shapes")
        if (outputs == 1 && ("scalar" in outshape)) note("exactly one scalar output")
        delete uses; delete outshape; delete sh; delete constant
        outputs = 0
    }
    FNR == 1 && graph { model_done() }
    FNR == 1 { graph = FILENAME ~ /\.graph$/ }
    graph {
        id = $1; op = $3
        sh[id] = shape_of($0)
        if (sh[id] ~ /(^|,)1(,|$)/) note("shape with a size-1 dimension")
        nops = 0; axis = ""
        for (f = 4; f <= NF; f++) {
            if ($f ~ /^n[0-9]+$/) { opnd[++nops] = $f; uses[$f]++ }
            else if ($f ~ /^axis=/) axis = substr($f, 6)
        }
        if ($0 ~ / output( |$)/) {
            outputs++
            outshape[sh[id] == "" ? "scalar" : sh[id]] = 1
            note(rank(sh[id]) == 0 ? "scalar output" : rank(sh[id]) == 1 ? "vector output" : "matrix output")
        }
        if (op == "constant") constant[id] = 1
        if (op == "input" || op == "data" || op == "constant") next
        if (nops == 2 && opnd[1] == opnd[2]) note("the same operand twice (x * x)")
        if (op == "-" && nops == 1) { note("op unary -"); next }
        if (op ~ /^\^/ && nops == 1) { note("op ^ (x^2)"); next }
        if (op == "sum" || op == "mean") {
            note("op " op (axis == "" ? " of everything" : " along axis " axis)); next
        }
        if (op == "@") {
            a = rank(sh[opnd[1]]); b = rank(sh[opnd[2]])
            note("op @ " (a == 2 ? "[m,k]" : "[k]") " @ " (b == 2 ? "[k,n]" : "[k]")); next
        }
        if (op == "softmax" || op == "log_softmax" || op == "logsumexp") {
            note("op " op " of a " (rank(sh[opnd[1]]) == 2 ? "matrix" : "vector")); next
        }
        if (op == "conv1d") {
            k = dim(sh[opnd[2]], 1); n = dim(sh[opnd[1]], 1)
            note("op conv1d, kernel " k); if (k > n) note("op conv1d, kernel longer than the signal")
            next
        }
        note("op " op)
        if (nops == 2 && (op ~ /^[-+*\/^]$/ || op == "max" || op == "min")) {
            r = sh[id]; stretched = 0
            if (op == "^") note("op ^ with a " (opnd[2] in constant ? "constant" : "variable") " exponent")
            for (i = 1; i <= 2; i++) {
                s = sh[opnd[i]]
                if (s == r) continue
                if (s == "") { note("broadcast: scalar to a tensor"); continue }
                stretched++
                if (rank(r) == 1) note("broadcast: [1] to [n]")
                else if (rank(s) == 1) note(last(s) == 1 ? "broadcast: [1] to [m,n]" : "broadcast: [n] to [m,n]")
                else if (dim(s, 1) == 1 && dim(s, 2) == 1) note("broadcast: [1,1] to [m,n]")
                else if (dim(s, 1) == 1) note("broadcast: [1,n] to [m,n]")
                else note("broadcast: [m,1] to [m,n]")
            }
            if (stretched == 2) note("broadcast: both operands stretched")
        }
        next
    }
    # the ast dump: the names
    {
        line = $0
        sub(/^(input|data|output) /, "", line)
        name = line
        sub(/[ \[=].*/, "", name)
        if (name ~ /^(int|double|float|char|void|long|short|signed|unsigned|const|volatile|restrict|static|extern|auto|register|inline|struct|union|enum|typedef|sizeof|return|if|else|for|while|do|switch|case|default|break|continue|goto|_Bool|_Complex|_Imaginary)$/)
            note("name: a C keyword")
        if (name ~ /^(bool|true|false|class|new|delete|this|template|typename|namespace|operator|private|public|virtual|nullptr|and|or|not|xor|bitand|compl|throw|try|catch)$/)
            note("name: a C++ keyword")
        if (name ~ /^(tape|seed|acc|i|j|k|int|double|_x)$/) note("name: " name)
        if (name ~ /^seed_/) note("name: seed_*")
        if (name ~ /^grad_/) note("name: grad_*")
        if (name ~ /^d_/) note("name: d_*")
        if (name ~ /^t[0-9]+$/) note("name: t1, t2, ...")
        if (name ~ /^_/) note("name: a leading underscore")
        if (name ~ /__/) note("name: a double underscore")
        if (name ~ /^(gradrt|GRADRT)_/) note("name: gradrt_*")
        if (name ~ /_(forward|backward|grad|tape)$/ && name ~ /^r[0-9]+_/) note("name: MODEL_forward, ...")
    }
    END { if (graph) model_done() }' "$@"
}

# build_batch CC OPT: the models in ./entries into one program, with a main
# that runs every entry in turn, announced first, so that a crash names its
# model.  The generated code is one translation unit compiled at OPT; the
# drivers another, at -O0 (gcc and clang start in more time, for each file,
# than they take to compile one of these), linked with the checks they
# share and the runtime, each compiled once (build_checkdrv, build_runtime).
build_batch() {
    # The float copies in a translation unit of their own: a name randgen
    # made to collide with rSEED's C names (rSEED_tape) is legitimately a
    # value of fSEED, and would shadow rSEED's beside it.
    grep '^r' entries | while read -r m; do echo "#include \"$m.c\""; done >models.c
    grep '^f' entries | while read -r m; do echo "#include \"$m.c\""; done >models-float.c
    # (ISO C has no empty translation unit)
    [ -s models-float.c ] || echo "typedef int no_float_models;" >models-float.c
    {
        echo "#include <stdio.h>"
        while read -r m; do echo "#include \"$m.check.c\""; done <entries
        echo
        echo "int main(void);"
        echo
        echo "int main(void)"
        echo "{"
        echo "    int bad = 0;"
        while read -r m; do
            # (printf: dash's echo would turn the \n into a newline)
            printf '    printf("begin %s\\n");\n' "$m"
            printf '    fflush(stdout);\n'
            printf '    if (check_%s()) {\n' "$m"
            printf '        printf("FAIL %s\\n");\n' "$m"
            printf '        bad = 1;\n'
            printf '    }\n'
        done <entries
        echo "    return bad;"
        echo "}"
    } >drivers.c
    # shellcheck disable=SC2086 # words
    $1 $STRICT_CFLAGS $SAN_CFLAGS $2 -I"$top_srcdir/runtime" -c -o models.o models.c \
        2>cc.err &&
        $1 $STRICT_CFLAGS $SAN_CFLAGS $2 -I"$top_srcdir/runtime" -c -o models-float.o \
            models-float.c 2>>cc.err &&
        $1 $STRICT_CFLAGS $SAN_CFLAGS -O0 -I"$top_srcdir/runtime" -I"$top_srcdir/tests" \
            -c -o drivers.o drivers.c 2>>cc.err &&
        $1 $SAN_CFLAGS -o batch models.o models-float.o drivers.o \
            "$WORK/checkdrv-$(basename "$1").o" \
            "$WORK/gradrt-$(basename "$1").a" -lm 2>>cc.err
}

# compile_alone CC OPT M: the model and its driver, each on its own.
compile_alone() {
    # shellcheck disable=SC2086 # words
    $1 $STRICT_CFLAGS $SAN_CFLAGS $2 -I"$top_srcdir/runtime" -c -o "$3.o" "$3.c" \
        2>"$3.err" &&
        $1 $STRICT_CFLAGS $SAN_CFLAGS $2 -I"$top_srcdir/runtime" -I"$top_srcdir/tests" \
            -c -o "$3.check.o" "$3.check.c" 2>>"$3.err"
}

# gradc_options SEED: the options model rSEED is compiled with.
gradc_options() {
    case $(($1 % 3)) in
    1) echo --stack-limit=0 --function-size=4 ;;
    2) echo --stack-limit=512 --function-size=25 ;;
    esac
}

# float_copy SEED: model rSEED again as fSEED (its C names then differ),
# compiled with gradc --type=float and checked at float's tolerances;
# appended to the entries, or a line to failed.
float_copy() {
    f=f$1
    # Not a model with a number beyond 2^24, where float's spacing is more
    # than 1 (randgen's 1e16 and 1e300): x + 1e16 keeps nothing of x in
    # float, and no error bound to first order follows that.
    if awk '{ while (match($0, /[0-9]+[.]?[0-9]*([eE][-+]?[0-9]+)?/)) {
                  if (substr($0, RSTART, RLENGTH) + 0 > 16777216) big = 1
                  $0 = substr($0, RSTART + RLENGTH) } }
            END { exit !big }' "r$1.grad"; then
        return
    fi
    cp "r$1.grad" "$f.grad"
    # shellcheck disable=SC2046 # the options are words
    if ! "$GRADC" --type=float $(gradc_options "$1") "$f.grad" -o "$f.c" 2>"$f.err"; then
        echo "$1 gradc --type=float failed" >>failed
        return
    fi
    # shellcheck disable=SC2086 # the options are words
    if ! "$GRADCHECK" --type=float --points "$POINTS" --seed "$1" $opts --entry "check_$f" \
        --header "$f.h" -o "$f.check.c" "$f.grad" 2>"$f.err"; then
        echo "$1 gradcheck --type=float failed" >>failed
        return
    fi
    echo "$f" >>entries
}

# run_batch B FIRST COUNT: models FIRST .. FIRST+COUNT-1 in $WORK/bB.
# Leaves $dir/done, with a line per problem in $dir/failed.
run_batch() {
    b=$1 first=$2 n=$3
    dir="$WORK/b$b"
    mkdir -p "$dir"
    (
        cd "$dir" || exit 1
        : >failed
        : >entries
        if ! "$RANDGEN" --dir . "$first" "$n" 2>randgen.err; then
            echo "$first randgen failed: $(cat randgen.err)" >>failed
            exit 0
        fi
        s=$first
        while [ "$s" -lt $((first + n)) ]; do
            m=r$s
            s=$((s + 1))
            # shellcheck disable=SC2046 # the options are words
            if ! "$GRADC" $(gradc_options "${m#r}") "$m.grad" -o "$m.c" 2>"$m.err"; then
                echo "${m#r} gradc failed" >>failed
                continue
            fi
            if [ -s "$m.err" ]; then
                echo "${m#r} gradc warned" >>failed
                continue
            fi
            if [ $coverage = yes ]; then
                "$GRADC" --dump=graph "$m.grad" >"$m.graph" 2>>"$m.err"
                "$GRADC" --dump=ast "$m.grad" >"$m.ast" 2>>"$m.err"
            fi
            # options the model asks for in a '# gradcheck:' line (randgen's
            # large models: --no-fd)
            opts=$(sed -n 's/^# gradcheck: //p' "$m.grad" | tr -d '\r')
            # shellcheck disable=SC2086 # the options are words
            if ! "$GRADCHECK" --points "$POINTS" --seed "${m#r}" $opts --entry "check_$m" \
                --header "$m.h" -o "$m.check.c" "$m.grad" 2>"$m.err"; then
                echo "${m#r} gradcheck failed" >>failed
                continue
            fi
            echo "$m" >>entries
            [ $((${m#r} % 10)) -ne 0 ] || float_copy "${m#r}"
        done
        [ $coverage = yes ] && categorize r*.graph r*.ast | sort | uniq -c >coverage

        set -- $compilers
        shift $((b % ncompilers))
        cc=$1
        opt=-O0
        [ $((b / ncompilers % 2)) -eq 1 ] && opt=-O2
        echo "$cc $opt" >compiler
        if ! build_batch "$cc" "$opt"; then
            # which models?  Compile each alone, and the batch without them.
            while read -r m; do
                if ! compile_alone "$cc" "$opt" "$m"; then
                    echo "${m#[rf]} did not compile with $cc $opt ($m)" >>failed
                    grep -v "^$m\$" entries >entries.new
                    mv entries.new entries
                fi
            done <entries
            if ! build_batch "$cc" "$opt"; then
                echo "$first the batch program did not build, though each model compiles alone: $(grep -m 1 error cc.err)" >>failed
                exit 0
            fi
        fi
        ./batch >out 2>err
        status=$?
        # the models that failed, and one that crashed the program
        sed -n 's/^FAIL r//p' out | while read -r s; do
            echo "$s mismatch" >>failed
        done
        sed -n 's/^FAIL f//p' out | while read -r s; do
            echo "$s mismatch of the float code (f$s, --type=float)" >>failed
        done
        m=$(sed -n 's/^begin //p' out | tail -1)
        if [ -n "$m" ] && ! grep -q "^$m\.grad: \|^FAIL $m\$" out; then
            echo "${m#[rf]} crashed the batch program (status $status) in $m; the models after it did not run" >>failed
        elif [ $status -ne 0 ] && ! grep -q '^FAIL ' out; then
            echo "$first the batch program failed (status $status)" >>failed
        fi
        grep -v '^begin \|^FAIL ' out >summaries
        exit 0
    )
    if [ ! -s "$dir/failed" ] && [ "$KEEP" != 1 ]; then
        # keep the figures, drop the rest
        find "$dir" -type f ! -name summaries ! -name coverage ! -name failed \
            ! -name compiler -exec rm -f {} +
    fi
    : >"$dir/done"
}

# worker W: batches W, W+JOBS, ...
nbatches=$(((COUNT + BATCH - 1) / BATCH))
worker() {
    b=$1
    while [ "$b" -lt "$nbatches" ]; do
        first=$((SEED0 + b * BATCH))
        n=$BATCH
        [ $((b * BATCH + n)) -gt "$COUNT" ] && n=$((COUNT - b * BATCH))
        run_batch "$b" "$first" "$n"
        b=$((b + JOBS))
    done
}

w=0
while [ $w -lt "$JOBS" ]; do
    worker $w &
    w=$((w + 1))
done
wait

# ---- the report ----
reported=0
b=0
while [ $b -lt "$nbatches" ]; do
    dir="$WORK/b$b"
    if [ ! -f "$dir/done" ]; then
        fail "batch $b did not finish"
    fi
    while read -r seed why; do
        reported=$((reported + 1))
        if [ $reported -gt 5 ]; then
            fail "seed $seed: $why (details in $dir)"
            continue
        fi
        m=r$seed
        msg="random model $m (seed $seed): $why, built with $(cat "$dir/compiler" 2>/dev/null)
--- $m.grad ---
$(cat "$dir/$m.grad")
---"
        [ -s "$dir/$m.err" ] && msg="$msg
$(head -30 "$dir/$m.err")"
        [ -s "$dir/err" ] && grep -q "$m.grad" "$dir/err" &&
            msg="$msg
$(grep -A 3 "$m.grad" "$dir/err" | head -30)"
        opts=$(sed -n 's/^# gradcheck: \(.*\)/\1 /p' "$dir/$m.grad" | tr -d '\r')
        msg="$msg
reproduce: RANDOM_SEED0=$seed RANDOM_COUNT=1 make check TESTS=tests/random.sh
       or: tests/randgen $seed >$m.grad && ./gradc $(gradc_options "$seed") $m.grad &&
           tests/gradcheck --seed $seed --points $POINTS $opts$m.grad >check.c &&
           cc -Iruntime -Itests check.c tests/checkdrv.c $m.c runtime/*.c -lm &&
           ./a.out
files: $dir"
        fail "$msg"
    done <"$dir/failed"
    b=$((b + 1))
done

# one summary line per model checked:
#   r7.grad: 4 points, 40 gradient elements and 24 output elements checked,
#   worst relative error 1.1e-16, finite differences 3.9e-10 (2 near a kink skipped)
cat "$WORK"/b*/summaries 2>/dev/null | awk -v count="$COUNT" -v seed0="$SEED0" \
    -v secs=$(($(date +%s) - start)) '
{
    if ($1 ~ /^f/) floats++; else programs++
    grads += $4; outs += $8
    for (i = 1; i <= NF; i++) {
        if ($i == "error") { e = $(i + 1); sub(/,$/, "", e); if (e + 0 > worst) worst = e + 0 }
        if ($i == "differences") { d = $(i + 1); sub(/,$/, "", d); if (d + 0 > fd) fd = d + 0 }
        if ($i == "near" && $(i - 1) ~ /^\(/) { k = $(i - 1); sub(/\(/, "", k); skipped += k }
    }
}
END {
    printf "random: %d of %d programs (seeds %d..%d) checked: %d gradient and %d output elements, ", \
        programs, count, seed0, seed0 + count - 1, grads, outs
    printf "worst relative error %.2g against forward mode; finite differences %.2g ", worst, fd
    printf "(%d elements near a kink skipped); %d of them again as float code; %d s\n", \
        skipped, floats, secs
}'

if [ $coverage = yes ]; then
    cat "$WORK"/b*/coverage 2>/dev/null |
        awk '{ n = $1; $1 = ""; sub(/^ /, ""); c[$0] += n } END { for (k in c) print c[k] "\t" k }' |
        sort -t "$(printf '\t')" -k 2 >"$WORK/coverage"
    missing=""
    for want in "op +" "op -" "op *" "op /" "op ^" "op unary -" "op ^ (x^2)" \
        "op ^ with a constant exponent" "op ^ with a variable exponent" \
        "op exp" "op log" "op sqrt" "op sin" "op cos" "op tanh" "op sigmoid" \
        "op relu" "op abs" "op softplus" "op max" "op min" \
        "op sum of everything" "op sum along axis 0" "op sum along axis 1" \
        "op mean of everything" "op mean along axis 0" "op mean along axis 1" \
        "op softmax of a vector" "op softmax of a matrix" \
        "op log_softmax of a vector" "op log_softmax of a matrix" \
        "op logsumexp of a vector" "op logsumexp of a matrix" \
        "op transpose" "op outer" \
        "op @ [m,k] @ [k,n]" "op @ [m,k] @ [k]" "op @ [k] @ [k,n]" "op @ [k] @ [k]" \
        "op conv1d, kernel 1" "op conv1d, kernel 3" "op conv1d, kernel 5" \
        "op conv1d, kernel longer than the signal" \
        "broadcast: scalar to a tensor" "broadcast: [1] to [n]" \
        "broadcast: [n] to [m,n]" "broadcast: [1] to [m,n]" \
        "broadcast: [m,1] to [m,n]" "broadcast: [1,n] to [m,n]" \
        "broadcast: [1,1] to [m,n]" "broadcast: both operands stretched" \
        "shape with a size-1 dimension" "the same operand twice (x * x)" \
        "a value read 4 times or more" "outputs of different shapes" \
        "exactly one scalar output" "scalar output" "vector output" "matrix output" \
        "name: a C keyword" "name: a C++ keyword" "name: tape" "name: seed" \
        "name: seed_*" "name: grad_*" "name: d_*" "name: t1, t2, ..." "name: acc" \
        "name: i" "name: j" "name: k" "name: int" "name: double" "name: _x" \
        "name: a leading underscore" "name: a double underscore" "name: gradrt_*" \
        "name: MODEL_forward, ..."; do
        cut -f 2 "$WORK/coverage" | grep -qxF -e "$want" || missing="$missing
  $want"
    done
    echo "coverage over the $COUNT models (count, what):"
    sed 's/^/  /' "$WORK/coverage"
    if [ -n "$missing" ]; then
        fail "the random models never contain:$missing"
    else
        echo "coverage: every operator, built-in, '@' form, broadcast direction, fork pattern and kind of name appears"
    fi
fi
finish
