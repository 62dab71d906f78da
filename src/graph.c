/* graph.c: the computational graph, a DAG of Nodes in topological order.
 * Nodes are hash-consed on (op, axis, transposition, constant, operands):
 * an expression that appears twice is one node with two consumers.  Two
 * kinds of rewrite are applied: folds and identities that are exact for
 * every double, NaN and infinities included (x*1, -(-x), x^2 as x*x, a
 * transpose read by '@'), and stable_log(), which replaces the logarithm
 * of a function that underflows by a form that does not: a different
 * result, closer to the exact one. */
#include <math.h>
#include <string.h>

#include "gradc.h"

void graph_init(Graph *g, Arena *arena)
{
    memset(g, 0, sizeof *g);
    g->arena = arena;
    g->table_cap = 1024;
    g->table = arena_alloc(arena, g->table_cap * sizeof *g->table);
}

static bool commutes(Op op)
{
    return op_info[op].flags & OPF_COMMUTES;
}

static uint64_t double_bits(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits;
}

static uint32_t node_hash(const Node *n)
{
    int a0 = n->args[0], a1 = n->args[1];
    if (commutes(n->op) && a1 < a0) {
        a0 = n->args[1];
        a1 = n->args[0];
    }
    uint64_t h = (uint64_t)n->op * 0x9E3779B97F4A7C15u;
    h ^= double_bits(n->value) + 0x9E3779B97F4A7C15u + (h << 6) + (h >> 2);
    h ^= (uint64_t)(unsigned)a0 * 0xC2B2AE3D27D4EB4Fu + (h << 6) + (h >> 2);
    h ^= (uint64_t)(unsigned)a1 * 0x165667B19E3779F9u + (h << 6) + (h >> 2);
    h ^= (uint64_t)(unsigned)(n->axis + 1) * 0x27D4EB2F165667C5u;
    h ^= (uint64_t)n->transposed * 0x94D049BB133111EBu;
    /* The table indexes with the low bits: mix the high ones down. */
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9u;
    return (uint32_t)(h ^ (h >> 32));
}

static bool node_same(const Node *a, const Node *b)
{
    if (a->op != b->op || a->axis != b->axis || a->transposed != b->transposed ||
        double_bits(a->value) != double_bits(b->value))
        return false;
    if (a->args[0] == b->args[0] && a->args[1] == b->args[1])
        return true;
    return commutes(a->op) && a->args[0] == b->args[1] &&
           a->args[1] == b->args[0];
}

static void table_grow(Graph *g)
{
    size_t cap = g->table_cap * 2;
    struct GraphSlot *table = arena_alloc(g->arena, cap * sizeof *table);
    for (size_t i = 0; i < g->table_cap; i++) {
        if (!g->table[i].id)
            continue;
        size_t j = g->table[i].hash & (cap - 1);
        while (table[j].id)
            j = (j + 1) & (cap - 1);
        table[j] = g->table[i];
    }
    arena_drop(g->arena, g->table, g->table_cap * sizeof *g->table);
    g->table = table;
    g->table_cap = cap;
}

static int append(Graph *g, const Node *n)
{
    if ((size_t)g->nnodes >= (size_t)GRADC_MAX_ELEMENTS)
        die("error: the model is too large");
    VEC_PUSH(g->arena, g->nodes, g->nnodes, g->cap_nodes, *n);
    return (int)g->nnodes - 1;
}

/* The existing node equal to N, or a new one. */
static int intern(Graph *g, const Node *n)
{
    /* Filled up to 3/4: the hashes in the slots keep probes cheap. */
    if ((g->table_used + 1) * 4 > g->table_cap * 3)
        table_grow(g);
    uint32_t hash = node_hash(n);
    size_t i = hash & (g->table_cap - 1);
    for (; g->table[i].id; i = (i + 1) & (g->table_cap - 1))
        if (g->table[i].hash == hash && node_same(&g->nodes[g->table[i].id - 1], n))
            return g->table[i].id - 1;
    int id = append(g, n);
    g->table[i].id = id + 1;
    g->table[i].hash = hash;
    g->table_used++;
    return id;
}

static Node new_node(Op op, Shape shape, int stmt)
{
    Node n;
    memset(&n, 0, sizeof n);
    n.op = op;
    n.args[0] = n.args[1] = -1;
    n.param = -1;
    n.axis = -1;
    n.shape = shape;
    n.stmt = stmt;
    return n;
}

int graph_add_const(Graph *g, double value)
{
    Node n = new_node(OP_CONST, (Shape){ 0, { 0, 0 } }, -1);
    n.value = value;
    return intern(g, &n);
}

int graph_add_param(Graph *g, const char *name, Shape shape, bool is_input,
                    int stmt)
{
    Node n = new_node(is_input ? OP_INPUT : OP_DATA, shape, stmt);
    n.name = name;
    n.param = (int)g->nparams;
    int id = append(g, &n);
    Param p = { name, id, is_input, stmt };
    VEC_PUSH(g->arena, g->params, g->nparams, g->cap_params, p);
    return id;
}

/* Bit for bit: x - 0 is x, but x - (-0) is not when x is -0. */
static bool is_const(const Graph *g, int id, double value)
{
    return g->nodes[id].op == OP_CONST &&
           double_bits(g->nodes[id].value) == double_bits(value);
}

/* The operators whose result IEEE arithmetic defines exactly (correctly
 * rounded, or exact), so that a folded constant is what the generated
 * code computes on any machine; each as its ops.def forward template
 * computes it.  exp, sin, pow and the like are left alone: libraries round
 * them differently. */
static double fold_neg(double a, double b) { (void)b; return -a; }
static double fold_add(double a, double b) { return a + b; }
static double fold_sub(double a, double b) { return a - b; }
static double fold_mul(double a, double b) { return a * b; }
static double fold_div(double a, double b) { return a / b; }
static double fold_square(double a, double b) { (void)b; return a * a; }
static double fold_recip(double a, double b) { (void)b; return 1.0 / a; }
static double fold_sqrt(double a, double b) { (void)b; return sqrt(a); }
static double fold_abs(double a, double b) { (void)b; return fabs(a); }
static double fold_relu(double a, double b) { (void)b; return a < 0 ? 0.0 : a; }
static double fold_max(double a, double b) { return a >= b || isnan(a) ? a : b; }
static double fold_min(double a, double b) { return a <= b || isnan(a) ? a : b; }

static double (*const folds[OP_COUNT])(double, double) = {
    [OP_NEG] = fold_neg, [OP_ADD] = fold_add, [OP_SUB] = fold_sub,
    [OP_MUL] = fold_mul, [OP_DIV] = fold_div, [OP_SQUARE] = fold_square,
    [OP_RECIP] = fold_recip,
    [OP_SQRT] = fold_sqrt, [OP_ABS] = fold_abs, [OP_RELU] = fold_relu,
    [OP_MAX] = fold_max, [OP_MIN] = fold_min,
};

static bool fold(const Graph *g, Op op, const int *args, double *out)
{
    int arity = op_info[op].arity;
    if (!folds[op])
        return false;
    for (int i = 0; i < arity; i++)
        if (g->nodes[args[i]].op != OP_CONST)
            return false;
    *out = folds[op](g->nodes[args[0]].value, arity > 1 ? g->nodes[args[1]].value : 0);
    return isfinite(*out);
}

static int unary(Graph *g, Op op, int arg, Shape shape, int stmt)
{
    int args[2] = { arg, -1 };
    return graph_add_op(g, op, args, -1, shape, stmt);
}

/* Logarithms of functions that underflow, rewritten to forms that do not:
 * log(sigmoid(x)) = -softplus(-x), log(1 - sigmoid(x)) = -softplus(x),
 * log(softmax(x)) = log_softmax(x) and log(sum(exp(v))) = logsumexp(v)
 * (likewise the row sums of a matrix).  The naive forms give -inf once
 * sigmoid or exp underflows (x < -745); these stay finite and exact to
 * rounding, and so do their derivatives.  Returns -1 when none applies. */
static int stable_log(Graph *g, Op op, const int *args, Shape shape, int stmt)
{
    if (op != OP_LOG)
        return -1;
    /* Copies: adding nodes may move g->nodes. */
    const Node a = g->nodes[args[0]];
    const Node inner = g->nodes[a.args[a.op == OP_SUB ? 1 : 0] < 0 ? args[0]
                                 : a.args[a.op == OP_SUB ? 1 : 0]];
    if (a.op == OP_SIGMOID) {
        int neg = unary(g, OP_NEG, a.args[0], shape, stmt);
        return unary(g, OP_NEG, unary(g, OP_SOFTPLUS, neg, shape, stmt), shape, stmt);
    }
    if (a.op == OP_SUB && is_const(g, a.args[0], 1) && inner.op == OP_SIGMOID &&
        shape_equal(a.shape, shape)) {
        int sp = unary(g, OP_SOFTPLUS, inner.args[0], shape, stmt);
        return unary(g, OP_NEG, sp, shape, stmt);
    }
    if (a.op == OP_SOFTMAX)
        return unary(g, OP_LOG_SOFTMAX, a.args[0], shape, stmt);
    if (a.op == OP_SUM && inner.op == OP_EXP) {
        bool rows = (inner.shape.rank == 1 && a.axis < 0) ||
                    (inner.shape.rank == 2 && a.axis == 1);
        if (rows)
            return unary(g, OP_LOGSUMEXP, inner.args[0], shape, stmt);
    }
    return -1;
}

int graph_add_op(Graph *g, Op op, const int *args, int axis, Shape shape,
                 int stmt)
{
    double folded;
    int unary_args[2] = { -1, -1 };
    /* x^2 and 1/x, as operators of their own. */
    if (op == OP_POW && is_const(g, args[1], 2)) {
        op = OP_SQUARE;
        unary_args[0] = args[0];
        args = unary_args;
    } else if (op == OP_DIV && is_const(g, args[0], 1) &&
               shape_equal(g->nodes[args[1]].shape, shape)) {
        op = OP_RECIP;
        unary_args[0] = args[1];
        args = unary_args;
    }
    if (fold(g, op, args, &folded))
        return graph_add_const(g, folded);
    /* Identities that hold bit for bit (x*1, 1*x, x/1, x-0, x^1, -(-x),
     * transpose(transpose(A))), where the result keeps the operand's shape. */
    unsigned flags = op_info[op].flags;
    Shape s0 = g->nodes[args[0]].shape;
    for (int unit = 0; unit < 2; unit++) {
        if (!(flags & (unit ? OPF_UNIT_ONE : OPF_UNIT_ZERO)))
            continue;
        if (is_const(g, args[1], unit) && shape_equal(s0, shape))
            return args[0];
        if ((flags & OPF_COMMUTES) && is_const(g, args[0], unit) &&
            shape_equal(g->nodes[args[1]].shape, shape))
            return args[1];
    }
    if ((flags & OPF_INVOLUTION) && g->nodes[args[0]].op == op)
        return g->nodes[args[0]].args[0];
    /* The sum or mean of a scalar is the scalar. */
    if (op_info[op].shape == SHAPE_REDUCE && s0.rank == 0)
        return args[0];
    int stable = stable_log(g, op, args, shape, stmt);
    if (stable >= 0)
        return stable;

    Node n = new_node(op, shape, stmt);
    n.axis = axis;
    for (int i = 0; i < op_info[op].arity; i++)
        n.args[i] = args[i];
    /* A @ transpose(B) reads B with its indices swapped: the transpose is
     * neither computed nor stored, and B's adjoint is written directly. */
    if (op == OP_MATMUL)
        for (int i = 0; i < 2; i++)
            if (g->nodes[args[i]].op == OP_TRANSPOSE) {
                n.args[i] = g->nodes[args[i]].args[0];
                n.transposed |= 1u << i;
            }
    return intern(g, &n);
}

static int build_expr(Graph *g, const Ast *ast, const int *stmt_node,
                      const int *expr_node, const Expr *e, int stmt)
{
    int args[2] = { -1, -1 };
    switch (e->kind) {
    case EXPR_NUM:
        return graph_add_const(g, e->num);
    case EXPR_NAME:
        return stmt_node[e->def];
    case EXPR_UNARY:
    case EXPR_BINARY:
    case EXPR_CALL:
        for (int i = 0; i < op_info[e->op].arity; i++)
            args[i] = expr_node[e->args[i]->id];
        return graph_add_op(g, e->op, args, e->axis, e->shape, stmt);
    }
    (void)ast;
    UNREACHABLE();
}

static void mark_reach(Graph *g)
{
    for (size_t i = 0; i < g->nnodes; i++) {
        Node *n = &g->nodes[i];
        if (n->op == OP_INPUT)
            n->flags |= NODE_VARIED;
        for (int a = 0; a < op_info[n->op].arity; a++)
            if (g->nodes[n->args[a]].flags & NODE_VARIED)
                n->flags |= NODE_VARIED;
    }
    for (size_t i = 0; i < g->noutputs; i++)
        g->nodes[g->outputs[i].node].flags |= NODE_USEFUL;
    for (size_t i = g->nnodes; i-- > 0;) {
        Node *n = &g->nodes[i];
        if (!(n->flags & NODE_USEFUL))
            continue;
        for (int a = 0; a < op_info[n->op].arity; a++)
            g->nodes[n->args[a]].flags |= NODE_USEFUL;
    }
}

int graph_build(Graph *g, const Ast *ast, Diag *diag)
{
    int *stmt_node = arena_alloc(g->arena, (ast->nstmts + 1) * sizeof *stmt_node);
    int *expr_node = arena_alloc(g->arena, (ast->nexprs + 1) * sizeof *expr_node);
    g->stmts = arena_alloc(g->arena, (ast->nstmts + 1) * sizeof *g->stmts);
    g->nstmts = ast->nstmts;
    size_t next = 0;
    for (size_t i = 0; i < ast->nstmts; i++) {
        const Stmt *s = &ast->stmts[i];
        SourceStmt *text = &g->stmts[i];
        size_t col;
        text->text = diag->src->text + s->span.off;
        text->len = s->span.end - s->span.off;
        source_locate(diag->src, s->span.off, &text->line, &col);
        /* The graph outlives the Ast (compile.c frees it). */
        const char *name = arena_strdup(g->arena, s->name);
        if (s->kind == STMT_INPUT || s->kind == STMT_DATA) {
            stmt_node[i] = graph_add_param(g, name, s->shape,
                                           s->kind == STMT_INPUT, (int)i);
            continue;
        }
        for (; next <= (size_t)s->expr->id; next++) {
            const Expr *e = ast->exprs[next];
            expr_node[next] = build_expr(g, ast, stmt_node, expr_node, e, (int)i);
        }
        int id = expr_node[s->expr->id];
        stmt_node[i] = id;
        if (!g->nodes[id].name)
            g->nodes[id].name = name;
        if (s->kind == STMT_OUTPUT) {
            Output out = { name, id, (int)i };
            VEC_PUSH(g->arena, g->outputs, g->noutputs, g->cap_outputs, out);
            g->nodes[id].flags |= NODE_OUTPUT;
        }
    }
    /* Scratch, as big as the model: not kept through emission. */
    arena_drop(g->arena, expr_node, (ast->nexprs + 1) * sizeof *expr_node);
    arena_drop(g->arena, stmt_node, (ast->nstmts + 1) * sizeof *stmt_node);
    mark_reach(g);
    for (size_t i = 0; i < g->nparams; i++) {
        const Param *p = &g->params[i];
        if (g->nodes[p->node].flags & NODE_USEFUL)
            continue;
        Span at = ast->stmts[p->stmt].name_span;
        if (p->is_input)
            diag_warning(diag, at,
                         "input '%s' does not affect any output; its gradient "
                         "is always zero", p->name);
        else
            diag_warning(diag, at, "data '%s' does not affect any output",
                         p->name);
    }
    return diag->errors;
}

void graph_dump(const Graph *g, FILE *out)
{
    for (size_t i = 0; i < g->nnodes; i++) {
        const Node *n = &g->nodes[i];
        fprintf(out, "n%zu = %s", i, op_info[n->op].name);
        if (n->op == OP_CONST)
            fprintf(out, " %.17g", n->value);
        for (int a = 0; a < op_info[n->op].arity; a++)
            fprintf(out, " n%d", n->args[a]);
        if (n->axis >= 0)
            fprintf(out, " axis=%d", n->axis);
        for (int a = 0; a < 2; a++)
            if (n->transposed & (1u << a))
                fprintf(out, " transposed=n%d", n->args[a]);
        if (n->shape.rank == 1)
            fprintf(out, " [%ld]", n->shape.dim[0]);
        else if (n->shape.rank == 2)
            fprintf(out, " [%ld, %ld]", n->shape.dim[0], n->shape.dim[1]);
        if (n->name)
            fprintf(out, " '%s'", n->name);
        if (n->flags & NODE_OUTPUT)
            fputs(" output", out);
        if ((n->flags & NODE_VARIED) && (n->flags & NODE_USEFUL))
            fputs(" active", out);
        fputc('\n', out);
    }
}

/* Node I's id, operator and statement, to start a description. */
static const char *node_at(const Graph *g, size_t i)
{
    const Node *n = &g->nodes[i];
    return arena_printf(g->arena, "node %zu (%s, statement %d)", i,
                        op_info[n->op].name, n->stmt);
}

/* Node I's invariants.  EXPECT holds the flags that the outputs and the
 * nodes after it give it; the operands add NODE_VARIED. */
static const char *check_node(const Graph *g, size_t i, unsigned expect)
{
    const Node *n = &g->nodes[i];
    if ((unsigned)n->op >= OP_COUNT)
        return arena_printf(g->arena, "node %zu: no operator %d", i, (int)n->op);
    int arity = op_info[n->op].arity;
    if (n->op == OP_INPUT)
        expect |= NODE_VARIED;
    for (int a = 0; a < 2; a++) {
        int arg = n->args[a];
        if (a >= arity ? arg != -1 : arg < 0 || (size_t)arg >= i)
            return arena_printf(g->arena, "%s: operand %d is %d", node_at(g, i),
                                a, arg);
        if (a < arity)
            expect |= g->nodes[arg].flags & NODE_VARIED;
    }
    Shape s = n->shape;
    if (s.rank < 0 || s.rank > GRADC_MAX_RANK)
        return arena_printf(g->arena, "%s: rank %d", node_at(g, i), s.rank);
    double size = 1;
    for (int d = 0; d < s.rank; d++) {
        if (s.dim[d] < 1)
            return arena_printf(g->arena, "%s: shape %s", node_at(g, i),
                                shape_str(g->arena, s));
        size *= (double)s.dim[d];
    }
    if (size > (double)GRADC_MAX_ELEMENTS)
        return arena_printf(g->arena, "%s: shape %s, %.0f elements, more than "
                            "%ld", node_at(g, i), shape_str(g->arena, s), size,
                            GRADC_MAX_ELEMENTS);
    if (n->flags != expect)
        return arena_printf(g->arena, "%s: flags 0x%x, not 0x%x", node_at(g, i),
                            n->flags, expect);
    return NULL;
}

const char *graph_check(const Graph *g)
{
    for (size_t k = 0; k < g->nparams; k++) {
        const Param *p = &g->params[k];
        if (p->node < 0 || (size_t)p->node >= g->nnodes ||
            g->nodes[p->node].op != (p->is_input ? OP_INPUT : OP_DATA) ||
            g->nodes[p->node].param != (int)k)
            return arena_printf(g->arena, "parameter %zu ('%s') is node %d",
                                k, p->name, p->node);
    }
    unsigned *expect = arena_alloc(g->arena, (g->nnodes + 1) * sizeof *expect);
    for (size_t k = 0; k < g->noutputs; k++) {
        int id = g->outputs[k].node;
        if (id < 0 || (size_t)id >= g->nnodes)
            return arena_printf(g->arena, "output %zu ('%s') is node %d", k,
                                g->outputs[k].name, id);
        expect[id] |= NODE_OUTPUT | NODE_USEFUL;
    }
    /* From the last node back, so that every consumer of a node has been
     * checked, and has given it NODE_USEFUL, before the node itself. */
    for (size_t i = g->nnodes; i-- > 0;) {
        const char *broken = check_node(g, i, expect[i]);
        if (broken)
            return broken;
        if (g->nodes[i].flags & NODE_USEFUL)
            for (int a = 0; a < op_info[g->nodes[i].op].arity; a++)
                expect[g->nodes[i].args[a]] |= NODE_USEFUL;
    }
    return NULL;
}
