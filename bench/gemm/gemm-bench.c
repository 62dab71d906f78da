/* gemm-bench.c: GFLOP/s of gradrt_gemm at the shapes of the benchmarked
 * models' gradients (bench/mlp.grad.in: 784-128-10 at batch 1, 64 and
 * 1024; bench/deep.grad: 784-512-512-10 at batch 256), against the naive
 * i-j-k loop the generated code had, OpenBLAS's cblas_dgemm on one thread
 * (loaded at run time when libopenblas.so.0 is there) and the core's FMA
 * peak.
 *
 * Each figure is the best of ROUNDS rounds of process CPU time, a round
 * repeating the product for at least 5 ms: the least disturbed run on a
 * shared machine.  gradrt_gemm runs on one thread, except in the column
 * that --threads adds: the best of single products timed by the wall clock
 * (at least 25 ROUNDS of them, and 0.2 s).  Options:
 *   --rounds N          rounds per figure (default 40)
 *   --threads N         gradrt_gemm on N threads as well (built with
 *                       OpenMP)
 *   --blocks MC,KC,NC   the blocked path with these blocks, and the direct
 *                       loop, as well
 *   --shape M,N,K[,OP]  this product instead of the models' (repeatable);
 *                       OP is NN (the default), NT, TN or TT */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "gradrt.h"
#include "gemm-internal.h"

typedef void CblasDgemm(int order, int trans_a, int trans_b, int m, int n,
                        int k, double alpha, const double *a, int lda,
                        const double *b, int ldb, double beta, double *c,
                        int ldc);

/* CBLAS's enumerators, for the function loaded at run time. */
enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };

static CblasDgemm *openblas;
static int rounds = 40;
static int threads = 1;

/* CPU time, or wall time where threads run the product. */
static clockid_t clock_id = CLOCK_PROCESS_CPUTIME_ID;

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(clock_id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* gradrt_gemm's threads from now on: 1 with the CPU clock, more with the
 * wall clock. */
static void use_threads(int n)
{
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
    clock_id = n > 1 ? CLOCK_MONOTONIC : CLOCK_PROCESS_CPUTIME_ID;
}

typedef enum {
    RUN_GRADRT, RUN_BLOCKED, RUN_DIRECT, RUN_NAIVE, RUN_OPENBLAS
} Method;

/* C = op(A) op(B), reduction innermost: what `@` compiled to before. */
static void naive(const GemmArgs *g)
{
    for (int i = 0; i < g->m; i++)
        for (int j = 0; j < g->n; j++) {
            double s = 0;
            for (int p = 0; p < g->k; p++)
                s += (g->trans_a ? g->a[p * g->lda + i] : g->a[i * g->lda + p])
                   * (g->trans_b ? g->b[j * g->ldb + p] : g->b[p * g->ldb + j]);
            g->c[i * g->ldc + j] = s;
        }
}

static void run(Method how, const GemmArgs *g, const GemmBlocks *bk)
{
    switch (how) {
    case RUN_GRADRT:
        gradrt_gemm(g->trans_a, g->trans_b, g->m, g->n, g->k, g->a, g->lda,
                    g->b, g->ldb, g->beta, g->c, g->ldc);
        break;
    case RUN_BLOCKED:
        gemm_test_run(gemm_test_best(), GEMM_PATH_BLOCKED, bk, g);
        break;
    case RUN_DIRECT:
        gemm_test_run(gemm_test_best(), GEMM_PATH_DIRECT, bk, g);
        break;
    case RUN_NAIVE:
        naive(g);
        break;
    case RUN_OPENBLAS:
        openblas(CBLAS_ROW_MAJOR, g->trans_a ? CBLAS_TRANS : CBLAS_NO_TRANS,
                 g->trans_b ? CBLAS_TRANS : CBLAS_NO_TRANS, g->m, g->n, g->k,
                 1.0, g->a, g->lda, g->b, g->ldb, g->beta, g->c, g->ldc);
        break;
    }
}

/* GFLOP/s of the best round. */
static double measure(Method how, const GemmArgs *g, const GemmBlocks *bk)
{
    double flops = 2.0 * g->m * g->n * g->k, best = 1e300;
    long reps = 1;
    if (clock_id != CLOCK_PROCESS_CPUTIME_ID) {
        /* The wall clock resolves one product; a round of many would add
         * up every time another process held a core the team waits for,
         * so each round is one product, for at least 0.2 s. */
        double start = cpu_seconds();
        for (long r = 0; r < 25L * rounds || cpu_seconds() - start < 0.2; r++) {
            double t0 = cpu_seconds();
            run(how, g, bk);
            double t = cpu_seconds() - t0;
            if (t < best)
                best = t;
        }
        return flops / best * 1e-9;
    }
    for (;;) {
        double t0 = cpu_seconds();
        for (long i = 0; i < reps; i++)
            run(how, g, bk);
        if (cpu_seconds() - t0 >= 0.005)
            break;
        reps *= 2;
    }
    for (int r = 0; r < rounds; r++) {
        double t0 = cpu_seconds();
        for (long i = 0; i < reps; i++)
            run(how, g, bk);
        double t = (cpu_seconds() - t0) / (double)reps;
        if (t < best)
            best = t;
    }
    return flops / best * 1e-9;
}

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
typedef double Vec4 __attribute__((vector_size(32)));

/* 12 independent chains of 4-wide multiply-adds: three times the
 * latency-throughput product of two FMA pipes. */
__attribute__((target("avx2,fma"), noinline))
static double fma_chains(long n, double x)
{
    Vec4 v[12], m = { x, x, x, x }, d = { 1e-9, 1e-9, 1e-9, 1e-9 };
    for (int i = 0; i < 12; i++) {
        Vec4 init = { i, i + 0.5, i + 0.25, i + 0.75 };
        v[i] = init;
    }
    Vec4 a0 = v[0], a1 = v[1], a2 = v[2], a3 = v[3], a4 = v[4], a5 = v[5];
    Vec4 a6 = v[6], a7 = v[7], a8 = v[8], a9 = v[9], a10 = v[10], a11 = v[11];
    for (long i = 0; i < n; i++) {
        a0 = a0 * m + d; a1 = a1 * m + d; a2 = a2 * m + d; a3 = a3 * m + d;
        a4 = a4 * m + d; a5 = a5 * m + d; a6 = a6 * m + d; a7 = a7 * m + d;
        a8 = a8 * m + d; a9 = a9 * m + d; a10 = a10 * m + d; a11 = a11 * m + d;
    }
    Vec4 s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
    return s[0] + s[1] + s[2] + s[3];
}

/* The core's double-precision FMA peak, GFLOP/s: 0 without AVX2 and FMA. */
static double fma_peak(void)
{
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        return 0;
    long n = 20000000;
    double best = 1e300;
    volatile double sink;
    for (int r = 0; r < rounds; r++) {
        double t0 = cpu_seconds();
        sink = fma_chains(n, 0.9999999);
        double t = cpu_seconds() - t0;
        if (t < best)
            best = t;
    }
    (void)sink;
    return (double)n * 12 * 4 * 2 / best * 1e-9;
}
#else
static double fma_peak(void)
{
    return 0;
}
#endif

static double *filled(size_t n)
{
    double *x = malloc(n * sizeof *x);
    if (!x) {
        perror("gemm-bench");
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        x[i] = (double)(i % 17) / 16 - 0.5;
    return x;
}

typedef struct {
    const char *what;
    int trans_a, trans_b, m, n, k;
} Shape;

static void bench(const Shape *s, const GemmBlocks *bk)
{
    int rows_a = s->trans_a ? s->k : s->m, cols_a = s->trans_a ? s->m : s->k;
    int rows_b = s->trans_b ? s->n : s->k, cols_b = s->trans_b ? s->k : s->n;
    GemmArgs g = { s->trans_a, s->trans_b, s->m, s->n, s->k,
                   filled((size_t)rows_a * (size_t)cols_a), cols_a,
                   filled((size_t)rows_b * (size_t)cols_b), cols_b,
                   0, filled((size_t)s->m * (size_t)s->n), s->n };
    printf("%-18s %s%s %5d %5d %5d  %7.2f  %7.2f", s->what,
           s->trans_a ? "T" : "N", s->trans_b ? "T" : "N", s->m, s->n, s->k,
           measure(RUN_GRADRT, &g, NULL), measure(RUN_NAIVE, &g, NULL));
    if (openblas)
        printf("  %7.2f", measure(RUN_OPENBLAS, &g, NULL));
    else
        printf("  %7s", "-");
    if (threads > 1) {
        use_threads(threads);
        printf("  %7.2f", measure(RUN_GRADRT, &g, NULL));
        use_threads(1);
    }
    if (bk)
        printf("  %7.2f  %7.2f", measure(RUN_BLOCKED, &g, bk),
               measure(RUN_DIRECT, &g, bk));
    printf("\n");
    fflush(stdout);
    free((void *)g.a);
    free((void *)g.b);
    free(g.c);
}

static int parse3(const char *arg, int v[3])
{
    return sscanf(arg, "%d,%d,%d", &v[0], &v[1], &v[2]) == 3
        && v[0] > 0 && v[1] > 0 && v[2] > 0;
}

/* M,N,K[,OP] into S. */
static int parse_shape(const char *arg, Shape *s)
{
    int v[3], end = 0;
    const char *op = "NN";
    if (sscanf(arg, "%d,%d,%d%n", &v[0], &v[1], &v[2], &end) != 3
        || v[0] <= 0 || v[1] <= 0 || v[2] <= 0)
        return 0;
    if (arg[end] == ',')
        op = arg + end + 1;
    else if (arg[end] != '\0')
        return 0;
    if (strlen(op) != 2 || strspn(op, "NT") != 2)
        return 0;
    Shape own = { "shape", op[0] == 'T', op[1] == 'T', v[0], v[1], v[2] };
    *s = own;
    return 1;
}

/* ISO C has no conversion from dlsym's object pointer to a function
 * pointer; POSIX guarantees the representation, so copy it. */
static void load_symbol(void *lib, const char *name, void *fn, size_t size)
{
    void *sym = dlsym(lib, name);
    if (sym)
        memcpy(fn, &sym, size);
}

static void load_openblas(void)
{
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    void *lib = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return;
    void (*set_threads)(int) = NULL;
    load_symbol(lib, "openblas_set_num_threads", &set_threads, sizeof set_threads);
    if (set_threads)
        set_threads(1);
    load_symbol(lib, "cblas_dgemm", &openblas, sizeof openblas);
}

int main(int argc, char **argv)
{
    /* Every product of the gradients, and dZ W1^T (the gradient with
     * respect to X, which the models do not take). */
    static const Shape models[] = {
        { "mlp1 X@W1", 0, 0, 1, 128, 784 },
        { "mlp1 X^T dZ1", 1, 0, 784, 128, 1 },
        { "mlp1 dZ1 W1^T", 0, 1, 1, 784, 128 },
        { "mlp64 X@W1", 0, 0, 64, 128, 784 },
        { "mlp64 X^T dZ1", 1, 0, 784, 128, 64 },
        { "mlp64 dZ1 W1^T", 0, 1, 64, 784, 128 },
        { "mlp1024 X@W1", 0, 0, 1024, 128, 784 },
        { "mlp1024 X^T dZ1", 1, 0, 784, 128, 1024 },
        { "mlp1024 dZ1 W1^T", 0, 1, 1024, 784, 128 },
        { "mlp1024 h@W2", 0, 0, 1024, 10, 128 },
        { "mlp1024 dZ2 W2^T", 0, 1, 1024, 128, 10 },
        { "mlp1024 h^T dZ2", 1, 0, 128, 10, 1024 },
        { "deep X@W1", 0, 0, 256, 512, 784 },
        { "deep h1@W2", 0, 0, 256, 512, 512 },
        { "deep h2@W3", 0, 0, 256, 10, 512 },
        { "deep dZ3 W3^T", 0, 1, 256, 512, 10 },
        { "deep h2^T dZ3", 1, 0, 512, 10, 256 },
        { "deep dZ2 W2^T", 0, 1, 256, 512, 512 },
        { "deep h1^T dZ2", 1, 0, 512, 512, 256 },
        { "deep X^T dZ1", 1, 0, 784, 512, 256 },
        { "square 512", 0, 0, 512, 512, 512 },
    };
    Shape own[16];
    int nown = 0, blocks[3], use_blocks = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--blocks") == 0 && i + 1 < argc
                 && parse3(argv[++i], blocks))
            use_blocks = 1;
        else if (strcmp(argv[i], "--shape") == 0 && i + 1 < argc
                 && nown < 16 && parse_shape(argv[++i], &own[nown]))
            nown++;
        else {
            fprintf(stderr, "usage: gemm-bench [--rounds N] [--threads N] "
                            "[--blocks MC,KC,NC] [--shape M,N,K[,OP]]...\n");
            return 2;
        }
    }
    if (rounds < 1)
        rounds = 1;
#ifndef _OPENMP
    if (threads > 1) {
        fprintf(stderr, "gemm-bench: --threads: built without OpenMP\n");
        return 2;
    }
#endif
    use_threads(1);
    load_openblas();
    GemmBlocks bk = { blocks[0], blocks[1], blocks[2] };
    printf("gradrt_gemm kernel: %s; OpenBLAS: %s; best of %d rounds of CPU time\n",
           gemm_test_name(gemm_test_best()),
           openblas ? "libopenblas.so.0, 1 thread" : "not found", rounds);
    fflush(stdout);
    double peak = fma_peak();
    if (peak > 0)
        printf("FMA peak (12 chains of 4-wide FMA): %.2f GFLOP/s\n", peak);
    if (threads > 1)
        printf("gradrt on %d threads: best of %d rounds of wall time\n",
               threads, rounds);
    char threaded[16];
    snprintf(threaded, sizeof threaded, "%d thr", threads);
    printf("%-18s %-2s %5s %5s %5s  %7s  %7s  %7s", "GFLOP/s", "op", "M",
           "N", "K", "gradrt", "naive", "OpenBLAS");
    if (threads > 1)
        printf("  %7s", threaded);
    printf("%s\n", use_blocks ? "  blocked   direct" : "");
    const Shape *list = nown ? own : models;
    int n = nown ? nown : (int)(sizeof models / sizeof models[0]);
    for (int i = 0; i < n; i++)
        bench(&list[i], use_blocks ? &bk : NULL);
    return 0;
}
