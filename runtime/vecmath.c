/* vecmath.c: the runtime's elementwise kernels over arrays, built on an exp
 * of its own that vectorises.
 *
 * The element functions have no branches: every choice is a select
 * between values already at hand (or a copysign), or arithmetic, never a
 * select between two arithmetic expressions or of constants.  gcc will not
 * evaluate floating-point arithmetic that may trap on a path the source
 * did not take, and it threads a constant through to the arithmetic after
 * it, either way leaving a branch and a loop it does not vectorise.  That
 * is also why the range is clamped with one select rather than two.
 *
 * The array functions run them a block of BLOCK elements at a time, into
 * local arrays: a loop of a fixed count whose output nothing aliases is one
 * that gcc -O2 vectorises (its cheap cost model refuses a loop that needs a
 * remainder or a run-time overlap check), and storing only after a block
 * is done lets an output be an input.  The last block is padded, so every
 * element goes through the same instructions and gets the same result
 * wherever it sits in the array: built with OpenMP, long arrays are split
 * over threads by whole blocks, with the same result. */
#include <stdint.h>
#include <string.h>

#include "gradrt.h"

/* Written by runtime/vecmath-coef.py, which says where they come from. */
#define LOG2_E 0x1.71547652b82fep+0
#define LN2_HI 0x1.62e42fefa3800p-1
#define LN2_LO 0x1.ef35793c76730p-45
/* (e^r - 1 - r) / r^2 on [-0.35, 0.35],
 * lowest degree first; largest error 2.1e-18 */
static const double EXP_Q[11] = {
    0x1.0000000000000p-1, 0x1.5555555555557p-3, 0x1.5555555555556p-5,
    0x1.111111110ff8bp-7, 0x1.6c16c16c16214p-10, 0x1.a01a01ac9de9ep-13,
    0x1.a01a01a74077ap-16, 0x1.71ddfff6573d6p-19, 0x1.27e4da1e12fb1p-22,
    0x1.af5282aacdb2ep-26, 0x1.1f75a3caadff5p-29,
};
/* (2 atanh(s) - 2s) / s^3 as a polynomial in t = s^2 on [0, 0.041],
 * lowest degree first; largest error 3.9e-17 */
static const double LOG_G[8] = {
    0x1.5555555555555p-1, 0x1.999999999a026p-2, 0x1.24924923c0f11p-2,
    0x1.c71c730551210p-3, 0x1.745ca0be055ebp-3, 0x1.3b2b97e217ecep-3,
    0x1.0e69af653d271p-3, 0x1.17a3a771d6886p-3,
};

/* 1.5 * 2^52: v + SHIFTER rounds v (|v| < 2^51) to an integer, which then
 * sits in the low bits of the sum. */
#define SHIFTER 0x1.8p52

enum { BLOCK = 16 };

/* Arrays of at least this many elements are split over threads, where the
 * runtime is built with OpenMP: at 3 to 4 ns an element (bench/vec), each
 * of two threads gets 50 us of work or more, many times the cost of the
 * fork and join (a few microseconds while the cores are free). */
#define THREAD_MIN 32768
#ifdef _OPENMP
#define SPLIT_BLOCKS _Pragma("omp parallel for schedule(static) if(n >= THREAD_MIN)")
#else
#define SPLIT_BLOCKS
#endif

/* With gcc and glibc on x86-64 the kernels are compiled twice, for AVX2
 * and for the baseline, and the dynamic loader picks one for the CPU (an
 * ifunc): four lanes instead of two where the CPU has AVX2, whatever flags
 * the library was built with.  Neither clone uses FMA, so both give the
 * same bits.  (clang 14 would export the resolver; -DCPU_CLONES= builds
 * the baseline alone, for comparison.) */
#if !defined CPU_CLONES && defined __x86_64__ && defined __GLIBC__ \
    && !defined __clang__ && defined __has_attribute
#if __has_attribute(target_clones)
#define CPU_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef CPU_CLONES
#define CPU_CLONES
#endif

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

/* 2^k from t = k + SHIFTER, k an integer in (-1023, 1024). */
static double pow2_of(double t)
{
    return double_of((bits_of(t) - bits_of(SHIFTER) + 1023) << 52);
}

/* The polynomials by Horner's rule, written out: gcc -O2 would leave a loop
 * over the coefficients rolled, and the loop around it unvectorised. */
static inline double exp_q(double r)
{
    const double *c = EXP_Q;
    return c[0] + r * (c[1] + r * (c[2] + r * (c[3] + r * (c[4] + r * (c[5]
        + r * (c[6] + r * (c[7] + r * (c[8] + r * (c[9] + r * c[10])))))))));
}

static inline double log_g(double t)
{
    const double *c = LOG_G;
    return c[0] + t * (c[1] + t * (c[2] + t * (c[3] + t * (c[4] + t * (c[5]
        + t * (c[6] + t * c[7]))))));
}

/* e^a, and e^a - 1 in *am1 (for a <= 0 only).  e^a = 2^k e^r with
 * |r| <= ln(2)/2, and 2^k is split into two normal powers of 2, s1 s2, so
 * that the last product rounds once whether the result is normal,
 * subnormal, 0 or inf. */
static inline double exp_elem(double a, double *am1)
{
    /* beyond 746 exp is inf or 0 either way, and |k| stays below 1077;
     * NaN goes through as NaN */
    double x = fabs(a) > 746 ? copysign(746, a) : a;
    double tk = x * LOG2_E + SHIFTER;
    double k = tk - SHIFTER;
    double tk1 = k * 0.5 + SHIFTER;
    double k1 = tk1 - SHIFTER;
    double s1 = pow2_of(tk1), s2 = pow2_of(k - k1 + SHIFTER);
    /* x - k LN2_HI is exact (k LN2_HI has at most 53 bits and is within a
     * factor 2 of x); r_lo is what rounding r loses */
    double r_hi = x - k * LN2_HI;
    double k_lo = k * LN2_LO;
    double r = r_hi - k_lo;
    double r_lo = (r_hi - r) - k_lo;
    /* e^(r + r_lo) = 1 + r + r^2 q(r) + r_lo e^r, and r_lo (1 + r) leaves
     * out r_lo (e^r - 1 - r), below 2^-58; 1 + r is added exactly, as the
     * rounded sum and its error */
    double tail = r * r * exp_q(r) + r_lo * (1 + r);
    double one_r = 1 + r;
    double p = one_r + (((1 - one_r) + r) + tail);
    double scale = s1 * s2;
    *am1 = (scale - 1) + scale * (r + tail);
    return p * s1 * s2; /* not p * scale, which may have underflowed */
}

/* log(1 + u) for u in [0, 1] (or NaN).  1 + u = 2^e (1 + f) with e = u
 * rounded to an integer, 0 or 1, and f = u for e = 0 and (u - 1)/2 for
 * e = 1, both exact, so |f| <= 1/2 and s = f / (2 + f) is at most 0.2;
 * then log(1 + f) = 2 atanh(s) = 2s + s^3 g(s^2), and 2s = f - s f gives
 * f - s (f - s^2 g).  e comes from arithmetic: gcc turns a select of 0 or 1
 * into a branch. */
static inline double log1p_unit(double u)
{
    double e = (u + SHIFTER) - SHIFTER;
    double f = (u - e) * (1 - 0.5 * e);
    double s = f / (2 + f);
    double t = s * s;
    double e_hi = e * LN2_HI;
    double hi = e_hi + f;
    double lo = (e_hi - hi) + f; /* exact: e_hi is 0 or above |f| */
    return hi + ((lo + e * LN2_LO) - s * (f - t * log_g(t)));
}

/* The formulas of gradrt.c's scalar functions, from z = e^-|x| (e^-2|x|
 * for tanh), so that nothing overflows. */
static inline double sigmoid_of(double x, double z)
{
    return (x >= 0 ? 1 : z) / (1 + z);
}

static inline double sigmoid_deriv_of(double z)
{
    return z / ((1 + z) * (1 + z));
}

static inline double tanh_deriv_of(double z)
{
    return 4 * z / ((1 + z) * (1 + z));
}

/* tanh|x| = (1 - z) / (1 + z) with the numerator from zm1 = e^(-2|x|) - 1,
 * which keeps the relative accuracy of small |x| that 1 - z would cancel
 * away. */
static inline double tanh_of(double x, double z, double zm1)
{
    return copysign(-zm1 / (1 + z), x);
}

typedef enum Kernel {
    EXP, SIGMOID, SIGMOID_DERIV, SIGMOID_PAIR, SOFTPLUS, SOFTPLUS_PAIR,
    TANH, TANH_DERIV, TANH_PAIR
} Kernel;

#define REAL double
#define NAME(name) name
#include "vecmath-real.h"
#undef REAL
#undef NAME

#define REAL float
#define NAME(name) name##f
#include "vecmath-real.h"
#undef REAL
#undef NAME
