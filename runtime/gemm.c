/* gemm.c: C = op(A) op(B) + beta C, the runtime's one matrix product.
 *
 * Small products, and those with fewer rows than a tile or one column, run
 * a direct loop in the order that streams memory.  The others are blocked
 * in the manner of Goto and van de Geijn: a kc x nc block of op(B) is
 * packed into panels NR columns wide, an mc x kc block of op(A) into panels
 * GEMM_MR rows tall, and a register-tiled micro-kernel multiplies one panel
 * of each into a GEMM_MR x NR tile of C, so that a B panel stays in L1
 * while the A block streams from L2.  The packed copies make every
 * transpose the same product, and they are zero-padded so the micro-kernel
 * has no edge cases.  Untransposed A needs no copy: the micro-kernel reads
 * its panels in place, and only a last partial panel is packed.
 *
 * The kernels (gemm-kernel.h) are compiled once per instruction set and the
 * one for the CPU is chosen at each call: AVX-512, AVX2 with FMA, and the
 * compiler's baseline.  With configure --with-blas the blocked products go
 * to cblas_dgemm instead.
 *
 * Built with OpenMP, a large blocked product is cut into one part per
 * thread: bands of rows of C (or of columns, where C has more column panels
 * than row panels), each a whole product of its own with its own packed
 * blocks.  The shared dimension is never cut, and the blocking of K depends
 * on K alone, so every element of C is the same sequence of multiply-adds
 * in the same kernel whatever the number of threads: the result is
 * identical bit for bit. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gradrt.h"
#include "gemm-internal.h"

#ifdef HAVE_CBLAS
#include <cblas.h>
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

/* Rows of the micro-kernel's tile (its columns, NR, are two vectors). */
#define GEMM_MR 6

/* Block sizes, measured with bench/gemm on the AVX2 EPYC core (32 KiB L1d,
 * 512 KiB L2): a kc x 8 panel of B fills half of L1 and a 72 x 256 block of
 * A under a third of L2; 96 or 144 rows, or 128 to 384 deep, were no
 * faster, and with A read in place 48 to 144 rows and 128 to 384 deep
 * still were not.  nc only bounds the packed B block (4 MiB, in L3). */
enum { GEMM_KC = 256, GEMM_MC = 72, GEMM_NC = 2048 };

/* Products with fewer multiply-adds than this run the direct loop, and so
 * do those with fewer rows than a tile (bench/gemm: at 8 x 8 x 8 the two
 * paths tie; at 2 x 128 x 784 the direct loop is twice as fast, at
 * 8 x 128 x 784 the blocked one 1.5 times). */
#define GEMM_DIRECT_MAX (8 * 8 * 8)

/* Element (i, j) of op(A) is a[i * a_row + j * a_col], and likewise for B. */
typedef struct {
    int a_row, a_col, b_row, b_col;
} GemmStrides;

static GemmStrides gemm_strides(const GemmArgs *g)
{
    GemmStrides s;
    s.a_row = g->trans_a ? 1 : g->lda;
    s.a_col = g->trans_a ? g->lda : 1;
    s.b_row = g->trans_b ? 1 : g->ldb;
    s.b_col = g->trans_b ? g->ldb : 1;
    return s;
}

static size_t gemm_round_up(int n, int unit)
{
    return (size_t)(n + unit - 1) / (size_t)unit * (size_t)unit;
}

/* The size of the blocks that cut N into as few pieces of at most MAX as
 * possible, all about as large, rounded up to a multiple of UNIT: so that no
 * thin last block (784 = 3 x 256 + 16) runs at the cost of a full one. */
static int gemm_balance(int n, int max, int unit)
{
    int pieces = (n + max - 1) / max;
    return (int)gemm_round_up((n + pieces - 1) / pieces, unit);
}

/* c = beta c, where beta 0 writes zeros without reading c. */
static void gemm_scale_row(int n, double beta, double *c)
{
    if (beta == 0)
        memset(c, 0, (size_t)n * sizeof *c);
    else if (beta != 1)
        for (int j = 0; j < n; j++)
            c[j] *= beta;
}

/* Ask for the cache line at P ahead of its use, where the compiler can. */
#ifdef __GNUC__
#define GEMM_PREFETCH(p) __builtin_prefetch(p)
#else
#define GEMM_PREFETCH(p) ((void)(p))
#endif

/* Inlined even where the compiler would rather not. */
#ifdef __GNUC__
#define GEMM_INLINE __attribute__((always_inline)) inline
#else
#define GEMM_INLINE inline
#endif

/* The micro-kernel asks for its tile of C ahead only when it runs more k
 * steps than this (bench/gemm: with C in L3, 18% of the time of X@W1 at
 * batch 1024, K = 784, went to loading it; at K = 10 the prefetches cost a
 * fifth of dZ3 W3^T, and up to K = 96 they did not pay). */
enum { GEMM_PREFETCH_KC = 96 };

/* Doubles in a cache line (of 64 bytes: x86-64, most AArch64). */
enum { GEMM_LINE = 8 };

static double gemm_dot_strided(int k, const double *a, int sa,
                               const double *b, int sb)
{
    double s = 0;
    for (int p = 0; p < k; p++)
        s += a[(ptrdiff_t)p * sa] * b[(ptrdiff_t)p * sb];
    return s;
}

/* The portable kernels, for every compiler: W = 1 makes Vec a double. */
#define KERNEL(name) gemm_##name##_plain
#define W 1
#define TARGET
typedef double GemmVecPlain;
#define Vec GemmVecPlain
#include "gemm-kernel.h"
#undef KERNEL
#undef W
#undef TARGET
#undef Vec

/* With GNU C vector extensions: 16-byte vectors on the compiler's baseline
 * (SSE2 on x86-64, NEON on AArch64), and on x86 also AVX2 and AVX-512 kernels
 * compiled for those sets alone, which only run where the CPU has them. */
#if defined(__GNUC__) && !defined(GRADRT_GEMM_PLAIN)
#define GEMM_VECTOR 1
#define KERNEL(name) gemm_##name##_vec2
#define W 2
#define TARGET
typedef double GemmVec2 __attribute__((vector_size(2 * sizeof(double))));
#define Vec GemmVec2
#include "gemm-kernel.h"
#undef KERNEL
#undef W
#undef TARGET
#undef Vec

#if defined(__x86_64__) || defined(__i386__)
#define GEMM_X86 1
#define KERNEL(name) gemm_##name##_avx2
#define W 4
#define TARGET __attribute__((target("avx2,fma")))
typedef double GemmVec4 __attribute__((vector_size(4 * sizeof(double))));
#define Vec GemmVec4
#include "gemm-kernel.h"
#undef KERNEL
#undef W
#undef TARGET
#undef Vec

#define KERNEL(name) gemm_##name##_avx512
#define W 8
#define TARGET __attribute__((target("avx512f,fma")))
typedef double GemmVec8 __attribute__((vector_size(8 * sizeof(double))));
#define Vec GemmVec8
#include "gemm-kernel.h"
#undef KERNEL
#undef W
#undef TARGET
#undef Vec
#endif
#endif

/* What a kernel needs of the CPU beyond the compiler's baseline. */
typedef enum {
    GEMM_NEEDS_NOTHING, GEMM_NEEDS_AVX2, GEMM_NEEDS_AVX512
} GemmNeeds;

typedef struct {
    const char *name;
    GemmNeeds needs;
    int nr;
    void (*direct)(const GemmArgs *g);
    void (*blocked)(const GemmArgs *g, const GemmBlocks *bk, double *work);
} GemmKernel;

/* Best last: gemm_kernel picks the last one the CPU can run. */
static const GemmKernel gemm_kernels[] = {
    { "plain", GEMM_NEEDS_NOTHING, 2, gemm_direct_plain, gemm_blocked_plain },
#ifdef GEMM_VECTOR
    { "vec2", GEMM_NEEDS_NOTHING, 4, gemm_direct_vec2, gemm_blocked_vec2 },
#endif
#ifdef GEMM_X86
    { "avx2", GEMM_NEEDS_AVX2, 8, gemm_direct_avx2, gemm_blocked_avx2 },
    { "avx512", GEMM_NEEDS_AVX512, 16, gemm_direct_avx512,
      gemm_blocked_avx512 },
#endif
};

enum { GEMM_KERNELS = sizeof gemm_kernels / sizeof gemm_kernels[0] };

/* Whether this CPU runs kernel I.  libgcc (or compiler-rt) reads the CPU's
 * features once, at load time; __builtin_cpu_supports only tests a bit. */
static int gemm_usable(int i)
{
    switch (gemm_kernels[i].needs) {
#ifdef GEMM_X86
    case GEMM_NEEDS_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case GEMM_NEEDS_AVX512:
        return __builtin_cpu_supports("avx512f");
#endif
    default:
        return 1;
    }
}

static const GemmKernel *gemm_best(void)
{
    int i = GEMM_KERNELS - 1;
    while (!gemm_usable(i))
        i--;
    return &gemm_kernels[i];
}

/* The product is trivial: C = beta C. */
static void gemm_scale(const GemmArgs *g)
{
    for (int i = 0; i < g->m; i++)
        gemm_scale_row(g->n, g->beta, g->c + (ptrdiff_t)i * g->ldc);
}

/* Whether the direct loop is the better way for this product. */
static int gemm_is_small(const GemmArgs *g)
{
    return g->m < GEMM_MR || g->n == 1
        || (double)g->m * g->n * g->k < GEMM_DIRECT_MAX;
}

/* The blocked product with kernel KERN and blocks BK (clipped to the
 * product here).  Without memory for the packed blocks it runs the direct
 * loop, which needs none. */
static void gemm_run_blocked(const GemmKernel *kern, const GemmArgs *g,
                             GemmBlocks bk)
{
    bk.mc = gemm_balance(g->m, bk.mc, GEMM_MR);
    bk.kc = gemm_balance(g->k, bk.kc, 1);
    bk.nc = gemm_balance(g->n, bk.nc, kern->nr);
    size_t size = (gemm_round_up(bk.mc, GEMM_MR)
                   + gemm_round_up(bk.nc, kern->nr)) * (size_t)bk.kc;
    /* 64 bytes over, to align the panels with cache lines. */
    unsigned char *block = malloc(size * sizeof(double) + 64);
    if (!block) {
        kern->direct(g);
        return;
    }
    double *work = (double *)(block + (64 - (uintptr_t)block % 64));
    if (g->beta != 0 && g->beta != 1)
        gemm_scale(g);
    kern->blocked(g, &bk, work);
    free(block);
}

#ifdef _OPENMP
/* Products with fewer multiply-adds than this run on one thread.  With
 * the threshold at 0, bench/gemm --threads 2 (OMP_WAIT_POLICY=passive, load
 * average 5 on the 2 cores) gave, in GFLOP/s on 1 and 2 threads: 64^3 48
 * and 20, 96^3 52 and 49, 128^3 52 and 61, 16 x 128 x 128 33 and 30,
 * 64 x 128 x 128 47 and 60, 16 x 128 x 784 38 and 52: below about 2^20
 * the fork and join and the packing of op(B) on each thread cost what
 * the second core saves. */
#define GEMM_THREAD_MIN (1024.0 * 1024)

/* How many threads to split G over, each given at least one panel of
 * GEMM_MR rows (or NR columns); SPLIT_ROWS says which. */
static int gemm_threads(const GemmArgs *g, int nr, int *split_rows)
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
static int gemm_part(const GemmArgs *g, int nr, int split_rows, int t,
                     int threads, GemmArgs *part)
{
    GemmStrides s = gemm_strides(g);
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
static void gemm_run_threads(const GemmKernel *kern, const GemmArgs *g,
                             GemmBlocks bk)
{
#ifdef _OPENMP
    int split_rows = 1, threads = gemm_threads(g, kern->nr, &split_rows);
    if (threads > 1) {
#pragma omp parallel num_threads(threads)
        {
            GemmArgs part;
            if (gemm_part(g, kern->nr, split_rows, omp_get_thread_num(),
                          omp_get_num_threads(), &part))
                gemm_run_blocked(kern, &part, bk);
        }
        return;
    }
#endif
    gemm_run_blocked(kern, g, bk);
}

static void gemm_run(const GemmKernel *kern, const GemmArgs *g)
{
    if (g->m == 0 || g->n == 0)
        return;
    if (g->k == 0) {
        gemm_scale(g);
        return;
    }
    if (gemm_is_small(g)) {
        kern->direct(g);
        return;
    }
#ifdef HAVE_CBLAS
    cblas_dgemm(CblasRowMajor, g->trans_a ? CblasTrans : CblasNoTrans,
                g->trans_b ? CblasTrans : CblasNoTrans, g->m, g->n, g->k,
                1.0, g->a, g->lda, g->b, g->ldb, g->beta, g->c, g->ldc);
    return;
#endif
    GemmBlocks bk = { GEMM_MC, GEMM_KC, GEMM_NC };
    gemm_run_threads(kern, g, bk);
}

void gradrt_gemm(int trans_a, int trans_b, int m, int n, int k,
                 const double *a, int lda, const double *b, int ldb,
                 double beta, double *c, int ldc)
{
    GemmArgs g = { trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc };
    gemm_run(gemm_best(), &g);
}

#ifdef GEMM_TESTING
int gemm_test_kernels(void)
{
    return GEMM_KERNELS;
}

const char *gemm_test_name(int kernel)
{
    return gemm_kernels[kernel].name;
}

int gemm_test_usable(int kernel)
{
    return gemm_usable(kernel);
}

int gemm_test_best(void)
{
    return (int)(gemm_best() - gemm_kernels);
}

int gemm_test_threads(const GemmArgs *g)
{
#if defined(_OPENMP) && !defined(HAVE_CBLAS)
    int split_rows;
    if (!gemm_is_small(g))
        return gemm_threads(g, gemm_best()->nr, &split_rows);
#else
    (void)g;
#endif
    return 1;
}

void gemm_test_run(int kernel, GemmPath path, const GemmBlocks *bk,
                   const GemmArgs *g)
{
    const GemmKernel *kern = &gemm_kernels[kernel];
    if (g->m == 0 || g->n == 0)
        return;
    if (path == GEMM_PATH_AUTO)
        gemm_run(kern, g);
    else if (g->k == 0)
        gemm_scale(g);
    else if (path == GEMM_PATH_DIRECT)
        kern->direct(g);
    else
        gemm_run_blocked(kern, g, *bk);
}
#endif
