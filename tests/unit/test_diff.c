/* test_diff.c: reverse mode.  The adjoint program of several models is
 * checked against the invariants every correct backward pass satisfies,
 * then specific models against the statements they must get. */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

static bool active(const Node *n)
{
    return (n->flags & NODE_VARIED) && (n->flags & NODE_USEFUL);
}

static int steps_to(const AdjointProgram *prog, int node)
{
    int n = 0;
    for (size_t s = 0; s < prog->nsteps; s++)
        n += prog->steps[s].to == node;
    return n;
}

/* The invariants of a correct adjoint program for RUN. */
static void check_invariants(const Run *run)
{
    const Graph *g = &run->comp.graph;
    const AdjointProgram *prog = &run->comp.prog;
    int *written = calloc(g->nnodes + 1, sizeof *written);
    bool past_seeds = false;
    for (size_t s = 0; s < prog->nsteps; s++) {
        const Adjoint *a = &prog->steps[s];
        ck_assert_int_ge(a->to, 0);
        ck_assert(active(&g->nodes[a->to]));
        /* A step writes a node's own adjoint, never a shared one. */
        ck_assert_int_eq(prog->adj_node[a->to], a->to);
        ck_assert_int_lt(prog->adj_seed[a->to], 0);
        if (a->from < 0) {
            ck_assert_msg(!past_seeds, "seed step %zu after the others", s);
            ck_assert_int_eq(g->outputs[a->output].node, a->to);
        } else {
            past_seeds = true;
            const Node *from = &g->nodes[a->from];
            ck_assert(active(from));
            ck_assert_int_eq(from->args[a->arg], a->to);
            /* Reverse topological order: every contribution to FROM's
             * adjoint has been made before FROM's adjoint is read. */
            int owner = prog->adj_seed[a->from] >= 0 ? -1 : prog->adj_node[a->from];
            for (size_t t = s + 1; t < prog->nsteps; t++)
                ck_assert_msg(owner < 0 || prog->steps[t].to != owner,
                              "step %zu writes n%d, read by step %zu", t, owner, s);
            /* The forward values its rule reads are on the tape, or at
             * hand as arguments and constants. */
            unsigned reads = op_adjoint_reads(from->op, a->arg);
            int read_nodes[] = { from->args[0], from->args[1], a->from };
            for (int r = 0; r < 3; r++) {
                int n = read_nodes[r];
                if ((reads & (1u << r)) && n >= 0 &&
                    op_info[g->nodes[n].op].kind != OPK_LEAF)
                    ck_assert_msg(prog->on_tape[n], "n%d is read but not on the tape", n);
            }
            if (reads & READS_DERIV)
                ck_assert_msg(prog->tape_deriv[a->from], "n%d's derivative is read but "
                              "not stored", a->from);
        }
        /* The first contribution assigns, every later one accumulates. */
        ck_assert_msg(a->first == (written[a->to] == 0),
                      "step %zu to n%d: first=%d after %d contributions", s,
                      a->to, a->first, written[a->to]);
        written[a->to]++;
    }
    for (size_t i = 0; i < g->nnodes; i++) {
        const Node *n = &g->nodes[i];
        if (!active(n)) {
            /* Inactive values (data, constants, what reaches no output or
             * depends on no input) have no adjoint at all. */
            ck_assert_int_eq(prog->adj_node[i], -1);
            ck_assert_int_eq(prog->adj_seed[i], -1);
            ck_assert_int_eq(written[i], 0);
        } else if (prog->adj_seed[i] < 0 && prog->adj_node[i] == (int)i) {
            ck_assert_msg(written[i] > 0, "active n%zu gets no adjoint", i);
        } else {
            ck_assert(n->op != OP_INPUT); /* inputs write the caller's buffer */
            ck_assert_int_eq(written[i], 0);
        }
        if (op_info[n->op].kind == OPK_LEAF)
            ck_assert(!prog->on_tape[i]);
    }
    free(written);
}

static const char *const models[] = {
    /* Kamper's f(x, y) */
    "input x, y\na = sigmoid(y)\nb = x + a\nc = x^2\nd = y + c\ne = 1 / d\n"
    "output f = b * e\n",
    "input x\nc = x * x\noutput y = c * 3\n",
    "input x\na = sin(x)\nb = cos(x)\nc = x * x\noutput y = a + b + c\n",
    "input x\na = x * x\noutput y = a\noutput z = a * 3\n",
    "input x\noutput y = sin(x)\noutput z = sin(x)\n",
    "input x\noutput y = x\n",
    "input x, u\ndata d\nk = d * 2\nw = u * 2\noutput y = x * k\n",
    "input x, y\na = sin(x)\noutput o = a + y\n",
    "input x, y\na = exp(x * y)\nb = a * a - tanh(a) / y\nc = max(b, a) ^ y\n"
    "output o = sqrt(c) + relu(b) - abs(-a)\noutput p = softplus(o) * a\n",
};

START_TEST(adjoint_program_invariants)
{
    Run *run = run_model(models[_i]);
    check_invariants(run);
    run_free(run);
}
END_TEST

START_TEST(fork_assigns_once_then_accumulates)
{
    Run *run = run_model("input x\nc = x * x\noutput y = c * 3\n");
    int x = node_named(run, "x");
    const AdjointProgram *prog = &run->comp.prog;
    ck_assert_int_eq(steps_to(prog, x), 2);
    int seen = 0;
    for (size_t s = 0; s < prog->nsteps; s++) {
        const Adjoint *a = &prog->steps[s];
        if (a->to != x)
            continue;
        ck_assert_int_eq(a->from, node_named(run, "c"));
        ck_assert_int_eq(a->arg, seen);
        ck_assert(a->first == (seen == 0));
        seen++;
    }
    run_free(run);

    /* x used in three statements and twice in one: four contributions. */
    run = run_model("input x\na = sin(x)\nb = cos(x)\nc = x * x\noutput y = a + b + c\n");
    x = node_named(run, "x");
    ck_assert_int_eq(steps_to(&run->comp.prog, x), 4);
    run_free(run);
}
END_TEST

START_TEST(seeds_come_first)
{
    Run *run = run_model("input x\na = x * x\noutput y = a\noutput z = a * 3\n");
    const AdjointProgram *prog = &run->comp.prog;
    int a = node_named(run, "a");
    ck_assert_uint_ge(prog->nsteps, 2);
    ck_assert_int_eq(prog->steps[0].from, -1);
    ck_assert_int_eq(prog->steps[0].output, 0);
    ck_assert_int_eq(prog->steps[0].to, a);
    ck_assert(prog->steps[0].first);
    /* z's seed is z's whole adjoint: shared, no statement. */
    int z = run->comp.graph.outputs[1].node;
    ck_assert_int_eq(prog->adj_seed[z], 1);
    ck_assert_int_eq(steps_to(prog, z), 0);
    ck_assert_int_eq(steps_to(prog, a), 2);
    run_free(run);

    /* Two outputs that are one node: both seeds add up. */
    run = run_model("input x\noutput y = sin(x)\noutput z = sin(x)\n");
    prog = &run->comp.prog;
    int s = find_op(&run->comp.graph, OP_SIN);
    ck_assert_int_eq(steps_to(prog, s), 2);
    ck_assert(prog->steps[0].from == -1 && prog->steps[0].output == 0 &&
              prog->steps[0].first);
    ck_assert(prog->steps[1].from == -1 && prog->steps[1].output == 1 &&
              !prog->steps[1].first);
    run_free(run);
}
END_TEST

START_TEST(output_that_is_an_input)
{
    Run *run = run_model("input x\noutput y = x\n");
    ck_assert_uint_eq(run->comp.prog.nsteps, 1);
    ck_assert_int_eq(run->comp.prog.steps[0].from, -1);
    ck_assert_int_eq(run->comp.prog.steps[0].to, node_named(run, "x"));
    ck_assert(run->comp.prog.steps[0].first);
    run_free(run);
}
END_TEST

START_TEST(inactive_values_get_no_adjoint)
{
    Run *run = run_model("input x, u\ndata d\nk = d * 2\nw = u * 2\noutput y = x * k\n");
    const AdjointProgram *prog = &run->comp.prog;
    static const char *const inactive[] = { "d", "k", "u", "w" };
    for (size_t i = 0; i < sizeof inactive / sizeof *inactive; i++) {
        int n = node_named(run, inactive[i]);
        ck_assert_msg(prog->adj_node[n] == -1 && prog->adj_seed[n] == -1 &&
                      steps_to(prog, n) == 0, "%s has an adjoint", inactive[i]);
    }
    /* d * 2 is data only, but x's rule reads it: it is taped. */
    ck_assert(prog->on_tape[node_named(run, "k")]);
    ck_assert_int_eq(steps_to(prog, node_named(run, "x")), 1);
    run_free(run);
}
END_TEST

START_TEST(copies_share_the_adjoint)
{
    Run *run = run_model("input x, y\na = sin(x)\noutput o = a + y\n");
    const AdjointProgram *prog = &run->comp.prog;
    int a = node_named(run, "a"), o = node_named(run, "o");
    ck_assert_int_eq(prog->adj_seed[o], 0);
    ck_assert_int_eq(prog->adj_seed[a], 0);
    ck_assert_int_eq(steps_to(prog, a), 0);
    ck_assert_int_eq(steps_to(prog, o), 0);
    ck_assert_uint_eq(prog->nsteps, 2); /* d y = seed, d x = seed * cos(x) */
    run_free(run);

    /* a - y: a gets the adjoint unchanged, y its negation. */
    run = run_model("input x, y\na = sin(x)\noutput o = a - y\n");
    prog = &run->comp.prog;
    ck_assert_int_eq(prog->adj_seed[node_named(run, "a")], 0);
    ck_assert_int_eq(steps_to(prog, node_named(run, "y")), 1);
    run_free(run);
}
END_TEST

START_TEST(tape_holds_what_backward_reads)
{
    Run *run = run_model("input x\noutput y = exp(x)\n");
    /* exp' = exp */
    ck_assert(run->comp.prog.on_tape[find_op(&run->comp.graph, OP_EXP)]);
    run_free(run);

    run = run_model("input x\na = sin(x)\noutput y = sin(a)\n");
    int inner = node_named(run, "a"), outer = node_named(run, "y");
    ck_assert(run->comp.prog.on_tape[inner]);
    ck_assert(!run->comp.prog.on_tape[outer]);
    run_free(run);

    /* sin's rule reads x, an argument; nothing reads sin(x) itself. */
    run = run_model("input x\noutput y = sin(x) * 3\n");
    for (size_t i = 0; i < run->comp.graph.nnodes; i++)
        ck_assert(!run->comp.prog.on_tape[i]);
    run_free(run);
}
END_TEST

TCase *tcase_diff(void)
{
    TCase *tc = tcase_create("reverse mode");
    tcase_add_loop_test(tc, adjoint_program_invariants, 0,
                        (int)(sizeof models / sizeof *models));
    tcase_add_test(tc, fork_assigns_once_then_accumulates);
    tcase_add_test(tc, seeds_come_first);
    tcase_add_test(tc, output_that_is_an_input);
    tcase_add_test(tc, inactive_values_get_no_adjoint);
    tcase_add_test(tc, copies_share_the_adjoint);
    tcase_add_test(tc, tape_holds_what_backward_reads);
    return tc;
}
