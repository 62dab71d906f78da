/* vecbench: ns per element of the runtime's elementwise functions, for
 * arrays of 128 and 131072 elements: glibc's exp and the scalar runtime
 * functions called once per element (what generated code does today), the
 * array forms of runtime/vecmath.c, and its element functions inlined into
 * a loop of constant count (what static inline functions in gradrt.h would
 * give).  Each figure is the minimum over ROUNDS rounds of the CPU time
 * per element of this thread (CLOCK_THREAD_CPUTIME_ID): on a shared, busy
 * machine that leaves out the time other processes had the core, and the
 * minimum is the round least disturbed otherwise.  The scalar functions
 * are called through a pointer, which a predicted indirect call makes
 * about as cheap as the direct call of generated code.
 *
 * Usage: vecbench [SUBSTRING]   (only the cases whose name holds it)
 * bench/vec/run.sh builds and runs it. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gradrt.h"
#include "vecbench.h"

enum { MAX_N = 131072, ROUNDS = 40, ELEMENTS_PER_ROUND = 1 << 18 };

static double x[MAX_N], dy[MAX_N], y[MAX_N], y2[MAX_N];

typedef void ArrayFn(int, const double *, double *);
typedef void PairFn(int, const double *, double *, double *);
typedef void BackwardFn(int, const double *, const double *, double *, int);
typedef void InlineFn(const double *, double *, double *);

/* One way of computing one thing; exactly one of the groups is set. */
typedef struct Case {
    const char *name;
    /* per element: y = f(x), and y2 = g(x) when g is set; or, with
     * times_dy, y = dy f(x) */
    double (*f)(double), (*g)(double);
    int times_dy;
    ArrayFn *array;
    PairFn *pair;
    BackwardFn *backward;
    /* a loop of count 128 and one of count 131072 */
    InlineFn *inline_128, *inline_131072;
} Case;

static const Case cases[] = {
    {"exp: glibc exp, per element", .f = exp},
    {"exp: gradrt_exp_array", .array = gradrt_exp_array},
    {"exp: inlined, per element", .inline_128 = inline_exp_128,
     .inline_131072 = inline_exp_131072},
    {"sigmoid: gradrt_sigmoid, per element", .f = gradrt_sigmoid},
    {"sigmoid: gradrt_sigmoid_array", .array = gradrt_sigmoid_array},
    {"sigmoid: inlined, per element", .inline_128 = inline_sigmoid_128,
     .inline_131072 = inline_sigmoid_131072},
    {"sigmoid': gradrt_sigmoid_deriv, per element",
     .f = gradrt_sigmoid_deriv},
    {"sigmoid': gradrt_sigmoid_deriv_array",
     .array = gradrt_sigmoid_deriv_array},
    {"sigmoid and sigmoid': both scalar calls", .f = gradrt_sigmoid,
     .g = gradrt_sigmoid_deriv},
    {"sigmoid and sigmoid': gradrt_sigmoid_and_deriv",
     .pair = gradrt_sigmoid_and_deriv},
    {"sigmoid and sigmoid': inlined, one exp",
     .inline_128 = inline_sigmoid_and_deriv_128,
     .inline_131072 = inline_sigmoid_and_deriv_131072},
    {"dy sigmoid'(x): scalar call", .f = gradrt_sigmoid_deriv,
     .times_dy = 1},
    {"dy sigmoid'(x): gradrt_sigmoid_backward",
     .backward = gradrt_sigmoid_backward},
    {"softplus: gradrt_softplus, per element", .f = gradrt_softplus},
    {"softplus: gradrt_softplus_array", .array = gradrt_softplus_array},
    {"tanh: libm tanh, per element", .f = tanh},
    {"tanh: gradrt_tanh_array", .array = gradrt_tanh_array},
    {"tanh: inlined, per element", .inline_128 = inline_tanh_128,
     .inline_131072 = inline_tanh_131072},
    {"tanh': gradrt_tanh_deriv, per element", .f = gradrt_tanh_deriv},
    {"tanh': gradrt_tanh_deriv_array", .array = gradrt_tanh_deriv_array},
    {"tanh and tanh': both scalar calls", .f = tanh, .g = gradrt_tanh_deriv},
    {"tanh and tanh': gradrt_tanh_and_deriv",
     .pair = gradrt_tanh_and_deriv},
    {"dy tanh'(x): scalar call", .f = gradrt_tanh_deriv, .times_dy = 1},
    {"dy tanh'(x): gradrt_tanh_backward", .backward = gradrt_tanh_backward},
};

/* Runs c over the first n elements of the arrays. */
static void run(const Case *c, int n)
{
    if (c->g) {
        for (int i = 0; i < n; i++) {
            y[i] = c->f(x[i]);
            y2[i] = c->g(x[i]);
        }
    } else if (c->times_dy) {
        for (int i = 0; i < n; i++)
            y[i] = dy[i] * c->f(x[i]);
    } else if (c->f) {
        for (int i = 0; i < n; i++)
            y[i] = c->f(x[i]);
    } else if (c->array) {
        c->array(n, x, y);
    } else if (c->pair) {
        c->pair(n, x, y, y2);
    } else if (c->backward) {
        c->backward(n, x, dy, y, 0);
    } else {
        (n == 128 ? c->inline_128 : c->inline_131072)(x, y, y2);
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The fastest round's time per element, in ns. */
static double time_case(const Case *c, int n)
{
    int reps = ELEMENTS_PER_ROUND / n;
    double best = HUGE_VAL;
    run(c, n);
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now();
        for (int k = 0; k < reps; k++)
            run(c, n);
        double t = (now() - t0) / ((double)reps * n);
        if (t < best)
            best = t;
    }
    return best * 1e9;
}

int main(int argc, char **argv)
{
    static const int sizes[] = {128, 131072};
    srand(1);
    for (int i = 0; i < MAX_N; i++) {
        x[i] = 20.0 * rand() / RAND_MAX - 10;
        dy[i] = 2.0 * rand() / RAND_MAX - 1;
    }
    printf("%-48s %10s %10s\n", "CPU ns per element (min of rounds)", "n = 128",
           "n = 131072");
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        if (argc > 1 && !strstr(cases[c].name, argv[1]))
            continue;
        printf("%-48s", cases[c].name);
        for (int s = 0; s < 2; s++)
            printf(" %10.2f", time_case(&cases[c], sizes[s]));
        printf("\n");
        fflush(stdout);
    }
    return 0;
}
