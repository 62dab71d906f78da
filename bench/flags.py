#!/usr/bin/env python3
"""flags.py: what the C compiler's flags and gradc's options cost the
generated code; `make bench-flags` runs it.

Builds each model of the benchmark suite (bench.py's models) once per
variant, times its gradient with the suite's harness (the minimum of its
rounds of process CPU time) and the C compiler's CPU time on the generated
file, and prints a Markdown table, which docs/api.md quotes.  The variants:
the C flags a user is likely to try, and gradc's --stack-limit and
--function-size at the suite's flags.
"""
import argparse
import os
import resource
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

# (label, C flags, gradc options)
VARIANTS = (
    ("-O2", "-O2", []),
    ("-O2 -march=native", "-O2 -march=native", []),
    ("-O3 -march=native", "-O3 -march=native", []),
    ("-O1", "-O1", []),
    ("--stack-limit=0", "-O2 -march=native", ["--stack-limit=0"]),
    ("--function-size=50", "-O2 -march=native", ["--function-size=50"]),
)
MODELS = ("kamper", "chain", "mlp1", "mlp64", "mlp1024", "conv1d", "deep")


def cpu_of_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--srcdir", default=".")
    ap.add_argument("--gradc", default="./gradc")
    ap.add_argument("--libdir", default="runtime/.libs")
    ap.add_argument("--cc", default="gcc")
    ap.add_argument("--out", default="bench/out/flags")
    ap.add_argument("--budget", type=float, default=0.3)
    args = ap.parse_args()
    suite = bench.Bench(argparse.Namespace(
        srcdir=args.srcdir, out=args.out, gradc=args.gradc, libdir=args.libdir,
        cc=args.cc, only=""))
    src = suite.path
    inc = ["-I" + src("bench"), "-I" + src("runtime")]
    runtime = ["-L" + suite.libdir, "-Wl,-rpath," + suite.libdir, "-lgradrt", "-lm",
               "-pthread"]
    os.makedirs(suite.out, exist_ok=True)
    harness = os.path.join(suite.out, "harness.o")
    suite.cc(*inc, "-c", src("bench", "harness.c"), "-o", harness)
    cc = shlex.split(args.cc)
    times = {}
    for name, cname, text, source, flags in suite.all_models():
        if name not in MODELS:
            continue
        for label, cflags, options in VARIANTS:
            d = os.path.join(suite.out, name, str(VARIANTS.index((label, cflags, options))))
            os.makedirs(d, exist_ok=True)
            grad = os.path.join(d, cname + ".grad")
            with open(grad, "w") as f:
                f.write(text)
            bench.log("%s: %s" % (name, label))
            model_c = os.path.join(d, cname + ".c")
            suite.run([suite.gradc, *options, grad, "-o", model_c])
            before = cpu_of_children()
            suite.run(cc + shlex.split(cflags) + inc + ["-c", model_c, "-o",
                                                        os.path.join(d, "model.o")])
            compile_cpu = cpu_of_children() - before
            exe = os.path.join(d, "bench")
            suite.run(cc + shlex.split(cflags) + inc + ["-I" + d] + flags +
                      [src("bench", source), os.path.join(d, "model.o"), harness,
                       "-o", exe] + runtime)
            got = {}
            # One thread: the figures are CPU time, as in bench.py's tables.
            r = subprocess.run([exe, "--budget", str(args.budget)],
                               stdout=subprocess.PIPE, universal_newlines=True,
                               env=dict(os.environ, OMP_NUM_THREADS="1"))
            bench.Bench.parse(r.stdout, got)
            times[name, label] = (got["gradc_gradient"]["min"], compile_cpu)
    labels = [v[0] for v in VARIANTS]
    print("| model | " + " | ".join("`%s`" % l for l in labels) + " |")
    print("|---|" + "---|" * len(labels))
    for name in MODELS:
        base = times[name, "-O2 -march=native"][0]
        cells = []
        for l in labels:
            t, c = times[name, l]
            cells.append("%s (%.2f), %.1f s" % (bench.fmt_time(t), t / base, c))
        print("| %s | %s |" % (name, " | ".join(cells)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
