/* harness.c: times one model (bench_model, from the model's own file):
 * gradc's forward and gradient, the hand-written ones, and central finite
 * differences on gradc's forward; checks the hand-written gradient
 * against gradc's; writes the point and gradc's gradient for the peers.
 *
 *   MODEL [--budget SECONDS] [--dump DIR] [--wall]
 *
 * Every line it prints is "WHAT NAME VALUES...", for bench/bench.py:
 *   model NAME n_input n_data flops_forward flops_gradient
 *   time  WHAT min median spread rounds reps [sample M N]
 *   check WHAT max_relative_difference ok|MISMATCH
 * Times are process CPU seconds per call, the minimum and the median over
 * rounds of reps calls each; spread is the interquartile range over the
 * median.  CPU time rather than wall time, because the machine is shared:
 * a round that waits for the processor does not count the wait.  With
 * --wall, for code built with -fopenmp, it times gradc's forward and
 * gradient alone, by the wall clock: threads shorten that, not the CPU
 * time. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

/* A round lasts at least this long, so the clock's cost and resolution
 * do not matter; every measurement gets between MIN and MAX rounds
 * within its budget. */
#define ROUND_SECONDS 0.005
#define MIN_ROUNDS 3
#define MAX_ROUNDS 21
/* Hand-written and generated code add in different orders; anything
 * beyond rounding is a bug in one of them. */
#define TOLERANCE 1e-9
/* Finite differences over every coordinate up to this many; beyond, a
 * sample whose time is scaled to all of them. */
#define FD_ALL 256
#define FD_MAX_SAMPLE 64
/* The generated code keeps its temporaries on the stack (docs/api.md,
 * "Stack use"); the models run in a thread with room for the largest. */
#define STACK_BYTES ((size_t)512 << 20)

typedef struct Timing {
    double min, median, spread;
    int rounds;
    long reps;
} Timing;

/* What one timed call does: a forward, a gradient, or central differences
 * at the coordinates coords[0..n_coords). */
typedef struct Call {
    BenchForward *forward;
    BenchGradient *gradient;
    const long *coords;
    long n_coords;
} Call;

static double budget = 1.0;
static const char *dump_dir;
static clockid_t clock_id = CLOCK_PROCESS_CPUTIME_ID;
static double *input, *data, *gradc_grad, *other_grad;
static int failed;
/* Results go here, so no call can be left out as unused. */
static volatile double sink;

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

double bench_uniform(double lo, double hi)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    return lo + (hi - lo) * (double)(z >> 11) * 0x1p-53;
}

void bench_fill(double *p, long n, double scale)
{
    for (long i = 0; i < n; i++)
        p[i] = bench_uniform(-scale, scale);
}

void bench_one_hot(double *p, int rows, int n)
{
    for (int i = 0; i < rows; i++) {
        int hot = (int)bench_uniform(0, n);
        for (int j = 0; j < n; j++)
            p[i * n + j] = j == hot;
    }
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    return p;
}

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(clock_id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The step of coordinate i: about the cube root of the rounding error,
 * where truncation and cancellation balance. */
static double fd_step(double x)
{
    return cbrt(DBL_EPSILON) * fmax(1.0, fabs(x));
}

static double fd_coordinate(BenchForward *forward, long i)
{
    double x = input[i], h = fd_step(x);
    input[i] = x + h;
    double up = forward(input, data);
    input[i] = x - h;
    double down = forward(input, data);
    input[i] = x;
    return (up - down) / (2 * h);
}

static void call_run(const Call *c)
{
    if (c->forward && c->coords) {
        for (long k = 0; k < c->n_coords; k++)
            other_grad[c->coords[k]] = fd_coordinate(c->forward, c->coords[k]);
    } else if (c->forward) {
        sink = c->forward(input, data);
    } else {
        sink = c->gradient(input, data, other_grad);
    }
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static Timing time_call(const Call *c)
{
    /* The first call touches the buffers; the second one is the estimate. */
    call_run(c);
    double t = cpu_seconds();
    call_run(c);
    t = fmax(cpu_seconds() - t, 1e-9);

    Timing r;
    r.reps = t >= ROUND_SECONDS ? 1 : (long)ceil(ROUND_SECONDS / t);
    double rounds = floor(budget / (t * (double)r.reps));
    r.rounds = rounds < MIN_ROUNDS ? MIN_ROUNDS
               : rounds > MAX_ROUNDS ? MAX_ROUNDS : (int)rounds;
    double per_call[MAX_ROUNDS];
    for (int k = 0; k < r.rounds; k++) {
        double start = cpu_seconds();
        for (long i = 0; i < r.reps; i++)
            call_run(c);
        per_call[k] = (cpu_seconds() - start) / (double)r.reps;
    }
    qsort(per_call, (size_t)r.rounds, sizeof per_call[0], compare_doubles);
    r.min = per_call[0];
    r.median = per_call[r.rounds / 2];
    r.spread = (per_call[r.rounds * 3 / 4] - per_call[r.rounds / 4]) / r.median;
    return r;
}

static void print_timing(const char *what, Timing t)
{
    printf("time %s %.6e %.6e %.4f %d %ld\n", what, t.min, t.median, t.spread,
           t.rounds, t.reps);
    fflush(stdout);
}

/* Largest |a - b| over the largest |b|: a normwise relative difference,
 * which entries that are zero in one and 1e-300 in the other cannot
 * blow up. */
static double max_relative(const double *a, const double *b, const long *idx,
                           long n)
{
    double diff = 0, size = 0;
    for (long k = 0; k < n; k++) {
        long i = idx ? idx[k] : k;
        diff = fmax(diff, fabs(a[i] - b[i]));
        size = fmax(size, fabs(b[i]));
    }
    return size > 0 ? diff / size : diff;
}

static void print_check(const char *what, double rel, int strict, double tolerance)
{
    int ok = rel <= (tolerance > 0 ? tolerance : TOLERANCE);
    printf("check %s %.3e %s\n", what, rel,
           ok ? "ok" : strict ? "MISMATCH" : "inexact");
    fflush(stdout);
    if (strict && !ok)
        failed = 1;
}

static void dump(const char *name, const double *p, int n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.bin", dump_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, sizeof *p, (size_t)n, f) != (size_t)n || fclose(f)) {
        fprintf(stderr, "bench: cannot write '%s': %s\n", path, strerror(errno));
        exit(1);
    }
}

static void check_hand(const BenchModel *m)
{
    int n = m->n_input;
    double want = m->gradc_gradient(input, data, gradc_grad);
    double got = m->hand_gradient(input, data, other_grad);
    print_check("hand_gradient", max_relative(other_grad, gradc_grad, NULL, n), 1,
                m->tolerance);
    double f = m->hand_forward(input, data), g = m->gradc_forward(input, data);
    double worst = fmax(fabs(got - want), fabs(f - g)) / fmax(fabs(want), DBL_MIN);
    print_check("hand_loss", worst, 1, m->tolerance);
}

/* Central differences need 2n forward calls: every coordinate when there
 * are few, otherwise FD_MAX_SAMPLE spread evenly (fewer when a forward is
 * slow), timed and scaled to n. */
static void time_differences(const BenchModel *m, double forward_seconds)
{
    long n = m->n_input, sample = n;
    if (n > FD_ALL) {
        sample = (long)(0.1 / (2 * forward_seconds));
        sample = sample < 4 ? 4 : sample > FD_MAX_SAMPLE ? FD_MAX_SAMPLE : sample;
    }
    long *coords = xmalloc((size_t)sample * sizeof *coords);
    for (long k = 0; k < sample; k++)
        coords[k] = (2 * k + 1) * n / (2 * sample);
    Call c = { m->gradc_forward, NULL, coords, sample };
    Timing t = time_call(&c);
    double scale = (double)n / (double)sample;
    printf("time fd_gradient %.6e %.6e %.4f %d %ld sample %ld %ld\n",
           t.min * scale, t.median * scale, t.spread, t.rounds, t.reps, sample, n);
    print_check("fd_gradient", max_relative(other_grad, gradc_grad, coords, sample), 0,
                m->tolerance);
    free(coords);
}

static void *run(void *arg)
{
    const BenchModel *m = arg;
    printf("model %s %d %d %.6e %.6e\n", m->name, m->n_input, m->n_data,
           m->flops(0), m->flops(1));
    m->init(input, data);
    check_hand(m);
    if (dump_dir) {
        dump("input", input, m->n_input);
        dump("data", data, m->n_data);
        dump("grad", gradc_grad, m->n_input);
    }
    const Call calls[] = {
        { m->gradc_forward, NULL, NULL, 0 },
        { NULL, m->gradc_gradient, NULL, 0 },
        { m->hand_forward, NULL, NULL, 0 },
        { NULL, m->hand_gradient, NULL, 0 },
    };
    const char *names[] = { "gradc_forward", "gradc_gradient", "hand_forward",
                            "hand_gradient" };
    size_t ncalls = clock_id == CLOCK_MONOTONIC ? 2 : sizeof calls / sizeof calls[0];
    double forward_seconds = 0;
    for (size_t k = 0; k < ncalls; k++) {
        Timing t = time_call(&calls[k]);
        print_timing(names[k], t);
        if (k == 0)
            forward_seconds = t.min;
    }
    if (clock_id != CLOCK_MONOTONIC)
        time_differences(m, forward_seconds);
    return NULL;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--budget") && i + 1 < argc)
            budget = atof(argv[++i]);
        else if (!strcmp(argv[i], "--dump") && i + 1 < argc)
            dump_dir = argv[++i];
        else if (!strcmp(argv[i], "--wall"))
            clock_id = CLOCK_MONOTONIC;
        else {
            fprintf(stderr, "usage: %s [--budget SECONDS] [--dump DIR] [--wall]\n",
                    argv[0]);
            return 2;
        }
    }
    const BenchModel *m = &bench_model;
    input = xmalloc((size_t)m->n_input * sizeof *input);
    data = xmalloc((size_t)m->n_data * sizeof *data);
    gradc_grad = xmalloc((size_t)m->n_input * sizeof *gradc_grad);
    other_grad = xmalloc((size_t)m->n_input * sizeof *other_grad);

    pthread_attr_t attr;
    pthread_t thread;
    if (pthread_attr_init(&attr) || pthread_attr_setstacksize(&attr, STACK_BYTES)
        || pthread_create(&thread, &attr, run, (void *)m)
        || pthread_join(thread, NULL)) {
        fprintf(stderr, "bench: cannot start a thread with a %zu-byte stack\n",
                STACK_BYTES);
        return 1;
    }
    free(input);
    free(data);
    free(gradc_grad);
    free(other_grad);
    return failed;
}
