/* fuzz_gradc.c: a libFuzzer target over gradc's whole front and middle end.
 *
 * One input is one .grad source.  It runs the pipeline of main.c's
 * compile() in memory, every stage in turn while the previous one reported
 * no error:
 *     source_from_text -> parse -> check -> graph_build -> diff -> emit_c
 * plus the --dump printers of each stage, with every diagnostic and dump
 * going to /dev/null and the generated .c and .h into Bufs.  Nothing is
 * written to disk.  One Arena per input, freed at the end, so LeakSanitizer
 * sees any allocation that escapes it.
 *
 * Besides the sanitizers, the target aborts (a finding) when
 *   - a successful compilation emits an empty file or a NUL byte, or
 *   - compiling the same input twice gives different bytes (the contract
 *     says the output is deterministic).
 * die() (an internal error) exits the process, which libFuzzer also
 * reports as a finding ("fuzz target exited").
 *
 * Build: make fuzz (clang -fsanitize=fuzzer,address,undefined); run: make
 * fuzz-run.  See fuzz/README. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradc.h"

/* Inputs beyond this are rejected: they only slow the fuzzer down.  Depth
 * and size limits are tested separately (the hostile-input tests). */
enum { MAX_INPUT = 64 * 1024 };

static FILE *devnull;

typedef struct Result {
    int status;          /* 0 compiled, 1 an error */
    const Buf *c_file, *h_file;
} Result;

static Result compile(Arena *arena, const uint8_t *data, size_t size,
                      Buf *c_file, Buf *h_file)
{
    Result r = { 1, c_file, h_file };
    Source src;
    source_from_text(&src, arena, "fuzz.grad", (const char *)data, size);
    Diag diag;
    diag_init(&diag, &src, devnull);
    Ast ast = { 0 };
    Graph graph;
    graph_init(&graph, arena);
    AdjointProgram prog;

    if (parse(&src, arena, &diag, &ast))
        return r;
    ast_dump(&ast, devnull);
    if (check(&ast, &diag, arena) || graph_build(&graph, &ast, &diag))
        return r;
    graph_dump(&graph, devnull);
    if (diff(&graph, &prog, arena))
        return r;
    adjoint_dump(&graph, &prog, devnull);

    EmitOptions eo = { cnames_model(arena, "fuzz-model.grad"), "fuzz_model.h",
                       "fuzz_model.c", "fuzz.grad" };
    buf_init(c_file, arena);
    buf_init(h_file, arena);
    emit_c(&ast, &graph, &prog, &eo, &src, c_file, h_file);
    r.status = 0;
    return r;
}

static void check_text(const Buf *b, const char *what)
{
    if (b->len == 0 || !b->data) {
        fprintf(stderr, "fuzz_gradc: the generated %s is empty\n", what);
        abort();
    }
    if (memchr(b->data, '\0', b->len)) {
        fprintf(stderr, "fuzz_gradc: the generated %s holds a NUL byte\n", what);
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    devnull = fopen("/dev/null", "w");
    if (!devnull) {
        perror("fuzz_gradc: /dev/null");
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return -1;   /* not added to the corpus */

    Arena *arena = arena_new();
    Buf c1, h1;
    Result r = compile(arena, data, size, &c1, &h1);
    if (r.status == 0) {
        check_text(&c1, ".c file");
        check_text(&h1, ".h file");
        /* Same input, same bytes: a second compilation in a fresh arena
         * (other addresses) must agree byte for byte. */
        Arena *again = arena_new();
        Buf c2, h2;
        Result r2 = compile(again, data, size, &c2, &h2);
        if (r2.status != 0 || c1.len != c2.len || h1.len != h2.len ||
            memcmp(c1.data, c2.data, c1.len) != 0 ||
            memcmp(h1.data, h2.data, h1.len) != 0) {
            fprintf(stderr, "fuzz_gradc: two compilations of one input differ\n");
            abort();
        }
        arena_free(again);
    }
    arena_free(arena);
    return 0;
}
