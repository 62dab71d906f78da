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
 * wherever it sits in the array. */
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

/* 1.5 * 2^52: v + SHIFTER rounds v (|v| < 2^51) to an integer, which then
 * sits in the low bits of the sum. */
#define SHIFTER 0x1.8p52

enum { BLOCK = 16 };

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

/* The polynomial by Horner's rule, written out: gcc -O2 would leave a loop
 * over the coefficients rolled, and the loop around it unvectorised. */
static inline double exp_q(double r)
{
    const double *c = EXP_Q;
    return c[0] + r * (c[1] + r * (c[2] + r * (c[3] + r * (c[4] + r * (c[5]
        + r * (c[6] + r * (c[7] + r * (c[8] + r * (c[9] + r * c[10])))))))));
}

/* e^a = 2^k e^r with |r| <= ln(2)/2, and 2^k split into two normal powers
 * of 2, s1 s2, so that the last product rounds once whether the result is
 * normal, subnormal, 0 or inf. */
static inline double exp_elem(double a)
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
    return p * s1 * s2;
}

/* y = e^x over one block; y is the caller's local array, so nothing
 * aliases x. */
CPU_CLONES static void exp_block(const double *x, double *restrict y)
{
    for (int j = 0; j < BLOCK; j++)
        y[j] = exp_elem(x[j]);
}

/* The block of x at i, of n elements in all: x + i itself when the block
 * is whole, else a copy of what is left in pad, padded with zeros. */
static const double *block_of(const double *x, int i, int n, double *pad)
{
    if (n - i >= BLOCK)
        return x + i;
    for (int j = 0; j < BLOCK; j++)
        pad[j] = i + j < n ? x[i + j] : 0;
    return pad;
}

/* The block of y at i = buf, of n elements in all. */
static void store(double *y, int i, int n, const double *restrict buf)
{
    if (n - i >= BLOCK) {
        for (int j = 0; j < BLOCK; j++)
            y[i + j] = buf[j];
        return;
    }
    for (int j = 0; i + j < n; j++)
        y[i + j] = buf[j];
}

void gradrt_exp_array(int n, const double *x, double *y)
{
    double pad[BLOCK], out[BLOCK];
    for (int i = 0; i < n; i += BLOCK) {
        exp_block(block_of(x, i, n, pad), out);
        store(y, i, n, out);
    }
}
