/* harness.h: what each benchmarked model gives the timing harness
 * (bench/harness.c), and the helpers the harness gives the models.
 *
 * A model's inputs (the values its gradient is taken with respect to)
 * are one flat array, every `input` of its .grad file in declaration
 * order, and so is its gradient; its `data` is a second flat array.  So
 * the harness can time, compare and difference any model alike, and the
 * peers read the same arrays from the files it writes. */
#ifndef BENCH_HARNESS_H
#define BENCH_HARNESS_H

/* The loss at the point; a gradient function also writes the gradient. */
typedef double BenchForward(const double *input, const double *data);
typedef double BenchGradient(const double *input, const double *data,
                             double *grad);

typedef struct BenchModel {
    const char *name;
    int n_input;
    int n_data;
    /* FLOPs of one forward (gradient 0) or one gradient (1: forward and
     * backward), counted from the hand-written loops: + - * / and a
     * comparison are one, a multiply-add two, an elementary function
     * (exp, sin, ...) one. */
    double (*flops)(int gradient);
    void (*init)(double *input, double *data);
    BenchForward *gradc_forward;
    BenchGradient *gradc_gradient;
    BenchForward *hand_forward;
    BenchGradient *hand_gradient;
    /* the largest normwise relative difference allowed between gradc's
     * gradient and the hand-written one: 0 for the harness's own, for
     * double code (float code is compared with the double hand C) */
    double tolerance;
} BenchModel;

/* Defined by each model's file. */
extern const BenchModel bench_model;

/* Uniform in [lo, hi), from a fixed seed: the same sequence on every run. */
double bench_uniform(double lo, double hi);

/* Fill p[0..n) uniformly in [-scale, scale). */
void bench_fill(double *p, long n, double scale);

/* Rows of n one-hot targets, the hot column chosen at random. */
void bench_one_hot(double *p, int rows, int n);

#endif
