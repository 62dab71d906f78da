/* emit_c.c: the generated C.  NAME.h holds the tape struct and the
 * prototypes, each argument named in a comment; NAME.c holds
 * NAME_forward, NAME_backward and (for one scalar output) NAME_grad.
 *
 * Where values live.  Forward: a node is a parameter (input, data), a
 * literal (constant), a tape member (the backward pass reads it), the
 * caller's output buffer (an output nothing else needs), or a local.
 * Backward: a node's adjoint is the caller's gradient buffer (inputs), a
 * seed it shares, another node's adjoint it shares (diff.c), or a local
 * declared at its first contribution.
 *
 * Tensors are flat row-major arrays.  Loops run only over extents above 1;
 * an elementwise loop over operands of one shape is a single flat loop,
 * and an adjoint that must be summed over broadcast axes is accumulated in
 * a local 'acc' per element of its target. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gradc.h"

typedef enum Storage {
    ST_NONE,      /* not computed */
    ST_CONST,
    ST_PARAM,
    ST_TAPE,
    ST_OUTPUT,
    ST_LOCAL,
} Storage;

typedef enum Fn { FN_FORWARD, FN_BACKWARD, FN_GRAD } Fn;

/* Storage that local arrays of one function share when they are never
 * live together (lifetime.c).  A slot that does not fit the stack budget
 * lives in the tape's work area instead. */
typedef struct Slot {
    const char *name;    /* the array that declares it; the others point to it */
    long size;           /* elements */
    long offset;         /* in the work area, or -1: on the stack */
} Slot;

typedef struct Locals {
    Slot *slots;
    int nslots;
    int *slot_of;        /* per node: the slot of its value (forward) or of
                            its adjoint (backward), -1 for none */
    long stack_bytes;
    long work_size;      /* elements of the work area it uses */
} Locals;

/* A function's parts (see split_parts). */
typedef struct Parts {
    int n;               /* 1: not split */
    int *start;          /* each part's first position; start[n] ends the last */
    int *part_of;        /* per position: node (forward) or step (backward) */
} Parts;

/* What the emitter decides for each node (the small fields first: 48
 * bytes, not 56, times the nodes). */
typedef struct NodeC {
    Storage storage;
    int output;              /* ST_OUTPUT: the output it is */
    int nsteps_to;           /* adjoint statements writing it */
    int product;             /* a '+' whose product operand it computes in
                                place (plan_fusion), else -1 */
    int group_end;           /* the first node of a loop group: the node
                                after its last (plan_groups), else 0 */
    bool loop_scalar;        /* a group's local that lives in one iteration */
    const char *name;        /* local, member, parameter or literal */
    const char *adj_name;    /* its own adjoint variable, if it has one */
    const char *deriv_name;  /* the tape member of its stored derivative */
} NodeC;

typedef struct Emitter {
    const Graph *g;
    const AdjointProgram *prog;
    const EmitOptions *opts;
    const RealType *real;    /* the type of every number */
    Arena *keep;             /* names, tables and the body being written */
    Arena *arena;            /* scratch text, reset after every statement */
    CNames *idents;          /* parameters, locals, functions */
    CNames *members;         /* tape struct members */
    NodeC *nodes;            /* per node */
    const char **param_name;
    const char **output_name;
    const char **seed_name;
    const char **grad_name;
    const char *tape;
    const char *tape_type;
    const char *var_i, *var_j, *var_k, *acc;
    bool has_grad;
    Locals locals[2];        /* local arrays of forward and backward */
    const char *work;        /* the work area: the local pointer to it */
    const char *work_member; /* and the tape member */
    long work_size;
    bool uses_work;          /* the body being written reads the pointer */
    Parts parts[2];          /* of forward and backward */
    const char **part_name[2];
    int *adj_first, *adj_last; /* per local adjoint: the first step that
                                  touches it, the last plus 1 (0: none) */
    long *adj_at;            /* per adjoint that crosses parts: its place in
                                the work area, else -1 */
    Fn fn;                   /* the function being written */
    int part;                /* and its part */
    bool *used;              /* per parameter slot, while emitting a body */
    Buf *body;
    const Adjoint *step;     /* the adjoint statement being written */
    const char *declare;     /* its type, when its '=' also declares it */
    int comment_stmt;        /* statement of the last comment written */
    bool *quoted;            /* per statement: quoted in full in this body */
} Emitter;

/* ---- small helpers ---- */

static bool is_scalar(Shape s)
{
    return s.rank == 0;
}

/* A shape as [rows, cols], a vector being one row. */
static long rows_of(Shape s)
{
    return s.rank == 2 ? s.dim[0] : 1;
}

static long cols_of(Shape s)
{
    return s.rank == 0 ? 1 : s.dim[s.rank - 1];
}

static Shape node_shape(const Emitter *e, int n)
{
    return e->g->nodes[n].shape;
}

static const char *fmt(Emitter *e, const char *f, ...)
    __attribute__((format(printf, 2, 3)));

static const char *fmt(Emitter *e, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    const char *s = arena_vprintf(e->arena, f, ap);
    va_end(ap);
    return s;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Appends the source text of statement STMT to OUT on one line, safe
 * inside a comment, as "line N: TEXT", of which at most LIMIT bytes.
 * Written straight from the source each time: a statement is quoted once
 * or twice per function, and copies kept of 10^6 of them cost more. */
static void put_stmt_text(const Emitter *e, Buf *out, int stmt, size_t limit)
{
    const SourceStmt *s = &e->g->stmts[stmt];
    const char *text = s->text;
    char head[40];
    int n = snprintf(head, sizeof head, "line %zu: ", s->line);
    size_t written = (size_t)n < limit ? (size_t)n : limit;
    buf_putn(out, head, written);
    bool space = false, any = false;
    for (size_t i = 0; i < s->len && written < limit;) {
        if (text[i] == '#') {
            while (i < s->len && text[i] != '\n')
                i++;
            space = true;
            continue;
        }
        if (is_blank(text[i])) {
            i++;
            space = true;
            continue;
        }
        /* Neither can occur in valid code, but a comment must not end
         * early: a '/' right after a '*' gets a space. */
        bool gap = (space && any) || (text[i] == '/' && any && !space && text[i - 1] == '*');
        space = false;
        if (gap) {
            buf_putc(out, ' ');
            if (++written == limit)
                break;
        }
        /* A run of bytes copied as they are, no further than the limit:
         * a statement of 10^6 operators may have no blank. */
        size_t j = i + 1, room = limit - written;
        while (j < s->len && j - i < room && !is_blank(text[j]) && text[j] != '#' &&
               !(text[j] == '/' && text[j - 1] == '*'))
            j++;
        buf_putn(out, text + i, j - i);
        written += j - i;
        any = true;
        i = j;
    }
}

/* The text cut to 72 characters, for comments that may be many: the
 * statement is read only as far as the cut. */
static const char *stmt_brief(Emitter *e, int stmt)
{
    Buf brief;
    buf_init(&brief, e->arena);
    put_stmt_text(e, &brief, stmt, 73);
    if (brief.len > 72) {
        brief.len = 69;
        buf_puts(&brief, "...");
    }
    return brief.data;
}

static void comment_stmt(Emitter *e, int stmt)
{
    if (stmt < 0 || stmt == e->comment_stmt)
        return;
    e->comment_stmt = stmt;
    /* A statement comes back after another when a later output copies one
     * of its inner values; quoted in full every time, a long one would
     * make the code grow with the square of the model. */
    buf_puts(e->body, "    /* ");
    if (e->quoted[stmt])
        buf_puts(e->body, stmt_brief(e, stmt));
    else
        put_stmt_text(e, e->body, stmt, SIZE_MAX);
    e->quoted[stmt] = true;
    buf_puts(e->body, " */\n");
}

/* Parameter slots, to (void) the unused: arguments, outputs, seeds,
 * gradients, then the tape. */
static int slot_output(const Emitter *e, int k)
{
    return (int)e->g->nparams + k;
}

static int slot_seed(const Emitter *e, int k)
{
    return (int)(e->g->nparams + e->g->noutputs) + k;
}

static int slot_grad(const Emitter *e, int k)
{
    return (int)(e->g->nparams + 2 * e->g->noutputs) + k;
}

static int slot_tape(const Emitter *e)
{
    return (int)(2 * e->g->nparams + 2 * e->g->noutputs);
}

static void use(Emitter *e, int slot)
{
    e->used[slot] = true;
}

/* ---- index expressions ---- */

/* Element [r, c] of a [rows, cols] array; a NULL index stands for 0. */
static const char *index2(Emitter *e, const char *r, const char *c, long cols)
{
    if (!r)
        return c ? c : "0";
    const char *row = cols == 1 ? r : fmt(e, "%s * %ld", r, cols);
    return c ? fmt(e, "%s + %s", row, c) : row;
}

/* The index of node N's element at [r, c] of a broadcast frame: axes where
 * N has extent 1 (or that N lacks) stay at 0. */
static const char *frame_index(Emitter *e, int n, const char *r, const char *c)
{
    Shape s = node_shape(e, n);
    return index2(e, rows_of(s) == 1 ? NULL : r, cols_of(s) == 1 ? NULL : c,
                  cols_of(s));
}

/* ---- references to values and adjoints ---- */

/* An adjoint statement reads of the forward pass only what its rule in
 * ops.def names, for that is what diff.c put on the tape: a read of
 * anything else is a bug in its emitter. */
static void check_read(const Emitter *e, int n)
{
    const Adjoint *a = e->step;
    const Node *from = &e->g->nodes[a->from];
    unsigned reads = op_adjoint_reads(from->op, a->arg);
    if (op_info[e->g->nodes[n].op].kind == OPK_LEAF ||
        ((reads & READS_ARG0) && n == from->args[0]) ||
        ((reads & READS_ARG1) && n == from->args[1]) ||
        ((reads & READS_SELF) && n == a->from))
        return;
    die("internal error: the adjoint of '%s' (n%d) reads n%d, which ops.def "
        "does not name", op_info[from->op].name, a->from, n);
}

/* The base of node N's storage: an array (or pointer) for a tensor, an
 * lvalue for a scalar. */
static const char *value_base(Emitter *e, int n)
{
    const Node *node = &e->g->nodes[n];
    if (e->step)
        check_read(e, n);
    switch (e->nodes[n].storage) {
    case ST_PARAM:
        use(e, node->param);
        return e->nodes[n].name;
    case ST_TAPE:
        use(e, slot_tape(e));
        return fmt(e, "%s->%s", e->tape, e->nodes[n].name);
    case ST_OUTPUT:
        use(e, slot_output(e, e->nodes[n].output));
        return is_scalar(node->shape) ? fmt(e, "(*%s)", e->nodes[n].name) : e->nodes[n].name;
    case ST_CONST:
    case ST_LOCAL:
        return e->nodes[n].name;
    case ST_NONE:
        break;
    }
    UNREACHABLE();
}

/* Node N's element IDX as an atom (scalars ignore IDX). */
static const char *value_at(Emitter *e, int n, const char *idx)
{
    const char *base = value_base(e, n);
    return is_scalar(node_shape(e, n)) || e->nodes[n].loop_scalar
               ? base : fmt(e, "%s[%s]", base, idx);
}

/* A pointer to node N's first element, for the runtime's kernels. */
static const char *value_ptr(Emitter *e, int n)
{
    if (!is_scalar(node_shape(e, n)))
        return value_base(e, n);
    if (e->nodes[n].storage == ST_OUTPUT) {
        use(e, slot_output(e, e->nodes[n].output));
        return e->nodes[n].name;
    }
    return fmt(e, "&%s", value_base(e, n));
}

/* Where node N's forward value is written, element IDX. */
static const char *value_lhs(Emitter *e, int n, const char *idx)
{
    bool scalar = is_scalar(node_shape(e, n));
    if (e->nodes[n].storage == ST_OUTPUT && scalar) {
        use(e, slot_output(e, e->nodes[n].output));
        return fmt(e, "*%s", e->nodes[n].name);
    }
    return value_at(e, n, idx);
}

/* The derivative node N's forward pass stored, all of it or element IDX
 * (scalars ignore IDX). */
static const char *deriv_base(Emitter *e, int n)
{
    if (!e->prog->tape_deriv[n])
        die("internal error: n%d reads a derivative diff.c did not store", n);
    use(e, slot_tape(e));
    return fmt(e, "%s->%s", e->tape, e->nodes[n].deriv_name);
}

static const char *deriv_at(Emitter *e, int n, const char *idx)
{
    const char *d = deriv_base(e, n);
    return is_scalar(node_shape(e, n)) ? d : fmt(e, "%s[%s]", d, idx);
}

/* The adjoint variable node N uses: a seed, a gradient buffer or a local. */
static const char *adj_base(Emitter *e, int n, bool *is_pointer)
{
    const AdjointProgram *prog = e->prog;
    int k = prog->adj_seed[n];
    if (k >= 0) {
        use(e, slot_seed(e, k));
        *is_pointer = false;
        return e->seed_name[k];
    }
    int owner = prog->adj_node[n];
    if (owner < 0)
        UNREACHABLE();
    const Node *node = &e->g->nodes[owner];
    *is_pointer = node->op == OP_INPUT;
    if (*is_pointer)
        use(e, slot_grad(e, node->param));
    return e->nodes[owner].adj_name;
}

/* The shape of the variable holding N's adjoint: a sum's operand shares
 * the scalar adjoint of the sum, at every element. */
static bool adj_is_scalar(const Emitter *e, int n)
{
    return is_scalar(node_shape(e, adjoint_owner(e->g, e->prog, n)));
}

/* Whether N's adjoint variable holds one element per element of N, as an
 * array kernel or a product reads and writes it: not a sum's shared scalar. */
static bool adj_is_whole(const Emitter *e, int n)
{
    return !adj_is_scalar(e, n) || is_scalar(node_shape(e, n));
}

static const char *adj_at(Emitter *e, int n, const char *idx)
{
    bool ptr;
    const char *base = adj_base(e, n, &ptr);
    if (!adj_is_scalar(e, n))
        return fmt(e, "%s[%s]", base, idx);
    return ptr ? fmt(e, "(*%s)", base) : base;
}

static const char *adj_lhs(Emitter *e, int n, const char *idx)
{
    bool ptr;
    const char *base = adj_base(e, n, &ptr);
    if (!adj_is_scalar(e, n))
        return fmt(e, "%s[%s]", base, idx);
    return ptr ? fmt(e, "*%s", base) : base;
}

static const char *adj_ptr(Emitter *e, int n)
{
    bool ptr;
    const char *base = adj_base(e, n, &ptr);
    return adj_is_scalar(e, n) && !ptr ? fmt(e, "&%s", base) : base;
}

/* The name of the double function NAME (libm's or the runtime's) for the
 * generated code's type: expf, gradrt_gemmf.  <math.h>'s classification
 * macros take any type. */
static const char *call_name(Emitter *e, const char *name)
{
    static const char *const generic[] = { "isnan", "isinf", "isfinite", "signbit" };
    for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++)
        if (strcmp(name, generic[i]) == 0)
            return name;
    bool runtime = strncmp(name, "gradrt_", 7) == 0;
    const char *suffix = runtime ? e->real->runtime_suffix : e->real->libm_suffix;
    return *suffix ? fmt(e, "%s%s", name, suffix) : name;
}

static bool is_ident_char(char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

/* Copies the word or number at S, of a template's own text, to OUT for the
 * generated code's type: a call gets call_name, a literal with a point the
 * type's suffix.  Returns what follows it. */
static const char *expand_token(Emitter *e, Buf *out, const char *s)
{
    const char *end = s;
    while (is_ident_char(*end) || (*s >= '0' && *s <= '9' && *end == '.'))
        end++;
    const char *word = fmt(e, "%.*s", (int)(end - s), s);
    if (*end == '(' && !(*s >= '0' && *s <= '9'))
        buf_puts(out, call_name(e, word));
    else if (strchr(word, '.'))
        buf_printf(out, "%s%s", word, e->real->literal_suffix);
    else
        buf_puts(out, word);
    return end;
}

/* Expands a template: %0 %1 operands, %= the node, %d its stored
 * derivative, %g its adjoint. */
static const char *expand(Emitter *e, const char *tmpl, const char *a0,
                          const char *a1, const char *self, const char *d,
                          const char *g)
{
    Buf out;
    buf_init(&out, e->arena);
    /* double, the templates' own type, needs no token rewritten */
    bool retype = *e->real->literal_suffix || *e->real->libm_suffix ||
                  *e->real->runtime_suffix;
    for (const char *s = tmpl; *s; s++) {
        if (retype && is_ident_char(*s)) {
            s = expand_token(e, &out, s) - 1;
            continue;
        }
        if (*s != '%') {
            buf_putc(&out, *s);
            continue;
        }
        switch (*++s) {
        case '0': buf_puts(&out, a0); break;
        case '1': buf_puts(&out, a1); break;
        case '=': buf_puts(&out, self); break;
        case 'd': buf_puts(&out, d); break;
        case 'g': buf_puts(&out, g); break;
        default: UNREACHABLE();
        }
    }
    return out.data;
}

/* "-X" where X has no '+', '-' or '?' outside brackets: a negated product,
 * so "a += -X" may be written "a -= X" with the same rounding. */
static bool is_negated_product(const char *text)
{
    if (text[0] != '-')
        return false;
    int depth = 0;
    for (const char *s = text + 1; *s; s++) {
        if (*s == '(' || *s == '[')
            depth++;
        else if (*s == ')' || *s == ']')
            depth--;
        else if (depth == 0 && (*s == '+' || *s == '-' || *s == '?'))
            return false;
    }
    return true;
}

/* "LHS = X;", "LHS += X;", or "LHS -= Y;" when X is -Y; with a type to
 * declare, "TYPE LHS = X;". */
static const char *assign(Emitter *e, const char *lhs, bool first,
                          const char *rhs)
{
    if (first)
        return fmt(e, "%s%s = %s;", e->declare ? e->declare : "", lhs, rhs);
    if (is_negated_product(rhs))
        return fmt(e, "%s -= %s;", lhs, rhs + 1);
    return fmt(e, "%s += %s;", lhs, rhs);
}

/* ---- loops ---- */

typedef struct Loop {
    const char *var;     /* NULL: no loop (extent 1) */
    const char *start;   /* NULL: 0 */
    const char *cond;    /* NULL: var < extent */
    long extent;
} Loop;

static Loop loop(const char *var, long extent)
{
    Loop l = { extent > 1 ? var : NULL, NULL, NULL, extent };
    return l;
}

/* DEPTH levels of indentation, four spaces each. */
static void put_indent(Buf *out, int depth)
{
    static const char spaces[] = "                                ";
    for (int n = depth * 4; n > 0; n -= (int)sizeof spaces - 1)
        buf_putn(out, spaces, n < (int)sizeof spaces - 1 ? (size_t)n : sizeof spaces - 1);
}

/* Writes LOOPS around BODY (lines of C) into OUT, DEPTH levels in; braces
 * go around the innermost body when it has several lines, or around a
 * loopless body with declarations (SCOPE). */
static void write_nest(Buf *out, int depth, const Loop *loops, int nloops,
                       const char *body, bool scope)
{
    bool multi = strchr(body, '\n') != NULL;
    int active = 0;
    for (int k = 0; k < nloops; k++)
        active += loops[k].var != NULL;
    for (int k = 0, seen = 0; k < nloops; k++) {
        const Loop *l = &loops[k];
        if (!l->var)
            continue;
        seen++;
        buf_printf(out, "%*sfor (int %s = %s; ", depth * 4, "", l->var,
                   l->start ? l->start : "0");
        if (l->cond)
            buf_puts(out, l->cond);
        else
            buf_printf(out, "%s < %ld", l->var, l->extent);
        buf_printf(out, "; %s++)%s\n", l->var,
                   seen == active && multi ? " {" : "");
        depth++;
    }
    bool block = active == 0 && scope;
    if (block) {
        buf_printf(out, "%*s{\n", depth * 4, "");
        depth++;
    }
    for (const char *line = body; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        put_indent(out, depth);
        buf_putn(out, line, len);
        buf_putc(out, '\n');
        line += len + (nl != NULL);
    }
    if ((active > 0 && multi) || block)
        buf_printf(out, "%*s}\n", (depth - 1) * 4, "");
}

/* A nest in the function body, one level in. */
static void emit_nest(Emitter *e, const Loop *loops, int nloops, const char *body,
                      bool scope)
{
    write_nest(e->body, 1, loops, nloops, body, scope);
}

/* Loops of at least this many iterations in all are marked for threads.
 * An elementwise iteration costs well under a nanosecond and the fork and
 * join of an OpenMP team a few microseconds: d[i] = a[i] * b[i] over 2^15
 * doubles took 11.6 us on one thread and 12.6 us on two, over 2^16 18.9 us
 * both ways, over 2^17 39.9 and 31.4 us (gcc -O2 -fopenmp, the 2-core Zen 2
 * machine of bench/, best of 3000 by the wall clock).  Smaller loops stay
 * plain, and so do those of the tests' golden models. */
enum { PARALLEL_MIN = 1 << 16 };

/* A nest whose iterations are independent: each writes elements of its
 * own, reads none that another writes, and keeps no sum across iterations
 * (an accumulated sum would change its order if split).  A large one gets
 * GRADRT_PARALLEL_FOR (gradrt.h), which compiled with -fopenmp splits its
 * outer loop over threads and is nothing otherwise: the same arithmetic
 * on every element either way. */
static void emit_elementwise(Emitter *e, const Loop *loops, int nloops, const char *body)
{
    long trips = 1;
    for (int k = 0; k < nloops; k++)
        if (loops[k].var)
            trips *= loops[k].extent;
    if (trips >= PARALLEL_MIN)
        buf_puts(e->body, "    GRADRT_PARALLEL_FOR\n");
    emit_nest(e, loops, nloops, body, false);
}

/* For every point of OUTER: LHS op= (the sum over INNER of TERM) / DIV. */
static void emit_reduce(Emitter *e, const Loop *outer, int nouter,
                        const Loop *inner, int ninner, const char *term,
                        const char *lhs, bool first, long div)
{
    bool loops = false;
    for (int k = 0; k < ninner; k++)
        loops |= inner[k].var != NULL;
    if (!loops) {
        const char *rhs = div > 1 ? fmt(e, "%s / %ld", term, div) : term;
        emit_elementwise(e, outer, nouter, assign(e, lhs, first, rhs));
        return;
    }
    Buf body;
    buf_init(&body, e->arena);
    buf_printf(&body, "%s %s = %s;\n", e->real->name, e->acc, e->real->zero);
    /* The inner loops, which the outer nest indents. */
    write_nest(&body, 0, inner, ninner, assign(e, e->acc, false, term), false);
    const char *total = div > 1 ? fmt(e, "%s / %ld", e->acc, div) : e->acc;
    buf_puts(&body, assign(e, lhs, first, total));
    emit_nest(e, outer, nouter, body.data, true);
}

/* ---- storage and naming ---- */

typedef struct Mat {
    long m, k, n;        /* A[m, k] @ B[k, n] */
} Mat;

static Mat matmul_dims(Emitter *e, const Node *node)
{
    Shape a = node_shape(e, node->args[0]), b = node_shape(e, node->args[1]);
    bool ta = node->transposed & 1, tb = node->transposed & 2;
    Mat d;
    d.m = a.rank == 2 ? a.dim[ta ? 1 : 0] : 1;
    d.k = a.rank == 2 ? a.dim[ta ? 0 : 1] : a.dim[0];
    d.n = b.rank == 2 ? b.dim[tb ? 0 : 1] : 1;
    return d;
}

/* Products smaller than this many multiply-adds stay inline loops, whose
 * constant bounds the C compiler unrolls: a call would cost more than the
 * work. */
enum { GEMM_MIN_WORK = 64 };

static bool use_gemm(Mat d)
{
    return d.m * d.n * d.k >= GEMM_MIN_WORK;
}


/* Where each node's value lives (see the top of the file) and how many
 * adjoint statements write it. */
static void plan_storage(Emitter *e)
{
    const Graph *g = e->g;
    e->nodes = arena_alloc(e->keep, (g->nnodes + 1) * sizeof *e->nodes);
    for (size_t k = 0; k < g->noutputs; k++) {
        NodeC *c = &e->nodes[g->outputs[k].node];
        if (c->storage == ST_NONE) {
            c->storage = ST_OUTPUT;
            c->output = (int)k;
        }
    }
    for (size_t i = 0; i < g->nnodes; i++) {
        const Node *node = &g->nodes[i];
        NodeC *c = &e->nodes[i];
        if (node->op == OP_CONST)
            c->storage = ST_CONST;
        else if (node->op == OP_INPUT || node->op == OP_DATA)
            c->storage = ST_PARAM;
        else if (!(node->flags & NODE_USEFUL))
            c->storage = ST_NONE;
        else if (e->prog->on_tape[i])
            c->storage = ST_TAPE;
        else if (c->storage != ST_OUTPUT)
            c->storage = ST_LOCAL;
    }
    for (size_t s = 0; s < e->prog->nsteps; s++)
        e->nodes[e->prog->steps[s].to].nsteps_to++;
    for (size_t i = 0; i < g->nnodes; i++)
        e->nodes[i].product = -1;
}

/* The nodes whose values node I reads where it is computed: its operands,
 * and those of the product it computes in place.  N gets their count. */
static int reads_of(const Emitter *e, int i, int out[3])
{
    const Node *node = &e->g->nodes[i];
    int n = 0;
    for (int a = 0; a < op_info[node->op].arity; a++) {
        int arg = node->args[a];
        if (arg == e->nodes[i].product) {
            out[n++] = e->g->nodes[arg].args[0];
            out[n++] = e->g->nodes[arg].args[1];
        } else {
            out[n++] = arg;
        }
    }
    return n;
}

/* How many computed nodes and outputs read each node's value, in an array
 * of E->arena. */
static int *count_readers(Emitter *e)
{
    const Graph *g = e->g;
    int *readers = arena_alloc(e->arena, (g->nnodes + 1) * sizeof *readers);
    for (size_t i = 0; i < g->nnodes; i++) {
        int reads[3], nreads = e->nodes[i].storage == ST_NONE ? 0 : reads_of(e, (int)i, reads);
        for (int r = 0; r < nreads; r++)
            readers[reads[r]]++;
    }
    for (size_t k = 0; k < g->noutputs; k++)
        readers[g->outputs[k].node]++;
    return readers;
}

/* A product plus a bias, 'X @ W + b', is one call: the sum's storage filled
 * with the bias, then the product added to it (beta 1), with no temporary
 * for the product and no second pass over it.  Only where the product is
 * read by the sum alone and is a runtime call; its adjoint is the sum's
 * (diff.c shares it). */
static void plan_fusion(Emitter *e)
{
    const Graph *g = e->g;
    int *readers = count_readers(e);
    for (size_t i = 0; i < g->nnodes; i++) {
        const Node *node = &g->nodes[i];
        if (node->op != OP_ADD || e->nodes[i].storage == ST_NONE)
            continue;
        for (int a = 0; a < 2; a++) {
            int m = node->args[a];
            const Node *prod = &g->nodes[m];
            if (prod->op == OP_MATMUL && readers[m] == 1 && e->nodes[m].storage == ST_LOCAL &&
                shape_equal(prod->shape, node->shape) && node->args[0] != node->args[1] &&
                use_gemm(matmul_dims(e, prod))) {
                e->nodes[i].product = m;
                e->nodes[m].storage = ST_NONE;
                break;
            }
        }
    }
    arena_reset(e->arena);
}

/* The names of the functions' parameters and of the generated code's own
 * variables: the user's names first, as spelled where C allows it. */
static void name_parameters(Emitter *e)
{
    const Graph *g = e->g;
    const char *m = e->opts->model;
    Arena *a = e->keep;
    e->idents = cnames_new(a);
    e->members = cnames_new(a);
    for (const char *const *s = cnames_model_suffixes; *s; s++)
        cnames_reserve(e->idents, fmt(e, "%s_%s", m, *s));
    e->tape_type = arena_printf(a, "%s_tape", m);

    e->param_name = arena_alloc(a, (g->nparams + 1) * sizeof *e->param_name);
    e->output_name = arena_alloc(a, (g->noutputs + 1) * sizeof *e->output_name);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < g->nparams; i++)
            if (cnames_is_safe(g->params[i].name) == (pass == 0))
                e->param_name[i] = cnames_claim(e->idents, g->params[i].name);
        for (size_t i = 0; i < g->noutputs; i++)
            if (cnames_is_safe(g->outputs[i].name) == (pass == 0))
                e->output_name[i] = cnames_claim(e->idents, g->outputs[i].name);
    }
    /* Derived names build on the C names, so that grad_x is x's gradient
     * even when a '_x' was renamed. */
    e->tape = cnames_claim(e->idents, "tape");
    e->seed_name = arena_alloc(a, (g->noutputs + 1) * sizeof *e->seed_name);
    for (size_t i = 0; i < g->noutputs; i++)
        e->seed_name[i] = cnames_claim(e->idents, fmt(e, "seed_%s", e->output_name[i]));
    e->grad_name = arena_alloc(a, (g->nparams + 1) * sizeof *e->grad_name);
    for (size_t i = 0; i < g->nparams; i++)
        if (g->params[i].is_input)
            e->grad_name[i] = cnames_claim(e->idents, fmt(e, "grad_%s", e->param_name[i]));
    e->var_i = cnames_claim(e->idents, "i");
    e->var_j = cnames_claim(e->idents, "j");
    e->var_k = cnames_claim(e->idents, "k");
    e->acc = cnames_claim(e->idents, "acc");
}

enum { PREFETCH_AHEAD = 8 };

/* Hints the names that name_values will claim for node J. */
static void prefetch_value_names(const Emitter *e, size_t j, int *temps)
{
    const Node *node = &e->g->nodes[j];
    char number[24] = "";
    const char *pref = node->name ? node->name : "";
    if (!node->name && (node->flags & NODE_USEFUL) && node->op != OP_CONST)
        snprintf(number, sizeof number, "%d", ++*temps);
    const char *t = *number ? "t" : "";
    if (e->nodes[j].storage == ST_LOCAL)
        cnames_prefetch(e->idents, t, *number ? number : pref, "");
    else if (e->nodes[j].storage == ST_TAPE)
        cnames_prefetch(e->members, t, *number ? number : pref, "");
    if (e->prog->tape_deriv[j])
        cnames_prefetch(e->members, t, *number ? number : pref, "_deriv");
}

/* The name of every stored value and of every adjoint variable. */
static void name_values(Emitter *e)
{
    const Graph *g = e->g;
    int temps = 0;
    /* The tables sized once for the names below: growing them would move
     * each of 10^7 names again. */
    size_t locals = 0, members = 0;
    for (size_t i = 0; i < g->nnodes; i++) {
        locals += e->nodes[i].storage == ST_LOCAL;
        locals += e->prog->adj_node[i] == (int)i && e->prog->adj_seed[i] < 0;
        members += e->nodes[i].storage == ST_TAPE;
        members += e->prog->tape_deriv[i];
    }
    cnames_expect(e->idents, locals);
    cnames_expect(e->members, members);
    /* The names a few nodes ahead are hinted to the tables (a lookup in
     * them is a cache miss each), numbering the temporaries as below. */
    int temps_ahead = 0;
    for (size_t i = 0; i < g->nnodes; i++) {
        if (i + PREFETCH_AHEAD < g->nnodes)
            prefetch_value_names(e, i + PREFETCH_AHEAD, &temps_ahead);
        const Node *node = &g->nodes[i];
        NodeC *c = &e->nodes[i];
        const char *pref = node->name;
        /* Unnamed values are numbered in order among those stored. */
        if (!pref && (node->flags & NODE_USEFUL) && node->op != OP_CONST)
            pref = fmt(e, "t%d", ++temps);
        switch (c->storage) {
        case ST_CONST:
            /* Spelt once: a constant may be read at many places. */
            c->name = real_literal(e->keep, e->real, node->value);
            break;
        case ST_PARAM: c->name = e->param_name[node->param]; break;
        case ST_TAPE: c->name = cnames_claim(e->members, pref); break;
        case ST_OUTPUT: c->name = e->output_name[c->output]; break;
        case ST_LOCAL: c->name = cnames_claim(e->idents, pref); break;
        case ST_NONE: break;
        }
        if (e->prog->tape_deriv[i])
            c->deriv_name = cnames_claim(e->members, fmt(e, "%s_deriv", pref));
        arena_reset(e->arena);
    }
    for (size_t i = 0; i < g->nnodes; i++) {
        size_t j = i + PREFETCH_AHEAD;
        if (j < g->nnodes && e->prog->adj_node[j] == (int)j && e->prog->adj_seed[j] < 0 &&
            g->nodes[j].op != OP_INPUT)
            cnames_prefetch(e->idents, "d_", e->nodes[j].name, "");
        const Node *node = &g->nodes[i];
        if (e->prog->adj_node[i] != (int)i || e->prog->adj_seed[i] >= 0)
            continue;
        if (node->op == OP_INPUT)
            e->nodes[i].adj_name = e->grad_name[node->param];
        else
            e->nodes[i].adj_name = cnames_claim(e->idents, fmt(e, "d_%s", e->nodes[i].name));
        arena_reset(e->arena);
    }
}

/* ---- parts ----
 * A function of many operations is split into parts of about
 * opts->part_size operations each: static functions it calls in turn.  C
 * compilers take time that grows faster than a function's size (a chain of
 * 10^4 statements in one function did not compile in ten minutes), and
 * parts of bounded size compile at a steady rate per statement.  Parts end
 * between statements where they can.  What one part computes and a later
 * one reads crosses in the tape: a forward value as a tape member, an
 * adjoint in the work area (see the next section). */

/* What an operation costs the C compiler, in scalar statements: a loop over
 * an array is analysed, vectorised and unrolled, and takes several times
 * longer (clang -O2 on the 1000-layer residual net: 37 s in parts of 250
 * operations, 20 s in parts of 100). */
enum { PART_ARRAY_COST = 3 };

static int part_cost(Shape s)
{
    return is_scalar(s) ? 1 : PART_ARRAY_COST;
}

/* Splits positions 0..NPOS-1, of which those of a nonzero COST emit code
 * and STMT[p] is the statement of each, into FN's parts. */
static void split_parts(Emitter *e, Fn fn, int npos, const int *cost, const int *stmt)
{
    Parts *parts = &e->parts[fn];
    /* Each part names every parameter (a (void) for those it does not
     * read), so a part is at least a few operations per parameter: the
     * code stays linear in a model with 10^5 outputs. */
    const Graph *g = e->g;
    long params = (long)(g->nparams * 2 + g->noutputs * 2);
    long size = e->opts->part_size > 4 * params ? e->opts->part_size : 4 * params;
    parts->part_of = arena_alloc(e->keep, ((size_t)npos + 1) * sizeof *parts->part_of);
    parts->start = arena_alloc(e->keep, 2 * sizeof *parts->start);
    size_t cap = 2;
    long count = 0;
    parts->n = 1;
    for (int p = 0; p < npos; p++) {
        if (cost[p] && (count >= 2 * size ||
                        (count >= size && p > 0 && stmt[p] != stmt[p - 1]))) {
            arena_reserve(e->keep, &parts->start, &cap, (size_t)parts->n + 2,
                          sizeof *parts->start);
            parts->start[parts->n++] = p;
            count = 0;
        }
        count += cost[p];
        parts->part_of[p] = parts->n - 1;
    }
    parts->start[parts->n] = npos;
}

/* The forward pass's parts; a local value read in a later part than its
 * own goes on the tape. */
static void plan_forward_parts(Emitter *e)
{
    const Graph *g = e->g;
    int n = (int)g->nnodes;
    int *cost = arena_alloc(e->arena, ((size_t)n + 1) * sizeof *cost);
    int *stmt = arena_alloc(e->arena, ((size_t)n + 1) * sizeof *stmt);
    for (int i = 0; i < n; i++) {
        bool emits = op_info[g->nodes[i].op].kind != OPK_LEAF &&
                     e->nodes[i].storage != ST_NONE;
        cost[i] = emits ? part_cost(g->nodes[i].shape) : 0;
        stmt[i] = g->nodes[i].stmt;
    }
    split_parts(e, FN_FORWARD, n, cost, stmt);
    const int *part_of = e->parts[FN_FORWARD].part_of;
    for (int i = 0; i < n; i++) {
        int reads[3], nreads = cost[i] ? reads_of(e, i, reads) : 0;
        for (int r = 0; r < nreads; r++) {
            NodeC *c = &e->nodes[reads[r]];
            if (c->storage == ST_LOCAL && part_of[reads[r]] != part_of[i])
                c->storage = ST_TAPE;
        }
    }
    arena_reset(e->arena);
}

/* The variable holding N's adjoint when it is a local (not a seed, not a
 * gradient buffer), else -1. */
static int adj_local(const Emitter *e, int n)
{
    if (n < 0 || e->prog->adj_seed[n] >= 0)
        return -1;
    int owner = e->prog->adj_node[n];
    return owner < 0 || e->g->nodes[owner].op == OP_INPUT ? -1 : owner;
}

/* The backward pass's parts, and for each local adjoint the first and last
 * steps that write or read it. */
static void plan_backward_parts(Emitter *e)
{
    const Graph *g = e->g;
    const AdjointProgram *prog = e->prog;
    int n = (int)prog->nsteps;
    int *cost = arena_alloc(e->arena, ((size_t)n + 1) * sizeof *cost);
    int *stmt = arena_alloc(e->arena, ((size_t)n + 1) * sizeof *stmt);
    e->adj_first = arena_alloc(e->keep, (g->nnodes + 1) * sizeof *e->adj_first);
    e->adj_last = arena_alloc(e->keep, (g->nnodes + 1) * sizeof *e->adj_last);
    for (int s = 0; s < n; s++) {
        const Adjoint *a = &prog->steps[s];
        cost[s] = part_cost(g->nodes[a->to].shape);
        stmt[s] = a->from < 0 ? g->outputs[a->output].stmt : g->nodes[a->from].stmt;
        int touched[2] = { adj_local(e, a->to), adj_local(e, a->from) };
        for (int k = 0; k < 2; k++) {
            if (touched[k] < 0)
                continue;
            if (!e->adj_last[touched[k]])
                e->adj_first[touched[k]] = s;
            e->adj_last[touched[k]] = s + 1;   /* 0: never touched */
        }
    }
    split_parts(e, FN_BACKWARD, n, cost, stmt);
    arena_reset(e->arena);
}

/* Does local adjoint V cross from one part of the backward pass to another? */
static bool adj_crosses(const Emitter *e, int v)
{
    const int *part_of = e->parts[FN_BACKWARD].part_of;
    return e->adj_last[v] && part_of[e->adj_first[v]] != part_of[e->adj_last[v] - 1];
}

static const char *fn_name(Emitter *e, Fn fn)
{
    static const char *const suffix[] = { "forward", "backward", "grad" };
    return fmt(e, "%s_%s", e->opts->model, suffix[fn]);
}

static void name_parts(Emitter *e)
{
    for (int fn = 0; fn < 2; fn++) {
        const Parts *parts = &e->parts[fn];
        e->part_name[fn] = arena_alloc(e->keep, ((size_t)parts->n + 1) *
                                                    sizeof *e->part_name[fn]);
        for (int p = 0; parts->n > 1 && p < parts->n; p++)
            e->part_name[fn][p] = cnames_claim(e->idents,
                                               fmt(e, "%s_%d", fn_name(e, (Fn)fn), p + 1));
    }
}

/* ---- loop groups ----
 * Consecutive elementwise nodes over one flat frame of N elements run in
 * one loop, each element computed before it is read; a sum of all the
 * elements of one of them may end the loop.  A local that only the group
 * reads is a scalar of one iteration, never an array. */

/* Can node N join a group over N elements? */
static bool groupable(const Emitter *e, int n, long size)
{
    const Node *node = &e->g->nodes[n];
    const OpInfo *info = &op_info[node->op];
    if (e->nodes[n].storage == ST_NONE || info->kind != OPK_ELEM || info->array_fwd ||
        e->nodes[n].product >= 0 || is_scalar(node->shape) ||
        shape_size(node->shape) != size)
        return false;
    for (int a = 0; a < info->arity; a++) {
        Shape s = e->g->nodes[node->args[a]].shape;
        if (!is_scalar(s) && !shape_equal(s, node->shape))
            return false;
    }
    return true;
}

/* Does node N end a group whose members are MEMBER[k] == STAMP? */
static bool group_sum(const Emitter *e, int n, const int *member, int stamp)
{
    const Node *node = &e->g->nodes[n];
    return (node->op == OP_SUM || node->op == OP_MEAN) && node->axis < 0 &&
           e->nodes[n].storage != ST_NONE && member[node->args[0]] == stamp;
}

static void plan_groups(Emitter *e)
{
    const Graph *g = e->g;
    int n = (int)g->nnodes;
    int *readers = count_readers(e);
    int *inside = arena_alloc(e->arena, ((size_t)n + 1) * sizeof *inside);
    int *member = arena_alloc(e->arena, ((size_t)n + 1) * sizeof *member);
    bool *copied = arena_alloc(e->arena, ((size_t)n + 1) * sizeof *copied);
    for (size_t k = 0; k < g->noutputs; k++) {
        int node = g->outputs[k].node;
        copied[node] |= !(e->nodes[node].storage == ST_OUTPUT &&
                          e->nodes[node].output == (int)k);
    }
    const int *part_of = e->parts[FN_FORWARD].part_of;
    for (int first = 0; first < n; first++) {
        long size = shape_size(g->nodes[first].shape);
        if (size < 2 || !groupable(e, first, size))
            continue;
        int stamp = first + 1, members = 0, end = first;
        /* Members, and the nodes between them that emit nothing. */
        for (int i = first; i < n && part_of[i] == part_of[first]; i++) {
            if (groupable(e, i, size)) {
                member[i] = stamp;
                members++;
                end = i + 1;
            } else if (group_sum(e, i, member, stamp) && !copied[i]) {
                end = i + 1;
                members++;
                break;
            } else if (!((op_info[g->nodes[i].op].kind == OPK_LEAF ||
                          e->nodes[i].storage == ST_NONE) && !copied[i])) {
                break;
            }
        }
        if (members < 2)
            continue;
        e->nodes[first].group_end = end;
        for (int i = first; i < end; i++) {
            int reads[3], nreads = reads_of(e, i, reads);
            for (int r = 0; r < nreads; r++)
                inside[reads[r]] += member[i] == stamp || i == end - 1;
        }
        for (int i = first; i < end; i++)
            e->nodes[i].loop_scalar = member[i] == stamp &&
                                      e->nodes[i].storage == ST_LOCAL &&
                                      inside[i] == readers[i];
        first = end - 1;
    }
    arena_reset(e->arena);
}

/* ---- local arrays ---- */

/* A slot's size and index, to order the slots largest first (then by
 * index, so that the plan does not depend on qsort). */
typedef struct SlotSize {
    long size;
    int slot;
} SlotSize;

static int larger_slot(const void *pa, const void *pb)
{
    const SlotSize *a = pa, *b = pb;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return a->slot - b->slot;
}

/* Elements of work area a slot takes: a whole number of 64-byte lines. */
static long work_elements(const Emitter *e, long size)
{
    long line = 64 / e->real->size;
    return (size + line - 1) / line * line;
}

/* Slots for the N arrays of one part of FN, whose lifetimes LIFE gives,
 * NODE[i] the node and NAME[i] the name of each: the largest slots move to
 * the work area, from element BASE on, until the rest fit the stack limit. */
static void plan_part_locals(Emitter *e, Fn fn, const Lifetime *life, const int *node,
                             const char *const *name, int n, long base)
{
    Locals *l = &e->locals[fn];
    int *slot = arena_alloc(e->arena, ((size_t)n + 1) * sizeof *slot);
    int nslots = lifetime_slots(life, n, slot, e->arena);
    Slot *slots = l->slots + l->nslots;
    long stack = 0, work = base;
    for (int i = 0; i < n; i++) {
        Slot *s = &slots[slot[i]];
        if (!s->name) {
            s->name = name[i];
            s->size = life[i].size;
            s->offset = -1;
            stack += s->size * (long)e->real->size;
        }
        l->slot_of[node[i]] = l->nslots + slot[i];
    }
    SlotSize *by_size = arena_alloc(e->arena, ((size_t)nslots + 1) * sizeof *by_size);
    for (int i = 0; i < nslots; i++)
        by_size[i] = (SlotSize){ slots[i].size, i };
    qsort(by_size, (size_t)nslots, sizeof *by_size, larger_slot);
    for (int i = 0; i < nslots && stack > e->opts->stack_limit; i++) {
        slots[by_size[i].slot].offset = 0;
        stack -= by_size[i].size * (long)e->real->size;
    }
    /* Offsets in the order the arrays appear. */
    for (int i = 0; i < nslots; i++) {
        if (slots[i].offset < 0)
            continue;
        slots[i].offset = work;
        work += work_elements(e, slots[i].size);
    }
    l->nslots += nslots;
    if (stack > l->stack_bytes)
        l->stack_bytes = stack;
    if (work > l->work_size)
        l->work_size = work;
}

/* FN's local arrays, N lifetimes in order, planned part by part: no array
 * outlives its part. */
static void plan_locals(Emitter *e, Fn fn, const Lifetime *life, const int *node,
                        const char *const *name, int n, long base)
{
    const int *part_of = e->parts[fn].part_of;
    for (int i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && part_of[life[j].first] == part_of[life[i].first]; j++)
            ;
        plan_part_locals(e, fn, life + i, node + i, name + i, j - i, base);
    }
}

static void init_locals(Emitter *e, Fn fn, int max_slots)
{
    Locals *l = &e->locals[fn];
    l->slots = arena_alloc(e->keep, ((size_t)max_slots + 1) * sizeof *l->slots);
    l->slot_of = arena_alloc(e->keep, (e->g->nnodes + 1) * sizeof *l->slot_of);
    for (size_t i = 0; i < e->g->nnodes; i++)
        l->slot_of[i] = -1;
}

/* The forward pass's local arrays, live from the node that computes each to
 * the last node that reads it: positions are node indices. */
static void plan_forward_locals(Emitter *e)
{
    const Graph *g = e->g;
    long *last = arena_alloc(e->arena, (g->nnodes + 1) * sizeof *last);
    /* In a group every element is read in the same iteration as it is
     * written, but an output's copy comes after the loop: arrays a group
     * touches live to its end. */
    long group_last = -1;
    for (size_t i = 0; i < g->nnodes; i++) {
        if (e->nodes[i].group_end)
            group_last = e->nodes[i].group_end - 1;
        long at = (long)i <= group_last ? group_last : (long)i;
        last[i] = at;
        int reads[3], nreads = e->nodes[i].storage == ST_NONE ? 0 : reads_of(e, (int)i, reads);
        for (int r = 0; r < nreads; r++)
            last[reads[r]] = at;
    }
    Lifetime *life = arena_alloc(e->arena, (g->nnodes + 1) * sizeof *life);
    int *node = arena_alloc(e->arena, (g->nnodes + 1) * sizeof *node);
    const char **name = arena_alloc(e->arena, (g->nnodes + 1) * sizeof *name);
    int n = 0;
    for (size_t i = 0; i < g->nnodes; i++) {
        if (e->nodes[i].storage != ST_LOCAL || is_scalar(g->nodes[i].shape) ||
            e->nodes[i].loop_scalar)
            continue;
        life[n] = (Lifetime){ (long)i, last[i], shape_size(g->nodes[i].shape) };
        node[n] = (int)i;
        name[n++] = e->nodes[i].name;
    }
    init_locals(e, FN_FORWARD, n);
    plan_locals(e, FN_FORWARD, life, node, name, n, 0);
    arena_reset(e->arena);
}

/* The backward pass's local adjoints, live from the step that declares
 * each to the last step that reads it: positions are step indices.  Those
 * that cross parts, scalars too, share the start of the work area; the
 * arrays of each part follow them. */
static void plan_backward_locals(Emitter *e)
{
    const Graph *g = e->g;
    const AdjointProgram *prog = e->prog;
    Lifetime *life = arena_alloc(e->arena, (prog->nsteps + 1) * sizeof *life);
    int *node = arena_alloc(e->arena, (prog->nsteps + 1) * sizeof *node);
    const char **name = arena_alloc(e->arena, (prog->nsteps + 1) * sizeof *name);
    int *slot = arena_alloc(e->arena, (prog->nsteps + 1) * sizeof *slot);
    int ncross = 0, narrays = 0;
    for (size_t s = 0; s < prog->nsteps; s++) {
        const Adjoint *a = &prog->steps[s];
        if (a->first && adj_local(e, a->to) == a->to && adj_crosses(e, a->to))
            life[ncross++] = (Lifetime){ (long)s, e->adj_last[a->to] - 1,
                                         shape_size(g->nodes[a->to].shape) };
    }
    init_locals(e, FN_BACKWARD, (int)prog->nsteps);
    /* The crossing adjoints: every slot in the work area, arrays first,
     * each starting a 64-byte line, then the scalars. */
    Locals *l = &e->locals[FN_BACKWARD];
    int nslots = lifetime_slots(life, ncross, slot, e->arena);
    long *offset = arena_alloc(e->arena, ((size_t)nslots + 1) * sizeof *offset);
    long *size = arena_alloc(e->arena, ((size_t)nslots + 1) * sizeof *size);
    for (int i = 0; i < ncross; i++)
        size[slot[i]] = life[i].size;
    long cross = 0;
    for (int scalars = 0; scalars < 2; scalars++)
        for (int k = 0; k < nslots; k++)
            if ((size[k] == 1) == scalars) {
                offset[k] = cross;
                cross += scalars ? 1 : work_elements(e, size[k]);
            }
    e->adj_at = arena_alloc(e->keep, (g->nnodes + 1) * sizeof *e->adj_at);
    for (size_t i = 0; i < g->nnodes; i++)
        e->adj_at[i] = -1;
    for (int i = 0, c = 0; i < (int)prog->nsteps; i++) {
        const Adjoint *a = &prog->steps[i];
        if (!a->first || adj_local(e, a->to) != a->to)
            continue;
        if (!adj_crosses(e, a->to)) {
            if (!is_scalar(g->nodes[a->to].shape)) {
                life[narrays] = (Lifetime){ i, e->adj_last[a->to] - 1,
                                            shape_size(g->nodes[a->to].shape) };
                node[narrays] = a->to;
                name[narrays++] = e->nodes[a->to].adj_name;
            }
            continue;
        }
        long at = offset[slot[c++]];
        e->adj_at[a->to] = at;
        if (!is_scalar(g->nodes[a->to].shape)) {
            l->slots[l->nslots] = (Slot){ e->nodes[a->to].adj_name,
                                          shape_size(g->nodes[a->to].shape), at };
            l->slot_of[a->to] = l->nslots++;
        }
    }
    l->work_size = cross;
    plan_locals(e, FN_BACKWARD, life, node, name, narrays, cross);
    arena_reset(e->arena);
}

/* Where every local array lives, and the names of the work area. */
static void plan_arrays(Emitter *e)
{
    plan_forward_locals(e);
    plan_backward_locals(e);
    for (int fn = 0; fn < 2; fn++)
        if (e->locals[fn].work_size > e->work_size)
            e->work_size = e->locals[fn].work_size;
    if (e->work_size) {
        e->work = cnames_claim(e->idents, "work");
        e->work_member = cnames_claim(e->members, "work");
    }
}

/* ---- prototypes ---- */

/* DEFINITION adds restrict to pointers: the generated functions assume
 * that no buffer they write overlaps another argument.  The header leaves
 * it out, so that C++ can include it. */
static const char *param_decl(Emitter *e, Shape s, const char *name, bool out,
                              bool definition)
{
    const char *restrict_ = definition ? "restrict " : "";
    if (out)
        return fmt(e, "%s *%s%s", e->real->name, restrict_, name);
    if (is_scalar(s))
        return fmt(e, "%s %s", e->real->name, name);
    return fmt(e, "const %s *%s%s", e->real->name, restrict_, name);
}

static void doc_line(Buf *doc, const char *name, const char *what)
{
    if (doc)
        buf_printf(doc, " *   %-10s %s\n", name, what);
}

/* The prototype of FN, or of its part PART (>= 0) when it is split; DOC,
 * when given, gets the comment naming each argument. */
static void prototype(Emitter *e, Buf *out, Fn fn, int part, Buf *doc, bool definition)
{
    const Graph *g = e->g;
    /* A C compiler would inline a part called once back into one function. */
    if (part >= 0)
        buf_printf(out, "static GRADRT_NOINLINE void %s(", e->part_name[fn][part]);
    else
        buf_printf(out, "%s %s(", fn == FN_GRAD ? e->real->name : "void", fn_name(e, fn));
    buf_printf(out, "%s%s *%s", fn == FN_BACKWARD ? "const " : "", e->tape_type, e->tape);
    doc_line(doc, e->tape, fn == FN_BACKWARD
                                  ? "the tape filled by the forward call"
                                  : "out: filled for the backward pass");
    for (size_t i = 0; i < g->nparams; i++) {
        const Param *p = &g->params[i];
        Shape s = node_shape(e, p->node);
        buf_printf(out, ", %s", param_decl(e, s, e->param_name[i], false, definition));
        doc_line(doc, e->param_name[i],
                 fmt(e, "%s '%s', %s", p->is_input ? "input" : "data", p->name,
                     shape_str(e->arena, s)));
    }
    for (size_t k = 0; fn == FN_FORWARD && k < g->noutputs; k++) {
        Shape s = node_shape(e, g->outputs[k].node);
        buf_printf(out, ", %s", param_decl(e, s, e->output_name[k], true, definition));
        doc_line(doc, e->output_name[k],
                 fmt(e, "out: output '%s', %s", g->outputs[k].name,
                     shape_str(e->arena, s)));
    }
    for (size_t k = 0; fn == FN_BACKWARD && k < g->noutputs; k++) {
        Shape s = node_shape(e, g->outputs[k].node);
        buf_printf(out, ", %s", param_decl(e, s, e->seed_name[k], false, definition));
        doc_line(doc, e->seed_name[k],
                 fmt(e, "weight of output '%s', %s", g->outputs[k].name,
                     shape_str(e->arena, s)));
    }
    for (size_t i = 0; fn != FN_FORWARD && i < g->nparams; i++) {
        const Param *p = &g->params[i];
        if (!p->is_input)
            continue;
        Shape s = node_shape(e, p->node);
        buf_printf(out, ", %s", param_decl(e, s, e->grad_name[i], true, definition));
        doc_line(doc, e->grad_name[i],
                 fmt(e, "out: gradient with respect to '%s', %s", p->name,
                     shape_str(e->arena, s)));
    }
    buf_puts(out, ")");
}

/* ---- function bodies ---- */

static void begin_body(Emitter *e, Buf *body, Fn fn, int part)
{
    e->fn = fn;
    e->part = part;
    e->uses_work = false;
    size_t slots = (size_t)slot_tape(e) + 1;
    e->used = arena_alloc(e->keep, slots * sizeof *e->used);
    /* A statement is quoted in full once per function, not once per part:
     * a statement of 10^6 operators spans 4000 parts. */
    if (part == 0)
        e->quoted = arena_alloc(e->keep, (e->g->nstmts + 1) * sizeof *e->quoted);
    /* One buffer for every part: a body is written out when it ends. */
    body->len = 0;
    e->body = body;
    e->comment_stmt = -1;
}

/* Writes the function, or its part: the prototype, (void) for every
 * parameter the body does not read, the pointer to the work area if the
 * body uses it, then the body. */
static void end_body(Emitter *e, Buf *out, const Buf *body)
{
    const Graph *g = e->g;
    Fn fn = e->fn;
    if (e->uses_work)
        use(e, slot_tape(e));
    prototype(e, out, fn, e->parts[fn].n > 1 ? e->part : -1, NULL, true);
    buf_puts(out, "\n{\n");
    for (size_t i = 0; i < g->nparams; i++)
        if (!e->used[i])
            buf_printf(out, "    (void)%s;\n", e->param_name[i]);
    for (size_t k = 0; fn == FN_FORWARD && k < g->noutputs; k++)
        if (!e->used[slot_output(e, (int)k)])
            buf_printf(out, "    (void)%s;\n", e->output_name[k]);
    for (size_t k = 0; fn == FN_BACKWARD && k < g->noutputs; k++)
        if (!e->used[slot_seed(e, (int)k)])
            buf_printf(out, "    (void)%s;\n", e->seed_name[k]);
    for (size_t i = 0; fn == FN_BACKWARD && i < g->nparams; i++)
        if (g->params[i].is_input && !e->used[slot_grad(e, (int)i)])
            buf_printf(out, "    (void)%s;\n", e->grad_name[i]);
    if (!e->used[slot_tape(e)])
        buf_printf(out, "    (void)%s;\n", e->tape);
    /* The forward values never share the work area, so the backward pass
     * may write it although it reads the tape as const. */
    if (e->uses_work)
        buf_printf(out, "    %s *const %s = %s%s->%s;\n", e->real->name, e->work,
                   fn == FN_BACKWARD ? fmt(e, "(%s *)", e->real->name) : "", e->tape,
                   e->work_member);
    buf_putn(out, body->data, body->len);
    buf_puts(out, "}\n");
}

/* A split function: calls to its parts in turn, after their definitions. */
static void emit_caller(Emitter *e, Buf *out, Fn fn)
{
    const Graph *g = e->g;
    Buf args;
    buf_init(&args, e->arena);
    buf_puts(&args, e->tape);
    for (size_t i = 0; i < g->nparams; i++)
        buf_printf(&args, ", %s", e->param_name[i]);
    for (size_t k = 0; fn == FN_FORWARD && k < g->noutputs; k++)
        buf_printf(&args, ", %s", e->output_name[k]);
    for (size_t k = 0; fn == FN_BACKWARD && k < g->noutputs; k++)
        buf_printf(&args, ", %s", e->seed_name[k]);
    for (size_t i = 0; fn == FN_BACKWARD && i < g->nparams; i++)
        if (g->params[i].is_input)
            buf_printf(&args, ", %s", e->grad_name[i]);
    buf_putc(out, '\n');
    prototype(e, out, fn, -1, NULL, true);
    buf_puts(out, "\n{\n");
    for (int p = 0; p < e->parts[fn].n; p++)
        buf_printf(out, "    %s(%s);\n", e->part_name[fn][p], args.data);
    buf_puts(out, "}\n");
    arena_reset(e->arena);
}

static void emit_line(Emitter *e, const char *text)
{
    put_indent(e->body, 1);
    buf_puts(e->body, text);
    buf_putc(e->body, '\n');
}

/* A pointer to element AT of the work area. */
static const char *work_at(Emitter *e, long at)
{
    e->uses_work = true;
    return at ? fmt(e, "%s + %ld", e->work, at) : e->work;
}

/* Declares NAME, node N's value or adjoint, assigned later: a scalar, or an
 * array in its slot, which the first array in it declares. */
static void declare_local(Emitter *e, int n, const char *name, Shape s)
{
    const Locals *l = &e->locals[e->fn];
    if (is_scalar(s)) {
        emit_line(e, fmt(e, "%s %s;", e->real->name, name));
        return;
    }
    const Slot *slot = &l->slots[l->slot_of[n]];
    if (slot->offset >= 0)
        emit_line(e, fmt(e, "%s *const %s = %s;", e->real->name, name,
                         work_at(e, slot->offset)));
    else if (slot->name == name)
        emit_line(e, fmt(e, "%s %s[%ld];", e->real->name, name, shape_size(s)));
    else
        emit_line(e, fmt(e, "%s *const %s = %s;", e->real->name, name, slot->name));
}

/* ---- elementwise operators ---- */

/* The loops over a frame of shape R for elementwise work: one flat loop
 * when every shape involved is R or a scalar, else rows and columns. */
typedef struct Frame {
    Loop loops[2];
    const char *r, *c;   /* row and column variables, NULL when flat */
    const char *flat;
} Frame;

static Frame frame_for(Emitter *e, Shape R, const Shape *others, int n)
{
    Frame f;
    memset(&f, 0, sizeof f);
    bool flat = true;
    for (int k = 0; k < n; k++)
        flat &= is_scalar(others[k]) || shape_equal(others[k], R);
    if (flat) {
        f.loops[0] = loop(e->var_i, shape_size(R));
        f.loops[1] = loop(NULL, 1);
        f.flat = shape_size(R) > 1 ? e->var_i : "0";
    } else {
        f.loops[0] = loop(e->var_i, rows_of(R));
        f.loops[1] = loop(e->var_j, cols_of(R));
        f.r = f.loops[0].var;
        f.c = f.loops[1].var;
    }
    return f;
}

static const char *frame_at(Emitter *e, const Frame *f, int n)
{
    return f->flat ? f->flat : frame_index(e, n, f->r, f->c);
}

/* Expands TMPL for node N at the frame's current element.  Only the
 * values the template names are referenced, so unread parameters stay
 * unread (and get their (void)). */
static const char *expand_at(Emitter *e, const Frame *f, int n, const char *tmpl)
{
    const Node *node = &e->g->nodes[n];
    unsigned reads = op_template_reads(tmpl);
    const char *a0 = reads & READS_ARG0
                         ? value_at(e, node->args[0], frame_at(e, f, node->args[0])) : "";
    const char *a1 = reads & READS_ARG1
                         ? value_at(e, node->args[1], frame_at(e, f, node->args[1])) : "";
    const char *self = reads & READS_SELF ? value_at(e, n, frame_at(e, f, n)) : "";
    const char *d = reads & READS_DERIV ? deriv_at(e, n, frame_at(e, f, n)) : "";
    const char *g = strstr(tmpl, "%g") ? adj_at(e, n, frame_at(e, f, n)) : "";
    return expand(e, tmpl, a0, a1, self, d, g);
}

static void fwd_product_plus(Emitter *e, int n);

static void fwd_elem(Emitter *e, int n)
{
    const Node *node = &e->g->nodes[n];
    const OpInfo *info = &op_info[node->op];
    if (e->nodes[n].product >= 0) {
        fwd_product_plus(e, n);
        return;
    }
    Shape others[2];
    for (int a = 0; a < info->arity; a++)
        others[a] = node_shape(e, node->args[a]);
    bool deriv = e->prog->tape_deriv[n];
    if (info->array_fwd && !is_scalar(node->shape)) {
        if (e->nodes[n].storage == ST_LOCAL)
            declare_local(e, n, e->nodes[n].name, node->shape);
        if (deriv)
            emit_line(e, fmt(e, "%s(%ld, %s, %s, %s);", call_name(e, info->array_fwd_deriv),
                             shape_size(node->shape), value_ptr(e, node->args[0]),
                             value_ptr(e, n), deriv_base(e, n)));
        else
            emit_line(e, fmt(e, "%s(%ld, %s, %s);", call_name(e, info->array_fwd),
                             shape_size(node->shape),
                             value_ptr(e, node->args[0]), value_ptr(e, n)));
        return;
    }
    Frame f = frame_for(e, node->shape, others, info->arity);
    /* A scalar's value and stored derivative from one call. */
    const char *rhs = deriv ? fmt(e, "%s(%s, &%s)", call_name(e, info->fwd_deriv),
                                  value_at(e, node->args[0], "0"), deriv_at(e, n, "0"))
                            : expand_at(e, &f, n, info->fwd);
    if (is_scalar(node->shape) && e->nodes[n].storage == ST_LOCAL) {
        emit_line(e, fmt(e, "const %s %s = %s;", e->real->name, e->nodes[n].name, rhs));
        return;
    }
    if (e->nodes[n].storage == ST_LOCAL)
        declare_local(e, n, e->nodes[n].name, node->shape);
    emit_elementwise(e, f.loops, 2, fmt(e, "%s = %s;", value_lhs(e, n, frame_at(e, &f, n)), rhs));
}

/* The contribution of node FROM's adjoint through operand ARG, summed over
 * the axes the operand was broadcast along. */
static void adj_elem(Emitter *e, const Adjoint *a)
{
    const Node *node = &e->g->nodes[a->from];
    const OpInfo *info = &op_info[node->op];
    Shape R = node->shape, A = node_shape(e, a->to);
    Shape others[2] = { node_shape(e, node->args[0]), A };
    if (info->arity > 1)
        others[0] = node_shape(e, node->args[1 - a->arg]);
    Frame f = frame_for(e, R, others, 2);
    const char *term = expand_at(e, &f, a->from, info->adj[a->arg]);

    /* Axes the target spans are outer loops; broadcast axes are summed. */
    Loop outer[2], inner[2];
    int nouter = 0, ninner = 0;
    if (f.flat) {
        if (is_scalar(A))
            inner[ninner++] = f.loops[0];
        else
            outer[nouter++] = f.loops[0];
    } else {
        Loop *axis_loop[2] = { &f.loops[0], &f.loops[1] };
        long target_extent[2] = { rows_of(A), cols_of(A) };
        for (int ax = 0; ax < 2; ax++) {
            if (target_extent[ax] > 1 || !axis_loop[ax]->var)
                outer[nouter++] = *axis_loop[ax];
            else
                inner[ninner++] = *axis_loop[ax];
        }
    }
    const char *lhs = adj_lhs(e, a->to, frame_at(e, &f, a->to));
    emit_reduce(e, outer, nouter, inner, ninner, term, lhs, a->first, 1);
}

/* ---- structured operators ----
 * Each writes its result (forward) or one operand's adjoint (backward)
 * with '=' when FIRST, else '+='.  Vectors are [1, n] on the left of '@'
 * and [n, 1] on its right, so one matrix loop nest serves every case. */

/* A structured operator's entry in struct_emitters[], below its emitters:
 * its forward code, one operand's adjoint contribution and, for the row
 * operators, the runtime's forward and backward kernels. */
typedef struct StructEmitter {
    void (*forward)(Emitter *e, int n);
    void (*adjoint)(Emitter *e, const Adjoint *a);
    const char *kernel[2];
} StructEmitter;

static const StructEmitter struct_emitters[OP_COUNT];

/* The index of A[i, k] and of B[k, j] in C = A @ B, where an operand read
 * transposed is stored as [k, m] or [n, k]. */
static const char *matmul_a_index(Emitter *e, const Node *node, Mat d, const char *i,
                                  const char *k)
{
    return node->transposed & 1 ? index2(e, k, i, d.m) : index2(e, i, k, d.k);
}

static const char *matmul_b_index(Emitter *e, const Node *node, Mat d, const char *k,
                                  const char *j)
{
    return node->transposed & 2 ? index2(e, j, k, d.k) : index2(e, k, j, d.n);
}

/* One runtime product, C = op(A) op(B), or C += op(A) op(B) when not
 * FIRST.  Every matrix is row-major with its stored row length as its
 * leading dimension: TRANS_A means A is stored [K, M], TRANS_B that B is
 * stored [N, K]. */
static void emit_gemm(Emitter *e, bool trans_a, bool trans_b, Mat d, const char *a,
                      const char *b, const char *c, bool first)
{
    emit_line(e, fmt(e, "%s(%d, %d, %ld, %ld, %ld, %s, %ld, %s, %ld, %s, %s, %ld);",
                     call_name(e, "gradrt_gemm"), trans_a, trans_b, d.m, d.n, d.k, a,
                     trans_a ? d.m : d.k, b, trans_b ? d.k : d.n,
                     first ? e->real->zero : e->real->one, c, d.n));
}

static void fwd_matmul(Emitter *e, int n)
{
    const Node *node = &e->g->nodes[n];
    Mat d = matmul_dims(e, node);
    if (use_gemm(d)) {
        emit_gemm(e, node->transposed & 1, node->transposed & 2, d,
                  value_ptr(e, node->args[0]), value_ptr(e, node->args[1]), value_ptr(e, n),
                  true);
        return;
    }
    Loop outer[2] = { loop(e->var_i, d.m), loop(e->var_j, d.n) };
    Loop inner[1] = { loop(e->var_k, d.k) };
    const char *i = outer[0].var, *j = outer[1].var, *k = inner[0].var;
    const char *term = fmt(e, "%s * %s",
                           value_at(e, node->args[0], matmul_a_index(e, node, d, i, k)),
                           value_at(e, node->args[1], matmul_b_index(e, node, d, k, j)));
    emit_reduce(e, outer, 2, inner, 1, term, value_lhs(e, n, index2(e, i, j, d.n)),
                true, 1);
}

/* N = P + b where P is a product computed in place (plan_fusion): N
 * filled with b, broadcast, then P added to it. */
static void fwd_product_plus(Emitter *e, int n)
{
    const Node *node = &e->g->nodes[n];
    int p = e->nodes[n].product;
    int b = node->args[node->args[0] == p ? 1 : 0];
    const Node *prod = &e->g->nodes[p];
    Shape bs = node_shape(e, b);
    if (e->nodes[n].storage == ST_LOCAL)
        declare_local(e, n, e->nodes[n].name, node->shape);
    Frame f = frame_for(e, node->shape, &bs, 1);
    emit_elementwise(e, f.loops, 2,
                     fmt(e, "%s = %s;", value_lhs(e, n, frame_at(e, &f, n)),
                         value_at(e, b, frame_at(e, &f, b))));
    emit_gemm(e, prod->transposed & 1, prod->transposed & 2, matmul_dims(e, prod),
              value_ptr(e, prod->args[0]), value_ptr(e, prod->args[1]), value_ptr(e, n),
              false);
}

/* The adjoints as products, with A stored as op(A) or op(A)^T and B alike:
 *   dA = dC op(B)^T, or, stored transposed, dA^T = op(B) dC^T
 *   dB = op(A)^T dC, or, stored transposed, dB^T = dC^T op(A)
 * A dC that is a sum's shared scalar is no matrix: those keep the loops. */
static bool adj_matmul_gemm(Emitter *e, const Adjoint *a, Mat d)
{
    const Node *node = &e->g->nodes[a->from];
    if (!use_gemm(d) || !adj_is_whole(e, a->from))
        return false;
    bool ta = node->transposed & 1, tb = node->transposed & 2;
    const char *dc = adj_ptr(e, a->from), *dst = adj_ptr(e, a->to);
    if (a->arg == 0) {
        const char *b = value_ptr(e, node->args[1]);
        if (ta)
            emit_gemm(e, tb, true, (Mat){ .m = d.k, .n = d.m, .k = d.n }, b, dc, dst,
                      a->first);
        else
            emit_gemm(e, false, !tb, (Mat){ .m = d.m, .n = d.k, .k = d.n }, dc, b, dst,
                      a->first);
    } else {
        const char *A = value_ptr(e, node->args[0]);
        if (tb)
            emit_gemm(e, true, ta, (Mat){ .m = d.n, .n = d.k, .k = d.m }, dc, A, dst,
                      a->first);
        else
            emit_gemm(e, !ta, false, (Mat){ .m = d.k, .n = d.n, .k = d.m }, A, dc, dst,
                      a->first);
    }
    return true;
}

static void adj_matmul(Emitter *e, const Adjoint *a)
{
    const Node *node = &e->g->nodes[a->from];
    Mat d = matmul_dims(e, node);
    if (adj_matmul_gemm(e, a, d))
        return;
    int A = node->args[0], B = node->args[1];
    if (a->arg == 0) {
        /* dA[i, k] = sum_j dC[i, j] B[k, j], written in dA's storage order */
        bool ta = node->transposed & 1;
        Loop li = loop(e->var_i, d.m), lk = loop(e->var_k, d.k);
        Loop outer[2] = { ta ? lk : li, ta ? li : lk };
        Loop inner[1] = { loop(e->var_j, d.n) };
        const char *i = li.var, *k = lk.var, *j = inner[0].var;
        const char *term = fmt(e, "%s * %s", adj_at(e, a->from, index2(e, i, j, d.n)),
                               value_at(e, B, matmul_b_index(e, node, d, k, j)));
        emit_reduce(e, outer, 2, inner, 1, term,
                    adj_lhs(e, a->to, matmul_a_index(e, node, d, i, k)), a->first, 1);
    } else {
        /* dB[k, j] = sum_i A[i, k] dC[i, j], written in dB's storage order */
        bool tb = node->transposed & 2;
        Loop lk = loop(e->var_k, d.k), lj = loop(e->var_j, d.n);
        Loop outer[2] = { tb ? lj : lk, tb ? lk : lj };
        Loop inner[1] = { loop(e->var_i, d.m) };
        const char *k = lk.var, *j = lj.var, *i = inner[0].var;
        const char *term = fmt(e, "%s * %s", value_at(e, A, matmul_a_index(e, node, d, i, k)),
                               adj_at(e, a->from, index2(e, i, j, d.n)));
        emit_reduce(e, outer, 2, inner, 1, term,
                    adj_lhs(e, a->to, matmul_b_index(e, node, d, k, j)), a->first, 1);
    }
}

/* sum and mean: all elements, or axis 0 (columns) or 1 (rows). */
static void fwd_reduce(Emitter *e, int n)
{
    const Node *node = &e->g->nodes[n];
    Shape x = node_shape(e, node->args[0]);
    long rows = rows_of(x), cols = cols_of(x);
    long count = node->axis < 0 ? shape_size(x) : node->axis == 0 ? rows : cols;
    long div = node->op == OP_MEAN ? count : 1;
    if (node->axis < 0) {
        Loop inner[1] = { loop(e->var_i, shape_size(x)) };
        emit_reduce(e, NULL, 0, inner, 1,
                    value_at(e, node->args[0], inner[0].var ? inner[0].var : "0"),
                    value_lhs(e, n, "0"), true, div);
        return;
    }
    Loop r = loop(e->var_i, rows), c = loop(e->var_j, cols);
    Loop outer[1] = { node->axis == 0 ? c : r };
    Loop inner[1] = { node->axis == 0 ? r : c };
    const char *out_idx = outer[0].var ? outer[0].var : "0";
    emit_reduce(e, outer, 1, inner, 1,
                value_at(e, node->args[0], index2(e, r.var, c.var, cols)),
                value_lhs(e, n, out_idx), true, div);
}

static void adj_reduce(Emitter *e, const Adjoint *a)
{
    const Node *node = &e->g->nodes[a->from];
    Shape x = node_shape(e, a->to);
    long rows = rows_of(x), cols = cols_of(x);
    long count = node->axis < 0 ? shape_size(x) : node->axis == 0 ? rows : cols;
    Loop loops[2] = { loop(e->var_i, rows), loop(e->var_j, cols) };
    if (node->axis < 0) {
        loops[0] = loop(e->var_i, shape_size(x));
        loops[1] = loop(NULL, 1);
    }
    const char *r = loops[0].var, *c = loops[1].var;
    const char *g_idx = node->axis < 0 ? "0" : node->axis == 0 ? (c ? c : "0") : (r ? r : "0");
    const char *g = adj_at(e, a->from, g_idx);
    if (node->op == OP_MEAN)
        g = fmt(e, "%s / %ld", g, count);
    const char *idx = node->axis < 0 ? (r ? r : "0") : index2(e, r, c, cols);
    emit_elementwise(e, loops, 2, assign(e, adj_lhs(e, a->to, idx), a->first, g));
}

static void fwd_transpose(Emitter *e, int n)
{
    const Node *node = &e->g->nodes[n];
    Shape x = node_shape(e, node->args[0]);
    Loop loops[2] = { loop(e->var_i, x.dim[0]), loop(e->var_j, x.dim[1]) };
    const char *i = loops[0].var, *j = loops[1].var;
    emit_elementwise(e, loops, 2,
                     fmt(e, "%s = %s;", value_lhs(e, n, index2(e, j, i, x.dim[0])),
                         value_at(e, node->args[0], index2(e, i, j, x.dim[1]))));
}

static void adj_transpose(Emitter *e, const Adjoint *a)
{
    Shape x = node_shape(e, a->to);
    Loop loops[2] = { loop(e->var_i, x.dim[0]), loop(e->var_j, x.dim[1]) };
    const char *i = loops[0].var, *j = loops[1].var;
    emit_elementwise(e, loops, 2,
                     assign(e, adj_lhs(e, a->to, index2(e, i, j, x.dim[1])), a->first,
                            adj_at(e, a->from, index2(e, j, i, x.dim[0]))));
}

static void fwd_outer(Emitter *e, int n)
{
    const Node *node = &e->g->nodes[n];
    long m = node->shape.dim[0], k = node->shape.dim[1];
    Loop loops[2] = { loop(e->var_i, m), loop(e->var_j, k) };
    const char *i = loops[0].var, *j = loops[1].var;
    emit_elementwise(e, loops, 2,
                     fmt(e, "%s = %s * %s;", value_lhs(e, n, index2(e, i, j, k)),
                         value_at(e, node->args[0], i ? i : "0"),
                         value_at(e, node->args[1], j ? j : "0")));
}

static void adj_outer(Emitter *e, const Adjoint *a)
{
    const Node *node = &e->g->nodes[a->from];
    long m = node->shape.dim[0], k = node->shape.dim[1];
    Loop li = loop(e->var_i, m), lj = loop(e->var_j, k);
    Loop outer[1] = { a->arg == 0 ? li : lj };
    Loop inner[1] = { a->arg == 0 ? lj : li };
    const char *i = li.var, *j = lj.var;
    const char *g = adj_at(e, a->from, index2(e, i, j, k));
    const char *other = a->arg == 0 ? value_at(e, node->args[1], j ? j : "0")
                                    : value_at(e, node->args[0], i ? i : "0");
    const char *own = outer[0].var ? outer[0].var : "0";
    emit_reduce(e, outer, 1, inner, 1, fmt(e, "%s * %s", g, other),
                adj_lhs(e, a->to, own), a->first, 1);
}

/* "x + c" or "x - c", or just x when c is 0. */
static const char *plus(Emitter *e, const char *x, long c)
{
    return c > 0 ? fmt(e, "%s + %ld", x, c) : c < 0 ? fmt(e, "%s - %ld", x, -c) : x;
}

/* "a + b - r": where element b of a kernel centred on a reads. */
static const char *shifted(Emitter *e, const char *a, const char *b, long r)
{
    return plus(e, fmt(e, "%s + %s", a, b), -r);
}

/* The rows of a convolution, i in [0, len), each the sum over the kernel
 * of TERM: the interior, where the whole kernel is inside the signal, with
 * the kernel's constant bounds (a loop the C compiler unrolls), and the
 * edges with EDGE_START and EDGE_COND, which skip the padding instead of
 * testing it per term. */
static void emit_conv_rows(Emitter *e, long len, long k, long r, const char *edge_start,
                           const char *edge_cond, const char *term, const char *lhs,
                           bool first)
{
    const char *i = e->var_i, *j = e->var_j;
    Loop inner[1] = { { j, NULL, NULL, k } };
    Loop edge[1] = { { j, edge_start, edge_cond, k } };
    if (r == 0 || len <= 2 * r) {
        Loop all[1] = { { i, NULL, NULL, len } };
        emit_reduce(e, all, 1, r ? edge : inner, 1, term, lhs, first, 1);
        return;
    }
    Loop head[1] = { { i, NULL, fmt(e, "%s < %ld", i, r), len } };
    Loop body[1] = { { i, fmt(e, "%ld", r), fmt(e, "%s < %ld", i, len - r), len } };
    Loop tail[1] = { { i, fmt(e, "%ld", len - r), NULL, len } };
    emit_reduce(e, head, 1, edge, 1, term, lhs, first, 1);
    emit_reduce(e, body, 1, inner, 1, term, lhs, first, 1);
    emit_reduce(e, tail, 1, edge, 1, term, lhs, first, 1);
}

/* y[i] = sum_j x[i + j - r] h[j], r = (k - 1) / 2, zero outside x. */
static void fwd_conv1d(Emitter *e, int n)
{
    const Node *node = &e->g->nodes[n];
    long len = node->shape.dim[0], k = node_shape(e, node->args[1]).dim[0];
    long r = (k - 1) / 2;
    const char *i = e->var_i, *j = e->var_j;
    const char *term = fmt(e, "%s * %s", value_at(e, node->args[0], shifted(e, i, j, r)),
                           value_at(e, node->args[1], j));
    emit_conv_rows(e, len, k, r, r ? fmt(e, "%s < %ld ? %ld - %s : 0", i, r, r, i) : NULL,
                   fmt(e, "%s < %ld && %s < %ld", j, k, shifted(e, i, j, r), len), term,
                   value_lhs(e, n, i), true);
}

static void adj_conv1d(Emitter *e, const Adjoint *a)
{
    const Node *node = &e->g->nodes[a->from];
    long len = node->shape.dim[0], k = node_shape(e, node->args[1]).dim[0];
    long r = (k - 1) / 2;
    const char *i = e->var_i, *j = e->var_j;
    if (a->arg == 0) {
        /* dx[i] = sum_j dy[i - j + r] h[j]: the flipped kernel */
        const char *y = plus(e, fmt(e, "%s - %s", i, j), r);
        long last = len - r - 1;   /* the largest i whose j starts at 0 */
        const char *term = fmt(e, "%s * %s", adj_at(e, a->from, y),
                               value_at(e, node->args[1], j));
        emit_conv_rows(e, len, k, r, fmt(e, "%s > %ld ? %s : 0", i, last, plus(e, i, -last)),
                       fmt(e, "%s < %ld && %s <= %s", j, k, j, plus(e, i, r)), term,
                       adj_lhs(e, a->to, i), a->first);
    } else if (adj_is_whole(e, a->from)) {
        /* dh[j] = sum_i dy[i] x[i + j - r]: k long sums, which the
         * runtime takes in partial sums */
        emit_line(e, fmt(e, "%s(%ld, %ld, %s, %s, %s, %s);", call_name(e, "gradrt_correlate"),
                         len, k, value_ptr(e, node->args[0]), adj_ptr(e, a->from),
                         a->first ? e->real->zero : e->real->one, adj_ptr(e, a->to)));
    } else {
        /* the same, where dy is one number broadcast */
        Loop outer[1] = { { j, NULL, NULL, k } };
        Loop inner[1] = {
            { i, r ? fmt(e, "%s < %ld ? %ld - %s : 0", j, r, r, j) : NULL,
              fmt(e, "%s < %ld && %s < %ld", i, len, shifted(e, i, j, r), len), len } };
        const char *term = fmt(e, "%s * %s", adj_at(e, a->from, i),
                               value_at(e, node->args[0], shifted(e, i, j, r)));
        emit_reduce(e, outer, 1, inner, 1, term, adj_lhs(e, a->to, j), a->first, 1);
    }
}

/* softmax, log_softmax, logsumexp: the runtime's row kernels. */
static void fwd_rows(Emitter *e, int n)
{
    const Node *node = &e->g->nodes[n];
    Shape x = node_shape(e, node->args[0]);
    emit_line(e, fmt(e, "%s(%ld, %ld, %s, %s);",
                     call_name(e, struct_emitters[node->op].kernel[0]), rows_of(x), cols_of(x), value_ptr(e, node->args[0]), value_ptr(e, n)));
}

/* A backward kernel takes the forward value its rule reads, the result or
 * the argument: the one diff() put on the tape. */
static void adj_rows(Emitter *e, const Adjoint *a)
{
    const Node *node = &e->g->nodes[a->from];
    Shape x = node_shape(e, a->to);
    int read = op_adjoint_reads(node->op, 0) & READS_SELF ? a->from : node->args[0];
    emit_line(e, fmt(e, "%s(%ld, %ld, %s, %s, %s, %d);",
                     call_name(e, struct_emitters[node->op].kernel[1]),
                     rows_of(x), cols_of(x), value_ptr(e, read), adj_ptr(e, a->from),
                     adj_ptr(e, a->to), a->first ? 0 : 1));
}

static const StructEmitter struct_emitters[OP_COUNT] = {
    [OP_MATMUL] = { fwd_matmul, adj_matmul, { NULL, NULL } },
    [OP_SUM] = { fwd_reduce, adj_reduce, { NULL, NULL } },
    [OP_MEAN] = { fwd_reduce, adj_reduce, { NULL, NULL } },
    [OP_SOFTMAX] = { fwd_rows, adj_rows, { "gradrt_softmax", "gradrt_softmax_backward" } },
    [OP_LOG_SOFTMAX] = { fwd_rows, adj_rows,
                         { "gradrt_log_softmax", "gradrt_log_softmax_backward_x" } },
    [OP_LOGSUMEXP] = { fwd_rows, adj_rows,
                       { "gradrt_logsumexp", "gradrt_logsumexp_backward" } },
    [OP_TRANSPOSE] = { fwd_transpose, adj_transpose, { NULL, NULL } },
    [OP_OUTER] = { fwd_outer, adj_outer, { NULL, NULL } },
    [OP_CONV1D] = { fwd_conv1d, adj_conv1d, { NULL, NULL } },
};

/* The entry of structured operator OP; every one in ops.def has one. */
static const StructEmitter *struct_emitter(Op op)
{
    if (!struct_emitters[op].forward)
        die("internal error: no entry in struct_emitters[] for '%s'", op_info[op].name);
    return &struct_emitters[op];
}

static void fwd_struct(Emitter *e, int n)
{
    const Node *node = &e->g->nodes[n];
    if (e->nodes[n].storage == ST_LOCAL)
        declare_local(e, n, e->nodes[n].name, node->shape);
    struct_emitter(node->op)->forward(e, n);
}

/* ---- forward ---- */

/* DST[...] = SRC[...] over the whole of a value of shape S. */
static void emit_copy(Emitter *e, const char *dst, bool dst_ptr, int src, Shape s)
{
    if (is_scalar(s)) {
        emit_line(e, fmt(e, "%s%s = %s;", dst_ptr ? "*" : "", dst, value_at(e, src, "0")));
        return;
    }
    Loop l[1] = { loop(e->var_i, shape_size(s)) };
    const char *i = l[0].var ? l[0].var : "0";
    emit_elementwise(e, l, 1, fmt(e, "%s[%s] = %s;", dst, i, value_at(e, src, i)));
}

/* The outputs at node I that are not its storage get a copy of it. */
static void emit_output_copies(Emitter *e, int i, const int *first_output,
                               const int *next_output)
{
    for (int k = first_output[i]; k >= 0; k = next_output[k]) {
        if (e->nodes[i].storage == ST_OUTPUT && e->nodes[i].output == k)
            continue;
        comment_stmt(e, e->g->outputs[k].stmt);
        use(e, slot_output(e, k));
        emit_copy(e, e->output_name[k], true, i, e->g->nodes[i].shape);
    }
}

/* Node I's value, and the copies of it that outputs get. */
static void fwd_node(Emitter *e, int i, const int *first_output, const int *next_output)
{
    const Node *n = &e->g->nodes[i];
    OpKind kind = op_info[n->op].kind;
    if (kind != OPK_LEAF && e->nodes[i].storage != ST_NONE) {
        comment_stmt(e, n->stmt);
        if (kind == OPK_ELEM)
            fwd_elem(e, i);
        else
            fwd_struct(e, i);
    }
    emit_output_copies(e, i, first_output, next_output);
    arena_reset(e->arena);
}

/* The group of nodes FIRST..END-1 (plan_groups) in one loop. */
static void fwd_group(Emitter *e, int first, int end, const int *first_output,
                      const int *next_output)
{
    const Graph *g = e->g;
    const Node *last = &g->nodes[end - 1];
    bool sum = last->op == OP_SUM || last->op == OP_MEAN;
    long size = shape_size(g->nodes[first].shape);
    Frame f = frame_for(e, g->nodes[first].shape, NULL, 0);
    Buf body, loop_body;
    buf_init(&body, e->arena);
    buf_init(&loop_body, e->arena);
    for (int i = first; i < end; i++) {
        const Node *node = &g->nodes[i];
        if (op_info[node->op].kind == OPK_LEAF || e->nodes[i].storage == ST_NONE)
            continue;
        comment_stmt(e, node->stmt);
        if (sum && i == end - 1) {
            if (e->nodes[i].storage == ST_LOCAL)
                declare_local(e, i, e->nodes[i].name, node->shape);
            buf_printf(&loop_body, "%s += %s;\n", e->acc, value_at(e, node->args[0], f.flat));
            continue;
        }
        const char *rhs = expand_at(e, &f, i, op_info[node->op].fwd);
        if (e->nodes[i].loop_scalar) {
            buf_printf(&loop_body, "const %s %s = %s;\n", e->real->name, e->nodes[i].name,
                       rhs);
            continue;
        }
        if (e->nodes[i].storage == ST_LOCAL)
            declare_local(e, i, e->nodes[i].name, node->shape);
        buf_printf(&loop_body, "%s = %s;\n", value_lhs(e, i, f.flat), rhs);
    }
    loop_body.data[--loop_body.len] = '\0';
    if (sum) {
        buf_printf(&body, "%s %s = %s;\n", e->real->name, e->acc, e->real->zero);
        write_nest(&body, 0, f.loops, 1, loop_body.data, false);
        long div = last->op == OP_MEAN ? size : 1;
        buf_printf(&body, "%s = %s;", value_lhs(e, end - 1, "0"),
                   div > 1 ? fmt(e, "%s / %ld", e->acc, div) : e->acc);
        emit_nest(e, NULL, 0, body.data, true);
    } else {
        emit_elementwise(e, f.loops, 1, loop_body.data);
    }
    for (int i = first; i < end; i++)
        emit_output_copies(e, i, first_output, next_output);
    arena_reset(e->arena);
}

static void emit_forward(Emitter *e, Buf *out)
{
    const Graph *g = e->g;
    /* Each node's outputs as a list in declaration order (-1 ends it), so
     * that finding them does not scan every output at every node. */
    int *first_output = arena_alloc(e->keep, (g->nnodes + 1) * sizeof *first_output);
    int *next_output = arena_alloc(e->keep, (g->noutputs + 1) * sizeof *next_output);
    for (size_t i = 0; i < g->nnodes; i++)
        first_output[i] = -1;
    for (size_t k = g->noutputs; k-- > 0;) {
        next_output[k] = first_output[g->outputs[k].node];
        first_output[g->outputs[k].node] = (int)k;
    }
    const Parts *parts = &e->parts[FN_FORWARD];
    Buf body;
    buf_init(&body, e->keep);
    for (int p = 0; p < parts->n; p++) {
        begin_body(e, &body, FN_FORWARD, p);
        for (int i = parts->start[p]; i < parts->start[p + 1]; i++) {
            if (e->nodes[i].group_end) {
                fwd_group(e, i, e->nodes[i].group_end, first_output, next_output);
                i = e->nodes[i].group_end - 1;
            } else {
                fwd_node(e, i, first_output, next_output);
            }
        }
        end_body(e, out, &body);
        if (p + 1 < parts->n)
            buf_putc(out, '\n');
    }
    if (parts->n > 1)
        emit_caller(e, out, FN_FORWARD);
}

/* ---- backward ---- */

/* A scalar contribution that is one expression: declared and assigned in
 * one statement at its first use. */
static bool is_simple(const Emitter *e, const Adjoint *a)
{
    if (a->from < 0)
        return is_scalar(node_shape(e, a->to));
    const Node *from = &e->g->nodes[a->from];
    return op_info[from->op].kind == OPK_ELEM && is_scalar(from->shape);
}

static void emit_seed(Emitter *e, const Adjoint *a)
{
    int k = a->output;
    Shape s = node_shape(e, a->to);
    use(e, slot_seed(e, k));
    Loop l[1] = { loop(e->var_i, shape_size(s)) };
    const char *i = l[0].var ? l[0].var : "0";
    const char *seed = is_scalar(s) ? e->seed_name[k] : fmt(e, "%s[%s]", e->seed_name[k], i);
    emit_elementwise(e, l, 1, assign(e, adj_lhs(e, a->to, i), a->first, seed));
}

static void emit_step(Emitter *e, const Adjoint *a)
{
    const Graph *g = e->g;
    int owner = e->prog->adj_node[a->to];
    const Node *to = &g->nodes[a->to];
    comment_stmt(e, a->from < 0 ? g->outputs[a->output].stmt : g->nodes[a->from].stmt);
    /* A scalar's first contribution in one expression declares it in the
     * same statement: "const double d_b = ...;". */
    e->declare = NULL;
    if (a->first && to->op != OP_INPUT) {
        if (is_simple(e, a))
            e->declare = fmt(e, "%s%s ", e->nodes[a->to].nsteps_to == 1 ? "const " : "",
                             e->real->name);
        else
            declare_local(e, owner, e->nodes[owner].adj_name, to->shape);
    }
    e->step = a->from < 0 ? NULL : a;
    if (a->from < 0)
        emit_seed(e, a);
    else if (op_info[g->nodes[a->from].op].kind == OPK_ELEM)
        adj_elem(e, a);
    else
        struct_emitter(g->nodes[a->from].op)->adjoint(e, a);
    e->step = NULL;
    e->declare = NULL;
}

/* The adjoints that cross into or out of part P of the backward pass
 * (adj_crosses): those it touches, in the order it first does, with
 * WRITTEN[v] == STAMP for those it writes. */
static int crossing_in_part(const Emitter *e, int p, int *list, int *seen, int *written)
{
    const Parts *parts = &e->parts[FN_BACKWARD];
    int n = 0, stamp = p + 1;
    for (int s = parts->start[p]; s < parts->start[p + 1]; s++) {
        const Adjoint *a = &e->prog->steps[s];
        int touched[2] = { adj_local(e, a->to), adj_local(e, a->from) };
        for (int k = 0; k < 2; k++) {
            int v = touched[k];
            if (v < 0 || e->adj_at[v] < 0)
                continue;
            if (seen[v] != stamp) {
                seen[v] = stamp;
                list[n++] = v;
            }
            if (k == 0)
                written[v] = stamp;
        }
    }
    return n;
}

/* Each crossing adjoint an earlier part declared, where part P starts: a
 * local of the same name loaded from the work area, or its array there. */
static void load_crossing(Emitter *e, int p, const int *list, int n, const int *written)
{
    const int *part_of = e->parts[FN_BACKWARD].part_of;
    for (int k = 0; k < n; k++) {
        int v = list[k];
        if (part_of[e->adj_first[v]] == p)
            continue;
        const char *name = e->nodes[v].adj_name;
        if (!is_scalar(e->g->nodes[v].shape))
            emit_line(e, fmt(e, "%s *const %s = %s;", e->real->name, name,
                             work_at(e, e->adj_at[v])));
        else
            emit_line(e, fmt(e, "%s%s %s = %s[%ld];", written[v] == p + 1 ? "" : "const ",
                             e->real->name,
                             name, work_at(e, 0), e->adj_at[v]));
    }
}

/* Where part P ends: each scalar adjoint it wrote that a later part reads,
 * back to the work area. */
static void store_crossing(Emitter *e, int p, const int *list, int n, const int *written)
{
    const int *part_of = e->parts[FN_BACKWARD].part_of;
    for (int k = 0; k < n; k++) {
        int v = list[k];
        if (is_scalar(e->g->nodes[v].shape) && written[v] == p + 1 &&
            part_of[e->adj_last[v] - 1] > p)
            emit_line(e, fmt(e, "%s[%ld] = %s;", work_at(e, 0), e->adj_at[v],
                             e->nodes[v].adj_name));
    }
}

/* An input that reaches no output has a zero gradient. */
static void emit_zero_gradients(Emitter *e)
{
    const Graph *g = e->g;
    for (size_t i = 0; i < g->nparams; i++) {
        const Param *p = &g->params[i];
        if (!p->is_input || e->prog->adj_node[p->node] >= 0)
            continue;
        use(e, slot_grad(e, (int)i));
        Shape s = node_shape(e, p->node);
        if (is_scalar(s)) {
            emit_line(e, fmt(e, "*%s = %s;", e->grad_name[i], e->real->zero));
        } else {
            Loop l[1] = { loop(e->var_i, shape_size(s)) };
            const char *idx = l[0].var ? l[0].var : "0";
            emit_elementwise(e, l, 1,
                             fmt(e, "%s[%s] = %s;", e->grad_name[i], idx, e->real->zero));
        }
    }
}

static void emit_backward(Emitter *e, Buf *out)
{
    const Graph *g = e->g;
    const Parts *parts = &e->parts[FN_BACKWARD];
    int *list = arena_alloc(e->keep, (g->nnodes + 1) * sizeof *list);
    int *seen = arena_alloc(e->keep, (g->nnodes + 1) * sizeof *seen);
    int *written = arena_alloc(e->keep, (g->nnodes + 1) * sizeof *written);
    Buf body;
    buf_init(&body, e->keep);
    for (int p = 0; p < parts->n; p++) {
        begin_body(e, &body, FN_BACKWARD, p);
        int n = crossing_in_part(e, p, list, seen, written);
        load_crossing(e, p, list, n, written);
        for (int s = parts->start[p]; s < parts->start[p + 1]; s++) {
            emit_step(e, &e->prog->steps[s]);
            arena_reset(e->arena);
        }
        if (p + 1 == parts->n)
            emit_zero_gradients(e);
        store_crossing(e, p, list, n, written);
        end_body(e, out, &body);
        if (p + 1 < parts->n)
            buf_putc(out, '\n');
    }
    if (parts->n > 1)
        emit_caller(e, out, FN_BACKWARD);
}

static void emit_grad(Emitter *e, Buf *out)
{
    const Graph *g = e->g;
    const char *result = e->output_name[0];
    prototype(e, out, FN_GRAD, -1, NULL, true);
    buf_printf(out, "\n{\n    %s %s;\n    %s(%s", e->real->name, result,
               fn_name(e, FN_FORWARD), e->tape);
    for (size_t i = 0; i < g->nparams; i++)
        buf_printf(out, ", %s", e->param_name[i]);
    buf_printf(out, ", &%s);\n    %s(%s", result, fn_name(e, FN_BACKWARD), e->tape);
    for (size_t i = 0; i < g->nparams; i++)
        buf_printf(out, ", %s", e->param_name[i]);
    buf_printf(out, ", %s", e->real->one);
    for (size_t i = 0; i < g->nparams; i++)
        if (g->params[i].is_input)
            buf_printf(out, ", %s", e->grad_name[i]);
    buf_printf(out, ");\n    return %s;\n}\n", result);
}

/* ---- the header ---- */

static void tape_member(const Emitter *e, Buf *h, const char *name, Shape s)
{
    if (is_scalar(s))
        buf_printf(h, "    %s %s;", e->real->name, name);
    else
        buf_printf(h, "    %s %s[%ld];", e->real->name, name, shape_size(s));
}

static void emit_tape_struct(Emitter *e, Buf *h)
{
    const Graph *g = e->g;
    buf_printf(h,
               "/* The forward values that %s reads.  Plain data: allocate\n"
               " * one anywhere, fill it with %s and pass it to %s\n"
               " * with the same arguments. */\n"
               "typedef struct %s {\n",
               fn_name(e, FN_BACKWARD), fn_name(e, FN_FORWARD),
               fn_name(e, FN_BACKWARD), e->tape_type);
    bool any = false;
    for (size_t i = 0; i < g->nnodes; i++) {
        const Node *n = &g->nodes[i];
        /* Shortened: a long statement has many temporaries on the tape, and
         * the header must stay linear in the model. */
        if (e->nodes[i].storage == ST_TAPE) {
            tape_member(e, h, e->nodes[i].name, n->shape);
            buf_printf(h, " /* %s */\n", stmt_brief(e, n->stmt));
        }
        if (e->nodes[i].deriv_name) {
            tape_member(e, h, e->nodes[i].deriv_name, n->shape);
            buf_printf(h, " /* %s' at %s */\n", op_info[n->op].name, stmt_brief(e, n->stmt));
        }
        any |= e->nodes[i].storage == ST_TAPE || e->nodes[i].deriv_name;
        arena_reset(e->arena);
    }
    if (e->work_size)
        buf_printf(h, "    %s %s[%ld]; /* scratch: temporaries of both passes */\n",
                   e->real->name, e->work_member, e->work_size);
    else if (!any)
        buf_puts(h, "    char unused; /* the backward pass reads no forward value */\n");
    buf_printf(h, "} %s;\n", e->tape_type);
}

/* Embedded users size their stacks by this; threads that share a tape
 * need to know whether the backward pass writes it. */
static const char *stack_note(Emitter *e, Fn fn)
{
    long bytes = e->locals[fn].stack_bytes;
    const char *stack = bytes ? fmt(e, "  Its local arrays take\n * %ld bytes of stack.",
                                    bytes) : "";
    if (fn == FN_BACKWARD && e->locals[fn].work_size)
        return fmt(e, "%s  It writes the tape's work\n * area: one call at a time per tape.",
                   stack);
    return stack;
}

static void emit_header(Emitter *e, Buf *h)
{
    const Graph *g = e->g;
    char *guard = (char *)fmt(e, "GRADC_%s_H", e->opts->model);
    for (char *c = guard; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    buf_printf(h,
               "/* %s: generated by gradc%s from %s.  Do not edit.\n"
               " *\n"
               " * Tensors are row-major arrays of %ss.  A buffer these functions\n"
               " * write (outputs, gradients) must not overlap any other argument;\n"
               " * the definitions declare their pointers restrict. */\n"
               "#ifndef %s\n#define %s\n\n"
               "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n",
               e->opts->header_name, e->real->option, e->opts->source_name, e->real->name,
               guard, guard);
    emit_tape_struct(e, h);

    Buf doc, proto;
    buf_init(&proto, e->arena);
    buf_init(&doc, e->arena);
    prototype(e, &proto, FN_FORWARD, -1, &doc, false);
    buf_printf(h, "\n/* Evaluates the model.%s\n%s */\n%s;\n",
               stack_note(e, FN_FORWARD), doc.data, proto.data);

    buf_init(&proto, e->arena);
    buf_init(&doc, e->arena);
    prototype(e, &proto, FN_BACKWARD, -1, &doc, false);
    buf_printf(h,
               "\n/* The vector-Jacobian product: overwrites every gradient with\n"
               " * d(sum over outputs of <seed, output>)/d(input), at the point\n"
               " * of the forward call that filled the tape.%s\n%s */\n%s;\n",
               stack_note(e, FN_BACKWARD), doc.data, proto.data);

    if (e->has_grad) {
        buf_init(&proto, e->arena);
        buf_init(&doc, e->arena);
        prototype(e, &proto, FN_GRAD, -1, &doc, false);
        buf_printf(h,
                   "\n/* Runs %s and %s with seed 1; returns\n"
                   " * the output '%s'.\n%s */\n%s;\n",
                   fn_name(e, FN_FORWARD), fn_name(e, FN_BACKWARD),
                   g->outputs[0].name, doc.data, proto.data);
    }
    buf_printf(h, "\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
}

void emit_c(const Graph *graph, const AdjointProgram *prog, const EmitOptions *opts,
            Buf *c_file, Buf *h_file)
{
    Emitter e;
    memset(&e, 0, sizeof e);
    e.g = graph;
    e.prog = prog;
    e.opts = opts;
    e.real = opts->real;
    e.keep = arena_new();
    e.arena = arena_new();
    plan_storage(&e);
    plan_fusion(&e);
    plan_forward_parts(&e);
    plan_backward_parts(&e);
    name_parameters(&e);
    name_values(&e);
    name_parts(&e);
    plan_groups(&e);
    plan_arrays(&e);
    e.has_grad = graph->noutputs == 1 && is_scalar(node_shape(&e, graph->outputs[0].node));

    emit_header(&e, h_file);

    buf_printf(c_file,
               "/* %s: generated by gradc%s from %s.  Do not edit. */\n"
               "#include \"%s\"\n\n#include <gradrt.h>\n\n",
               opts->c_name, e.real->option, opts->source_name, opts->header_name);
    emit_forward(&e, c_file);
    buf_putc(c_file, '\n');
    emit_backward(&e, c_file);
    if (e.has_grad) {
        buf_putc(c_file, '\n');
        emit_grad(&e, c_file);
    }
    arena_free(e.arena);
    arena_free(e.keep);
}
