/* tests/gemm.c: gradrt_gemm against a naive product in long double.
 *
 * Built with runtime/gemm.c compiled in (GEMM_TESTING), so that besides
 * gradrt_gemm itself it runs every kernel this CPU has, not only the one
 * gradrt_gemm chooses, each by the direct loop and by the blocked path with
 * the default blocks and with small ones (so that shapes of a few dozen
 * cross every block edge).  Shapes cover the edges of the tiles (6 rows,
 * 2 to 16 columns) and blocks, strides wider than the rows, all four
 * transposes, beta 0 over NaN, beta 1 and beta -0.5, and K = 0.
 *
 * Tolerance: a sum of K products computed in double differs from the exact
 * one by at most gamma_K sum|a||b|, gamma_K = K u / (1 - K u) with
 * u = DBL_EPSILON / 2; beta c adds two roundings.  The test allows
 * (K + 2) DBL_EPSILON (sum|a||b| + |beta c|), twice that bound, against a
 * reference in long double, whose own error is 2^-11 times smaller.
 *
 * Built with OpenMP (and without --with-blas, whose BLAS takes the large
 * products), products large enough to be split over threads run on 1, 2
 * and 3 threads (rows and columns split, evenly and not): each within the
 * tolerance, and all identical bit for bit.
 *
 * Built with -DGEMM_TEST_FLOAT it is tests/gemmf, the same checks of
 * gradrt_gemmf and the float kernels, with operands rounded to float and
 * FLT_EPSILON in the bound. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradrt.h"
#include "gemm-internal.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef GEMM_TEST_FLOAT
typedef float Real;
typedef GemmArgsf Args;
#define REAL_EPSILON FLT_EPSILON
#define GEMM gradrt_gemmf
#define GEMM_TEST_RUN gemm_test_runf
#define GEMM_TEST_THREADS gemm_test_threadsf
#define PROGRAM "tests/gemmf"
#else
typedef double Real;
typedef GemmArgs Args;
#define REAL_EPSILON DBL_EPSILON
#define GEMM gradrt_gemm
#define GEMM_TEST_RUN gemm_test_run
#define GEMM_TEST_THREADS gemm_test_threads
#define PROGRAM "tests/gemm"
#endif

/* A value no product writes: the padding of C past each row must keep it. */
#define SENTINEL 1234.5

static int failures;

/* Deterministic values in [-1, 1). */
static double next_value(unsigned long *state)
{
    *state = *state * 6364136223846793005UL + 1442695040888963407UL;
    return (double)(*state >> 11) / 4503599627370496.0 - 1;
}

typedef struct {
    int m, n, k, trans_a, trans_b, pad;
    Real beta;
    Real *a, *b, *c0;        /* the operands and C before the product */
    int lda, ldb, ldc;
    long double *ref;        /* op(A) op(B) + beta C0 */
    double *bound;           /* the tolerance of each element */
} Case;

static Real *new_matrix(int rows, int ld, unsigned long *state)
{
    Real *x = malloc(((size_t)rows * (size_t)ld + 1) * sizeof *x);
    if (!x) {
        perror(PROGRAM);
        exit(99);
    }
    for (int i = 0; i < rows * ld; i++)
        x[i] = (Real)next_value(state);
    return x;
}

/* Operands for one product, and its reference. */
static void case_init(Case *t, int m, int n, int k, int trans_a, int trans_b,
                      int pad, Real beta, unsigned long seed)
{
    t->m = m, t->n = n, t->k = k;
    t->trans_a = trans_a, t->trans_b = trans_b, t->pad = pad;
    t->beta = beta;
    t->lda = (trans_a ? m : k) + pad;
    t->ldb = (trans_b ? k : n) + pad;
    t->ldc = n + pad;
    t->a = new_matrix(trans_a ? k : m, t->lda, &seed);
    t->b = new_matrix(trans_b ? n : k, t->ldb, &seed);
    t->c0 = new_matrix(m, t->ldc, &seed);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < t->ldc; j++)
            if (j >= n || beta == 0)
                t->c0[i * t->ldc + j] = j >= n ? SENTINEL : NAN;
    t->ref = malloc(((size_t)m * (size_t)n + 1) * sizeof *t->ref);
    t->bound = malloc(((size_t)m * (size_t)n + 1) * sizeof *t->bound);
    if (!t->ref || !t->bound) {
        perror(PROGRAM);
        exit(99);
    }
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            long double sum = 0, mag = 0;
            for (int p = 0; p < k; p++) {
                double a = trans_a ? t->a[p * t->lda + i] : t->a[i * t->lda + p];
                double b = trans_b ? t->b[j * t->ldb + p] : t->b[p * t->ldb + j];
                sum += (long double)a * b;
                mag += fabsl((long double)a * b);
            }
            if (beta != 0) {
                long double bc = (long double)beta * t->c0[i * t->ldc + j];
                sum += bc;
                mag += fabsl(bc);
            }
            t->ref[i * n + j] = sum;
            t->bound[i * n + j] = (double)((long double)(k + 2) * REAL_EPSILON * mag);
        }
}

static void case_free(Case *t)
{
    free(t->a);
    free(t->b);
    free(t->c0);
    free(t->ref);
    free(t->bound);
}

/* The arguments of T's product, into a fresh copy of C0 (the caller
 * frees g->c). */
static void case_args(const Case *t, Args *g)
{
    size_t size = (size_t)t->m * (size_t)t->ldc;
    Real *c = malloc((size + 1) * sizeof *c);
    if (!c) {
        perror(PROGRAM);
        exit(99);
    }
    memcpy(c, t->c0, size * sizeof *c);
    Args args = { t->trans_a, t->trans_b, t->m, t->n, t->k, t->a, t->lda,
                  t->b, t->ldb, t->beta, c, t->ldc };
    *g = args;
}

/* Run one kernel by one path on a copy of C0 and compare. */
static void case_check(const Case *t, int kernel, GemmPath path,
                       const GemmBlocks *bk, const char *how)
{
    Args g;
    case_args(t, &g);
    Real *c = g.c;
    if (kernel < 0)
        GEMM(g.trans_a, g.trans_b, g.m, g.n, g.k, g.a, g.lda, g.b,
                    g.ldb, g.beta, g.c, g.ldc);
    else
        GEMM_TEST_RUN(kernel, path, bk, &g);
    int bad = 0;
    for (int i = 0; i < t->m && !bad; i++)
        for (int j = 0; j < t->ldc && !bad; j++) {
            double got = c[i * t->ldc + j];
            if (j >= t->n) {
                bad = got != SENTINEL;
            } else {
                double want = (double)t->ref[i * t->n + j];
                bad = !(fabs(got - want) <= t->bound[i * t->n + j]);
            }
            if (bad && failures < 20)
                fprintf(stderr,
                        "FAIL: %s, %s%s m=%d n=%d k=%d pad=%d beta=%g: "
                        "C[%d][%d] = %.17g, want %.17g%s\n",
                        kernel < 0 ? PROGRAM ": gradrt_gemm" : gemm_test_name(kernel),
                        how, t->trans_a ? (t->trans_b ? " TT" : " TN")
                                        : (t->trans_b ? " NT" : " NN"),
                        t->m, t->n, t->k, t->pad, t->beta, i, j, got,
                        j >= t->n ? SENTINEL : (double)t->ref[i * t->n + j],
                        j >= t->n ? " (past the row)" : "");
        }
    failures += bad;
    free(c);
}

/* Every usable kernel by every path, and gradrt_gemm. */
static int check_all(const Case *t)
{
    static const GemmBlocks small[] = { { 7, 5, 9 }, { 12, 16, 16 } };
    GemmBlocks dflt = { 72, 256, 2048 };
    int runs = 1;
    case_check(t, -1, GEMM_PATH_AUTO, NULL, "auto");
    for (int kn = 0; kn < gemm_test_kernels(); kn++) {
        if (!gemm_test_usable(kn))
            continue;
        case_check(t, kn, GEMM_PATH_DIRECT, NULL, "direct");
        case_check(t, kn, GEMM_PATH_BLOCKED, &dflt, "blocked");
        for (size_t s = 0; s < sizeof small / sizeof small[0]; s++)
            case_check(t, kn, GEMM_PATH_BLOCKED, &small[s], "small blocks");
        runs += 4;
    }
    return runs;
}

static const Real betas[] = { 0, 1, -0.5 };

/* Threads split the runtime's own products; a --with-blas build hands the
 * large ones to the BLAS and its threads. */
#if defined(_OPENMP) && !defined(HAVE_CBLAS)
#define GEMM_TEST_THREADED 1
#endif

#ifdef GEMM_TEST_THREADED
/* C after gradrt_gemm on THREADS threads, which the product must be split
 * over. */
static Real *run_on_threads(const Case *t, int threads)
{
    Args g;
    case_args(t, &g);
    omp_set_num_threads(threads);
    int used = GEMM_TEST_THREADS(&g);
    if (used != threads) {
        fprintf(stderr, "FAIL: m=%d n=%d k=%d: split over %d threads, not %d\n",
                t->m, t->n, t->k, used, threads);
        failures++;
    }
    GEMM(g.trans_a, g.trans_b, g.m, g.n, g.k, g.a, g.lda, g.b, g.ldb,
                g.beta, g.c, g.ldc);
    return g.c;
}

/* gradrt_gemm on 2 and 3 threads: within the tolerance, and the same bits
 * as on one. */
static int check_threads(const Case *t)
{
    static const char *how[] = { "", "", "auto, 2 threads", "auto, 3 threads" };
    omp_set_num_threads(1);
    case_check(t, -1, GEMM_PATH_AUTO, NULL, "auto, 1 thread");
    Real *one = run_on_threads(t, 1);
    for (int threads = 2; threads <= 3; threads++) {
        Real *c = run_on_threads(t, threads);
        case_check(t, -1, GEMM_PATH_AUTO, NULL, how[threads]);
        if (memcmp(c, one, (size_t)t->m * (size_t)t->ldc * sizeof *c) != 0) {
            fprintf(stderr, "FAIL: %s m=%d n=%d k=%d op %d%d beta=%g: not the "
                    "same bits as on 1 thread\n", how[threads], t->m, t->n,
                    t->k, t->trans_a, t->trans_b, (double)t->beta);
            failures++;
        }
        free(c);
    }
    free(one);
    return 5;
}
#endif

int main(void)
{
    /* Around the tile's 6 rows and 2, 4, 8 and 16 columns. */
    static const int sizes[] = { 0, 1, 2, 3, 5, 6, 7, 9, 13, 17 };
    enum { NSIZES = sizeof sizes / sizeof sizes[0] };
    /* Around the default blocks (72 rows, 256 deep), and the mlp model's
     * products at small batches. */
    static const int big[][3] = {
        { 73, 131, 257 }, { 150, 17, 300 }, { 200, 300, 100 },
        { 71, 9, 513 }, { 1, 784, 128 }, { 784, 1, 64 }, { 128, 784, 1 },
        { 64, 128, 200 }, { 97, 250, 33 }, { 300, 40, 255 },
    };
    int runs = 0, cases = 0;

    for (int i = 0; i < gemm_test_kernels(); i++)
        printf("kernel %s: %s%s\n", gemm_test_name(i),
               gemm_test_usable(i) ? "tested" : "not supported by this CPU",
               i == gemm_test_best() ? ", gradrt_gemm's choice" : "");

    for (int im = 0; im < NSIZES; im++)
        for (int in = 0; in < NSIZES; in++)
            for (int ik = 0; ik < NSIZES; ik++)
                for (int tr = 0; tr < 4; tr++, cases++) {
                    Case t;
                    case_init(&t, sizes[im], sizes[in], sizes[ik], tr & 1,
                              tr >> 1, cases % 3 == 0 ? 0 : cases % 5,
                              betas[cases % 3], (unsigned long)cases);
                    runs += check_all(&t);
                    case_free(&t);
                }
    for (size_t s = 0; s < sizeof big / sizeof big[0]; s++)
        for (int tr = 0; tr < 4; tr++, cases++) {
            Case t;
            case_init(&t, big[s][0], big[s][1], big[s][2], tr & 1, tr >> 1,
                      tr, betas[cases % 3], (unsigned long)cases);
            runs += check_all(&t);
            case_free(&t);
        }
#ifdef GEMM_TEST_THREADED
    /* Split by rows (the first two) and by columns (the others); with
     * sizes that 2 and 3 threads do not divide into whole panels. */
    static const int split[][3] = {
        { 150, 200, 100 }, { 97, 90, 131 }, { 7, 400, 400 }, { 20, 500, 110 },
    };
    int max_threads = omp_get_max_threads();
    for (size_t s = 0; s < sizeof split / sizeof split[0]; s++)
        for (int tr = 0; tr < 4; tr++, cases++) {
            Case t;
            case_init(&t, split[s][0], split[s][1], split[s][2], tr & 1, tr >> 1,
                      tr, betas[cases % 3], (unsigned long)cases);
            runs += check_threads(&t);
            case_free(&t);
        }
    omp_set_num_threads(max_threads);
    printf("on threads: gradrt_gemm on 1, 2 and 3 threads, bit for bit the same\n");
#endif
    printf("%d products, %d runs, %d failures\n", cases, runs, failures);
    return failures ? 1 : 0;
}
