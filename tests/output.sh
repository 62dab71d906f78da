#!/bin/sh
# output.sh: the promises about output files (docs/gradc.1, OUTPUT FILES):
# all or nothing, even when the second rename fails; written through
# symbolic links; never the .c of one run with the .h of another; every
# write to standard output checked.  An error must exit 1 with its message
# and leave the directory exactly as it was (names, inodes, modes,
# contents): no changed file, no temporary, no backup.
#
# The command-line cases whose message is always the same are in
# errors.sh (cli-output-*).  Cases that need another user run as nobody
# when the suite runs as root, and are skipped (with a message) otherwise.
. "$top_srcdir/tests/lib.sh"

LC_ALL=C
export LC_ALL

printf 'input x\noutput y = 2 * x\n' >"$WORK/one.grad"
printf 'input a, b\nhidden = a * b\noutput z = sin(hidden) + a\n' >"$WORK/two.grad"
chmod a+rx "$WORK"
chmod a+r "$WORK/one.grad" "$WORK/two.grad"

# snapshot DIR: what an error must not change.
snapshot() {
    (cd "$1" && find . -printf '%p %i %m %u %l\n' | sort &&
        find . -type f -exec cksum {} + | sort)
}

# run ARGS...: gradc; status, stdout and stderr in $status, $WORK/out, $WORK/err.
run() {
    "$@" >"$WORK/out" 2>"$WORK/err"
    status=$?
}

# expect_error NAME DIR MESSAGE COMMAND...: COMMAND fails with MESSAGE on
# stderr and leaves DIR as it was.
expect_error() {
    name=$1 dir=$2 message=$3
    shift 3
    snapshot "$dir" >"$WORK/before"
    run "$@"
    [ "$status" -eq 1 ] || fail "$name: exit status $status, expected 1"
    grep -qxF "$message" "$WORK/err" ||
        fail "$name: expected '$message' on stderr, got: $(cat "$WORK/err")"
    snapshot "$dir" >"$WORK/after"
    if ! cmp -s "$WORK/before" "$WORK/after"; then
        fail "$name: the directory changed:"
        diff -u "$WORK/before" "$WORK/after" | sed 's/^/    /' >&2
    fi
    echo "$name: exit $status ($(head -1 "$WORK/err"))"
}

# only_files DIR NAME: no temporary or backup of gradc's is left in DIR.
only_files() {
    left=$(cd "$1" && ls -A | grep '^\.gradc-')
    [ -z "$left" ] || fail "$2: temporaries left behind in $1: $left"
}

# ---- names: a 255-byte name is valid, so it works (issue 9, item 6) ----
d="$WORK/long"
mkdir "$d"
name=$(printf '%253s' '' | tr ' ' n)
run "$GRADC" "$WORK/one.grad" -o "$d/$name.c"
[ "$status" -eq 0 ] || fail "255-byte name: exit status $status: $(cat "$WORK/err")"
[ -s "$d/$name.c" ] && [ -s "$d/$name.h" ] || fail "255-byte name: files missing"
grep -qF "#include \"$name.h\"" "$d/$name.c" 2>/dev/null ||
    fail "255-byte name: the .c does not include its header"
only_files "$d" "255-byte name"
echo "255-byte name: exit $status"

# ---- every write to standard output is checked (issue 9, item 8) ----
if [ -w /dev/full ]; then
    full="gradc: error: cannot write to standard output: No space left on device"
    for args in --help --version "--dump=ast $WORK/one.grad" \
                "--dump=graph $WORK/one.grad" "--dump=adjoint $WORK/one.grad"; do
        # shellcheck disable=SC2086
        "$GRADC" $args >/dev/full 2>"$WORK/err"
        status=$?
        [ "$status" -eq 1 ] && grep -qxF "$full" "$WORK/err" ||
            fail "gradc $args >/dev/full: exit $status: $(cat "$WORK/err")"
        echo "gradc $args >/dev/full: exit $status"
    done
    # A dump larger than the stream's buffer fails while it is written.
    awk 'BEGIN { print "input x"; print "v0 = x"
                 for (i = 1; i < 2000; i++) printf "v%d = v%d * %d\n", i, i - 1, i
                 print "output y = v1999" }' >"$WORK/wide.grad"
    "$GRADC" --dump=graph "$WORK/wide.grad" >/dev/full 2>"$WORK/err"
    status=$?
    [ "$status" -eq 1 ] && grep -qxF "$full" "$WORK/err" ||
        fail "large dump >/dev/full: exit $status: $(cat "$WORK/err")"
else
    echo "standard output: skipped (no /dev/full)"
fi

# ---- symbolic links are written through, like cc -o (issue 9, item 9) ----
d="$WORK/links"
mkdir -p "$d/real"
echo "old contents" >"$d/real/model.c"
ln -s real/model.c "$d/link.c"
ln -s real/new.c "$d/dangling.c"
run "$GRADC" "$WORK/one.grad" -o "$d/link.c"
[ "$status" -eq 0 ] || fail "symlink: exit status $status: $(cat "$WORK/err")"
[ -L "$d/link.c" ] || fail "symlink: link.c was replaced, not written through"
grep -q one_forward "$d/real/model.c" || fail "symlink: real/model.c was not written"
grep -q one_forward "$d/link.h" || fail "symlink: link.h was not written beside link.c"
run "$GRADC" "$WORK/one.grad" -o "$d/dangling.c"
[ "$status" -eq 0 ] && [ -L "$d/dangling.c" ] && grep -q one_forward "$d/real/new.c" ||
    fail "dangling symlink: the file it names was not created: $(cat "$WORK/err")"
only_files "$d" "symlink"
only_files "$d/real" "symlink"
echo "symbolic links: written through"

# ---- two runs writing the same files never mix them (issue 9, item 9) ----
# 100 rounds of four concurrent runs, two of each model.
d="$WORK/race"
mkdir "$d"
mixed=0
i=0
while [ $i -lt 100 ]; do
    # Half the rounds create the files, half replace them.
    [ $((i % 2)) -eq 0 ] && rm -f "$d/out.c" "$d/out.h"
    for model in one two one two; do
        "$GRADC" "$WORK/$model.grad" -o "$d/out.c" 2>>"$WORK/race.err" &
    done
    wait
    c=$(grep -o '[a-z]*_forward' "$d/out.c" | head -1)
    h=$(grep -o '[a-z]*_forward' "$d/out.h" | head -1)
    [ -n "$c" ] && [ "$c" = "$h" ] || mixed=$((mixed + 1))
    i=$((i + 1))
done
[ "$mixed" -eq 0 ] || fail "concurrent runs: $mixed of 100 rounds left a mixed .c and .h"
[ -s "$WORK/race.err" ] && fail "concurrent runs: errors: $(head -3 "$WORK/race.err")"
only_files "$d" "concurrent runs"
echo "concurrent runs: $mixed of 100 rounds mixed"

# ---- undoing a failed rename, by fault injection (issue 9, item 5) ----
# tests/output-fail.c makes chosen link() and rename() calls fail.
if $CC -shared -fPIC -o "$WORK/output-fail.so" "$top_srcdir/tests/output-fail.c" -ldl \
        2>"$WORK/shim.err"; then
    # The preloaded library comes before the sanitizer runtime.
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
    export ASAN_OPTIONS
    d="$WORK/undo"
    # fresh STATE: the destination directory, with no file, one or both.
    fresh() {
        rm -rf "$d"
        mkdir "$d"
        case $1 in
        c) echo "old a.c" >"$d/a.c" ;;
        h) echo "old a.h" >"$d/a.h" ;;
        both) echo "old a.c" >"$d/a.c"; echo "old a.h" >"$d/a.h" ;;
        esac
    }
    # undo STATE FAIL_LINK FAIL_RENAME DESCRIPTION: the rename onto
    # FAIL_RENAME fails; everything must be as it was.
    undo() {
        fresh "$1"
        # FAIL_LINK unset when "-", empty (every link) when "all"
        case $2 in
        -) link_env= ;;
        all) link_env="FAIL_LINK=" ;;
        *) link_env="FAIL_LINK=$2" ;;
        esac
        expect_error "undo: $4" "$d" \
            "gradc: error: cannot write '$d/$3': Input/output error" \
            env $link_env FAIL_RENAME="$3" LD_PRELOAD="$WORK/output-fail.so" \
            "$GRADC" "$WORK/one.grad" -o "$d/a.c"
    }
    undo none - a.c "the second rename fails, the first file was new"
    undo both - a.c "the second rename fails, the first file replaced"
    undo h - a.c "the .c is new, the .h replaced"
    # A file that cannot be linked is renamed last: the .h is renamed first
    # otherwise, and could not be put back.
    undo both a.h a.c "the .h cannot be linked"
    undo both a.c a.c "the .c cannot be linked"
    # Neither can be linked: the first is moved aside and moved back.
    undo both all a.c "neither can be linked, the first rename fails"
    undo both all a.h "neither can be linked, the second rename fails"
    # With no failure, files that cannot be linked are replaced all the same.
    fresh both
    run env FAIL_LINK= LD_PRELOAD="$WORK/output-fail.so" \
        "$GRADC" "$WORK/one.grad" -o "$d/a.c"
    [ "$status" -eq 0 ] && grep -q one_forward "$d/a.c" && grep -q one_forward "$d/a.h" ||
        fail "no links: the files were not replaced: $(cat "$WORK/err")"
    only_files "$d" "no links"
else
    echo "undo: skipped (cannot build a preload library: $(head -1 "$WORK/shim.err"))"
fi

# ---- what only another user sees ----
# as_user COMMAND...: COMMAND without root's privileges: as nobody when
# the suite runs as root.
nobody="setpriv --reuid=nobody --regid=nogroup --clear-groups"
if [ "$(id -u)" -ne 0 ]; then
    user=self
    as_user() { "$@"; }
elif $nobody "$GRADC" --version >/dev/null 2>&1; then
    user=nobody
    as_user() { $nobody "$@"; }
else
    user=
    echo "permissions: skipped (root, and setpriv cannot run gradc as nobody)"
fi

if [ -n "$user" ]; then
    # A read-only file is refused, as fopen(3) refuses it (issue 9, item 9).
    d="$WORK/readonly"
    mkdir "$d"
    chmod 777 "$d"
    echo "read-only" >"$d/ro.c"
    chmod 444 "$d/ro.c"
    expect_error "read-only file" "$d" \
        "gradc: error: cannot write '$d/ro.c': Permission denied" \
        as_user "$GRADC" "$WORK/one.grad" -o "$d/ro.c"
    # A directory gradc may not write in.
    d="$WORK/unwritable"
    mkdir "$d"
    chmod 555 "$d"
    expect_error "unwritable directory" "$d" \
        "gradc: error: cannot write '$d/x.h': Permission denied" \
        as_user "$GRADC" "$WORK/one.grad" -o "$d/x.c"
fi

if [ "$user" = nobody ]; then
    # root replaces a read-only file, as cc -o does.
    run "$GRADC" "$WORK/one.grad" -o "$WORK/readonly/ro.c"
    [ "$status" -eq 0 ] && grep -q one_forward "$WORK/readonly/ro.c" ||
        fail "read-only file as root: not replaced: $(cat "$WORK/err")"

    # A sticky directory: nobody may not replace root's files there, though
    # it may create its own (issue 9, item 5).
    d="$WORK/sticky"
    mkdir "$d"
    chmod 1777 "$d"
    echo "old a.c" >"$d/a.c"
    expect_error "sticky, a.c read-only" "$d" \
        "gradc: error: cannot write '$d/a.c': Permission denied" \
        as_user "$GRADC" "$WORK/one.grad" -o "$d/a.c"
    chmod 666 "$d/a.c"
    expect_error "sticky, a.c writable" "$d" \
        "gradc: error: cannot write '$d/a.c': Operation not permitted" \
        as_user "$GRADC" "$WORK/one.grad" -o "$d/a.c"
    # nobody's own a.h is replaced first, then put back.
    echo "old a.h" >"$d/a.h"
    chown nobody "$d/a.h"
    expect_error "sticky, a.h nobody's" "$d" \
        "gradc: error: cannot write '$d/a.c': Operation not permitted" \
        as_user "$GRADC" "$WORK/one.grad" -o "$d/a.c"
else
    echo "sticky directory: skipped (needs root, to make files of two users)"
fi

finish
