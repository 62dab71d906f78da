/* correlate-check.h: gradrt_correlate, or its float twin, against the sum
 * of its definition in long double, for signals shorter and longer than
 * the kernel: each result within the bound of a sum of (n + 1) rounded
 * terms, (n + 2) EPSILON times the sum of their sizes.  With beta 0 a NaN
 * in dh must not leak; with beta 1 the sum adds to it.  tests/vecmath.c
 * and tests/vecmathf.c include it after defining CHECK_REAL, the type,
 * CHECK_CORRELATE, the function, and CHECK_EPSILON; each has its own
 * uniform(lo, hi) and failures. */
#define CHECK_STRING(f) CHECK_STRING_OF(f)
#define CHECK_STRING_OF(f) #f

static void check_correlate(void)
{
    enum { MAXN = 40, MAXK = 15 };
    CHECK_REAL x[MAXN], dy[MAXN], dh[MAXK], before[MAXK];
    for (int n = 1; n <= MAXN; n += n < 12 ? 1 : 9)
        for (int k = 1; k <= MAXK; k += 2)
            for (int accumulate = 0; accumulate < 2; accumulate++) {
                for (int i = 0; i < n; i++) {
                    x[i] = uniform(-2, 2);
                    dy[i] = uniform(-2, 2);
                }
                for (int j = 0; j < k; j++)
                    before[j] = dh[j] = accumulate ? uniform(-1, 1) : NAN;
                CHECK_CORRELATE(n, k, x, dy, (CHECK_REAL)accumulate, dh);
                for (int j = 0; j < k; j++) {
                    long double want = accumulate ? before[j] : 0, size = fabsl(want);
                    for (int i = 0; i < n; i++) {
                        int at = i + j - (k - 1) / 2;
                        if (at >= 0 && at < n) {
                            want += (long double)dy[i] * x[at];
                            size += fabsl((long double)dy[i] * x[at]);
                        }
                    }
                    if (!(fabsl(dh[j] - want) <= (n + 2) * CHECK_EPSILON * size)) {
                        fprintf(stderr, "%s(%d, %d, beta %d): dh[%d] = %.17g, want %.17Lg\n",
                                CHECK_STRING(CHECK_CORRELATE), n, k, accumulate, j, (double)dh[j], want);
                        failures++;
                    }
                }
            }
}
