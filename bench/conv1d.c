/* conv1d.c: a "same"-size, zero-padded correlation of N samples with a
 * kernel of K and a squared loss (conv1d.grad): by hand, and through
 * gradc's code. */
#include "conv1d.h"
#include "harness.h"

enum { N = 100000, K = 9, R = (K - 1) / 2 };

/* The inputs x, h in the flat arrays (and the gradient likewise). */
#define XS(p) (p)
#define H(p) ((p) + N)

static conv1d_tape tape;
/* The hand-written gradient's 2 (y - target). */
static double r[N];

static double gradc_forward(const double *in, const double *target)
{
    double loss;
    conv1d_forward(&tape, target, XS(in), H(in), &loss);
    return loss;
}

static double gradc_gradient(const double *in, const double *target, double *g)
{
    return conv1d_grad(&tape, target, XS(in), H(in), XS(g), H(g));
}

/* y[i] = sum_j x[i + j - R] h[j], with x zero outside [0, N): a fixed
 * loop of K in the interior, bounds only at the two edges. */
static inline double correlate_at(const double *restrict x, const double *restrict h,
                                  int i)
{
    double s = 0;
    if (i >= R && i < N - R) {
        for (int j = 0; j < K; j++)
            s += x[i + j - R] * h[j];
    } else {
        for (int j = 0; j < K; j++)
            if (i + j - R >= 0 && i + j - R < N)
                s += x[i + j - R] * h[j];
    }
    return s;
}

static double hand_forward(const double *in, const double *target)
{
    double loss = 0;
    for (int i = 0; i < N; i++) {
        double e = correlate_at(XS(in), H(in), i) - target[i];
        loss += e * e;
    }
    return loss;
}

/* dx is r correlated with the flipped kernel; dh[j] = sum_i r[i] x[i + j - R]. */
static double hand_gradient(const double *in, const double *target,
                            double *restrict g)
{
    const double *restrict x = XS(in);
    double flipped[K], loss = 0;
    for (int i = 0; i < N; i++) {
        double e = correlate_at(x, H(in), i) - target[i];
        loss += e * e;
        r[i] = 2 * e;
    }
    for (int j = 0; j < K; j++)
        flipped[j] = H(in)[K - 1 - j];
    for (int i = 0; i < N; i++)
        XS(g)[i] = correlate_at(r, flipped, i);
    for (int j = 0; j < K; j++) {
        int lo = j < R ? R - j : 0, hi = j > R ? N - (j - R) : N;
        double s = 0;
        for (int i = lo; i < hi; i++)
            s += r[i] * x[i + j - R];
        H(g)[j] = s;
    }
    return loss;
}

/* Per sample: the correlation 2K, the difference, its square and the sum
 * 3; the gradient adds 2 (y - target) and two more correlations, 4K. */
static double flops(int gradient)
{
    return (double)N * (2 * K + 3) + (gradient ? (double)N * (4 * K + 1) : 0);
}

static void init(double *in, double *target)
{
    bench_fill(XS(in), N, 1);
    bench_fill(H(in), K, 0.5);
    bench_fill(target, N, 1);
}

const BenchModel bench_model = {
    "conv1d", N + K, N, flops, init,
    gradc_forward, gradc_gradient, hand_forward, hand_gradient,
};
