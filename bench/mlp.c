/* mlp.c: the 784-128-10 sigmoid network of mlp.grad.in at a batch of
 * BATCH: by hand (the loops of bench/net.h), and through gradc's code for
 * the file bench.py writes for that batch. */
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

const BenchModel bench_model = {
    NAME(BATCH), (IN + 1) * HID + (HID + 1) * OUT, BATCH * (IN + OUT),
    flops, init, gradc_forward, gradc_gradient, hand_forward, hand_gradient,
};
