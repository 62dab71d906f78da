/* check.c: semantic checks.  Resolves every name to the statement defining
 * it, checks calls against the built-ins, validates dimensions and infers
 * every expression's shape.  Expressions are visited in Ast.exprs order,
 * which is post-order, so operands are always checked first. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradc.h"

typedef struct Checker {
    Ast *ast;
    Diag *diag;
    Arena *arena;
    StrMap names;        /* name -> first statement defining it */
    int *uses;           /* per statement: how often its name is read */
    size_t current;      /* the statement being checked */
} Checker;

/* An expression whose shape could not be inferred; it raises no more
 * errors further up. */
static const Shape BAD_SHAPE = { -1, { 0, 0 } };
static const Shape SCALAR = { 0, { 0, 0 } };

static bool bad(Shape s)
{
    return s.rank < 0;
}

static const char *sh(Checker *c, Shape s)
{
    return shape_str(c->arena, s);
}

/* ---- suggestions for misspelt names ---- */

/* Names longer than 32 bytes are never suggested; their length is
 * measured only that far, since a misspelt name is compared with every
 * name defined before it. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strnlen(a, 33), lb = strnlen(b, 33);
    if (la > 32 || lb > 32)
        return (size_t)-1;
    size_t row[33];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            if (up + 1 < best)
                best = up + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* "; did you mean 'x'?" for the closest value (defined before statement
 * LIMIT) or built-in function, or "". */
static const char *suggest(Checker *c, const char *name, bool functions,
                           size_t limit)
{
    const char *best = NULL;
    size_t best_d = strlen(name) < 4 ? 1 : 2;
    if (functions) {
        for (int op = 0; op < OP_COUNT; op++) {
            if (op_lookup_function(op_info[op].name) != op)
                continue;
            size_t d = edit_distance(name, op_info[op].name);
            if (d <= best_d && (!best || d < best_d)) {
                best = op_info[op].name;
                best_d = d;
            }
        }
    } else {
        for (size_t i = 0; i < limit; i++) {
            size_t d = edit_distance(name, c->ast->stmts[i].name);
            if (d <= best_d && (!best || d < best_d)) {
                best = c->ast->stmts[i].name;
                best_d = d;
            }
        }
    }
    return best ? arena_printf(c->arena, "; did you mean '%s'?", best) : "";
}

/* ---- declarations ---- */

static const char *const kind_word[] = {
    [STMT_INPUT] = "an input", [STMT_DATA] = "data",
    [STMT_DEF] = "a value", [STMT_OUTPUT] = "an output",
};

static void declare(Checker *c, size_t i)
{
    Stmt *s = &c->ast->stmts[i];
    if (op_lookup_function(s->name) >= 0) {
        diag_error(c->diag, s->name_span,
                   "'%s' is a built-in function and cannot name a value",
                   s->name);
        return;
    }
    int *prev = strmap_find(&c->names, s->name);
    if (!prev) {
        strmap_put(&c->names, s->name, (int)i);
        return;
    }
    const Stmt *p = &c->ast->stmts[*prev];
    bool assigns = s->kind == STMT_DEF || s->kind == STMT_OUTPUT;
    if (assigns && (p->kind == STMT_INPUT || p->kind == STMT_DATA)) {
        diag_error(c->diag, s->name_span, "cannot assign to %s '%s'",
                   p->kind == STMT_INPUT ? "input" : "data", s->name);
        diag_note(c->diag, p->name_span, "'%s' is declared as %s here",
                  s->name, kind_word[p->kind]);
    } else {
        diag_error(c->diag, s->name_span, "redefinition of '%s'", s->name);
        diag_note(c->diag, p->name_span, "'%s' was first defined here",
                  s->name);
    }
}

static Shape check_dims(Checker *c, const Stmt *s)
{
    Shape shape = SCALAR;
    if (s->ndims > GRADC_MAX_RANK) {
        diag_error(c->diag, s->dims[GRADC_MAX_RANK].span,
                   "'%s' has %d dimensions; at most %d are supported "
                   "(a vector [n] or a matrix [m, n])",
                   s->name, s->ndims, GRADC_MAX_RANK);
        return BAD_SHAPE;
    }
    unsigned long long size = 1;
    for (int d = 0; d < s->ndims; d++) {
        const char *text = s->dims[d].text;
        Span at = s->dims[d].span;
        if (strspn(text, "0123456789") != strlen(text)) {
            diag_error(c->diag, at,
                       "a dimension must be a positive integer, not '%s'", text);
            return BAD_SHAPE;
        }
        while (*text == '0' && text[1])
            text++;
        if (strlen(text) > 10 ||
            strtoull(text, NULL, 10) > (unsigned long long)GRADC_MAX_ELEMENTS) {
            diag_error(c->diag, at,
                       "dimension %s is too large; at most %ld is supported",
                       text, GRADC_MAX_ELEMENTS);
            return BAD_SHAPE;
        }
        unsigned long long n = strtoull(text, NULL, 10);
        if (n == 0) {
            diag_error(c->diag, at, "a dimension must be positive, not 0");
            return BAD_SHAPE;
        }
        size *= n;
        shape.dim[d] = (long)n;
    }
    if (size > GRADC_MAX_ELEMENTS) {
        Span at = { s->dims[0].span.off, s->dims[s->ndims - 1].span.end };
        diag_error(c->diag, at,
                   "'%s' has %llu elements; at most %ld are supported",
                   s->name, size, GRADC_MAX_ELEMENTS);
        return BAD_SHAPE;
    }
    shape.rank = s->ndims;
    return shape;
}

/* ---- shape rules ---- */

static Shape broadcast(Checker *c, const Expr *e, Shape a, Shape b)
{
    Shape r = a.rank >= b.rank ? a : b;
    for (int i = 1; i <= r.rank; i++) {
        long da = i <= a.rank ? a.dim[a.rank - i] : 1;
        long db = i <= b.rank ? b.dim[b.rank - i] : 1;
        if (da != db && da != 1 && db != 1) {
            diag_error(c->diag, e->op_span,
                       "shapes %s and %s do not broadcast for '%s' "
                       "(dimension %ld against %ld)",
                       sh(c, a), sh(c, b), op_info[e->op].name, da, db);
            return BAD_SHAPE;
        }
        r.dim[r.rank - i] = da > db ? da : db;
    }
    return r;
}

static Shape matmul(Checker *c, const Expr *e, Shape a, Shape b)
{
    if (a.rank == 0 || b.rank == 0) {
        diag_error(c->diag, e->op_span,
                   "'@' multiplies vectors and matrices, not %s @ %s; "
                   "use '*' for a scalar", sh(c, a), sh(c, b));
        return BAD_SHAPE;
    }
    long ka = a.dim[a.rank - 1], kb = b.dim[0];
    if (ka != kb) {
        diag_error(c->diag, e->op_span,
                   "matrix product %s @ %s: inner dimensions %ld and %ld differ",
                   sh(c, a), sh(c, b), ka, kb);
        return BAD_SHAPE;
    }
    Shape r = SCALAR;
    if (a.rank == 2)
        r.dim[r.rank++] = a.dim[0];
    if (b.rank == 2)
        r.dim[r.rank++] = b.dim[1];
    return r;
}

static Shape needs_rank(Checker *c, const Expr *e, Shape a, int lo, int hi,
                        const char *what)
{
    if (a.rank < lo || a.rank > hi) {
        diag_error(c->diag, e->op_span, "%s() needs %s, got %s", e->name,
                   what, a.rank == 0 ? "a scalar" : sh(c, a));
        return BAD_SHAPE;
    }
    return a;
}

/* The shape of operator E's result, by the rule its table entry names;
 * its operands' shapes are known and good. */
static Shape op_shape(Checker *c, Expr *e)
{
    const OpInfo *info = &op_info[e->op];
    Shape a = e->args[0]->shape;
    Shape b = info->arity > 1 ? e->args[1]->shape : SCALAR;
    Shape r;
    switch (info->shape) {
    case SHAPE_SAME:
        return a;
    case SHAPE_BROADCAST:
        return broadcast(c, e, a, b);
    case SHAPE_REDUCE:
        if (e->axis < 0)
            return SCALAR;
        if (a.rank != 2) {
            diag_error(c->diag, e->args[1]->span,
                       "%s() takes an axis only for a matrix; %s is %s",
                       e->name, "its argument", a.rank == 0 ? "a scalar" : sh(c, a));
            return BAD_SHAPE;
        }
        r = SCALAR;
        r.rank = 1;
        r.dim[0] = a.dim[1 - e->axis];
        return r;
    case SHAPE_ROWS:
        return needs_rank(c, e, a, 1, 2, "a vector or a matrix");
    case SHAPE_ROWREDUCE:
        if (bad(needs_rank(c, e, a, 1, 2, "a vector or a matrix")))
            return BAD_SHAPE;
        a.rank--;
        return a;
    case SHAPE_TRANSPOSE:
        if (bad(needs_rank(c, e, a, 2, 2, "a matrix")))
            return BAD_SHAPE;
        r = a;
        r.dim[0] = a.dim[1];
        r.dim[1] = a.dim[0];
        return r;
    case SHAPE_OUTER:
        if (a.rank != 1 || b.rank != 1) {
            diag_error(c->diag, e->op_span, "outer() needs two vectors, got %s and %s",
                       sh(c, a), sh(c, b));
            return BAD_SHAPE;
        }
        r = a;
        r.rank = 2;
        r.dim[1] = b.dim[0];
        return r;
    case SHAPE_CONV1D:
        if (a.rank != 1 || b.rank != 1) {
            diag_error(c->diag, e->op_span,
                       "conv1d() needs a vector and a kernel vector, got %s and %s",
                       sh(c, a), sh(c, b));
            return BAD_SHAPE;
        }
        if (b.dim[0] % 2 == 0) {
            diag_error(c->diag, e->args[1]->span,
                       "conv1d() needs a kernel of odd length, got %s", sh(c, b));
            return BAD_SHAPE;
        }
        return a;
    case SHAPE_MATMUL:
        return matmul(c, e, a, b);
    }
    UNREACHABLE();
}

/* ---- expressions ---- */

static Shape check_name(Checker *c, Expr *e)
{
    int *def = strmap_find(&c->names, e->name);
    if (!def) {
        if (op_lookup_function(e->name) >= 0)
            diag_error(c->diag, e->span,
                       "'%s' is a built-in function; call it as %s(...)",
                       e->name, e->name);
        else
            diag_error(c->diag, e->span, "unknown name '%s'%s", e->name,
                       suggest(c, e->name, false, c->current));
        return BAD_SHAPE;
    }
    const Stmt *s = &c->ast->stmts[*def];
    if ((size_t)*def == c->current) {
        diag_error(c->diag, e->span, "'%s' is used in its own definition",
                   e->name);
        return BAD_SHAPE;
    }
    if ((size_t)*def > c->current) {
        diag_error(c->diag, e->span, "'%s' is used before its definition",
                   e->name);
        diag_note(c->diag, s->name_span, "'%s' is defined here", e->name);
        return BAD_SHAPE;
    }
    e->def = *def;
    c->uses[*def]++;
    return s->shape;
}

/* A literal's value is 0 exactly when every digit of its mantissa is 0,
 * whatever its exponent says: 0e5 and 0.0e999 are 0, not too small. */
static bool literal_is_zero(const char *text)
{
    for (const char *s = text; *s && *s != 'e' && *s != 'E'; s++)
        if (*s >= '1' && *s <= '9')
            return false;
    return true;
}

static Shape check_number(Checker *c, Expr *e)
{
    if (isinf(e->num)) {
        diag_error(c->diag, e->span, "number '%s' is too large for a double",
                   e->name);
        return BAD_SHAPE;
    }
    if (e->num == 0 && !literal_is_zero(e->name))
        diag_warning(c->diag, e->span,
                     "number '%s' is too small for a double and becomes 0",
                     e->name);
    return SCALAR;
}

static Shape check_call(Checker *c, Expr *e)
{
    int op = op_lookup_function(e->name);
    if (op < 0) {
        if (strmap_find(&c->names, e->name))
            diag_error(c->diag, e->op_span, "'%s' is a value, not a function",
                       e->name);
        else
            diag_error(c->diag, e->op_span, "unknown function '%s'%s",
                       e->name, suggest(c, e->name, true, 0));
        return BAD_SHAPE;
    }
    e->op = (Op)op;
    const OpInfo *info = &op_info[op];
    bool takes_axis = info->shape == SHAPE_REDUCE;
    if (e->nargs != info->arity && !(takes_axis && e->nargs == 2)) {
        if (takes_axis)
            diag_error(c->diag, e->op_span,
                       "%s() takes 1 or 2 arguments (a value and an axis), got %d",
                       e->name, e->nargs);
        else
            diag_error(c->diag, e->op_span, "%s() takes %d argument%s, got %d",
                       e->name, info->arity, info->arity == 1 ? "" : "s",
                       e->nargs);
        return BAD_SHAPE;
    }
    if (takes_axis && e->nargs == 2) {
        const Expr *axis = e->args[1];
        Shape value = e->args[0]->shape;
        if (axis->kind != EXPR_NUM || (axis->num != 0 && axis->num != 1)) {
            if (axis->kind == EXPR_NUM && !bad(value))
                diag_error(c->diag, axis->span,
                           "%s() of %s has no axis %g; the axis must be 0 or 1",
                           e->name, sh(c, value), axis->num);
            else
                diag_error(c->diag, axis->span,
                           "the axis of %s() must be the number 0 or 1", e->name);
            return BAD_SHAPE;
        }
        e->axis = (int)axis->num;
    }
    for (int i = 0; i < info->arity; i++)
        if (bad(e->args[i]->shape))
            return BAD_SHAPE;
    return op_shape(c, e);
}

static Shape check_expr(Checker *c, Expr *e)
{
    switch (e->kind) {
    case EXPR_NUM:
        return check_number(c, e);
    case EXPR_NAME:
        return check_name(c, e);
    case EXPR_UNARY:
    case EXPR_BINARY:
        for (int i = 0; i < e->nargs; i++)
            if (bad(e->args[i]->shape))
                return BAD_SHAPE;
        return op_shape(c, e);
    case EXPR_CALL:
        return check_call(c, e);
    }
    UNREACHABLE();
}

/* Broadcasting, '@' and outer() can build a value larger than any
 * declared one; the generated loops index with int. */
static Shape check_size(Checker *c, const Expr *e, Shape s)
{
    if (bad(s))
        return s;
    unsigned long long n = 1;
    for (int i = 0; i < s.rank; i++)
        n *= (unsigned long long)s.dim[i];
    if (n <= (unsigned long long)GRADC_MAX_ELEMENTS)
        return s;
    diag_error(c->diag, e->op_span,
               "the result of '%s' is %s, %llu elements; at most %ld are supported",
               e->kind == EXPR_CALL ? e->name : op_info[e->op].name, sh(c, s), n,
               GRADC_MAX_ELEMENTS);
    return BAD_SHAPE;
}

int check(Ast *ast, Diag *diag, Arena *arena)
{
    Checker c = { 0 };
    c.ast = ast;
    c.diag = diag;
    c.arena = arena;
    strmap_init(&c.names, arena);
    c.uses = arena_alloc(arena, (ast->nstmts + 1) * sizeof *c.uses);

    bool has_output = false;
    for (size_t i = 0; i < ast->nstmts && !diag_too_many(diag); i++) {
        Stmt *s = &ast->stmts[i];
        declare(&c, i);
        has_output |= s->kind == STMT_OUTPUT;
        s->shape = s->kind == STMT_INPUT || s->kind == STMT_DATA
                       ? check_dims(&c, s) : BAD_SHAPE;
    }

    /* A statement's expressions are the run of Ast.exprs that ends at its
     * root; they are checked in that (post-)order. */
    size_t next = 0;
    for (size_t i = 0; i < ast->nstmts && !diag_too_many(diag); i++) {
        Stmt *s = &ast->stmts[i];
        if (!s->expr)
            continue;
        c.current = i;
        for (; next <= (size_t)s->expr->id && !diag_too_many(diag); next++) {
            Expr *e = ast->exprs[next];
            e->shape = check_size(&c, e, check_expr(&c, e));
        }
        s->shape = s->expr->shape;
    }

    if (!has_output && diag->errors == 0)
        diag_error(diag, (Span){ 0, 0 },
                   "the model has no output; declare one with "
                   "'output NAME = expression'");
    for (size_t i = 0; i < ast->nstmts && diag->errors == 0; i++) {
        const Stmt *s = &ast->stmts[i];
        if (s->kind == STMT_DEF && c.uses[i] == 0)
            diag_warning(diag, s->name_span, "'%s' is defined but never used",
                         s->name);
    }
    return diag->errors;
}
