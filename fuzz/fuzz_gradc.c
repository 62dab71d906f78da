/* fuzz_gradc.c: a libFuzzer target over gradc's whole front and middle end.
 *
 * One input is one .grad source.  It runs the pipeline of main.c's
 * compile() in memory: compile.c's stages (compile_until), each while the
 * ones before it reported no error, the --dump printer after each, then
 * emit_c, with every diagnostic and dump going to /dev/null and the
 * generated .c and .h into Bufs.  Nothing is written to disk.  One Arena
 * per input, freed at the end, so LeakSanitizer sees any allocation that
 * escapes it.
 *
 * Besides the sanitizers, the target aborts (a finding) when
 *   - the graph breaks an invariant of gradc.h (graph_check(): an operand
 *     after its node, a value of more than GRADC_MAX_ELEMENTS elements,
 *     which generated loops cannot index with int, a bad rank, dimension
 *     or flag),
 *   - a successful compilation emits an empty file or a NUL byte, or C
 *     that is lexically wrong: an unterminated comment or literal, a '*' '/'
 *     outside a comment, a malformed number such as the name "2_", or a
 *     number where "double" declares a name ("double 2;"), or
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
    Compilation comp;
    compilation_init(&comp, arena, "fuzz.grad", (const char *)data, size,
                     devnull);
    if (compile_until(&comp, STAGE_PARSE))
        return r;
    ast_dump(&comp.ast, devnull);
    if (compile_until(&comp, STAGE_GRAPH))
        return r;
    /* A broken graph makes wrong C: a finding, whatever the build. */
    const char *broken = graph_check(&comp.graph);
    if (broken) {
        fprintf(stderr, "fuzz_gradc: the graph breaks an invariant: %s\n", broken);
        abort();
    }
    graph_dump(&comp.graph, devnull);
    if (compile_until(&comp, STAGE_DIFF))
        return r;
    adjoint_dump(&comp.graph, &comp.prog, devnull);

    /* Odd sizes put every array in the tape's work area and split the
     * functions into parts of a few operations; the next bit picks the type. */
    EmitOptions eo = { cnames_model(arena, "fuzz-model.grad"), "fuzz_model.h",
                       "fuzz_model.c", "fuzz.grad", size % 2 ? 0 : EMIT_STACK_LIMIT,
                       size % 2 ? 3 : EMIT_PART_SIZE,
                       &real_types[(size / 2) % (size_t)real_type_count] };
    buf_init(c_file, arena);
    buf_init(h_file, arena);
    emit_c(&comp.graph, &comp.prog, &eo, c_file, h_file);
    r.status = 0;
    return r;
}

static bool is_ident_start(char c)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ident_char(char c)
{
    return is_ident_start(c) || is_digit(c);
}

static void bad_c(const Buf *b, size_t at, const char *what, const char *why)
{
    size_t from = at > 60 ? at - 60 : 0;
    size_t to = at + 60 < b->len ? at + 60 : b->len;
    fprintf(stderr, "fuzz_gradc: the generated %s is not C: %s at byte %zu:\n%.*s\n",
            what, why, at, (int)(to - from), b->data + from);
    abort();
}

/* A lexical look at the generated C, enough to catch names the mangler
 * got wrong: comments and string literals are closed, no comment ends
 * outside a comment, every number is a well-formed decimal floating or
 * integer constant (a name such as "2_" is not), and what a "double"
 * declares is not a number ("double 2;"). */
static void check_c_tokens(const Buf *b, const char *what)
{
    const char *t = b->data;
    size_t n = b->len;
    bool after_double = false;
    for (size_t i = 0; i < n;) {
        char c = t[i];
        if (c == '/' && i + 1 < n && t[i + 1] == '*') {
            const char *end = NULL;
            for (size_t j = i + 2; j + 1 < n; j++)
                if (t[j] == '*' && t[j + 1] == '/') {
                    end = t + j;
                    break;
                }
            if (!end)
                bad_c(b, i, what, "an unterminated comment");
            i = (size_t)(end - t) + 2;
        } else if (c == '/' && i + 1 < n && t[i + 1] == '/') {
            while (i < n && t[i] != '\n')
                i++;
        } else if (c == '*' && i + 1 < n && t[i + 1] == '/') {
            bad_c(b, i, what, "'*/' outside a comment");
        } else if (c == '"' || c == '\'') {
            size_t j = i + 1;
            while (j < n && t[j] != c && t[j] != '\n')
                j += t[j] == '\\' ? 2 : 1;
            if (j >= n || t[j] != c)
                bad_c(b, i, what, "an unterminated literal");
            i = j + 1;
            after_double = false;
        } else if (c == '#') {
            /* A preprocessor line: its words are not declarations. */
            while (i < n && t[i] != '\n')
                i++;
        } else if (is_ident_start(c)) {
            size_t j = i;
            while (j < n && is_ident_char(t[j]))
                j++;
            size_t len = j - i;
            bool qualifier = (len == 5 && !memcmp(t + i, "const", 5)) ||
                             (len == 8 && !memcmp(t + i, "restrict", 8));
            if (len == 6 && !memcmp(t + i, "double", 6))
                after_double = true;
            else if (!qualifier)
                after_double = false;
            i = j;
        } else if (is_digit(c) || (c == '.' && i + 1 < n && is_digit(t[i + 1]))) {
            if (after_double)
                bad_c(b, i, what, "a number where a declaration names a variable");
            size_t j = i;
            while (j < n && (is_ident_char(t[j]) || t[j] == '.' ||
                             ((t[j] == '+' || t[j] == '-') &&
                              (t[j - 1] == 'e' || t[j - 1] == 'E'))))
                j++;
            /* digits [. digits] [e [+-] digits], or . digits [...] */
            size_t k = i, digits = 0;
            while (k < j && is_digit(t[k]))
                k++, digits++;
            if (k < j && t[k] == '.')
                for (k++; k < j && is_digit(t[k]); k++)
                    digits++;
            if (digits > 0 && k < j && (t[k] == 'e' || t[k] == 'E')) {
                k++;
                if (k < j && (t[k] == '+' || t[k] == '-'))
                    k++;
                size_t exp_digits = 0;
                for (; k < j && is_digit(t[k]); k++)
                    exp_digits++;
                if (exp_digits == 0)
                    k = 0;   /* malformed */
            }
            if (digits == 0 || k != j)
                bad_c(b, i, what, "a malformed number (a name that starts with a digit?)");
            i = j;
            after_double = false;
        } else {
            if (c != ' ' && c != '\t' && c != '\n' && c != '*')
                after_double = false;
            i++;
        }
    }
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
    check_c_tokens(b, what);
}

/* ---- a token-aware mutator -------------------------------------------
 *
 * Byte-level mutation turns most sources into syntax errors, which never
 * reach check, graph_build, diff or emit_c.  Half of the mutations below
 * are libFuzzer's own (with the dictionary); the other half work on
 * tokens and lines and keep a program mostly well formed: rename a use to
 * another name of the program, swap a function or operator, wrap a name in
 * a call, change a dimension, duplicate, drop or swap lines, add an
 * output.  The inputs stay plain .grad text. */

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

typedef enum { T_WORD, T_NUM, T_PUNCT, T_SPACE, T_NL, T_COMMENT } TokKind;
typedef struct { size_t off, len; TokKind kind; } Tok;

static uint64_t rng_state;

static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return n ? (unsigned)(rng_state % n) : 0;
}

static const char *const functions1[] = {
    "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs",
    "softplus", "sum", "mean", "softmax", "log_softmax", "logsumexp",
    "transpose",
};
static const char *const functions2[] = { "max", "min", "outer", "conv1d" };
static const char *const binops[] = { " + ", " - ", " * ", " / ", " @ ", "^", "^2" };
static const char *const puncts[] = { "+", "-", "*", "/", "@", "^", "=", ",", ";",
                                      "(", ")", "[", "]", "\n" };
static const char *const numbers[] = {
    "0", "1", "2", "3", "4", "5", "7", "0.5", ".5", "3.", "1e-3", "2.5E+4",
    "1e308", "1e-320", "2147483647", "2147483648", "65536", "46341",
};
static const char *const dims[] = {
    "", "[1]", "[2]", "[3]", "[4]", "[5]", "[1, 1]", "[1, 3]", "[3, 1]",
    "[2, 3]", "[3, 2]", "[3, 3]", "[2, 1]", "[4, 5]", "[0]", "[46341, 46341]",
    "[46341]", "[46341, 1]", "[1, 46341]", "[65536, 1]", "[2147483647]",
};
#define COUNT(a) (sizeof (a) / sizeof *(a))

static size_t tokenize(const uint8_t *d, size_t n, Tok *toks)
{
    size_t nt = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        TokKind k;
        uint8_t c = d[i];
        if (c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
            while (j < n && (d[j] == '_' || (d[j] >= 'A' && d[j] <= 'Z') ||
                             (d[j] >= 'a' && d[j] <= 'z') || (d[j] >= '0' && d[j] <= '9')))
                j++;
            k = T_WORD;
        } else if ((c >= '0' && c <= '9') || c == '.') {
            while (j < n && ((d[j] >= '0' && d[j] <= '9') || d[j] == '.' ||
                             d[j] == 'e' || d[j] == 'E' ||
                             ((d[j] == '+' || d[j] == '-') &&
                              (d[j - 1] == 'e' || d[j - 1] == 'E'))))
                j++;
            k = T_NUM;
        } else if (c == '#') {
            while (j < n && d[j] != '\n')
                j++;
            k = T_COMMENT;
        } else if (c == '\n') {
            k = T_NL;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            while (j < n && (d[j] == ' ' || d[j] == '\t' || d[j] == '\r'))
                j++;
            k = T_SPACE;
        } else {
            k = T_PUNCT;
        }
        toks[nt++] = (Tok){ i, j - i, k };
        i = j;
    }
    return nt;
}

/* The output under construction: fails (returns false) past max. */
typedef struct Out {
    uint8_t *data;
    size_t len, max;
    bool ok;
} Out;

static void out_put(Out *o, const void *p, size_t n)
{
    if (!o->ok || n > o->max - o->len) {
        o->ok = false;
        return;
    }
    memcpy(o->data + o->len, p, n);
    o->len += n;
}

static void out_str(Out *o, const char *s)
{
    out_put(o, s, strlen(s));
}

/* A random WORD token of the input that is not a keyword, or "x". */
static void random_name(const uint8_t *d, const Tok *toks, size_t nt, Out *o)
{
    for (int tries = 0; tries < 8 && nt > 0; tries++) {
        const Tok *t = &toks[rnd((unsigned)nt)];
        if (t->kind != T_WORD)
            continue;
        if ((t->len == 5 && !memcmp(d + t->off, "input", 5)) ||
            (t->len == 4 && !memcmp(d + t->off, "data", 4)) ||
            (t->len == 6 && !memcmp(d + t->off, "output", 6)))
            continue;
        out_put(o, d + t->off, t->len);
        return;
    }
    out_str(o, "x");
}

/* Rewrites token I (of kind WORD, NUM or PUNCT) into O. */
static void mutate_token(const uint8_t *d, const Tok *toks, size_t nt, size_t i, Out *o)
{
    const Tok *t = &toks[i];
    switch (t->kind) {
    case T_WORD:
        switch (rnd(6)) {
        case 0: case 1:
            random_name(d, toks, nt, o);
            break;
        case 2:
            out_str(o, functions1[rnd(COUNT(functions1))]);
            out_str(o, "(");
            out_put(o, d + t->off, t->len);
            if (rnd(3) == 0)
                out_str(o, rnd(2) ? ", 0" : ", 1");
            out_str(o, ")");
            break;
        case 3:
            out_str(o, functions2[rnd(COUNT(functions2))]);
            out_str(o, "(");
            out_put(o, d + t->off, t->len);
            out_str(o, ", ");
            random_name(d, toks, nt, o);
            out_str(o, ")");
            break;
        case 4:
            out_str(o, "(");
            out_put(o, d + t->off, t->len);
            out_str(o, binops[rnd(COUNT(binops))]);
            random_name(d, toks, nt, o);
            out_str(o, ")");
            break;
        default:
            out_put(o, d + t->off, t->len);
            out_str(o, dims[rnd(COUNT(dims))]);
            break;
        }
        break;
    case T_NUM:
        out_str(o, numbers[rnd(COUNT(numbers))]);
        break;
    default:
        out_str(o, rnd(2) ? binops[rnd(COUNT(binops))] : puncts[rnd(COUNT(puncts))]);
        break;
    }
}

/* The bounds of line LINE (0-based) of D, with its newline. */
static void line_bounds(const uint8_t *d, size_t n, size_t line, size_t *off, size_t *len)
{
    size_t cur = 0, start = 0;
    for (size_t i = 0; i < n; i++) {
        if (d[i] != '\n')
            continue;
        if (cur == line) {
            *off = start;
            *len = i + 1 - start;
            return;
        }
        cur++;
        start = i + 1;
    }
    *off = start;
    *len = n - start;
}

static size_t structured_mutate(uint8_t *data, size_t size, size_t max_size)
{
    if (size == 0)
        return 0;
    uint8_t *d = malloc(size);
    Tok *toks = malloc(size * sizeof *toks);
    memcpy(d, data, size);
    size_t nt = tokenize(d, size, toks);
    size_t nlines = 1;
    for (size_t i = 0; i < size; i++)
        nlines += d[i] == '\n';
    Out o = { data, 0, max_size, true };

    switch (rnd(5)) {
    case 0: case 1: {   /* rewrite one to three tokens */
        size_t picks[3];
        unsigned npicks = 1 + rnd(3);
        for (unsigned k = 0; k < npicks; k++)
            picks[k] = rnd((unsigned)nt);
        for (size_t i = 0; i < nt; i++) {
            bool hit = false;
            for (unsigned k = 0; k < npicks; k++)
                hit |= picks[k] == i;
            if (hit && (toks[i].kind == T_WORD || toks[i].kind == T_NUM ||
                        toks[i].kind == T_PUNCT))
                mutate_token(d, toks, nt, i, &o);
            else
                out_put(&o, d + toks[i].off, toks[i].len);
        }
        break;
    }
    case 2: {           /* duplicate, drop or swap lines */
        size_t a = rnd((unsigned)nlines), b = rnd((unsigned)nlines);
        unsigned how = rnd(3);
        for (size_t l = 0; l < nlines; l++) {
            size_t off, len;
            line_bounds(d, size, how == 2 && l == a ? b : how == 2 && l == b ? a : l,
                        &off, &len);
            if (how == 1 && l == a)
                continue;
            out_put(&o, d + off, len);
            if (len == 0 || d[off + len - 1] != '\n')
                out_str(&o, "\n");
            if (how == 0 && l == b) {
                line_bounds(d, size, a, &off, &len);
                out_put(&o, d + off, len);
                if (len == 0 || d[off + len - 1] != '\n')
                    out_str(&o, "\n");
            }
        }
        break;
    }
    case 3: {           /* append an output over the program's names */
        out_put(&o, d, size);
        if (d[size - 1] != '\n')
            out_str(&o, "\n");
        char name[32];
        snprintf(name, sizeof name, "output o%u = ", rnd(1000));
        out_str(&o, name);
        unsigned terms = 1 + rnd(3);
        for (unsigned k = 0; k < terms; k++) {
            if (k)
                out_str(&o, binops[rnd(5)]);
            if (rnd(2)) {
                out_str(&o, functions1[rnd(COUNT(functions1))]);
                out_str(&o, "(");
                random_name(d, toks, nt, &o);
                out_str(&o, ")");
            } else {
                random_name(d, toks, nt, &o);
            }
        }
        out_str(&o, "\n");
        break;
    }
    default: {          /* a new declaration at the top */
        static const char *const decl[] = { "input ", "data " };
        out_str(&o, decl[rnd(2)]);
        random_name(d, toks, nt, &o);
        out_str(&o, dims[rnd(COUNT(dims))]);
        out_str(&o, "\n");
        out_put(&o, d, size);
        break;
    }
    }
    size_t len = o.ok ? o.len : 0;
    if (!o.ok) {
        memcpy(data, d, size);
        len = size;
    }
    free(toks);
    free(d);
    return len;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                               unsigned int seed)
{
    rng_state = (uint64_t)seed * 0x9E3779B97F4A7C15u + 1;
    if (size == 0 || rnd(2))
        return LLVMFuzzerMutate(data, size, max_size);
    return structured_mutate(data, size, max_size);
}

/* Crossover by lines: a prefix of one program's lines, then a suffix of
 * the other's, so that declarations of one meet the uses of the other. */
size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1,
                                 const uint8_t *data2, size_t size2,
                                 uint8_t *out, size_t max_out_size,
                                 unsigned int seed)
{
    rng_state = (uint64_t)seed * 0x9E3779B97F4A7C15u + 7;
    size_t cut1 = size1 ? rnd((unsigned)size1 + 1) : 0;
    size_t cut2 = size2 ? rnd((unsigned)size2 + 1) : 0;
    while (cut1 < size1 && data1[cut1 - (cut1 > 0)] != '\n')
        cut1++;
    while (cut2 > 0 && data2[cut2 - 1] != '\n')
        cut2--;
    size_t n = 0;
    size_t a = cut1 < max_out_size ? cut1 : max_out_size;
    memcpy(out, data1, a);
    n = a;
    size_t b = size2 - cut2 < max_out_size - n ? size2 - cut2 : max_out_size - n;
    memcpy(out + n, data2 + cut2, b);
    return n + b;
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
