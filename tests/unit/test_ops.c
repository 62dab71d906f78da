/* test_ops.c: the adjoint rule of every elementwise operator in ops.def.
 *
 * Numerically: each adjoint template, evaluated by cexpr.c, must be the
 * derivative of the forward template (central differences), linear in the
 * incoming adjoint, and follow the contract's subgradients at kinks.
 * Structurally: a one-operator model through the whole pipeline must get
 * exactly the statements the templates say, '=' before '+='.  The loops
 * run over op_info, so a new operator is tested without new code here. */
#include <math.h>
#include <string.h>

#include "unit.h"

static bool is_elementwise(int op)
{
    return op_info[op].kind == OPK_ELEM;
}

/* ---- the table itself ---- */

/* Placeholders in TMPL, which must all be among ALLOWED. */
static unsigned placeholders(const char *tmpl, const char *allowed)
{
    for (const char *s = strchr(tmpl, '%'); s; s = strchr(s + 1, '%'))
        ck_assert_msg(s[1] && strchr(allowed, s[1]),
                      "template \"%s\": placeholder %%%c not allowed here", tmpl, s[1]);
    return op_template_reads(tmpl);
}

START_TEST(templates_are_well_formed)
{
    for (int op = 0; op < OP_COUNT; op++) {
        const OpInfo *info = &op_info[op];
        ck_assert_ptr_nonnull(info->name);
        /* Word names are exactly the built-in functions. */
        bool word = (info->name[0] >= 'a' && info->name[0] <= 'z') || info->name[0] == '_';
        ck_assert_int_eq(op_lookup_function(info->name),
                         word && info->kind != OPK_LEAF ? op : -1);
        if (info->kind == OPK_LEAF) {
            ck_assert_int_eq(info->arity, 0);
            continue;
        }
        ck_assert(info->arity == 1 || info->arity == 2);
        if (!is_elementwise(op))
            continue;
        /* A stored derivative comes with its template and the runtime's
         * functions that compute it with the value. */
        ck_assert((info->deriv != NULL) == (info->fwd_deriv != NULL));
        ck_assert((info->deriv != NULL) == (info->array_fwd_deriv != NULL));
        ck_assert(!info->deriv || (info->array_fwd && info->arity == 1));
        if (info->deriv)
            ck_assert_int_eq(placeholders(info->deriv, "0"), READS_ARG0);
        const char *operands = info->arity == 1 ? "0" : "01";
        unsigned reads = placeholders(info->fwd, operands);
        ck_assert_msg(reads == (info->arity == 1 ? READS_ARG0 : READS_ARG0 | READS_ARG1),
                      "%s: forward must read every operand", info->name);
        for (int a = 0; a < 2; a++) {
            if (a >= info->arity) {
                ck_assert_ptr_null(info->adj[a]);
                continue;
            }
            ck_assert_ptr_nonnull(info->adj[a]);
            placeholders(info->adj[a], info->arity == 1 ? (info->deriv ? "0=gd" : "0=g")
                                                        : "01=g");
            /* Every contribution scales the incoming adjoint. */
            ck_assert_msg(strstr(info->adj[a], "%g"), "%s: adjoint %d ignores %%g",
                          info->name, a);
        }
    }
    ck_assert_int_eq(op_template_reads("%g * %1 + %="), READS_ARG1 | READS_SELF);
    ck_assert_int_eq(op_template_reads("%g * %d"), READS_DERIV);
    ck_assert_int_eq(op_template_reads("%g"), 0);
    ck_assert_int_eq(op_lookup_function("nosuch"), -1);
    ck_assert_int_eq(op_lookup_function("+"), -1);
}
END_TEST

/* ---- numeric checks of the templates ---- */

/* Operators defined for positive first operands only. */
static bool positive_domain(int op)
{
    return op == OP_LOG || op == OP_SQRT || op == OP_POW;
}

static double forward(int op, double x0, double x1)
{
    TemplateValues v = { { x0, x1 }, 0, 0 };
    return template_eval(op_info[op].fwd, &v);
}

static double adjoint(int op, int arg, double x0, double x1, double g)
{
    TemplateValues d = { { x0, x1 }, 0, 0, 0 };
    const char *deriv = op_info[op].deriv;
    TemplateValues v = { { x0, x1 }, forward(op, x0, x1), g,
                         deriv ? template_eval(deriv, &d) : 0 };
    return template_eval(op_info[op].adj[arg], &v);
}

START_TEST(adjoint_is_the_derivative)
{
    const int op = _i;
    if (!is_elementwise(op))
        return;
    /* Away from kinks, ties and domain edges. */
    static const double mixed[][2] = {
        { -1.7, 0.9 }, { 0.4, -2.2 }, { 2.2, 1.3 }, { -0.5, -0.8 }, { 0.05, 3.1 },
    };
    static const double positive[][2] = {
        { 0.8, 1.7 }, { 2.3, -0.6 }, { 1.4, 3.0 }, { 0.5, 2.0 }, { 3.7, 0.3 },
    };
    const double (*points)[2] = positive_domain(op) ? positive : mixed;
    for (int p = 0; p < 5; p++) {
        for (int arg = 0; arg < op_info[op].arity; arg++) {
            double x[2] = { points[p][0], points[p][1] };
            double h = 1e-6 * fmax(1, fabs(x[arg]));
            double plus[2] = { x[0], x[1] }, minus[2] = { x[0], x[1] };
            plus[arg] += h;
            minus[arg] -= h;
            double numeric = (forward(op, plus[0], plus[1]) -
                              forward(op, minus[0], minus[1])) / (2 * h);
            double exact = adjoint(op, arg, x[0], x[1], 1);
            ck_assert_msg(fabs(numeric - exact) <= 1e-6 * fmax(1, fabs(exact)),
                          "%s at (%g, %g): d/d%%%d is %.12g, central difference %.12g",
                          op_info[op].name, x[0], x[1], arg, exact, numeric);
            /* Linear in the incoming adjoint. */
            double scaled = adjoint(op, arg, x[0], x[1], -2.5);
            ck_assert_msg(fabs(scaled + 2.5 * exact) <= 1e-12 * fmax(1, fabs(scaled)),
                          "%s: adjoint %d is not linear in %%g", op_info[op].name, arg);
        }
    }
}
END_TEST

START_TEST(subgradients_follow_the_contract)
{
    /* relu'(0) = 1: x >= 0 counts as active. */
    ck_assert(adjoint(OP_RELU, 0, 0.0, 0, 1) == 1);
    ck_assert(adjoint(OP_RELU, 0, -1e-300, 0, 1) == 0);
    ck_assert(adjoint(OP_RELU, 0, 1e-300, 0, 1) == 1);
    /* abs'(0) = 0. */
    ck_assert(adjoint(OP_ABS, 0, 0.0, 0, 1) == 0);
    ck_assert(adjoint(OP_ABS, 0, -2, 0, 1) == -1);
    /* max and min send the whole adjoint to the first operand on ties. */
    static const int tie_ops[] = { OP_MAX, OP_MIN };
    for (int i = 0; i < 2; i++) {
        ck_assert(adjoint(tie_ops[i], 0, 1.5, 1.5, 3) == 3);
        ck_assert(adjoint(tie_ops[i], 1, 1.5, 1.5, 3) == 0);
    }
    ck_assert(adjoint(OP_MAX, 1, 1, 2, 3) == 3);
    ck_assert(adjoint(OP_MIN, 1, 2, 1, 3) == 3);
    /* d/dy x^y is taken as 0 at x = 0 for y >= 0 (x^y is flat there for
     * y > 0); for y < 0 it is x^y log x = -inf. */
    ck_assert(adjoint(OP_POW, 1, 0.0, 2.5, 1) == 0);
    ck_assert(adjoint(OP_POW, 0, 0.0, 2.5, 1) == 0);
    ck_assert(adjoint(OP_POW, 1, 0.0, 0.0, 1) == 0);
    ck_assert(adjoint(OP_POW, 1, 0.0, -1.0, 1) == -INFINITY);
}
END_TEST

START_TEST(nan_takes_the_forward_branch)
{
    /* relu(NaN) is the argument itself, so relu'(NaN) = 1. */
    ck_assert(isnan(forward(OP_RELU, NAN, 0)));
    ck_assert(adjoint(OP_RELU, 0, NAN, 0, 3) == 3);
    /* abs has no branch for NaN: abs'(NaN) is NaN, not 0. */
    ck_assert(isnan(adjoint(OP_ABS, 0, NAN, 0, 3)));
    /* max and min return a NaN on either side, and send it the adjoint;
     * both NaN is a tie. */
    static const int nan_ops[] = { OP_MAX, OP_MIN };
    for (int i = 0; i < 2; i++) {
        int op = nan_ops[i];
        ck_assert(isnan(forward(op, NAN, 1)) && isnan(forward(op, 1, NAN)));
        ck_assert(adjoint(op, 0, NAN, 1, 3) == 3 && adjoint(op, 1, NAN, 1, 3) == 0);
        ck_assert(adjoint(op, 0, 1, NAN, 3) == 0 && adjoint(op, 1, 1, NAN, 3) == 3);
        ck_assert(adjoint(op, 0, NAN, NAN, 3) == 3 && adjoint(op, 1, NAN, NAN, 3) == 0);
    }
}
END_TEST

/* ---- each operator through the pipeline ---- */

/* The .grad spelling of OP applied to A (and B). */
static const char *spell(Arena *arena, int op, const char *a, const char *b)
{
    const OpInfo *info = &op_info[op];
    if (op_lookup_function(info->name) == op)
        return info->arity == 1 ? arena_printf(arena, "%s(%s)", info->name, a)
                                : arena_printf(arena, "%s(%s, %s)", info->name, a, b);
    if (op == OP_NEG)
        return arena_printf(arena, "-%s", a);
    if (op == OP_SQUARE)
        return arena_printf(arena, "%s^2", a);
    if (op == OP_RECIP)
        return arena_printf(arena, "1 / %s", a);
    ck_assert_msg(info->arity == 2, "no spelling for operator '%s'", info->name);
    return arena_printf(arena, "%s %s %s", a, info->name, b);
}

/* TMPL with %0 %1 %= %g replaced by the given C text. */
static const char *expand(Arena *arena, const char *tmpl, const char *arg0,
                          const char *arg1, const char *self, const char *adj)
{
    Buf out;
    buf_init(&out, arena);
    for (const char *s = tmpl; *s; s++) {
        if (*s != '%') {
            buf_putc(&out, *s);
            continue;
        }
        s++;
        buf_puts(&out, *s == '0' ? arg0 : *s == '1' ? arg1 : *s == '=' ? self
                       : *s == 'd' ? "tape->y_deriv" : adj);
    }
    return out.data;
}

START_TEST(operator_through_the_pipeline)
{
    const int op = _i;
    if (!is_elementwise(op))
        return;
    const OpInfo *info = &op_info[op];
    Arena *arena = arena_new();
    const char *text = arena_printf(arena, "input x%s\noutput y = %s\n",
                                    info->arity == 2 ? ", z" : "",
                                    spell(arena, op, "x", "z"));
    Run *run = run_model(text);
    int node = run->comp.graph.outputs[0].node;
    ck_assert_msg((int)run->comp.graph.nodes[node].op == op, "%s became %s", text,
                  op_info[run->comp.graph.nodes[node].op].name);
    Buf c, h;
    emit_model(run, &c, &h);

    /* The value lives on the tape when a rule reads it; a derivative that
     * a rule reads comes with the value, from the runtime. */
    bool taped = run->comp.prog.on_tape[node];
    const char *self = taped ? "tape->y" : "(*y)";
    const char *fwd = info->deriv ? arena_printf(arena, "%s(x, &tape->y_deriv)", info->fwd_deriv)
                                  : expand(arena, info->fwd, "x", "z", self, "");
    const char *want = arena_printf(arena, "%s = %s;", taped ? "tape->y" : "*y", fwd);
    ck_assert_str_eq(find_line(arena, c.data, taped ? "tape->y = " : "*y = "), want);
    ck_assert_int_eq(count_substr(h.data, " y; /*") == 1, taped);

    /* One assignment per operand's gradient, exactly the template. */
    static const char *const operand[] = { "x", "z" };
    for (int a = 0; a < info->arity; a++) {
        const char *lhs = arena_printf(arena, "*grad_%s ", operand[a]);
        want = arena_printf(arena, "%s= %s;", lhs,
                            expand(arena, info->adj[a], "x", "z", self, "seed_y"));
        ck_assert_str_eq(find_line(arena, c.data, lhs), want);
        ck_assert_int_eq(count_substr(c.data, lhs), 1);
    }
    run_free(run);
    arena_free(arena);
}
END_TEST

START_TEST(operator_in_a_fork)
{
    const int op = _i;
    if (!is_elementwise(op))
        return;
    Arena *arena = arena_new();
    /* x reaches y twice: through OP and through the product (unary), or
     * as both operands (binary). */
    const char *text = op_info[op].arity == 2
        ? arena_printf(arena, "input x\noutput y = %s\n", spell(arena, op, "x", "x"))
        : arena_printf(arena, "input x\na = %s\noutput y = a * x\n",
                       spell(arena, op, "x", NULL));
    Run *run = run_model(text);
    Buf c, h;
    emit_model(run, &c, &h);
    const char *backward = strstr(c.data, "m_backward(");
    ck_assert_ptr_nonnull(backward);
    const char *first = strstr(backward, "*grad_x = ");
    ck_assert_msg(first, "%s: no assignment to grad_x:\n%s", text, backward);
    const char *add = strstr(backward, "*grad_x += ");
    const char *sub = strstr(backward, "*grad_x -= ");
    ck_assert_msg((add != NULL) + (sub != NULL) == 1 &&
                      count_substr(backward, "*grad_x ") == 2,
                  "%s: expected one '=' and one accumulation:\n%s", text, backward);
    ck_assert_msg(first < (add ? add : sub), "%s: '=' after the accumulation", text);
    run_free(run);
    arena_free(arena);
}
END_TEST

/* Each structured operator with every operand computed (so that a read of
 * it is checked), in every operand position and form its shape rule
 * allows: %s is its name.  emit_c.c stops with an internal error when an
 * emitter reads a forward value the operator's ops.def entry does not
 * name, which fails the test. */
static const char *const struct_models[][4] = {
    [SHAPE_MATMUL] = {
        "input A[2, 3], B[3, 4], v[3], w[4]\n"
        "output y = sum(sin(sin(A) %s sin(B))) + sum(sin(sin(v) %s sin(B)))\n"
        "output z = sum(sin(sin(B) %s sin(w))) + sin(v) %s sin(v)\n",
        "input P[3, 2], Q[5, 4], B[3, 4]\n"
        "output y = sum(sin(transpose(sin(P)) %s sin(B)))\n"
        "output z = sum(sin(sin(B) %s transpose(sin(Q))))\n",
    },
    [SHAPE_REDUCE] = {
        "input A[2, 3], v[3]\noutput y = sum(sin(%s(sin(A), 0))) + %s(sin(A))\n"
        "output z = sum(sin(%s(sin(A), 1))) + %s(sin(v))\n",
    },
    [SHAPE_ROWS] = {
        "input A[2, 3], v[3]\noutput y = sum(sin(%s(sin(A)))) + sum(sin(%s(sin(v))))\n",
    },
    [SHAPE_ROWREDUCE] = {
        "input A[2, 3], v[3]\noutput y = sum(sin(%s(sin(A)))) + sin(%s(sin(v)))\n",
    },
    [SHAPE_TRANSPOSE] = {
        "input A[2, 3]\noutput y = sum(sin(%s(sin(A))))\n",
    },
    [SHAPE_OUTER] = {
        "input v[3], w[4]\noutput y = sum(sin(%s(sin(v), sin(w))))\n",
    },
    [SHAPE_CONV1D] = {
        "input x[10], h[3]\noutput y = sum(sin(%s(sin(x), sin(h))))\n",
    },
};

START_TEST(structured_adjoints_read_what_the_table_names)
{
    const int op = _i;
    if (op_info[op].kind != OPK_STRUCT)
        return;
    const char *const *models = struct_models[op_info[op].shape];
    ck_assert_msg(models[0], "no model for the shape rule of '%s'", op_info[op].name);
    const char *name = op_info[op].name;
    for (int k = 0; k < 4 && models[k]; k++) {
        char text[256];
        snprintf(text, sizeof text, models[k], name, name, name, name);
        Run *run = run_model(text);
        ck_assert_msg(find_op(&run->comp.graph, (Op)op) >= 0, "model %d has no '%s'",
                      k, name);
        Buf c, h;
        emit_model(run, &c, &h);
        run_free(run);
    }
}
END_TEST

TCase *tcase_ops(void)
{
    TCase *tc = tcase_create("operators");
    tcase_add_test(tc, templates_are_well_formed);
    tcase_add_loop_test(tc, adjoint_is_the_derivative, 0, OP_COUNT);
    tcase_add_test(tc, subgradients_follow_the_contract);
    tcase_add_test(tc, nan_takes_the_forward_branch);
    tcase_add_loop_test(tc, operator_through_the_pipeline, 0, OP_COUNT);
    tcase_add_loop_test(tc, operator_in_a_fork, 0, OP_COUNT);
    tcase_add_loop_test(tc, structured_adjoints_read_what_the_table_names, 0, OP_COUNT);
    return tc;
}
