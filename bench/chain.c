/* chain.c: the scalar chain of bench/gen.py, CHAIN_N statements
 *   t_k = 2 t_{k-1} - t_{k-2} - 0.01 F(t_{k-1}),  F = sin (k odd), tanh,
 * t_{-1} = x, t_0 = y, f = t_N, at (0.5, 0.52): by hand, and through
 * gradc's code for chain.grad as gen.py writes it. */
#include <math.h>

#include "chain.h"
#include "harness.h"

#ifndef CHAIN_N
#define CHAIN_N 3000
#endif
#define STEP 0.01

static chain_tape tape;
/* v[k + 1] = t_k, and F(t_{k-1}) of statement k in fv[k]. */
static double v[CHAIN_N + 2], fv[CHAIN_N + 1];

static double gradc_forward(const double *in, const double *data)
{
    double f;
    (void)data;
    chain_forward(&tape, in[0], in[1], &f);
    return f;
}

static double gradc_gradient(const double *in, const double *data, double *grad)
{
    (void)data;
    return chain_grad(&tape, in[0], in[1], &grad[0], &grad[1]);
}

static double hand_forward(const double *in, const double *data)
{
    double b = in[0], a = in[1];
    (void)data;
    for (int k = 1; k <= CHAIN_N; k++) {
        double t = 2 * a - b - STEP * (k % 2 ? sin(a) : tanh(a));
        b = a;
        a = t;
    }
    return a;
}

static double hand_gradient(const double *in, const double *data, double *grad)
{
    (void)data;
    v[0] = in[0];
    v[1] = in[1];
    for (int k = 1; k <= CHAIN_N; k++) {
        fv[k] = k % 2 ? sin(v[k]) : tanh(v[k]);
        v[k + 1] = 2 * v[k] - v[k - 1] - STEP * fv[k];
    }
    /* The adjoints of t_k and t_{k-1}, walking k down. */
    double d_next = 1, d_cur = 0;
    for (int k = CHAIN_N; k >= 1; k--) {
        double dF = k % 2 ? cos(v[k]) : 1 - fv[k] * fv[k];
        double d_prev = -d_next;
        d_cur += d_next * (2 - STEP * dF);
        d_next = d_cur;
        d_cur = d_prev;
    }
    grad[0] = d_cur;
    grad[1] = d_next;
    return v[CHAIN_N + 1];
}

static void init(double *in, double *data)
{
    (void)data;
    in[0] = 0.5;
    in[1] = 0.52;
}

/* Forward: F and 4 operations per statement.  Backward: the derivative
 * (cos, or 1 - F^2 from the stored tanh: 1.5 on average) and 5 operations. */
static double flops(int gradient)
{
    return (gradient ? 5.0 + 6.5 : 5.0) * CHAIN_N;
}

const BenchModel bench_model = {
    "chain", 2, 0, flops, init,
    gradc_forward, gradc_gradient, hand_forward, hand_gradient,
};
