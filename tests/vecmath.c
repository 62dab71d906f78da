/* vecmath: the runtime's array kernels (runtime/vecmath.c) against the C
 * library and against references in long double (64-bit significand on
 * x86, 11 bits beyond double: enough to measure errors in doubles' ulps).
 *
 * For each kernel, millions of arguments: uniform over the range where the
 * result is neither 0 nor saturated, uniform bit patterns (every binade,
 * NaN and the infinities), magnitudes 2^-1074 .. 2^10 spread evenly in the
 * exponent, the stretches where results turn subnormal, overflow or round
 * to 1, and fixed points.  Each array result must be
 *   - within BOUND ulps of what the scalar function (gradrt.c, or libm's
 *     tanh and exp, which generated code calls) gives for the same
 *     argument, and bit for bit the same at NaN, the infinities and zeros;
 *   - for exp, within 1 ulp of the true value (faithfully rounded);
 *   - the same wherever the element sits in the array, in place or not,
 *     and in the fused and backward forms.
 * Also gradrt_correlate (runtime/correlate.c), the convolution kernel's
 * adjoint, against its definition.  It prints the worst errors it
 * measured, against the scalar function and against the long double
 * reference (for both), and exits 1 on a violation. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradrt.h"

enum { CHUNK = 4096 };

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

static double uniform(double lo, double hi)
{
    return lo + (hi - lo) * ((double)(rng() >> 11) * 0x1p-53);
}

static uint64_t bits_of(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static double double_of(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* How many doubles apart a and b are, counting -0 and +0 as neighbours
 * (so a sign differs by at least 1); 0 for two NaNs, and huge for a NaN
 * and a number. */
static double ulps_apart(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b) ? 0 : HUGE_VAL;
    uint64_t ma = bits_of(fabs(a)), mb = bits_of(fabs(b));
    if (signbit(a) != signbit(b))
        return (double)ma + (double)mb + 1;
    return (double)(ma > mb ? ma - mb : mb - ma);
}

/* |got - want| in ulps of the double nearest want (its subnormal spacing
 * below DBL_MIN); an infinity is right only where want rounds to it. */
static double ulp_error(double got, long double want)
{
    if (isnan(want) || isnan(got))
        return isnan(want) && isnan(got) ? 0 : HUGE_VAL;
    if (isinf(got) || (double)want == got)
        return (double)want == got ? 0 : HUGE_VAL;
    int e;
    frexpl(want, &e);
    int ulp_exp = e - 53 < -1074 ? -1074 : e - 53;
    return (double)(fabsl((long double)got - want) / ldexpl(1, ulp_exp));
}

/* The references in long double: the same formulas as gradrt.c's, which
 * at this precision are far inside a double's rounding error. */
static long double ref_exp(double x)
{
    return expl(x);
}

static long double ref_sigmoid(double x)
{
    long double z = expl(-fabsl(x));
    return (x >= 0 ? 1 : z) / (1 + z);
}

static long double ref_sigmoid_deriv(double x)
{
    long double z = expl(-fabsl(x));
    return z / ((1 + z) * (1 + z));
}

static long double ref_softplus(double x)
{
    return (x > 0 ? x : 0) + log1pl(expl(-fabsl(x)));
}

static long double ref_tanh(double x)
{
    return tanhl(x);
}

static long double ref_tanh_deriv(double x)
{
    long double z = expl(-2 * fabsl(x));
    return 4 * z / ((1 + z) * (1 + z));
}

typedef struct Kernel {
    const char *name;
    void (*array)(int, const double *, double *);
    double (*scalar)(double);
    long double (*ref)(double);
    /* the most ulps the array form may differ from the scalar one */
    double bound;
    /* arguments uniform in [-range, range] give neither 0 nor saturation */
    double range;
    /* the stretch where the results turn subnormal, [lo, hi] */
    double subnormal_lo, subnormal_hi;
    /* measured */
    double worst_scalar, worst_ref, worst_scalar_ref;
    double worst_at;
    long differ, points;
} Kernel;

static Kernel kernels[] = {
    {"exp", gradrt_exp_array, exp, ref_exp, 1, 700, -745.2, -708.3,
     0, 0, 0, 0, 0, 0},
    {"sigmoid", gradrt_sigmoid_array, gradrt_sigmoid, ref_sigmoid, 2, 40,
     -745.2, -708.3, 0, 0, 0, 0, 0, 0},
    {"sigmoid_deriv", gradrt_sigmoid_deriv_array, gradrt_sigmoid_deriv,
     ref_sigmoid_deriv, 3, 40, 708.3, 745.2, 0, 0, 0, 0, 0, 0},
    {"softplus", gradrt_softplus_array, gradrt_softplus, ref_softplus, 2, 40,
     -745.2, -708.3, 0, 0, 0, 0, 0, 0},
    {"tanh", gradrt_tanh_array, tanh, ref_tanh, 3, 20, -0x1p-1022,
     0x1p-1022, 0, 0, 0, 0, 0, 0},
    {"tanh_deriv", gradrt_tanh_deriv_array, gradrt_tanh_deriv,
     ref_tanh_deriv, 4, 20, 354.2, 372.6, 0, 0, 0, 0, 0, 0},
};
enum { NKERNELS = sizeof kernels / sizeof kernels[0] };

static void report(Kernel *k, double x, double got, const char *what,
                   double want)
{
    if (++failures <= 20)
        fprintf(stderr, "FAIL %s(%a) = %a, %s %a\n", k->name, x, got, what,
                want);
}

/* Runs the array form over x[0..n-1] and checks every element. */
static void check_points(Kernel *k, const double *x, int n)
{
    double y[CHUNK];
    k->array(n, x, y);
    for (int i = 0; i < n; i++) {
        double want = k->scalar(x[i]);
        long double ref = k->ref(x[i]);
        double apart = ulps_apart(y[i], want);
        int special = isnan(x[i]) || isinf(x[i]) || x[i] == 0;
        if (apart > k->bound || (special && apart != 0))
            report(k, x[i], y[i], "but the scalar form gives", want);
        double err = ulp_error(y[i], ref);
        if (k->array == gradrt_exp_array && !(err < 1))
            report(k, x[i], y[i], "beyond 1 ulp of", (double)ref);
        if (apart > k->worst_scalar) {
            k->worst_scalar = apart;
            k->worst_at = x[i];
        }
        if (err > k->worst_ref)
            k->worst_ref = err;
        double scalar_err = ulp_error(want, ref);
        if (scalar_err > k->worst_scalar_ref)
            k->worst_scalar_ref = scalar_err;
        k->differ += apart != 0;
    }
    k->points += n;
}

/* COUNT arguments from GEN, a chunk at a time. */
static void check_many(Kernel *k, long count, double (*gen)(const Kernel *))
{
    double x[CHUNK];
    for (long done = 0; done < count; done += CHUNK) {
        for (int i = 0; i < CHUNK; i++)
            x[i] = gen(k);
        check_points(k, x, CHUNK);
    }
}

static double gen_range(const Kernel *k)
{
    return uniform(-k->range, k->range);
}

static double gen_bits(const Kernel *k)
{
    (void)k;
    return double_of(rng());
}

/* 2^-1074 .. 2^10 with a random sign, even in the exponent */
static double gen_magnitude(const Kernel *k)
{
    (void)k;
    double m = ldexp(uniform(1, 2), (int)(rng() % 1085) - 1075);
    return rng() & 1 ? m : -m;
}

static double gen_subnormal(const Kernel *k)
{
    return uniform(k->subnormal_lo, k->subnormal_hi);
}

/* within 2^-20 of 1: the results round to 1, or the ulp changes */
static double gen_near_one(const Kernel *k)
{
    (void)k;
    return uniform(-0x1p-20, 0x1p-20) * (rng() & 1 ? 1 : 1e-300);
}

/* exp's edges: overflow, the subnormal and zero results */
static double gen_exp_edges(const Kernel *k)
{
    (void)k;
    switch (rng() % 3) {
    case 0:
        return uniform(709.7, 709.8);
    case 1:
        return uniform(-745.2, -744.4);
    default:
        return uniform(-0x1p-30, 0x1p-30);
    }
}

/* The arguments where results saturate: sigmoid's and tanh's round to
 * +-1 or 0, softplus's to x itself. */
static double gen_saturating(const Kernel *k)
{
    (void)k;
    double m = uniform(15, 800);
    return rng() & 1 ? m : -m;
}

/* Fixed points: zeros, infinities, NaN, the extremes, and a few doubles
 * either side of exp's overflow and underflow thresholds. */
static void check_fixed(Kernel *k)
{
    static const double base[] = {
        0.0, -0.0, INFINITY, -INFINITY, NAN, -NAN, DBL_MAX, -DBL_MAX,
        DBL_MIN, -DBL_MIN, 0x1p-1074, -0x1p-1074, 1, -1, 0.5, -0.5,
        0x1.62e42fefa39efp+9, -0x1.74910d52d3051p+9, -0x1.6232bdd7abcd2p+9,
        746, -746, 710, -710, 1e300, -1e300,
    };
    double x[CHUNK];
    int n = 0;
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
        for (int step = -8; step <= 8; step++) {
            double v = base[i];
            for (int s = 0; s < abs(step) && isfinite(v); s++)
                v = nextafter(v, step < 0 ? -INFINITY : INFINITY);
            x[n++] = v;
        }
    check_points(k, x, n);
}

/* Where an element sits in the array changes nothing, whether or not the
 * output is the input, and the fused and backward forms give the array
 * form's values: exactly, since they compute the same way. */
static void check_layouts(void)
{
    enum { N = 70 };
    double x[N], y[N], t[N], d[N], dy[N], dx[N];
    for (int i = 0; i < N; i++)
        x[i] = uniform(-30, 30);
    x[3] = NAN;
    x[17] = -INFINITY;
    x[40] = INFINITY;
    x[41] = -0.0;
    for (int k = 0; k < NKERNELS; k++)
        for (int n = 0; n <= N; n += n < 20 ? 1 : 7) {
            memcpy(t, x, sizeof x);
            kernels[k].array(n, t, t);
            for (int i = 0; i < n; i++) {
                kernels[k].array(1, x + i, y + i);
                if (ulps_apart(y[i], t[i]) != 0)
                    report(&kernels[k], x[i], t[i], "in place, alone", y[i]);
            }
        }

    static const struct {
        void (*fused)(int, const double *, double *, double *);
        void (*value)(int, const double *, double *);
        void (*deriv)(int, const double *, double *);
        Kernel *kernel;
    } pairs[] = {
        {gradrt_sigmoid_and_deriv, gradrt_sigmoid_array,
         gradrt_sigmoid_deriv_array, &kernels[1]},
        {gradrt_tanh_and_deriv, gradrt_tanh_array, gradrt_tanh_deriv_array,
         &kernels[4]},
        {gradrt_softplus_and_deriv, gradrt_softplus_array, gradrt_sigmoid_array,
         &kernels[3]},
    };
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
        pairs[p].fused(N, x, t, d);
        pairs[p].value(N, x, y);
        pairs[p].deriv(N, x, dy);
        for (int i = 0; i < N; i++)
            if (ulps_apart(t[i], y[i]) != 0 || ulps_apart(d[i], dy[i]) != 0)
                report(pairs[p].kernel, x[i], t[i], "fused, alone", y[i]);
    }

    /* The scalar forms the forward pass calls when it keeps a derivative:
     * bit for bit the scalar functions (sigmoid, softplus) or the arrays
     * (tanh). */
    for (int i = 0; i < N; i++) {
        double ds, dsp, dt, t1, dt1;
        double s1 = gradrt_sigmoid_with_deriv(x[i], &ds);
        double sp = gradrt_softplus_with_deriv(x[i], &dsp);
        double th = gradrt_tanh_with_deriv(x[i], &dt);
        gradrt_tanh_and_deriv(1, x + i, &t1, &dt1);
        if (ulps_apart(s1, gradrt_sigmoid(x[i])) != 0 ||
            ulps_apart(ds, gradrt_sigmoid_deriv(x[i])) != 0)
            report(&kernels[1], x[i], s1, "with_deriv, not", gradrt_sigmoid(x[i]));
        if (ulps_apart(sp, gradrt_softplus(x[i])) != 0 ||
            ulps_apart(dsp, gradrt_sigmoid(x[i])) != 0)
            report(&kernels[3], x[i], sp, "with_deriv, not", gradrt_softplus(x[i]));
        if (ulps_apart(th, t1) != 0 || ulps_apart(dt, dt1) != 0)
            report(&kernels[4], x[i], th, "with_deriv, not", t1);
    }

    /* dx = dy f'(x), overwriting NaN; then dx += dy f'(x) */
    static const struct {
        void (*backward)(int, const double *, const double *, double *, int);
        void (*deriv)(int, const double *, double *);
        Kernel *kernel;
    } backs[] = {
        {gradrt_sigmoid_backward, gradrt_sigmoid_deriv_array, &kernels[2]},
        {gradrt_softplus_backward, gradrt_sigmoid_array, &kernels[3]},
        {gradrt_tanh_backward, gradrt_tanh_deriv_array, &kernels[5]},
    };
    for (size_t b = 0; b < sizeof backs / sizeof backs[0]; b++) {
        for (int i = 0; i < N; i++) {
            dy[i] = uniform(-2, 2);
            dx[i] = NAN;
        }
        backs[b].deriv(N, x, d);
        backs[b].backward(N, x, dy, dx, 0);
        for (int i = 0; i < N; i++)
            if (ulps_apart(dx[i], dy[i] * d[i]) != 0)
                report(backs[b].kernel, x[i], dx[i], "backward, not",
                       dy[i] * d[i]);
        memcpy(t, dx, sizeof dx);
        backs[b].backward(N, x, dy, dx, 1);
        for (int i = 0; i < N; i++)
            if (ulps_apart(dx[i], t[i] + dy[i] * d[i]) != 0)
                report(backs[b].kernel, x[i], dx[i], "accumulated, not",
                       t[i] + dy[i] * d[i]);
        /* in place on dy */
        memcpy(t, dy, sizeof dy);
        backs[b].backward(N, x, t, t, 0);
        for (int i = 0; i < N; i++)
            if (ulps_apart(t[i], dy[i] * d[i]) != 0)
                report(backs[b].kernel, x[i], t[i], "backward in place, not",
                       dy[i] * d[i]);
    }
}

#define CHECK_REAL double
#define CHECK_CORRELATE gradrt_correlate
#define CHECK_EPSILON DBL_EPSILON
#include "correlate-check.h"

int main(int argc, char **argv)
{
    /* millions of points per kernel by default; more with an argument */
    long per = argc > 1 ? atol(argv[1]) : 1L << 20;
    for (int i = 0; i < NKERNELS; i++) {
        Kernel *k = &kernels[i];
        check_fixed(k);
        check_many(k, per, gen_range);
        check_many(k, per / 2, gen_bits);
        check_many(k, per / 2, gen_magnitude);
        check_many(k, per / 4, gen_subnormal);
        check_many(k, per / 4, gen_near_one);
        check_many(k, per / 4, gen_saturating);
        if (k->array == gradrt_exp_array)
            check_many(k, per, gen_exp_edges);
    }
    check_layouts();
    check_correlate();

    printf("%-14s %9s %8s %10s %10s %10s  %s\n", "kernel", "points",
           "differ", "vs scalar", "array err", "scalar err", "worst at");
    for (int i = 0; i < NKERNELS; i++) {
        Kernel *k = &kernels[i];
        printf("%-14s %9ld %8ld %6.0f ulp %6.3f ulp %6.3f ulp  %a\n", k->name,
               k->points, k->differ, k->worst_scalar, k->worst_ref,
               k->worst_scalar_ref, k->worst_at);
    }
    printf("(vs scalar: largest difference from the scalar form, bound\n"
           " exp 1, sigmoid and softplus 2, sigmoid_deriv and tanh 3,\n"
           " tanh_deriv 4; err: largest error against long double)\n");
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    return 0;
}
