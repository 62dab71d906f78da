/* gemm-real.h: the matrix product for one element type.  gemm.c
 * includes it once per type, after defining
 *
 *   GemmReal      the element type, double or float
 *   TYPED(name)   name with the type's suffix: gradrt_gemm, gradrt_gemmf
 *   GEMM_CBLAS    the BLAS's product of that type
 *
 * and it includes gemm-kernel.h once per instruction set, in the order of
 * gemm_sets[]. */

/* Elements in a cache line (of 64 bytes: x86-64, most AArch64), and in a
 * vector of BYTES bytes. */
#define GEMM_LINE (64 / (int)sizeof(GemmReal))
#define GEMM_LANES(bytes) ((bytes) / (int)sizeof(GemmReal))

static GemmStrides TYPED(gemm_strides)(const TYPED(GemmArgs) *g)
{
    GemmStrides s;
    s.a_row = g->trans_a ? 1 : g->lda;
    s.a_col = g->trans_a ? g->lda : 1;
    s.b_row = g->trans_b ? 1 : g->ldb;
    s.b_col = g->trans_b ? g->ldb : 1;
    return s;
}

/* c = beta c, where beta 0 writes zeros without reading c. */
static void TYPED(gemm_scale_row)(int n, GemmReal beta, GemmReal *c)
{
    if (beta == 0)
        memset(c, 0, (size_t)n * sizeof *c);
    else if (beta != 1)
        for (int j = 0; j < n; j++)
            c[j] *= beta;
}

static GemmReal TYPED(gemm_dot_strided)(int k, const GemmReal *a, int sa,
                                         const GemmReal *b, int sb)
{
    GemmReal s = 0;
    for (int p = 0; p < k; p++)
        s += a[(ptrdiff_t)p * sa] * b[(ptrdiff_t)p * sb];
    return s;
}

/* The portable kernels, for every compiler: W = 1 makes Vec a GemmReal. */
#define KERNEL(name) TYPED(gemm_##name##_plain)
#define W 1
#define TARGET
typedef GemmReal TYPED(GemmVecPlain);
#define Vec TYPED(GemmVecPlain)
#include "gemm-kernel.h"
#undef KERNEL
#undef W
#undef TARGET
#undef Vec

/* With GNU C vector extensions: 16-byte vectors on the compiler's baseline
 * (SSE2 on x86-64, NEON on AArch64), and on x86 also AVX2 and AVX-512 kernels
 * compiled for those sets alone, which only run where the CPU has them. */
#ifdef GEMM_VECTOR
#define KERNEL(name) TYPED(gemm_##name##_vec2)
#define W GEMM_LANES(16)
#define TARGET
typedef GemmReal TYPED(GemmVec16) __attribute__((vector_size(16)));
#define Vec TYPED(GemmVec16)
#include "gemm-kernel.h"
#undef KERNEL
#undef W
#undef TARGET
#undef Vec

#ifdef GEMM_X86
#define KERNEL(name) TYPED(gemm_##name##_avx2)
#define W GEMM_LANES(32)
#define TARGET __attribute__((target("avx2,fma")))
typedef GemmReal TYPED(GemmVec32) __attribute__((vector_size(32)));
#define Vec TYPED(GemmVec32)
#include "gemm-kernel.h"
#undef KERNEL
#undef W
#undef TARGET
#undef Vec

#define KERNEL(name) TYPED(gemm_##name##_avx512)
#define W GEMM_LANES(64)
#define TARGET __attribute__((target("avx512f,fma")))
typedef GemmReal TYPED(GemmVec64) __attribute__((vector_size(64)));
#define Vec TYPED(GemmVec64)
#include "gemm-kernel.h"
#undef KERNEL
#undef W
#undef TARGET
#undef Vec
#endif
#endif

/* One set's kernels for this type; nr is the tile's width, 2 W. */
typedef struct {
    int nr;
    void (*direct)(const TYPED(GemmArgs) *g);
    void (*blocked)(const TYPED(GemmArgs) *g, const GemmBlocks *bk, GemmReal *work);
} TYPED(GemmKernel);

/* In the order of gemm_sets[]. */
static const TYPED(GemmKernel) TYPED(gemm_kernels)[] = {
    { 2, TYPED(gemm_direct_plain), TYPED(gemm_blocked_plain) },
#ifdef GEMM_VECTOR
    { 2 * GEMM_LANES(16), TYPED(gemm_direct_vec2), TYPED(gemm_blocked_vec2) },
#endif
#ifdef GEMM_X86
    { 2 * GEMM_LANES(32), TYPED(gemm_direct_avx2), TYPED(gemm_blocked_avx2) },
    { 2 * GEMM_LANES(64), TYPED(gemm_direct_avx512), TYPED(gemm_blocked_avx512) },
#endif
};

/* The product is trivial: C = beta C. */
static void TYPED(gemm_scale)(const TYPED(GemmArgs) *g)
{
    for (int i = 0; i < g->m; i++)
        TYPED(gemm_scale_row)(g->n, g->beta, g->c + (ptrdiff_t)i * g->ldc);
}

/* Whether the direct loop is the better way for this product. */
static int TYPED(gemm_is_small)(const TYPED(GemmArgs) *g)
{
    return g->m < GEMM_MR || g->n == 1 || g->k <= 2
        || (double)g->m * g->n * g->k < GEMM_DIRECT_MAX;
}

/* The blocked product with kernel KERN and blocks BK (clipped to the
 * product here).  Without memory for the packed blocks it runs the direct
 * loop, which needs none. */
static void TYPED(gemm_run_blocked)(const TYPED(GemmKernel) *kern,
                                    const TYPED(GemmArgs) *g, GemmBlocks bk)
{
    bk.mc = gemm_balance(g->m, bk.mc, GEMM_MR);
    bk.kc = gemm_balance(g->k, bk.kc, 1);
    bk.nc = gemm_balance(g->n, bk.nc, kern->nr);
    size_t size = (gemm_round_up(bk.mc, GEMM_MR)
                   + gemm_round_up(bk.nc, kern->nr)) * (size_t)bk.kc;
    /* 64 bytes over, to align the panels with cache lines. */
    unsigned char *block = malloc(size * sizeof(GemmReal) + 64);
    if (!block) {
        kern->direct(g);
        return;
    }
    GemmReal *work = (GemmReal *)(block + (64 - (uintptr_t)block % 64));
    if (g->beta != 0 && g->beta != 1)
        TYPED(gemm_scale)(g);
    kern->blocked(g, &bk, work);
    free(block);
}

#ifdef _OPENMP
/* How many threads to split G over, each given at least one panel of
 * GEMM_MR rows (or NR columns); SPLIT_ROWS says which. */
static int TYPED(gemm_threads)(const TYPED(GemmArgs) *g, int nr, int *split_rows)
{
    if ((double)g->m * g->n * g->k < GEMM_THREAD_MIN || omp_in_parallel())
        return 1;
    int row_panels = (g->m + GEMM_MR - 1) / GEMM_MR;
    int col_panels = (g->n + nr - 1) / nr;
    *split_rows = row_panels >= col_panels;
    int panels = *split_rows ? row_panels : col_panels;
    int threads = omp_get_max_threads();
    return threads < panels ? threads : panels;
}

/* Part T of THREADS of G: a band of whole panels of rows (or columns) of
 * C, with the rows of op(A) (or columns of op(B)) it needs.  Zero when
 * there is nothing left for part T. */
static int TYPED(gemm_part)(const TYPED(GemmArgs) *g, int nr, int split_rows, int t,
                            int threads, TYPED(GemmArgs) *part)
{
    GemmStrides s = TYPED(gemm_strides)(g);
    int size = split_rows ? g->m : g->n, unit = split_rows ? GEMM_MR : nr;
    int band = (int)gemm_round_up((size + threads - 1) / threads, unit);
    int first = t * band;
    if (first >= size)
        return 0;
    *part = *g;
    if (split_rows) {
        part->m = size - first < band ? size - first : band;
        part->a += (ptrdiff_t)first * s.a_row;
        part->c += (ptrdiff_t)first * g->ldc;
    } else {
        part->n = size - first < band ? size - first : band;
        part->b += (ptrdiff_t)first * s.b_col;
        part->c += first;
    }
    return 1;
}
#endif

/* The blocked product, over threads where it is large enough. */
static void TYPED(gemm_run_threads)(const TYPED(GemmKernel) *kern,
                                    const TYPED(GemmArgs) *g, GemmBlocks bk)
{
#ifdef _OPENMP
    int split_rows = 1, threads = TYPED(gemm_threads)(g, kern->nr, &split_rows);
    if (threads > 1) {
#pragma omp parallel num_threads(threads)
        {
            TYPED(GemmArgs) part;
            if (TYPED(gemm_part)(g, kern->nr, split_rows, omp_get_thread_num(),
                                 omp_get_num_threads(), &part))
                TYPED(gemm_run_blocked)(kern, &part, bk);
        }
        return;
    }
#endif
    TYPED(gemm_run_blocked)(kern, g, bk);
}

static void TYPED(gemm_run)(const TYPED(GemmKernel) *kern, const TYPED(GemmArgs) *g)
{
    if (g->m == 0 || g->n == 0)
        return;
    if (g->k == 0) {
        TYPED(gemm_scale)(g);
        return;
    }
    if (TYPED(gemm_is_small)(g)) {
        kern->direct(g);
        return;
    }
#ifdef HAVE_CBLAS
    GEMM_CBLAS(CblasRowMajor, g->trans_a ? CblasTrans : CblasNoTrans,
               g->trans_b ? CblasTrans : CblasNoTrans, g->m, g->n, g->k,
               1, g->a, g->lda, g->b, g->ldb, g->beta, g->c, g->ldc);
    return;
#endif
    GemmBlocks bk = { GEMM_MC, GEMM_KC, GEMM_NC };
    TYPED(gemm_run_threads)(kern, g, bk);
}

void TYPED(gradrt_gemm)(int trans_a, int trans_b, int m, int n, int k,
                        const GemmReal *a, int lda, const GemmReal *b, int ldb,
                        GemmReal beta, GemmReal *c, int ldc)
{
    TYPED(GemmArgs) g = { trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc };
    TYPED(gemm_run)(&TYPED(gemm_kernels)[gemm_best()], &g);
}

#ifdef GEMM_TESTING
int TYPED(gemm_test_threads)(const TYPED(GemmArgs) *g)
{
#if defined(_OPENMP) && !defined(HAVE_CBLAS)
    int split_rows;
    if (!TYPED(gemm_is_small)(g))
        return TYPED(gemm_threads)(g, TYPED(gemm_kernels)[gemm_best()].nr, &split_rows);
#else
    (void)g;
#endif
    return 1;
}

void TYPED(gemm_test_run)(int kernel, GemmPath path, const GemmBlocks *bk,
                          const TYPED(GemmArgs) *g)
{
    const TYPED(GemmKernel) *kern = &TYPED(gemm_kernels)[kernel];
    if (g->m == 0 || g->n == 0)
        return;
    if (path == GEMM_PATH_AUTO)
        TYPED(gemm_run)(kern, g);
    else if (g->k == 0)
        TYPED(gemm_scale)(g);
    else if (path == GEMM_PATH_DIRECT)
        kern->direct(g);
    else
        TYPED(gemm_run_blocked)(kern, g, *bk);
}
#endif

#undef GEMM_LINE
#undef GEMM_LANES
