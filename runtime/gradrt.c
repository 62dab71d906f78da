/* gradrt.c: the gradc runtime. */
#include "gradrt.h"

const char *gradrt_version(void)
{
    return GRADRT_VERSION;
}

/* exp() only ever sees a non-positive argument, so nothing overflows;
 * for x < 0 the second form keeps the tiny results' relative accuracy. */
double gradrt_sigmoid(double x)
{
    if (x >= 0)
        return 1 / (1 + exp(-x));
    double z = exp(x);
    return z / (1 + z);
}

/* With z = exp(-|x|) <= 1: sigmoid(|x|) = 1 / (1 + z) and
 * sigmoid(-|x|) = z / (1 + z), so no term cancels. */
double gradrt_sigmoid_deriv(double x)
{
    double z = exp(-fabs(x));
    return z / ((1 + z) * (1 + z));
}

/* 1 - tanh(x)^2 = 4 e^(-2|x|) / (1 + e^(-2|x|))^2. */
double gradrt_tanh_deriv(double x)
{
    double z = exp(-2 * fabs(x));
    return 4 * z / ((1 + z) * (1 + z));
}

/* max(x, 0) + log1p(exp(-|x|)): no overflow, and log1p keeps the tail
 * exact where exp(-|x|) is far below 1. */
double gradrt_softplus(double x)
{
    return (x > 0 ? x : 0) + log1p(exp(-fabs(x)));
}

static double row_max(int n, const double *x)
{
    double m = x[0];
    for (int j = 1; j < n; j++)
        if (x[j] > m)
            m = x[j];
    return m;
}

/* log(sum(exp(x))) = m + log(sum(exp(x - m))): every exp() is at most 1,
 * and the largest term is exactly 1, so the sum never underflows to 0. */
static double row_logsumexp(int n, const double *x)
{
    double m = row_max(n, x);
    if (isinf(m))
        return m;
    double s = 0;
    for (int j = 0; j < n; j++)
        s += exp(x[j] - m);
    return m + log(s);
}

void gradrt_softmax(int rows, int n, const double *x, double *y)
{
    for (int r = 0; r < rows; r++, x += n, y += n) {
        double m = row_max(n, x);
        double s = 0;
        for (int j = 0; j < n; j++) {
            y[j] = exp(x[j] - m);
            s += y[j];
        }
        for (int j = 0; j < n; j++)
            y[j] /= s;
    }
}

void gradrt_softmax_backward(int rows, int n, const double *y,
                             const double *dy, double *dx, int accumulate)
{
    for (int r = 0; r < rows; r++, y += n, dy += n, dx += n) {
        double dot = 0;
        for (int j = 0; j < n; j++)
            dot += dy[j] * y[j];
        for (int j = 0; j < n; j++) {
            double d = y[j] * (dy[j] - dot);
            dx[j] = accumulate ? dx[j] + d : d;
        }
    }
}

void gradrt_log_softmax(int rows, int n, const double *x, double *y)
{
    for (int r = 0; r < rows; r++, x += n, y += n) {
        double lse = row_logsumexp(n, x);
        for (int j = 0; j < n; j++)
            y[j] = x[j] - lse;
    }
}

void gradrt_log_softmax_backward(int rows, int n, const double *y,
                                 const double *dy, double *dx,
                                 int accumulate)
{
    for (int r = 0; r < rows; r++, y += n, dy += n, dx += n) {
        double total = 0;
        for (int j = 0; j < n; j++)
            total += dy[j];
        for (int j = 0; j < n; j++) {
            double d = dy[j] - exp(y[j]) * total;
            dx[j] = accumulate ? dx[j] + d : d;
        }
    }
}

void gradrt_logsumexp(int rows, int n, const double *x, double *y)
{
    for (int r = 0; r < rows; r++, x += n)
        y[r] = row_logsumexp(n, x);
}

void gradrt_logsumexp_backward(int rows, int n, const double *x,
                               const double *y, const double *dy, double *dx,
                               int accumulate)
{
    for (int r = 0; r < rows; r++, x += n, dx += n) {
        for (int j = 0; j < n; j++) {
            double d = dy[r] * exp(x[j] - y[r]);
            dx[j] = accumulate ? dx[j] + d : d;
        }
    }
}
