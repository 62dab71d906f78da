/* lstsq_demo.c: least squares with the code gradc generates from
 * lstsq.grad (MML example 5.11).
 *
 * 1. At several random theta, lstsq_grad's dL/dtheta must equal the closed
 *    form of MML eq. (5.83), dL/dtheta = -2 e^T Phi with e = y - Phi theta.
 * 2. Gradient descent on L(theta) must reach the solution of the normal
 *    equations Phi^T Phi theta = Phi^T y, solved here directly.
 * Exits 1 when a check fails. */
#include <math.h>
#include <stdio.h>

#include "demo.h"
#include "lstsq.h"

enum { N = 6, D = 3 };

/* Solves the 3x3 system M t = r by Gaussian elimination with partial
 * pivoting; returns 0 when M is singular. */
static int solve3(double M[D][D], double r[D], double t[D])
{
    for (int c = 0; c < D; c++) {
        int p = c;
        for (int i = c + 1; i < D; i++)
            if (fabs(M[i][c]) > fabs(M[p][c]))
                p = i;
        if (M[p][c] == 0.0)
            return 0;
        for (int j = 0; j < D; j++) {
            double s = M[c][j];
            M[c][j] = M[p][j];
            M[p][j] = s;
        }
        double s = r[c];
        r[c] = r[p];
        r[p] = s;
        for (int i = c + 1; i < D; i++) {
            double f = M[i][c] / M[c][c];
            for (int j = c; j < D; j++)
                M[i][j] -= f * M[c][j];
            r[i] -= f * r[c];
        }
    }
    for (int c = D - 1; c >= 0; c--) {
        double s = r[c];
        for (int j = c + 1; j < D; j++)
            s -= M[c][j] * t[j];
        t[c] = s / M[c][c];
    }
    return 1;
}

int main(void)
{
    demo_rng rng = { 511 };
    double Phi[N * D], y[N];
    int failed = 0;

    /* Quadratic features of six points in [-1, 1] and noisy targets from
     * y = 0.5 - 1.2 t + 0.8 t^2. */
    for (int i = 0; i < N; i++) {
        double t = -1.0 + 0.4 * i;
        Phi[i * D + 0] = 1.0;
        Phi[i * D + 1] = t;
        Phi[i * D + 2] = t * t;
        y[i] = 0.5 - 1.2 * t + 0.8 * t * t + demo_uniform(&rng, -0.1, 0.1);
    }

    /* 1. The gradient against eq. (5.83). */
    enum { TRIALS = 5 };
    double worst_grad = 0.0, worst_loss = 0.0;
    for (int trial = 0; trial < TRIALS; trial++) {
        double theta[D], grad[D], e[N], want[D] = { 0.0, 0.0, 0.0 };
        double want_L = 0.0;
        lstsq_tape tape;
        demo_fill(&rng, theta, D, -2.0, 2.0);
        double L = lstsq_grad(&tape, Phi, y, theta, grad);
        for (int i = 0; i < N; i++) {
            double p = 0.0;
            for (int k = 0; k < D; k++)
                p += Phi[i * D + k] * theta[k];
            e[i] = y[i] - p;
            want_L += e[i] * e[i];
        }
        for (int k = 0; k < D; k++)
            for (int i = 0; i < N; i++)
                want[k] += -2.0 * e[i] * Phi[i * D + k];
        double g = demo_gap(grad, want, D), l = demo_gap(&L, &want_L, 1);
        if (!(g <= worst_grad))
            worst_grad = g;
        if (!(l <= worst_loss))
            worst_loss = l;
    }
    printf("lstsq: L and dL/dtheta at %d random theta\n", TRIALS);
    printf("  L         vs ||y - Phi theta||^2:   worst relative gap %.1e\n",
           worst_loss);
    printf("  dL/dtheta vs -2 e^T Phi (eq. 5.83): worst relative gap %.1e\n",
           worst_grad);
    if (!(worst_loss <= 1e-12 && worst_grad <= 1e-12)) {
        printf("  FAILED: the gap exceeds 1e-12\n");
        failed = 1;
    }

    /* 2. Gradient descent from theta = 0.  The Hessian of L is
     * 2 Phi^T Phi, so a step of 1 / trace(Phi^T Phi), which is at most
     * 1 / lambda_max(Phi^T Phi), always decreases L. */
    double PtP[D][D], Pty[D], exact[D];
    double trace = 0.0;
    for (int a = 0; a < D; a++) {
        Pty[a] = 0.0;
        for (int i = 0; i < N; i++)
            Pty[a] += Phi[i * D + a] * y[i];
        for (int b = 0; b < D; b++) {
            PtP[a][b] = 0.0;
            for (int i = 0; i < N; i++)
                PtP[a][b] += Phi[i * D + a] * Phi[i * D + b];
        }
        trace += PtP[a][a];
    }
    if (!solve3(PtP, Pty, exact)) {
        printf("lstsq: Phi^T Phi is singular\n");
        return 1;
    }

    double theta[D] = { 0.0, 0.0, 0.0 }, grad[D], L = 0.0;
    double eta = 1.0 / trace;
    int steps = 0;
    lstsq_tape tape;
    for (; steps < 100000; steps++) {
        L = lstsq_grad(&tape, Phi, y, theta, grad);
        double norm = sqrt(grad[0] * grad[0] + grad[1] * grad[1] +
                           grad[2] * grad[2]);
        if (norm < 1e-13)
            break;
        for (int k = 0; k < D; k++)
            theta[k] -= eta * grad[k];
    }
    printf("lstsq: gradient descent, step 1/trace(Phi^T Phi) = %.4f, "
           "%d steps, L = %.10f\n", eta, steps, L);
    printf("  gradient descent  theta = [%.12f, %.12f, %.12f]\n",
           theta[0], theta[1], theta[2]);
    printf("  normal equations  theta = [%.12f, %.12f, %.12f]\n",
           exact[0], exact[1], exact[2]);
    failed |= demo_check("gradient descent vs normal equations", theta,
                         exact, D, 1e-9);

    printf("lstsq: %s\n", failed ? "FAILED" : "ok");
    return failed;
}
