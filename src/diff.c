/* diff.c: reverse mode.  Walks the graph from the outputs back to the
 * inputs and lists the adjoint statements, exactly as in the backward pass
 * of the notes: the first contribution to an adjoint assigns, every later
 * one (where a value forks) accumulates.  Only active nodes, on a path from
 * an input to an output, get adjoints. */
#include <string.h>

#include "gradc.h"

static bool active(const Node *n)
{
    return (n->flags & NODE_VARIED) && (n->flags & NODE_USEFUL);
}

/* The contribution is the consumer's adjoint unchanged: an elementwise
 * '%g' between equal shapes, or a scalar that passes its adjoint to every
 * element of its operand (the sum of all elements). */
static bool is_copy(const Graph *g, const Adjoint *a)
{
    if (a->from < 0)
        return true;
    const Node *n = &g->nodes[a->from];
    const Node *to = &g->nodes[a->to];
    const OpInfo *info = &op_info[n->op];
    if ((info->flags & OPF_PASSES_ADJ) && n->shape.rank == 0)
        return true;
    return info->kind == OPK_ELEM && strcmp(info->adj[a->arg], "%g") == 0 &&
           shape_equal(n->shape, to->shape);
}

/* Row kernels take their adjoint as an array, so they cannot share a
 * scalar's (the sum's) unless they are scalars themselves. */
static bool reads_adjoint_array(const Node *n)
{
    ShapeRule rule = op_info[n->op].shape;
    return (rule == SHAPE_ROWS || rule == SHAPE_ROWREDUCE) && n->shape.rank > 0;
}

int adjoint_owner(const Graph *g, const AdjointProgram *prog, int n)
{
    int k = prog->adj_seed[n];
    return k >= 0 ? g->outputs[k].node : prog->adj_node[n];
}

/* Is the adjoint that A would share a scalar? */
static bool is_scalar_adjoint(const Graph *g, const AdjointProgram *prog,
                              const Adjoint *a)
{
    int owner = a->from < 0 ? g->outputs[a->output].node
                            : adjoint_owner(g, prog, a->from);
    return g->nodes[owner].shape.rank == 0;
}

static void push(AdjointProgram *prog, Arena *arena, Adjoint a)
{
    VEC_PUSH(arena, prog->steps, prog->nsteps, prog->cap_steps, a);
}

int diff(const Graph *g, AdjointProgram *prog, Arena *arena)
{
    size_t n = g->nnodes;
    memset(prog, 0, sizeof *prog);
    prog->adj_node = arena_alloc(arena, (n + 1) * sizeof *prog->adj_node);
    prog->adj_seed = arena_alloc(arena, (n + 1) * sizeof *prog->adj_seed);
    prog->on_tape = arena_alloc(arena, (n + 1) * sizeof *prog->on_tape);
    prog->tape_deriv = arena_alloc(arena, (n + 1) * sizeof *prog->tape_deriv);
    int *ncontrib = arena_alloc(arena, (n + 1) * sizeof *ncontrib);

    /* Every contribution, in execution order. */
    Adjoint *all = NULL;
    size_t nall = 0, cap = 0;
    for (size_t k = 0; k < g->noutputs; k++) {
        int to = g->outputs[k].node;
        if (!active(&g->nodes[to]))
            continue;
        Adjoint a = { to, -1, -1, (int)k, ncontrib[to]++ == 0 };
        VEC_PUSH(arena, all, nall, cap, a);
    }
    for (size_t i = n; i-- > 0;) {
        const Node *node = &g->nodes[i];
        if (!active(node))
            continue;
        for (int arg = 0; arg < op_info[node->op].arity; arg++) {
            int to = node->args[arg];
            if (!active(&g->nodes[to]))
                continue;
            Adjoint a = { to, (int)i, arg, -1, ncontrib[to]++ == 0 };
            VEC_PUSH(arena, all, nall, cap, a);
        }
    }

    /* A node whose only contribution is a copy shares the adjoint it is
     * copied from: that adjoint is final by then and never changes again.
     * Arguments keep their own, which is the caller's gradient buffer. */
    for (size_t i = 0; i < n; i++) {
        prog->adj_node[i] = active(&g->nodes[i]) ? (int)i : -1;
        prog->adj_seed[i] = -1;
    }
    for (size_t s = 0; s < nall; s++) {
        const Adjoint *a = &all[s];
        const Node *to = &g->nodes[a->to];
        if (ncontrib[a->to] == 1 && to->op != OP_INPUT && is_copy(g, a) &&
            !(reads_adjoint_array(to) && is_scalar_adjoint(g, prog, a))) {
            if (a->from < 0) {
                prog->adj_seed[a->to] = a->output;
            } else {
                prog->adj_node[a->to] = prog->adj_node[a->from];
                prog->adj_seed[a->to] = prog->adj_seed[a->from];
            }
            continue;
        }
        push(prog, arena, *a);
        if (a->from < 0)
            continue;
        const Node *from = &g->nodes[a->from];
        unsigned reads = op_adjoint_reads(from->op, a->arg);
        if (reads & READS_ARG0)
            prog->on_tape[from->args[0]] = true;
        if (reads & READS_ARG1)
            prog->on_tape[from->args[1]] = true;
        if (reads & READS_SELF)
            prog->on_tape[a->from] = true;
        if (reads & READS_DERIV)
            prog->tape_deriv[a->from] = true;
    }
    /* Arguments and constants are at hand in the backward pass. */
    for (size_t i = 0; i < n; i++)
        if (op_info[g->nodes[i].op].kind == OPK_LEAF)
            prog->on_tape[i] = false;
    /* Scratch, as big as the model: not kept through emission. */
    arena_drop(arena, all, cap * sizeof *all);
    arena_drop(arena, ncontrib, (n + 1) * sizeof *ncontrib);
    return 0;
}

void adjoint_dump(const Graph *g, const AdjointProgram *prog, FILE *out)
{
    for (size_t s = 0; s < prog->nsteps; s++) {
        const Adjoint *a = &prog->steps[s];
        fprintf(out, "d n%d %s ", a->to, a->first ? "=" : "+=");
        if (a->from < 0)
            fprintf(out, "seed %s\n", g->outputs[a->output].name);
        else
            fprintf(out, "n%d via %s operand %d\n", a->from,
                    op_info[g->nodes[a->from].op].name, a->arg);
    }
    for (size_t i = 0; i < g->nnodes; i++) {
        if (prog->adj_seed[i] >= 0)
            fprintf(out, "d n%zu is seed %s\n", i,
                    g->outputs[prog->adj_seed[i]].name);
        else if (prog->adj_node[i] >= 0 && prog->adj_node[i] != (int)i)
            fprintf(out, "d n%zu is d n%d\n", i, prog->adj_node[i]);
        if (prog->on_tape[i])
            fprintf(out, "tape n%zu\n", i);
        if (prog->tape_deriv[i])
            fprintf(out, "tape n%zu derivative\n", i);
    }
}
