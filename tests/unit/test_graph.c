/* test_graph.c: graph building.  Hash-consing really shares nodes, the
 * only rewrites are the exact ones, and the reachability flags say which
 * nodes depend on an input and which reach an output. */
#include <string.h>

#include "unit.h"

/* Consumers of node ID: how many operand slots name it. */
static int uses(const Graph *g, int id)
{
    int n = 0;
    for (size_t i = 0; i < g->nnodes; i++)
        for (int a = 0; a < op_info[g->nodes[i].op].arity; a++)
            n += g->nodes[i].args[a] == id;
    return n;
}

static int output_node(const Run *run, const char *name)
{
    for (size_t k = 0; k < run->comp.graph.noutputs; k++)
        if (strcmp(run->comp.graph.outputs[k].name, name) == 0)
            return run->comp.graph.outputs[k].node;
    ck_abort_msg("no output '%s'", name);
}

static int param_node(const Run *run, const char *name)
{
    for (size_t i = 0; i < run->comp.graph.nparams; i++)
        if (strcmp(run->comp.graph.params[i].name, name) == 0)
            return run->comp.graph.params[i].node;
    ck_abort_msg("no parameter '%s'", name);
}

START_TEST(commuted_product_is_one_node)
{
    Run *run = run_model("input x, y\na = x * y\nb = y * x\noutput o = a + b\n");
    const Graph *g = &run->comp.graph;
    ck_assert_int_eq(count_op(g, OP_MUL), 1);
    int mul = find_op(g, OP_MUL);
    ck_assert_str_eq(g->nodes[mul].name, "a"); /* the first name wins */
    const Node *sum = &g->nodes[output_node(run, "o")];
    ck_assert_int_eq(sum->op, OP_ADD);
    ck_assert_int_eq(sum->args[0], mul);
    ck_assert_int_eq(sum->args[1], mul);
    ck_assert_int_eq(uses(g, mul), 2);
    run_free(run);
}
END_TEST

START_TEST(repeated_call_is_one_node_with_two_uses)
{
    Run *run = run_model("input x\noutput o = sin(x) + sin(x)\n");
    const Graph *g = &run->comp.graph;
    ck_assert_int_eq(count_op(g, OP_SIN), 1);
    int s = find_op(g, OP_SIN);
    ck_assert_int_eq(uses(g, s), 2);
    ck_assert_int_eq(g->nodes[output_node(run, "o")].args[0], s);
    ck_assert_int_eq(g->nodes[output_node(run, "o")].args[1], s);
    run_free(run);
}
END_TEST

START_TEST(sharing_spans_statements_and_spellings)
{
    /* Equal constants are one node whatever their spelling; so are equal
     * subexpressions written in different statements. */
    Run *run = run_model("input x\na = exp(2 * x)\nb = exp(2.0 * x) + 0.5e1\n"
                         "c = (exp(x * 2)) + 5\noutput o = a * b * c\n");
    const Graph *g = &run->comp.graph;
    ck_assert_int_eq(count_op(g, OP_EXP), 1);
    ck_assert_int_eq(count_op(g, OP_MUL), 3); /* 2*x, a*b, (a*b)*c */
    ck_assert_int_eq(count_op(g, OP_ADD), 1); /* b and c */
    int consts = 0;
    for (size_t i = 0; i < g->nnodes; i++)
        if (g->nodes[i].op == OP_CONST && g->nodes[i].value == 2)
            consts++;
    ck_assert_int_eq(consts, 1);
    run_free(run);
}
END_TEST

START_TEST(order_matters_for_other_operators)
{
    Run *run = run_model("input x, y\na = x - y\nb = y - x\nc = x / y\nd = y / x\n"
                         "e = x ^ y\nf = y ^ x\ng = max(x, y)\nh = max(y, x)\n"
                         "output o = a + b + c + d + e + f + g + h\n");
    const Graph *g = &run->comp.graph;
    ck_assert_int_eq(count_op(g, OP_SUB), 2);
    ck_assert_int_eq(count_op(g, OP_DIV), 2);
    ck_assert_int_eq(count_op(g, OP_POW), 2);
    /* max sends ties to its first argument, so max(x, y) != max(y, x). */
    ck_assert_int_eq(count_op(g, OP_MAX), 2);
    run_free(run);
}
END_TEST

START_TEST(constants_fold)
{
    Run *run = run_model("input x\noutput o = x * (2 * 3) + (1 - 4) / 2 + -(5)\n");
    const Graph *g = &run->comp.graph;
    bool six = false, minus_one_and_half = false, minus_five = false;
    for (size_t i = 0; i < g->nnodes; i++) {
        const Node *n = &g->nodes[i];
        six |= n->op == OP_CONST && n->value == 6;
        minus_one_and_half |= n->op == OP_CONST && n->value == -1.5;
        minus_five |= n->op == OP_CONST && n->value == -5;
        /* No operator is left with only constant operands. */
        int arity = op_info[n->op].arity, constant = 0;
        for (int a = 0; a < arity; a++)
            constant += g->nodes[n->args[a]].op == OP_CONST;
        ck_assert(arity == 0 || constant < arity);
    }
    ck_assert(six && minus_one_and_half && minus_five);
    ck_assert_int_eq(count_op(g, OP_NEG), 0);
    run_free(run);
}
END_TEST

/* The operators IEEE arithmetic rounds exactly fold too; exp and sin,
 * which libraries round differently, do not. */
START_TEST(exact_functions_of_constants_fold)
{
    Run *run = run_model("input x\noutput o = x * sqrt(4) + abs(-3) * relu(-1) + "
                         "(max(2, 7) - min(2, 7)) + 3^2 + sqrt(2) + exp(1) + sin(1)\n");
    const Graph *g = &run->comp.graph;
    bool two = false, five = false, nine = false, root2 = false;
    for (size_t i = 0; i < g->nnodes; i++) {
        const Node *n = &g->nodes[i];
        two |= n->op == OP_CONST && n->value == 2;
        five |= n->op == OP_CONST && n->value == 5;
        nine |= n->op == OP_CONST && n->value == 9;
        /* the double nearest the square root of 2, written out */
        root2 |= n->op == OP_CONST && n->value == 1.4142135623730951;
    }
    ck_assert(two && five && nine && root2);
    ck_assert_int_eq(count_op(g, OP_SQRT), 0);
    ck_assert_int_eq(count_op(g, OP_ABS), 0);
    ck_assert_int_eq(count_op(g, OP_RELU), 0);
    ck_assert_int_eq(count_op(g, OP_MAX), 0);
    ck_assert_int_eq(count_op(g, OP_MIN), 0);
    ck_assert_int_eq(count_op(g, OP_SQUARE), 0);
    ck_assert_int_eq(count_op(g, OP_EXP), 1);
    ck_assert_int_eq(count_op(g, OP_SIN), 1);
    run_free(run);
}
END_TEST

START_TEST(square_is_its_own_operator)
{
    Run *run = run_model("input x\noutput o = x^2 + x^2.0\n");
    const Graph *g = &run->comp.graph;
    ck_assert_int_eq(count_op(g, OP_SQUARE), 1);
    ck_assert_int_eq(count_op(g, OP_POW), 0);
    int sq = find_op(g, OP_SQUARE);
    ck_assert_int_eq(g->nodes[sq].args[0], param_node(run, "x"));
    run_free(run);

    run = run_model("input x\noutput o = x^3\n");
    ck_assert_int_eq(count_op(&run->comp.graph, OP_SQUARE), 0);
    ck_assert_int_eq(count_op(&run->comp.graph, OP_POW), 1);
    run_free(run);
}
END_TEST

/* 1 / x is RECIP, whose adjoint reads the result and not x; 2 / x stays
 * a quotient. */
START_TEST(reciprocal_is_its_own_operator)
{
    Run *run = run_model("input x, v[3]\noutput o = 1 / x + sum(1 / v) + 2 / x\n");
    const Graph *g = &run->comp.graph;
    ck_assert_int_eq(count_op(g, OP_RECIP), 2);
    ck_assert_int_eq(count_op(g, OP_DIV), 1);
    run_free(run);

    run = run_model("input x\noutput o = 1 / x\n");
    g = &run->comp.graph;
    int r = find_op(g, OP_RECIP);
    ck_assert_int_eq(g->nodes[r].args[0], param_node(run, "x"));
    ck_assert(run->comp.prog.on_tape[r]);
    ck_assert(!run->comp.prog.on_tape[param_node(run, "x")]);
    run_free(run);
}
END_TEST

/* A transpose read by '@' is folded into the product: the product reads
 * the matrix itself, and the transpose node feeds nothing. */
START_TEST(transpose_folds_into_matmul)
{
    Run *run = run_model("input A[4, 3], B[5, 3]\n"
                         "output C = A @ transpose(B)\n"
                         "output D = transpose(A) @ A + transpose(B) @ B\n");
    const Graph *g = &run->comp.graph;
    int A = param_node(run, "A"), B = param_node(run, "B");
    const Node *c = &g->nodes[output_node(run, "C")];
    ck_assert_int_eq(c->op, OP_MATMUL);
    ck_assert_int_eq(c->args[0], A);
    ck_assert_int_eq(c->args[1], B);
    ck_assert_uint_eq(c->transposed, 2);
    int nt = 0;
    for (size_t i = 0; i < g->nnodes; i++) {
        const Node *n = &g->nodes[i];
        if (n->op == OP_MATMUL && n->transposed == 1)
            nt++;
        if (n->op == OP_TRANSPOSE)
            ck_assert_int_eq(uses(g, (int)i), 0);
    }
    ck_assert_int_eq(nt, 2);
    run_free(run);

    /* A transpose used elsewhere too stays, for that use. */
    run = run_model("input A[3, 3]\noutput C = sum(A @ transpose(A) + transpose(A))\n");
    int t = find_op(&run->comp.graph, OP_TRANSPOSE);
    ck_assert_int_eq(uses(&run->comp.graph, t), 1);
    run_free(run);
}
END_TEST

START_TEST(exact_identities_vanish)
{
    static const char *const sources[] = {
        "input x\noutput o = x * 1\n", "input x\noutput o = 1 * x\n",
        "input x\noutput o = x / 1\n", "input x\noutput o = x - 0\n",
        "input x\noutput o = x ^ 1\n", "input x\noutput o = -(-x)\n",
        "input x\noutput o = x * (3 - 2)\n",
    };
    for (size_t i = 0; i < sizeof sources / sizeof *sources; i++) {
        Run *run = run_model(sources[i]);
        ck_assert_msg(output_node(run, "o") == param_node(run, "x"), "%s",
                      sources[i]);
        run_free(run);
    }
}
END_TEST

START_TEST(inexact_identities_stay)
{
    /* x + 0 is not x for x = -0; x * 0 is not 0 for infinities and NaN;
     * x - x is not 0 either. */
    Run *run = run_model("input x\na = x + 0\nb = x * 0\nc = x - x\n"
                         "output o = a * b * c\n");
    const Graph *g = &run->comp.graph;
    ck_assert_int_eq(count_op(g, OP_ADD), 1);
    ck_assert_int_eq(count_op(g, OP_MUL), 3);
    ck_assert_int_eq(count_op(g, OP_SUB), 1);
    run_free(run);
}
END_TEST

/* x - (-0) is x + 0, which is +0, not x, for x = -0. */
START_TEST(subtracting_negative_zero_stays)
{
    Run *run = run_model("input x\noutput o = x - -0\n");
    ck_assert_int_ne(output_node(run, "o"), param_node(run, "x"));
    run_free(run);
}
END_TEST

START_TEST(nodes_are_in_topological_order)
{
    Run *run = run_model("input x, y\na = sigmoid(y)\nb = x + a\nc = x^2\n"
                         "d = y + c\ne = 1 / d\noutput f = b * e\n");
    const Graph *g = &run->comp.graph;
    for (size_t i = 0; i < g->nnodes; i++)
        for (int a = 0; a < op_info[g->nodes[i].op].arity; a++) {
            ck_assert_int_ge(g->nodes[i].args[a], 0);
            ck_assert_int_lt(g->nodes[i].args[a], (int)i);
        }
    ck_assert_uint_eq(g->nparams, 2);
    ck_assert_str_eq(g->params[0].name, "x");
    ck_assert(g->params[0].is_input);
    ck_assert_int_eq(g->nodes[g->params[1].node].param, 1);
    run_free(run);
}
END_TEST

START_TEST(reachability_flags)
{
    Run *run = run_model("input x, u\ndata d\na = x * d\nb = u * 2\nc = d * 3\n"
                         "output o = a + c\noutput p = c\n");
    const Graph *g = &run->comp.graph;
    static const struct { const char *name; unsigned flags; } expect[] = {
        { "x", NODE_VARIED | NODE_USEFUL },
        { "u", NODE_VARIED },                 /* reaches no output */
        { "d", NODE_USEFUL },                 /* data is never varied */
        { "a", NODE_VARIED | NODE_USEFUL },
        { "b", NODE_VARIED },
        { "c", NODE_USEFUL | NODE_OUTPUT },   /* output p is c */
        { "o", NODE_VARIED | NODE_USEFUL | NODE_OUTPUT },
    };
    for (size_t i = 0; i < sizeof expect / sizeof *expect; i++) {
        const Node *n = &g->nodes[node_named(run, expect[i].name)];
        ck_assert_msg(n->flags == expect[i].flags, "%s: flags %u, expected %u",
                      expect[i].name, n->flags, expect[i].flags);
    }
    ck_assert_int_eq(output_node(run, "p"), node_named(run, "c"));
    run_free(run);
}
END_TEST

/* graph_check on a graph broken by hand: the first invariant each break
 * violates, described.  The model's statements are A, x, d, h, o, p, u;
 * its nodes n0 A, n1 x, n2 d, n3 A @ x, n4 tanh, n5 h (output p), n6 sum
 * (output o) and n7 u, which reaches no output. */
static const char broken_model[] =
    "input A[2, 3], x[3]\ndata d\nh = tanh(A @ x) * d\n"
    "output o = sum(h)\noutput p = h\ninput u\n";

static const char *const broken_descriptions[] = {
    "node 4 (tanh, statement 3): operand 0 is 4",
    "node 4 (tanh, statement 3): operand 1 is 0",
    "node 3 (@, statement 3): operand 1 is -1",
    "node 5 (*, statement 3): shape [0]",
    "node 5 (*, statement 3): rank 3",
    "node 5 (*, statement 3): shape [65536, 32768], 2147483648 elements, "
    "more than 2147483647",
    "node 2 (data, statement 2): flags 0x6, not 0x4",
    "node 0 (input, statement 0): flags 0x2, not 0x6",
    "node 6 (sum, statement 4): flags 0x6, not 0x7",
    "node 7 (input, statement 6): flags 0x6, not 0x2",
    "parameter 1 ('x') is node 0",
    "output 1 ('p') is node 8",
};

START_TEST(graph_check_describes_a_broken_graph)
{
    Run *run = run_model(broken_model);
    Graph *g = &run->comp.graph;
    ck_assert_ptr_null(graph_check(g));
    Node *n = g->nodes;
    switch (_i) {
    case 0: n[4].args[0] = 4; break;           /* not before its node */
    case 1: n[4].args[1] = 0; break;           /* beyond tanh's arity */
    case 2: n[3].args[1] = -1; break;
    case 3: n[5].shape.dim[0] = 0; break;
    case 4: n[5].shape.rank = 3; break;
    case 5: n[5].shape = (Shape){ 2, { 65536, 32768 } }; break;
    case 6: n[2].flags |= NODE_VARIED; break;  /* data is never varied */
    case 7: n[0].flags &= ~(unsigned)NODE_USEFUL; break;
    case 8: n[6].flags &= ~(unsigned)NODE_OUTPUT; break;
    case 9: n[7].flags |= NODE_USEFUL; break;  /* u reaches no output */
    case 10: g->params[1].node = 0; break;
    default: g->outputs[1].node = 8; break;
    }
    const char *found = graph_check(g);
    ck_assert_ptr_nonnull(found);
    ck_assert_str_eq(found, broken_descriptions[_i]);
    run_free(run);
}
END_TEST

/* Every graph the tests build keeps the invariants (a debug build checks
 * this between the stages of every compilation). */
START_TEST(graph_check_passes_built_graphs)
{
    static const char *const models[] = {
        broken_model,
        "input x, u\ndata d\na = x * d\nb = u * 2\nc = d * 3\n"
        "output o = a + c\noutput p = c\n",
        "input A[4, 3], B[5, 3]\ndata v[3]\nC = A @ transpose(B)\n"
        "output o = mean(log(softmax(C @ B)), 1) + logsumexp(v)\n",
        "input x\noutput o = 2 * 3\n",
    };
    for (size_t i = 0; i < sizeof models / sizeof *models; i++) {
        Run *run = run_model(models[i]);
        const char *found = graph_check(&run->comp.graph);
        ck_assert_msg(!found, "%s: %s", models[i], found);
        run_free(run);
    }
}
END_TEST

TCase *tcase_graph(void)
{
    TCase *tc = tcase_create("graph building");
    tcase_add_test(tc, commuted_product_is_one_node);
    tcase_add_test(tc, repeated_call_is_one_node_with_two_uses);
    tcase_add_test(tc, sharing_spans_statements_and_spellings);
    tcase_add_test(tc, order_matters_for_other_operators);
    tcase_add_test(tc, constants_fold);
    tcase_add_test(tc, exact_functions_of_constants_fold);
    tcase_add_test(tc, square_is_its_own_operator);
    tcase_add_test(tc, reciprocal_is_its_own_operator);
    tcase_add_test(tc, exact_identities_vanish);
    tcase_add_test(tc, transpose_folds_into_matmul);
    tcase_add_test(tc, inexact_identities_stay);
    tcase_add_test(tc, subtracting_negative_zero_stays);
    tcase_add_test(tc, nodes_are_in_topological_order);
    tcase_add_test(tc, reachability_flags);
    tcase_add_loop_test(tc, graph_check_describes_a_broken_graph, 0,
                        sizeof broken_descriptions / sizeof *broken_descriptions);
    tcase_add_test(tc, graph_check_passes_built_graphs);
    return tc;
}
