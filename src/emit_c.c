/* emit_c.c: the generated C.  NAME.h holds the tape struct and the
 * prototypes, each argument named in a comment; NAME.c holds
 * NAME_forward, NAME_backward and (for one scalar output) NAME_grad.
 *
 * Where values live.  Forward: a node is a parameter (input, data), a
 * literal (constant), a tape member (the backward pass reads it), the
 * caller's output buffer (an output nothing else needs), or a local.
 * Backward: a node's adjoint is the caller's gradient buffer (inputs), a
 * seed it shares, another node's adjoint it shares (diff.c), or a local
 * declared at its first contribution. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gradc.h"

#define REAL "double"

typedef enum Storage {
    ST_NONE,      /* not computed */
    ST_CONST,
    ST_PARAM,
    ST_TAPE,
    ST_OUTPUT,
    ST_LOCAL,
} Storage;

typedef struct Emitter {
    const Ast *ast;
    const Graph *g;
    const AdjointProgram *prog;
    const Source *src;
    const EmitOptions *opts;
    Arena *arena;
    CNames *idents;          /* parameters, locals, functions */
    CNames *members;         /* tape struct members */
    Storage *storage;        /* per node */
    const char **name;       /* per node: local, member or parameter */
    int *storage_output;     /* per node: output index for ST_OUTPUT */
    const char **adj_name;   /* per node: its own adjoint local */
    int *nsteps_to;          /* per node: adjoint statements writing it */
    const char **param_name;
    const char **output_name;
    const char **seed_name;
    const char **grad_name;
    const char *tape;
    const char *tape_type;
    bool has_grad;
    bool *used;              /* per parameter slot, while emitting a body */
    Buf *body;
    int comment_stmt;        /* statement of the last comment written */
} Emitter;

/* ---- small helpers ---- */

static bool is_scalar(Shape s)
{
    return s.rank == 0;
}

/* The shortest literal that reads back as exactly V, always a double. */
static const char *literal(Arena *arena, double v)
{
    char text[64];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(text, sizeof text, "%.*g", prec, v);
        if (strtod(text, NULL) == v)
            break;
    }
    if (!strpbrk(text, ".eEn"))
        strcat(text, ".0");
    return arena_printf(arena, v < 0 || (v == 0 && signbit(v)) ? "(%s)" : "%s",
                        text);
}

/* The source text of statement STMT on one line, safe inside a comment. */
static const char *stmt_text(Emitter *e, int stmt)
{
    const Stmt *s = &e->ast->stmts[stmt];
    const char *text = e->src->text;
    Buf buf;
    buf_init(&buf, e->arena);
    bool space = false;
    for (size_t i = s->span.off; i < s->span.end; i++) {
        char c = text[i];
        if (c == '#') {
            while (i < s->span.end && text[i] != '\n')
                i++;
            space = true;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = true;
            continue;
        }
        if (space && buf.len > 0)
            buf_putc(&buf, ' ');
        space = false;
        /* Neither can occur in valid code, but a comment must not end early. */
        if (c == '/' && buf.len > 0 && buf.data[buf.len - 1] == '*')
            buf_putc(&buf, ' ');
        buf_putc(&buf, c);
    }
    size_t line, col;
    source_locate(e->src, s->span.off, &line, &col);
    return arena_printf(e->arena, "line %zu: %s", line, buf.data);
}

static void comment_stmt(Emitter *e, int stmt)
{
    if (stmt < 0 || stmt == e->comment_stmt)
        return;
    e->comment_stmt = stmt;
    buf_printf(e->body, "    /* %s */\n", stmt_text(e, stmt));
}

static void use_param(Emitter *e, int slot)
{
    e->used[slot] = true;
}

/* Parameter slots, for (void)-ing the unused: arguments, outputs, seeds,
 * gradients, then the tape. */
static int slot_output(const Emitter *e, int k)
{
    return (int)e->g->nparams + k;
}

static int slot_seed(const Emitter *e, int k)
{
    return (int)(e->g->nparams + e->g->noutputs) + k;
}

static int slot_grad(const Emitter *e, int k)
{
    return (int)(e->g->nparams + 2 * e->g->noutputs) + k;
}

static int slot_tape(const Emitter *e)
{
    return (int)(2 * e->g->nparams + 2 * e->g->noutputs);
}

/* ---- references ---- */

/* The C atom for node N's value. */
static const char *value_ref(Emitter *e, int n)
{
    const Node *node = &e->g->nodes[n];
    switch (e->storage[n]) {
    case ST_CONST:
        return literal(e->arena, node->value);
    case ST_PARAM:
        use_param(e, node->param);
        return e->name[n];
    case ST_TAPE:
        use_param(e, slot_tape(e));
        return arena_printf(e->arena, "%s->%s", e->tape, e->name[n]);
    case ST_OUTPUT:
        use_param(e, slot_output(e, e->storage_output[n]));
        return arena_printf(e->arena, "(*%s)", e->name[n]);
    case ST_LOCAL:
        return e->name[n];
    case ST_NONE:
        break;
    }
    UNREACHABLE();
}

/* The C atom for node N's adjoint, as an operand. */
static const char *adjoint_ref(Emitter *e, int n)
{
    const AdjointProgram *prog = e->prog;
    if (prog->adj_seed[n] >= 0) {
        use_param(e, slot_seed(e, prog->adj_seed[n]));
        return e->seed_name[prog->adj_seed[n]];
    }
    int owner = prog->adj_node[n];
    if (owner < 0)
        UNREACHABLE();
    return e->adj_name[owner];
}

/* Expands a template: %0 %1 operands, %= the node, %g its adjoint. */
static void expand(Emitter *e, Buf *out, const char *tmpl, int node)
{
    const Node *n = &e->g->nodes[node];
    for (const char *s = tmpl; *s; s++) {
        if (*s != '%') {
            buf_putc(out, *s);
            continue;
        }
        switch (*++s) {
        case '0': buf_puts(out, value_ref(e, n->args[0])); break;
        case '1': buf_puts(out, value_ref(e, n->args[1])); break;
        case '=': buf_puts(out, value_ref(e, node)); break;
        case 'g': buf_puts(out, adjoint_ref(e, node)); break;
        default: UNREACHABLE();
        }
    }
}

/* "-X" where X has no '+' or '-' outside brackets: a negated product, so
 * "a += -X" may be written "a -= X" with the same rounding. */
static bool is_negated_product(const char *tmpl)
{
    if (tmpl[0] != '-')
        return false;
    int depth = 0;
    for (const char *s = tmpl + 1; *s; s++) {
        if (*s == '(')
            depth++;
        else if (*s == ')')
            depth--;
        else if (depth == 0 && (*s == '+' || *s == '-' || *s == '?'))
            return false;
    }
    return true;
}

/* ---- naming and storage ---- */

static void assign_names(Emitter *e)
{
    const Graph *g = e->g;
    const char *m = e->opts->model;
    Arena *a = e->arena;
    e->idents = cnames_new(a);
    e->members = cnames_new(a);
    const char *fixed[] = { "forward", "backward", "grad", "tape" };
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        cnames_reserve(e->idents, arena_printf(a, "%s_%s", m, fixed[i]));
    e->tape_type = arena_printf(a, "%s_tape", m);

    /* The user's names first, as spelled where C allows it. */
    e->param_name = arena_alloc(a, (g->nparams + 1) * sizeof *e->param_name);
    e->output_name = arena_alloc(a, (g->noutputs + 1) * sizeof *e->output_name);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < g->nparams; i++)
            if (cnames_is_safe(g->params[i].name) == (pass == 0))
                e->param_name[i] = cnames_claim(e->idents, g->params[i].name);
        for (size_t i = 0; i < g->noutputs; i++)
            if (cnames_is_safe(g->outputs[i].name) == (pass == 0))
                e->output_name[i] = cnames_claim(e->idents, g->outputs[i].name);
    }
    e->tape = cnames_claim(e->idents, "tape");
    e->seed_name = arena_alloc(a, (g->noutputs + 1) * sizeof *e->seed_name);
    for (size_t i = 0; i < g->noutputs; i++)
        e->seed_name[i] = cnames_claim(
            e->idents, arena_printf(a, "seed_%s", g->outputs[i].name));
    e->grad_name = arena_alloc(a, (g->nparams + 1) * sizeof *e->grad_name);
    for (size_t i = 0; i < g->nparams; i++)
        if (g->params[i].is_input)
            e->grad_name[i] = cnames_claim(
                e->idents, arena_printf(a, "grad_%s", g->params[i].name));

    size_t n = g->nnodes;
    e->storage = arena_alloc(a, (n + 1) * sizeof *e->storage);
    e->name = arena_alloc(a, (n + 1) * sizeof *e->name);
    e->storage_output = arena_alloc(a, (n + 1) * sizeof *e->storage_output);
    e->adj_name = arena_alloc(a, (n + 1) * sizeof *e->adj_name);
    for (size_t i = 0; i < g->noutputs; i++) {
        int node = g->outputs[i].node;
        if (e->storage[node] == ST_NONE) {
            e->storage[node] = ST_OUTPUT;
            e->storage_output[node] = (int)i;
            e->name[node] = e->output_name[i];
        }
    }
    int temps = 0;
    for (size_t i = 0; i < n; i++) {
        const Node *node = &g->nodes[i];
        const char *pref = node->name;
        if (!pref)
            pref = arena_printf(a, "t%d", ++temps);
        if (node->op == OP_CONST) {
            e->storage[i] = ST_CONST;
        } else if (node->op == OP_INPUT || node->op == OP_DATA) {
            e->storage[i] = ST_PARAM;
            e->name[i] = e->param_name[node->param];
        } else if (!(node->flags & NODE_USEFUL)) {
            e->storage[i] = ST_NONE;
        } else if (e->prog->on_tape[i]) {
            e->storage[i] = ST_TAPE;
            e->name[i] = cnames_claim(e->members, pref);
        } else if (e->storage[i] != ST_OUTPUT) {
            e->storage[i] = ST_LOCAL;
            e->name[i] = cnames_claim(e->idents, pref);
        }
    }

    e->nsteps_to = arena_alloc(a, (n + 1) * sizeof *e->nsteps_to);
    for (size_t s = 0; s < e->prog->nsteps; s++)
        e->nsteps_to[e->prog->steps[s].to]++;
    for (size_t i = 0; i < n; i++) {
        const Node *node = &g->nodes[i];
        if (e->prog->adj_node[i] != (int)i || e->prog->adj_seed[i] >= 0)
            continue;
        if (node->op == OP_INPUT)
            e->adj_name[i] = e->grad_name[node->param];
        else
            e->adj_name[i] = cnames_claim(
                e->idents, arena_printf(a, "d_%s", node->name ? node->name
                                                                : e->name[i]));
    }

    e->has_grad = g->noutputs == 1 && is_scalar(g->nodes[g->outputs[0].node].shape);
}

/* ---- prototypes ---- */

static const char *param_decl(const Emitter *e, Shape s, const char *name,
                              bool out)
{
    if (out)
        return arena_printf(e->arena, REAL " *%s", name);
    if (is_scalar(s))
        return arena_printf(e->arena, REAL " %s", name);
    return arena_printf(e->arena, "const " REAL " *%s", name);
}

typedef enum Fn { FN_FORWARD, FN_BACKWARD, FN_GRAD } Fn;

static const char *fn_name(const Emitter *e, Fn fn)
{
    static const char *const suffix[] = { "forward", "backward", "grad" };
    return arena_printf(e->arena, "%s_%s", e->opts->model, suffix[fn]);
}

/* The parameter list of FN; with DOC, also the comment naming each. */
static void prototype(Emitter *e, Buf *out, Fn fn, Buf *doc)
{
    const Graph *g = e->g;
    buf_printf(out, "%s %s(%s%s *%s", fn == FN_GRAD ? REAL : "void",
               fn_name(e, fn), fn == FN_BACKWARD ? "const " : "",
               e->tape_type, e->tape);
    if (doc)
        buf_printf(doc, " *   %-10s %s\n", e->tape,
                   fn == FN_BACKWARD ? "the tape filled by the forward call"
                                     : "out: filled for the backward pass");
    for (size_t i = 0; i < g->nparams; i++) {
        const Param *p = &g->params[i];
        Shape s = g->nodes[p->node].shape;
        buf_printf(out, ", %s", param_decl(e, s, e->param_name[i], false));
        if (doc)
            buf_printf(doc, " *   %-10s %s '%s', %s\n", e->param_name[i],
                       p->is_input ? "input" : "data", p->name,
                       shape_str(e->arena, s));
    }
    if (fn == FN_FORWARD) {
        for (size_t k = 0; k < g->noutputs; k++) {
            Shape s = g->nodes[g->outputs[k].node].shape;
            buf_printf(out, ", %s", param_decl(e, s, e->output_name[k], true));
            if (doc)
                buf_printf(doc, " *   %-10s out: output '%s', %s\n",
                           e->output_name[k], g->outputs[k].name,
                           shape_str(e->arena, s));
        }
    }
    if (fn == FN_BACKWARD) {
        for (size_t k = 0; k < g->noutputs; k++) {
            Shape s = g->nodes[g->outputs[k].node].shape;
            buf_printf(out, ", %s", param_decl(e, s, e->seed_name[k], false));
            if (doc)
                buf_printf(doc, " *   %-10s weight of output '%s', %s\n",
                           e->seed_name[k], g->outputs[k].name,
                           shape_str(e->arena, s));
        }
    }
    if (fn != FN_FORWARD) {
        for (size_t i = 0; i < g->nparams; i++) {
            const Param *p = &g->params[i];
            if (!p->is_input)
                continue;
            Shape s = g->nodes[p->node].shape;
            buf_printf(out, ", %s", param_decl(e, s, e->grad_name[i], true));
            if (doc)
                buf_printf(doc, " *   %-10s out: gradient with respect to '%s', %s\n",
                           e->grad_name[i], p->name, shape_str(e->arena, s));
        }
    }
    buf_puts(out, ")");
}

/* ---- function bodies ---- */

static void begin_body(Emitter *e, Buf *body)
{
    size_t slots = (size_t)slot_tape(e) + 1;
    e->used = arena_alloc(e->arena, slots * sizeof *e->used);
    buf_init(body, e->arena);
    e->body = body;
    e->comment_stmt = -1;
}

/* Writes the function: its prototype, (void) for every parameter the body
 * does not read, then the body. */
static void end_body(Emitter *e, Buf *out, Fn fn, const Buf *body)
{
    const Graph *g = e->g;
    prototype(e, out, fn, NULL);
    buf_puts(out, "\n{\n");
    for (size_t i = 0; i < g->nparams; i++)
        if (!e->used[i])
            buf_printf(out, "    (void)%s;\n", e->param_name[i]);
    if (fn == FN_BACKWARD)
        for (size_t k = 0; k < g->noutputs; k++)
            if (!e->used[slot_seed(e, (int)k)])
                buf_printf(out, "    (void)%s;\n", e->seed_name[k]);
    if (!e->used[slot_tape(e)])
        buf_printf(out, "    (void)%s;\n", e->tape);
    buf_putn(out, body->data, body->len);
    buf_puts(out, "}\n");
}

static const char *value_lhs(Emitter *e, int n)
{
    switch (e->storage[n]) {
    case ST_TAPE:
        use_param(e, slot_tape(e));
        return arena_printf(e->arena, "%s->%s", e->tape, e->name[n]);
    case ST_OUTPUT:
        return arena_printf(e->arena, "*%s", e->name[n]);
    case ST_LOCAL:
        return arena_printf(e->arena, "const " REAL " %s", e->name[n]);
    default:
        UNREACHABLE();
    }
}

static void emit_forward(Emitter *e, Buf *out)
{
    const Graph *g = e->g;
    Buf body;
    begin_body(e, &body);
    for (size_t i = 0; i < g->nnodes; i++) {
        const Node *n = &g->nodes[i];
        if (op_info[n->op].kind != OPK_LEAF && e->storage[i] != ST_NONE) {
            comment_stmt(e, n->stmt);
            Buf rhs;
            buf_init(&rhs, e->arena);
            expand(e, &rhs, op_info[n->op].fwd, (int)i);
            buf_printf(&body, "    %s = %s;\n", value_lhs(e, (int)i), rhs.data);
        }
        /* Every output not stored above gets a copy. */
        for (size_t k = 0; k < g->noutputs; k++) {
            if (g->outputs[k].node != (int)i ||
                (e->storage[i] == ST_OUTPUT && e->storage_output[i] == (int)k))
                continue;
            comment_stmt(e, g->outputs[k].stmt);
            const char *v = value_ref(e, (int)i);
            buf_printf(&body, "    *%s = %s;\n", e->output_name[k], v);
        }
    }
    for (size_t k = 0; k < g->noutputs; k++)
        use_param(e, slot_output(e, (int)k));
    end_body(e, out, FN_FORWARD, &body);
}

static void emit_step(Emitter *e, const Adjoint *a)
{
    const Graph *g = e->g;
    int owner = e->prog->adj_node[a->to];
    const Node *to = &g->nodes[a->to];
    Buf rhs;
    buf_init(&rhs, e->arena);
    const char *tmpl;
    if (a->from < 0) {
        comment_stmt(e, g->outputs[a->output].stmt);
        use_param(e, slot_seed(e, a->output));
        tmpl = e->seed_name[a->output];
        buf_puts(&rhs, tmpl);
    } else {
        comment_stmt(e, g->nodes[a->from].stmt);
        tmpl = op_info[g->nodes[a->from].op].adj[a->arg];
        expand(e, &rhs, tmpl, a->from);
    }
    const char *name = e->adj_name[owner];
    if (to->op == OP_INPUT) {
        use_param(e, slot_grad(e, to->param));
        if (!a->first && is_negated_product(tmpl))
            buf_printf(e->body, "    *%s -= %s;\n", name, rhs.data + 1);
        else
            buf_printf(e->body, "    *%s %s %s;\n", name, a->first ? "=" : "+=",
                       rhs.data);
    } else if (a->first) {
        buf_printf(e->body, "    %s" REAL " %s = %s;\n",
                   e->nsteps_to[a->to] == 1 ? "const " : "", name, rhs.data);
    } else if (is_negated_product(tmpl)) {
        buf_printf(e->body, "    %s -= %s;\n", name, rhs.data + 1);
    } else {
        buf_printf(e->body, "    %s += %s;\n", name, rhs.data);
    }
}

static void emit_backward(Emitter *e, Buf *out)
{
    const Graph *g = e->g;
    Buf body;
    begin_body(e, &body);
    for (size_t s = 0; s < e->prog->nsteps; s++)
        emit_step(e, &e->prog->steps[s]);
    /* An input that reaches no output has a zero gradient. */
    for (size_t i = 0; i < g->nparams; i++) {
        const Param *p = &g->params[i];
        if (!p->is_input || e->prog->adj_node[p->node] >= 0)
            continue;
        buf_printf(&body, "    *%s = 0;\n", e->grad_name[i]);
    }
    end_body(e, out, FN_BACKWARD, &body);
}

static void emit_grad(Emitter *e, Buf *out)
{
    const Graph *g = e->g;
    const char *result = e->output_name[0];
    prototype(e, out, FN_GRAD, NULL);
    buf_printf(out, "\n{\n    " REAL " %s;\n    %s(%s", result,
               fn_name(e, FN_FORWARD), e->tape);
    for (size_t i = 0; i < g->nparams; i++)
        buf_printf(out, ", %s", e->param_name[i]);
    buf_printf(out, ", &%s);\n    %s(%s", result, fn_name(e, FN_BACKWARD),
               e->tape);
    for (size_t i = 0; i < g->nparams; i++)
        buf_printf(out, ", %s", e->param_name[i]);
    buf_puts(out, ", 1.0");
    for (size_t i = 0; i < g->nparams; i++)
        if (g->params[i].is_input)
            buf_printf(out, ", %s", e->grad_name[i]);
    buf_printf(out, ");\n    return %s;\n}\n", result);
}

/* ---- the header ---- */

static void emit_tape_struct(Emitter *e, Buf *h)
{
    const Graph *g = e->g;
    buf_printf(h,
               "/* The forward values that %s reads.  Plain data: allocate\n"
               " * one anywhere, fill it with %s and pass it to %s\n"
               " * with the same arguments. */\n"
               "typedef struct %s {\n",
               fn_name(e, FN_BACKWARD), fn_name(e, FN_FORWARD),
               fn_name(e, FN_BACKWARD), e->tape_type);
    bool any = false;
    for (size_t i = 0; i < g->nnodes; i++) {
        if (e->storage[i] != ST_TAPE)
            continue;
        any = true;
        const Node *n = &g->nodes[i];
        if (is_scalar(n->shape))
            buf_printf(h, "    " REAL " %s;", e->name[i]);
        else
            buf_printf(h, "    " REAL " %s[%ld];", e->name[i], shape_size(n->shape));
        buf_printf(h, " /* %s */\n", stmt_text(e, n->stmt));
    }
    if (!any)
        buf_puts(h, "    char unused; /* the backward pass reads no forward value */\n");
    buf_printf(h, "} %s;\n", e->tape_type);
}

static void emit_header(Emitter *e, Buf *h)
{
    const Graph *g = e->g;
    const char *guard = arena_printf(e->arena, "GRADC_%s_H", e->opts->model);
    for (char *c = (char *)guard; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    buf_printf(h,
               "/* %s: generated by gradc " PACKAGE_VERSION " from %s.  Do not edit. */\n"
               "#ifndef %s\n#define %s\n\n"
               "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n",
               e->opts->header_name, e->opts->source_name, guard, guard);
    emit_tape_struct(e, h);

    Buf doc, proto;
    buf_init(&proto, e->arena);
    buf_init(&doc, e->arena);
    prototype(e, &proto, FN_FORWARD, &doc);
    buf_printf(h, "\n/* Evaluates the model.\n%s */\n%s;\n", doc.data, proto.data);

    buf_init(&proto, e->arena);
    buf_init(&doc, e->arena);
    prototype(e, &proto, FN_BACKWARD, &doc);
    buf_printf(h,
               "\n/* The vector-Jacobian product: overwrites every gradient with\n"
               " * d(sum over outputs of <seed, output>)/d(input), at the point\n"
               " * of the forward call that filled the tape.\n%s */\n%s;\n",
               doc.data, proto.data);

    if (e->has_grad) {
        buf_init(&proto, e->arena);
        buf_init(&doc, e->arena);
        prototype(e, &proto, FN_GRAD, &doc);
        buf_printf(h,
                   "\n/* Runs %s and %s with seed 1; returns\n"
                   " * the output '%s'.\n%s */\n%s;\n",
                   fn_name(e, FN_FORWARD), fn_name(e, FN_BACKWARD),
                   g->outputs[0].name, doc.data, proto.data);
    }
    buf_printf(h, "\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
}

void emit_c(const Ast *ast, const Graph *graph, const AdjointProgram *prog,
            const EmitOptions *opts, const Source *src, Buf *c_file,
            Buf *h_file)
{
    Emitter e;
    memset(&e, 0, sizeof e);
    e.ast = ast;
    e.g = graph;
    e.prog = prog;
    e.opts = opts;
    e.src = src;
    e.arena = c_file->arena;
    assign_names(&e);

    emit_header(&e, h_file);

    buf_printf(c_file,
               "/* %s: generated by gradc " PACKAGE_VERSION " from %s.  Do not edit. */\n"
               "#include \"%s\"\n\n#include <gradrt.h>\n\n",
               opts->c_name, opts->source_name, opts->header_name);
    emit_forward(&e, c_file);
    buf_putc(c_file, '\n');
    emit_backward(&e, c_file);
    if (e.has_grad) {
        buf_putc(c_file, '\n');
        emit_grad(&e, c_file);
    }
}
