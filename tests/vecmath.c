/* vecmath: the runtime's array kernels (runtime/vecmath.c) against the C
 * library and against references in long double (64-bit significand on
 * x86, 11 bits beyond double: enough to measure errors in doubles' ulps).
 *
 * For each kernel, millions of arguments: uniform over the range where the
 * result is neither 0 nor saturated, uniform bit patterns (every binade,
 * NaN and the infinities), magnitudes 2^-1074 .. 2^10 spread evenly in the
 * exponent, the stretches where results turn subnormal, overflow or round
 * to 1, and fixed points.  Each array result must be
 *   - within BOUND ulps of what the scalar function (the C library's exp,
 *     which generated code calls) gives for the same argument, and bit
 *     for bit the same at NaN, the infinities and zeros;
 *   - for exp, within 1 ulp of the true value (faithfully rounded);
 *   - the same wherever the element sits in the array, in place or not.
 * It prints the worst errors it measured, against the scalar function and
 * against the long double reference (for both), and exits 1 on a
 * violation. */
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

/* The reference in long double. */
static long double ref_exp(double x)
{
    return expl(x);
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

/* The arguments where results overflow or are 0. */
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
 * output is the input. */
static void check_layouts(void)
{
    enum { N = 70 };
    double x[N], y[N], t[N];
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
}

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

    printf("%-14s %9s %8s %10s %10s %10s  %s\n", "kernel", "points",
           "differ", "vs scalar", "array err", "scalar err", "worst at");
    for (int i = 0; i < NKERNELS; i++) {
        Kernel *k = &kernels[i];
        printf("%-14s %9ld %8ld %6.0f ulp %6.3f ulp %6.3f ulp  %a\n", k->name,
               k->points, k->differ, k->worst_scalar, k->worst_ref,
               k->worst_scalar_ref, k->worst_at);
    }
    printf("(vs scalar: largest difference from the scalar form, bound\n"
           " 1 ulp; err: largest error against long double)\n");
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    return 0;
}
