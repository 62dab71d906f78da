/* correlate-real.h: gradrt_correlate for one type.  correlate.c includes
 * it once for double and once for float, after defining REAL, the type,
 * and NAME(name), a name with the type's suffix. */
/* a . b over LEN elements.  Named sums, not an array: an array of them
 * stays in memory at -O2, and its stores took 60% of the time. */
static REAL NAME(correlate_dot)(int len, const REAL *a, const REAL *b)
{
    REAL s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    int i = 0;
    for (; i + 8 <= len; i += 8) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
        s4 += a[i + 4] * b[i + 4];
        s5 += a[i + 5] * b[i + 5];
        s6 += a[i + 6] * b[i + 6];
        s7 += a[i + 7] * b[i + 7];
    }
    for (; i < len; i++)
        s0 += a[i] * b[i];
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
}

void NAME(gradrt_correlate)(int n, int k, const REAL *x, const REAL *dy,
                            REAL beta, REAL *dh)
{
    int r = (k - 1) / 2;
    for (int j = 0; j < k; j++) {
        /* The samples i whose x[i + j - r] lies inside x. */
        int lo = j < r ? r - j : 0;
        int hi = n + r - j < n ? n + r - j : n;
        REAL sum = hi > lo ? NAME(correlate_dot)(hi - lo, dy + lo, x + lo + j - r) : 0;
        dh[j] = beta == 0 ? sum : beta * dh[j] + sum;
    }
}
