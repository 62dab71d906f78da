/* unit.h: shared by the Check unit tests of gradc's stages.
 *
 * Each test_*.c file holds the tests of one stage and exports a TCase;
 * unit.c runs them all.  The helpers below drive the real pipeline on a
 * source given as a string, file name "t.grad", and collect every
 * diagnostic in memory. */
#ifndef UNIT_H
#define UNIT_H

#include <check.h>

#include "gradc.h"

/* One compilation of a source string, up to some stage. */
typedef struct Run {
    Compilation comp;
    FILE *log_file;      /* where diag writes */
    char *log;           /* everything diag wrote */
    size_t log_len;
} Run;

/* Runs LEN bytes of TEXT through the stages up to LAST (compile_until). */
Run *run_bytes(const char *text, size_t len, Stage last);
Run *run_text(const char *text, Stage last);
/* The whole pipeline, asserting that TEXT compiles without error. */
Run *run_model(const char *text);
void run_free(Run *run);

/* The header lines of the diagnostics ("t.grad:2:5: error: ..."), without
 * the source lines and carets, each ending in '\n'; "" for none. */
const char *diag_headers(Run *run);
/* The diagnostics of TEXT through graph building (where the last checks
 * and warnings are). */
const char *diags_of(Arena *arena, const char *text);
/* ast_dump of TEXT, which must parse without error. */
const char *ast_of(Arena *arena, const char *text);

/* The generated files for a compiled run, model name "m". */
void emit_model(Run *run, Buf *c_file, Buf *h_file);
/* The same, for the generated code's type REAL (--type). */
void emit_model_as(Run *run, const RealType *real, Buf *c_file, Buf *h_file);
/* Occurrences of NEEDLE in HAYSTACK. */
int count_substr(const char *haystack, const char *needle);
/* The first line of TEXT that starts with PREFIX after its indentation,
 * as an arena string without the newline, or NULL. */
const char *find_line(Arena *arena, const char *text, const char *prefix);

/* The node first named NAME (by its declaration or definition). */
int node_named(const Run *run, const char *name);
/* The node ids with operator OP, counted. */
int count_op(const Graph *graph, Op op);
/* The first node with operator OP, or -1. */
int find_op(const Graph *graph, Op op);

/* cexpr.c: evaluates the C expression of an ops.def template for given
 * values of %0, %1, %=, %d and %g (see test_ops.c). */
typedef struct TemplateValues {
    double arg[2];
    double self;
    double adjoint;
    double deriv;
} TemplateValues;
double template_eval(const char *tmpl, const TemplateValues *values);

TCase *tcase_base(void);
TCase *tcase_lexer_parser(void);
TCase *tcase_check(void);
TCase *tcase_graph(void);
TCase *tcase_diff(void);
TCase *tcase_ops(void);
TCase *tcase_cname(void);
TCase *tcase_emit(void);

#endif
