/* vecmathf: the runtime's float functions (the twins that code generated
 * with gradc --type=float calls) against references in long double.
 *
 * Array kernels (vecmath-real.h) compute in double and round once, so each
 * result must be within ARRAY_BOUND float ulps of the true value: half an
 * ulp for the rounding, and a hair for the double result's own error.  The
 * scalar functions (gradrt-impl.h) evaluate their formulas in float, with
 * the C library's float functions: within SCALAR_BOUND ulps.  Arguments:
 * uniform over the range where the result is neither 0 nor saturated,
 * uniform bit patterns (every binade, NaN and the infinities) and fixed
 * points.  Besides:
 *   - at the infinities and zeros an array kernel gives bit for bit what
 *     its scalar form gives, and at NaN a NaN;
 *   - the fused forms (value and derivative from one exp) and the backward
 *     forms give bit for bit what the single kernels give, wherever the
 *     element sits in the array and in place;
 *   - the row kernels (softmax, log_softmax, logsumexp and their backward
 *     forms) are within (n + 8 + |x - m|) FLT_EPSILON times the size of
 *     what they add up, m the row's maximum;
 *   - gradrt_correlatef (the convolution kernel's adjoint) within
 *     (n + 2) FLT_EPSILON times the size of its terms.
 * It prints the worst errors and exits 1 on a violation. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradrt.h"

enum { CHUNK = 4096, CHUNKS = 128 };

/* Half an ulp, and the double result's error (below 2^-28 float ulps),
 * with room for the reference's own. */
static const double ARRAY_BOUND = 0.5001;
/* Three or four roundings and the C library's float exp and log1p. */
static const double SCALAR_BOUND = 6;

static int failures;

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

/* xorshift64*: fixed seed, the same points on every run */
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

static float uniform(float lo, float hi)
{
    return lo + (hi - lo) * (float)((double)(rng() >> 11) * 0x1p-53);
}

static float float_of(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static int same_bits(float a, float b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* The same bits, or two NaNs (whose sign nothing promises). */
static int same_value(float a, float b)
{
    return isnan(a) ? isnan(b) : same_bits(a, b);
}

/* |got - want| in ulps of the float nearest want (its subnormal spacing
 * below FLT_MIN); an infinity is right only where want rounds to it. */
static double ulp_error(float got, long double want)
{
    if (isnan(want) || isnan(got))
        return isnan(want) && isnan(got) ? 0 : HUGE_VAL;
    if (isinf(got) || (float)want == got)
        return (float)want == got ? 0 : HUGE_VAL;
    int e;
    frexpl(want, &e);
    int ulp_exp = e - 24 < -149 ? -149 : e - 24;
    return (double)(fabsl((long double)got - want) / ldexpl(1, ulp_exp));
}

/* The references: gradrt.c's formulas in long double. */
static long double ref_exp(float x)
{
    return expl(x);
}

static long double ref_sigmoid(float x)
{
    long double z = expl(-fabsl(x));
    return (x >= 0 ? 1 : z) / (1 + z);
}

static long double ref_sigmoid_deriv(float x)
{
    long double z = expl(-fabsl(x));
    return z / ((1 + z) * (1 + z));
}

static long double ref_softplus(float x)
{
    return (x > 0 ? x : 0) + log1pl(expl(-fabsl(x)));
}

static long double ref_tanh(float x)
{
    return tanhl(x);
}

static long double ref_tanh_deriv(float x)
{
    long double z = expl(-2 * fabsl(x));
    return 4 * z / ((1 + z) * (1 + z));
}

typedef struct Kernel {
    const char *name;
    void (*array)(int, const float *, float *);
    float (*scalar)(float);     /* what generated code calls for one value */
    long double (*ref)(float);
    float range;                /* neither 0 nor saturated within it */
    double worst_array, worst_scalar;
    float worst_array_at, worst_scalar_at;
    long points;
} Kernel;

static Kernel kernels[] = {
    { "exp", gradrt_exp_arrayf, expf, ref_exp, 87, 0, 0, 0, 0, 0 },
    { "sigmoid", gradrt_sigmoid_arrayf, gradrt_sigmoidf, ref_sigmoid, 100, 0, 0, 0, 0, 0 },
    { "sigmoid_deriv", gradrt_sigmoid_deriv_arrayf, gradrt_sigmoid_derivf,
      ref_sigmoid_deriv, 100, 0, 0, 0, 0, 0 },
    { "softplus", gradrt_softplus_arrayf, gradrt_softplusf, ref_softplus, 100, 0, 0, 0, 0,
      0 },
    { "tanh", gradrt_tanh_arrayf, tanhf, ref_tanh, 12, 0, 0, 0, 0, 0 },
    { "tanh_deriv", gradrt_tanh_deriv_arrayf, gradrt_tanh_derivf, ref_tanh_deriv, 50, 0, 0,
      0, 0, 0 },
};

enum { NKERNELS = sizeof kernels / sizeof kernels[0] };

static void report(const char *what, const char *name, float x, float got, float want)
{
    if (++failures <= 20)
        fprintf(stderr, "FAIL: %s %s at %a: got %a, want %a\n", what, name, (double)x,
                (double)got, (double)want);
}

/* One chunk of arguments through kernel K: errors, specials, and the
 * array's independence of position and of being in place. */
static void check_chunk(Kernel *k, const float *x, int n)
{
    static float y[CHUNK + 3], shifted[CHUNK + 3];
    k->array(n, x, y);
    for (int i = 0; i < n; i++) {
        long double want = k->ref(x[i]);
        float s = k->scalar(x[i]);
        double ea = ulp_error(y[i], want), es = ulp_error(s, want);
        if (!isfinite(x[i]) || x[i] == 0 || isnan(s)) {
            if (!same_value(y[i], s))
                report("array differs from scalar", k->name, x[i], y[i], s);
            continue;
        }
        if (ea > k->worst_array) {
            k->worst_array = ea;
            k->worst_array_at = x[i];
        }
        if (es > k->worst_scalar) {
            k->worst_scalar = es;
            k->worst_scalar_at = x[i];
        }
        if (!(ea <= ARRAY_BOUND))
            report("array kernel off the reference", k->name, x[i], y[i], (float)want);
        if (!(es <= SCALAR_BOUND))
            report("scalar function off the reference", k->name, x[i], s, (float)want);
    }
    k->points += n;
    /* at another offset, and in place */
    int off = 1 + (int)(rng() % 3);
    memcpy(shifted + off, x, (size_t)n * sizeof *x);
    k->array(n, shifted + off, shifted + off);
    for (int i = 0; i < n; i++)
        if (!same_bits(shifted[off + i], y[i]))
            report("array depends on position", k->name, x[i], shifted[off + i], y[i]);
}

/* The fused and backward forms against the single kernels. */
static void check_forms(const float *x, int n)
{
    static float v[CHUNK], d[CHUNK], v1[CHUNK], d1[CHUNK], dy[CHUNK], dx[CHUNK], acc[CHUNK];
    struct {
        const char *name;
        void (*pair)(int, const float *, float *, float *);
        void (*value)(int, const float *, float *);
        void (*deriv)(int, const float *, float *);
        void (*backward)(int, const float *, const float *, float *, int);
    } forms[] = {
        { "sigmoid", gradrt_sigmoid_and_derivf, gradrt_sigmoid_arrayf,
          gradrt_sigmoid_deriv_arrayf, gradrt_sigmoid_backwardf },
        { "softplus", gradrt_softplus_and_derivf, gradrt_softplus_arrayf,
          gradrt_sigmoid_arrayf, gradrt_softplus_backwardf },
        { "tanh", gradrt_tanh_and_derivf, gradrt_tanh_arrayf, gradrt_tanh_deriv_arrayf,
          gradrt_tanh_backwardf },
    };
    for (int i = 0; i < n; i++)
        dy[i] = uniform(-2, 2);
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        forms[f].pair(n, x, v, d);
        forms[f].value(n, x, v1);
        forms[f].deriv(n, x, d1);
        for (int i = 0; i < n; i++) {
            acc[i] = uniform(-1, 1);
            dx[i] = acc[i];
        }
        forms[f].backward(n, x, dy, dx, 1);
        for (int i = 0; i < n; i++) {
            if (!same_value(v[i], v1[i]))
                report("fused value differs", forms[f].name, x[i], v[i], v1[i]);
            if (!same_value(d[i], d1[i]))
                report("fused derivative differs", forms[f].name, x[i], d[i], d1[i]);
            float want = acc[i] + d1[i] * dy[i];
            if (!same_value(dx[i], want))
                report("backward (accumulating) differs", forms[f].name, x[i], dx[i], want);
        }
        forms[f].backward(n, x, dy, dx, 0);
        for (int i = 0; i < n; i++)
            if (!same_value(dx[i], d1[i] * dy[i]))
                report("backward differs", forms[f].name, x[i], dx[i], d1[i] * dy[i]);
    }
    /* the scalar fused forms: bit for bit their single functions, and
     * tanh the array pair */
    gradrt_tanh_and_derivf(n, x, v, d);
    for (int i = 0; i < n; i++) {
        float dv, dd, dt;
        float s = gradrt_sigmoid_with_derivf(x[i], &dv);
        float p = gradrt_softplus_with_derivf(x[i], &dd);
        float t = gradrt_tanh_with_derivf(x[i], &dt);
        if (!same_value(s, gradrt_sigmoidf(x[i])) || !same_value(dv, gradrt_sigmoid_derivf(x[i])))
            report("sigmoid_with_derivf differs", "sigmoid", x[i], s, gradrt_sigmoidf(x[i]));
        if (!same_value(p, gradrt_softplusf(x[i])) || !same_value(dd, gradrt_sigmoidf(x[i])))
            report("softplus_with_derivf differs", "softplus", x[i], p, gradrt_softplusf(x[i]));
        if (!same_value(t, v[i]) || !same_value(dt, d[i]))
            report("tanh_with_derivf differs from the array pair", "tanh", x[i], t, v[i]);
    }
}

/* Rows of N entries in [-20, 20]: softmax, log_softmax, logsumexp and the
 * backward kernels against long double.  Each result is a sum of about n
 * terms, exponentials within a few ulps of exp(x - m) rounded: within
 * (n + 8 + |x - m|) FLT_EPSILON of the size of what it adds up. */
static double check_rows(int rows, int n)
{
    int len = rows * n;
    float *x = malloc((size_t)len * sizeof *x), *dy = malloc((size_t)len * sizeof *dy);
    float *y = malloc((size_t)len * sizeof *y), *dx = malloc((size_t)len * sizeof *dx);
    float *lse = malloc((size_t)rows * sizeof *lse), *dr = malloc((size_t)rows * sizeof *dr);
    if (!x || !dy || !y || !dx || !lse || !dr) {
        perror("tests/vecmathf");
        exit(99);
    }
    for (int i = 0; i < len; i++) {
        x[i] = uniform(-20, 20);
        dy[i] = uniform(-1, 1);
    }
    for (int r = 0; r < rows; r++)
        dr[r] = uniform(-1, 1);
    double tol = (n + 8) * (double)FLT_EPSILON, worst = 0;
    for (int kind = 0; kind < 6; kind++) {
        switch (kind) {
        case 0: gradrt_softmaxf(rows, n, x, y); break;
        case 1: gradrt_log_softmaxf(rows, n, x, y); break;
        case 2: gradrt_logsumexpf(rows, n, x, lse); break;
        case 3:
            gradrt_softmaxf(rows, n, x, y);
            gradrt_softmax_backwardf(rows, n, y, dy, dx, 0);
            break;
        case 4: gradrt_log_softmax_backward_xf(rows, n, x, dy, dx, 0); break;
        default: gradrt_logsumexp_backwardf(rows, n, x, dr, dx, 0); break;
        }
        for (int r = 0; r < rows; r++) {
            const float *xr = x + r * n, *dyr = dy + r * n;
            long double m = xr[0], s = 0, dot = 0, sum = 0, size_dot = 0;
            for (int j = 1; j < n; j++)
                m = fmaxl(m, xr[j]);
            for (int j = 0; j < n; j++)
                s += expl(xr[j] - m);
            for (int j = 0; j < n; j++) {
                /* softmax_backward reads the float softmax y */
                dot += (long double)dyr[j] * y[r * n + j];
                size_dot += fabsl((long double)dyr[j] * y[r * n + j]);
                sum += dyr[j];
            }
            for (int j = 0; j < (kind == 2 ? 1 : n); j++) {
                long double p = expl(xr[j] - m) / s, want, size;
                float got = kind == 2 ? lse[r] : kind >= 3 ? dx[r * n + j] : y[r * n + j];
                switch (kind) {
                case 0: want = p; size = p; break;
                case 1:
                    /* log(s) of the rounded sum s >= 1 is off by up to n
                     * FLT_EPSILON: absolutely, whatever the entry */
                    want = (xr[j] - m) - logl(s);
                    size = fabsl(xr[j] - m) + logl(s) + 1;
                    break;
                case 2: want = m + logl(s); size = fabsl(m) + logl(s) + 1; break;
                case 3:
                    want = (long double)y[r * n + j] * (dyr[j] - dot);
                    size = (long double)y[r * n + j] * (fabsl(dyr[j]) + size_dot);
                    break;
                case 4: {
                    long double abs_sum = 0;
                    for (int k = 0; k < n; k++)
                        abs_sum += fabsl((long double)dyr[k]);
                    want = dyr[j] - p * sum;
                    size = fabsl(dyr[j]) + p * abs_sum;
                    break;
                }
                default:
                    want = dr[r] * p;
                    size = fabsl(want);
                    break;
                }
                double err = (double)(fabsl(got - want) / size);
                if (size > 0 && err > worst)
                    worst = err;
                /* exp(x - m) carries the rounding of x - m: |x - m| ulps */
                long double bound = (tol + fabsl(xr[j] - m) * FLT_EPSILON) * size;
                if (!(fabsl(got - want) <= bound) && ++failures <= 20)
                    fprintf(stderr, "FAIL: row kernel %d, n = %d, row %d, element %d: "
                            "got %a, want %La\n", kind, n, r, j, (double)got, want);
            }
        }
    }
    free(x);
    free(dy);
    free(y);
    free(dx);
    free(lse);
    free(dr);
    return worst / (double)FLT_EPSILON;
}

#define CHECK_REAL float
#define CHECK_CORRELATE gradrt_correlatef
#define CHECK_EPSILON FLT_EPSILON
#include "correlate-check.h"

int main(void)
{
    static float x[CHUNK];
    static const float fixed[] = {
        0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1.0f, -1.0f, 0.5f, -0.5f, 20.0f, -20.0f,
        88.0f, -88.0f, 89.0f, -104.0f, -150.0f, 1e-30f, -1e-30f, FLT_MIN, 0x1p-149f,
        FLT_MAX, -FLT_MAX, 0x1p-12f, -0x1p-12f,
    };
    enum { NFIXED = sizeof fixed / sizeof fixed[0] };
    for (int k = 0; k < NKERNELS; k++) {
        Kernel *kn = &kernels[k];
        check_chunk(kn, fixed, NFIXED);
        for (int c = 0; c < CHUNKS; c++) {
            for (int i = 0; i < CHUNK; i++)
                x[i] = c % 2 ? uniform(-kn->range, kn->range) : float_of((uint32_t)rng());
            check_chunk(kn, x, CHUNK - c % 17);
        }
        printf("%-14s %8ld arguments: array kernel %.4f ulps (at %a), scalar %.2f ulps (at %a)\n",
               kn->name, kn->points, kn->worst_array, (double)kn->worst_array_at,
               kn->worst_scalar, (double)kn->worst_scalar_at);
    }
    check_forms(fixed, NFIXED);
    for (int c = 0; c < 16; c++) {
        for (int i = 0; i < CHUNK; i++)
            x[i] = c % 2 ? uniform(-30, 30) : float_of((uint32_t)rng());
        check_forms(x, CHUNK - c);
    }
    printf("fused and backward forms: bit for bit the single kernels\n");
    static const int widths[] = { 1, 2, 3, 10, 100, 1000 };
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++)
        printf("rows of %4d: worst error %.2f FLT_EPSILON of the terms' size "
               "(bound %d + |x - m|)\n",
               widths[w], check_rows(widths[w] < 100 ? 64 : 8, widths[w]), widths[w] + 8);
    check_correlate();
    printf("gradrt_correlatef: within (n + 2) FLT_EPSILON of its terms' size\n");
    printf("%d failures\n", failures);
    return failures ? 1 : 0;
}
