#!/usr/bin/env python3
"""bench.py: gradc's benchmark suite (issue 11); `make bench` runs it.

Builds every model of bench/ with gradc and the C compiler, its
hand-written C twin and the peers (PyTorch, ADOL-C, finite differences),
runs them, prints the tables and writes bench/RESULTS.md and
bench/results.svg.  With --scaling it also measures gradc and the C
compilers on long chains and a deep residual net (bench/scaling.svg).
bench/README.md says what each column means.
"""
import argparse
import datetime
import math
import os
import platform
import resource
import shlex
import subprocess
import sys

# The sizes of issue 11.
CHAIN_N = 3000
MLP_BATCHES = (1, 64, 1024)
SCALING_CHAINS = (10**3, 10**4, 10**5, 10**6)
COMPILE_CHAINS = (10**3, 10**4, 10**5)
RESNET_LAYERS = 1000
CFLAGS = "-O2 -march=native"
# The threaded build of each model adds this (GCC and clang).
OPENMP_FLAG = "-fopenmp"
# Runs of each wall-clock measurement on threads, the best kept.
THREAD_REPEATS = 5
COMPILE_FLAGS = "-O2"
# A compiler that runs longer than this (CPU seconds) is stopped and
# reported as over the limit; one that needs more memory than this fails.
COMPILE_LIMIT = 300
COMPILE_MEMORY = 16 << 30
TIME = "/usr/bin/time"
# Models also built from gradc --type=float code (bench/mlp.c with
# MLP_FLOAT), against the double hand-written C; no peers.
FLOAT_MODELS = ("mlp1024f",)
# ADOL-C's tape of mlp1024 and deep would hold 10^8 to 10^9 operations.
ADOLC_MODELS = ("kamper", "chain", "mlp1", "mlp64", "lstsq", "conv1d")
# Big enough buffers that ADOL-C keeps its tapes in memory.
ADOLCRC = "".join('"%s" "%d"\n' % (k, 1 << 26)
                  for k in ("OBUFSIZE", "LBUFSIZE", "VBUFSIZE", "TBUFSIZE"))
PEERS = (("hand", "hand C"), ("torch1", "PyTorch 1 thread"),
         ("torchN", "PyTorch default threads"), ("adolc_tape", "ADOL-C tape+reverse"),
         ("adolc_reverse", "ADOL-C reverse"), ("fd", "central FD"))


# The 1-minute load average at every step, for RESULTS.md.
load_samples = []


def log(msg):
    load_samples.append(os.getloadavg()[0])
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


class Bench:
    def __init__(self, args):
        self.args = args
        self.src = os.path.abspath(args.srcdir)
        self.out = os.path.abspath(args.out)
        self.gradc = os.path.abspath(args.gradc)
        self.libdir = os.path.abspath(args.libdir)
        self.failures = []

    def path(self, *parts):
        return os.path.join(self.src, *parts)

    def run(self, cmd, **kw):
        """Run cmd (a list), failing the bench if it fails."""
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, **kw)
        if r.returncode != 0:
            sys.stderr.write(r.stderr)
            raise SystemExit("bench: failed: %s" % " ".join(map(shlex.quote, cmd)))
        return r.stdout

    def cc(self, *args):
        self.run(shlex.split(self.args.cc) + shlex.split(CFLAGS) + list(args))

    # ---- the models ------------------------------------------------------

    def models(self):
        """(name, C model name, .grad text, bench/ source, extra flags); a
        name in FLOAT_MODELS is compiled with gradc --type=float"""
        for model in self.all_models():
            if not self.args.only or model[0] in self.args.only.split(","):
                yield model

    def all_models(self):
        read = lambda *p: open(self.path(*p)).read()
        template = read("bench", "mlp.grad.in")
        yield "kamper", "kamper", read("examples", "kamper.grad"), "kamper.c", []
        yield "chain", "chain", self.gen("chain", CHAIN_N), "chain.c", \
            ["-DCHAIN_N=%d" % CHAIN_N]
        for b in MLP_BATCHES:
            yield "mlp%d" % b, "mlp", template.replace("@B@", str(b)), "mlp.c", \
                ["-DBATCH=%d" % b]
        yield "mlp1024f", "mlp", template.replace("@B@", "1024"), "mlp.c", \
            ["-DBATCH=1024", "-DMLP_FLOAT"]
        for name in ("lstsq", "conv1d", "deep"):
            yield name, name, read("bench", name + ".grad"), name + ".c", []

    def build(self):
        os.makedirs(self.out, exist_ok=True)
        common = os.path.join(self.out, "common")
        os.makedirs(common, exist_ok=True)
        inc = ["-I" + self.path("bench"), "-I" + self.path("runtime")]
        log("building the harness (%s %s)" % (self.args.cc, CFLAGS))
        harness = os.path.join(common, "harness.o")
        self.cc(*inc, "-c", self.path("bench", "harness.c"), "-o", harness)
        # The runtime as it is installed: the library built here, whose
        # matrix product and array kernels pick their code for the CPU.
        runtime = ["-L" + self.libdir, "-Wl,-rpath," + self.libdir, "-lgradrt"]
        self.programs = []
        for name, cname, text, source, flags in self.models():
            d = os.path.join(self.out, name)
            os.makedirs(d, exist_ok=True)
            grad = os.path.join(d, cname + ".grad")
            with open(grad, "w") as f:
                f.write(text)
            log("%s: gradc, then %s %s" % (name, self.args.cc, CFLAGS))
            typed = ["--type=float"] if name in FLOAT_MODELS else []
            self.run([self.gradc] + typed + [grad, "-o", os.path.join(d, cname + ".c")])
            exe = os.path.join(d, "bench")
            self.cc(*inc, "-I" + d, *flags, self.path("bench", source),
                    os.path.join(d, cname + ".c"), harness, "-o", exe, *runtime, "-lm",
                    "-pthread")
            # The same with OpenMP: the generated loops on threads too.
            self.cc(*inc, "-I" + d, *flags, OPENMP_FLAG, self.path("bench", source),
                    os.path.join(d, cname + ".c"), harness, "-o", exe + "-omp",
                    *runtime, "-lm", "-pthread")
            self.programs.append((name, d, exe))
        log("building fmapeak and adolc_peer")
        self.fmapeak = os.path.join(common, "fmapeak")
        self.cc(self.path("bench", "fmapeak.c"), "-o", self.fmapeak, "-lm")
        self.adolc = os.path.join(common, "adolc_peer")
        try:
            self.run(shlex.split(self.args.cxx) + shlex.split(CFLAGS) +
                     [self.path("bench", "adolc_peer.cc"), "-o", self.adolc, "-ladolc"])
        except SystemExit as e:
            log("no ADOL-C: %s" % e)
            self.adolc = None
        self.adolc_dir = os.path.join(self.out, "adolc")
        os.makedirs(self.adolc_dir, exist_ok=True)
        with open(os.path.join(self.adolc_dir, ".adolcrc"), "w") as f:
            f.write(ADOLCRC)

    # ---- running ---------------------------------------------------------

    @staticmethod
    def parse(text, into):
        """Fold the harness's lines into a dict: time and check entries."""
        for line in text.splitlines():
            w = line.split()
            if not w:
                continue
            if w[0] == "model":
                into.update(n_input=int(w[2]), n_data=int(w[3]),
                            flops_forward=float(w[4]), flops_gradient=float(w[5]))
            elif w[0] == "time":
                t = dict(min=float(w[2]), median=float(w[3]), spread=float(w[4]),
                         rounds=int(w[5]), reps=int(w[6]))
                if len(w) > 7 and w[7] == "sample" and w[8] != w[9]:
                    t["sample"] = (int(w[8]), int(w[9]))
                into[w[1]] = t
            elif w[0] == "check":
                into["check_" + w[1]] = (float(w[2]), w[3])

    def measure(self, name, d, exe, results):
        log("%s: timing gradc, the hand-written C and finite differences" % name)
        # The runtime is built with OpenMP: one thread, for CPU time.
        r = subprocess.run([exe, "--budget", str(self.args.budget), "--dump", d],
                           stdout=subprocess.PIPE, universal_newlines=True,
                           env=dict(os.environ, OMP_NUM_THREADS="1"))
        self.parse(r.stdout, results)
        if r.returncode != 0:
            self.failures.append("%s: the hand-written gradient differs from gradc's"
                                 % name)
        results["fd"] = results.get("fd_gradient")
        results["hand"] = results.get("hand_gradient")
        torch = self.args.torch and name not in FLOAT_MODELS
        if torch:
            log("%s: PyTorch, 1 thread" % name)
            results["torch1"], results["check_torch1"] = self.torch(name, d, 1)
        # On threads, by the wall clock, which a moment of other load
        # lengthens far more than it does CPU time: the best of
        # THREAD_REPEATS runs, gradc's and PyTorch's taking turns so that
        # both see the same machine.
        best = lambda a, b: b if a is None or (b and b["min"] < a["min"]) else a
        for _ in range(THREAD_REPEATS):
            log("%s: gradc built with %s, %d threads" % (name, OPENMP_FLAG, self.threads))
            got = {}
            r = subprocess.run([exe + "-omp", "--budget", str(self.args.budget), "--wall"],
                               stdout=subprocess.PIPE, universal_newlines=True,
                               env=dict(os.environ, OMP_NUM_THREADS=str(self.threads)))
            self.parse(r.stdout, got)
            results["gradcN"] = best(results.get("gradcN"), got.get("gradc_gradient"))
            if r.returncode != 0:
                self.failures.append("%s: gradc's gradient on threads differs from "
                                     "the hand-written one" % name)
            if torch:
                log("%s: PyTorch, default threads" % name)
                timing, check = self.torch(name, d, 0)
                results["torchN"] = best(results.get("torchN"), timing)
                results["check_torchN"] = check

        if self.adolc and name in ADOLC_MODELS:
            log("%s: ADOL-C" % name)
            got = {}
            r = subprocess.run([self.adolc, name, d, str(self.args.budget), str(CHAIN_N)],
                               stdout=subprocess.PIPE, universal_newlines=True,
                               cwd=self.adolc_dir)
            self.parse(r.stdout, got)
            results["adolc_tape"] = got.get("adolc_tape")
            results["adolc_reverse"] = got.get("adolc_reverse")
            results["check_adolc"] = got.get("check_adolc_gradient")
            if r.returncode != 0:
                self.failures.append("%s: ADOL-C's gradient differs" % name)

    def torch(self, name, d, threads):
        """PyTorch's gradient timing and check: on one thread, or (threads
        0) as it comes, with its own intra-op thread count and OpenBLAS's
        own pool.  Forcing torch, OpenMP and OpenBLAS all to N threads gave
        N^2 busy threads on N cores."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
        if threads:
            env.update(OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
        got = {}
        r = subprocess.run([sys.executable, self.path("bench", "torch_peer.py"),
                            name, d, str(threads), str(self.args.budget), str(CHAIN_N)],
                           stdout=subprocess.PIPE, universal_newlines=True, env=env)
        self.parse(r.stdout, got)
        if r.returncode != 0:
            self.failures.append("%s: PyTorch's gradient differs" % name)
        return got.get("torch_gradient"), got.get("check_torch_gradient")

    def run_all(self):
        self.threads = os.cpu_count() or 1
        log("measuring the FMA peak")
        self.peak = max(float(self.run([self.fmapeak]).split()[1]) for _ in range(3))
        self.results = []
        for name, d, exe in self.programs:
            results = {"name": name}
            self.measure(name, d, exe, results)
            self.results.append(results)

    # ---- scaling -----------------------------------------------------------

    def measured(self, cmd, cpu_limit=None, memory=None):
        """(CPU seconds, peak MiB, how it ended) of cmd and its children:
        "ok", "over" the CPU limit (it or a child killed by a signal), or
        "failed".  GNU time measures it: a child forked from this Python
        would count the interpreter's memory in its peak."""
        def limits():
            if cpu_limit:
                resource.setrlimit(resource.RLIMIT_CPU, (cpu_limit, cpu_limit))
            if memory:
                resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        usage = os.path.join(self.out, "measured.time")
        r = subprocess.run([TIME, "-f", "%U %S %M", "-o", usage] + cmd,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           universal_newlines=True, preexec_fn=limits)
        with open(usage) as f:
            text = f.read()
        user, system, kib = text.splitlines()[-1].split()
        killed = "signal" in text or "signal terminated" in r.stderr
        end = "ok" if r.returncode == 0 else "over" if cpu_limit and killed else "failed"
        return float(user) + float(system), int(kib) / 1024.0, end

    def compile_time(self, cc, source, skip):
        if skip:
            return None
        d = os.path.dirname(source)
        cmd = shlex.split(cc) + shlex.split(COMPILE_FLAGS) + [
            "-I" + self.path("runtime"), "-c", source, "-o", os.path.join(d, "out.o")]
        log("  %s" % " ".join(map(shlex.quote, cmd)))
        t, mem, end = self.measured(cmd, COMPILE_LIMIT, COMPILE_MEMORY)
        return end, t, mem

    def compilers(self):
        """(label, command) of the C compilers whose compile time is measured."""
        return [(shlex.split(cc)[0], cc) for cc in (self.args.cc, self.args.clang) if cc]

    def gen(self, kind, n):
        """The text of bench/gen.py's model."""
        return self.run([sys.executable, self.path("bench", "gen.py"), kind, str(n)])

    def measure_gradc(self, kind, n, name):
        """gradc's measurement on gen.py's model, and the C it wrote."""
        d = os.path.join(self.out, "scaling", name)
        os.makedirs(d, exist_ok=True)
        grad, source = os.path.join(d, kind + ".grad"), os.path.join(d, kind + ".c")
        with open(grad, "w") as f:
            f.write(self.gen(kind, n))
        log("scaling: gradc on %s %d" % (kind, n))
        return self.measured([self.gradc, grad, "-o", source]), source

    def scaling(self):
        self.chains = []
        over = {}
        for n in SCALING_CHAINS:
            got, source = self.measure_gradc("chain", n, "chain%d" % n)
            row = {"n": n, "gradc": got, "size": os.path.getsize(source)}
            if n in COMPILE_CHAINS:
                for label, cc in self.compilers():
                    row[label] = self.compile_time(cc, source, over.get(label))
                    over[label] = over.get(label) or row[label][0] != "ok"
            self.chains.append(row)
        got, source = self.measure_gradc("resnet", RESNET_LAYERS, "resnet")
        self.resnet = {"gradc": got}
        for label, cc in self.compilers():
            self.resnet[label] = self.compile_time(cc, source, False)


# ---- formatting ------------------------------------------------------------

def fmt_time(s):
    if s is None:
        return "n/a"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if s >= scale or unit == "ns":
            v = s / scale
            return ("%.3g" % v if v < 1000 else "%.0f" % v) + " " + unit
    return "n/a"


def fmt_ratio(r):
    return "n/a" if r is None else "%.3g" % r


def table(head, rows):
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def model_tables(bench):
    peak = bench.peak
    t1, t2 = [], []
    for r in bench.results:
        fwd, grad = r.get("gradc_forward"), r.get("gradc_gradient")
        rate = r["flops_gradient"] / grad["min"] / 1e9
        t1.append([r["name"],
                   "%s / %s (%.0f%%)" % (fmt_time(fwd["min"]), fmt_time(fwd["median"]),
                                         100 * fwd["spread"]),
                   "%s / %s (%.0f%%)" % (fmt_time(grad["min"]), fmt_time(grad["median"]),
                                         100 * grad["spread"]),
                   "%.2f" % (grad["min"] / fwd["min"]),
                   "%.3g" % (r["flops_gradient"] / 1e6),
                   "%.3g" % rate, "%.1f%%" % (100 * rate / peak),
                   "%.1e" % r["check_hand_gradient"][0]])
        row = [r["name"], fmt_time(grad["min"])]
        for key, _ in PEERS:
            p = r.get(key)
            if not p:
                row.append("n/a")
                continue
            cell = "%s (%s)" % (fmt_time(p["min"]), fmt_ratio(grad["min"] / p["min"]))
            if "sample" in p:
                cell += " extrapolated from %d of %d" % p["sample"]
            row.append(cell)
        t2.append(row)
    head1 = ["model", "forward min / median (spread)", "gradient min / median (spread)",
             "gradient / forward", "gradient MFLOP", "GFLOP/s", "of peak",
             "hand vs gradc"]
    head2 = ["model", "gradc gradient"] + [label % bench.threads if "%" in label
                                           else label for _, label in PEERS]
    t3 = []
    for r in bench.results:
        one, many = r["gradc_gradient"], r.get("gradcN")
        torch1, torchN = r.get("torch1"), r.get("torchN")
        t3.append([r["name"], fmt_time(one["min"]),
                   fmt_time(many["min"]) if many else "n/a",
                   fmt_time(torch1["min"]) if torch1 else "n/a",
                   fmt_time(torchN["min"]) if torchN else "n/a",
                   fmt_ratio(torchN["min"] / many["min"]) if many and torchN else "n/a"])
    n = bench.threads
    head3 = ["model", "gradc 1 thread", "gradc %d threads" % n, "PyTorch 1 thread",
             "PyTorch default threads", "PyTorch default / gradc %d threads" % n]
    return table(head1, t1), table(head2, t2), table(head3, t3)


def scaling_tables(bench):
    def compiled(got):
        if got is None:
            return "not run (a smaller chain was over the limit)"
        kind, t, mem = got
        if kind == "over":
            return "> %d s" % COMPILE_LIMIT
        if kind == "failed":
            return "failed after %.1f s (%.0f MiB)" % (t, mem)
        return "%.1f s (%.0f MiB)" % (t, mem)
    labels = [label for label, _ in bench.compilers()]
    rows = []
    for c in bench.chains:
        t, mem, end = c["gradc"]
        rows.append(["%d" % c["n"],
                     "%.2f s" % t if end == "ok" else "failed", "%.0f MiB" % mem,
                     "%.1f" % (1024 * mem / c["n"]), "%.1f MB" % (c["size"] / 1e6)]
                    + [compiled(c.get(label)) if c["n"] in COMPILE_CHAINS else "-"
                       for label in labels])
    chains = table(["statements", "gradc CPU", "gradc peak memory", "KiB per statement",
                    "generated C"]
                   + ["%s %s -c CPU (peak memory)" % (label, COMPILE_FLAGS)
                      for label in labels], rows)
    t, mem, _ = bench.resnet["gradc"]
    resnet = table(["model", "gradc CPU (peak memory)"]
                   + ["%s %s -c CPU (peak memory)" % (label, COMPILE_FLAGS)
                      for label in labels],
                   [["resnet, %d layers" % RESNET_LAYERS, "%.2f s (%.0f MiB)" % (t, mem)]
                    + [compiled(bench.resnet.get(label)) for label in labels]])
    return chains, resnet


# ---- the charts ------------------------------------------------------------

def svg_bars(bench, path):
    """Each peer's gradient time over gradc's, per model, on a log axis:
    above 1 gradc is faster."""
    keys = [k for k, _ in PEERS if k != "fd"]
    labels = {k: (l % bench.threads if "%" in l else l) for k, l in PEERS}
    colours = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3"]
    lo, hi = 0.01, 1e4
    w, left, top, bar_h = 820, 110, 40, 16
    row_h = bar_h * len(keys) + 14
    h = top + row_h * len(bench.results) + 60
    x = lambda v: left + (w - left - 20) * (math.log10(v) - math.log10(lo)) / (
        math.log10(hi) - math.log10(lo))
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="12">' % (w, h),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="20" font-size="14">Peer gradient time / gradc gradient '
           'time (above 1: gradc faster)</text>' % left]
    for k in range(-2, 5):
        v = 10.0 ** k
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>'
                   % (x(v), top, x(v), h - 50, "#000" if k == 0 else "#ddd"))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%g</text>'
                   % (x(v), h - 35, v))
    for i, r in enumerate(bench.results):
        y0 = top + i * row_h
        out.append('<text x="%d" y="%d" text-anchor="end">%s</text>'
                   % (left - 8, y0 + row_h / 2, r["name"]))
        g = r["gradc_gradient"]["min"]
        for j, key in enumerate(keys):
            p = r.get(key)
            if not p:
                continue
            v = min(max(p["min"] / g, lo), hi)
            y = y0 + 7 + j * bar_h
            x0, x1 = sorted((x(1), x(v)))
            out.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>'
                       % (x0, y, max(x1 - x0, 1), bar_h - 3, colours[j]))
    for j, key in enumerate(keys):
        out.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>'
                   '<text x="%d" y="%d">%s</text>'
                   % (20 + 158 * j, h - 20, colours[j], 20 + 158 * j + 16,
                      h - 10, labels[key]))
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def svg_scaling(bench, path):
    """gradc's CPU time and peak memory, and the C compilers' CPU time, per
    chain length, log-log; a hollow mark is a compiler stopped at the
    limit."""
    series = [("gradc CPU s", "#4c72b0",
               [(c["n"], c["gradc"][0], True) for c in bench.chains]),
              ("gradc peak GiB", "#55a868",
               [(c["n"], c["gradc"][1] / 1024, True) for c in bench.chains])]
    for (label, _), colour in zip(bench.compilers(), ("#dd8452", "#c44e52")):
        # A compiler over the limit: a hollow mark at the limit.
        pts = [(c["n"], c[label][1] if c[label][0] == "ok" else COMPILE_LIMIT,
                c[label][0] == "ok") for c in bench.chains if c.get(label)]
        series.append(("%s %s CPU s" % (label, COMPILE_FLAGS), colour, pts))
    w, h, left, top, bottom = 640, 400, 70, 40, 70
    x = lambda n: left + (w - left - 20) * (math.log10(n) - 3) / 3
    y = lambda v: h - bottom - (h - top - bottom) * (math.log10(max(v, 1e-3)) + 3) / 6
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="12">' % (w, h),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="20" font-size="14">Scalar chains: gradc and the C '
           'compilers</text>' % left]
    for k in range(3, 7):
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>'
                   '<text x="%.1f" y="%d" text-anchor="middle">1e%d</text>'
                   % (x(10**k), top, x(10**k), h - bottom, x(10**k), h - bottom + 15, k))
    for k in range(-3, 4):
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>'
                   '<text x="%d" y="%.1f" text-anchor="end">%g</text>'
                   % (left, y(10.0**k), w - 20, y(10.0**k), left - 5, y(10.0**k) + 4,
                      10.0**k))
    out.append('<text x="%d" y="%d" text-anchor="middle">statements</text>'
               % ((left + w) / 2, h - bottom + 32))
    for i, (label, colour, pts) in enumerate(series):
        out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>'
                   % (colour, " ".join("%.1f,%.1f" % (x(n), y(v)) for n, v, _ in pts)))
        for n, v, filled in pts:
            out.append('<circle cx="%.1f" cy="%.1f" r="4" stroke="%s" fill="%s"/>'
                       % (x(n), y(v), colour, colour if filled else "white"))
        out.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>'
                   '<text x="%d" y="%d">%s</text>'
                   % (left + 140 * i, h - 28, colour, left + 140 * i + 16, h - 18, label))
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


# ---- the report ------------------------------------------------------------

def first_line(cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        return "not found"


def cpu_description():
    info = {}
    with open("/proc/cpuinfo") as f:
        for line in f:
            k, _, v = line.partition(":")
            info.setdefault(k.strip(), v.strip())
    flags = set(info.get("flags", "").split())
    vec = ", ".join(f for f in ("avx", "avx2", "fma", "avx512f") if f in flags)
    return "%s (family %s, model %s), %d logical CPUs, %s" % (
        info.get("model name", platform.processor()), info.get("cpu family", "?"),
        info.get("model", "?"), os.cpu_count() or 1, vec or "no AVX")


def package_version(package):
    """The Debian package's version, when dpkg knows it."""
    try:
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           universal_newlines=True)
    except OSError:
        return "unknown"
    return "Debian package %s %s" % (package, r.stdout) if r.returncode == 0 \
        else "not installed"


def loadavg():
    return "%.2f, %.2f, %.2f" % os.getloadavg()


SCALING_BEGIN = "<!-- scaling: begin -->"
SCALING_END = "<!-- scaling: end -->"


def report(bench, args, started, load_start, torch_config):
    t1, t2, t3 = model_tables(bench)
    lines = [
        "# gradc benchmark results",
        "",
        "Written by `bench/bench.py` (`make bench`); bench/README.md says how to",
        "run it and what each column means.",
        "",
        "- Date: %s (UTC)" % started.strftime("%Y-%m-%d %H:%M"),
        "- CPU: %s" % cpu_description(),
        "- Load: the 1-minute load average was %s over the run's %d steps "
        "(min / median / max) on %d CPUs; the load averages (1, 5, 15 min) "
        "were %s at the start and %s at the end. The machine was shared with "
        "other work, so times are process CPU time (bench/README.md)"
        % ("%.1f / %.1f / %.1f" % (min(load_samples),
                                   sorted(load_samples)[len(load_samples) // 2],
                                   max(load_samples)),
           len(load_samples), os.cpu_count() or 1, load_start, loadavg()),
        "- C compiler: `%s`, %s" % (args.cc, first_line(shlex.split(args.cc) + ["--version"])),
        "- Flags: `%s` for gradc's generated code and the hand-written C alike, "
        "linked with the libgradrt built here; ADOL-C peer `%s %s`"
        % (CFLAGS, args.cxx, CFLAGS),
        "- gradc: %s, at commit %s" % (first_line([bench.gradc, "--version"]),
                                       args.commit or "unknown"),
        "- Measured FMA peak of one core (bench/fmapeak.c): %.1f GFLOP/s" % bench.peak,
        "- ADOL-C: %s" % package_version("libadolc-dev"),
        "",
    ] + ([args.note, ""] if args.note else []) + [
        "## gradc per model",
        "",
        "Times are min / median per call (spread: interquartile range over the "
        "median). The gradient is one forward and one backward pass "
        "(`NAME_grad`); its FLOP rate is counted from the hand-written loops.",
        "",
        t1,
        "",
        "## Gradient time against the peers",
        "",
        "Each cell: the peer's minimum gradient time, and in parentheses gradc's "
        "minimum gradient time over it (below 1: gradc is faster). "
        "PyTorch with its default threads is timed in wall time.",
        "",
        t2,
        "",
        "![peer time over gradc time](results.svg)",
        "",
        "## Threads",
        "",
        "gradc's generated code built again with `%s` (and the same runtime, "
        "built with OpenMP), run with OMP_NUM_THREADS=%d, against PyTorch with "
        "its default threads. Minimum gradient time per call; on one thread "
        "process CPU time, on more wall time, which is what threads shorten "
        "(the CPU time they add up to is larger), the best of %d runs of "
        "each taking turns. The last column above 1: gradc on threads is "
        "faster." % (OPENMP_FLAG, bench.threads, THREAD_REPEATS),
        "",
        t3,
        "",
        "PyTorch's build (`torch.__config__.show()`):",
        "",
        "```",
        torch_config.rstrip(),
        "```",
        "",
    ]
    if bench.failures:
        lines += ["## Failures", ""] + ["- " + f for f in bench.failures] + [""]
    if args.scaling:
        chains, resnet = scaling_tables(bench)
        scaling = [
            SCALING_BEGIN,
            "## Scaling: gradc and the C compilers on long models",
            "",
            "Measured %s by `make bench-scaling`. CPU time and peak "
            "resident memory of gradc, and of %s on the generated C, each "
            "stopped after %d s of CPU time. The chains are `bench/gen.py "
            "chain N`; once a chain is over the limit, longer ones are not "
            "compiled."
            % (started.strftime("%Y-%m-%d"),
               " and ".join("`%s %s -c`" % (cc, COMPILE_FLAGS)
                            for _, cc in bench.compilers()), COMPILE_LIMIT),
            "",
            chains,
            "",
            "The residual net `h = tanh(h @ W + b) + h` on X[16, 64], "
            "`bench/gen.py resnet %d`: one W and one b shared by every layer."
            % RESNET_LAYERS,
            "",
            resnet,
            "",
            "![scaling](scaling.svg)",
            SCALING_END,
        ]
    else:
        scaling = previous_scaling(args.results)
    return "\n".join(lines + scaling) + "\n"


def previous_scaling(results):
    """The scaling section of the last RESULTS.md, kept as it was (it has
    its own date), or a note that it was never measured."""
    try:
        text = open(results).read() if results else ""
        begin, end = text.index(SCALING_BEGIN), text.index(SCALING_END)
        return [text[begin:end + len(SCALING_END)]]
    except (OSError, ValueError):
        return ["## Scaling", "", "Not measured yet: `make bench BENCH_SCALING=1`."]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--srcdir", default=".")
    ap.add_argument("--gradc", default="./gradc")
    ap.add_argument("--libdir", default="runtime/.libs",
                    help="where the built libgradrt.so is")
    ap.add_argument("--cc", default="gcc")
    ap.add_argument("--cxx", default="g++")
    ap.add_argument("--clang", default="clang")
    ap.add_argument("--out", default="bench/out")
    ap.add_argument("--results", help="RESULTS.md to write (default: none)")
    ap.add_argument("--budget", type=float, default=0.5,
                    help="CPU seconds to spend on each measurement")
    ap.add_argument("--scaling", action="store_true")
    ap.add_argument("--commit", default="")
    ap.add_argument("--note", default="", help="a paragraph for RESULTS.md")
    ap.add_argument("--only", default="",
                    help="the models to run, comma-separated (default: all)")
    args = ap.parse_args()
    started = datetime.datetime.utcnow()
    load_start = loadavg()
    config = subprocess.run(
        [sys.executable, os.path.join(args.srcdir, "bench", "torch_peer.py"),
         "--config"], stdout=subprocess.PIPE, universal_newlines=True)
    args.torch = config.returncode == 0
    torch_config = config.stdout if args.torch else \
        "PyTorch is not installed for %s" % sys.executable
    bench = Bench(args)
    bench.build()
    bench.run_all()
    if args.scaling:
        bench.scaling()
    text = report(bench, args, started, load_start, torch_config)
    print(text)
    if args.results and args.only:
        log("not writing %s: --only ran some of the models" % args.results)
    elif args.results:
        with open(args.results, "w") as f:
            f.write(text)
        directory = os.path.dirname(os.path.abspath(args.results))
        svg_bars(bench, os.path.join(directory, "results.svg"))
        if args.scaling:
            svg_scaling(bench, os.path.join(directory, "scaling.svg"))
    for f in bench.failures:
        log("FAILED: " + f)
    return 1 if bench.failures else 0


if __name__ == "__main__":
    sys.exit(main())
