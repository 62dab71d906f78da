/* demo.h: helpers shared by the example drivers: a small deterministic
 * random number generator (the drivers never call rand(), so they print
 * the same numbers everywhere) and a comparison that prints its worst gap.
 * Everything is static inline; include it from one driver at a time. */
#ifndef DEMO_H
#define DEMO_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

/* SplitMix64 (Steele, Lea and Flood 2014): a 64-bit state and one
 * multiply-xorshift finalizer per number. */
typedef struct demo_rng {
    uint64_t state;
} demo_rng;

static inline uint64_t demo_next(demo_rng *rng)
{
    uint64_t z = (rng->state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi), from the top 53 bits. */
static inline double demo_uniform(demo_rng *rng, double lo, double hi)
{
    double u = (double)(demo_next(rng) >> 11) * (1.0 / 9007199254740992.0);
    return lo + (hi - lo) * u;
}

/* Uniform in 0 .. n-1 (n > 0); the bias is below 2^-32 for the small n
 * the drivers use. */
static inline int demo_below(demo_rng *rng, int n)
{
    return (int)((demo_next(rng) >> 32) % (uint64_t)n);
}

static inline void demo_fill(demo_rng *rng, double *v, int n, double lo,
                             double hi)
{
    for (int i = 0; i < n; i++)
        v[i] = demo_uniform(rng, lo, hi);
}

/* max |got - want| / max |want| over N elements: the gap relative to the
 * size of the reference (absolute when the reference is all zero).  NaN
 * when either side has a NaN. */
static inline double demo_gap(const double *got, const double *want, int n)
{
    double worst = 0.0, scale = 0.0;
    for (int i = 0; i < n; i++) {
        double d = fabs(got[i] - want[i]);
        if (isnan(d))
            return d;
        if (d > worst)
            worst = d;
        if (fabs(want[i]) > scale)
            scale = fabs(want[i]);
    }
    return scale > 0.0 ? worst / scale : worst;
}

/* Prints "  LABEL: relative gap G" and returns 1 when G is not below TOL
 * (a NaN fails), 0 otherwise. */
static inline int demo_check(const char *label, const double *got,
                             const double *want, int n, double tol)
{
    double gap = demo_gap(got, want, n);
    int bad = !(gap <= tol);
    printf("  %-40s relative gap %.1e%s\n", label, gap,
           bad ? "  FAILED" : "");
    return bad;
}

/* Prints "LABEL = [v0, v1, ...]" with N values. */
static inline void demo_print(const char *label, const double *v, int n)
{
    printf("  %s = [", label);
    for (int i = 0; i < n; i++)
        printf("%s%.6g", i ? ", " : "", v[i]);
    printf("]\n");
}

#endif
