/* ast.c: building and printing the syntax tree. */
#include "gradc.h"

Expr *ast_new_expr(Arena *arena, Ast *ast, ExprKind kind, Span span)
{
    Expr *e = arena_alloc(arena, sizeof *e);
    e->kind = kind;
    e->span = span;
    e->op_span = span;
    e->def = -1;
    e->axis = -1;
    e->id = (int)ast->nexprs;
    VEC_PUSH(arena, ast->exprs, ast->nexprs, ast->cap_exprs, e);
    return e;
}

static const char *const stmt_keyword[] = {
    [STMT_INPUT] = "input", [STMT_DATA] = "data",
    [STMT_DEF] = "", [STMT_OUTPUT] = "output",
};

static void dump_expr_head(const Expr *e, FILE *out)
{
    switch (e->kind) {
    case EXPR_NUM:
        fprintf(out, "%s", e->name);
        break;
    case EXPR_NAME:
        fprintf(out, "%s", e->name);
        break;
    case EXPR_UNARY:
        fprintf(out, "(neg");
        break;
    case EXPR_BINARY:
        fprintf(out, "(%s", op_info[e->op].name);
        break;
    case EXPR_CALL:
        fprintf(out, "(%s", e->name);
        break;
    }
}

/* Prints expressions as s-expressions, (+ x (sigmoid y)).  The walk keeps
 * its own stack: expressions may nest deeper than the C stack allows. */
static void dump_expr(const Expr *root, FILE *out)
{
    typedef struct Frame {
        const Expr *e;
        int next;       /* next operand to print */
    } Frame;
    Arena *arena = arena_new();
    Frame *stack = NULL;
    size_t n = 0, cap = 0;
    VEC_PUSH(arena, stack, n, cap, ((Frame){ root, 0 }));
    dump_expr_head(root, out);
    while (n > 0) {
        Frame *f = &stack[n - 1];
        if (f->next < f->e->nargs) {
            const Expr *child = f->e->args[f->next++];
            fputc(' ', out);
            dump_expr_head(child, out);
            VEC_PUSH(arena, stack, n, cap, ((Frame){ child, 0 }));
        } else {
            if (f->e->kind != EXPR_NUM && f->e->kind != EXPR_NAME)
                fputc(')', out);
            n--;
        }
    }
    arena_free(arena);
}

void ast_dump(const Ast *ast, FILE *out)
{
    for (size_t i = 0; i < ast->nstmts; i++) {
        const Stmt *s = &ast->stmts[i];
        if (s->kind == STMT_INPUT || s->kind == STMT_DATA) {
            fprintf(out, "%s %s", stmt_keyword[s->kind], s->name);
            for (int d = 0; d < s->ndims; d++)
                fprintf(out, "%c%s", d ? ',' : '[', s->dims[d].text);
            fputs(s->ndims ? "]\n" : "\n", out);
            continue;
        }
        fprintf(out, "%s%s%s = ", stmt_keyword[s->kind],
                s->kind == STMT_OUTPUT ? " " : "", s->name);
        dump_expr(s->expr, out);
        fputc('\n', out);
    }
}
