/* kamper.c: f(x, y) = (x + sigmoid(y)) / (x^2 + y) (examples/kamper.grad)
 * at the demo's point (3, -4): by hand, and through gradc's code. */
#include <math.h>

#include "harness.h"
#include "kamper.h"

static kamper_tape tape;

static double gradc_forward(const double *in, const double *data)
{
    double f;
    (void)data;
    kamper_forward(&tape, in[0], in[1], &f);
    return f;
}

static double gradc_gradient(const double *in, const double *data, double *grad)
{
    (void)data;
    return kamper_grad(&tape, in[0], in[1], &grad[0], &grad[1]);
}

static double hand_forward(const double *in, const double *data)
{
    double x = in[0], y = in[1];
    (void)data;
    return (x + 1 / (1 + exp(-y))) / (x * x + y);
}

static double hand_gradient(const double *in, const double *data, double *grad)
{
    double x = in[0], y = in[1];
    (void)data;
    double s = 1 / (1 + exp(-y));
    double e = 1 / (x * x + y);
    double f = (x + s) * e;
    double d_d = -f * e; /* df/d(x^2 + y) */
    grad[0] = e + d_d * 2 * x;
    grad[1] = e * s * (1 - s) + d_d;
    return f;
}

static void init(double *in, double *data)
{
    (void)data;
    in[0] = 3;
    in[1] = -4;
}

/* Forward: sigmoid 3 (exp, +, /), x^2 + y 2, x + s 1, the quotient 1.
 * Gradient: s 3, e 3, f 2, d_d 2, grad[0] 3, grad[1] 4. */
static double flops(int gradient)
{
    return gradient ? 17 : 7;
}

const BenchModel bench_model = {
    "kamper", 2, 0, flops, init,
    gradc_forward, gradc_gradient, hand_forward, hand_gradient,
};
