/* randgen: random .grad models for tests/random.sh.
 *
 * Usage: randgen SEED                  one model on stdout
 *        randgen --dir DIR SEED COUNT   DIR/rSEED.grad, ..., for COUNT seeds
 *
 * The same seed gives the same bytes everywhere: the generator has its own
 * pseudo-random numbers (splitmix64) and links nothing of the compiler, so a
 * change in gradc cannot change the models it is tested on.
 *
 * A model is a handful of statements over scalars, vectors and matrices of
 * dimensions 1 to 5 (size-1 dimensions on purpose), built from every
 * operator and built-in of the language, every broadcast direction, all four
 * forms of '@', and fork patterns: hot values read by many statements, the
 * same subexpression written twice, x * x.  Arguments are declared where
 * they are first needed, as inputs or data, and many names are C keywords,
 * C library names or names the generated code uses (tape, seed_f, grad_x,
 * d_x, t1, i, int, _x, ...).  An elementwise built-in is a row of fns1 or
 * fns2: its name, how its values' interval follows from its arguments',
 * and what its argument must be kept to.
 *
 * Values stay where the maths is defined and well conditioned.  Every
 * expression carries an interval that contains all its values for
 * arguments in [-2, 2] (gradcheck's default range); expressions whose
 * interval grows past LIMIT are scaled or squashed; sqrt, a divisor and
 * the base of a power with a variable exponent only ever see an argument
 * whose interval lies above 0.1 (softplus(.) + 0.5, 1 + x^2, exp(.), ...),
 * log the same or a sigmoid (log(sigmoid(x)), which gradc rewrites), and
 * exp only an argument below 2.5.
 *
 * One model in ten is a large one (decided from the seed apart from the
 * model's own random numbers, so the others keep their bytes): a quarter
 * of its expressions are the operators whose stability docs/language.md
 * promises at arguments scaled by 1e3 or 1e16, or rows offset by 1e9,
 * 1e16 or 1e300 (gen_large).  Such a model asks gradcheck for --no-fd
 * in a '# gradcheck:' comment line, which tests/random.sh passes on.
 *
 * Constructions whose gradient is zero in exact arithmetic, and so pure
 * rounding noise in floating point, are mostly avoided: the sum of a
 * softmax row, softmax of a value plus a per-row constant, logsumexp of a
 * log_softmax row.  Flags on each expression track these invariances
 * through the linear operations that keep them; such an argument is passed
 * through a nonlinearity first.  (Others remain, such as a max() that
 * picks a per-row constant everywhere; gradcheck allows for the noise, see
 * Dual in tests/gradcheck.c.)
 *
 * Every value the model defines is read by a later statement or is an
 * output, and every argument is read, so gradc has nothing to warn about. */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    MAX_VALUES = 400,
    MAX_STMTS = 200,
    MAX_TEXT = 1500,    /* an expression longer than this is not repeated */
};

static const double LIMIT = 4.0;   /* the largest |value| an expression keeps */

/* ---- pseudo-random numbers ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static int below(int n)
{
    return (int)(rnd() % (uint64_t)n);
}

/* uniform in [0, 1) */
static double uniform(void)
{
    return (double)(rnd() >> 11) * 0x1p-53;
}

static bool chance(double p)
{
    return uniform() < p;
}

/* ---- text, in a pool emptied after each model ---- */

static char *pool;
static size_t pool_used, pool_size;

static void die(const char *msg)
{
    fprintf(stderr, "randgen: %s\n", msg);
    exit(2);
}

static char *alloc_text(size_t n)
{
    if (pool_used + n > pool_size) {
        /* a model is small; running out means a runaway expression */
        die("text pool exhausted");
    }
    char *p = pool + pool_used;
    pool_used += n;
    return p;
}

static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    if (n < 0)
        die("vsnprintf failed");
    char *s = alloc_text((size_t)n + 1);
    va_start(ap, f);
    vsnprintf(s, (size_t)n + 1, f, ap);
    va_end(ap);
    return s;
}

/* ---- shapes ---- */

typedef struct Shape {
    int rank;
    int d[2];
} Shape;

static Shape scalar(void)
{
    return (Shape){ 0, { 1, 1 } };
}

static Shape vec(int n)
{
    return (Shape){ 1, { n, 1 } };
}

static Shape mat(int m, int n)
{
    return (Shape){ 2, { m, n } };
}

static bool same_shape(Shape a, Shape b)
{
    if (a.rank != b.rank)
        return false;
    for (int i = 0; i < a.rank; i++)
        if (a.d[i] != b.d[i])
            return false;
    return true;
}

static int last_dim(Shape s)
{
    return s.rank == 0 ? 1 : s.d[s.rank - 1];
}

static int size_of(Shape s)
{
    return s.rank == 0 ? 1 : s.rank == 1 ? s.d[0] : s.d[0] * s.d[1];
}

/* NumPy broadcasting of two shapes that are known to broadcast. */
static Shape broadcast(Shape a, Shape b)
{
    Shape r = a.rank >= b.rank ? a : b;
    for (int i = 1; i <= r.rank; i++) {
        int da = i <= a.rank ? a.d[a.rank - i] : 1;
        int db = i <= b.rank ? b.d[b.rank - i] : 1;
        r.d[r.rank - i] = da > db ? da : db;
    }
    return r;
}

/* An operand of shape A is constant along the last axis of result R:
 * every element of a row of R reads the same element of A. */
static bool row_constant(Shape a, Shape r)
{
    return a.rank == 0 || last_dim(a) == 1 || last_dim(r) == 1;
}

/* ... constant along the first axis of a matrix result R. */
static bool col_constant(Shape a, Shape r)
{
    return r.rank == 2 && (a.rank < 2 || a.d[0] == 1 || r.d[0] == 1);
}

/* ---- expressions ---- */

/* Precedence of the text, as the grammar sees it. */
enum { P_ADD = 1, P_MUL, P_UNARY, P_POW, P_ATOM };

/* Invariances that make a gradient pure rounding noise (see the top). */
enum {
    F_SIMPLEX = 1,      /* rows sum to a constant (softmax) */
    F_COLSIMPLEX = 2,   /* columns sum to a constant (its transpose) */
    F_LOGNORM = 4,      /* logsumexp of each row is a constant (log_softmax) */
    F_ROWSHIFT = 8,     /* plus something constant along each row */
    F_COLSHIFT = 16,    /* plus something constant along each column */
};

typedef struct Ex {
    char *s;
    int prec;
    Shape sh;
    double lo, hi;      /* every value lies in [lo, hi] */
    int flags;
    bool cheap;         /* a name or a number: fine to write twice */
    bool number;
} Ex;

static double bound(Ex e)
{
    return fmax(fabs(e.lo), fabs(e.hi));
}

/* E's text, in parentheses unless its precedence is at least PREC. */
static const char *at(Ex e, int prec)
{
    return e.prec >= prec ? e.s : fmt("(%s)", e.s);
}

/* ---- numbers, in all the spellings the lexer takes ---- */

typedef struct Number {
    double v;
    const char *spell[6];
} Number;

static const Number numbers[] = {
    { 0, { "0", "0.", "0.0", "0e0", ".0", "00" } },
    { 0.125, { "0.125", ".125", "125e-3", "1.25E-1", "0.0125e1", "12.5e-2" } },
    { 0.25, { "0.25", ".25", "25e-2", "2.5e-1", "2.5E-1", "0.025e+1" } },
    { 0.5, { "0.5", ".5", "5e-1", "5E-1", "0.50", "50e-2" } },
    { 0.75, { "0.75", ".75", "75e-2", "7.5e-1", "7.50E-1", "0.075e1" } },
    { 1, { "1", "1.", "1.0", "1e0", "10e-1", "0.1E+1" } },
    { 1.5, { "1.5", "1.50", "15e-1", "1.5e0", "0.15e1", "150E-2" } },
    { 2, { "2", "2.", "2.0", "2e0", "20e-1", "0.2E+1" } },
    { 2.5, { "2.5", "2.50", "25e-1", "2.5E0", "0.25e1", "250e-2" } },
    { 3, { "3", "3.", "3.0", "3e0", "30e-1", "0.3e1" } },
    { 4, { "4", "4.", "4.0", "4e0", "40e-1", "0.4E1" } },
    { 8, { "8", "8.", "8.0", "8e0", "80e-1", "0.8e+1" } },
    { 16, { "16", "16.", "16.0", "1.6e1", "160e-1", "1.6E+1" } },
    { 32, { "32", "32.", "32.0", "3.2e1", "320e-1", "3.2E+1" } },
    { 64, { "64", "64.", "64.0", "6.4e1", "640e-1", "6.4E+1" } },
    { 128, { "128", "128.", "128.0", "1.28e2", "1280e-1", "1.28E+2" } },
    { 1e3, { "1e3", "1000", "1E3", "1000.0", "1.0e3", "0.001e6" } },
    { 1e9, { "1e9", "1000000000", "1E9", "1e+9", "10e8", "0.1e10" } },
    { 1e16, { "1e16", "10000000000000000", "1E16", "1e+16", "10e15", "0.1e17" } },
    { 1e300, { "1e300", "1E300", "1e+300", "1.0e300", "10e299", "0.1e301" } },
};

static Ex number(double v)
{
    for (size_t i = 0; i < sizeof numbers / sizeof *numbers; i++)
        if (numbers[i].v == v) {
            /* the plain spelling most of the time */
            const char *s = numbers[i].spell[chance(0.6) ? 0 : below(6)];
            return (Ex){ fmt("%s", s), P_ATOM, scalar(), v, v, 0, true, true };
        }
    fprintf(stderr, "randgen: no spelling for %g\n", v);
    exit(2);
    return (Ex){ 0 };
}

static Ex pick_number(const double *from, int n)
{
    return number(from[below(n)]);
}

/* ---- values: arguments and statements ---- */

enum Kind { V_INPUT, V_DATA, V_DEF, V_OUTPUT };

typedef struct Value {
    const char *name;
    Shape sh;
    double lo, hi;
    int flags;
    enum Kind kind;
    int uses;
    int stmt;           /* the statement before which an argument is declared */
} Value;

static Value values[MAX_VALUES];
static int nvalues;

typedef struct Stmt {
    int value;          /* index in values */
    const char *text;
} Stmt;

static Stmt stmts[MAX_STMTS];
static int nstmts;

/* The model and its knobs. */
static char model_name[64];     /* rSEED: the C prefix gradc derives */
static int dims[3];             /* the dimensions this model uses */
static int max_args;            /* arguments it may declare */
static int nargs, ninputs;
static bool compact;            /* no spaces around the operators */

/* ---- the elementwise built-ins: a row each ---- */

static double sigmoid(double x)
{
    return 1 / (1 + exp(-x));
}

static double relu(double x)
{
    return fmax(x, 0);
}

static double softplus(double x)
{
    return fmax(x, 0) + log1p(exp(-fabs(x)));
}

static void range_sin(double lo, double hi, double *r_lo, double *r_hi)
{
    bool monotone = lo >= -1.5 && hi <= 1.5;
    *r_lo = monotone ? sin(lo) : -1, *r_hi = monotone ? sin(hi) : 1;
}

static void range_cos(double lo, double hi, double *r_lo, double *r_hi)
{
    (void)lo, (void)hi;
    *r_lo = -1, *r_hi = 1;
}

static void range_abs(double lo, double hi, double *r_lo, double *r_hi)
{
    *r_lo = lo >= 0 ? lo : hi <= 0 ? -hi : 0;
    *r_hi = fmax(fabs(lo), fabs(hi));
}

/* A function of one argument.  The interval of its values for an argument
 * in [lo, hi]: [f(lo), f(hi)] if it is increasing, else from RANGE. */
typedef struct Fn1 {
    const char *name;
    double (*f)(double);
    void (*range)(double lo, double hi, double *r_lo, double *r_hi);
    bool positive;      /* its argument must be at least 0.1 (positive()) */
    double bound;       /* |argument| at most this, if not 0 */
} Fn1;

/* gen_unary draws from these in this order: a new row changes the models
 * of every seed. */
static const Fn1 fns1[] = {
    { "exp", exp, NULL, false, 2.5 },
    { "log", log, NULL, true, 0 },
    { "sqrt", sqrt, NULL, true, 0 },
    { "sin", NULL, range_sin, false, 0 },
    { "cos", NULL, range_cos, false, 0 },
    { "tanh", tanh, NULL, false, 0 },
    { "sigmoid", sigmoid, NULL, false, 0 },
    { "relu", relu, NULL, false, 0 },
    { "abs", NULL, range_abs, false, 0 },
    { "softplus", softplus, NULL, false, 0 },
};

enum { NFNS1 = sizeof fns1 / sizeof *fns1 };

/* A function of two arguments, broadcasting, increasing in both: the
 * interval of its values is [f(a.lo, b.lo), f(a.hi, b.hi)]. */
typedef struct Fn2 {
    const char *name;
    double (*f)(double, double);
} Fn2;

static const Fn2 fns2[] = {
    { "max", fmax },
    { "min", fmin },
};

enum { NFNS2 = sizeof fns2 / sizeof *fns2 };

static const Fn1 *find_fn1(const char *name)
{
    for (int i = 0; i < NFNS1; i++)
        if (strcmp(fns1[i].name, name) == 0)
            return &fns1[i];
    return NULL;
}

static const Fn2 *find_fn2(const char *name)
{
    for (int i = 0; i < NFNS2; i++)
        if (strcmp(fns2[i].name, name) == 0)
            return &fns2[i];
    return NULL;
}

/* ---- names ---- */

/* the built-ins that are not in fns1 or fns2, and the keywords */
static const char *const builtins[] = {
    "sum", "mean", "softmax", "log_softmax", "logsumexp", "transpose", "outer",
    "conv1d", "input", "data", "output",
};

/* C and C++ keywords, names of the C library and <math.h>, macros of the
 * standard headers (gradcheck's drivers include several before the model's
 * header) and of their reserved families, and the spellings that mangle
 * to one another (M_PI, _M_PI, M_PI_; gradrt, _gradrt). */
static const char *const reserved[] = {
    "int", "double", "float", "char", "void", "long", "short", "signed",
    "unsigned", "const", "volatile", "restrict", "static", "extern", "auto",
    "register", "inline", "struct", "union", "enum", "typedef", "sizeof",
    "return", "if", "else", "for", "while", "do", "switch", "case", "default",
    "break", "continue", "goto", "_Bool", "_Complex", "_Imaginary", "bool",
    "true", "false", "class", "new", "delete", "this", "template", "typename",
    "namespace", "operator", "private", "public", "virtual", "nullptr", "and",
    "or", "not", "xor", "bitand", "compl", "throw", "try", "catch",
    "main", "pow", "fabs", "log1p", "expm1", "exp2", "y0", "y1", "yn", "j0",
    "j1", "jn", "erf", "gamma", "lgamma", "fmax", "fmin", "isnan", "isinf",
    "signbit", "M_PI", "M_E", "HUGE_VAL", "INFINITY", "NAN", "NULL", "EOF",
    "size_t", "errno", "assert", "malloc", "calloc", "free", "exit",
    "memcpy", "memset", "printf", "stdin", "stdout", "FILE", "va_list",
    "linux", "unix", "EOF", "BUFSIZ", "SEEK_SET", "DBL_MAX", "FLT_MAX",
    "FILENAME_MAX", "L_tmpnam", "TMP_MAX", "DBL_EPSILON", "INT_MAX", "I",
    "NDEBUG", "EDOM", "E2BIG", "ELBO", "SIGINT", "LC_ALL", "INT8_MAX",
    "PRId64", "RAND_MAX", "M_PI_", "_M_PI", "M_PI__", "M_PI_2", "_gradrt",
    "gradrt_", "GRADRT", "_GRADRT_",
};

/* Names gradc's generated code uses, or could. */
static const char *const generated[] = {
    "tape", "tape_", "tape_2", "seed", "grad", "d", "acc", "i", "j", "k",
    "n", "m", "t", "t1", "t2", "t3", "t4", "t10", "out", "arg", "len",
    "value", "gradrt", "gradrt_x", "GRADRT_Y", "gradrt_sigmoid", "_", "__",
    "___1", "x_", "_x", "__x", "a__b", "a_b",
};

static bool name_taken(const char *name)
{
    for (int i = 0; i < nvalues; i++)
        if (strcmp(values[i].name, name) == 0)
            return true;
    for (size_t i = 0; i < sizeof builtins / sizeof *builtins; i++)
        if (strcmp(builtins[i], name) == 0)
            return true;
    return find_fn1(name) || find_fn2(name);
}

/* A name for a new value; ARG for an argument. */
static const char *new_name(bool arg)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        const char *name;
        int r = below(100);
        if (r < 12) {
            name = reserved[below((int)(sizeof reserved / sizeof *reserved))];
        } else if (r < 24) {
            name = generated[below((int)(sizeof generated / sizeof *generated))];
        } else if (r < 40 && nvalues > 0) {
            /* derived from a name already there: d_x, grad_x, seed_f, _x,
             * x_2, x_, NAME_forward, ... */
            const Value *v = &values[below(nvalues)];
            static const char *const forms[] = { "d_%s", "grad_%s", "seed_%s", "_%s",
                                                 "%s_", "%s_2", "%s__", "tape_%s" };
            static const char *const fn[] = { "forward", "backward", "grad", "tape" };
            int form = below(9);
            if (form < 8)
                name = fmt(forms[form], v->name);
            else
                name = fmt("%s_%s", model_name, fn[below(4)]);
        } else if (arg) {
            static const char *const stems[] = { "x", "y", "z", "w", "W", "b",
                                                 "A", "B", "X", "Y", "h", "u",
                                                 "v", "s", "c", "p", "theta" };
            name = fmt("%s%s", stems[below((int)(sizeof stems / sizeof *stems))],
                       chance(0.5) ? "" : fmt("%d", below(10)));
        } else {
            static const char *const stems[] = { "a", "e", "f", "g", "q", "r",
                                                 "hid", "z", "loss", "act",
                                                 "pre", "tmp", "val", "o" };
            name = fmt("%s%d", stems[below((int)(sizeof stems / sizeof *stems))],
                       below(100));
        }
        if (strlen(name) < 60 && !name_taken(name))
            return name;
    }
    return fmt("v%d", nvalues);
}

static int add_value(const char *name, Shape sh, double lo, double hi, int flags,
                     enum Kind kind)
{
    if (nvalues == MAX_VALUES)
        die("too many values");
    values[nvalues] = (Value){ name, sh, lo, hi, flags, kind, 0, nstmts };
    return nvalues++;
}

static Ex use_value(int i)
{
    Value *v = &values[i];
    v->uses++;
    return (Ex){ (char *)v->name, P_ATOM, v->sh, v->lo, v->hi, v->flags, true, false };
}

/* A new argument of shape SH: an input, or now and then data. */
static Ex new_arg(Shape sh)
{
    bool input = ninputs == 0 || chance(0.65);
    int i = add_value(new_name(true), sh, -2, 2, 0, input ? V_INPUT : V_DATA);
    nargs++;
    ninputs += input;
    return use_value(i);
}

/* ---- building expressions: the text, the shape, the interval, the flags ---- */

static Ex apply1(const Fn1 *f, Ex a)
{
    Ex r = { fmt("%s(%s)", f->name, a.s), P_ATOM, a.sh, 0, 0, 0, false, false };
    if (f->f)
        r.lo = f->f(a.lo), r.hi = f->f(a.hi);
    else
        f->range(a.lo, a.hi, &r.lo, &r.hi);
    if (strcmp(f->name, "exp") == 0 && a.flags & F_LOGNORM)
        r.flags = F_SIMPLEX;    /* exp(log_softmax(x)) is softmax(x) */
    return r;
}

static Ex call1(const char *name, Ex a)
{
    const Fn1 *f = find_fn1(name);
    if (!f)
        die("call1: unknown function");
    return apply1(f, a);
}

static Ex negate(Ex a)
{
    /* '-' applies to a unary or a power: -x^2 is -(x^2), and - -x is fine */
    return (Ex){ fmt("-%s", at(a, P_UNARY)), P_UNARY, a.sh, -a.hi, -a.lo,
                 a.flags & (F_SIMPLEX | F_COLSIMPLEX | F_ROWSHIFT | F_COLSHIFT),
                 false, false };
}

static void corners(double alo, double ahi, double blo, double bhi, double *lo,
                    double *hi)
{
    double c[4] = { alo * blo, alo * bhi, ahi * blo, ahi * bhi };
    *lo = *hi = c[0];
    for (int i = 1; i < 4; i++) {
        *lo = fmin(*lo, c[i]);
        *hi = fmax(*hi, c[i]);
    }
}

static const char *spaced(const char *op)
{
    return compact ? op : fmt(" %s ", op);
}

/* a OP b for the elementwise operators + - * / and '@'. */
static Ex binary(char op, Ex a, Ex b)
{
    int prec = op == '+' || op == '-' ? P_ADD : P_MUL;
    /* left associative: the right operand binds tighter */
    Ex r = { fmt("%s%s%s", at(a, prec), spaced(fmt("%c", op)), at(b, prec + 1)),
             prec, scalar(), 0, 0, 0, false, false };
    if (op == '@') {
        int k = a.sh.rank == 2 ? a.sh.d[1] : a.sh.d[0];
        if (a.sh.rank == 2 && b.sh.rank == 2)
            r.sh = mat(a.sh.d[0], b.sh.d[1]);
        else if (a.sh.rank == 2)
            r.sh = vec(a.sh.d[0]);
        else if (b.sh.rank == 2)
            r.sh = vec(b.sh.d[1]);
        /* exactly k products */
        corners(a.lo, a.hi, b.lo, b.hi, &r.lo, &r.hi);
        r.lo *= k;
        r.hi *= k;
        return r;
    }
    r.sh = broadcast(a.sh, b.sh);
    bool a_row = row_constant(a.sh, r.sh), b_row = row_constant(b.sh, r.sh);
    bool a_col = col_constant(a.sh, r.sh), b_col = col_constant(b.sh, r.sh);
    switch (op) {
    case '+':
    case '-':
        if (op == '+')
            r.lo = a.lo + b.lo, r.hi = a.hi + b.hi;
        else
            r.lo = a.lo - b.hi, r.hi = a.hi - b.lo;
        /* a constant-sum part stays one whatever is added */
        r.flags = (a.flags | b.flags) & (F_SIMPLEX | F_COLSIMPLEX);
        if (a_row || b_row || ((a.flags | b.flags) & F_ROWSHIFT))
            r.flags |= F_ROWSHIFT;
        if (a_col || b_col || ((a.flags | b.flags) & F_COLSHIFT))
            r.flags |= F_COLSHIFT;
        if ((a.flags & F_LOGNORM && b_row) || (b.flags & F_LOGNORM && a_row))
            r.flags |= F_LOGNORM;
        break;
    case '*':
    case '/':
        if (op == '*') {
            corners(a.lo, a.hi, b.lo, b.hi, &r.lo, &r.hi);
        } else {
            if (b.lo <= 0)
                die("division by an interval that holds 0");
            corners(a.lo, a.hi, 1 / b.hi, 1 / b.lo, &r.lo, &r.hi);
        }
        /* scaling by something constant along a row keeps the row's
         * invariances */
        if (b_row)
            r.flags |= a.flags & (F_SIMPLEX | F_ROWSHIFT);
        if (a_row && op == '*')
            r.flags |= b.flags & (F_SIMPLEX | F_ROWSHIFT);
        if (b_col)
            r.flags |= a.flags & (F_COLSIMPLEX | F_COLSHIFT);
        if (a_col && op == '*')
            r.flags |= b.flags & (F_COLSIMPLEX | F_COLSHIFT);
        break;
    default:
        die("binary: unknown operator");
    }
    return r;
}

static Ex apply2(const Fn2 *f, Ex a, Ex b)
{
    return (Ex){ fmt("%s(%s,%s%s)", f->name, a.s, compact ? "" : " ", b.s), P_ATOM,
                 broadcast(a.sh, b.sh), f->f(a.lo, b.lo), f->f(a.hi, b.hi), 0, false,
                 false };
}

/* max(a, b) or min(a, b), whatever else fns2 holds: a kink where a and b
 * meet, or an operator docs/language.md promises stable */
static Ex max_or_min(Ex a, Ex b)
{
    return apply2(find_fn2(chance(0.5) ? "max" : "min"), a, b);
}

static double ipow(double x, int k)
{
    double r = 1;
    for (int i = 0; i < (k < 0 ? -k : k); i++)
        r *= x;
    return k < 0 ? 1 / r : r;
}

/* a ^ b.  A positive base for any exponent; any base for a constant
 * integer exponent (0, 2 or 3). */
static Ex power(Ex a, Ex b)
{
    Ex r = { fmt("%s^%s", at(a, P_ATOM), at(b, P_UNARY)), P_POW,
             broadcast(a.sh, b.sh), 0, 0, 0, false, false };
    if (b.number && b.lo == floor(b.lo) && fabs(b.lo) <= 3) {
        int k = (int)b.lo;
        if (k < 0 && a.lo <= 0)
            die("negative power of an interval that holds 0");
        if (k % 2 == 0 && a.lo < 0 && a.hi > 0) {
            r.lo = k == 0 ? 1 : 0;
            r.hi = fmax(ipow(a.lo, k), ipow(a.hi, k));
        } else {
            r.lo = fmin(ipow(a.lo, k), ipow(a.hi, k));
            r.hi = fmax(ipow(a.lo, k), ipow(a.hi, k));
        }
        return r;
    }
    if (a.lo <= 0)
        die("a power of an interval that holds 0");
    /* positive base: monotone in each argument, so the corners bound it */
    double c[4] = { pow(a.lo, b.lo), pow(a.lo, b.hi), pow(a.hi, b.lo),
                    pow(a.hi, b.hi) };
    r.lo = r.hi = c[0];
    for (int i = 1; i < 4; i++) {
        r.lo = fmin(r.lo, c[i]);
        r.hi = fmax(r.hi, c[i]);
    }
    return r;
}

/* e * e or e^2: a fork either way, whose interval knows it is a square. */
static Ex square(Ex e)
{
    Ex r = e.cheap && chance(0.5) ? binary('*', e, e) : power(e, number(2));
    r.lo = e.lo < 0 && e.hi > 0 ? 0 : fmin(e.lo * e.lo, e.hi * e.hi);
    r.hi = fmax(e.lo * e.lo, e.hi * e.hi);
    r.flags = 0;
    return r;
}

/* sum or mean, of everything (AXIS < 0) or along an axis of a matrix */
static Ex reduce(const char *f, Ex a, int axis)
{
    bool mean = strcmp(f, "mean") == 0;
    Ex r = { NULL, P_ATOM, scalar(), 0, 0, 0, false, false };
    int n;
    if (axis < 0) {
        r.s = fmt("%s(%s)", f, a.s);
        n = size_of(a.sh);
    } else {
        r.s = fmt("%s(%s,%s%d)", f, a.s, compact ? "" : " ", axis);
        r.sh = vec(a.sh.d[1 - axis]);
        n = a.sh.d[axis];
    }
    r.lo = mean ? a.lo : n * a.lo;
    r.hi = mean ? a.hi : n * a.hi;
    return r;
}

/* softmax, log_softmax, logsumexp along the last axis */
static Ex rows(const char *f, Ex a)
{
    Ex r = { fmt("%s(%s)", f, a.s), P_ATOM, a.sh, 0, 1, 0, false, false };
    double log_n = log(last_dim(a.sh));
    if (strcmp(f, "softmax") == 0) {
        r.flags = F_SIMPLEX;
    } else if (strcmp(f, "log_softmax") == 0) {
        r.lo = a.lo - a.hi - log_n;
        r.hi = 0;
        r.flags = F_LOGNORM;
    } else {
        r.sh = a.sh.rank == 2 ? vec(a.sh.d[0]) : scalar();
        r.lo = a.lo + log_n;
        r.hi = a.hi + log_n;
    }
    return r;
}

static Ex transpose(Ex a)
{
    int f = a.flags;
    return (Ex){ fmt("transpose(%s)", a.s), P_ATOM, mat(a.sh.d[1], a.sh.d[0]),
                 a.lo, a.hi,
                 (f & F_SIMPLEX ? F_COLSIMPLEX : 0) | (f & F_COLSIMPLEX ? F_SIMPLEX : 0) |
                 (f & F_ROWSHIFT ? F_COLSHIFT : 0) | (f & F_COLSHIFT ? F_ROWSHIFT : 0),
                 false, false };
}

static Ex outer(Ex a, Ex b)
{
    Ex r = { fmt("outer(%s,%s%s)", a.s, compact ? "" : " ", b.s), P_ATOM,
             mat(a.sh.d[0], b.sh.d[0]), 0, 0, 0, false, false };
    corners(a.lo, a.hi, b.lo, b.hi, &r.lo, &r.hi);
    return r;
}

static Ex conv1d(Ex x, Ex h)
{
    Ex r = { fmt("conv1d(%s,%s%s)", x.s, compact ? "" : " ", h.s), P_ATOM, x.sh,
             0, 0, 0, false, false };
    double lo, hi;
    int k = h.sh.d[0];
    corners(x.lo, x.hi, h.lo, h.hi, &lo, &hi);
    /* between 1 and k products (zero padding) */
    r.lo = fmin(lo, k * lo);
    r.hi = fmax(hi, k * hi);
    return r;
}

/* ---- keeping values moderate ---- */

static const double scales[] = { 2, 4, 8, 16, 32, 64, 128 };

/* E with its interval inside [-LIM, LIM]. */
static Ex tame_to(Ex e, double lim)
{
    double b = bound(e);
    if (b <= lim)
        return e;
    int choice = below(6);
    if (choice == 0)
        return call1("tanh", e);
    if (choice == 1 && lim >= 1)
        return call1("sin", e);
    if (choice == 2 && e.cheap && lim >= 0.5) {
        /* e / (1 + e^2), in [-1/2, 1/2]: a fork */
        Ex r = binary('/', e, binary('+', number(1), square(e)));
        r.lo = fmax(r.lo, -0.5);
        r.hi = fmin(r.hi, 0.5);
        return r;
    }
    for (size_t i = 0; i < sizeof scales / sizeof *scales; i++)
        if (b / scales[i] <= lim) {
            if (scales[i] <= 8 && chance(0.2))
                return binary('*', e, number(1 / scales[i]));
            return binary('/', e, number(scales[i]));
        }
    return call1("tanh", e);
}

static Ex tame(Ex e)
{
    return tame_to(e, LIMIT);
}

/* Break the invariances in FLAGS with a nonlinearity. */
static Ex break_flags(Ex e, int flags)
{
    if (!(e.flags & flags))
        return e;
    switch (below(4)) {
    case 0:
        return call1("sin", e);
    case 1:
        return call1("tanh", e);
    case 2:
        return call1("sigmoid", e);
    default:
        return power(e, number(2));
    }
}

/* ---- the generator, directed by the shape wanted ---- */

static Ex gen(Shape sh, int depth);

static Shape random_shape(void)
{
    int r = below(20);
    if (r < 5)
        return scalar();
    if (r < 11)
        return vec(dims[below(3)]);
    return mat(dims[below(3)], dims[below(3)]);
}

static int random_dim(void)
{
    return chance(0.75) ? dims[below(3)] : 1 + below(5);
}

/* A name of shape SH: a value already there (hot ones more often), a new
 * argument, or for a scalar a number. */
static Ex leaf(Shape sh)
{
    int cand[MAX_VALUES], n = 0, hot = -1, recent = -1;
    for (int i = 0; i < nvalues; i++)
        if (same_shape(values[i].sh, sh)) {
            cand[n++] = i;
            if (hot < 0 || values[i].uses > values[hot].uses)
                hot = i;
            recent = i;
        }
    if (sh.rank == 0 && chance(0.15)) {
        static const double nums[] = { 0.5, 1.5, 2, 0.25, 3 };
        return pick_number(nums, 5);
    }
    if (n > 0 && (nargs >= max_args || chance(0.7))) {
        int r = below(10);
        return use_value(r < 4 ? hot : r < 6 ? recent : cand[below(n)]);
    }
    return new_arg(sh);
}

/* Shapes of the two operands of an elementwise operator whose result is
 * SH: each operand may miss leading axes or have size 1 where SH has more,
 * and together they give SH exactly. */
static void operand_shapes(Shape sh, Shape *a, Shape *b)
{
    for (;;) {
        Shape opt[8];
        int n = 0;
        opt[n++] = sh;
        opt[n++] = sh;
        opt[n++] = scalar();
        if (sh.rank >= 1)
            opt[n++] = vec(1);
        if (sh.rank == 2) {
            opt[n++] = vec(sh.d[1]);
            opt[n++] = mat(sh.d[0], 1);
            opt[n++] = mat(1, sh.d[1]);
            opt[n++] = mat(1, 1);
        }
        *a = opt[below(n)];
        *b = opt[below(n)];
        Shape r = broadcast(*a, *b);
        if (same_shape(r, sh))
            return;
    }
}

/* Something of shape SH whose values lie in [0.1, ...]: for log, sqrt, a
 * divisor or the base of a power. */
static Ex positive(Shape sh, int depth)
{
    Ex e = gen(sh, depth);
    if (e.lo >= 0.25 && e.hi <= 2 * LIMIT && chance(0.5))
        return e;
    static const double offsets[] = { 0.5, 1, 0.25, 1.5 };
    switch (below(7)) {
    case 0:
        return binary('+', call1("softplus", tame(e)), pick_number(offsets, 4));
    case 1:
        return binary('+', pick_number(offsets, 4), call1("sigmoid", e));
    case 2: {
        return binary('+', number(1), square(tame_to(e, 2)));
    }
    case 3:
        return call1("exp", tame_to(e, 1.5));
    case 4:
        return binary('+', pick_number(offsets, 4), call1("abs", tame(e)));
    case 5:
        return binary('+', call1("relu", tame(e)), pick_number(offsets, 4));
    default:
        return binary('+', number(0.5), call1("exp", tame_to(e, 1.5)));
    }
}

/* Elementwise functions of one argument: a row of fns1, or '-'. */
static Ex gen_unary(Shape sh, int depth)
{
    int i = below(NFNS1 + 1);
    if (i == NFNS1)
        return negate(gen(sh, depth - 1));
    const Fn1 *f = &fns1[i];
    if (strcmp(f->name, "log") == 0 && chance(0.15))  /* gradc rewrites this one */
        return call1("log", call1("sigmoid", gen(sh, depth - 1)));
    Ex a = f->positive ? positive(sh, depth - 1) : gen(sh, depth - 1);
    return apply1(f, f->bound > 0 ? tame_to(a, f->bound) : a);
}

/* Elementwise functions of two arguments, broadcasting. */
static Ex gen_binary(Shape sh, int depth)
{
    Shape sa, sb;
    operand_shapes(sh, &sa, &sb);
    switch (below(9)) {
    case 0:
    case 1:
        return binary('+', gen(sa, depth - 1), gen(sb, depth - 1));
    case 2:
        return binary('-', gen(sa, depth - 1), gen(sb, depth - 1));
    case 3:
        return binary('*', gen(sa, depth - 1), gen(sb, depth - 1));
    case 4:
        if (chance(0.2)) {
            static const double d[] = { 2, 4, 0.5, 3 };
            return binary('/', gen(sh, depth - 1), pick_number(d, 4));
        }
        return binary('/', gen(sa, depth - 1), positive(sb, depth - 1));
    case 5:
    case 6:
        return apply2(&fns2[(int)(uniform() * NFNS2)], gen(sa, depth - 1),
                      gen(sb, depth - 1));
    default: {
        /* powers */
        int kind = below(6);
        if (kind == 0) {        /* integer exponent, any base */
            static const double k[] = { 2, 3, 2, 0 };
            Ex base = tame_to(gen(sh, depth - 1), 2);
            return power(base, pick_number(k, chance(0.05) ? 4 : 3));
        }
        if (kind == 1) {        /* a negative integer exponent, positive base */
            Ex base = positive(sh, depth - 1);
            Ex k = number(chance(0.5) ? 1 : 2);
            return power(base, (Ex){ fmt("-%s", k.s), P_UNARY, scalar(), -k.lo, -k.lo,
                                     0, true, true });
        }
        if (kind == 2) {        /* a real constant exponent */
            static const double c[] = { 0.5, 1.5, 0.25, 2.5 };
            Ex base = positive(sh, depth - 1);
            Ex e = pick_number(c, 4);
            if (chance(0.4))
                e = (Ex){ fmt("-%s", e.s), P_UNARY, scalar(), -e.lo, -e.lo, 0,
                          true, true };
            return power(base, e);
        }
        if (kind == 3) {        /* a constant base */
            static const double c[] = { 2, 0.5, 1.5, 3 };
            return power(pick_number(c, 4), tame_to(gen(sh, depth - 1), 2));
        }
        if (kind == 4 && sh.rank == 0) {  /* a^b^c, right associative */
            static const double c[] = { 2, 0.5, 1.5 };
            Ex inner = power(pick_number(c, 3), tame_to(gen(sh, depth - 1), 1.5));
            return power(positive(sh, depth - 1), tame_to(inner, 2));
        }
        /* a variable exponent, broadcasting with the base */
        return power(positive(sa, depth - 1), tame_to(gen(sb, depth - 1), 2));
    }
    }
}

/* x * x, f(e) op g(e): the same value or subexpression twice. */
static Ex gen_fork(Shape sh, int depth)
{
    Ex e = tame_to(gen(sh, depth - 1), 2);
    if (strlen(e.s) > MAX_TEXT)
        return e;
    switch (below(5)) {
    case 0:
        return square(e);
    case 1:
        return binary('+', call1("sin", e), square(e));
    case 2:
        return binary('-', call1("tanh", e), binary('/', e, number(2)));
    case 3:
        return binary('*', call1("sigmoid", e), call1("cos", e));
    default:
        return max_or_min(e, negate(e));
    }
}

/* Reductions, rows, '@', transpose, outer and conv1d that give SH. */
static Ex gen_structural(Shape sh, int depth)
{
    for (;;) {
        switch (below(8)) {
        case 0:     /* sum, mean of everything */
            if (sh.rank == 0) {
                Shape t = random_shape();
                Ex a = break_flags(gen(t, depth - 1),
                                   F_SIMPLEX | F_COLSIMPLEX);
                return reduce(chance(0.5) ? "sum" : "mean", a, -1);
            }
            break;
        case 1:     /* sum, mean along an axis */
            if (sh.rank == 1) {
                int axis = below(2), other = random_dim();
                Shape t = axis == 0 ? mat(other, sh.d[0]) : mat(sh.d[0], other);
                Ex a = break_flags(gen(t, depth - 1),
                                   axis == 0 ? F_COLSIMPLEX : F_SIMPLEX);
                return reduce(chance(0.5) ? "sum" : "mean", a, axis);
            }
            break;
        case 2:     /* logsumexp */
            if (sh.rank <= 1) {
                Shape t = sh.rank == 0 ? vec(random_dim()) : mat(sh.d[0], random_dim());
                Ex a = break_flags(gen(t, depth - 1), F_LOGNORM);
                return rows("logsumexp", a);
            }
            break;
        case 3:     /* softmax, log_softmax */
            if (sh.rank >= 1) {
                Ex a = break_flags(gen(sh, depth - 1), F_ROWSHIFT);
                return rows(chance(0.5) ? "softmax" : "log_softmax", a);
            }
            break;
        case 4: {   /* '@' */
            int k = random_dim();
            Ex a, b;
            if (sh.rank == 0) {
                a = gen(vec(k), depth - 1);
                b = gen(vec(k), depth - 1);
            } else if (sh.rank == 1 && chance(0.5)) {
                a = gen(mat(sh.d[0], k), depth - 1);
                b = gen(vec(k), depth - 1);
            } else if (sh.rank == 1) {
                a = gen(vec(k), depth - 1);
                b = gen(mat(k, sh.d[0]), depth - 1);
            } else {
                a = gen(mat(sh.d[0], k), depth - 1);
                b = gen(mat(k, sh.d[1]), depth - 1);
            }
            return binary('@', a, b);
        }
        case 5:
            if (sh.rank == 2)
                return transpose(gen(mat(sh.d[1], sh.d[0]), depth - 1));
            break;
        case 6:
            if (sh.rank == 2)
                return outer(gen(vec(sh.d[0]), depth - 1), gen(vec(sh.d[1]), depth - 1));
            break;
        default:
            if (sh.rank == 1) {
                /* odd kernels, sometimes longer than the signal */
                static const int ks[] = { 1, 3, 3, 5 };
                return conv1d(gen(sh, depth - 1), gen(vec(ks[below(4)]), depth - 1));
            }
            break;
        }
    }
}

/* ---- large magnitudes ---- */

/* E with the interval [LO, HI] instead of the one its builders worked out
 * (log of something whose interval reaches 0, say). */
static Ex with_interval(Ex e, double lo, double hi)
{
    e.lo = lo;
    e.hi = hi;
    return e;
}

/* log_softmax(U), or log(softmax(U)), which gradc rewrites to it */
static Ex log_softmax_of(Ex u)
{
    return chance(0.5) ? rows("log_softmax", u) : call1("log", rows("softmax", u));
}

/* logsumexp(U), or log(sum(exp(U))) (the row sums of a matrix), which gradc
 * rewrites to it */
static Ex logsumexp_of(Ex u)
{
    if (chance(0.5))
        return rows("logsumexp", u);
    return call1("log", reduce("sum", call1("exp", u), u.sh.rank == 2 ? 1 : -1));
}

/* An operator whose stability docs/language.md promises, at arguments far
 * beyond gradcheck's [-2, 2], in a large model (one in ten).  Either E,
 * within [-4, 4], times C = 1e3 or 1e16, inside a bounded function or
 * divided by C afterwards; or, for the row operators, E plus D = 1e9, 1e16
 * or 1e300, whose entries then nearly tie at that magnitude, where
 * log_softmax and logsumexp once lost their digits.  1e300 is an offset
 * only: as a factor it makes derivatives near 1e300 (sigmoid(1e300 * e) at
 * e = 0), whose products overflow in the forward-mode reference and not in
 * the reverse pass or the other way round, and it makes the reverse pass
 * divide adjoints by 1e300, which underflows.  The offsets are why large
 * models ask gradcheck for --no-fd: a step of 1e-6 is below the spacing of
 * the doubles near 1e16. */
static Ex gen_large(Shape sh, int depth)
{
    static const double factors[] = { 1e3, 1e16 };
    static const double offsets[] = { 1e9, 1e16, 1e300 };
    Ex c = pick_number(factors, 2), d = pick_number(offsets, 3);
    double tail = 0.01;     /* log(n) / C for n <= 5 and C >= 1e3, rounded up */
    bool offset = chance(0.5);
    /* The entries of E + D round to the spacing of D, 2 at 1e16: each moves
     * by at most 1 (SLACK), and the rows' log-normalisers by as much again. */
    double slack = 1;
    for (;;) {
        switch (below(7)) {
        case 0:
            return call1(chance(0.5) ? "sigmoid" : "tanh", binary('*', c, gen(sh, depth - 1)));
        case 1: {
            static const char *const fns[] = { "softplus", "relu", "abs" };
            Ex u = binary('*', c, gen(sh, depth - 1));
            return binary('/', call1(fns[below(3)], u), c);
        }
        case 2: {
            Shape sa, sb;
            operand_shapes(sh, &sa, &sb);
            Ex a = binary('*', c, gen(sa, depth - 1)), b = binary('*', c, gen(sb, depth - 1));
            return binary('/', max_or_min(a, b), c);
        }
        case 3: {   /* log(sigmoid(u)) = -softplus(-u), log(1 - sigmoid(u)) = -softplus(u) */
            Ex e = gen(sh, depth - 1);
            Ex s = call1("sigmoid", binary('*', c, e));
            Ex r = chance(0.5)
                       ? with_interval(call1("log", s), -(fmax(-e.lo, 0) + tail) * c.lo, 0)
                       : with_interval(call1("log", binary('-', number(1), s)),
                                       -(fmax(e.hi, 0) + tail) * c.lo, 0);
            return binary('/', r, c);
        }
        case 4:
            if (sh.rank >= 1) {
                Ex e = break_flags(gen(sh, depth - 1), F_ROWSHIFT);
                return rows("softmax", offset ? binary('+', e, d) : binary('*', c, e));
            }
            break;
        case 5:
            if (sh.rank >= 1) {
                Ex e = break_flags(gen(sh, depth - 1), F_ROWSHIFT);
                if (offset)
                    return with_interval(log_softmax_of(binary('+', e, d)),
                                         e.lo - e.hi - 2 * slack - log(last_dim(sh)), 0);
                Ex r = log_softmax_of(binary('*', c, e));
                return binary('/', with_interval(r, (e.lo - e.hi - tail) * c.lo, 0), c);
            }
            break;
        default:
            if (sh.rank <= 1) {
                Shape t = sh.rank == 0 ? vec(random_dim()) : mat(sh.d[0], random_dim());
                Ex e = break_flags(gen(t, depth - 1), F_LOGNORM);
                if (offset)
                    return with_interval(binary('-', logsumexp_of(binary('+', e, d)), d),
                                         e.lo - 2 * slack,
                                         e.hi + log(last_dim(t)) + 2 * slack);
                Ex r = logsumexp_of(binary('*', c, e));
                return binary('/', with_interval(r, e.lo * c.lo, (e.hi + tail) * c.lo), c);
            }
            break;
        }
    }
}

/* Subexpressions generated before, to write again: the same expression in
 * two statements, or twice in one, is one node after hash-consing. */
static Ex memo[64];
static int nmemo;

static bool large_model;   /* see gen_large */

static Ex gen(Shape sh, int depth)
{
    Ex e;
    if (depth <= 0 || chance(0.15))
        return leaf(sh);
    if (chance(0.08))
        for (int i = 0; i < nmemo; i++)
            if (same_shape(memo[i].sh, sh))
                return memo[i];
    int r = below(20);
    if (large_model && chance(0.25))
        e = gen_large(sh, depth);
    else if (r < 5)
        e = gen_unary(sh, depth);
    else if (r < 11)
        e = gen_binary(sh, depth);
    else if (r < 13)
        e = gen_fork(sh, depth);
    else
        e = gen_structural(sh, depth);
    if (strlen(e.s) > 4 * MAX_TEXT)
        die("runaway expression");
    if (!same_shape(e.sh, sh))
        die("an expression of the wrong shape");
    e = tame(e);
    if (strlen(e.s) < 200 && nmemo < 64)
        memo[nmemo++] = e;
    return e;
}

/* ---- a model ---- */

static void add_stmt(int value, const char *text)
{
    if (nstmts == MAX_STMTS)
        die("too many statements");
    stmts[nstmts++] = (Stmt){ value, text };
}

static const char *dims_text(Shape sh)
{
    switch (sh.rank) {
    case 0:
        return "";
    case 1:
        return fmt("[%d]", sh.d[0]);
    default:
        switch (below(4)) {
        case 0:
            return fmt("[%d,%d]", sh.d[0], sh.d[1]);
        case 1:
            return fmt("[ %d , %d ]", sh.d[0], sh.d[1]);
        default:
            return fmt("[%d, %d]", sh.d[0], sh.d[1]);
        }
    }
}

/* A term of the last output: a scalar that reads value I. */
static Ex fold_term(int i)
{
    Ex e = use_value(i);
    if (e.sh.rank == 0)
        return e;
    e = break_flags(e, F_SIMPLEX | F_COLSIMPLEX);
    switch (below(4)) {
    case 0:
        return reduce("mean", e, -1);
    case 1:
        return reduce("mean", call1(chance(0.5) ? "sin" : "tanh", e), -1);
    case 2:
        return tame(reduce("sum", e, -1));
    default:
        return tame(reduce("sum", square(e), -1));
    }
}

static void generate(uint64_t seed, FILE *out)
{
    /* One model in ten is large, decided apart from the model's own random
     * numbers so that the other nine keep their bytes. */
    rng_state = ~seed;
    large_model = below(10) == 0;
    rng_state = seed;
    pool_used = 0;
    nvalues = nstmts = nargs = ninputs = nmemo = 0;
    snprintf(model_name, sizeof model_name, "r%llu", (unsigned long long)seed);
    compact = chance(0.1);
    for (int i = 0; i < 3; i++)
        dims[i] = chance(0.2) ? 1 : 2 + below(4);
    bool tiny = chance(0.04);
    int count = tiny ? 1 + below(2) : 3 + below(10);
    max_args = tiny ? 2 : 3 + below(6);
    bool one_output = chance(0.2);     /* exactly one scalar output: NAME_grad */

    for (int s = 0; s < count; s++) {
        Shape sh = random_shape();
        Ex e = gen(sh, tiny ? below(2) : 1 + below(3));
        bool output = !one_output && chance(0.2);
        int v = add_value(new_name(false), e.sh, e.lo, e.hi, e.flags,
                          output ? V_OUTPUT : V_DEF);
        add_stmt(v, e.s);
    }
    if (!one_output && chance(0.05)) {
        /* an output that is an argument itself */
        int args[MAX_VALUES], n = 0;
        for (int i = 0; i < nvalues; i++)
            if (values[i].kind == V_INPUT || values[i].kind == V_DATA)
                args[n++] = i;
        if (n > 0) {
            Ex e = use_value(args[below(n)]);
            add_stmt(add_value(new_name(false), e.sh, e.lo, e.hi, e.flags, V_OUTPUT),
                     e.s);
        }
    }

    /* Every defined value nothing reads: an output of its own (one of each
     * shape), or a term of a last scalar output. */
    int unread[MAX_VALUES], n = 0, noutputs = 0;
    for (int i = 0; i < nvalues; i++) {
        if (values[i].kind == V_OUTPUT)
            noutputs++;
        if (values[i].kind == V_DEF && values[i].uses == 0)
            unread[n++] = i;
    }
    int terms = 0;
    Ex sum = { 0 };
    for (int u = 0; u < n; u++) {
        Value *v = &values[unread[u]];
        bool shape_free = true;
        for (int i = 0; i < nvalues; i++)
            if (values[i].kind == V_OUTPUT && same_shape(values[i].sh, v->sh))
                shape_free = false;
        if (!one_output && ((shape_free && chance(0.6)) || noutputs == 0 ||
                            (u == n - 1 && terms == 0 && chance(0.5)))) {
            v->kind = V_OUTPUT;
            noutputs++;
            continue;
        }
        Ex t = fold_term(unread[u]);
        if (terms++ == 0)
            sum = t;
        else
            sum = binary(chance(0.7) ? '+' : '-', sum, t);
    }
    if (terms > 0) {
        sum = tame(sum);
        add_stmt(add_value(new_name(false), sum.sh, sum.lo, sum.hi, 0, V_OUTPUT),
                 sum.s);
    }

    /* Print: each argument declared before the statement that first reads
     * it, in runs of the same kind; now and then two statements on a line,
     * a comment, a blank line, an expression over several lines, CRLF
     * line ends, no newline at the end. */
    const char *nl = chance(0.05) ? "\r\n" : "\n";
    bool last_newline = !chance(0.05);
    fprintf(out, "# %s: generated by tests/randgen %llu%s", model_name,
            (unsigned long long)seed, nl);
    if (large_model)
        fprintf(out, "# gradcheck: --no-fd%s", nl);
    int next_arg = 0;
    for (int s = 0; s < nstmts; s++) {
        /* arguments first read by statement S: those added since the last
         * statement's value */
        int upto = stmts[s].value;
        while (next_arg < upto) {
            Value *a = &values[next_arg];
            if (a->kind != V_INPUT && a->kind != V_DATA) {
                next_arg++;
                continue;
            }
            enum Kind kind = a->kind;
            fputs(kind == V_INPUT ? "input " : "data ", out);
            bool first = true;
            while (next_arg < upto && values[next_arg].kind == kind) {
                fprintf(out, "%s%s%s", first ? "" : ", ", values[next_arg].name,
                        dims_text(values[next_arg].sh));
                first = false;
                next_arg++;
                if (chance(0.3))
                    break;
            }
            fputs(nl, out);
        }
        next_arg = upto + 1;
        if (chance(0.05))
            fprintf(out, "# statement %d%s", s + 1, nl);
        if (chance(0.03))
            fputs(nl, out);
        const Value *v = &values[stmts[s].value];
        const char *text = stmts[s].text;
        const char *paren = strchr(text, '(');
        if (paren && chance(0.08))  /* a newline inside parentheses */
            text = fmt("%.*s(%s    %s", (int)(paren - text), text, nl, paren + 1);
        fprintf(out, "%s%s%s%s", chance(0.03) ? "\t" : "",
                v->kind == V_OUTPUT ? "output " : "", v->name,
                compact ? "=" : " = ");
        fputs(text, out);
        bool last = s == nstmts - 1;
        if (!last && chance(0.08))
            fputs("; ", out);
        else if (chance(0.04))
            fprintf(out, "  # %s%s", v->kind == V_OUTPUT ? "an output" : "a value",
                    last && !last_newline ? "" : nl);
        else if (chance(0.03))
            fprintf(out, ";%s", last && !last_newline ? "" : nl);
        else if (!last || last_newline)
            fputs(nl, out);
    }
}

int main(int argc, char **argv)
{
    pool_size = (size_t)1 << 24;
    pool = malloc(pool_size);
    if (!pool)
        die("out of memory");
    char *end;
    if (argc == 2 && argv[1][0] != '-') {
        unsigned long long seed = strtoull(argv[1], &end, 10);
        if (*end)
            die("usage: randgen SEED | randgen --dir DIR SEED COUNT");
        generate(seed, stdout);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (argc == 5 && strcmp(argv[1], "--dir") == 0) {
        unsigned long long seed = strtoull(argv[3], &end, 10);
        if (*end)
            die("bad seed");
        long count = strtol(argv[4], &end, 10);
        if (*end || count < 0)
            die("bad count");
        for (long i = 0; i < count; i++) {
            unsigned long long s = seed + (unsigned long long)i;
            char path[4096];
            snprintf(path, sizeof path, "%s/r%llu.grad", argv[2], s);
            FILE *f = fopen(path, "wb");
            if (!f) {
                perror(path);
                return 1;
            }
            generate(s, f);
            if (fclose(f) != 0) {
                perror(path);
                return 1;
            }
        }
        return 0;
    }
    fputs("usage: randgen SEED\n"
          "       randgen --dir DIR SEED COUNT\n", stderr);
    return 2;
}
