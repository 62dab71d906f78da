/* test_check.c: semantic checks.  Every error and warning with its exact
 * message, line and column (the header lines of the diagnostics, notes
 * included), and the shapes inferred for valid models. */
#include <string.h>

#include "unit.h"

typedef struct DiagCase {
    const char *source;
    const char *expected;
} DiagCase;

#define ZEROS_10 "0000000000"
#define ZEROS_110 ZEROS_10 ZEROS_10 ZEROS_10 ZEROS_10 ZEROS_10 ZEROS_10 \
    ZEROS_10 ZEROS_10 ZEROS_10 ZEROS_10 ZEROS_10
#define ZEROS_330 ZEROS_110 ZEROS_110 ZEROS_110

static const DiagCase diag_cases[] = {
    /* names */
    { "input alpha\noutput y = alpah * 2\n",
      "t.grad:2:12: error: unknown name 'alpah'; did you mean 'alpha'?\n" },
    { "input x\noutput y = x + zzz\n",
      "t.grad:2:16: error: unknown name 'zzz'\n" },
    { "input x\na = foo\nb = bar\noutput y = a + b\n",
      "t.grad:2:5: error: unknown name 'foo'\n"
      "t.grad:3:5: error: unknown name 'bar'\n" },
    /* an unknown operand raises no shape error further up */
    { "input v[3]\noutput y = sum(v + foo) @ v\n",
      "t.grad:2:20: error: unknown name 'foo'\n" },
    { "input x\noutput y = sinn(x)\n",
      "t.grad:2:12: error: unknown function 'sinn'; did you mean 'sin'?\n" },
    { "input v[3]\noutput y = sum(softmx(v))\n",
      "t.grad:2:16: error: unknown function 'softmx'; did you mean 'softmax'?\n" },
    { "input x\noutput y = frobnicate(x)\n",
      "t.grad:2:12: error: unknown function 'frobnicate'\n" },
    { "input x\noutput y = x * exp\n",
      "t.grad:2:16: error: 'exp' is a built-in function; call it as exp(...)\n" },
    { "input x\na = x * 2\noutput y = a(x)\n",
      "t.grad:3:12: error: 'a' is a value, not a function\n" },
    { "input x\nexp = x\noutput y = x\n",
      "t.grad:2:1: error: 'exp' is a built-in function and cannot name a value\n" },
    { "input sum\noutput y = 1\n",
      "t.grad:1:7: error: 'sum' is a built-in function and cannot name a value\n" },
    { "input x\noutput relu = x\n",
      "t.grad:2:8: error: 'relu' is a built-in function and cannot name a value\n" },
    /* arity */
    { "input x\noutput y = exp(x, x)\n",
      "t.grad:2:12: error: exp() takes 1 argument, got 2\n" },
    { "input x\noutput y = exp()\n",
      "t.grad:2:12: error: exp() takes 1 argument, got 0\n" },
    { "input x\noutput y = max(x)\n",
      "t.grad:2:12: error: max() takes 2 arguments, got 1\n" },
    { "input x\noutput y = sum()\n",
      "t.grad:2:12: error: sum() takes 1 or 2 arguments (a value and an axis), got 0\n" },
    { "input M[2, 3]\noutput y = mean(M, 0, 1)\n",
      "t.grad:2:12: error: mean() takes 1 or 2 arguments (a value and an axis), got 3\n" },
    /* definitions */
    { "input x\na = x\na = 2 * x\noutput y = a\n",
      "t.grad:3:1: error: redefinition of 'a'\n"
      "t.grad:2:1: note: 'a' was first defined here\n" },
    { "input x, x\noutput y = x\n",
      "t.grad:1:10: error: redefinition of 'x'\n"
      "t.grad:1:7: note: 'x' was first defined here\n" },
    { "data d\ninput d\noutput y = d\n",
      "t.grad:2:7: error: redefinition of 'd'\n"
      "t.grad:1:6: note: 'd' was first defined here\n" },
    { "input x\ny = x\noutput y = x\n",
      "t.grad:3:8: error: redefinition of 'y'\n"
      "t.grad:2:1: note: 'y' was first defined here\n" },
    { "input x\nx = 2\noutput y = x\n",
      "t.grad:2:1: error: cannot assign to input 'x'\n"
      "t.grad:1:7: note: 'x' is declared as an input here\n" },
    { "input x\noutput x = 2\n",
      "t.grad:2:8: error: cannot assign to input 'x'\n"
      "t.grad:1:7: note: 'x' is declared as an input here\n" },
    { "data d\ninput x\nd = 2\noutput y = x * d\n",
      "t.grad:3:1: error: cannot assign to data 'd'\n"
      "t.grad:1:6: note: 'd' is declared as data here\n" },
    { "input x\na = b\nb = x\noutput y = a\n",
      "t.grad:2:5: error: 'b' is used before its definition\n"
      "t.grad:3:1: note: 'b' is defined here\n" },
    { "input x\na = a + x\noutput y = a\n",
      "t.grad:2:5: error: 'a' is used in its own definition\n" },
    { "input x\noutput y = x * y\n",
      "t.grad:2:16: error: 'y' is used in its own definition\n" },
    { "input x\na = x\n",
      "t.grad:1:1: error: the model has no output; declare one with "
      "'output NAME = expression'\n" },
    { "",
      "t.grad:1:1: error: the model has no output; declare one with "
      "'output NAME = expression'\n" },
    /* dimensions */
    { "input x[0]\noutput y = sum(x)\n",
      "t.grad:1:9: error: a dimension must be positive, not 0\n" },
    { "input x[3, 00]\noutput y = sum(x)\n",
      "t.grad:1:12: error: a dimension must be positive, not 0\n" },
    { "input x[2.5]\noutput y = sum(x)\n",
      "t.grad:1:9: error: a dimension must be a positive integer, not '2.5'\n" },
    { "data X[1e3]\ninput x\noutput y = x\n",
      "t.grad:1:8: error: a dimension must be a positive integer, not '1e3'\n" },
    { "input x[2147483648]\noutput y = sum(x)\n",
      "t.grad:1:9: error: dimension 2147483648 is too large; at most "
      "2147483647 is supported\n" },
    { "input x[99999999999999999999999]\noutput y = sum(x)\n",
      "t.grad:1:9: error: dimension 99999999999999999999999 is too large; "
      "at most 2147483647 is supported\n" },
    { "input x[65536, 65536]\noutput y = sum(x)\n",
      "t.grad:1:9: error: 'x' has 4294967296 elements; at most 2147483647 "
      "are supported\n" },
    { "input x[2, 3, 4]\noutput y = sum(x)\n",
      "t.grad:1:15: error: 'x' has 3 dimensions; at most 2 are supported "
      "(a vector [n] or a matrix [m, n])\n" },
    /* numbers */
    { "input x\noutput y = x * 1e400\n",
      "t.grad:2:16: error: number '1e400' is too large for a double\n" },
    /* axes */
    { "input M[2, 3]\noutput y = sum(M, 2)\n",
      "t.grad:2:19: error: sum() of [2, 3] has no axis 2; the axis must be 0 or 1\n" },
    { "input M[2, 3]\noutput y = sum(M, -1)\n",
      "t.grad:2:19: error: the axis of sum() must be the number 0 or 1\n" },
    { "input M[2, 3]\ndata k\noutput y = mean(M, k)\n",
      "t.grad:3:20: error: the axis of mean() must be the number 0 or 1\n" },
    { "input v[3]\noutput y = sum(v, 0)\n",
      "t.grad:2:19: error: sum() takes an axis only for a matrix; its argument is [3]\n" },
    /* shapes */
    { "input a[4], b[3]\noutput y = a + b\n",
      "t.grad:2:14: error: shapes [4] and [3] do not broadcast for '+' "
      "(dimension 4 against 3)\n" },
    { "input A[3, 4], b[3]\noutput y = A * b\n",
      "t.grad:2:14: error: shapes [3, 4] and [3] do not broadcast for '*' "
      "(dimension 4 against 3)\n" },
    { "input A[3, 4], B[4, 3]\noutput y = max(A, B)\n",
      "t.grad:2:12: error: shapes [3, 4] and [4, 3] do not broadcast for 'max' "
      "(dimension 4 against 3)\n" },
    { "input A[3, 4], v[5]\noutput y = A @ v\n",
      "t.grad:2:14: error: matrix product [3, 4] @ [5]: inner dimensions 4 and 5 differ\n" },
    { "input x, v[3]\noutput y = x @ v\n",
      "t.grad:2:14: error: '@' multiplies vectors and matrices, not scalar @ [3]; "
      "use '*' for a scalar\n" },
    { "input x[8], h[4]\noutput y = conv1d(x, h)\n",
      "t.grad:2:22: error: conv1d() needs a kernel of odd length, got [4]\n" },
    { "input M[2, 3], h[3]\noutput y = conv1d(M, h)\n",
      "t.grad:2:12: error: conv1d() needs a vector and a kernel vector, got "
      "[2, 3] and [3]\n" },
    { "input x\noutput y = softmax(x)\n",
      "t.grad:2:12: error: softmax() needs a vector or a matrix, got a scalar\n" },
    { "input x\noutput y = logsumexp(x)\n",
      "t.grad:2:12: error: logsumexp() needs a vector or a matrix, got a scalar\n" },
    { "input v[3]\noutput y = transpose(v)\n",
      "t.grad:2:12: error: transpose() needs a matrix, got [3]\n" },
    { "input A[2, 2], v[2]\noutput y = outer(A, v)\n",
      "t.grad:2:12: error: outer() needs two vectors, got [2, 2] and [2]\n" },
    /* warnings */
    { "input x\na = x * 2\noutput y = x + 1\n",
      "t.grad:2:1: warning: 'a' is defined but never used\n" },
    { "input x, z\noutput y = x * 3\n",
      "t.grad:1:10: warning: input 'z' does not affect any output; its "
      "gradient is always zero\n" },
    { "input x\ndata z\noutput y = x * 3\n",
      "t.grad:2:6: warning: data 'z' does not affect any output\n" },
    { "input x, z\na = z * 2\noutput y = x\n",
      "t.grad:2:1: warning: 'a' is defined but never used\n"
      "t.grad:1:10: warning: input 'z' does not affect any output; its "
      "gradient is always zero\n" },
    { "input x\noutput y = x * 1e-400\n",
      "t.grad:2:16: warning: number '1e-400' is too small for a double and "
      "becomes 0\n" },
    /* decided by the value, not the spelling: an exact 0 whatever its
     * exponent, and a nonzero literal without one that underflows */
    { "input x\noutput y = x * 0e5 + 0e-400 + 0.0e999 + 00.000E-0\n", "" },
    { "input x\noutput y = x * 0." ZEROS_330 "1\n",
      "t.grad:2:16: warning: number '0." ZEROS_330 "1' is too small for a "
      "double and becomes 0\n" },
    /* valid models say nothing */
    { "input x\na = x\noutput y = a\noutput z = y * a\n", "" },
    { "input x[2147483647]\noutput y = sum(x)\n", "" },
    { "input x[000000000003]\noutput y = sum(x)\n", "" },
};

START_TEST(diagnostic)
{
    Arena *arena = arena_new();
    const DiagCase *c = &diag_cases[_i];
    ck_assert_str_eq(diags_of(arena, c->source), c->expected);
    arena_free(arena);
}
END_TEST

typedef struct ShapeCase {
    const char *decls;
    const char *expr;
    const char *shape;
} ShapeCase;

static const ShapeCase shape_cases[] = {
    { "A[3, 4], B[4, 5]", "A @ B", "[3, 5]" },
    { "A[3, 4], v[4]", "A @ v", "[3]" },
    { "v[3], A[3, 4]", "v @ A", "[4]" },
    { "v[4], w[4]", "v @ w", "scalar" },
    { "A[3, 4], b[4]", "A + b", "[3, 4]" },
    { "c[3, 1], r[1, 4]", "c - r", "[3, 4]" },
    { "A[3, 4], x", "x * A", "[3, 4]" },
    { "A[3, 4], c[3, 1]", "A / c", "[3, 4]" },
    { "v[1], w[5]", "v + w", "[5]" },
    { "A[3, 4]", "sum(A)", "scalar" },
    { "A[3, 4]", "sum(A, 0)", "[4]" },
    { "A[3, 4]", "sum(A, 1)", "[3]" },
    { "A[3, 4]", "mean(A, 0)", "[4]" },
    { "v[5]", "mean(v)", "scalar" },
    { "A[3, 4]", "softmax(A)", "[3, 4]" },
    { "A[3, 4]", "log_softmax(A)", "[3, 4]" },
    { "A[3, 4]", "logsumexp(A)", "[3]" },
    { "v[5]", "logsumexp(v)", "scalar" },
    { "A[3, 4]", "transpose(A)", "[4, 3]" },
    { "v[3], w[2]", "outer(v, w)", "[3, 2]" },
    { "x[8], h[3]", "conv1d(x, h)", "[8]" },
    { "A[3, 4]", "-exp(A)^2", "[3, 4]" },
    { "A[3, 4]", "max(A, 0)", "[3, 4]" },
    { "x", "sigmoid(x) * 2", "scalar" },
};

START_TEST(inferred_shape)
{
    const ShapeCase *c = &shape_cases[_i];
    Arena *arena = arena_new();
    const char *text = arena_printf(arena, "input %s\noutput y = %s\n",
                                    c->decls, c->expr);
    Run *run = run_text(text, STAGE_CHECK);
    ck_assert_msg(run->comp.diag.errors == 0, "%s", run->log);
    const Stmt *out = &run->comp.ast.stmts[run->comp.ast.nstmts - 1];
    ck_assert_str_eq(shape_str(arena, out->shape), c->shape);
    ck_assert(shape_equal(out->shape, out->expr->shape));
    run_free(run);
    arena_free(arena);
}
END_TEST

START_TEST(names_resolve_to_their_statements)
{
    Run *run = run_text("input x\ndata d\na = x * d\noutput y = a + x\n",
                        STAGE_CHECK);
    ck_assert_int_eq(run->comp.diag.errors, 0);
    for (size_t i = 0; i < run->comp.ast.nexprs; i++) {
        const Expr *e = run->comp.ast.exprs[i];
        if (e->kind != EXPR_NAME)
            continue;
        ck_assert_int_ge(e->def, 0);
        ck_assert_str_eq(run->comp.ast.stmts[e->def].name, e->name);
    }
    run_free(run);
}
END_TEST

START_TEST(shape_helpers)
{
    Arena *arena = arena_new();
    Shape scalar = { 0, { 0, 0 } }, v3 = { 1, { 3, 0 } }, m23 = { 2, { 2, 3 } };
    Shape m32 = { 2, { 3, 2 } };
    ck_assert_str_eq(shape_str(arena, scalar), "scalar");
    ck_assert_str_eq(shape_str(arena, v3), "[3]");
    ck_assert_str_eq(shape_str(arena, m23), "[2, 3]");
    ck_assert_int_eq(shape_size(scalar), 1);
    ck_assert_int_eq(shape_size(v3), 3);
    ck_assert_int_eq(shape_size(m23), 6);
    ck_assert(shape_equal(m23, m23));
    ck_assert(!shape_equal(m23, m32));
    ck_assert(!shape_equal(v3, scalar));
    arena_free(arena);
}
END_TEST

TCase *tcase_check(void)
{
    TCase *tc = tcase_create("semantic checks");
    tcase_add_loop_test(tc, diagnostic, 0,
                        (int)(sizeof diag_cases / sizeof *diag_cases));
    tcase_add_loop_test(tc, inferred_shape, 0,
                        (int)(sizeof shape_cases / sizeof *shape_cases));
    tcase_add_test(tc, names_resolve_to_their_statements);
    tcase_add_test(tc, shape_helpers);
    return tc;
}
