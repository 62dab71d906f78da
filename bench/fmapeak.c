/* fmapeak.c: the core's peak double-precision FMA rate, measured.
 *
 * Twelve independent chains acc = acc * m + a, in the widest vectors the
 * compiler targets (build with -O2 -march=native): more chains than an
 * FMA's latency times the FMA units of current cores, so none waits for
 * another.  Prints the best of several rounds in GFLOP/s of process CPU
 * time, an FMA counting two FLOPs:
 *   fma_peak GFLOPS WIDTH */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <time.h>

#if defined(__AVX512F__)
#include <immintrin.h>
typedef __m512d Vec;
#define WIDTH 8
#define SPLAT(x) _mm512_set1_pd(x)
#define FMA(a, b, c) _mm512_fmadd_pd(a, b, c)
#define SUM(v) _mm512_reduce_add_pd(v)
#elif defined(__FMA__) && defined(__AVX__)
#include <immintrin.h>
typedef __m256d Vec;
#define WIDTH 4
#define SPLAT(x) _mm256_set1_pd(x)
#define FMA(a, b, c) _mm256_fmadd_pd(a, b, c)
static double SUM(Vec v)
{
    double d[4];
    _mm256_storeu_pd(d, v);
    return d[0] + d[1] + d[2] + d[3];
}
#else
typedef double Vec;
#define WIDTH 1
#define SPLAT(x) (x)
#define FMA(a, b, c) fma(a, b, c)
#define SUM(v) (v)
#endif

#define ROUNDS 7
#define ITERATIONS 20000000L

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Twelve chains, each of ITERATIONS dependent FMAs; the sum keeps them
 * live. */
static double chains(double seed)
{
    Vec m = SPLAT(0.9999999), a = SPLAT(1e-7);
    Vec c0 = SPLAT(seed), c1 = SPLAT(seed + 1), c2 = SPLAT(seed + 2),
        c3 = SPLAT(seed + 3), c4 = SPLAT(seed + 4), c5 = SPLAT(seed + 5),
        c6 = SPLAT(seed + 6), c7 = SPLAT(seed + 7), c8 = SPLAT(seed + 8),
        c9 = SPLAT(seed + 9), c10 = SPLAT(seed + 10), c11 = SPLAT(seed + 11);
    for (long i = 0; i < ITERATIONS; i++) {
        c0 = FMA(c0, m, a);
        c1 = FMA(c1, m, a);
        c2 = FMA(c2, m, a);
        c3 = FMA(c3, m, a);
        c4 = FMA(c4, m, a);
        c5 = FMA(c5, m, a);
        c6 = FMA(c6, m, a);
        c7 = FMA(c7, m, a);
        c8 = FMA(c8, m, a);
        c9 = FMA(c9, m, a);
        c10 = FMA(c10, m, a);
        c11 = FMA(c11, m, a);
    }
    return SUM(c0) + SUM(c1) + SUM(c2) + SUM(c3) + SUM(c4) + SUM(c5)
           + SUM(c6) + SUM(c7) + SUM(c8) + SUM(c9) + SUM(c10) + SUM(c11);
}

int main(void)
{
    double best = 0, sink = 0;
    for (int r = 0; r < ROUNDS; r++) {
        double t = cpu_seconds();
        sink += chains(r);
        t = cpu_seconds() - t;
        best = fmax(best, 12.0 * WIDTH * 2 * ITERATIONS / t);
    }
    printf("fma_peak %.3f %d\n", best * 1e-9, WIDTH);
    return sink == 0;
}
