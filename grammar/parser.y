/* parser.y: the .grad grammar.  Builds the Ast.  An expression is created
 * when its rule is reduced, after its operands, so Ast.exprs is in
 * post-order and later passes need no recursion however deep the nesting. */
%code requires {
#include "gradc.h"

#ifndef YY_TYPEDEF_YY_SCANNER_T
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif

/* Everything the parser and the lexer share: no globals. */
typedef struct Parser {
    const Source *src;
    Arena *arena;
    Diag *diag;
    Ast *ast;
    yyscan_t scanner;
    uint32_t pos;           /* lexer: offset of the next byte (a Span's) */
    int last_token;         /* lexer: to end the last line at end of file */
    Span *open;             /* lexer: unclosed '(' and '[' */
    size_t bad_line;        /* lexer: last line with an invalid character */
    size_t nopen, cap_open;
    StmtKind decl_kind;     /* parser: input or data, while reading a list */
    Dim *dims;              /* parser: dimensions of the current declaration */
    size_t ndims, cap_dims;
} Parser;

typedef struct ExprList {
    Expr **items;
    size_t n, cap;
} ExprList;

#define YYLTYPE Span
#define YYLTYPE_IS_DECLARED 1
}

%code provides {
int yylex(YYSTYPE *lval, YYLTYPE *lloc, Parser *p);
}

%code {
#include <stdlib.h>
#include <string.h>

#define YYLLOC_DEFAULT(cur, rhs, n)                        \
    do {                                                   \
        if (n) {                                           \
            (cur).off = YYRHSLOC(rhs, 1).off;              \
            (cur).end = YYRHSLOC(rhs, n).end;              \
        } else {                                           \
            (cur).off = (cur).end = YYRHSLOC(rhs, 0).end;  \
        }                                                  \
    } while (0)

/* Deep nesting is legal: let the parser stack grow on the heap. */
#define YYMAXDEPTH 100000000

static void yyerror(YYLTYPE *loc, Parser *p, const char *msg);
static Expr *new_expr(Parser *p, ExprKind kind, Span span);
static Expr *new_binary(Parser *p, Op op, Expr *l, Span op_span, Expr *r);
static Expr *new_call(Parser *p, const char *name, Span name_span, Span span,
                      ExprList *args);
static ExprList *new_list(Parser *p, Expr *first);
static void add_decl(Parser *p, const char *name, Span name_span, Span span);
static void add_def(Parser *p, StmtKind kind, const char *name, Span name_span,
                    Expr *expr, Span span);
}

%define api.pure full
%define parse.error custom
%define parse.lac full
%locations
%expect 0
%param {Parser *p}

%union {
    char *text;
    Expr *expr;
    ExprList *list;
}

%token <text> IDENT "name"
%token <text> NUMBER "number"
%token INPUT "'input'"
%token DATA "'data'"
%token OUTPUT "'output'"
%token NEWLINE "end of line"

%type <expr> expr term unary power primary
%type <list> args

%%

program
    : %empty
    | program line
    ;

line
    : end
    | stmt end
    | error end                  { yyerrok; }
    ;

end
    : NEWLINE
    | ';'
    ;

stmt
    : INPUT  { p->decl_kind = STMT_INPUT; } decls
    | DATA   { p->decl_kind = STMT_DATA; } decls
    | IDENT '=' expr             { add_def(p, STMT_DEF, $1, @1, $3, @$); }
    | OUTPUT IDENT '=' expr      { add_def(p, STMT_OUTPUT, $2, @2, $4, @$); }
    ;

decls
    : decl
    | decls ',' decl
    ;

decl
    : IDENT                      { p->ndims = 0; add_decl(p, $1, @1, @$); }
    | IDENT '[' { p->ndims = 0; } dims ']'
                                 { add_decl(p, $1, @1, @$); }
    ;

dims
    : dim
    | dims ',' dim
    ;

dim
    : NUMBER                     { Dim d = { $1, @1 };
                                   VEC_PUSH(p->arena, p->dims, p->ndims,
                                            p->cap_dims, d); }
    ;

expr
    : term
    | expr '+' term              { $$ = new_binary(p, OP_ADD, $1, @2, $3); }
    | expr '-' term              { $$ = new_binary(p, OP_SUB, $1, @2, $3); }
    ;

term
    : unary
    | term '*' unary             { $$ = new_binary(p, OP_MUL, $1, @2, $3); }
    | term '/' unary             { $$ = new_binary(p, OP_DIV, $1, @2, $3); }
    | term '@' unary             { $$ = new_binary(p, OP_MATMUL, $1, @2, $3); }
    ;

/* '^' binds tighter than unary minus (-x^2 is -(x^2)) and associates to
 * the right; its exponent may itself be negated (x^-1). */
unary
    : power
    | '-' unary                  { $$ = new_expr(p, EXPR_UNARY, @$);
                                   $$->op = OP_NEG;
                                   $$->op_span = @1;
                                   $$->args = arena_alloc(p->arena, sizeof *$$->args);
                                   $$->args[0] = $2;
                                   $$->nargs = 1; }
    ;

power
    : primary
    | primary '^' unary          { $$ = new_binary(p, OP_POW, $1, @2, $3); }
    ;

primary
    : NUMBER                     { $$ = new_expr(p, EXPR_NUM, @1);
                                   $$->name = $1;
                                   $$->num = strtod($1, NULL); }
    | IDENT                      { $$ = new_expr(p, EXPR_NAME, @1);
                                   $$->name = $1; }
    | IDENT '(' ')'              { $$ = new_call(p, $1, @1, @$, NULL); }
    | IDENT '(' args ')'         { $$ = new_call(p, $1, @1, @$, $3); }
    | '(' expr ')'               { $$ = $2; }
    ;

args
    : expr                       { $$ = new_list(p, $1); }
    | args ',' expr              { $$ = $1;
                                   VEC_PUSH(p->arena, $$->items, $$->n, $$->cap, $3); }
    ;

%%

static Expr *new_expr(Parser *p, ExprKind kind, Span span)
{
    return ast_new_expr(p->arena, p->ast, kind, span);
}

static Expr *new_binary(Parser *p, Op op, Expr *l, Span op_span, Expr *r)
{
    Span span = { l->span.off, r->span.end };
    Expr *e = new_expr(p, EXPR_BINARY, span);
    e->op = op;
    e->op_span = op_span;
    e->nargs = 2;
    e->args = arena_alloc(p->arena, 2 * sizeof *e->args);
    e->args[0] = l;
    e->args[1] = r;
    return e;
}

static ExprList *new_list(Parser *p, Expr *first)
{
    ExprList *list = arena_alloc(p->arena, sizeof *list);
    VEC_PUSH(p->arena, list->items, list->n, list->cap, first);
    return list;
}

static Expr *new_call(Parser *p, const char *name, Span name_span, Span span,
                      ExprList *args)
{
    Expr *e = new_expr(p, EXPR_CALL, span);
    e->name = name;
    e->op_span = name_span;
    if (args) {
        e->args = args->items;
        e->nargs = (int)args->n;
    }
    return e;
}

static Stmt *new_stmt(Parser *p, StmtKind kind, const char *name,
                      Span name_span, Span span)
{
    Ast *ast = p->ast;
    Stmt s = { 0 };
    s.kind = kind;
    s.name = name;
    s.name_span = name_span;
    s.span = span;
    VEC_PUSH(p->arena, ast->stmts, ast->nstmts, ast->cap_stmts, s);
    return &ast->stmts[ast->nstmts - 1];
}

static void add_decl(Parser *p, const char *name, Span name_span, Span span)
{
    Stmt *s = new_stmt(p, p->decl_kind, name, name_span, span);
    s->ndims = (int)p->ndims;
    if (p->ndims) {
        s->dims = arena_alloc(p->arena, p->ndims * sizeof *s->dims);
        memcpy(s->dims, p->dims, p->ndims * sizeof *s->dims);
    }
}

static void add_def(Parser *p, StmtKind kind, const char *name, Span name_span,
                    Expr *expr, Span span)
{
    new_stmt(p, kind, name, name_span, span)->expr = expr;
}

static void yyerror(YYLTYPE *loc, Parser *p, const char *msg)
{
    diag_error(p->diag, *loc, "%s", msg);
}

static bool is_token(yysymbol_kind_t sym, const char *names)
{
    const char *name = yysymbol_name(sym);
    for (const char *s = names; *s; s++)
        if (name[0] == '\'' && name[1] == *s && name[2] == '\'' && !name[3])
            return true;
    return false;
}

static bool starts_operand(yysymbol_kind_t sym)
{
    return sym == YYSYMBOL_NUMBER || sym == YYSYMBOL_IDENT || is_token(sym, "(-");
}

static bool is_operator(yysymbol_kind_t sym)
{
    return is_token(sym, "+-*/@^");
}

/* "expected X, Y or Z, found W".  Tokens that start an operand are summed
 * up as "an expression", binary operators as "an operator".  An unexpected
 * end of file also names the bracket left open. */
static int yyreport_syntax_error(const yypcontext_t *ctx, Parser *p)
{
    enum { MAX_EXPECTED = 24 };
    yysymbol_kind_t expected[MAX_EXPECTED];
    int n = yypcontext_expected_tokens(ctx, expected, MAX_EXPECTED);
    bool number = false, paren = false, operators = false, statement = false;
    for (int i = 0; i < n; i++) {
        number |= expected[i] == YYSYMBOL_NUMBER;
        paren |= is_token(expected[i], "(");
        operators |= is_token(expected[i], "*");
        statement |= expected[i] == YYSYMBOL_INPUT;
    }
    /* Wherever an operand may start, '(' may too; a dimension takes only a
     * number.  Where 'input' may come, any statement may. */
    bool operand = number && paren;
    const char *names[MAX_EXPECTED + 2];
    int k = 0;
    if (statement)
        names[k++] = "a statement";
    if (operand)
        names[k++] = "an expression";
    if (operators)
        names[k++] = "an operator";
    for (int i = 0; i < n && !statement; i++) {
        if ((operand && starts_operand(expected[i])) ||
            (operators && is_operator(expected[i])))
            continue;
        names[k++] = yysymbol_name(expected[i]);
    }

    Buf msg;
    buf_init(&msg, p->arena);
    buf_puts(&msg, "syntax error");
    for (int i = 0; i < k; i++)
        buf_printf(&msg, "%s%s", i == 0 ? ": expected " : i == k - 1 ? " or " : ", ",
                   names[i]);
    yysymbol_kind_t found = yypcontext_token(ctx);
    buf_printf(&msg, ", found %s", yysymbol_name(found));
    /* An invalid character already explains a syntax error on its line. */
    size_t line, col;
    source_locate(p->src, yypcontext_location(ctx)->off, &line, &col);
    if (line == p->bad_line)
        return 0;
    diag_error(p->diag, *yypcontext_location(ctx), "%s", msg.data);
    if (found == YYSYMBOL_YYEOF && p->nopen > 0) {
        Span open = p->open[p->nopen - 1];
        diag_note(p->diag, open, "to match this '%c'", p->src->text[open.off]);
    }
    return 0;
}
