/* mlp_demo.c: the L = 3 layer sigmoid network of Kamper's notes (section
 * 4.2) with the code gradc generates from mlp.grad, on one training
 * example (x, y):
 *   z[l] = W[l] a[l-1] + b[l],  a[l] = sigmoid(z[l]),  J = ||y - a[3]||^2
 *
 * 1. The gradients must match the notes' layer equations, written out
 *    here: for the last layer dz3 = -2 (y - a3) * a3 * (1 - a3) and
 *      db3 = dz3         (22)
 *      dW3 = dz3 a2^T    (23)
 *    and further down da[l-1] = W[l]^T dz[l] (24),
 *    dz[l] = da[l] * a[l] * (1 - a[l]) (21), and (22)-(23) again.
 * 2. Gradient descent must drive J down by a large factor.
 * Exits 1 when a check fails. */
#include <math.h>
#include <stdio.h>

#include "demo.h"
#include "mlp.h"

enum { N0 = 4, N1 = 5, N2 = 3, N3 = 2 };

/* All parameters in one array, so that a descent step is one loop. */
enum {
    W1 = 0, B1 = W1 + N1 * N0, W2 = B1 + N1, B2 = W2 + N2 * N1,
    W3 = B2 + N2, B3 = W3 + N3 * N2, NPARAM = B3 + N3
};

static double sigmoid(double z)
{
    return 1.0 / (1.0 + exp(-z));
}

/* a = sigmoid(W a_prev + b) for a layer of n units over m inputs. */
static void layer(int n, int m, const double *W, const double *b,
                  const double *a_prev, double *a)
{
    for (int i = 0; i < n; i++) {
        double z = b[i];
        for (int k = 0; k < m; k++)
            z += W[i * m + k] * a_prev[k];
        a[i] = sigmoid(z);
    }
}

/* Equations (21)-(24) for one layer: from da (the adjoint of a = sigmoid(z))
 * give dz, then db = dz, dW = dz a_prev^T and, when da_prev is not null,
 * da_prev = W^T dz. */
static void layer_backward(int n, int m, const double *W, const double *a,
                           const double *a_prev, const double *da,
                           double *dW, double *db, double *da_prev)
{
    double dz[N1]; /* N1 is the widest layer */
    for (int i = 0; i < n; i++) {
        dz[i] = da[i] * a[i] * (1.0 - a[i]);           /* (21) */
        db[i] = dz[i];                                 /* (22) */
        for (int k = 0; k < m; k++)
            dW[i * m + k] = dz[i] * a_prev[k];         /* (23) */
    }
    if (da_prev)
        for (int k = 0; k < m; k++) {
            da_prev[k] = 0.0;
            for (int i = 0; i < n; i++)
                da_prev[k] += W[i * m + k] * dz[i];    /* (24) */
        }
}

/* J and its gradient G at the parameters P. */
static double grad(mlp_tape *tape, const double *x, const double *y,
                   const double *p, double *g)
{
    return mlp_grad(tape, x, y, p + W1, p + B1, p + W2, p + B2, p + W3,
                    p + B3, g + W1, g + B1, g + W2, g + B2, g + W3, g + B3);
}

int main(void)
{
    demo_rng rng = { 3 };
    const double x[N0] = { 0.5, -1.0, 0.25, 2.0 };
    const double y[N3] = { 0.9, 0.2 };
    double p[NPARAM], g[NPARAM], want[NPARAM];
    mlp_tape tape;
    int failed = 0;

    demo_fill(&rng, p, NPARAM, -1.0, 1.0);

    /* 1. The layer equations at the starting point. */
    double J = grad(&tape, x, y, p, g);
    double a1[N1], a2[N2], a3[N3], da3[N3], da2[N2], da1[N1];
    layer(N1, N0, p + W1, p + B1, x, a1);
    layer(N2, N1, p + W2, p + B2, a1, a2);
    layer(N3, N2, p + W3, p + B3, a2, a3);
    double want_J = 0.0;
    for (int i = 0; i < N3; i++) {
        want_J += (y[i] - a3[i]) * (y[i] - a3[i]);
        da3[i] = -2.0 * (y[i] - a3[i]);
    }
    layer_backward(N3, N2, p + W3, a3, a2, da3, want + W3, want + B3, da2);
    layer_backward(N2, N1, p + W2, a2, a1, da2, want + W2, want + B2, da1);
    layer_backward(N1, N0, p + W1, a1, x, da1, want + W1, want + B1, NULL);

    printf("mlp: 4-5-3-2 sigmoid network, gradients vs eqs. (21)-(24)\n");
    failed |= demo_check("J vs ||y - a3||^2", &J, &want_J, 1, 1e-12);
    failed |= demo_check("db3 vs dz3 (22)", g + B3, want + B3, N3, 1e-12);
    failed |= demo_check("dW3 vs dz3 a2^T (23)", g + W3, want + W3, N3 * N2,
                         1e-12);
    failed |= demo_check("db2 vs dz2, from (24) and (21)", g + B2, want + B2,
                         N2, 1e-12);
    failed |= demo_check("dW2 vs dz2 a1^T", g + W2, want + W2, N2 * N1,
                         1e-12);
    failed |= demo_check("db1 vs dz1", g + B1, want + B1, N1, 1e-12);
    failed |= demo_check("dW1 vs dz1 x^T", g + W1, want + W1, N1 * N0,
                         1e-12);

    /* 2. Training on the one example. */
    enum { STEPS = 200 };
    const double rate = 2.0;
    double first = J;
    printf("mlp: gradient descent, rate %.1f, target y = [%.1f, %.1f]\n",
           rate, y[0], y[1]);
    for (int step = 0; step <= STEPS; step++) {
        J = grad(&tape, x, y, p, g);
        if (step == 0 || step == 5 || step == 10 || step == 25 ||
            step == 50 || step == 100 || step == STEPS)
            printf("  step %4d  J = %.3e\n", step, J);
        if (step == STEPS)
            break;
        for (int k = 0; k < NPARAM; k++)
            p[k] -= rate * g[k];
    }
    layer(N1, N0, p + W1, p + B1, x, a1);
    layer(N2, N1, p + W2, p + B2, a1, a2);
    layer(N3, N2, p + W3, p + B3, a2, a3);
    printf("  output a3 = [%.6f, %.6f]; J fell by a factor of %.3g\n",
           a3[0], a3[1], first / J);
    if (!(J < first / 1e6)) {
        printf("  FAILED: J fell by less than a factor of 10^6\n");
        failed = 1;
    }

    printf("mlp: %s\n", failed ? "FAILED" : "ok");
    return failed;
}
