/* nanodegree_demo.c: the network of the Nanodegree backpropagation notes
 * (seed 002) with the code gradc generates from nanodegree.grad: n = 3
 * inputs, m = 4 sigmoid hidden units, one linear output, a batch of
 * L = 16 examples,
 *   z = W1 x,  a = f(z) with f = sigmoid,  yhat = W2 a,
 *   E = 1/(2L) sum_l (y_l - yhat_l)^2.
 *
 * 1. The gradients must match the notes' closed forms,
 *      grad_W2 E     = -(1/L) sum_l (y_l - yhat_l) a_l^T            (20)
 *      grad_W1 E _ij = -(1/L) sum_l (y_l - yhat_l) W2_i f'(z_il) x_lj (34)
 *    The notes drop the minus sign between (17) and (18), so (20) and (34)
 *    as printed are the gradients of -E; the signs here are the right ones.
 * 2. Gradient descent on a synthetic batch, labelled by a "teacher"
 *    network of the same shape, must make E fall.
 * Exits 1 when a check fails. */
#include <math.h>
#include <stdio.h>

#include "demo.h"
#include "nanodegree.h"

enum { L = 16, NIN = 3, M = 4 };

static double sigmoid(double z)
{
    return 1.0 / (1.0 + exp(-z));
}

/* The closed forms (20) and (34), with the forward pass written out. */
static void closed_form(const double *X, const double *y, const double *W1,
                        const double *W2, double *gW1, double *gW2)
{
    for (int i = 0; i < M; i++) {
        gW2[i] = 0.0;
        for (int j = 0; j < NIN; j++)
            gW1[i * NIN + j] = 0.0;
    }
    for (int l = 0; l < L; l++) {
        double z[M], a[M], yhat = 0.0;
        for (int i = 0; i < M; i++) {
            z[i] = 0.0;
            for (int j = 0; j < NIN; j++)
                z[i] += W1[i * NIN + j] * X[l * NIN + j];
            a[i] = sigmoid(z[i]);
            yhat += W2[i] * a[i];
        }
        double r = y[l] - yhat;
        for (int i = 0; i < M; i++) {
            double fprime = a[i] * (1.0 - a[i]);
            gW2[i] += -r * a[i] / L;
            for (int j = 0; j < NIN; j++)
                gW1[i * NIN + j] += -r * W2[i] * fprime * X[l * NIN + j] / L;
        }
    }
}

int main(void)
{
    demo_rng rng = { 2 };
    double X[L * NIN], y[L];
    int failed = 0;

    demo_fill(&rng, X, L * NIN, -1.0, 1.0);
    demo_fill(&rng, y, L, -1.0, 1.0);

    /* 1. The gradients against the closed forms, at random weights. */
    printf("nanodegree: gradients vs the notes' (20) and (34), "
           "3 random points\n");
    for (int trial = 0; trial < 3; trial++) {
        double W1[M * NIN], W2[M], gW1[M * NIN], gW2[M];
        double want_gW1[M * NIN], want_gW2[M];
        nanodegree_tape tape;
        demo_fill(&rng, W1, M * NIN, -2.0, 2.0);
        demo_fill(&rng, W2, M, -2.0, 2.0);
        nanodegree_grad(&tape, X, y, W1, W2, gW1, gW2);
        closed_form(X, y, W1, W2, want_gW1, want_gW2);
        failed |= demo_check("grad_W2 E vs (20)", gW2, want_gW2, M, 1e-12);
        failed |= demo_check("grad_W1 E vs (34)", gW1, want_gW1, M * NIN,
                             1e-12);
    }

    /* 2. Training.  The targets come from a teacher network, so E can go
     * to zero; the student starts from small random weights. */
    double T1[M * NIN], T2[M], W1[M * NIN], W2[M], gW1[M * NIN], gW2[M];
    demo_fill(&rng, T1, M * NIN, -2.0, 2.0);
    demo_fill(&rng, T2, M, -1.0, 1.0);
    for (int l = 0; l < L; l++) {
        y[l] = 0.0;
        for (int i = 0; i < M; i++) {
            double z = 0.0;
            for (int j = 0; j < NIN; j++)
                z += T1[i * NIN + j] * X[l * NIN + j];
            y[l] += T2[i] * sigmoid(z);
        }
    }
    demo_fill(&rng, W1, M * NIN, -0.5, 0.5);
    demo_fill(&rng, W2, M, -0.5, 0.5);

    enum { STEPS = 400 };
    const double rate = 2.0;
    double first = 0.0, last = 0.0, previous = 0.0;
    nanodegree_tape tape;
    printf("nanodegree: gradient descent, rate %.1f, batch of %d\n", rate,
           L);
    for (int step = 0; step <= STEPS; step++) {
        double E = nanodegree_grad(&tape, X, y, W1, W2, gW1, gW2);
        if (step == 0)
            first = previous = E;
        if (step % 50 == 0) {
            printf("  step %3d  E = %.8f\n", step, E);
            if (step > 0 && !(E < previous)) {
                printf("  FAILED: E did not decrease\n");
                failed = 1;
            }
            previous = E;
        }
        last = E;
        for (int k = 0; k < M * NIN; k++)
            W1[k] -= rate * gW1[k];
        for (int k = 0; k < M; k++)
            W2[k] -= rate * gW2[k];
    }
    printf("  E fell by a factor of %.1f\n", first / last);
    if (!(last < first / 10.0)) {
        printf("  FAILED: E fell by less than a factor of 10\n");
        failed = 1;
    }

    printf("nanodegree: %s\n", failed ? "FAILED" : "ok");
    return failed;
}
