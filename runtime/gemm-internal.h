/* gemm-internal.h: what gemm.c shares with its kernels (gemm-kernel.h)
 * and with its test (tests/gemm.c); not installed. */
#ifndef GRADRT_GEMM_INTERNAL_H
#define GRADRT_GEMM_INTERNAL_H

/* The arguments of gradrt_gemm (GemmArgs) and of gradrt_gemmf
 * (GemmArgsf). */
#define GEMM_ARGS(Real, name)    \
    typedef struct {             \
        int trans_a, trans_b, m, n, k; \
        const Real *a;           \
        int lda;                 \
        const Real *b;           \
        int ldb;                 \
        Real beta;               \
        Real *c;                 \
        int ldc;                 \
    } name;
GEMM_ARGS(double, GemmArgs)
GEMM_ARGS(float, GemmArgsf)
#undef GEMM_ARGS

/* Block sizes of the blocked product: rows of op(A), the shared
 * dimension, columns of op(B). */
typedef struct {
    int mc, kc, nc;
} GemmBlocks;

/* For tests/gemm.c, in a build with GEMM_TESTING defined: run one kernel,
 * which need not be the one gradrt_gemm would choose, by one path. */
typedef enum {
    GEMM_PATH_AUTO,     /* as gradrt_gemm does */
    GEMM_PATH_DIRECT,   /* the direct loop, whatever the sizes */
    GEMM_PATH_BLOCKED   /* packed and blocked, with the given blocks */
} GemmPath;

int gemm_test_kernels(void);
const char *gemm_test_name(int kernel);
int gemm_test_usable(int kernel);
int gemm_test_best(void);
/* The threads gradrt_gemm (gradrt_gemmf) would split G over now (1
 * without OpenMP). */
int gemm_test_threads(const GemmArgs *g);
int gemm_test_threadsf(const GemmArgsf *g);
void gemm_test_run(int kernel, GemmPath path, const GemmBlocks *bk,
                   const GemmArgs *g);
void gemm_test_runf(int kernel, GemmPath path, const GemmBlocks *bk,
                    const GemmArgsf *g);

#endif
