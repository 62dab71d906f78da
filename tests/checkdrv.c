/* checkdrv.c: the checks a driver written by gradcheck (tests/gradcheck.c)
 * runs, the same for every model: the driver holds only the model's data
 * and wrappers (tests/checkdrv.h).  The test scripts compile this file once
 * per compiler and link it with every driver.
 *
 * At each point: forward's outputs against the reference; backward into
 * NaN-filled buffers, so that an element it leaves unwritten shows, and
 * again with the same tape, which must give the same bits; the gradient
 * against the reference; NAME_grad against forward and backward with seed
 * 1; and central differences of forward against backward's gradient.  The
 * tolerances are explained at the top of tests/gradcheck.c. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkdrv.h"

typedef struct GRADC_model Model;
typedef struct GRADC_arg Arg;
typedef struct GRADC_output Output;

enum { MAX_REPORTS = 10 };

/* One model's run: the buffers the generated functions fill, and what the
 * checks found. */
typedef struct Run {
    const Model *m;
    void *tape;
    double *arg, *output, *grad, *grad_again, *grad_want;
    int failures, point_reported;
    double worst_err, worst_fd;
    long outputs_checked, grads_checked, not_finite;
    int fd_skipped;
} Run;

static void fill_nan(double *a, int n)
{
    for (int i = 0; i < n; i++)
        a[i] = NAN;
}

static int same_bits(const double *a, const double *b, int n)
{
    return memcmp(a, b, (size_t)n * sizeof *a) == 0;
}

/* |want - got| <= rel * max(|want|, |got|) + abs_coef * scale + slack, where
 * scale is the largest |reference| in the same array, or less than the
 * model's tiny (the smallest normal number of its type): subnormals are
 * underflow, which the forward and reverse passes meet in different orders.  NaN agrees only with NaN, and
 * only at a fixed point; an infinity agrees only with the same infinity.
 * *err is the error relative to max(|want|, |got|, (abs_coef * scale +
 * slack) / rel), so that it is at most 1 where the values agree. */
static int agrees(const Run *r, int p, double want, double got, double scale, double rel,
                  double abs_coef, double slack, double *err)
{
    *err = 0;
    if (isnan(want) && isnan(got))
        return p < r->m->nfixed;
    if (isnan(want) || isnan(got) || isinf(want) || isinf(got))
        return isinf(want) && same_bits(&want, &got, 1);
    double diff = fabs(want - got);
    double size = fmax(fabs(want), fabs(got));
    if (diff < r->m->tiny)
        return 1;
    *err = diff / fmax(size, (abs_coef * scale + slack) / rel);
    return diff <= rel * size + abs_coef * scale + slack;
}

/* The largest |reference| among n values, at least the smallest normal. */
static double scale_of(const double *ref, int n)
{
    double s = DBL_MIN;
    for (int i = 0; i < n; i++)
        if (fabs(ref[i]) > s)
            s = fabs(ref[i]);
    return s;
}

static void fail(Run *r, int p, const char *fmt, ...)
{
    const Model *m = r->m;
    va_list ap;
    if (++r->failures > MAX_REPORTS)
        return;
    fprintf(stderr, "FAIL %s (seed %s) point %d: ", m->path, m->seed, p);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (r->failures == 1)
        fprintf(stderr, "  reproduce with: gradcheck %s\n", m->options);
    if (r->point_reported != p) {
        r->point_reported = p;
        for (int a = 0; a < m->nargs; a++)
            if (m->args[a].len == 1)
                fprintf(stderr, "  at %s = %.17g\n", m->args[a].name,
                        m->points[p * m->args_len + m->args[a].offset]);
    }
}

/* "name" for a scalar, "name[i]" for an element of a tensor. */
static const char *element(const char *name, int len, int i)
{
    static char text[256];
    if (len == 1)
        snprintf(text, sizeof text, "'%s'", name);
    else
        snprintf(text, sizeof text, "'%s'[%d]", name, i);
    return text;
}

/* At a scaled point only a finite reference is compared. */
static int compared(Run *r, int p, double want)
{
    if (p < r->m->nbase || isfinite(want))
        return 1;
    r->not_finite++;
    return 0;
}

static void check_outputs(Run *r, int p)
{
    const Model *m = r->m;
    for (int o = 0; o < m->noutputs; o++) {
        const Output *out = &m->outputs[o];
        const double *want = m->output_ref + p * m->outputs_len + out->offset;
        const double *got = r->output + out->offset;
        double scale = scale_of(want, out->len), err;
        for (int i = 0; i < out->len; i++) {
            if (!compared(r, p, want[i]))
                continue;
            r->outputs_checked++;
            double slack = m->output_err ? m->output_err[p * m->outputs_len + out->offset + i]
                                         : 0;
            if (!agrees(r, p, want[i], got[i], scale, m->rel, m->abs_coef, slack, &err))
                fail(r, p, "output %s: expected %.17g, got %.17g",
                     element(out->name, out->len, i), want[i], got[i]);
            r->worst_err = fmax(r->worst_err, err);
        }
    }
}

/* Is element I of argument A's gradient checked at point P, and NaN in
 * the reference there (as it can be at a fixed point)? */
static int nan_expected(const Run *r, int p, int a, int i)
{
    const Model *m = r->m;
    for (int c = 0; c < m->ncheck; c++)
        if (m->check_arg[c] == a && m->check_elem[p * m->ncheck + c] == i)
            return isnan(m->grad_ref[p * m->ncheck + c]);
    return 0;
}

/* Backward overwrites every gradient element (checked at the points that
 * are not scaled, where nothing overflows) and repeats itself exactly. */
static void run_backward(Run *r, int p)
{
    const Model *m = r->m;
    const double *seed = m->seeds + p * m->outputs_len;
    fill_nan(r->grad, m->grads_len);
    m->backward(r->tape, r->arg, seed, r->grad);
    for (int a = 0; a < m->nargs && p < m->nbase; a++) {
        const Arg *in = &m->args[a];
        for (int i = 0; i < in->len && in->grad >= 0; i++)
            if (isnan(r->grad[in->grad + i]) && !nan_expected(r, p, a, i))
                fail(r, p, "gradient %s is NaN: left unwritten, or computed as NaN",
                     element(in->name, in->len, i));
    }
    for (int i = 0; i < m->grads_len; i++)
        r->grad_again[i] = -1.0;
    m->backward(r->tape, r->arg, seed, r->grad_again);
    if (!same_bits(r->grad, r->grad_again, m->grads_len))
        fail(r, p, "a second backward call with the same tape gave other gradients");
}

/* The scale of checked element C: the largest |reference| among the
 * checked elements of the same input. */
static double grad_scale(const Model *m, int p, int c)
{
    const double *ref = m->grad_ref + p * m->ncheck;
    double s = DBL_MIN;
    for (int k = 0; k < m->ncheck; k++)
        if (m->check_arg[k] == m->check_arg[c] && fabs(ref[k]) > s)
            s = fabs(ref[k]);
    return s;
}

static void check_gradients(Run *r, int p)
{
    const Model *m = r->m;
    for (int c = 0; c < m->ncheck; c++) {
        const Arg *in = &m->args[m->check_arg[c]];
        int i = m->check_elem[p * m->ncheck + c];
        double want = m->grad_ref[p * m->ncheck + c], got = r->grad[in->grad + i], err;
        if (!compared(r, p, want))
            continue;
        r->grads_checked++;
        /* a part of the size of the terms: rounding where they cancel */
        double slack = m->mag_coef * m->grad_mag[p * m->ncheck + c]
                       + (m->grad_err ? m->grad_err[p * m->ncheck + c] : 0);
        if (!agrees(r, p, want, got, grad_scale(m, p, c), m->rel, m->abs_coef, slack, &err))
            fail(r, p, "gradient %s: expected %.17g, got %.17g",
                 element(in->name, in->len, i), want, got);
        r->worst_err = fmax(r->worst_err, err);
    }
}

/* NAME_grad is forward and backward with seed 1, bit for bit. */
static void check_grad_function(Run *r, int p)
{
    const Model *m = r->m;
    static const double one = 1.0;
    fill_nan(r->grad_again, m->grads_len);
    double value = m->grad(r->tape, r->arg, r->grad_again);
    fill_nan(r->output, m->outputs_len);
    m->forward(r->tape, r->arg, r->output);
    double want_value = r->output[0];
    fill_nan(r->grad_want, m->grads_len);
    m->backward(r->tape, r->arg, &one, r->grad_want);
    if (!same_bits(&value, &want_value, 1))
        fail(r, p, "the grad function returned %.17g, forward gives %.17g", value,
             want_value);
    if (!same_bits(r->grad_again, r->grad_want, m->grads_len))
        fail(r, p, "the grad function's gradients differ from backward with seed 1");
}

/* sum over outputs of <seed, output> at the arguments, and its rounding
 * size. */
static double weighted_sum(Run *r, int p, double *size)
{
    const Model *m = r->m;
    const double *seed = m->seeds + p * m->outputs_len;
    double sum = 0;
    *size = 0;
    fill_nan(r->output, m->outputs_len);
    m->forward(r->tape, r->arg, r->output);
    for (int i = 0; i < m->outputs_len; i++) {
        sum += seed[i] * r->output[i];
        *size += fabs(seed[i] * r->output[i]);
    }
    return sum;
}

/* Central differences of the weighted sum against the gradient backward
 * returned, within 1e-5 relative or 1e-7 of the whole gradient (their
 * truncation error); the slack covers their rounding error. */
static void check_differences(Run *r, int p)
{
    const Model *m = r->m;
    const double *ref = m->grad_ref + p * m->ncheck;
    for (int c = 0; c < m->ncheck; c++) {
        const Arg *in = &m->args[m->check_arg[c]];
        int i = m->check_elem[p * m->ncheck + c];
        if (m->fd_skip[p * m->ncheck + c]) {
            r->fd_skipped++;
            continue;
        }
        /* nothing to difference: a fixed point's infinity or NaN */
        if (!isfinite(ref[c]))
            continue;
        double *x = r->arg + in->offset + i;
        double x0 = *x, h = m->fd_step * fmax(1.0, fabs(x0)), size_hi, size_lo, err;
        double hi = x0 + h, lo = x0 - h;
        *x = hi;
        double f_hi = weighted_sum(r, p, &size_hi);
        *x = lo;
        double f_lo = weighted_sum(r, p, &size_lo);
        *x = x0;
        double fd = (f_hi - f_lo) / (hi - lo);
        double slack = 64 * DBL_EPSILON * fmax(size_hi, size_lo) / (hi - lo);
        double got = r->grad[in->grad + i];
        if (!agrees(r, p, fd, got, scale_of(ref, m->ncheck), 1e-5, 1e-7, slack, &err))
            fail(r, p, "gradient %s: finite differences give %.17g, backward %.17g",
                 element(in->name, in->len, i), fd, got);
        /* the worst error only where the differences resolve the gradient */
        if (slack < 1e-5 * fmax(fabs(fd), fabs(got)))
            r->worst_fd = fmax(r->worst_fd, err);
    }
}

static void print_summary(const Run *r)
{
    const Model *m = r->m;
    printf("%s: %d points, %ld gradient elements and %ld output elements checked, "
           "worst relative error %.2g", m->path, m->npoints, r->grads_checked,
           r->outputs_checked, r->worst_err);
    if (m->fd_step > 0) {
        printf(", finite differences %.2g", r->worst_fd);
        if (r->fd_skipped)
            printf(" (%d near a kink skipped)", r->fd_skipped);
    } else {
        printf(", finite differences skipped");
    }
    if (m->nbase < m->npoints)
        printf("; %d of the points scaled by %s (non-finite reference elements skipped: %ld)",
               m->npoints - m->nbase, m->scales, r->not_finite);
    if (strcmp(m->type, "double") != 0)
        printf("; %s code, within its error bounds", m->type);
    printf("\n");
}

/* N doubles, at least one: malloc(0) may return NULL. */
static double *alloc_doubles(int n)
{
    return malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
}

static void run_points(Run *r)
{
    const Model *m = r->m;
    for (int p = 0; p < m->npoints; p++) {
        memcpy(r->arg, m->points + p * m->args_len, (size_t)m->args_len * sizeof *r->arg);
        fill_nan(r->output, m->outputs_len);
        m->forward(r->tape, r->arg, r->output);
        check_outputs(r, p);
        run_backward(r, p);
        check_gradients(r, p);
        if (m->grad)
            check_grad_function(r, p);
        if (m->fd_step > 0 && p < m->nbase)
            check_differences(r, p);
    }
}

int GRADC_check(const Model *m)
{
    /* a zeroed tape, as a static one would be */
    Run r = { m, calloc(1, m->tape_size ? m->tape_size : 1), alloc_doubles(m->args_len),
              alloc_doubles(m->outputs_len), alloc_doubles(m->grads_len),
              alloc_doubles(m->grads_len), alloc_doubles(m->grads_len), 0, -1,
              0, 0, 0, 0, 0, 0 };
    int status = 1;
    if (!r.tape || !r.arg || !r.output || !r.grad || !r.grad_again || !r.grad_want) {
        fprintf(stderr, "%s: out of memory\n", m->path);
    } else {
        run_points(&r);
        if (r.failures) {
            fprintf(stderr, "%s: %d failure(s)\n", m->path, r.failures);
        } else {
            print_summary(&r);
            status = 0;
        }
    }
    free(r.tape);
    free(r.arg);
    free(r.output);
    free(r.grad);
    free(r.grad_again);
    free(r.grad_want);
    return status;
}
