/* net.h: the loops of the hand-written dense networks (bench/mlp.c,
 * bench/deep.c), as a careful engineer writes them without a BLAS.
 * Matrices are row-major as in gradc's API: X is [rows, n_in], W
 * [n_in, n_out], Z [rows, n_out].  The products run row by row of the
 * result, adding one row of W (or of dZ) at a time, so the inner loop
 * streams contiguous memory.
 *
 * The functions are static inline and the networks call them with
 * constant sizes: gcc -O2 vectorises only loops whose trip count it
 * knows, as it does in gradc's code, whose sizes are constants.  Each
 * *_FLOPS macro counts its function's FLOPs (a multiply-add is two, exp
 * or log one). */
#ifndef BENCH_NET_H
#define BENCH_NET_H

#include <math.h>

/* Z = X W + b. */
static inline void affine(int rows, int n_in, int n_out, const double *restrict X,
                          const double *restrict W, const double *restrict b,
                          double *restrict Z)
{
    for (int i = 0; i < rows; i++) {
        double *restrict z = Z + (long)i * n_out;
        for (int j = 0; j < n_out; j++)
            z[j] = b[j];
        for (int k = 0; k < n_in; k++) {
            double x = X[(long)i * n_in + k];
            const double *restrict w = W + (long)k * n_out;
            for (int j = 0; j < n_out; j++)
                z[j] += x * w[j];
        }
    }
}
#define AFFINE_FLOPS(r, i, o) (2.0 * (r) * (i) * (o) + (double)(r) * (o))

/* gW = X^T dZ and gb = the column sums of dZ. */
static inline void grad_params(int rows, int n_in, int n_out,
                               const double *restrict X, const double *restrict dZ,
                               double *restrict gW, double *restrict gb)
{
    for (long p = 0; p < (long)n_in * n_out; p++)
        gW[p] = 0;
    for (int j = 0; j < n_out; j++)
        gb[j] = 0;
    for (int i = 0; i < rows; i++) {
        const double *restrict dz = dZ + (long)i * n_out;
        for (int j = 0; j < n_out; j++)
            gb[j] += dz[j];
        for (int k = 0; k < n_in; k++) {
            double x = X[(long)i * n_in + k];
            double *restrict g = gW + (long)k * n_out;
            for (int j = 0; j < n_out; j++)
                g[j] += x * dz[j];
        }
    }
}
#define GRAD_PARAMS_FLOPS(r, i, o) AFFINE_FLOPS(r, i, o)

/* dX = dZ W^T, through WT = W^T [n_out, n_in], so that the product runs
 * like affine's (a dot product per entry would not vectorise). */
static inline void grad_input(int rows, int n_in, int n_out,
                              const double *restrict dZ, const double *restrict W,
                              double *restrict WT, double *restrict dX)
{
    for (int k = 0; k < n_in; k++)
        for (int j = 0; j < n_out; j++)
            WT[(long)j * n_in + k] = W[(long)k * n_out + j];
    for (int i = 0; i < rows; i++) {
        double *restrict dx = dX + (long)i * n_in;
        for (int k = 0; k < n_in; k++)
            dx[k] = 0;
        for (int j = 0; j < n_out; j++) {
            double d = dZ[(long)i * n_out + j];
            const double *restrict wt = WT + (long)j * n_in;
            for (int k = 0; k < n_in; k++)
                dx[k] += d * wt[k];
        }
    }
}
#define GRAD_INPUT_FLOPS(r, i, o) (2.0 * (r) * (i) * (o))

/* -sum(Y * log_softmax(Z)) / rows; P gets softmax(Z) for the backward. */
static inline double xent(int rows, int n, const double *restrict Z,
                          const double *restrict Y, double *restrict P)
{
    double loss = 0;
    for (int i = 0; i < rows; i++) {
        const double *restrict z = Z + (long)i * n, *restrict y = Y + (long)i * n;
        double *restrict p = P + (long)i * n;
        double m = z[0];
        for (int j = 1; j < n; j++)
            m = fmax(m, z[j]);
        double s = 0;
        for (int j = 0; j < n; j++) {
            p[j] = exp(z[j] - m);
            s += p[j];
        }
        double log_s = log(s);
        for (int j = 0; j < n; j++) {
            p[j] /= s;
            loss += y[j] * ((z[j] - m) - log_s);
        }
    }
    return -loss / rows;
}
/* Per entry: max, subtract, exp, sum, divide and the loss's 3; per row
 * the log; the negation and the division by rows. */
#define XENT_FLOPS(r, n) ((double)(r) * (8.0 * (n) + 1) + 2)

/* The adjoint of xent's loss with respect to Z, from its P. */
static inline void xent_grad(int rows, int n, const double *restrict P,
                             const double *restrict Y, double *restrict dZ)
{
    for (int i = 0; i < rows; i++) {
        const double *restrict p = P + (long)i * n, *restrict y = Y + (long)i * n;
        double sum_y = 0;
        for (int j = 0; j < n; j++)
            sum_y += y[j];
        for (int j = 0; j < n; j++)
            dZ[(long)i * n + j] = (p[j] * sum_y - y[j]) / rows;
    }
}
#define XENT_GRAD_FLOPS(r, n) ((double)(r) * 4.0 * (n))

/* In place: a = sigmoid(a) (exp, add, divide), and d *= sigmoid'(z) from
 * a = sigmoid(z) (3). */
static inline void sigmoid(long n, double *restrict a)
{
    for (long p = 0; p < n; p++)
        a[p] = 1 / (1 + exp(-a[p]));
}
static inline void sigmoid_grad(long n, const double *restrict a, double *restrict d)
{
    for (long p = 0; p < n; p++)
        d[p] *= a[p] * (1 - a[p]);
}
#define SIGMOID_FLOPS(n) (3.0 * (n))

/* In place: a = relu(a), and d *= relu'(z) from a = relu(z) (a
 * comparison each). */
static inline void relu(long n, double *restrict a)
{
    for (long p = 0; p < n; p++)
        a[p] = a[p] > 0 ? a[p] : 0;
}
static inline void relu_grad(long n, const double *restrict a, double *restrict d)
{
    for (long p = 0; p < n; p++)
        d[p] = a[p] > 0 ? d[p] : 0;
}
#define RELU_FLOPS(n) ((double)(n))

#endif
