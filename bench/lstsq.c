/* lstsq.c: least squares L = ||y - Phi theta||^2 on a 1000 x 100 design
 * matrix (lstsq.grad): by hand, and through gradc's code. */
#include "harness.h"
#include "lstsq.h"

enum { M = 1000, N = 100 };

/* The data Phi, y in the flat array. */
#define PHI(d) (d)
#define Y(d) ((d) + M * N)

static lstsq_tape tape;

static double gradc_forward(const double *theta, const double *data)
{
    double loss;
    lstsq_forward(&tape, PHI(data), Y(data), theta, &loss);
    return loss;
}

static double gradc_gradient(const double *theta, const double *data, double *g)
{
    return lstsq_grad(&tape, PHI(data), Y(data), theta, g);
}

/* The residual of row i. */
static inline double residual(const double *restrict phi, const double *restrict y,
                              const double *restrict theta, int i)
{
    double s = 0;
    for (int j = 0; j < N; j++)
        s += phi[i * N + j] * theta[j];
    return y[i] - s;
}

static double hand_forward(const double *theta, const double *data)
{
    double loss = 0;
    for (int i = 0; i < M; i++) {
        double e = residual(PHI(data), Y(data), theta, i);
        loss += e * e;
    }
    return loss;
}

/* dL/dtheta = -2 Phi^T e, a row of Phi at a time while it is in cache. */
static double hand_gradient(const double *theta, const double *data,
                            double *restrict g)
{
    const double *restrict phi = PHI(data);
    double loss = 0;
    for (int j = 0; j < N; j++)
        g[j] = 0;
    for (int i = 0; i < M; i++) {
        double e = residual(phi, Y(data), theta, i);
        loss += e * e;
        double d = -2 * e;
        for (int j = 0; j < N; j++)
            g[j] += d * phi[i * N + j];
    }
    return loss;
}

/* Per row: the dot product 2N, the residual, its square and the sum 3;
 * the gradient adds -2 e and 2N. */
static double flops(int gradient)
{
    return (double)M * (2 * N + 3) + (gradient ? (double)M * (2 * N + 1) : 0);
}

static void init(double *theta, double *data)
{
    bench_fill(PHI(data), M * N, 1);
    bench_fill(Y(data), M, 1);
    bench_fill(theta, N, 0.1);
}

const BenchModel bench_model = {
    "lstsq", N, M * N + M, flops, init,
    gradc_forward, gradc_gradient, hand_forward, hand_gradient,
};
