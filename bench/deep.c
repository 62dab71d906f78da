/* deep.c: the 784-512-512-10 relu network of deep.grad, a batch of 256:
 * by hand (the loops of bench/net.h), and through gradc's code. */
#include "deep.h"
#include "harness.h"
#include "net.h"

enum { B = 256, IN = 784, HID = 512, OUT = 10 };

/* The inputs W1, b1, W2, b2, W3, b3 and the data X, Y, in the flat
 * arrays (and the gradient likewise). */
#define W1(p) (p)
#define B1(p) ((p) + IN * HID)
#define W2(p) (B1(p) + HID)
#define B2(p) (W2(p) + HID * HID)
#define W3(p) (B2(p) + HID)
#define B3(p) (W3(p) + HID * OUT)
#define X(d) (d)
#define Y(d) ((d) + B * IN)

static deep_tape tape;
/* The hand-written code's activations and adjoints. */
static double h1[B * HID], h2[B * HID], z[B * OUT], p[B * OUT];
static double dz[B * OUT], dh1[B * HID], dh2[B * HID];
static double wt[HID * HID];

static double gradc_forward(const double *in, const double *data)
{
    double loss;
    deep_forward(&tape, X(data), Y(data), W1(in), B1(in), W2(in), B2(in),
                 W3(in), B3(in), &loss);
    return loss;
}

static double gradc_gradient(const double *in, const double *data, double *g)
{
    return deep_grad(&tape, X(data), Y(data), W1(in), B1(in), W2(in), B2(in),
                     W3(in), B3(in), W1(g), B1(g), W2(g), B2(g), W3(g), B3(g));
}

static double hand_forward(const double *in, const double *data)
{
    affine(B, IN, HID, X(data), W1(in), B1(in), h1);
    relu(B * HID, h1);
    affine(B, HID, HID, h1, W2(in), B2(in), h2);
    relu(B * HID, h2);
    affine(B, HID, OUT, h2, W3(in), B3(in), z);
    return xent(B, OUT, z, Y(data), p);
}

static double hand_gradient(const double *in, const double *data, double *g)
{
    double loss = hand_forward(in, data);
    xent_grad(B, OUT, p, Y(data), dz);
    grad_params(B, HID, OUT, h2, dz, W3(g), B3(g));
    grad_input(B, HID, OUT, dz, W3(in), wt, dh2);
    relu_grad(B * HID, h2, dh2);
    grad_params(B, HID, HID, h1, dh2, W2(g), B2(g));
    grad_input(B, HID, HID, dh2, W2(in), wt, dh1);
    relu_grad(B * HID, h1, dh1);
    grad_params(B, IN, HID, X(data), dh1, W1(g), B1(g));
    return loss;
}

static double flops(int gradient)
{
    double f = AFFINE_FLOPS(B, IN, HID) + AFFINE_FLOPS(B, HID, HID)
               + AFFINE_FLOPS(B, HID, OUT) + 2 * RELU_FLOPS(B * HID)
               + XENT_FLOPS(B, OUT);
    if (gradient)
        f += XENT_GRAD_FLOPS(B, OUT) + GRAD_PARAMS_FLOPS(B, HID, OUT)
             + GRAD_INPUT_FLOPS(B, HID, OUT) + GRAD_PARAMS_FLOPS(B, HID, HID)
             + GRAD_INPUT_FLOPS(B, HID, HID) + GRAD_PARAMS_FLOPS(B, IN, HID)
             + 2 * RELU_FLOPS(B * HID);
    return f;
}

/* Pixels in [0, 1), one-hot targets, weights uniform at the scale
 * sqrt(6 / fan-in) that keeps relu activations of one size. */
static void init(double *in, double *data)
{
    for (int k = 0; k < B * IN; k++)
        X(data)[k] = bench_uniform(0, 1);
    bench_one_hot(Y(data), B, OUT);
    bench_fill(W1(in), IN * HID, sqrt(6.0 / IN));
    bench_fill(B1(in), HID, 0.1);
    bench_fill(W2(in), HID * HID, sqrt(6.0 / HID));
    bench_fill(B2(in), HID, 0.1);
    bench_fill(W3(in), HID * OUT, sqrt(6.0 / HID));
    bench_fill(B3(in), OUT, 0.1);
}

const BenchModel bench_model = {
    "deep", (IN + 1) * HID + (HID + 1) * HID + (HID + 1) * OUT, B * (IN + OUT),
    flops, init, gradc_forward, gradc_gradient, hand_forward, hand_gradient,
};
