/* gradcheck: gradc's independent numeric reference.
 *
 * Usage: gradcheck [OPTION]... MODEL.grad
 *
 * Reads MODEL.grad with gradc's front end only (parse and check: the Ast
 * with every shape), evaluates it with its own interpreter over dual
 * numbers (a value and one tangent), and writes a C driver that checks the
 * code gradc generated for the model against it.  The driver is data: the
 * points and the reference at them, and wrappers of the generated
 * functions; the checks, the same for every model, are tests/checkdrv.c,
 * compiled once and linked with every driver (with -I tests for
 * checkdrv.h).  The
 * derivative rules here are forward-mode rules written for this file; they
 * share nothing with gradc's operator table, graph or reverse pass, so a
 * wrong adjoint in the compiler cannot be checked against itself.
 *
 * At each point (random arguments and random output seeds) the reference
 * gradient of input element i is sum over outputs k of <seed_k, d out_k/dx_i>,
 * from one forward-mode pass with tangent e_i.  Inputs of more than 64
 * elements are checked at 48 elements drawn per point.  The driver holds
 * the points, seeds, reference outputs and gradients as exact hex floats;
 * the checks call NAME_forward, NAME_backward (twice, into NaN-filled buffers) and
 * NAME_grad when the model has exactly one scalar output, and compares at
 * relative tolerance 1e-9 (plus 1e-12 times the largest reference value of
 * the same array, and for a gradient element 1e-12 times the size of the
 * terms that sum to it, since where they cancel only the rounding noise of
 * the order of summation is left: see Dual).  As a second opinion it compares central finite
 * differences of the generated forward with the generated gradient, loosely
 * (1e-5, plus 1e-7 of the largest gradient element at the point for their
 * truncation error, plus their own rounding error), except for elements
 * whose differences would straddle a kink: the reference notes, along each
 * direction, how far the input can move before an argument of relu or abs
 * reaches 0 or the two arguments of max or min meet (to first order), and
 * skips the differences where that is within 1000 steps.  On a mismatch it
 * names the model, the seed, the point, the input element, the expected
 * and the actual value, and exits 1; otherwise it prints one summary line.
 *
 * Options
 *   --points N          random points to check (default 4)
 *   --seed S            seed of the pseudo-random points (default 1); the
 *                       same options always write the same bytes
 *   --range NAME=LO:HI  draw argument NAME uniformly from [LO, HI]
 *                       (repeatable; default -2:2)
 *   --range-all LO:HI   the default range for every argument
 *   --at NAME=V[,NAME=V...]
 *                       also check one fixed point (repeatable): NAME=V
 *                       sets a scalar argument, NAME[I]=V element I of a
 *                       tensor (row-major), and V may be inf, -inf or nan;
 *                       what is not set is drawn at random.  Fixed points
 *                       come before the random ones.  At a fixed point a
 *                       NaN in the reference is an answer like any other:
 *                       it agrees with a NaN (and only with one)
 *   --scale F           also check every point with all its arguments
 *                       multiplied by F (repeatable): large magnitudes for
 *                       the operators whose stability docs/language.md
 *                       promises.  There the driver compares only the
 *                       elements whose reference is finite, at the same
 *                       tolerances (the generated code and the reference
 *                       evaluate the same expressions, so they differ by
 *                       rounding, which scales with the values), and takes
 *                       no finite differences: a step of 1e-6 of 1e300 is
 *                       meaningless
 *   --no-fd             skip the finite differences (for points at kinks)
 *   --header FILE       the generated header to include (default NAME.h)
 *   --entry NAME        name the driver's entry point NAME instead of main:
 *                       int NAME(void) returns 0 or 1 as main would, so
 *                       that one program can run the drivers of many models
 *                       (each model's C prefix must differ).  The driver's
 *                       other file-scope names are GRADC_PREFIX_..., which
 *                       no model's C names can be (see tests/checkdrv.h),
 *                       so such drivers can also be #included into one
 *                       translation unit (tests/random.sh builds them so)
 *   --type=float        the code was generated with gradc --type=float:
 *                       the points and seeds are rounded to float (so the
 *                       reference is exact for what the code gets), the
 *                       driver's wrappers convert to and from float, and
 *                       each output and gradient element is compared within
 *                       4 FLT_EPSILON times its running error bound (Dual's
 *                       ev and ed: how far an evaluation that rounds every
 *                       operation to float can be from the reference, to
 *                       first order), plus 2 FLT_EPSILON relative, plus
 *                       16 FLT_EPSILON times the size of the terms (the
 *                       backward pass adds contributions in an order of
 *                       its own, which the forward-mode bound does not
 *                       follow: z - z sends g and -g to z's adjoint).  No
 *                       finite differences (at float's precision a step of
 *                       1e-6 gives noise), and only the --scale factors
 *                       that keep the points within float's range
 *   --self-check        write no driver: compare the reference gradients
 *                       with central differences of the interpreter itself
 *                       (tests gradcheck, needs no generated code)
 *   -o, --output FILE   write the driver to FILE (default: stdout)
 *   -h, --help          show this help
 *
 * Exit status: 0 on success, 1 on a bad model or a failed self-check,
 * 2 on a usage error. */
#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradc.h"

static const char usage[] =
    "Usage: gradcheck [OPTION]... MODEL.grad\n"
    "Write a C driver that checks gradc's generated code for MODEL against an\n"
    "independent forward-mode (dual number) evaluation of the model.\n"
    "\n"
    "  --points N              random points to check (default 4)\n"
    "  --seed S                seed of the random points (default 1)\n"
    "  --range NAME=LO:HI      range of argument NAME (repeatable; default -2:2)\n"
    "  --range-all LO:HI       range of every argument without its own\n"
    "  --at NAME=V[,NAME=V...] also check this fixed point (repeatable): NAME=V\n"
    "                          or NAME[I]=V for element I of a tensor; V may be\n"
    "                          inf, -inf or nan; the rest is random\n"
    "  --scale F               also check each point times F, where the\n"
    "                          reference is finite (repeatable)\n"
    "  --no-fd                 skip the finite-difference second opinion\n"
    "  --header FILE           the generated header to include (default NAME.h)\n"
    "  --entry NAME            define int NAME(void) instead of main\n"
    "  --type=float            the code was generated with gradc --type=float:\n"
    "                          check it at float points, within the reference's\n"
    "                          error bounds for float (no finite differences)\n"
    "  --self-check            check the reference against finite differences\n"
    "                          of itself instead of writing a driver\n"
    "  -o, --output FILE       write the driver to FILE (default: stdout)\n"
    "  -h, --help              show this help and exit\n";

enum {
    FULL_CHECK_MAX = 64,  /* inputs up to this size are checked whole */
    SAMPLE_SIZE = 48,     /* elements checked per point in larger inputs */
};

/* Finite differences step h = 1e-6 max(1, |x|); they are skipped where a
 * kink is closer than KINK_STEPS steps. */
static const double FD_STEP = 1e-6, KINK_STEPS = 1000;

/* ---- pseudo-random numbers: splitmix64, the same on every platform ---- */

typedef struct Rng {
    uint64_t state;
} Rng;

static uint64_t rng_next(Rng *rng)
{
    uint64_t z = (rng->state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static double rng_uniform(Rng *rng, double lo, double hi)
{
    return lo + (hi - lo) * ((double)(rng_next(rng) >> 11) * 0x1p-53);
}

static long rng_below(Rng *rng, long n)
{
    return (long)(rng_next(rng) % (uint64_t)n);
}

/* ---- dual numbers: a value and its derivative along one direction ---- */

/* d is the derivative; m is the same chain rule with the absolute value
 * of every partial derivative and every term, so |d| <= m, and m is the
 * size of the terms whose sum is d.  Where the terms cancel (the gradient
 * of something that does not change, such as the sum of a softmax row, is
 * zero in exact arithmetic), d is exact but any other order of summation,
 * such as the reverse pass's, leaves rounding noise of the order of
 * DBL_EPSILON * m: the driver allows for that much. */
typedef struct Dual {
    double v, d, m;
    double ev, ed;      /* bounds on the errors of v and d: see below */
} Dual;

/* Running error analysis, for --type=float: ev and ed bound, to first
 * order and in units of the unit roundoff u of the evaluated type, how far
 * an evaluation in that type, rounding every operation, can be from v and
 * d.  Each operation adds its own rounding, K_OP units of its result (K_FN
 * for a function of the C library or the runtime, within a few ulps), to
 * its operands' errors times its partial derivative; a derivative also
 * carries the error of each partial derivative, evaluated at an operand
 * that is itself off by its ev (through the second derivative).  A sum of
 * n terms adds n u times the sum of their magnitudes, which bounds the
 * rounding of any order of summation (the generated code's blocked matrix
 * products add in another order than the reference). */
static const double K_OP = 1, K_FN = 4;

/* A tangent times a partial derivative.  A zero tangent means the value
 * does not depend on the direction at all, so an infinite partial (sqrt at
 * 0, say) must not turn it into NaN; nor must a tangent that overflowed
 * (through 1e300 * softmax(1e16 * x)) meet a partial that underflowed to 0
 * (sigmoid's beyond 745): the reverse pass multiplies the other way round
 * and gets 0. */
static double chain(double tangent, double partial)
{
    return tangent == 0 || partial == 0 ? 0 : tangent * partial;
}

/* How far the current direction's input can move before some relu, abs,
 * max or min switches branches, to first order: the smallest |s / s'| over
 * the switching quantities s (the argument, or the difference of the two
 * arguments) that move along the direction.  Reset before each pass. */
static double kink_margin = INFINITY;

static void note_kink(double s, double ds)
{
    if (ds != 0)
        kink_margin = fmin(kink_margin, fabs(s) / fabs(ds));
}

/* f(a) with value V and f'(a) = P */
static Dual apply1(Dual a, double v, double p)
{
    return (Dual){ v, chain(a.d, p), chain(a.m, fabs(p)), 0, 0 };
}

/* R = f(a), a function with f' = P and f'' = Q, with its error bounds:
 * the error of f' at a point off by a.ev is |Q| a.ev, plus its own
 * rounding. */
static Dual with_error1(Dual r, Dual a, double p, double q, double k)
{
    r.ev = chain(a.ev, fabs(p)) + k * fabs(r.v);
    r.ed = chain(a.ed, fabs(p)) + chain(fabs(a.d), chain(a.ev, fabs(q)) + k * fabs(p))
           + K_OP * fabs(r.d);
    return r;
}

/* R = f(a, b) with partials PA, PB whose own errors are EPA, EPB, and the
 * error of the value EV. */
static Dual with_error2(Dual r, Dual a, Dual b, double pa, double pb, double epa,
                        double epb, double ev)
{
    r.ev = ev;
    r.ed = chain(a.ed, fabs(pa)) + chain(fabs(a.d), epa + K_OP * fabs(pa))
           + chain(b.ed, fabs(pb)) + chain(fabs(b.d), epb + K_OP * fabs(pb))
           + K_OP * fabs(r.d);
    return r;
}

/* f(a, b) with value V and partial derivatives PA, PB */
static Dual apply2(Dual a, Dual b, double v, double pa, double pb)
{
    return (Dual){ v, chain(a.d, pa) + chain(b.d, pb),
                   chain(a.m, fabs(pa)) + chain(b.m, fabs(pb)), 0, 0 };
}

static Dual dual_mul(Dual a, Dual b)
{
    Dual r = apply2(a, b, a.v * b.v, b.v, a.v);
    return with_error2(r, a, b, b.v, a.v, b.ev, a.ev,
                       chain(a.ev, fabs(b.v)) + chain(b.ev, fabs(a.v)) + K_OP * fabs(r.v));
}

/* s += x, and in *abs_v, *abs_d the magnitudes of the terms; sum_error
 * adds their rounding when the sum is done. */
static void dual_add_to(Dual *s, Dual x, double *abs_v, double *abs_d)
{
    s->v += x.v;
    s->d += x.d;
    s->m += x.m;
    s->ev += x.ev;
    s->ed += x.ed;
    *abs_v += fabs(x.v);
    *abs_d += fabs(x.d);
}

static void sum_error(Dual *s, long n, double abs_v, double abs_d)
{
    s->ev += K_OP * (double)n * abs_v;
    s->ed += K_OP * (double)n * abs_d;
}

/* 1 / (1 + exp(-x)) without overflow. */
static double sigmoid(double x)
{
    if (x >= 0)
        return 1 / (1 + exp(-x));
    double e = exp(x);
    return e / (1 + e);
}

static Dual unary_rule(Op op, Dual a)
{
    double v, e, p;
    switch (op) {
    case OP_NEG:
        return (Dual){ -a.v, -a.d, a.m, a.ev, a.ed };
    case OP_EXP:
        v = exp(a.v);
        return with_error1(apply1(a, v, v), a, v, v, K_FN);
    case OP_LOG:
        return with_error1(apply1(a, log(a.v), 1 / a.v), a, 1 / a.v, -1 / (a.v * a.v), K_FN);
    case OP_SQRT:
        v = sqrt(a.v);
        return with_error1(apply1(a, v, 0.5 / v), a, 0.5 / v, -0.25 / (v * a.v), K_OP);
    case OP_SIN:
        return with_error1(apply1(a, sin(a.v), cos(a.v)), a, cos(a.v), -sin(a.v), K_FN);
    case OP_COS:
        return with_error1(apply1(a, cos(a.v), -sin(a.v)), a, -sin(a.v), -cos(a.v), K_FN);
    case OP_TANH:
        /* tanh' = 4 e^-2|x| / (1 + e^-2|x|)^2: exact where 1 - tanh^2
         * cancels (|x| > 5), and where cosh^2 would overflow (|x| > 355) */
        e = exp(-2 * fabs(a.v));
        v = tanh(a.v);
        p = 4 * e / ((1 + e) * (1 + e));
        return with_error1(apply1(a, v, p), a, p, -2 * v * p, K_FN);
    case OP_SIGMOID:
        /* sigmoid' = e^-|x| / (1 + e^-|x|)^2, exact for large |x| */
        e = exp(-fabs(a.v));
        v = sigmoid(a.v);
        p = e / ((1 + e) * (1 + e));
        return with_error1(apply1(a, v, p), a, p, p * (1 - 2 * v), K_FN);
    case OP_RELU:
        /* relu'(0) = relu'(NaN) = 1: relu is x itself unless x < 0 */
        note_kink(a.v, a.d);
        return a.v < 0 ? (Dual){ 0.0, 0.0, 0.0, 0.0, 0.0 } : a;
    case OP_ABS:
        /* abs'(0) = 0, abs'(NaN) = NaN: the sign of x, 0 at 0 */
        note_kink(a.v, a.d);
        return with_error1(apply1(a, fabs(a.v), isnan(a.v) ? a.v : (a.v > 0) - (a.v < 0)),
                           a, 1, 0, 0);
    case OP_SOFTPLUS:
        v = sigmoid(a.v);
        return with_error1(apply1(a, fmax(a.v, 0) + log1p(exp(-fabs(a.v))), v), a, v,
                           v * (1 - v), K_FN);
    default:
        die("gradcheck: no rule for unary operator %d", (int)op);
    }
}

/* An error bound E of X relative to X (0 when E is). */
static double relative(double e, double x)
{
    return e == 0 ? 0 : e / fabs(x);
}

static Dual binary_rule(Op op, Dual a, Dual b)
{
    double v, d, ev, e, pa, pb;
    switch (op) {
    case OP_ADD:
        v = a.v + b.v;
        d = a.d + b.d;
        return (Dual){ v, d, a.m + b.m, a.ev + b.ev + K_OP * fabs(v),
                       a.ed + b.ed + K_OP * fabs(d) };
    case OP_SUB:
        v = a.v - b.v;
        d = a.d - b.d;
        return (Dual){ v, d, a.m + b.m, a.ev + b.ev + K_OP * fabs(v),
                       a.ed + b.ed + K_OP * fabs(d) };
    case OP_MUL:
        return dual_mul(a, b);
    case OP_DIV:
        v = a.v / b.v;
        ev = chain(a.ev, fabs(1 / b.v)) + chain(b.ev, fabs(v / b.v)) + K_OP * fabs(v);
        return with_error2(apply2(a, b, v, 1 / b.v, -v / b.v), a, b, 1 / b.v, -v / b.v,
                           chain(b.ev, 1 / (b.v * b.v)),
                           chain(ev, fabs(1 / b.v)) + chain(b.ev, fabs(v / (b.v * b.v))),
                           ev);
    case OP_POW:
        /* d/dy x^y = x^y log x is taken as 0 at x = 0 for y >= 0 (for
         * y < 0 it is -inf); d/dx x^0 = 0.  The partials' errors: their
         * relative errors are about those of x^y, x and y together. */
        v = pow(a.v, b.v);
        pa = b.v == 0 ? 0 : b.v * pow(a.v, b.v - 1);
        pb = a.v == 0 && b.v >= 0 ? 0 : v * log(a.v);
        ev = chain(a.ev, fabs(pa)) + chain(b.ev, fabs(pb)) + K_FN * fabs(v);
        e = relative(ev, v) + relative(a.ev, a.v) + relative(b.ev, b.v) + K_FN;
        return with_error2(apply2(a, b, v, pa, pb), a, b, pa, pb, chain(e, fabs(pa)),
                           chain(e + relative(a.ev, a.v * log(a.v)), fabs(pb)), ev);
    case OP_MAX:
        /* the argument returned takes it all: the first on a tie, a NaN on
         * either side (the first if both are) */
        note_kink(a.v - b.v, a.d - b.d);
        return isnan(a.v) || (!isnan(b.v) && a.v >= b.v) ? a : b;
    case OP_MIN:
        note_kink(a.v - b.v, a.d - b.d);
        return isnan(a.v) || (!isnan(b.v) && a.v <= b.v) ? a : b;
    default:
        die("gradcheck: no rule for binary operator %d", (int)op);
    }
}

/* ---- the interpreter ---- */

typedef struct Tensor {
    Shape shape;
    long len;
    Dual *x;            /* row-major */
} Tensor;

/* An input or data declaration: an argument of the generated functions. */
typedef struct Arg {
    const Stmt *stmt;
    Tensor *value;
    bool is_input;
    long offset;        /* in a point: all arguments' elements in order */
    double lo, hi;      /* range of random values */
} Arg;

typedef struct ModelOutput {
    const Stmt *stmt;
    const Tensor *value;
    long offset;        /* in all outputs' elements in order */
} ModelOutput;

typedef struct Model {
    const char *path;
    const char *name;   /* the C prefix, as gradc derives it */
    Ast ast;
    Tensor *values;     /* per expression */
    Arg *args;
    int nargs;
    long args_len;
    int *inputs;        /* indices in args of the inputs */
    int ninputs;
    long grads_len;
    ModelOutput *outputs;
    int noutputs;
    long outputs_len;
} Model;

static void tensor_init(Tensor *t, Arena *arena, Shape shape)
{
    t->shape = shape;
    t->len = shape_size(shape);
    t->x = arena_alloc(arena, (size_t)t->len * sizeof *t->x);
}

/* The value statement S names. */
static Tensor *stmt_value(Model *m, const Stmt *s)
{
    if (s->expr)
        return &m->values[s->expr->id];
    for (int a = 0; a < m->nargs; a++)
        if (m->args[a].stmt == s)
            return m->args[a].value;
    UNREACHABLE();
}

/* Element F of a broadcast result of shape R comes from this element of
 * an operand of shape A (NumPy rules: trailing axes aligned, size-1 axes
 * stretched). */
static long broadcast_index(Shape r, Shape a, long f)
{
    long col = r.rank > 0 ? f % r.dim[r.rank - 1] : 0;
    long row = r.rank > 1 ? f / r.dim[1] : 0;
    switch (a.rank) {
    case 0:
        return 0;
    case 1:
        return a.dim[0] == 1 ? 0 : col;
    default:
        return (a.dim[0] == 1 ? 0 : row) * a.dim[1] + (a.dim[1] == 1 ? 0 : col);
    }
}

/* An operand viewed as a matrix: rows x cols.  A vector is one row or,
 * as the right operand of '@', one column. */
static void as_matrix(Shape s, bool column, long *rows, long *cols)
{
    if (s.rank == 2) {
        *rows = s.dim[0];
        *cols = s.dim[1];
    } else if (column) {
        *rows = s.rank ? s.dim[0] : 1;
        *cols = 1;
    } else {
        *rows = 1;
        *cols = s.rank ? s.dim[0] : 1;
    }
}

static void eval_matmul(Tensor *out, const Tensor *a, const Tensor *b)
{
    long m, k, k2, n;
    as_matrix(a->shape, false, &m, &k);
    as_matrix(b->shape, true, &k2, &n);
    for (long i = 0; i < m; i++)
        for (long j = 0; j < n; j++) {
            Dual s = { 0, 0, 0, 0, 0 };
            double abs_v = 0, abs_d = 0;
            for (long l = 0; l < k; l++)
                dual_add_to(&s, dual_mul(a->x[i * k + l], b->x[l * n + j]), &abs_v, &abs_d);
            sum_error(&s, k, abs_v, abs_d);
            out->x[i * n + j] = s;
        }
}

/* sum or mean over everything, or over one axis of a matrix */
static void eval_reduce(Tensor *out, const Tensor *a, int axis, bool mean)
{
    long rows, cols;
    as_matrix(a->shape, false, &rows, &cols);
    double *abs_v = calloc((size_t)out->len, sizeof *abs_v);
    double *abs_d = calloc((size_t)out->len, sizeof *abs_d);
    if (!abs_v || !abs_d)
        die("gradcheck: out of memory");
    for (long i = 0; i < out->len; i++)
        out->x[i] = (Dual){ 0, 0, 0, 0, 0 };
    for (long r = 0; r < rows; r++)
        for (long c = 0; c < cols; c++) {
            long to = axis == 0 ? c : axis == 1 ? r : 0;
            dual_add_to(&out->x[to], a->x[r * cols + c], &abs_v[to], &abs_d[to]);
        }
    long count = a->len / out->len;
    for (long i = 0; i < out->len; i++)
        sum_error(&out->x[i], count, abs_v[i], abs_d[i]);
    free(abs_v);
    free(abs_d);
    if (mean) {
        double n = (double)count;
        for (long i = 0; i < out->len; i++) {
            Dual x = out->x[i];
            out->x[i] = (Dual){ x.v / n, x.d / n, x.m / n, x.ev / n + K_OP * fabs(x.v / n),
                                x.ed / n + K_OP * fabs(x.d / n) };
        }
    }
}

/* The softmax weight of an entry X of a row with maximum MAX and sum Z
 * (see eval_rows). */
static double row_weight(double x, double max, double z)
{
    if (isinf(max))
        return x == max ? 1 / z : 0;
    return exp(x - max) / z;
}

/* softmax, log_softmax or logsumexp of each row, with the row maximum
 * subtracted: with s = softmax(x), d log(sum exp x) = <s, dx>.  A row
 * holding NaN is NaN throughout.  A row whose maximum is infinite is the
 * limit as its k entries equal to the maximum move together: s is 1/k on
 * them and 0 elsewhere, so z counts them instead of summing exponentials
 * (a row of -inf is a row of n equal entries). */
static void eval_rows(Tensor *out, const Tensor *a, Op op)
{
    long rows, n;
    as_matrix(a->shape, false, &rows, &n);
    for (long r = 0; r < rows; r++) {
        const Dual *x = a->x + r * n;
        double max = -INFINITY, z = 0, dot = 0, dot_m = 0;
        bool nan = false;
        for (long j = 0; j < n; j++) {
            nan = nan || isnan(x[j].v);
            max = fmax(max, x[j].v);
        }
        if (nan)
            max = NAN;
        /* the errors: every weight s is off by a relative error of at
         * most rel, from the entries' errors (through x - max) and the
         * rounding of the exponentials and their sum */
        double worst = 0;
        for (long j = 0; j < n; j++) {
            z += isinf(max) ? (x[j].v == max) : exp(x[j].v - max);
            worst = fmax(worst, x[j].ev);
        }
        double rel = 2 * worst + K_OP * (double)n + 2 * K_FN, dot_ed = 0;
        for (long j = 0; j < n; j++) {
            double s = row_weight(x[j].v, max, z);
            dot += chain(x[j].d, s);
            dot_m += chain(x[j].m, s);
            dot_ed += chain(x[j].ed, s) + chain(fabs(x[j].d), s * (rel + K_OP * (double)n));
        }
        double log_z = log(z);
        if (op == OP_LOGSUMEXP) {
            double v = max + log_z;
            out->x[r] = (Dual){ v, dot, dot_m, rel + fabs(max) + fabs(log_z) + fabs(v),
                                dot_ed };
            continue;
        }
        for (long j = 0; j < n; j++) {
            double s = row_weight(x[j].v, max, z);
            if (op == OP_SOFTMAX) {
                double d = chain(x[j].d - dot, s);
                out->x[r * n + j] = (Dual){ s, d, chain(x[j].m + dot_m, s), s * rel,
                                            chain(x[j].ed + dot_ed, s) + fabs(d) * rel
                                            + chain(fabs(x[j].d) + fabs(dot), s) };
            } else {
                double v = !isinf(max) ? x[j].v - max - log_z : s > 0 ? -log_z : -INFINITY;
                double d = x[j].d - dot;
                out->x[r * n + j] = (Dual){ v, d, x[j].m + dot_m,
                                            x[j].ev + rel + fabs(max) + fabs(log_z) + fabs(v),
                                            x[j].ed + dot_ed + fabs(x[j].d) + fabs(dot) };
            }
        }
    }
}

static void eval_transpose(Tensor *out, const Tensor *a)
{
    long rows = a->shape.dim[0], cols = a->shape.dim[1];
    for (long r = 0; r < rows; r++)
        for (long c = 0; c < cols; c++)
            out->x[c * rows + r] = a->x[r * cols + c];
}

static void eval_outer(Tensor *out, const Tensor *a, const Tensor *b)
{
    for (long i = 0; i < a->len; i++)
        for (long j = 0; j < b->len; j++)
            out->x[i * b->len + j] = dual_mul(a->x[i], b->x[j]);
}

/* y[i] = sum_j x[i + j - (k-1)/2] h[j], zero outside x */
static void eval_conv1d(Tensor *out, const Tensor *x, const Tensor *h)
{
    long n = x->len, k = h->len, half = (k - 1) / 2;
    for (long i = 0; i < n; i++) {
        Dual s = { 0, 0, 0, 0, 0 };
        double abs_v = 0, abs_d = 0;
        for (long j = 0; j < k; j++) {
            long at = i + j - half;
            if (at >= 0 && at < n)
                dual_add_to(&s, dual_mul(x->x[at], h->x[j]), &abs_v, &abs_d);
        }
        sum_error(&s, k, abs_v, abs_d);
        out->x[i] = s;
    }
}

/* The expression E stands for, through names. */
static const Expr *resolve(const Model *m, const Expr *e)
{
    while (e->kind == EXPR_NAME && m->ast.stmts[e->def].expr)
        e = m->ast.stmts[e->def].expr;
    return e;
}

static bool is_call(const Expr *e, Op op)
{
    return e->kind == EXPR_CALL && e->op == op;
}

/* log(E's argument) for the forms that docs/language.md's stable
 * logarithms list, written there and here through names: log(sigmoid(u))
 * as -softplus(-u), log(1 - sigmoid(u)) as -softplus(u), log(softmax(u))
 * as log_softmax(u), log(sum(exp(u))) of a vector and log(sum(exp(U), 1))
 * as logsumexp(u).  These are what gradc computes, and they stay finite
 * where sigmoid or exp underflows.  False for any other argument. */
static bool eval_stable_log(Model *m, const Expr *e)
{
    Tensor *out = &m->values[e->id];
    const Expr *a = resolve(m, e->args[0]);
    const Expr *sub = NULL;
    if (a->kind == EXPR_BINARY && a->op == OP_SUB) {
        const Expr *one = resolve(m, a->args[0]);
        if (one->kind == EXPR_NUM && one->num == 1)
            sub = resolve(m, a->args[1]);
    }
    if (is_call(a, OP_SIGMOID) || (sub && is_call(sub, OP_SIGMOID))) {
        const Tensor *u = &m->values[(sub ? sub : a)->args[0]->id];
        for (long i = 0; i < out->len; i++) {
            Dual x = sub ? u->x[i] : unary_rule(OP_NEG, u->x[i]);
            out->x[i] = unary_rule(OP_NEG, unary_rule(OP_SOFTPLUS, x));
        }
        return true;
    }
    if (is_call(a, OP_SOFTMAX)) {
        eval_rows(out, &m->values[a->args[0]->id], OP_LOG_SOFTMAX);
        return true;
    }
    if (is_call(a, OP_SUM)) {
        const Expr *x = resolve(m, a->args[0]);
        if (is_call(x, OP_EXP) && ((x->shape.rank == 1 && a->axis < 0) ||
                                   (x->shape.rank == 2 && a->axis == 1))) {
            eval_rows(out, &m->values[x->args[0]->id], OP_LOGSUMEXP);
            return true;
        }
    }
    return false;
}

static void eval_expr(Model *m, const Expr *e)
{
    Tensor *out = &m->values[e->id];
    const Tensor *a = e->nargs > 0 ? &m->values[e->args[0]->id] : NULL;
    const Tensor *b = e->nargs > 1 ? &m->values[e->args[1]->id] : NULL;
    switch (e->kind) {
    case EXPR_NUM:
        /* rounded once to float, unless it is a float */
        out->x[0] = (Dual){ e->num, 0, 0, (float)e->num == e->num ? 0 : fabs(e->num), 0 };
        return;
    case EXPR_NAME:
        return;         /* shares the named value's elements */
    case EXPR_UNARY:
    case EXPR_BINARY:
    case EXPR_CALL:
        break;
    }
    switch (e->op) {
    case OP_MATMUL:
        eval_matmul(out, a, b);
        return;
    case OP_SUM:
    case OP_MEAN:
        eval_reduce(out, a, e->axis, e->op == OP_MEAN);
        return;
    case OP_SOFTMAX:
    case OP_LOG_SOFTMAX:
    case OP_LOGSUMEXP:
        eval_rows(out, a, e->op);
        return;
    case OP_TRANSPOSE:
        eval_transpose(out, a);
        return;
    case OP_OUTER:
        eval_outer(out, a, b);
        return;
    case OP_CONV1D:
        eval_conv1d(out, a, b);
        return;
    case OP_LOG:
        if (eval_stable_log(m, e))
            return;
        break;
    default:
        break;
    }
    if (e->nargs == 1) {
        for (long i = 0; i < out->len; i++)
            out->x[i] = unary_rule(e->op, a->x[i]);
        return;
    }
    for (long i = 0; i < out->len; i++)
        out->x[i] = binary_rule(e->op,
                                a->x[broadcast_index(out->shape, a->shape, i)],
                                b->x[broadcast_index(out->shape, b->shape, i)]);
}

/* Every expression in Ast.exprs order (post-order: operands first). */
static void evaluate(Model *m)
{
    for (size_t i = 0; i < m->ast.nexprs; i++)
        eval_expr(m, m->ast.exprs[i]);
}

/* Read, parse and check PATH; give every expression and argument storage. */
static bool load_model(Model *m, Arena *arena, const char *path)
{
    Compilation comp;
    compilation_init(&comp, arena, path, NULL, 0, stderr);
    if (compile_until(&comp, STAGE_CHECK))
        return false;
    m->ast = comp.ast;
    m->path = path;
    m->name = cnames_model(arena, path);
    size_t nstmts = m->ast.nstmts;
    m->args = arena_alloc(arena, nstmts * sizeof *m->args);
    m->inputs = arena_alloc(arena, nstmts * sizeof *m->inputs);
    m->outputs = arena_alloc(arena, nstmts * sizeof *m->outputs);
    for (size_t i = 0; i < nstmts; i++) {
        const Stmt *s = &m->ast.stmts[i];
        if (s->kind == STMT_INPUT || s->kind == STMT_DATA) {
            Arg *a = &m->args[m->nargs];
            a->stmt = s;
            a->value = arena_alloc(arena, sizeof *a->value);
            tensor_init(a->value, arena, s->shape);
            a->is_input = s->kind == STMT_INPUT;
            a->offset = m->args_len;
            m->args_len += a->value->len;
            if (a->is_input) {
                m->inputs[m->ninputs++] = m->nargs;
                m->grads_len += a->value->len;
            }
            m->nargs++;
        }
    }
    m->values = arena_alloc(arena, m->ast.nexprs * sizeof *m->values);
    for (size_t i = 0; i < m->ast.nexprs; i++) {
        const Expr *e = m->ast.exprs[i];
        Tensor *t = &m->values[i];
        if (e->kind == EXPR_NAME)
            *t = *stmt_value(m, &m->ast.stmts[e->def]);
        else
            tensor_init(t, arena, e->shape);
    }
    for (size_t i = 0; i < nstmts; i++) {
        const Stmt *s = &m->ast.stmts[i];
        if (s->kind == STMT_OUTPUT) {
            ModelOutput *o = &m->outputs[m->noutputs++];
            o->stmt = s;
            o->value = &m->values[s->expr->id];
            o->offset = m->outputs_len;
            m->outputs_len += o->value->len;
        }
    }
    return true;
}

/* ---- options ---- */

typedef struct Range {
    const char *name;
    double lo, hi;
} Range;

typedef struct Options {
    const char *model;
    const char *output;
    const char *header;
    const char *entry;
    long points;
    uint64_t seed;
    double lo, hi;
    Range *ranges;
    size_t nranges, cap_ranges;
    const char **at;        /* the --at texts, parsed once the model is read */
    size_t nat, cap_at;
    double *scales;         /* --scale */
    size_t nscales, cap_scales;
    const char *scale_text; /* the same, for the driver's summary */
    bool fd;
    bool self_check;
    bool single;            /* --type=float */
    const char *command;    /* the options, for reproducing a failure */
} Options;

static void usage_error(const char *fmt, const char *arg)
{
    fputs("gradcheck: error: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry 'gradcheck --help' for more information.\n", stderr);
    exit(2);
}

/* A number, inf, -inf or nan, from TEXT up to END. */
static double parse_number(const char *text, const char *end, const char *what)
{
    char *stop;
    errno = 0;
    double v = strtod(text, &stop);
    if (stop == text || stop != end || errno)
        usage_error("bad number in %s", what);
    return v;
}

static double parse_double(const char *text, const char *end, const char *what)
{
    double v = parse_number(text, end, what);
    if (!isfinite(v))
        usage_error("bad number in %s", what);
    return v;
}

/* "LO:HI" */
static void parse_range(const char *text, double *lo, double *hi)
{
    const char *colon = strchr(text, ':');
    if (!colon)
        usage_error("a range is LO:HI, not '%s'", text);
    *lo = parse_double(text, colon, text);
    *hi = parse_double(colon + 1, colon + 1 + strlen(colon + 1), text);
    if (!(*lo <= *hi))
        usage_error("empty range '%s'", text);
}

static bool is_c_identifier(const char *s)
{
    if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
        return false;
    for (s++; *s; s++)
        if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

static void parse_options(Options *opt, Arena *arena, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "points", required_argument, NULL, 'p' },
        { "seed", required_argument, NULL, 's' },
        { "range", required_argument, NULL, 'r' },
        { "range-all", required_argument, NULL, 'R' },
        { "at", required_argument, NULL, 'a' },
        { "scale", required_argument, NULL, 'c' },
        { "no-fd", no_argument, NULL, 'n' },
        { "header", required_argument, NULL, 'H' },
        { "entry", required_argument, NULL, 'E' },
        { "self-check", no_argument, NULL, 'S' },
        { "type", required_argument, NULL, 'T' },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    opt->points = 4;
    opt->seed = 1;
    opt->lo = -2;
    opt->hi = 2;
    opt->fd = true;
    Buf command;
    buf_init(&command, arena);
    for (int i = 1; i < argc; i++)
        buf_printf(&command, "%s%s", i > 1 ? " " : "", argv[i]);
    opt->command = command.data;

    opterr = 0;
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            errno = 0;
            opt->points = strtol(optarg, &end, 10);
            if (end == optarg || *end || errno || opt->points < 0 || opt->points > 100000)
                usage_error("bad number of points '%s'", optarg);
            break;
        case 's':
            errno = 0;
            opt->seed = strtoull(optarg, &end, 10);
            if (*end || errno || !*optarg)
                usage_error("bad seed '%s'", optarg);
            break;
        case 'r': {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg)
                usage_error("--range takes NAME=LO:HI, not '%s'", optarg);
            Range r = { arena_strndup(arena, optarg, (size_t)(eq - optarg)), 0, 0 };
            parse_range(eq + 1, &r.lo, &r.hi);
            VEC_PUSH(arena, opt->ranges, opt->nranges, opt->cap_ranges, r);
            break;
        }
        case 'R':
            parse_range(optarg, &opt->lo, &opt->hi);
            break;
        case 'a':
            VEC_PUSH(arena, opt->at, opt->nat, opt->cap_at, optarg);
            break;
        case 'c': {
            double f = parse_double(optarg, optarg + strlen(optarg), optarg);
            if (f == 0)
                usage_error("--scale takes a number other than 0, not '%s'", optarg);
            VEC_PUSH(arena, opt->scales, opt->nscales, opt->cap_scales, f);
            opt->scale_text = opt->scale_text
                                  ? arena_printf(arena, "%s, %s", opt->scale_text, optarg)
                                  : optarg;
            break;
        }
        case 'n':
            opt->fd = false;
            break;
        case 'H':
            opt->header = optarg;
            break;
        case 'E':
            if (!is_c_identifier(optarg))
                usage_error("--entry takes a C identifier, not '%s'", optarg);
            opt->entry = optarg;
            break;
        case 'S':
            opt->self_check = true;
            break;
        case 'T':
            if (strcmp(optarg, "double") && strcmp(optarg, "float"))
                usage_error("--type takes double or float, not '%s'", optarg);
            opt->single = strcmp(optarg, "float") == 0;
            break;
        case 'o':
            opt->output = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            exit(0);
        case ':':
            usage_error("option '%s' needs an argument", argv[optind - 1]);
            break;
        default:
            usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        usage_error("%s", optind >= argc ? "no model file" : "more than one model file");
    opt->model = argv[optind];
    if (opt->points == 0 && opt->nat == 0)
        usage_error("%s", "nothing to check: --points 0 and no --at");
    /* differences of a float function at a step of 1e-6 are noise */
    if (opt->single)
        opt->fd = false;
}

static Arg *find_arg(Model *m, const char *name)
{
    for (int a = 0; a < m->nargs; a++)
        if (strcmp(m->args[a].stmt->name, name) == 0)
            return &m->args[a];
    return NULL;
}

/* ---- the points and the reference at them ---- */

typedef struct Plan {
    int npoints;
    int nbase;          /* the drawn and fixed points; the rest are them scaled */
    double *points;     /* npoints x args_len */
    double *seeds;      /* npoints x outputs_len */
    int ncheck;         /* gradient elements checked per point */
    int *check_input;   /* ncheck: which input (index in Model.inputs) */
    long *check_elem;   /* npoints x ncheck: which of its elements */
    double *output_ref; /* npoints x outputs_len */
    double *grad_ref;   /* npoints x ncheck */
    double *grad_mag;   /* npoints x ncheck: the size of its terms (Dual.m) */
    double *output_err; /* npoints x outputs_len: --type=float's tolerance */
    double *grad_err;   /* npoints x ncheck: likewise */
    unsigned char *fd_skip;     /* npoints x ncheck: a kink is near */
    long nskip;
} Plan;

static void *alloc_array(Arena *arena, long n, size_t size)
{
    return arena_alloc(arena, (size_t)(n > 0 ? n : 1) * size);
}

/* The fixed point TEXT ("x=1,v[2]=inf") into P, over random values
 * already there. */
static void apply_at(Model *m, Arena *arena, const char *text, double *p)
{
    const char *s = text;
    while (*s) {
        const char *eq = strchr(s, '='), *comma = strchr(s, ',');
        if (!comma)
            comma = s + strlen(s);
        if (!eq || eq > comma)
            usage_error("--at takes NAME=V[,NAME=V...], not '%s'", text);
        const char *bracket = memchr(s, '[', (size_t)(eq - s));
        const char *name = arena_strndup(arena, s, (size_t)((bracket ? bracket : eq) - s));
        Arg *a = find_arg(m, name);
        if (!a)
            usage_error("--at: the model has no argument '%s'", name);
        long i = 0;
        if (bracket) {
            char *end;
            errno = 0;
            i = strtol(bracket + 1, &end, 10);
            if (end == bracket + 1 || *end != ']' || end + 1 != eq || errno || i < 0 ||
                i >= a->value->len)
                usage_error("--at: no such element in '%s'", text);
        } else if (a->stmt->shape.rank != 0) {
            usage_error("--at: '%s' is not a scalar: set its elements, NAME[I]=V", name);
        }
        p[a->offset + i] = parse_number(eq + 1, comma, text);
        s = *comma ? comma + 1 : comma;
    }
}

/* Draw the points, seeds and checked elements; fixed points first, and
 * the scaled copies of them all last. */
static void make_plan(Plan *plan, Model *m, const Options *opt, Arena *arena)
{
    Rng rng = { opt->seed };
    for (size_t r = 0; r < opt->nranges; r++)
        if (!find_arg(m, opt->ranges[r].name))
            usage_error("--range: the model has no argument '%s'", opt->ranges[r].name);
    for (int a = 0; a < m->nargs; a++) {
        m->args[a].lo = opt->lo;
        m->args[a].hi = opt->hi;
        for (size_t r = 0; r < opt->nranges; r++)
            if (strcmp(opt->ranges[r].name, m->args[a].stmt->name) == 0) {
                m->args[a].lo = opt->ranges[r].lo;
                m->args[a].hi = opt->ranges[r].hi;
            }
    }
    int np = plan->nbase = (int)(opt->nat + (size_t)opt->points);
    plan->npoints = np * (int)(1 + opt->nscales);
    plan->points = alloc_array(arena, plan->npoints * m->args_len, sizeof(double));
    plan->seeds = alloc_array(arena, plan->npoints * m->outputs_len, sizeof(double));
    for (int p = 0; p < np; p++) {
        double *point = plan->points + p * m->args_len;
        for (int a = 0; a < m->nargs; a++)
            for (long i = 0; i < m->args[a].value->len; i++)
                point[m->args[a].offset + i] =
                    rng_uniform(&rng, m->args[a].lo, m->args[a].hi);
        if ((size_t)p < opt->nat)
            apply_at(m, arena, opt->at[p], point);
        /* seeds of either sign, bounded away from 0 */
        for (long i = 0; i < m->outputs_len; i++) {
            double s = rng_uniform(&rng, 0.5, 1.5);
            plan->seeds[p * m->outputs_len + i] = rng_next(&rng) & 1 ? -s : s;
        }
    }

    plan->ncheck = 0;
    for (int g = 0; g < m->ninputs; g++) {
        long len = m->args[m->inputs[g]].value->len;
        plan->ncheck += (int)(len <= FULL_CHECK_MAX ? len : SAMPLE_SIZE);
    }
    plan->check_input = alloc_array(arena, plan->ncheck, sizeof(int));
    plan->check_elem = alloc_array(arena, plan->npoints * plan->ncheck, sizeof(long));
    long *pick = alloc_array(arena, m->args_len, sizeof(long));
    for (int p = 0; p < np; p++) {
        int c = 0;
        for (int g = 0; g < m->ninputs; g++) {
            long len = m->args[m->inputs[g]].value->len;
            for (long i = 0; i < len; i++)
                pick[i] = i;
            long take = len <= FULL_CHECK_MAX ? len : SAMPLE_SIZE;
            if (take < len) {
                /* a partial Fisher-Yates shuffle, then in increasing order */
                for (long i = 0; i < take; i++) {
                    long j = i + rng_below(&rng, len - i), t = pick[i];
                    pick[i] = pick[j];
                    pick[j] = t;
                }
                for (long i = 1; i < take; i++)
                    for (long j = i; j > 0 && pick[j - 1] > pick[j]; j--) {
                        long t = pick[j];
                        pick[j] = pick[j - 1];
                        pick[j - 1] = t;
                    }
            }
            for (long i = 0; i < take; i++, c++) {
                plan->check_input[c] = g;
                plan->check_elem[p * plan->ncheck + c] = pick[i];
            }
        }
    }

    /* Each scale: every point again, its arguments multiplied, with the
     * same seeds and checked elements.  For float code, every argument and
     * seed is rounded to float first, so that the reference is exact for
     * the values the code gets. */
    for (int p = np; p < plan->npoints; p++) {
        int base = p % np;
        double scale = opt->scales[p / np - 1];
        const double *from = plan->points + base * m->args_len;
        for (long i = 0; i < m->args_len; i++)
            plan->points[p * m->args_len + i] = scale * from[i];
        memcpy(plan->seeds + p * m->outputs_len, plan->seeds + base * m->outputs_len,
               (size_t)m->outputs_len * sizeof *plan->seeds);
        memcpy(plan->check_elem + p * plan->ncheck, plan->check_elem + base * plan->ncheck,
               (size_t)plan->ncheck * sizeof *plan->check_elem);
    }
    if (opt->single) {
        for (long i = 0; i < (long)plan->npoints * m->args_len; i++)
            plan->points[i] = (float)plan->points[i];
        for (long i = 0; i < (long)plan->npoints * m->outputs_len; i++)
            plan->seeds[i] = (float)plan->seeds[i];
    }
}

/* --type=float: only the --scale factors that keep every point within
 * float's range (1e300 would make them all infinite). */
static void keep_float_scales(Options *opt, Arena *arena)
{
    double largest = fmax(fabs(opt->lo), fabs(opt->hi));
    for (size_t r = 0; r < opt->nranges; r++)
        largest = fmax(largest, fmax(fabs(opt->ranges[r].lo), fabs(opt->ranges[r].hi)));
    size_t kept = 0;
    opt->scale_text = NULL;
    for (size_t i = 0; i < opt->nscales; i++) {
        double f = opt->scales[i];
        if (fabs(f) * largest > FLT_MAX)
            continue;
        opt->scales[kept++] = f;
        const char *text = arena_printf(arena, "%g", f);
        opt->scale_text = opt->scale_text
                              ? arena_printf(arena, "%s, %s", opt->scale_text, text) : text;
    }
    opt->nscales = kept;
}

/* Load point P into the arguments, every tangent 0. */
static void load_point(Model *m, const Plan *plan, int p)
{
    const double *point = plan->points + p * m->args_len;
    for (int a = 0; a < m->nargs; a++) {
        Tensor *t = m->args[a].value;
        for (long i = 0; i < t->len; i++)
            t->x[i] = (Dual){ point[m->args[a].offset + i], 0, 0, 0, 0 };
    }
}

/* sum over outputs of <seed, output>: its value and its tangent */
static Dual weighted_outputs(const Model *m, const double *seeds)
{
    Dual sum = { 0, 0, 0, 0, 0 };
    double abs_d = 0;
    for (int o = 0; o < m->noutputs; o++) {
        const Tensor *t = m->outputs[o].value;
        for (long i = 0; i < t->len; i++) {
            double s = seeds[m->outputs[o].offset + i];
            sum.v += s * t->x[i].v;
            sum.d += chain(t->x[i].d, s);
            sum.m += chain(t->x[i].m, fabs(s));
            sum.ed += chain(t->x[i].ed, fabs(s));
            abs_d += fabs(chain(t->x[i].d, s));
        }
    }
    /* the seeds' products and sum, as the backward pass forms them */
    sum_error(&sum, m->outputs_len + 1, 0, abs_d);
    return sum;
}

static Dual *checked_element(Model *m, const Plan *plan, int p, int c)
{
    Tensor *t = m->args[m->inputs[plan->check_input[c]]].value;
    return &t->x[plan->check_elem[p * plan->ncheck + c]];
}

/* The tolerance of float code for an error bound of E units of float's
 * unit roundoff (Dual.ev, Dual.ed): a margin of 8 over the bound, for the
 * bound is first order, and its operations' K_FN ulps are typical of the C
 * library's float functions, not proven. */
static double float_tolerance(double e)
{
    return 4 * e * FLT_EPSILON;
}

/* Outputs, then one forward-mode pass per checked element. */
static void compute_reference(Plan *plan, Model *m, Arena *arena)
{
    int np = plan->npoints;
    plan->output_err = alloc_array(arena, np * m->outputs_len, sizeof(double));
    plan->grad_err = alloc_array(arena, np * plan->ncheck, sizeof(double));
    plan->output_ref = alloc_array(arena, np * m->outputs_len, sizeof(double));
    plan->grad_ref = alloc_array(arena, np * plan->ncheck, sizeof(double));
    plan->grad_mag = alloc_array(arena, np * plan->ncheck, sizeof(double));
    plan->fd_skip = alloc_array(arena, np * plan->ncheck, 1);
    plan->nskip = 0;
    for (int p = 0; p < np; p++) {
        load_point(m, plan, p);
        evaluate(m);
        for (int o = 0; o < m->noutputs; o++) {
            const Tensor *t = m->outputs[o].value;
            for (long i = 0; i < t->len; i++) {
                long at = p * m->outputs_len + m->outputs[o].offset + i;
                plan->output_ref[at] = t->x[i].v;
                plan->output_err[at] = float_tolerance(t->x[i].ev);
            }
        }
        const double *seeds = plan->seeds + p * m->outputs_len;
        for (int c = 0; c < plan->ncheck; c++) {
            Dual *x = checked_element(m, plan, p, c);
            x->d = x->m = 1;
            kink_margin = INFINITY;
            evaluate(m);
            /* before the reset: an output may be the input itself */
            Dual w = weighted_outputs(m, seeds);
            plan->grad_ref[p * plan->ncheck + c] = w.d;
            plan->grad_mag[p * plan->ncheck + c] = w.m;
            plan->grad_err[p * plan->ncheck + c] = float_tolerance(w.ed);
            x->d = x->m = 0;
            bool skip = kink_margin < KINK_STEPS * FD_STEP * fmax(1.0, fabs(x->v));
            plan->fd_skip[p * plan->ncheck + c] = skip;
            plan->nskip += skip;
        }
    }
}

/* --self-check: the reference against central differences of the
 * interpreter's own values, with the driver's tolerances. */
static int self_check(const Plan *plan, Model *m, const Options *opt)
{
    int failures = 0;
    double worst = 0;
    /* no differences at the scaled points */
    for (int p = 0; p < plan->nbase; p++) {
        load_point(m, plan, p);
        const double *seeds = plan->seeds + p * m->outputs_len;
        for (int c = 0; c < plan->ncheck; c++) {
            if (plan->fd_skip[p * plan->ncheck + c])
                continue;
            Dual *x = checked_element(m, plan, p, c);
            double x0 = x->v, h = FD_STEP * fmax(1.0, fabs(x0));
            double hi = x0 + h, lo = x0 - h, size = 0;
            x->v = hi;
            evaluate(m);
            double f_hi = weighted_outputs(m, seeds).v;
            x->v = lo;
            evaluate(m);
            double f_lo = weighted_outputs(m, seeds).v;
            x->v = x0;
            for (int o = 0; o < m->noutputs; o++)
                for (long i = 0; i < m->outputs[o].value->len; i++)
                    size += fabs(seeds[m->outputs[o].offset + i] *
                                 plan->output_ref[p * m->outputs_len +
                                                  m->outputs[o].offset + i]);
            double fd = (f_hi - f_lo) / (hi - lo);
            /* Differences err by about h^2 f''' and by the rounding of
             * terms that may be far larger than the outputs, whatever the
             * size of this element: so the absolute floor is taken from
             * the whole gradient at the point. */
            double want = plan->grad_ref[p * plan->ncheck + c], scale = DBL_MIN;
            for (int k = 0; k < plan->ncheck; k++)
                scale = fmax(scale, fabs(plan->grad_ref[p * plan->ncheck + k]));
            double diff = fabs(fd - want), mag = fmax(fabs(fd), fabs(want));
            double slack = 64 * DBL_EPSILON * size / (hi - lo);
            if (!(diff <= 1e-5 * mag + 1e-7 * scale + slack)) {
                const Arg *a = &m->args[m->inputs[plan->check_input[c]]];
                if (++failures <= 10)
                    fprintf(stderr,
                            "FAIL %s self-check (gradcheck %s) point %d: "
                            "'%s'[%ld]: forward mode %.17g, differences %.17g\n",
                            m->path, opt->command, p, a->stmt->name,
                            plan->check_elem[p * plan->ncheck + c], want, fd);
            }
            if (diff > 0 && slack < 1e-5 * mag)
                worst = fmax(worst, diff / fmax(mag, 1e-2 * scale));
        }
    }
    if (failures) {
        fprintf(stderr, "%s: self-check: %d failure(s)\n", m->path, failures);
        return 1;
    }
    printf("%s: self-check: %d points, %d gradient elements, worst relative "
           "difference %.2g", m->path, plan->nbase,
           plan->nbase * plan->ncheck, worst);
    if (plan->nskip)
        printf(" (%ld near a kink skipped)", plan->nskip);
    printf("\n");
    return 0;
}

/* ---- the driver ---- */

/* A C string literal for TEXT. */
static void put_string(Buf *out, const char *text)
{
    buf_putc(out, '"');
    for (const unsigned char *s = (const unsigned char *)text; *s; s++) {
        if (*s == '"' || *s == '\\')
            buf_printf(out, "\\%c", *s);
        else if (*s < 0x20 || *s >= 0x7f)
            buf_printf(out, "\\%03o", *s);
        else
            buf_putc(out, (char)*s);
    }
    buf_putc(out, '"');
}

/* An exact C literal for V. */
static void put_double(Buf *out, double v)
{
    if (isnan(v))
        buf_puts(out, "NAN");
    else if (isinf(v))
        buf_puts(out, v > 0 ? "INFINITY" : "-INFINITY");
    else
        buf_printf(out, "%a", v);
}

/* Element I of a table's values. */
typedef void PutElement(Buf *out, const void *values, long i);

static void put_double_element(Buf *out, const void *values, long i)
{
    put_double(out, ((const double *)values)[i]);
}

static void put_long_element(Buf *out, const void *values, long i)
{
    buf_printf(out, "%ld", ((const long *)values)[i]);
}

/* A member of the descriptor, after COMMENT if there is one: .FIELD =
 * (const TYPE[]){ ... }, ROWS rows of COLS values, each row on lines of
 * its own, PER_LINE values to a line; { 0 } when there are none, since C
 * has no empty arrays. */
static void put_table(Buf *out, const char *comment, const char *field, const char *type,
                      PutElement *put, const void *values, int rows, long cols,
                      int per_line)
{
    if (comment)
        buf_printf(out, "    /* %s */\n", comment);
    buf_printf(out, "    .%s = (const %s[]){", field, type);
    if (rows * cols == 0) {
        buf_puts(out, " 0 },\n");
        return;
    }
    for (long r = 0; r < rows; r++)
        for (long c = 0; c < cols; c++) {
            buf_puts(out, c % per_line == 0 ? "\n        " : " ");
            put(out, values, r * cols + c);
            buf_puts(out, ",");
        }
    buf_puts(out, "\n    },\n");
}

/* ", ARRAY[OFFSET]" for a scalar, passed by value; ", ARRAY + OFFSET"
 * for a tensor, passed by pointer. */
static void put_operand(Buf *out, const char *array, const Stmt *s, long offset)
{
    buf_printf(out, s->shape.rank == 0 ? ", %s[%ld]" : ", %s + %ld", array, offset);
}

/* The start of a call of NAME_FN(tape, arguments...), the arguments in
 * the array ARG. */
static void put_call(Buf *out, const Model *m, const char *fn, const char *arg)
{
    buf_printf(out, "%s_%s(tape", m->name, fn);
    for (int a = 0; a < m->nargs; a++)
        put_operand(out, arg, m->args[a].stmt, m->args[a].offset);
}

static void put_grads(Buf *out, const Model *m, const char *grad)
{
    long off = 0;
    for (int g = 0; g < m->ninputs; g++) {
        buf_printf(out, ", %s + %ld", grad, off);
        off += m->args[m->inputs[g]].value->len;
    }
}

/* GRADC_NAME_forward, _backward and (HAS_GRAD) _grad: the generated
 * functions on the flat arrays of tests/checkdrv.h. */
static void put_wrappers(Buf *out, const Model *m, bool has_grad)
{
    const char *unused_arg = m->nargs == 0 ? "    (void)arg;\n" : "";
    const char *unused_grad = m->ninputs == 0 ? "    (void)grad;\n" : "";
    buf_printf(out, "static void GRADC_%s_forward(void *tape, const double *arg, double *out)\n"
                    "{\n%s    ", m->name, unused_arg);
    put_call(out, m, "forward", "arg");
    for (int o = 0; o < m->noutputs; o++)
        buf_printf(out, ", out + %ld", m->outputs[o].offset);
    int indent = (int)strlen("static void GRADC__backward(") + (int)strlen(m->name);
    buf_printf(out, ");\n}\n\n"
                    "static void GRADC_%s_backward(const void *tape, const double *arg,\n"
                    "%*sconst double *seed, double *grad)\n"
                    "{\n%s%s    ", m->name, indent, "", unused_arg, unused_grad);
    put_call(out, m, "backward", "arg");
    for (int o = 0; o < m->noutputs; o++)
        put_operand(out, "seed", m->outputs[o].stmt, m->outputs[o].offset);
    put_grads(out, m, "grad");
    buf_puts(out, ");\n}\n");
    if (has_grad) {
        buf_printf(out, "\nstatic double GRADC_%s_grad(void *tape, const double *arg, double *grad)\n"
                        "{\n%s%s    return ", m->name, unused_arg, unused_grad);
        put_call(out, m, "grad", "arg");
        put_grads(out, m, "grad");
        buf_puts(out, ");\n}\n");
    }
}

/* The same for float code: each wrapper copies the flat double arrays into
 * float ones (a NaN stays a NaN, so unwritten gradients still show), calls
 * the generated function and copies the results back. */
static void put_float_wrappers(Buf *out, const Model *m, bool has_grad)
{
    const char *n = m->name;
    buf_printf(out, "static float GRADC_%s_farg[%ld], GRADC_%s_fout[%ld], GRADC_%s_fgrad[%ld];\n\n"
                    "static void GRADC_%s_to_float(float *to, const double *from, long n)\n"
                    "{\n    for (long i = 0; i < n; i++)\n        to[i] = (float)from[i];\n}\n\n"
                    "static void GRADC_%s_to_double(double *to, const float *from, long n)\n"
                    "{\n    for (long i = 0; i < n; i++)\n        to[i] = from[i];\n}\n\n",
               n, m->args_len + 1, n, m->outputs_len + 1, n, m->grads_len + 1, n, n);
    const char *farg = arena_printf(out->arena, "GRADC_%s_farg", n);
    const char *fgrad = arena_printf(out->arena, "GRADC_%s_fgrad", n);
    buf_printf(out, "static void GRADC_%s_forward(void *tape, const double *arg, double *out)\n"
                    "{\n    GRADC_%s_to_float(%s, arg, %ld);\n    ", n, n, farg, m->args_len);
    put_call(out, m, "forward", farg);
    for (int o = 0; o < m->noutputs; o++)
        buf_printf(out, ", GRADC_%s_fout + %ld", n, m->outputs[o].offset);
    buf_printf(out, ");\n    GRADC_%s_to_double(out, GRADC_%s_fout, %ld);\n}\n\n", n, n,
               m->outputs_len);
    buf_printf(out, "static void GRADC_%s_backward(const void *tape, const double *arg,\n"
                    "    const double *seed, double *grad)\n"
                    "{\n    GRADC_%s_to_float(%s, arg, %ld);\n"
                    "    GRADC_%s_to_float(GRADC_%s_fout, seed, %ld);\n"
                    "    GRADC_%s_to_float(%s, grad, %ld);\n    ",
               n, n, farg, m->args_len, n, n, m->outputs_len, n, fgrad, m->grads_len);
    put_call(out, m, "backward", farg);
    const char *fseed = arena_printf(out->arena, "GRADC_%s_fout", n);
    for (int o = 0; o < m->noutputs; o++)
        put_operand(out, fseed, m->outputs[o].stmt, m->outputs[o].offset);
    put_grads(out, m, fgrad);
    buf_printf(out, ");\n    GRADC_%s_to_double(grad, %s, %ld);\n}\n", n, fgrad,
               m->grads_len);
    if (has_grad) {
        buf_printf(out, "\nstatic double GRADC_%s_grad(void *tape, const double *arg, double *grad)\n"
                        "{\n    GRADC_%s_to_float(%s, arg, %ld);\n"
                        "    GRADC_%s_to_float(%s, grad, %ld);\n    float value = ",
                   n, n, farg, m->args_len, n, fgrad, m->grads_len);
        put_call(out, m, "grad", farg);
        put_grads(out, m, fgrad);
        buf_printf(out, ");\n    GRADC_%s_to_double(grad, %s, %ld);\n    return value;\n}\n",
                   n, fgrad, m->grads_len);
    }
}

/* .args and .outputs: the model's signature */
static void put_signature(Buf *out, const Model *m)
{
    buf_printf(out, "    .nargs = %d, .args_len = %ld,\n    .args = ", m->nargs, m->args_len);
    if (m->nargs == 0)
        buf_puts(out, "NULL,\n");
    else
        buf_puts(out, "(const struct GRADC_arg[]){\n");
    long grad = 0;
    for (int a = 0; a < m->nargs; a++) {
        const Arg *arg = &m->args[a];
        buf_puts(out, "        { ");
        put_string(out, arg->stmt->name);
        buf_printf(out, ", %ld, %ld, %ld },\n", arg->value->len, arg->offset,
                   arg->is_input ? grad : -1);
        if (arg->is_input)
            grad += arg->value->len;
    }
    if (m->nargs > 0)
        buf_puts(out, "    },\n");
    buf_printf(out, "    .noutputs = %d, .outputs_len = %ld,\n"
                    "    .outputs = (const struct GRADC_output[]){\n",
               m->noutputs, m->outputs_len);
    for (int o = 0; o < m->noutputs; o++) {
        buf_puts(out, "        { ");
        put_string(out, m->outputs[o].stmt->name);
        buf_printf(out, ", %ld, %ld },\n", m->outputs[o].value->len, m->outputs[o].offset);
    }
    buf_printf(out, "    },\n    .grads_len = %ld,\n", m->grads_len);
}

static void write_driver(Buf *out, const Model *m, const Plan *plan,
                         const Options *opt, Arena *arena)
{
    const char *header = opt->header ? opt->header
                                     : arena_printf(arena, "%s.h", m->name);
    int np = plan->npoints;
    bool has_grad = m->noutputs == 1 && m->outputs[0].stmt->shape.rank == 0;

    buf_printf(out, "/* Written by gradcheck from %s.  Do not edit.\n"
               " * The model, its points and gradcheck's forward-mode reference at\n"
               " * them, for the checks of tests/checkdrv.c on the code gradc\n"
               " * generated (see tests/gradcheck.c).  Build with tests/checkdrv.c,\n"
               " * -I tests. */\n",
               m->path);
    /* More of the standard library than the driver needs, before the
     * model's header: a value named after one of its macros (EOF, I,
     * INT8_MAX, SIGINT, ...) must have been renamed by gradc. */
    buf_puts(out, "#include <complex.h>\n#include <errno.h>\n#include <float.h>\n"
                  "#include <inttypes.h>\n#include <limits.h>\n#include <locale.h>\n"
                  "#include <math.h>\n#include <signal.h>\n#include <stdarg.h>\n"
                  "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
                  "\n#include \"checkdrv.h\"\n#include ");
    put_string(out, header);
    buf_puts(out, "\n\n");
    if (opt->single)
        put_float_wrappers(out, m, has_grad);
    else
        put_wrappers(out, m, has_grad);

    buf_printf(out, "\nstatic const struct GRADC_model GRADC_%s_check = {\n    .path = ",
               m->name);
    put_string(out, m->path);
    buf_printf(out, ",\n    .seed = \"%llu\",\n    .options = ", (unsigned long long)opt->seed);
    put_string(out, opt->command);
    buf_puts(out, ",\n    .scales = ");
    put_string(out, opt->scale_text ? opt->scale_text : "");
    buf_printf(out, ",\n    .tape_size = sizeof(%s_tape),\n"
                    "    .forward = GRADC_%s_forward,\n    .backward = GRADC_%s_backward,\n",
               m->name, m->name, m->name);
    if (has_grad)
        buf_printf(out, "    .grad = GRADC_%s_grad,\n", m->name);
    else
        buf_puts(out, "    .grad = NULL,   /* not exactly one scalar output */\n");
    put_signature(out, m);

    buf_printf(out, "    .npoints = %d, .nfixed = %d, .nbase = %d,\n", np, (int)opt->nat,
               plan->nbase);
    put_table(out, "the arguments at each point", "points", "double", put_double_element,
              plan->points, np, m->args_len, 4);
    put_table(out, "the seed of each output element at each point", "seeds", "double",
              put_double_element, plan->seeds, np, m->outputs_len, 4);
    put_table(out, "reference outputs", "output_ref", "double", put_double_element,
              plan->output_ref, np, m->outputs_len, 4);

    long *tmp = alloc_array(arena, np * plan->ncheck, sizeof(long));
    buf_printf(out, "    .ncheck = %d,\n", plan->ncheck);
    for (int c = 0; c < plan->ncheck; c++)
        tmp[c] = m->inputs[plan->check_input[c]];
    put_table(out, "the gradient elements checked: which argument, and which of its\n"
                   "     * elements at each point",
              "check_arg", "int", put_long_element, tmp, 1, plan->ncheck, 16);
    put_table(out, NULL, "check_elem", "int", put_long_element, plan->check_elem, np,
              plan->ncheck, 16);
    put_table(out, "reference gradient elements, as check_elem lists them", "grad_ref",
              "double", put_double_element, plan->grad_ref, np, plan->ncheck, 4);
    put_table(out, "the size of the terms that sum to each", "grad_mag", "double",
              put_double_element, plan->grad_mag, np, plan->ncheck, 4);
    if (opt->fd) {
        buf_printf(out, "    .fd_step = %a,\n", FD_STEP);
        for (long i = 0; i < np * plan->ncheck; i++)
            tmp[i] = plan->fd_skip[i];
        put_table(out, arena_printf(arena, "the checked elements whose finite differences "
                                           "would come within %g\n     * steps of a kink: "
                                           "not compared", KINK_STEPS),
                  "fd_skip", "unsigned char", put_long_element, tmp, np, plan->ncheck, 16);
    } else {
        buf_puts(out, "    .fd_step = 0,   /* --no-fd */\n    .fd_skip = NULL,\n");
    }
    if (opt->single) {
        buf_puts(out, "    .type = \"float\", .rel = 2 * FLT_EPSILON, .abs_coef = 0,\n"
                      "    .mag_coef = 16 * FLT_EPSILON,\n"
                      "    .tiny = FLT_MIN,\n");
        put_table(out, "the error bounds of float code (4 FLT_EPSILON times the reference's\n"
                       "     * running error bound): outputs", "output_err", "double",
                  put_double_element, plan->output_err, np, m->outputs_len, 4);
        put_table(out, "and gradient elements", "grad_err", "double", put_double_element,
                  plan->grad_err, np, plan->ncheck, 4);
    } else {
        buf_puts(out, "    .type = \"double\", .rel = 1e-9, .abs_coef = 1e-12, .mag_coef = 1e-12,\n"
                      "    .tiny = DBL_MIN, .output_err = NULL, .grad_err = NULL,\n");
    }
    buf_puts(out, "};\n\n");

    if (opt->entry)
        buf_printf(out, "int %s(void);\n\nint %s(void)\n", opt->entry, opt->entry);
    else
        buf_puts(out, "int main(void)\n");
    buf_printf(out, "{\n    return GRADC_check(&GRADC_%s_check);\n}\n", m->name);
}

int main(int argc, char **argv)
{
    Arena *arena = arena_new();
    Options opt = { 0 };
    parse_options(&opt, arena, argc, argv);
    Model model = { 0 };
    if (!load_model(&model, arena, opt.model)) {
        arena_free(arena);
        return 1;
    }
    if (opt.single)
        keep_float_scales(&opt, arena);
    Plan plan;
    make_plan(&plan, &model, &opt, arena);
    compute_reference(&plan, &model, arena);
    int status = 0;
    if (opt.self_check) {
        if (opt.fd)
            status = self_check(&plan, &model, &opt);
        else
            printf("%s: self-check skipped (--no-fd)\n", model.path);
    } else {
        Buf driver;
        buf_init(&driver, arena);
        write_driver(&driver, &model, &plan, &opt, arena);
        if (opt.output) {
            const Buf *contents[] = { &driver };
            status = output_write_files(&opt.output, contents, 1) ? 0 : 1;
        } else {
            fwrite(driver.data, 1, driver.len, stdout);
        }
    }
    arena_free(arena);
    return status;
}
