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
 * gradrt_gemmf is the same product in float: gemm-real.h holds everything
 * that depends on the element type, and this file includes it once for
 * double and once for float (cblas_sgemm with --with-blas).
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
 * 8 x 128 x 784 the blocked one 1.5 times) and those one or two deep: the
 * outer products of a batch of 1, where the blocked path spends its time
 * loading and storing C (784 x 128 x 1: 18 us blocked, 9 direct; at
 * depth 4 blocking wins). */
#define GEMM_DIRECT_MAX (8 * 8 * 8)

/* Element (i, j) of op(A) is a[i * a_row + j * a_col], and likewise for B. */
typedef struct {
    int a_row, a_col, b_row, b_col;
} GemmStrides;

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

#ifdef _OPENMP
/* Products with fewer multiply-adds than this run on one thread.  With
 * the threshold at 0, bench/gemm --threads 2 (OMP_WAIT_POLICY=passive, load
 * average 5 on the 2 cores) gave, in GFLOP/s on 1 and 2 threads: 64^3 48
 * and 20, 96^3 52 and 49, 128^3 52 and 61, 16 x 128 x 128 33 and 30,
 * 64 x 128 x 128 47 and 60, 16 x 128 x 784 38 and 52: below about 2^20
 * the fork and join and the packing of op(B) on each thread cost what
 * the second core saves. */
#define GEMM_THREAD_MIN (1024.0 * 1024)
#endif

/* What a kernel needs of the CPU beyond the compiler's baseline. */
typedef enum {
    GEMM_NEEDS_NOTHING, GEMM_NEEDS_AVX2, GEMM_NEEDS_AVX512
} GemmNeeds;

/* The instruction sets there are kernels for, best last: gemm-real.h's
 * tables list each type's kernels in this order. */
typedef struct {
    const char *name;
    GemmNeeds needs;
} GemmSet;

static const GemmSet gemm_sets[] = {
    { "plain", GEMM_NEEDS_NOTHING },
#if defined(__GNUC__) && !defined(GRADRT_GEMM_PLAIN)
#define GEMM_VECTOR 1
    { "vec2", GEMM_NEEDS_NOTHING },
#if defined(__x86_64__) || defined(__i386__)
#define GEMM_X86 1
    { "avx2", GEMM_NEEDS_AVX2 },
    { "avx512", GEMM_NEEDS_AVX512 },
#endif
#endif
};

enum { GEMM_KERNELS = sizeof gemm_sets / sizeof gemm_sets[0] };

/* Whether this CPU runs the kernels of set I.  libgcc (or compiler-rt)
 * reads the CPU's features once, at load time; __builtin_cpu_supports only
 * tests a bit. */
static int gemm_usable(int i)
{
    switch (gemm_sets[i].needs) {
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

/* The best set this CPU runs. */
static int gemm_best(void)
{
    int i = GEMM_KERNELS - 1;
    while (!gemm_usable(i))
        i--;
    return i;
}

#define GemmReal double
#define TYPED(name) name
#define GEMM_CBLAS cblas_dgemm
#include "gemm-real.h"
#undef GemmReal
#undef TYPED
#undef GEMM_CBLAS

#define GemmReal float
#define TYPED(name) name##f
#define GEMM_CBLAS cblas_sgemm
#include "gemm-real.h"
#undef GemmReal
#undef TYPED
#undef GEMM_CBLAS

#ifdef GEMM_TESTING
int gemm_test_kernels(void)
{
    return GEMM_KERNELS;
}

const char *gemm_test_name(int kernel)
{
    return gemm_sets[kernel].name;
}

int gemm_test_usable(int kernel)
{
    return gemm_usable(kernel);
}

int gemm_test_best(void)
{
    return gemm_best();
}
#endif
