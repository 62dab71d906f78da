/* compile.c: the pipeline, the one place that says which stage follows
 * which.  The driver, the unit tests, the fuzzer and gradcheck all run it
 * and differ only in where the source comes from and where they stop. */
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "config.h"
#include "gradc.h"

/* Debug and sanitizer builds (configure --enable-debug or
 * --enable-sanitizers define GRADC_CHECKS) check a stage's result before
 * the next stage trusts it.  A plain if rather than #if, so that the
 * checks compile in every build. */
#ifdef GRADC_CHECKS
static const bool self_checks = true;
#else
static const bool self_checks = false;
#endif

void compilation_init(Compilation *c, Arena *arena, const char *path,
                      const char *text, size_t len, FILE *diag_out)
{
    memset(c, 0, sizeof *c);
    c->arena = arena;
    c->path = path;
    c->text = text;
    c->len = len;
    c->diag_out = diag_out;
    c->ast_arena = arena_new_child(arena);
    graph_init(&c->graph, arena);
}

/* glibc keeps memory freed in the middle of its heap, where the Ast's
 * blocks were, and serves only small requests from it: the emitter's big
 * tables would come on top of it. */
static void release_free_memory(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

static int run_stage(Compilation *c, Stage stage)
{
    switch (stage) {
    case STAGE_READ:
        if (c->text)
            source_from_text(&c->src, c->arena, c->path, c->text, c->len);
        else if (!source_read(&c->src, c->arena, c->path))
            return 1;
        diag_init(&c->diag, &c->src, c->diag_out);
        return 0;
    case STAGE_PARSE:
        return parse(&c->src, c->ast_arena, &c->diag, &c->ast);
    case STAGE_CHECK:
        return check(&c->ast, &c->diag, c->ast_arena);
    case STAGE_GRAPH: {
        int errors = graph_build(&c->graph, &c->ast, &c->diag);
        /* Nothing after the graph reads the Ast: for a big model it is
         * the biggest thing in memory (10^7 expressions: 1.5 GB). */
        if (!errors) {
            arena_free(c->ast_arena);
            c->ast_arena = NULL;
            memset(&c->ast, 0, sizeof c->ast);
            release_free_memory();
        }
        return errors;
    }
    case STAGE_DIFF:
        return diff(&c->graph, &c->prog, c->arena);
    }
    UNREACHABLE();
}

/* What the stages after STAGE rely on in its result. */
static void check_stage(const Compilation *c, Stage stage)
{
    if (stage != STAGE_GRAPH)
        return;
    const char *broken = graph_check(&c->graph);
    if (broken)
        die("internal error: %s: the graph breaks an invariant: %s",
            c->path, broken);
}

int compile_until(Compilation *c, Stage last)
{
    while (!c->errors && c->stages_done <= (int)last) {
        Stage stage = (Stage)c->stages_done;
        c->errors = run_stage(c, stage);
        if (c->errors)
            break;
        if (self_checks)
            check_stage(c, stage);
        c->stages_done++;
    }
    return c->errors;
}
