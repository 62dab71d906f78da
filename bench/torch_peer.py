#!/usr/bin/env python3
"""torch_peer.py: the benchmark's models in PyTorch, float64, on the CPU.

  torch_peer.py MODEL DIR THREADS BUDGET [CHAIN_N]
  torch_peer.py --config

Reads the point the C harness wrote to DIR (input.bin, data.bin: the flat
arrays of bench/harness.h) and gradc's gradient there (grad.bin), times one
gradient (the forward pass and torch.autograd.grad) with torch's intra-op
threads set to THREADS (0: leave PyTorch's default), and prints, as the
harness does,
  time torch_gradient MIN MEDIAN SPREAD ROUNDS REPS
  check torch_gradient MAX_RELATIVE_DIFFERENCE ok|MISMATCH
With one thread the times are process CPU time; with more they are wall
time, which is what extra threads shorten.  bench.py sets OMP_NUM_THREADS
and OPENBLAS_NUM_THREADS to THREADS too: the BLAS has threads of its own.  --config prints what PyTorch
was built with (its BLAS and CPU kernels) and its default thread count.
"""
import sys
import time

import numpy
import torch

# As in bench/harness.c.
ROUND_SECONDS = 0.005
MIN_ROUNDS = 3
MAX_ROUNDS = 21
TOLERANCE = 1e-9


def split(flat, shapes):
    """Leaf tensors of the given shapes, cut from a flat array in order."""
    out, at = [], 0
    for shape in shapes:
        size = int(numpy.prod(shape))
        out.append(torch.from_numpy(flat[at:at + size].copy()).reshape(shape))
        at += size
    return out


def xent(logits, Y):
    return -(Y * torch.log_softmax(logits, dim=1)).sum() / Y.shape[0]


def kamper(p, d):
    x, y = p
    return (x + torch.sigmoid(y)) / (x * x + y)


def chain(n):
    # bench/gen.py's recurrence.
    def f(p, d):
        b, a = p
        for k in range(1, n + 1):
            fn = torch.sin if k % 2 else torch.tanh
            a, b = 2 * a - b - 0.01 * fn(a), a
        return a
    return f


def mlp(p, d):
    W1, b1, W2, b2 = p
    X, Y = d
    h = torch.sigmoid(X @ W1 + b1)
    return xent(h @ W2 + b2, Y)


def deep(p, d):
    W1, b1, W2, b2, W3, b3 = p
    X, Y = d
    h1 = torch.relu(X @ W1 + b1)
    h2 = torch.relu(h1 @ W2 + b2)
    return xent(h2 @ W3 + b3, Y)


def lstsq(p, d):
    (theta,) = p
    Phi, y = d
    e = y - Phi @ theta
    return (e ** 2).sum()


def conv1d(p, d):
    x, h = p
    (target,) = d
    k = h.shape[0]
    y = torch.nn.functional.conv1d(x.view(1, 1, -1), h.view(1, 1, -1),
                                   padding=(k - 1) // 2).view(-1)
    return ((y - target) ** 2).sum()


def mlp_shapes(batch):
    return ([(784, 128), (128,), (128, 10), (10,)],
            [(batch, 784), (batch, 10)], mlp)


def models(chain_n):
    """name: (input shapes, data shapes, function of (inputs, data))"""
    table = {
        "kamper": ([(), ()], [], kamper),
        "chain": ([(), ()], [], chain(chain_n)),
        "lstsq": ([(100,)], [(1000, 100), (1000,)], lstsq),
        "conv1d": ([(100000,), (9,)], [(100000,)], conv1d),
        "deep": ([(784, 512), (512,), (512, 512), (512,), (512, 10), (10,)],
                 [(256, 784), (256, 10)], deep),
    }
    for batch in (1, 64, 1024):
        table["mlp%d" % batch] = mlp_shapes(batch)
    return table


def measure(call, budget, clock):
    call()
    t = clock()
    call()
    t = max(clock() - t, 1e-9)
    reps = 1 if t >= ROUND_SECONDS else int(-(-ROUND_SECONDS // t))
    rounds = int(budget // (t * reps))
    rounds = min(MAX_ROUNDS, max(MIN_ROUNDS, rounds))
    per_call = []
    for _ in range(rounds):
        start = clock()
        for _ in range(reps):
            call()
        per_call.append((clock() - start) / reps)
    per_call.sort()
    median = per_call[rounds // 2]
    spread = (per_call[rounds * 3 // 4] - per_call[rounds // 4]) / median
    return per_call[0], median, spread, rounds, reps


def main(argv):
    if argv[1:] == ["--config"]:
        print(torch.__config__.show().rstrip())
        print("torch %s, default intra-op threads %d"
              % (torch.__version__, torch.get_num_threads()))
        # A float64 product goes to the BLAS library loaded by now.
        a = torch.ones(64, 64, dtype=torch.float64)
        a @ a
        with open("/proc/self/maps") as maps:
            libs = sorted({line.split()[-1] for line in maps
                           if "blas" in line or "mkl" in line})
        print("BLAS libraries mapped after a float64 matmul: %s"
              % (", ".join(libs) or "none"))
        return 0
    name, where, threads, budget = argv[1], argv[2], int(argv[3]), float(argv[4])
    chain_n = int(argv[5]) if len(argv) > 5 else 3000
    if threads > 0:
        torch.set_num_threads(threads)
    in_shapes, data_shapes, f = models(chain_n)[name]
    flat_in = numpy.fromfile(where + "/input.bin", dtype=numpy.float64)
    flat_data = numpy.fromfile(where + "/data.bin", dtype=numpy.float64)
    want = numpy.fromfile(where + "/grad.bin", dtype=numpy.float64)
    params = [t.requires_grad_() for t in split(flat_in, in_shapes)]
    data = split(flat_data, data_shapes)
    got = []

    def gradient():
        got[:] = torch.autograd.grad(f(params, data), params)

    clock = time.process_time if threads == 1 else time.perf_counter
    timing = measure(gradient, budget, clock)
    print("time torch_gradient %.6e %.6e %.4f %d %d" % timing)
    flat = numpy.concatenate([g.detach().numpy().reshape(-1) for g in got])
    rel = numpy.max(numpy.abs(flat - want)) / max(numpy.max(numpy.abs(want)), 1e-300)
    print("check torch_gradient %.3e %s" % (rel, "ok" if rel <= TOLERANCE else "MISMATCH"))
    return 0 if rel <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
