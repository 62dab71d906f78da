#!/bin/sh
# deps.sh: install the Debian packages of the benchmark's peers when they
# are missing, as ./quickstart does for the build: PyTorch (python3-torch,
# with numpy) and ADOL-C (libadolc-dev); OpenBLAS (libopenblas0-pthread),
# without which Debian's PyTorch multiplies with the reference BLAS, 10x
# slower than the BLAS its users have, and bench/gemm has no OpenBLAS
# column; and GNU time, which measures gradc and the C compilers in make
# bench-scaling.  On a system without
# dpkg and apt-get it only says so; bench.py then reports those peers as
# n/a.
set -eu
packages="python3-torch libopenblas0-pthread libadolc-dev time"
if ! command -v dpkg >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "bench: no dpkg/apt-get here; install PyTorch and ADOL-C by hand for their columns" >&2
    exit 0
fi
missing=""
for p in $packages; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -n "$missing" ] || exit 0
echo "bench: installing$missing"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
