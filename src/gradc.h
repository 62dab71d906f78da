/* gradc.h: the compiler's data structures and each stage's API.
 *
 * The pipeline is compile.c's list of stages (enum Stage, below), then
 * main.c's emit_c and output_write_files.  Each stage reports problems
 * through a Diag and returns its error count; the next stage runs only when
 * that count is zero.  All memory belongs to one Arena per compilation and
 * is released in one call. */
#ifndef GRADC_H
#define GRADC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GRADC_MAX_RANK 2
/* Generated loops index with int, so no value may have more elements. */
#define GRADC_MAX_ELEMENTS 2147483647L

/* ---- arena.c: one allocation region per compilation ------------------- */

typedef struct Arena Arena;

Arena *arena_new(void);
/* An arena that arena_free(PARENT) frees too, unless it was freed first:
 * for what a compilation can drop half way. */
Arena *arena_new_child(Arena *parent);
void arena_free(Arena *arena);
/* Free everything allocated so far; the arena stays usable. */
void arena_reset(Arena *arena);
void *arena_alloc(Arena *arena, size_t size); /* zeroed */
/* Gives back P, of SIZE bytes from arena_alloc, when it has a block of its
 * own (a big one: a table that has grown); a small one stays till the end. */
void arena_drop(Arena *arena, void *p, size_t size);
char *arena_strndup(Arena *arena, const char *s, size_t len);
char *arena_strdup(Arena *arena, const char *s);
char *arena_printf(Arena *arena, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *arena_vprintf(Arena *arena, const char *fmt, va_list ap);
/* Grow *items (of *cap elements of elem_size) to hold at least need; the
 * room past the old *cap elements is not necessarily zeroed. */
void arena_reserve(Arena *arena, void *items, size_t *cap, size_t need,
                   size_t elem_size);
#define VEC_PUSH(arena, items, len, cap, value)                              \
    do {                                                                     \
        arena_reserve((arena), &(items), &(cap), (len) + 1, sizeof *(items)); \
        (items)[(len)++] = (value);                                          \
    } while (0)

/* A growable text buffer in the arena, for emission; or, once given a
 * file, a buffer of fixed size in front of it, so that text of any length
 * takes bounded memory (the reader of such a Buf sees only what is not
 * yet written). */
typedef struct Buf {
    Arena *arena;
    char *data;
    size_t len, cap;
    int fd;               /* the file the text goes to, or -1 */
    int error;            /* errno of the first failed write to fd, or 0 */
} Buf;

void buf_init(Buf *buf, Arena *arena);
/* BUF writes its text to FD as it fills (and buf_flush). */
void buf_init_file(Buf *buf, Arena *arena, int fd);
/* Writes what BUF holds to its file; false (buf->error set) when some
 * write failed, now or before. */
bool buf_flush(Buf *buf);
void buf_putc(Buf *buf, char c);
void buf_putn(Buf *buf, const char *s, size_t n);
void buf_puts(Buf *buf, const char *s);
void buf_printf(Buf *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(Buf *buf, const char *fmt, va_list ap);

/* A string -> int map in the arena (open addressing).  Each slot keeps
 * its key's hash, so that a probe compares strings only when the hashes
 * agree: a map of 10^7 names is then one cache miss per lookup. */
typedef struct StrMapSlot {
    const char *key;      /* NULL: empty */
    uint32_t hash;
    int value;
} StrMapSlot;

typedef struct StrMap {
    Arena *arena;
    StrMapSlot *slots;
    size_t cap, used;
} StrMap;

void strmap_init(StrMap *map, Arena *arena);
/* The value stored for KEY, or NULL. */
int *strmap_find(const StrMap *map, const char *key);
void strmap_put(StrMap *map, const char *key, int value);
/* Stores VALUE for KEY and returns true, unless KEY is there already. */
bool strmap_add(StrMap *map, const char *key, int value);
/* Room for N keys in all without growing again: growth moves every key. */
void strmap_reserve(StrMap *map, size_t n);
/* A hint: the key A B C (concatenated) will be looked up soon.  A lookup
 * in a table of 10^7 keys is a cache miss; hinted early enough, it waits
 * for nothing. */
void strmap_prefetch(const StrMap *map, const char *a, const char *b, const char *c);

/* Internal compiler errors: a bug in gradc, never a user error. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
#define UNREACHABLE() die("internal error at %s:%d", __FILE__, __LINE__)

/* The file name in PATH, after its last '/' ("m.grad" for "dir/m.grad"):
 * here, beside die(), because the driver, cname.c and output.c all need
 * it and this is the file every module already links with. */
const char *path_base(const char *path);

/* ---- source.c: the input text and its line map ------------------------ */

/* A byte range [off, end) of the source; lines and columns are derived.
 * 32 bits hold any offset of a source gradc reads (GRADC_MAX_SOURCE_BYTES)
 * and halve the two spans of each of a big model's 10^7 expressions. */
typedef struct Span {
    uint32_t off, end;
} Span;

typedef struct Source {
    const char *path;  /* as named on the command line */
    const char *text;  /* the bytes read, NUL-terminated (may contain NULs) */
    size_t len;
    size_t *line_off;  /* offset of each line's first byte */
    size_t nlines;
} Source;

/* The largest input gradc reads (256 MiB): far below INT_MAX, the lexer's
 * limit, and a bound for an endless one such as /dev/zero. */
#define GRADC_MAX_SOURCE_BYTES (256L * 1024 * 1024)

/* Read PATH whole; on failure print "gradc: error: ..." and return false. */
bool source_read(Source *src, Arena *arena, const char *path);
void source_from_text(Source *src, Arena *arena, const char *path,
                      const char *text, size_t len);
/* 1-based line and column (in bytes) of OFF. */
void source_locate(const Source *src, size_t off, size_t *line, size_t *col);
/* The text of LINE (1-based), without its line terminator. */
const char *source_line(const Source *src, size_t line, size_t *len);

/* ---- diag.c: FILE:LINE:COL: error: message, the line, a caret --------- */

typedef struct Diag {
    const Source *src;
    FILE *out;
    int errors, warnings;
    int max_errors;   /* stop reporting (and compiling) beyond this many */
} Diag;

void diag_init(Diag *diag, const Source *src, FILE *out);
void diag_error(Diag *diag, Span at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag_warning(Diag *diag, Span at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag_note(Diag *diag, Span at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool diag_too_many(const Diag *diag);

/* ---- shape.c: the shapes of values ------------------------------------ */

typedef struct Shape {
    int rank;                     /* 0 scalar, 1 vector, 2 matrix */
    long dim[GRADC_MAX_RANK];
} Shape;

bool shape_equal(Shape a, Shape b);
long shape_size(Shape s);
/* "scalar", "[3]", "[2, 4]" */
const char *shape_str(Arena *arena, Shape s);

/* ---- real.c: the floating-point type of the generated code ------------- */

/* What the generated code's numbers are: double (the default) or float
 * (--type=float).  The emitter writes every type, literal and call through
 * one of these, so a type is a row of real_types[], not a branch. */
typedef struct RealType {
    const char *name;           /* the C type, and --type's word */
    const char *option;         /* " --type=float" in the files' first line,
                                   "" for the default */
    const char *literal_suffix; /* after a literal: "f" */
    const char *libm_suffix;    /* after a <math.h> function: expf */
    const char *runtime_suffix; /* after a gradrt_ function: gradrt_gemmf */
    const char *zero, *one;     /* the literals 0 and 1 */
    const char *infinity;       /* <math.h>'s, for a number beyond range */
    int size;                   /* bytes, for the stack budget */
    int digits;                 /* significant digits that always read back */
} RealType;

extern const RealType real_types[];
extern const int real_type_count;
/* The type named NAME, or NULL. */
const RealType *real_type(const char *name);
/* The shortest literal of type REAL that reads back as V rounded to it:
 * "2.0", "0.1f", "(-1.5f)" (negative literals in brackets, an atom). */
const char *real_literal(Arena *arena, const RealType *real, double v);

/* ---- ops.c, ops.def: the operator table -------------------------------- */

typedef enum Op {
#define OP(id, name, arity, kind, shape, flags, fwd, adj0, adj1, reads0, reads1, \
           deriv, fwd_deriv, array_fwd, array_fwd_deriv) OP_##id,
#include "ops.def"
#undef OP
    OP_COUNT
} Op;

typedef enum OpKind {
    OPK_LEAF,     /* constants and arguments: no operands */
    OPK_ELEM,     /* elementwise: templates apply per element, broadcasting */
    OPK_STRUCT,   /* loops of its own (matrix product, reductions, ...) */
} OpKind;

typedef enum ShapeRule {
    SHAPE_SAME, SHAPE_BROADCAST, SHAPE_MATMUL, SHAPE_REDUCE, SHAPE_ROWS,
    SHAPE_ROWREDUCE, SHAPE_TRANSPOSE, SHAPE_OUTER, SHAPE_CONV1D,
} ShapeRule;

/* What the passes may assume of an operator (the legend of ops.def). */
typedef enum OpFlag {
    OPF_COMMUTES = 1u << 0,
    OPF_INVOLUTION = 1u << 1,
    OPF_UNIT_ONE = 1u << 2,
    OPF_UNIT_ZERO = 1u << 3,
    OPF_PASSES_ADJ = 1u << 4,
} OpFlag;

/* What an adjoint reads of the forward pass: operand 0, operand 1, the
 * node's own value. */
#define READS_ARG0 1u
#define READS_ARG1 2u
#define READS_SELF 4u
#define READS_DERIV 8u   /* the derivative the forward pass stored */

/* Templates are C expressions: %0 %1 stand for the operands, %= for the
 * node's own value, %d for the derivative the forward pass stored, and %g
 * for its incoming adjoint; an adjoint template is the contribution to
 * that operand's adjoint. */
typedef struct OpInfo {
    const char *name;     /* source spelling: "+", "exp", ... */
    int arity;
    OpKind kind;
    ShapeRule shape;
    unsigned flags;       /* OpFlag bits */
    const char *fwd;      /* OPK_ELEM: the templates */
    const char *adj[2];
    unsigned reads[2];    /* OPK_STRUCT: READS_ bits of each adjoint */
    /* ELEM_ARRAY: the derivative's template, and the runtime's functions:
     * value and derivative of a scalar, value of an array, and both */
    const char *deriv;
    const char *fwd_deriv;
    const char *array_fwd;
    const char *array_fwd_deriv;
} OpInfo;

extern const OpInfo op_info[OP_COUNT];

/* The built-in function called NAME, or -1. */
int op_lookup_function(const char *name);
/* Which of %0 %1 %= a template reads, as READS_ bits. */
unsigned op_template_reads(const char *tmpl);
/* What the adjoint of OP's operand ARG reads of the forward pass: what its
 * template names, or what its ops.def entry says. */
unsigned op_adjoint_reads(Op op, int arg);

/* ---- ast.c: the syntax tree -------------------------------------------- */

typedef enum ExprKind {
    EXPR_NUM,
    EXPR_NAME,
    EXPR_UNARY,   /* op is OP_NEG */
    EXPR_BINARY,  /* op is the operator */
    EXPR_CALL,    /* name is the function; op is set by check */
} ExprKind;

/* The ints together, then the rest: no padding, for there are ten per
 * statement of a scalar chain. */
typedef struct Expr {
    ExprKind kind;
    int id;              /* creation index: operands always come first */
    Op op;
    int nargs;
    Span span;           /* the whole expression */
    Span op_span;        /* the operator or function name */
    const char *name;    /* EXPR_NAME, EXPR_CALL */
    double num;          /* EXPR_NUM */
    struct Expr **args;
    /* set by check.c */
    int def;             /* EXPR_NAME: index of the statement defining it */
    int axis;            /* sum, mean: the axis reduced, -1 for all */
    Shape shape;
} Expr;

typedef enum StmtKind {
    STMT_INPUT,   /* input NAME[dims]: differentiated argument */
    STMT_DATA,    /* data NAME[dims]: argument without gradient */
    STMT_DEF,     /* NAME = expr */
    STMT_OUTPUT,  /* output NAME = expr */
} StmtKind;

typedef struct Dim {
    const char *text;    /* the literal as written */
    Span span;
} Dim;

typedef struct Stmt {
    StmtKind kind;
    const char *name;
    Span name_span;
    Span span;           /* the whole statement, for comments */
    Dim *dims;           /* STMT_INPUT, STMT_DATA */
    int ndims;
    Expr *expr;          /* STMT_DEF, STMT_OUTPUT */
    /* set by check.c */
    Shape shape;
} Stmt;

typedef struct Ast {
    Expr **exprs;        /* every expression, in creation order */
    size_t nexprs, cap_exprs;
    Stmt *stmts;
    size_t nstmts, cap_stmts;
} Ast;

Expr *ast_new_expr(Arena *arena, Ast *ast, ExprKind kind, Span span);
void ast_dump(const Ast *ast, FILE *out);

/* ---- grammar/parser.y, grammar/lexer.l: text -> Ast --------------------- */

int parse(const Source *src, Arena *arena, Diag *diag, Ast *ast);

/* ---- check.c: names, arities and shapes -------------------------------- */

int check(Ast *ast, Diag *diag, Arena *arena);

/* ---- graph.c: the hash-consed DAG --------------------------------------- */

typedef enum NodeFlag {
    NODE_OUTPUT = 1u << 0,   /* some output statement names it */
    NODE_VARIED = 1u << 1,   /* depends on an input */
    NODE_USEFUL = 1u << 2,   /* reaches an output */
} NodeFlag;

/* The ints first, then the 8-byte fields: no padding, 72 bytes. */
typedef struct Node {
    Op op;
    int args[2];          /* operand node ids, always smaller than this id */
    int param;            /* OP_INPUT, OP_DATA: index in Graph.params */
    int axis;             /* OP_SUM, OP_MEAN: the axis reduced, -1 for all */
    unsigned transposed;  /* OP_MATMUL: bit k set when operand k, a matrix,
                             is read transposed (a transpose() folded in) */
    unsigned flags;
    int stmt;             /* the statement that first built this node */
    double value;         /* OP_CONST */
    Shape shape;
    const char *name;     /* the first statement that names this value */
} Node;

typedef struct Param {
    const char *name;
    int node;
    bool is_input;        /* input (differentiated) or data */
    int stmt;
} Param;

typedef struct Output {
    const char *name;
    int node;
    int stmt;
} Output;

/* A statement of the source, for the comments of the generated code. */
typedef struct SourceStmt {
    const char *text;     /* its bytes in the source, comments included */
    size_t len;
    size_t line;          /* the line it starts on */
} SourceStmt;

typedef struct Graph {
    Node *nodes;          /* in topological order */
    size_t nnodes, cap_nodes;
    Param *params;        /* input and data, in declaration order */
    size_t nparams, cap_params;
    Output *outputs;      /* in declaration order */
    size_t noutputs, cap_outputs;
    SourceStmt *stmts;    /* every statement; Node.stmt indexes it */
    size_t nstmts;
    /* the hash-consing table: node ids + 1, 0 for empty, with the hash of
     * each node, so that probes and rehashing do not read the nodes */
    struct GraphSlot {
        int id;
        uint32_t hash;
    } *table;
    size_t table_cap, table_used;
    Arena *arena;
} Graph;

void graph_init(Graph *graph, Arena *arena);
int graph_add_const(Graph *graph, double value);
int graph_add_param(Graph *graph, const char *name, Shape shape,
                    bool is_input, int stmt);
int graph_add_op(Graph *graph, Op op, const int *args, int axis, Shape shape,
                 int stmt);
/* Build from a checked Ast; warns about unused inputs and values. */
int graph_build(Graph *graph, const Ast *ast, Diag *diag);
void graph_dump(const Graph *graph, FILE *out);
/* The first invariant GRAPH breaks, described, or NULL when it keeps them
 * all: operands come before their node (operand slots beyond the arity are
 * -1), every shape has a rank of at most GRADC_MAX_RANK, dimensions of at
 * least 1 and at most GRADC_MAX_ELEMENTS elements (generated loops index
 * with int), the flags say what the graph does, and the params and outputs
 * name their nodes. */
const char *graph_check(const Graph *graph);

/* ---- diff.c: reverse mode ---------------------------------------------- */

/* One adjoint statement: node `from` sends its adjoint through operand
 * `arg` to node `to`; for a seed (from = -1) output `output` sends its seed.
 * `first` marks the first contribution to `to`: '=' rather than '+='. */
typedef struct Adjoint {
    int to;
    int from;
    int arg;
    int output;
    bool first;
} Adjoint;

typedef struct AdjointProgram {
    Adjoint *steps;       /* in execution order: seeds, then reverse
                             topological order */
    size_t nsteps, cap_steps;
    /* Where each node's adjoint lives: adj_seed[n] >= 0 names the output
     * whose seed it is; otherwise adj_node[n] is the node whose adjoint
     * variable it shares (n itself when it has its own), -1 for none.  A
     * node shares when its one contribution is an exact copy. */
    int *adj_node;
    int *adj_seed;
    /* per node: the backward pass reads its forward value, or the
     * derivative the forward pass computes with it (READS_DERIV) */
    bool *on_tape;
    bool *tape_deriv;
} AdjointProgram;

int diff(const Graph *graph, AdjointProgram *prog, Arena *arena);
/* The node whose shape the variable holding N's adjoint has: the output
 * for a seed, else adj_node[n]. */
int adjoint_owner(const Graph *graph, const AdjointProgram *prog, int n);
void adjoint_dump(const Graph *graph, const AdjointProgram *prog, FILE *out);

/* ---- cname.c: C identifiers that never collide ------------------------- */

typedef struct CNames CNames;

CNames *cnames_new(Arena *arena);
/* Mark NAME as taken exactly as spelled. */
void cnames_reserve(CNames *names, const char *name);
/* About N names will be claimed in all (to size the table once). */
void cnames_expect(CNames *names, size_t n);
/* A hint: the name A B C (concatenated) will be claimed soon. */
void cnames_prefetch(const CNames *names, const char *a, const char *b, const char *c);
/* A fresh identifier close to PREFERRED: valid C and C++, no keyword, no
 * reserved spelling, not a name the generated code calls, not yet taken. */
const char *cnames_claim(CNames *names, const char *preferred);
/* True when NAME can be used exactly as spelled. */
bool cnames_is_safe(const char *name);
/* The model name for an input path: the base name without its extension,
 * each run of characters other than letters and digits made one '_'
 * between them; "model" when nothing is left, "model_" in front when it
 * starts with a digit or a name made from it (NAME_forward) is reserved. */
const char *cnames_model(Arena *arena, const char *path);
/* What the generated code appends to the model name: NAME_forward, ...,
 * and the type NAME_tape.  NULL at the end. */
extern const char *const cnames_model_suffixes[];

/* ---- lifetime.c: local arrays that can share storage ------------------- */

/* An array live from the position that writes it first to the last that
 * reads it, of SIZE elements. */
typedef struct Lifetime {
    long first, last;
    long size;
} Lifetime;

/* Gives each of the N lifetimes, in order of 'first', a slot: arrays of
 * equal size whose spans do not overlap share one.  Returns the number of
 * slots, numbered in order of first use; SLOT[i] is lifetime i's. */
int lifetime_slots(const Lifetime *life, int n, int *slot, Arena *arena);

/* ---- emit_c.c: the generated C ----------------------------------------- */

typedef struct EmitOptions {
    const char *model;        /* C prefix: NAME_forward ... */
    const char *header_name;  /* how the .c includes its header */
    const char *c_name;       /* the .c file's base name, for its comment */
    const char *source_name;  /* the .grad file named in comments */
    long stack_limit;         /* bytes of local arrays per function; larger
                                 ones go to the tape's work area */
    long part_size;           /* operations per function before it is split */
    const RealType *real;     /* the type of every number */
} EmitOptions;

/* --stack-limit's default: small enough for an embedded thread's stack. */
#define EMIT_STACK_LIMIT 65536L
/* --function-size's default: gcc -O2's time per operation falls with the
 * part's size down to about here (a 10^4-statement chain: 63 s in parts of
 * 1000, 30 s in parts of 250), and a call between parts costs nothing
 * measurable beside 250 operations. */
#define EMIT_PART_SIZE 250L

void emit_c(const Graph *graph, const AdjointProgram *prog, const EmitOptions *opts,
            Buf *c_file, Buf *h_file);

/* ---- compile.c: the pipeline ------------------------------------------ */

/* The stages, in the order they run: each one only when the ones before it
 * found no error. */
typedef enum Stage {
    STAGE_READ,    /* the file, or the text given, -> Source */
    STAGE_PARSE,   /* -> Ast */
    STAGE_CHECK,   /* names, arities and shapes in the Ast */
    STAGE_GRAPH,   /* -> Graph */
    STAGE_DIFF,    /* -> AdjointProgram */
} Stage;

/* One compilation, as far as it has gone. */
typedef struct Compilation {
    Arena *arena;
    const char *path;
    const char *text;    /* the source, or NULL to read PATH */
    size_t len;
    FILE *diag_out;
    Source src;
    Diag diag;
    Arena *ast_arena;    /* the Ast's, freed once the graph is built */
    Ast ast;             /* empty from then on */
    Graph graph;
    AdjointProgram prog;
    int stages_done;     /* how many have run without error */
    int errors;          /* the error count of the stage that failed */
} Compilation;

/* A compilation of PATH: the file, or when TEXT is not NULL, the LEN bytes
 * of TEXT under that name.  Diagnostics go to DIAG_OUT. */
void compilation_init(Compilation *c, Arena *arena, const char *path,
                      const char *text, size_t len, FILE *diag_out);
/* Run the stages not yet run, up to and including LAST, and stop at the
 * first that reports an error; its error count is returned (1 for a file
 * that cannot be read, after "gradc: error: ..."), 0 when all went well.
 * Debug and sanitizer builds check the graph before diff and die on a
 * broken invariant (an internal error). */
int compile_until(Compilation *c, Stage last);

/* ---- output.c: all-or-nothing file writing ----------------------------- */

/* Files being written: each to a temporary in its directory, through a Buf
 * (output_buf) that writes as it fills, so that the text never has to be
 * held whole.  The temporaries are removed by output_abort, by an
 * output_commit that fails, and on exit() or a fatal signal before commit. */
typedef struct OutputFiles OutputFiles;

/* Checks every path (what output_write_files would refuse is refused now)
 * and makes the temporaries; NULL after "gradc: error: ...". */
OutputFiles *output_begin(const char *const *paths, int nfiles);
/* The text of file I (as in PATHS) goes here, until commit or abort. */
Buf *output_buf(OutputFiles *files, int i);
/* Renames every file into place, or on a failure prints
 * "gradc: error: ..." and leaves every destination as it was.  Either
 * way FILES is gone. */
bool output_commit(OutputFiles *files);
void output_abort(OutputFiles *files);

/* Write every file to a temporary in its directory, then rename them all
 * into place, a symbolic link written through; on any failure print
 * "gradc: error: ...", leave every destination as it was and return false.
 * Concurrent calls for the same files leave the files of one of them. */
bool output_write_files(const char *const *paths, const Buf *const *contents,
                        int nfiles);
/* OUT.c -> OUT.h; NULL after "gradc: error: ..." for a name that does not
 * end in .c or whose header cannot be named in #include "...". */
const char *output_header_path(Arena *arena, const char *c_path);

#endif
