/* test_emit.c: C emission as a whole: deterministic output, the backward
 * statements in the order reverse mode requires, and big models: nesting
 * too deep for any recursive pass, output linear in the model's size. */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

static const char *const kamper =
    "# f(x, y) = (x + sigmoid(y)) / (x^2 + y)\n"
    "input x, y\na = sigmoid(y)\nb = x + a\nc = x^2\nd = y + c\ne = 1 / d\n"
    "output f = b * e\n";

/* A model with forks, shared subexpressions, several outputs, inactive
 * values and names that C reserves. */
static const char *const busy =
    "input x, int, tape\ndata d\n"
    "a = exp(x * int) + exp(int * x)\nb = a * a - tanh(a) / tape\n"
    "c = max(b, a) ^ d\nk = d * 2\n"
    "output double = sqrt(c) + relu(b) - abs(-a) * k\n"
    "output seed_double = softplus(double) * a\n";

/* The generated files for TEXT, compiled from scratch. */
static void compile(const char *text, Arena *keep, const char **c_text,
                    const char **h_text)
{
    Run *run = run_model(text);
    Buf c, h;
    emit_model(run, &c, &h);
    *c_text = arena_strndup(keep, c.data, c.len);
    *h_text = arena_strndup(keep, h.data, h.len);
    run_free(run);
}

START_TEST(same_source_same_bytes)
{
    static const char *const *const sources[] = { &kamper, &busy };
    Arena *arena = arena_new();
    for (size_t i = 0; i < 2; i++) {
        const char *c1, *h1, *c2, *h2;
        compile(*sources[i], arena, &c1, &h1);
        /* Disturb the heap between the runs: no output may depend on
         * addresses or on leftovers of a previous compilation. */
        Arena *noise = arena_new();
        for (int k = 0; k < 100; k++)
            arena_alloc(noise, (size_t)k * 37 + 1);
        compile(*sources[i], arena, &c2, &h2);
        arena_free(noise);
        ck_assert_str_eq(c1, c2);
        ck_assert_str_eq(h1, h2);
    }
    arena_free(arena);
}
END_TEST

START_TEST(backward_assigns_before_it_accumulates)
{
    Arena *arena = arena_new();
    const char *c, *h;
    compile(kamper, arena, &c, &h);
    const char *backward = strstr(c, "void m_backward(");
    ck_assert_ptr_nonnull(backward);
    /* x and y are both forks: each gradient is assigned once, then
     * accumulated once. */
    static const char *const grads[] = { "grad_x", "grad_y" };
    for (int i = 0; i < 2; i++) {
        const char *set = strstr(backward, arena_printf(arena, "*%s = ", grads[i]));
        const char *add = strstr(backward, arena_printf(arena, "*%s += ", grads[i]));
        ck_assert_ptr_nonnull(set);
        ck_assert_ptr_nonnull(add);
        ck_assert_msg(set < add, "%s is accumulated before it is assigned", grads[i]);
        ck_assert_int_eq(count_substr(backward, arena_printf(arena, "*%s ", grads[i])), 2);
    }
    /* Every backward statement names the line it differentiates. */
    ck_assert_int_gt(count_substr(backward, "/* line "), 0);
    ck_assert_ptr_nonnull(strstr(c, "double m_grad(m_tape *"));
    ck_assert_ptr_nonnull(strstr(h, "typedef struct m_tape {"));
    arena_free(arena);
}
END_TEST

START_TEST(zero_gradient_for_an_input_that_reaches_no_output)
{
    Arena *arena = arena_new();
    const char *c, *h;
    compile("input x, z\noutput y = x * 3\n", arena, &c, &h);
    const char *line = find_line(arena, strstr(c, "m_backward("), "*grad_z = ");
    ck_assert_ptr_nonnull(line);
    char *end;
    ck_assert(strtod(line + strlen("*grad_z = "), &end) == 0);
    ck_assert_str_eq(end, ";");
    arena_free(arena);
}
END_TEST

/* SOURCE with "(-sin(" nested DEPTH times around x, then a chain of
 * CHAIN statements that each use the previous value twice. */
static const char *deep_model(Arena *arena, int depth, int chain)
{
    Buf text;
    buf_init(&text, arena);
    buf_puts(&text, "input x\nv0 = ");
    for (int i = 0; i < depth; i++)
        buf_puts(&text, i % 2 ? "sin(" : "(-");
    buf_putc(&text, 'x');
    for (int i = 0; i < depth; i++)
        buf_putc(&text, ')');
    buf_putc(&text, '\n');
    for (int i = 1; i <= chain; i++)
        buf_printf(&text, "v%d = v%d * x + v%d\n", i, i - 1, i - 1);
    buf_printf(&text, "output y = v%d\n", chain);
    return text.data;
}

START_TEST(deep_nesting_needs_no_deep_stack)
{
    enum { DEPTH = 100000, CHAIN = 20000 };
    Arena *arena = arena_new();
    Run *run = run_model(deep_model(arena, DEPTH, CHAIN));
    /* Every sin is a node of its own with an adjoint. */
    ck_assert_int_eq(count_op(&run->comp.graph, OP_SIN), DEPTH / 2);
    int sin_steps = 0;
    const AdjointProgram *prog = &run->comp.prog;
    for (size_t s = 0; s < prog->nsteps; s++)
        sin_steps += prog->steps[s].from >= 0 &&
                     run->comp.graph.nodes[prog->steps[s].from].op == OP_SIN;
    ck_assert_int_eq(sin_steps, DEPTH / 2);
    run_free(run);
    arena_free(arena);
}
END_TEST

/* The generated files grow linearly with the model, however long one
 * statement is: doubling the nesting at most doubles them (with slack). */
START_TEST(output_size_is_linear_in_the_model)
{
    Arena *arena = arena_new();
    size_t size[2];
    for (int i = 0; i < 2; i++) {
        Run *run = run_model(deep_model(arena, 1000 << i, 0));
        Buf c, h;
        emit_model(run, &c, &h);
        size[i] = c.len + h.len;
        run_free(run);
    }
    ck_assert_msg(2 * size[1] < 5 * size[0],
                  "nesting 1000 -> %zu bytes, 2000 -> %zu bytes", size[0], size[1]);
    arena_free(arena);
}
END_TEST

/* lifetime.c: equal sizes share a slot once the earlier array is dead; an
 * array written where another is last read, an overlapping one or one of
 * another size gets its own. */
START_TEST(dead_arrays_of_one_size_share_a_slot)
{
    static const Lifetime life[] = {
        { 0, 2, 8 },   /* a: slot 0 */
        { 1, 3, 8 },   /* b: overlaps a, slot 1 */
        { 2, 4, 8 },   /* c: written where a is last read, slot 2 */
        { 3, 3, 4 },   /* d: another size, slot 3 */
        { 4, 6, 8 },   /* e: a's or b's, both dead; not c's, live */
        { 5, 5, 8 },   /* f: no new slot */
        { 6, 7, 4 },   /* g: d's */
        { 7, 7, 8 },   /* h: not e's, live */
    };
    enum { N = sizeof life / sizeof *life };
    int slot[N];
    Arena *arena = arena_new();
    ck_assert_int_eq(lifetime_slots(life, N, slot, arena), 4);
    ck_assert_int_eq(slot[0], 0);
    ck_assert_int_eq(slot[1], 1);
    ck_assert_int_eq(slot[2], 2);
    ck_assert_int_eq(slot[3], 3);
    ck_assert(slot[4] == 0 || slot[4] == 1);
    ck_assert_int_eq(slot[6], 3);
    /* however the slots are chosen: no two live arrays share one */
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            if (slot[i] == slot[j])
                ck_assert(life[i].last < life[j].first && life[i].size == life[j].size);
    arena_free(arena);
}
END_TEST

/* Locals the stack budget cannot hold go to the tape's work area, and
 * dead ones are reused: in a 200-layer network whose arrays are 80 KB
 * each, the work area holds a few of them, not one per layer. */
START_TEST(large_temporaries_go_to_the_work_area)
{
    Arena *arena = arena_new();
    Buf text;
    buf_init(&text, arena);
    buf_puts(&text, "data X[100, 100]\ninput W[100, 100]\nh1 = tanh(X @ W) + X\n");
    for (int i = 2; i <= 200; i++)
        buf_printf(&text, "h%d = tanh(h%d @ W) + h%d\n", i, i - 1, i - 1);
    buf_puts(&text, "output loss = sum(h200)\n");
    const char *c, *h;
    compile(text.data, arena, &c, &h);
    const char *work = strstr(h, "    double work[");
    ck_assert_ptr_nonnull(work);
    long elements = strtol(work + strlen("    double work["), NULL, 10);
    ck_assert_int_ge(elements, 10000);
    ck_assert_int_le(elements, 4 * 10000);
    ck_assert_ptr_nonnull(strstr(h, "one call at a time per tape"));
    ck_assert_ptr_null(strstr(h, "bytes of stack"));
    ck_assert_ptr_nonnull(strstr(c, "    double *const work = tape->work;\n"));
    ck_assert_ptr_nonnull(strstr(c, "    double *const work = (double *)tape->work;\n"));
    ck_assert_int_ge(count_substr(c, "= work;"), 200);
    arena_free(arena);
}
END_TEST

/* Literals: the shortest text that reads back as the value rounded to the
 * type, integers with a point, negatives bracketed, float's with an f. */
START_TEST(literals_round_to_their_type)
{
    static const struct {
        double v;
        const char *as_double, *as_float;
    } cases[] = {
        { 2, "2.0", "2.0f" },
        { 0.1, "0.1", "0.1f" },
        { -1.5, "(-1.5)", "(-1.5f)" },
        { -0.0, "(-0.0)", "(-0.0f)" },
        { 1.0 / 3, "0.3333333333333333", "0.33333334f" },
        /* 2^24 + 1 is no float: it rounds to 2^24 */
        { 16777217, "16777217.0", "16777216.0f" },
        { 1e300, "1e+300", "HUGE_VALF" },
        { -1e300, "(-1e+300)", "(-HUGE_VALF)" },
        { 1e-50, "1e-50", "0.0f" },
    };
    Arena *arena = arena_new();
    const RealType *dbl = real_type("double"), *flt = real_type("float");
    ck_assert_ptr_nonnull(dbl);
    ck_assert_ptr_nonnull(flt);
    ck_assert_ptr_null(real_type("half"));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_str_eq(real_literal(arena, dbl, cases[i].v), cases[i].as_double);
        ck_assert_str_eq(real_literal(arena, flt, cases[i].v), cases[i].as_float);
    }
    arena_free(arena);
}
END_TEST

/* --type=float: float everywhere, and every call and literal of ops.def's
 * templates in its float form. */
START_TEST(float_code_has_no_double)
{
    Arena *arena = arena_new();
    Run *run = run_model(busy);
    Buf c, h;
    emit_model_as(run, real_type("float"), &c, &h);
    /* the code without its comments, which quote the source */
    char *code = arena_strdup(arena, c.data);
    for (char *open = strstr(code, "/*"); open; open = strstr(open, "/*")) {
        char *close = strstr(open, "*/");
        ck_assert_ptr_nonnull(close);
        memset(open, ' ', (size_t)(close + 2 - open));
    }
    const char *forms[] = { "exp", "tanh", "sqrt", "pow", "fabs", "log" };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        const char *call = arena_printf(arena, "%s(", forms[i]);
        for (const char *at = strstr(code, call); at; at = strstr(at + 1, call))
            ck_assert_msg(at > code && (at[-1] == '_' || (at[-1] >= 'a' && at[-1] <= 'z')),
                          "a double call %s in float code", call);
    }
    ck_assert_ptr_nonnull(strstr(c.data, "expf("));
    ck_assert_ptr_nonnull(strstr(c.data, "powf("));
    ck_assert_ptr_nonnull(strstr(c.data, "gradrt_tanh_with_derivf("));
    ck_assert_ptr_null(strstr(code, " double "));
    ck_assert_ptr_null(strstr(code, "(double "));
    ck_assert_ptr_null(strstr(h.data, "    double "));
    ck_assert_ptr_null(strstr(code, "0.0;"));
    ck_assert_ptr_null(strstr(code, "0.0 :"));
    ck_assert_ptr_nonnull(strstr(c.data, "generated by gradc --type=float from"));
    ck_assert_ptr_nonnull(strstr(h.data, "arrays of floats"));
    run_free(run);
    arena_free(arena);
}
END_TEST

TCase *tcase_emit(void)
{
    TCase *tc = tcase_create("C emission");
    tcase_add_test(tc, same_source_same_bytes);
    tcase_add_test(tc, backward_assigns_before_it_accumulates);
    tcase_add_test(tc, zero_gradient_for_an_input_that_reaches_no_output);
    tcase_add_test(tc, deep_nesting_needs_no_deep_stack);
    tcase_add_test(tc, output_size_is_linear_in_the_model);
    tcase_add_test(tc, dead_arrays_of_one_size_share_a_slot);
    tcase_add_test(tc, large_temporaries_go_to_the_work_area);
    tcase_add_test(tc, literals_round_to_their_type);
    tcase_add_test(tc, float_code_has_no_double);
    /* The deep models are big; give them time under valgrind and
     * sanitizers. */
    tcase_set_timeout(tc, 60);
    return tc;
}
