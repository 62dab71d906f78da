/* main.c: the gradc driver.  compile() is the whole pipeline: the stages of
 * compile.c, then a dump or the generated files. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "gradc.h"

typedef struct Options {
    const char *input;
    const char *output;     /* NAME.c; the header goes beside it */
    const char *dump;       /* print this stage and stop: ast, graph, adjoint */
    long stack_limit;       /* bytes of local arrays per generated function */
    long part_size;         /* operations per generated function */
    const RealType *real;   /* --type */
} Options;

static const char usage[] =
    "Usage: gradc [OPTION]... FILE.grad\n"
    "Compile a .grad model into C forward and backward (gradient) functions.\n"
    "\n"
    "  -o, --output=OUT.c  write OUT.c and its header OUT.h beside it\n"
    "                      (default: the input's base name with .c, here)\n"
    "      --dump=STAGE    print a compiler stage instead of writing files:\n"
    "                      ast, graph or adjoint\n"
    "      --stack-limit=BYTES\n"
    "                      the most stack a generated function's local arrays\n"
    "                      take (default 65536); larger ones go to the tape\n"
    "      --function-size=N\n"
    "                      split functions of more than about N operations\n"
    "                      into parts, for the C compiler (default 250)\n"
    "      --type=TYPE     the generated code's numbers: double (the default)\n"
    "                      or float, which calls the runtime's float kernels\n"
    "  -h, --help          show this help and exit\n"
    "  -V, --version       show the version and exit\n"
    "\n"
    "Errors are reported as FILE:LINE:COL: error: MESSAGE; on any error gradc\n"
    "exits with status 1 and writes no file.  The generated code includes\n"
    "<gradrt.h>; build it with: cc -c OUT.c $(pkg-config --cflags gradrt)\n"
    "and link with $(pkg-config --libs gradrt) -lm.\n";

static int write_outputs(const Options *opt, const Compilation *comp)
{
    Arena *arena = comp->arena;
    const char *c_path = opt->output;
    const char *h_path = output_header_path(arena, c_path);
    if (!h_path)
        return 1;
    struct stat in, out;
    if (stat(opt->input, &in) == 0) {
        for (const char *p = c_path; p; p = p == c_path ? h_path : NULL) {
            if (strcmp(p, opt->input) == 0 ||
                (stat(p, &out) == 0 && in.st_dev == out.st_dev &&
                 in.st_ino == out.st_ino)) {
                fprintf(stderr, "gradc: error: writing '%s' would overwrite the input\n", p);
                return 1;
            }
        }
    }
    EmitOptions eo = { cnames_model(arena, opt->input), path_base(h_path),
                       path_base(c_path), path_base(opt->input), opt->stack_limit,
                       opt->part_size, opt->real };
    const char *paths[] = { h_path, c_path };
    OutputFiles *files = output_begin(paths, 2);
    if (!files)
        return 1;
    emit_c(&comp->graph, &comp->prog, &eo, output_buf(files, 1), output_buf(files, 0));
    return output_commit(files) ? 0 : 1;
}

static bool dumps(const Options *opt, const char *stage)
{
    return opt->dump && strcmp(opt->dump, stage) == 0;
}

/* The pipeline: compile.c's stages, each only when the ones before it found
 * no error, up to diff (up to parse for --dump=ast), then emission. */
static int compile(const Options *opt, Arena *arena)
{
    Compilation comp;
    compilation_init(&comp, arena, opt->input, NULL, 0, stderr);
    if (compile_until(&comp, dumps(opt, "ast") ? STAGE_PARSE : STAGE_DIFF))
        return 1;
    if (dumps(opt, "ast"))
        ast_dump(&comp.ast, stdout);
    else if (dumps(opt, "graph"))
        graph_dump(&comp.graph, stdout);
    else if (dumps(opt, "adjoint"))
        adjoint_dump(&comp.graph, &comp.prog, stdout);
    else
        return write_outputs(opt, &comp);
    return 0;
}

static int usage_error(const char *fmt, const char *arg)
{
    fputs("gradc: error: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry 'gradc --help' for more information.\n", stderr);
    return 1;
}

/* A decimal count of at least MIN in TEXT, into *OUT. */
static bool parse_count(const char *text, long min, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (end == text || *end || n < min || errno)
        return false;
    *out = n;
    return true;
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' },
        { "dump", required_argument, NULL, 'd' },
        { "stack-limit", required_argument, NULL, 's' },
        { "function-size", required_argument, NULL, 'f' },
        { "type", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    Options opt = { .stack_limit = EMIT_STACK_LIMIT, .part_size = EMIT_PART_SIZE,
                    .real = &real_types[0] };
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            opt.output = optarg;
            break;
        case 'd':
            if (strcmp(optarg, "ast") && strcmp(optarg, "graph") &&
                strcmp(optarg, "adjoint"))
                return usage_error("unknown stage '%s' for --dump "
                                   "(ast, graph or adjoint)", optarg);
            opt.dump = optarg;
            break;
        case 's':
            if (!parse_count(optarg, 0, &opt.stack_limit))
                return usage_error("--stack-limit needs a number of bytes, not '%s'",
                                   optarg);
            break;
        case 'f':
            if (!parse_count(optarg, 1, &opt.part_size))
                return usage_error("--function-size needs a number of operations "
                                   "(1 or more), not '%s'", optarg);
            break;
        case 't':
            opt.real = real_type(optarg);
            if (!opt.real)
                return usage_error("unknown type '%s' for --type (double or float)", optarg);
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        case 'V':
            puts("gradc " PACKAGE_VERSION);
            return 0;
        case ':':
            return usage_error("option '%s' needs an argument", argv[optind - 1]);
        default: {
            /* A short option may sit in a cluster (-qV): name the letter. */
            char letter[3] = { '-', (char)optopt, '\0' };
            return usage_error("unknown option '%s'", optopt ? letter : argv[optind - 1]);
        }
        }
    }
    if (optind >= argc)
        return usage_error("no input file%s", "");
    if (argc - optind > 1)
        return usage_error("more than one input file ('%s')", argv[optind + 1]);
    opt.input = argv[optind];

    Arena *arena = arena_new();
    if (!opt.output) {
        const char *base = path_base(opt.input);
        const char *dot = strrchr(base, '.');
        int len = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
        opt.output = arena_printf(arena, "%.*s.c", len, base);
    }
    int status = compile(&opt, arena);
    arena_free(arena);
    return status;
}

/* A stream reports a failed write only when it is flushed: without this,
 * `gradc --dump=graph m.grad >/dev/full` would succeed. */
static int flush_stdout(int status)
{
    int err = fflush(stdout) == 0 ? 0 : errno;
    if (!err && !ferror(stdout))
        return status;
    fprintf(stderr, "gradc: error: cannot write to standard output%s%s\n",
            err ? ": " : "", err ? strerror(err) : "");
    return 1;
}

int main(int argc, char **argv)
{
    return flush_stdout(run(argc, argv));
}
