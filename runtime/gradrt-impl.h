/* gradrt-impl.h: the runtime's row kernels for one type (the scalar
 * functions are inline in gradrt-real.h).  gradrt.c includes it once for double and once for float, after
 * defining REAL, the type, NAME(name), a name with the type's suffix, and
 * MATH(name), a <math.h> function of the type (exp or expf). */

/* The row's maximum, or NaN if the row holds one: a comparison alone
 * would skip it. */
static REAL NAME(row_max)(int n, const REAL *x)
{
    REAL m = x[0];
    for (int j = 1; j < n && !isnan(m); j++)
        if (x[j] > m || isnan(x[j]))
            m = x[j];
    return m;
}

/* x - m for an element x of a row whose maximum is m.  Where m is infinite
 * the row is taken as the limit of rows whose largest entries grow (or a
 * row of -inf, whose entries fall) together: the entries equal to m count
 * as 0 and the others as -inf, so that softmax shares 1 among the k entries
 * equal to m.  A NaN maximum gives NaN. */
static REAL NAME(shifted)(REAL x, REAL m)
{
    if (isinf(m))
        return x == m ? 0 : -INFINITY;
    return x - m;
}

/* sum(exp(x - m)): at least 1, since the term of the maximum is exactly 1,
 * so it never underflows, and no term overflows. */
static REAL NAME(row_sum_exp)(int n, const REAL *x, REAL m)
{
    REAL s = 0;
    for (int j = 0; j < n; j++)
        s += MATH(exp)(NAME(shifted)(x[j], m));
    return s;
}

void NAME(gradrt_softmax)(int rows, int n, const REAL *x, REAL *y)
{
    for (int r = 0; r < rows; r++, x += n, y += n) {
        REAL m = NAME(row_max)(n, x);
        REAL s = 0;
        for (int j = 0; j < n; j++) {
            y[j] = MATH(exp)(NAME(shifted)(x[j], m));
            s += y[j];
        }
        for (int j = 0; j < n; j++)
            y[j] /= s;
    }
}

void NAME(gradrt_softmax_backward)(int rows, int n, const REAL *y,
                             const REAL *dy, REAL *dx, int accumulate)
{
    for (int r = 0; r < rows; r++, y += n, dy += n, dx += n) {
        REAL dot = 0;
        for (int j = 0; j < n; j++)
            dot += dy[j] * y[j];
        for (int j = 0; j < n; j++) {
            REAL d = y[j] * (dy[j] - dot);
            dx[j] = accumulate ? dx[j] + d : d;
        }
    }
}

/* (x - m) - log(s) adds two quantities of one sign, so it is exact to
 * rounding; x - (m + log(s)) would round m + log(s) to the spacing of m
 * first, which is 2 at m = 1e16. */
void NAME(gradrt_log_softmax)(int rows, int n, const REAL *x, REAL *y)
{
    for (int r = 0; r < rows; r++, x += n, y += n) {
        REAL m = NAME(row_max)(n, x);
        REAL log_s = MATH(log)(NAME(row_sum_exp)(n, x, m));
        for (int j = 0; j < n; j++)
            y[j] = NAME(shifted)(x[j], m) - log_s;
    }
}

/* softmax(x) = exp(x - m) / s from x itself: exp(y) would carry the
 * rounding error of y, |y| ulps of it. */
void NAME(gradrt_log_softmax_backward_x)(int rows, int n, const REAL *x,
                                   const REAL *dy, REAL *dx,
                                   int accumulate)
{
    for (int r = 0; r < rows; r++, x += n, dy += n, dx += n) {
        REAL m = NAME(row_max)(n, x);
        REAL s = NAME(row_sum_exp)(n, x, m);
        REAL total = 0;
        for (int j = 0; j < n; j++)
            total += dy[j];
        for (int j = 0; j < n; j++) {
            REAL d = dy[j] - MATH(exp)(NAME(shifted)(x[j], m)) / s * total;
            dx[j] = accumulate ? dx[j] + d : d;
        }
    }
}

void NAME(gradrt_logsumexp)(int rows, int n, const REAL *x, REAL *y)
{
    for (int r = 0; r < rows; r++, x += n) {
        REAL m = NAME(row_max)(n, x);
        y[r] = m + MATH(log)(NAME(row_sum_exp)(n, x, m));
    }
}

/* softmax(x) from x, as above: exp(x - y) from the rounded y is off by a
 * factor exp(y - rounded y), e^-0.9 at y = 1e16 + log 3. */
void NAME(gradrt_logsumexp_backward)(int rows, int n, const REAL *x,
                               const REAL *dy, REAL *dx, int accumulate)
{
    for (int r = 0; r < rows; r++, x += n, dx += n) {
        REAL m = NAME(row_max)(n, x);
        REAL s = NAME(row_sum_exp)(n, x, m);
        for (int j = 0; j < n; j++) {
            REAL d = dy[r] * (MATH(exp)(NAME(shifted)(x[j], m)) / s);
            dx[j] = accumulate ? dx[j] + d : d;
        }
    }
}
