/* unit.c: the Check unit tests' main program and shared helpers. */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

Run *run_bytes(const char *text, size_t len, Stage last)
{
    Run *run = calloc(1, sizeof *run);
    ck_assert_ptr_nonnull(run);
    run->log_file = open_memstream(&run->log, &run->log_len);
    ck_assert_ptr_nonnull(run->log_file);
    compilation_init(&run->comp, arena_new(), "t.grad", text, len,
                     run->log_file);
    compile_until(&run->comp, last);
    fflush(run->log_file);
    return run;
}

Run *run_text(const char *text, Stage last)
{
    return run_bytes(text, strlen(text), last);
}

Run *run_model(const char *text)
{
    Run *run = run_text(text, STAGE_DIFF);
    ck_assert_msg(run->comp.diag.errors == 0, "unexpected errors for:\n%s\n%s",
                  text, run->log);
    return run;
}

void run_free(Run *run)
{
    fclose(run->log_file);
    free(run->log);
    arena_free(run->comp.arena);
    free(run);
}

const char *diag_headers(Run *run)
{
    Buf out;
    buf_init(&out, run->comp.arena);
    const char *path = run->comp.src.path;
    size_t prefix = strlen(path);
    for (const char *line = run->log; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) + 1 : strlen(line);
        if (strncmp(line, path, prefix) == 0 && line[prefix] == ':')
            buf_putn(&out, line, len);
        line += len;
    }
    return out.data;
}

const char *diags_of(Arena *arena, const char *text)
{
    Run *run = run_text(text, STAGE_GRAPH);
    const char *headers = arena_strdup(arena, diag_headers(run));
    run_free(run);
    return headers;
}

const char *ast_of(Arena *arena, const char *text)
{
    Run *run = run_text(text, STAGE_PARSE);
    ck_assert_msg(run->comp.diag.errors == 0, "unexpected errors for:\n%s\n%s",
                  text, run->log);
    char *dump = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&dump, &len);
    ck_assert_ptr_nonnull(f);
    ast_dump(&run->comp.ast, f);
    fclose(f);
    const char *result = arena_strndup(arena, dump, len);
    free(dump);
    run_free(run);
    return result;
}

void emit_model(Run *run, Buf *c_file, Buf *h_file)
{
    emit_model_as(run, &real_types[0], c_file, h_file);
}

void emit_model_as(Run *run, const RealType *real, Buf *c_file, Buf *h_file)
{
    const Compilation *comp = &run->comp;
    EmitOptions opts = { "m", "m.h", "m.c", "t.grad", EMIT_STACK_LIMIT, EMIT_PART_SIZE,
                         real };
    buf_init(c_file, comp->arena);
    buf_init(h_file, comp->arena);
    emit_c(&comp->graph, &comp->prog, &opts, c_file, h_file);
}

int count_substr(const char *haystack, const char *needle)
{
    int n = 0;
    for (const char *s = strstr(haystack, needle); s;
         s = strstr(s + strlen(needle), needle))
        n++;
    return n;
}

const char *find_line(Arena *arena, const char *text, const char *prefix)
{
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        size_t indent = strspn(line, " \t");
        if (indent < len && strncmp(line + indent, prefix, strlen(prefix)) == 0)
            return arena_strndup(arena, line + indent, len - indent);
        line += end ? len + 1 : len;
    }
    return NULL;
}

int node_named(const Run *run, const char *name)
{
    const Graph *g = &run->comp.graph;
    for (size_t i = 0; i < g->nnodes; i++)
        if (g->nodes[i].name && strcmp(g->nodes[i].name, name) == 0)
            return (int)i;
    ck_abort_msg("no node named '%s'", name);
}

int count_op(const Graph *graph, Op op)
{
    int n = 0;
    for (size_t i = 0; i < graph->nnodes; i++)
        n += graph->nodes[i].op == op;
    return n;
}

int find_op(const Graph *graph, Op op)
{
    for (size_t i = 0; i < graph->nnodes; i++)
        if (graph->nodes[i].op == op)
            return (int)i;
    return -1;
}

int main(void)
{
    Suite *suite = suite_create("gradc");
    suite_add_tcase(suite, tcase_base());
    suite_add_tcase(suite, tcase_lexer_parser());
    suite_add_tcase(suite, tcase_check());
    suite_add_tcase(suite, tcase_graph());
    suite_add_tcase(suite, tcase_diff());
    suite_add_tcase(suite, tcase_ops());
    suite_add_tcase(suite, tcase_cname());
    suite_add_tcase(suite, tcase_emit());
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
