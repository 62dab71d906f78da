/* mlp.c: the 784-128-10 sigmoid network of mlp.grad.in at a batch of
 * BATCH: by hand (the loops of bench/net.h), and through gradc's code for
 * the file bench.py writes for that batch; with MLP_FLOAT, through the
 * code of gradc --type=float (mlp1024f). */
#include "harness.h"
#include "mlp.h"
#include "net.h"

#ifndef BATCH
#define BATCH 64
#endif
#define NAME_(b) "mlp" #b
#define NAME(b) NAME_(b)

enum { IN = 784, HID = 128, OUT = 10 };

/* The inputs W1, b1, W2, b2 and the data X, Y, in the flat arrays (and
 * the gradient likewise). */
#define W1(p) (p)
#define B1(p) ((p) + IN * HID)
#define W2(p) (B1(p) + HID)
#define B2(p) (W2(p) + HID * OUT)
#define X(d) (d)
#define Y(d) ((d) + BATCH * IN)

static mlp_tape tape;
/* The hand-written code's activations and adjoints. */
static double h[BATCH * HID], z[BATCH * OUT], p[BATCH * OUT];
static double dz[BATCH * OUT], dh[BATCH * HID], w2t[OUT * HID];

#ifdef MLP_FLOAT
/* The code of gradc --type=float, on float copies: the inputs converted at
 * every call, and the gradient back (a cost of 2 x 101,770 conversions
 * that the timing includes), the data once, for it never changes. */
static float in_f[(IN + 1) * HID + (HID + 1) * OUT], grad_f[(IN + 1) * HID + (HID + 1) * OUT];
static float data_f[BATCH * (IN + OUT)];
static int data_converted;

static void to_float(float *to, const double *from, long n)
{
    for (long i = 0; i < n; i++)
        to[i] = (float)from[i];
}

static void convert(const double *in, const double *data)
{
    to_float(in_f, in, (IN + 1) * HID + (HID + 1) * OUT);
    if (!data_converted) {
        to_float(data_f, data, BATCH * (IN + OUT));
        data_converted = 1;
    }
}

static double gradc_forward(const double *in, const double *data)
{
    float loss;
    convert(in, data);
    mlp_forward(&tape, X(data_f), Y(data_f), W1(in_f), B1(in_f), W2(in_f), B2(in_f), &loss);
    return loss;
}

static double gradc_gradient(const double *in, const double *data, double *g)
{
    convert(in, data);
    float loss = mlp_grad(&tape, X(data_f), Y(data_f), W1(in_f), B1(in_f), W2(in_f),
                          B2(in_f), W1(grad_f), B1(grad_f), W2(grad_f), B2(grad_f));
    for (long i = 0; i < (IN + 1) * HID + (HID + 1) * OUT; i++)
        g[i] = grad_f[i];
    return loss;
}
#else
static double gradc_forward(const double *in, const double *data)
{
    double loss;
    mlp_forward(&tape, X(data), Y(data), W1(in), B1(in), W2(in), B2(in), &loss);
    return loss;
}

static double gradc_gradient(const double *in, const double *data, double *g)
{
    return mlp_grad(&tape, X(data), Y(data), W1(in), B1(in), W2(in), B2(in),
                    W1(g), B1(g), W2(g), B2(g));
}
#endif

static double hand_forward(const double *in, const double *data)
{
    affine(BATCH, IN, HID, X(data), W1(in), B1(in), h);
    sigmoid(BATCH * HID, h);
    affine(BATCH, HID, OUT, h, W2(in), B2(in), z);
    return xent(BATCH, OUT, z, Y(data), p);
}

static double hand_gradient(const double *in, const double *data, double *g)
{
    double loss = hand_forward(in, data);
    xent_grad(BATCH, OUT, p, Y(data), dz);
    grad_params(BATCH, HID, OUT, h, dz, W2(g), B2(g));
    grad_input(BATCH, HID, OUT, dz, W2(in), w2t, dh);
    sigmoid_grad(BATCH * HID, h, dh);
    grad_params(BATCH, IN, HID, X(data), dh, W1(g), B1(g));
    return loss;
}

static double flops(int gradient)
{
    double f = AFFINE_FLOPS(BATCH, IN, HID) + SIGMOID_FLOPS(BATCH * HID)
               + AFFINE_FLOPS(BATCH, HID, OUT) + XENT_FLOPS(BATCH, OUT);
    if (gradient)
        f += XENT_GRAD_FLOPS(BATCH, OUT) + GRAD_PARAMS_FLOPS(BATCH, HID, OUT)
             + GRAD_INPUT_FLOPS(BATCH, HID, OUT) + SIGMOID_FLOPS(BATCH * HID)
             + GRAD_PARAMS_FLOPS(BATCH, IN, HID);
    return f;
}

/* Pixels in [0, 1), one-hot targets, weights uniform at about
 * 1 / sqrt(fan-in). */
static void init(double *in, double *data)
{
    for (int k = 0; k < BATCH * IN; k++)
        X(data)[k] = bench_uniform(0, 1);
    bench_one_hot(Y(data), BATCH, OUT);
    bench_fill(W1(in), IN * HID, 1 / 28.0);
    bench_fill(B1(in), HID, 0.1);
    bench_fill(W2(in), HID * OUT, 1 / 11.3);
    bench_fill(B2(in), OUT, 0.1);
}

#ifdef MLP_FLOAT
/* Float against double: the gradient's relative error is some thousand
 * float roundings of the sums of 1024 and 784 products. */
const BenchModel bench_model = {
    NAME(BATCH) "f", (IN + 1) * HID + (HID + 1) * OUT, BATCH * (IN + OUT),
    flops, init, gradc_forward, gradc_gradient, hand_forward, hand_gradient, 1e-4,
};
#else
const BenchModel bench_model = {
    NAME(BATCH), (IN + 1) * HID + (HID + 1) * OUT, BATCH * (IN + OUT),
    flops, init, gradc_forward, gradc_gradient, hand_forward, hand_gradient, 0,
};
#endif
