/* vecmath-real.h: the array kernels for one type.  vecmath.c includes it
 * once for double and once for float, after defining REAL, the type, and
 * NAME(name), a name with the type's suffix.  The element functions it
 * calls are vecmath.c's, in double for both: a float kernel loads floats,
 * computes in double and rounds each result once, so it is within half an
 * ulp of float and a hair more (the double result's own error). */

/* y = f(x) over one block, and d = f'(x) for a pair: one exp each, in
 * double whatever REAL is (a float result is the double one rounded once).
 * y and d are the caller's local arrays, so nothing aliases x. */
CPU_CLONES static void NAME(run_block)(Kernel f, const REAL *x,
                                       REAL *restrict y, REAL *restrict d)
{
    double m;
    switch (f) {
    case EXP:
        for (int j = 0; j < BLOCK; j++)
            y[j] = (REAL)(exp_elem(x[j], &m));
        break;
    case SIGMOID:
        for (int j = 0; j < BLOCK; j++)
            y[j] = (REAL)(sigmoid_of(x[j], exp_elem(-fabs(x[j]), &m)));
        break;
    case SIGMOID_DERIV:
        for (int j = 0; j < BLOCK; j++)
            y[j] = (REAL)(sigmoid_deriv_of(exp_elem(-fabs(x[j]), &m)));
        break;
    case SIGMOID_PAIR:
        for (int j = 0; j < BLOCK; j++) {
            double z = exp_elem(-fabs(x[j]), &m);
            y[j] = (REAL)(sigmoid_of(x[j], z));
            d[j] = (REAL)(sigmoid_deriv_of(z));
        }
        break;
    case SOFTPLUS:
        for (int j = 0; j < BLOCK; j++)
            y[j] = (REAL)((x[j] > 0 ? x[j] : 0)
                   + log1p_unit(exp_elem(-fabs(x[j]), &m)));
        break;
    case SOFTPLUS_PAIR:
        for (int j = 0; j < BLOCK; j++) {
            double z = exp_elem(-fabs(x[j]), &m);
            y[j] = (REAL)((x[j] > 0 ? x[j] : 0) + log1p_unit(z));
            d[j] = (REAL)(sigmoid_of(x[j], z));
        }
        break;
    case TANH:
        for (int j = 0; j < BLOCK; j++) {
            double z = exp_elem(-2 * fabs(x[j]), &m);
            y[j] = (REAL)(tanh_of(x[j], z, m));
        }
        break;
    case TANH_DERIV:
        for (int j = 0; j < BLOCK; j++)
            y[j] = (REAL)(tanh_deriv_of(exp_elem(-2 * fabs(x[j]), &m)));
        break;
    case TANH_PAIR:
        for (int j = 0; j < BLOCK; j++) {
            double z = exp_elem(-2 * fabs(x[j]), &m);
            y[j] = (REAL)(tanh_of(x[j], z, m));
            d[j] = (REAL)(tanh_deriv_of(z));
        }
        break;
    }
}

/* The block of x at i, of n elements in all: x + i itself when the block
 * is whole, else a copy of what is left in pad, padded with zeros. */
static const REAL *NAME(block_of)(const REAL *x, int i, int n, REAL *pad)
{
    if (n - i >= BLOCK)
        return x + i;
    for (int j = 0; j < BLOCK; j++)
        pad[j] = i + j < n ? x[i + j] : 0;
    return pad;
}

/* The block of y at i = buf, of n elements in all. */
static void NAME(store)(REAL *y, int i, int n, const REAL *restrict buf)
{
    if (n - i >= BLOCK) {
        for (int j = 0; j < BLOCK; j++)
            y[i + j] = buf[j];
        return;
    }
    for (int j = 0; i + j < n; j++)
        y[i + j] = buf[j];
}

/* y = f(x) */
static void NAME(map)(Kernel f, int n, const REAL *x, REAL *y)
{
    SPLIT_BLOCKS
    for (int i = 0; i < n; i += BLOCK) {
        REAL pad[BLOCK], out[BLOCK];
        NAME(run_block)(f, NAME(block_of)(x, i, n, pad), out, NULL);
        NAME(store)(y, i, n, out);
    }
}

/* y = f(x) and d = f'(x) */
static void NAME(map_pair)(Kernel f, int n, const REAL *x, REAL *y, REAL *d)
{
    SPLIT_BLOCKS
    for (int i = 0; i < n; i += BLOCK) {
        REAL pad[BLOCK], out[BLOCK], dout[BLOCK];
        NAME(run_block)(f, NAME(block_of)(x, i, n, pad), out, dout);
        NAME(store)(y, i, n, out);
        NAME(store)(d, i, n, dout);
    }
}

/* dx = dy f(x), or dx += dy f(x) with ACCUMULATE */
static void NAME(map_backward)(Kernel f, int n, const REAL *x, const REAL *dy,
                               REAL *dx, int accumulate)
{
    SPLIT_BLOCKS
    for (int i = 0; i < n; i += BLOCK) {
        REAL pad[BLOCK], out[BLOCK];
        NAME(run_block)(f, NAME(block_of)(x, i, n, pad), out, NULL);
        const REAL *g = NAME(block_of)(dy, i, n, pad);
        for (int j = 0; j < BLOCK; j++)
            out[j] *= g[j];
        if (accumulate) {
            const REAL *sum = NAME(block_of)(dx, i, n, pad);
            for (int j = 0; j < BLOCK; j++)
                out[j] += sum[j];
        }
        NAME(store)(dx, i, n, out);
    }
}

void NAME(gradrt_exp_array)(int n, const REAL *x, REAL *y)
{
    NAME(map)(EXP, n, x, y);
}

void NAME(gradrt_sigmoid_array)(int n, const REAL *x, REAL *y)
{
    NAME(map)(SIGMOID, n, x, y);
}

void NAME(gradrt_sigmoid_deriv_array)(int n, const REAL *x, REAL *y)
{
    NAME(map)(SIGMOID_DERIV, n, x, y);
}

void NAME(gradrt_sigmoid_backward)(int n, const REAL *x, const REAL *dy,
                                   REAL *dx, int accumulate)
{
    NAME(map_backward)(SIGMOID_DERIV, n, x, dy, dx, accumulate);
}

void NAME(gradrt_softplus_array)(int n, const REAL *x, REAL *y)
{
    NAME(map)(SOFTPLUS, n, x, y);
}

/* softplus' = sigmoid */
void NAME(gradrt_softplus_backward)(int n, const REAL *x, const REAL *dy,
                                    REAL *dx, int accumulate)
{
    NAME(map_backward)(SIGMOID, n, x, dy, dx, accumulate);
}

void NAME(gradrt_tanh_array)(int n, const REAL *x, REAL *y)
{
    NAME(map)(TANH, n, x, y);
}

void NAME(gradrt_tanh_deriv_array)(int n, const REAL *x, REAL *y)
{
    NAME(map)(TANH_DERIV, n, x, y);
}

void NAME(gradrt_tanh_backward)(int n, const REAL *x, const REAL *dy,
                                REAL *dx, int accumulate)
{
    NAME(map_backward)(TANH_DERIV, n, x, dy, dx, accumulate);
}

void NAME(gradrt_sigmoid_and_deriv)(int n, const REAL *x, REAL *s, REAL *ds)
{
    NAME(map_pair)(SIGMOID_PAIR, n, x, s, ds);
}

void NAME(gradrt_tanh_and_deriv)(int n, const REAL *x, REAL *t, REAL *dt)
{
    NAME(map_pair)(TANH_PAIR, n, x, t, dt);
}

void NAME(gradrt_softplus_and_deriv)(int n, const REAL *x, REAL *y, REAL *dy)
{
    NAME(map_pair)(SOFTPLUS_PAIR, n, x, y, dy);
}

/* The scalar form: tanh and its derivative from one exp, with the array
 * kernel's formulas (libm's tanh and an exp would be two). */
REAL NAME(gradrt_tanh_with_deriv)(REAL x, REAL *deriv)
{
    double m, z = exp_elem(-2 * fabs(x), &m);
    *deriv = (REAL)tanh_deriv_of(z);
    return (REAL)tanh_of(x, z, m);
}
