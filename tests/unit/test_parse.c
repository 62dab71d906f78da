/* test_parse.c: the lexer and the parser, through ast_dump's
 * s-expressions and the diagnostics they report. */
#include <string.h>

#include "unit.h"

#define ck_assert_ast(text, expected)                                  \
    do {                                                               \
        Arena *arena_ = arena_new();                                   \
        ck_assert_str_eq(ast_of(arena_, (text)), (expected));          \
        arena_free(arena_);                                            \
    } while (0)

/* The diagnostics of parsing LEN bytes of TEXT. */
static const char *parse_errors(Arena *arena, const char *text, size_t len)
{
    Run *run = run_bytes(text, len, STAGE_PARSE);
    const char *headers = arena_strdup(arena, diag_headers(run));
    run_free(run);
    return headers;
}

#define ck_assert_parse_errors(text, expected)                              \
    do {                                                                    \
        Arena *arena_ = arena_new();                                        \
        ck_assert_str_eq(parse_errors(arena_, (text), strlen(text)),        \
                         (expected));                                       \
        arena_free(arena_);                                                 \
    } while (0)

START_TEST(precedence_and_associativity)
{
    ck_assert_ast("y = -x^2\n", "y = (neg (^ x 2))\n");
    ck_assert_ast("y = 2^3^2\n", "y = (^ 2 (^ 3 2))\n");
    ck_assert_ast("y = a - b - c\n", "y = (- (- a b) c)\n");
    ck_assert_ast("y = a / b / c\n", "y = (/ (/ a b) c)\n");
    ck_assert_ast("y = x^-1\n", "y = (^ x (neg 1))\n");
    ck_assert_ast("y = x^-y^2\n", "y = (^ x (neg (^ y 2)))\n");
    ck_assert_ast("y = a + b * c ^ 2\n", "y = (+ a (* b (^ c 2)))\n");
    ck_assert_ast("y = a * b / c @ d\n", "y = (@ (/ (* a b) c) d)\n");
    ck_assert_ast("y = -a * b\n", "y = (* (neg a) b)\n");
    ck_assert_ast("y = a * -b\n", "y = (* a (neg b))\n");
    ck_assert_ast("y = - - a\n", "y = (neg (neg a))\n");
    ck_assert_ast("y = a - -b\n", "y = (- a (neg b))\n");
    ck_assert_ast("y = (a + b) * c\n", "y = (* (+ a b) c)\n");
    ck_assert_ast("y = (-x)^2\n", "y = (^ (neg x) 2)\n");
    ck_assert_ast("y = f(a, b + c, g(d))^2\n", "y = (^ (f a (+ b c) (g d)) 2)\n");
    ck_assert_ast("y = f()\n", "y = (f)\n");
}
END_TEST

START_TEST(statements_and_declarations)
{
    ck_assert_ast("input x, y\ndata X[8, 784], Y[8, 10], s\noutput o = x\nv = y\n",
                  "input x\ninput y\ndata X[8,784]\ndata Y[8,10]\ndata s\n"
                  "output o = x\nv = y\n");
    /* Dimensions are kept as written; check.c judges them. */
    ck_assert_ast("input v[3], w[2.5], u[0, 1, 2]\n",
                  "input v[3]\ninput w[2.5]\ninput u[0,1,2]\n");
    /* Keywords are only keywords; C keywords and 'inputs' are names. */
    ck_assert_ast("inputs = int + tape + output_1\n",
                  "inputs = (+ (+ int tape) output_1)\n");
}
END_TEST

START_TEST(comments_separators_and_line_ends)
{
    const char *expected = "input x\na = (+ x 1)\noutput y = (* a 2)\n";
    ck_assert_ast("input x\na = x + 1\noutput y = a * 2\n", expected);
    ck_assert_ast("# a model\ninput x # the input\n\n  # indented comment\n"
                  "a = x + 1 # a = x + 1; b = 2\noutput y = a * 2 # end",
                  expected);
    ck_assert_ast("input x; a = x + 1; output y = a * 2", expected);
    ck_assert_ast(";;\n\n; input x;;\na = x + 1;\n\noutput y = a * 2;\n", expected);
    ck_assert_ast("input x\r\na = x + 1\r\n\r\noutput y = a * 2\r\n", expected);
    ck_assert_ast("input x\r\na = x + 1\r\noutput y = a * 2", expected);
    ck_assert_ast("\t input x \t\f\v\na\t=x+1\noutput y=a*2\n", expected);
    ck_assert_ast("", "");
    ck_assert_ast("# only a comment", "");
}
END_TEST

START_TEST(newline_inside_parentheses_continues)
{
    ck_assert_ast("y = (a +\n  b\n  ) * c\n", "y = (* (+ a b) c)\n");
    ck_assert_ast("y = (a +\n\n  # a comment\n  b)\nz = y\n",
                  "y = (+ a b)\nz = y\n");
    ck_assert_ast("y = max(a,\r\n        b)\n", "y = (max a b)\n");
    ck_assert_ast("input W[2,\n  3]\n", "input W[2,3]\n");
    /* Outside brackets the newline ends the statement. */
    ck_assert_parse_errors("y = a +\n  b\n",
                           "t.grad:1:8: error: syntax error: expected an "
                           "expression, found end of line\n"
                           "t.grad:2:4: error: syntax error: expected '=', "
                           "found end of line\n");
}
END_TEST

START_TEST(number_literals)
{
    Run *run = run_text("y = 3 + 3.0 + .5 + 1e-3 + 2.5E+4 + 7. + 1E5 + 00012\n",
                        STAGE_PARSE);
    ck_assert_int_eq(run->comp.diag.errors, 0);
    static const struct { const char *text; double value; } numbers[] = {
        { "3", 3 }, { "3.0", 3 }, { ".5", 0.5 }, { "1e-3", 1e-3 },
        { "2.5E+4", 2.5e4 }, { "7.", 7 }, { "1E5", 1e5 }, { "00012", 12 },
    };
    size_t found = 0;
    for (size_t i = 0; i < run->comp.ast.nexprs; i++) {
        const Expr *e = run->comp.ast.exprs[i];
        if (e->kind != EXPR_NUM)
            continue;
        ck_assert_uint_lt(found, sizeof numbers / sizeof *numbers);
        ck_assert_str_eq(e->name, numbers[found].text);
        ck_assert(e->num == numbers[found].value);
        found++;
    }
    ck_assert_uint_eq(found, sizeof numbers / sizeof *numbers);
    run_free(run);
    /* A name may contain digits; a number followed by a name is two tokens. */
    ck_assert_ast("y = x1e5\n", "y = x1e5\n");
    ck_assert_parse_errors("y = 2x\n",
                           "t.grad:1:6: error: syntax error: expected an operator, "
                           "end of line or ';', found name\n");
}
END_TEST

START_TEST(spans_cover_the_source)
{
    const char *text = "input a\noutput y = exp(a) + a * 2\n";
    Run *run = run_text(text, STAGE_PARSE);
    ck_assert_int_eq(run->comp.diag.errors, 0);
    ck_assert_uint_eq(run->comp.ast.nstmts, 2);
    const Stmt *out = &run->comp.ast.stmts[1];
    ck_assert_int_eq(out->kind, STMT_OUTPUT);
    ck_assert_str_eq(out->name, "y");
    /* "y" is at offset 15; the statement runs from "output" to "2". */
    ck_assert_uint_eq(out->name_span.off, 15);
    ck_assert_uint_eq(out->name_span.end, 16);
    ck_assert_uint_eq(out->span.off, 8);
    ck_assert_uint_eq(out->span.end, 33);
    const Expr *sum = out->expr;
    ck_assert_int_eq(sum->kind, EXPR_BINARY);
    ck_assert_int_eq(sum->op, OP_ADD);
    ck_assert_uint_eq(sum->span.off, 19);
    ck_assert_uint_eq(sum->span.end, 33);
    ck_assert_uint_eq(sum->op_span.off, 26); /* the '+' */
    const Expr *call = sum->args[0];
    ck_assert_int_eq(call->kind, EXPR_CALL);
    ck_assert_uint_eq(call->op_span.off, 19); /* the name "exp" */
    ck_assert_uint_eq(call->op_span.end, 22);
    ck_assert_uint_eq(call->span.end, 25);
    /* Operands are created before the expressions that use them. */
    for (size_t i = 0; i < run->comp.ast.nexprs; i++) {
        const Expr *e = run->comp.ast.exprs[i];
        ck_assert_int_eq(e->id, (int)i);
        for (int a = 0; a < e->nargs; a++)
            ck_assert_int_lt(e->args[a]->id, e->id);
    }
    run_free(run);
}
END_TEST

START_TEST(syntax_errors_say_what_was_expected)
{
    ck_assert_parse_errors("input x\noutput y = x +\n",
                           "t.grad:2:15: error: syntax error: expected an "
                           "expression, found end of line\n");
    ck_assert_parse_errors("input x\noutput y = x * * x\n",
                           "t.grad:2:16: error: syntax error: expected an "
                           "expression, found '*'\n");
    /* A missing ')' at the end of the file also points at the '('. */
    ck_assert_parse_errors("input x\noutput y = (x + 1",
                           "t.grad:2:18: error: syntax error: expected an "
                           "operator or ')', found end of file\n"
                           "t.grad:2:12: note: to match this '('\n");
    ck_assert_parse_errors("input x\noutput y x\n",
                           "t.grad:2:10: error: syntax error: expected '=', "
                           "found name\n");
    ck_assert_parse_errors("input x\noutput y = (x))\n",
                           "t.grad:2:15: error: syntax error: expected an "
                           "operator, end of line or ';', found ')'\n");
    ck_assert_parse_errors("input x[3\noutput y = x\n",
                           "t.grad:2:1: error: syntax error: expected ',' or "
                           "']', found 'output'\n");
    ck_assert_parse_errors("input x,\n",
                           "t.grad:1:9: error: syntax error: expected name, "
                           "found end of line\n");
    ck_assert_parse_errors("output = 1\n",
                           "t.grad:1:8: error: syntax error: expected name, "
                           "found '='\n");
}
END_TEST

START_TEST(parser_recovers_at_the_next_line)
{
    ck_assert_parse_errors("input x\na = x +\nb = 2 x\nc = * x\noutput y = a\n",
                           "t.grad:2:8: error: syntax error: expected an "
                           "expression, found end of line\n"
                           "t.grad:3:7: error: syntax error: expected an operator, "
                           "end of line or ';', found name\n"
                           "t.grad:4:5: error: syntax error: expected an "
                           "expression, found '*'\n");
    /* ';' ends a statement too. */
    ck_assert_parse_errors("a = +; b = )\n",
                           "t.grad:1:5: error: syntax error: expected an "
                           "expression, found '+'\n"
                           "t.grad:1:12: error: syntax error: expected an "
                           "expression, found ')'\n");
}
END_TEST

START_TEST(lexical_errors)
{
    Arena *arena = arena_new();
    ck_assert_parse_errors("input x\noutput y = $x\n",
                           "t.grad:2:12: error: invalid character '$'\n");
    ck_assert_parse_errors("input x\noutput y = x\x01\n",
                           "t.grad:2:13: error: invalid control character 0x01\n");
    /* Non-ASCII text is fine in comments only; a UTF-8 character is one
     * error, an invalid byte another. */
    ck_assert_parse_errors("# caf\xc3\xa9\ninput x\noutput y = x\xc3\xa9\n",
                           "t.grad:3:13: error: invalid character: non-ASCII "
                           "text is only allowed in comments\n");
    ck_assert_parse_errors("input x\noutput y = x\x80\n",
                           "t.grad:2:13: error: invalid byte 0x80 (not UTF-8 text)\n");
    ck_assert_str_eq(parse_errors(arena, "input x\noutput y = x\0\n", 22),
                     "t.grad:2:13: error: invalid NUL byte in source\n");
    /* A bad number is one error, not a cascade. */
    ck_assert_parse_errors("input x\noutput y = 1e + x\n",
                           "t.grad:2:12: error: malformed number '1e': the "
                           "exponent has no digits\n");
    ck_assert_parse_errors("input x\noutput y = x * 2.5E-\n",
                           "t.grad:2:16: error: malformed number '2.5E-': the "
                           "exponent has no digits\n");
    arena_free(arena);
}
END_TEST

/* Only a number can follow '[': the message must not ask for an
 * expression, which would not be accepted either. */
START_TEST(dimension_syntax_error_asks_for_a_number)
{
    Arena *arena = arena_new();
    const char *text = "input x[-3]\n";
    const char *message = parse_errors(arena, text, strlen(text));
    const char *prefix = "t.grad:1:9: error: syntax error: expected ";
    ck_assert_int_eq(strncmp(message, prefix, strlen(prefix)), 0);
    ck_assert_msg(strstr(message, "number") && !strstr(message, "expression"),
                  "%s", message);
    arena_free(arena);
}
END_TEST

/* Whatever the line ending, an error at the end of a line is reported
 * just past its last character, where the caret is drawn. */
START_TEST(crlf_columns_match_lf)
{
    ck_assert_parse_errors("input x\r\noutput y = x +\r\n",
                           "t.grad:2:15: error: syntax error: expected an "
                           "expression, found end of line\n");
}
END_TEST

/* An invalid character is reported once; the parser does not also trip
 * over the statement it was removed from. */
START_TEST(invalid_character_does_not_cascade)
{
    ck_assert_parse_errors("input x\noutput y = x $ 2\n",
                           "t.grad:2:14: error: invalid character '$'\n");
}
END_TEST

TCase *tcase_lexer_parser(void)
{
    TCase *tc = tcase_create("lexer and parser");
    tcase_add_test(tc, precedence_and_associativity);
    tcase_add_test(tc, statements_and_declarations);
    tcase_add_test(tc, comments_separators_and_line_ends);
    tcase_add_test(tc, newline_inside_parentheses_continues);
    tcase_add_test(tc, number_literals);
    tcase_add_test(tc, spans_cover_the_source);
    tcase_add_test(tc, syntax_errors_say_what_was_expected);
    tcase_add_test(tc, parser_recovers_at_the_next_line);
    tcase_add_test(tc, lexical_errors);
    tcase_add_test(tc, dimension_syntax_error_asks_for_a_number);
    tcase_add_test(tc, crlf_columns_match_lf);
    tcase_add_test(tc, invalid_character_does_not_cascade);
    return tc;
}
