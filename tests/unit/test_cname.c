/* test_cname.c: C identifiers for any .grad name, and model names. */
#include <string.h>

#include "unit.h"

/* Spellings the generated code must not use as its own identifiers.  Kept
 * here, independently of cname.c, as a second opinion. */
static const char *const forbidden[] = {
    /* C99 and C11 keywords */
    "auto", "break", "case", "char", "const", "continue", "default", "do",
    "double", "else", "enum", "extern", "float", "for", "goto", "if", "inline",
    "int", "long", "register", "restrict", "return", "short", "signed",
    "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned",
    "void", "volatile", "while",
    /* C++ keywords and alternative tokens */
    "class", "new", "delete", "this", "template", "typename", "namespace",
    "operator", "private", "public", "protected", "virtual", "friend", "try",
    "catch", "throw", "bool", "true", "false", "and", "or", "not", "xor",
    "nullptr", "decltype", "constexpr", "explicit", "mutable", "export",
    "static_cast", "co_await", "requires", "concept", "char8_t", "wchar_t",
    /* <math.h> and <stdlib.h> names the generated code may see */
    "exp", "log", "sqrt", "sin", "cos", "tanh", "pow", "fabs", "y0", "y1",
    "j0", "jn", "NAN", "INFINITY", "HUGE_VAL", "M_PI", "isnan", "signbit",
    "abs", "NULL", "errno",
    /* object-like macros of other standard headers, and of their reserved
     * families (C99 7.26), that a file may include before a model's header */
    "EOF", "BUFSIZ", "SEEK_SET", "stdin", "stdout", "DBL_MAX", "FLT_EPSILON",
    "INT_MAX", "CHAR_BIT", "SIZE_MAX", "INT8_MAX", "UINT64_C", "PRId64",
    "SCNx32", "EDOM", "E2BIG", "EXIT_SUCCESS", "SIGINT", "SIG_DFL", "LC_ALL",
    "FE_ALL_EXCEPT", "RAND_MAX", "I", "WEOF", "M_PI_2", "FP_NAN",
    /* predefined by -DNDEBUG and by gcc's GNU dialects */
    "NDEBUG", "linux", "unix",
    /* keywords of GNU C and C23 */
    "typeof", "typeof_unqual",
    /* object-like macros of POSIX and glibc headers under -std=gnu99:
     * <limits.h>, <signal.h>, <sys/wait.h>, <time.h>, <stdio.h>, <poll.h>,
     * <termios.h>, <sys/stat.h>, <signal.h>'s member macros, <fcntl.h>,
     * <netinet/in.h>, <stdlib.h>, <unistd.h> */
    "PATH_MAX", "NSIG", "WNOHANG", "CLOCK_REALTIME", "P_tmpdir", "POLLIN",
    "B0", "ECHO", "st_atime", "sa_handler", "O_RDONLY", "INADDR_ANY",
    "EXIT_FAILURE", "STDIN_FILENO",
    /* the include guard of a model m's header */
    "GRADC_M_H",
};

static bool is_forbidden(const char *name)
{
    for (size_t i = 0; i < sizeof forbidden / sizeof *forbidden; i++)
        if (strcmp(name, forbidden[i]) == 0)
            return true;
    return false;
}

/* A valid C and C++ identifier outside what the implementation reserves. */
static void assert_usable(const char *name, const char *preferred)
{
    ck_assert_msg(name[0] != '\0', "'%s' became empty", preferred);
    for (const char *s = name; *s; s++) {
        bool letter = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_';
        bool digit = *s >= '0' && *s <= '9';
        ck_assert_msg(letter || (digit && s != name),
                      "'%s' -> '%s' is not an identifier", preferred, name);
    }
    ck_assert_msg(name[0] != '_' && !strstr(name, "__"),
                  "'%s' -> '%s' is a reserved spelling", preferred, name);
    ck_assert_msg(!is_forbidden(name), "'%s' -> '%s' is taken by C", preferred, name);
    ck_assert_msg(strncmp(name, "gradrt_", 7) != 0 && strncmp(name, "GRADRT_", 7) != 0,
                  "'%s' -> '%s' is in the runtime's namespace", preferred, name);
    ck_assert_msg(cnames_is_safe(name), "'%s' -> '%s' is not safe", preferred, name);
}

START_TEST(claimed_names_are_unique_and_usable)
{
    Arena *arena = arena_new();
    CNames *names = cnames_new(arena);
    static const char *const preferred[] = {
        "x", "x", "x_2", "_x", "__x", "x__y", "x_y", "x_", "x_2", "_",
        "tape", "tape", "seed_y", "d_x", "grad_x",
        "int", "int_", "double", "class", "new", "this", "and", "true",
        "exp", "exp_", "y0", "NAN", "INFINITY", "main", "abs",
        "PATH_MAX", "GRADC_M_H", "typeof", "st_atime", "B0", "POLLIN",
    };
    const size_t n = sizeof preferred / sizeof *preferred;
    const char *claimed[sizeof preferred / sizeof *preferred];
    for (size_t i = 0; i < n; i++) {
        claimed[i] = cnames_claim(names, preferred[i]);
        assert_usable(claimed[i], preferred[i]);
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(strcmp(claimed[i], claimed[j]) != 0,
                          "'%s' and '%s' both became '%s'", preferred[j],
                          preferred[i], claimed[i]);
    }
    /* Names that are fine stay as they are. */
    ck_assert_str_eq(claimed[0], "x");
    ck_assert_str_eq(claimed[10], "tape");
    ck_assert_str_eq(claimed[12], "seed_y");
    /* A library macro gets '_' behind, a guard's prefix "v_" in front. */
    ck_assert_str_eq(claimed[30], "PATH_MAX_");
    ck_assert_str_eq(claimed[31], "v_GRADC_M_H");
    ck_assert_str_eq(claimed[32], "typeof_");
    arena_free(arena);
}
END_TEST

/* A name claimed again gets the first number not taken, even when the
 * claims of it start from where the last one stopped. */
START_TEST(repeated_names_get_the_first_free_number)
{
    Arena *arena = arena_new();
    CNames *names = cnames_new(arena);
    static const char *const steps[][2] = {
        { "x", "x" }, { "x", "x_2" }, { "x_3", "x_3" }, { "x", "x_4" },
        { "_x", "x_5" }, { "x_6", "x_6" }, { "__x", "x_7" },
    };
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++)
        ck_assert_str_eq(cnames_claim(names, steps[i][0]), steps[i][1]);
    arena_free(arena);
}
END_TEST

/* The runtime's prefix is reserved; claiming such a name must still end. */
START_TEST(runtime_prefix_is_mangled)
{
    Arena *arena = arena_new();
    CNames *names = cnames_new(arena);
    static const char *const preferred[] = { "gradrt_foo", "GRADRT_X", "gradrt_" };
    for (size_t i = 0; i < sizeof preferred / sizeof *preferred; i++)
        assert_usable(cnames_claim(names, preferred[i]), preferred[i]);
    arena_free(arena);
}
END_TEST

/* Names that meet once their underscores are squeezed, where the number
 * that tells them apart makes a reserved name again: "gradrt" + "_2" is in
 * the runtime's namespace, "M_PI_" + "2" is a macro of <math.h>.  In every
 * order, each claim is usable and distinct. */
START_TEST(numbered_names_stay_usable)
{
    static const char *const groups[][6] = {
        { "gradrt", "_gradrt", "gradrt_", "__gradrt__", "GRADRT", "_GRADRT_" },
        { "M_PI", "_M_PI", "M_PI_", "M_PI__", "M_PI_2", "_M_PI_2" },
        { "EOF", "_EOF", "EOF_", "v_EOF", "EOF_2", "v_EOF_2" },
        { "int", "_int", "int_", "int_2", "int__", "intv" },
    };
    for (size_t g = 0; g < sizeof groups / sizeof *groups; g++) {
        for (int order = 0; order < 2; order++) {
            Arena *arena = arena_new();
            CNames *names = cnames_new(arena);
            const char *claimed[6];
            for (int k = 0; k < 6; k++) {
                const char *preferred = groups[g][order ? 5 - k : k];
                claimed[k] = cnames_claim(names, preferred);
                assert_usable(claimed[k], preferred);
                for (int j = 0; j < k; j++)
                    ck_assert_str_ne(claimed[k], claimed[j]);
            }
            arena_free(arena);
        }
    }
}
END_TEST

START_TEST(reserved_names_are_not_claimed)
{
    Arena *arena = arena_new();
    CNames *names = cnames_new(arena);
    cnames_reserve(names, "m_forward");
    cnames_reserve(names, "m_tape");
    ck_assert_str_ne(cnames_claim(names, "m_forward"), "m_forward");
    ck_assert_str_ne(cnames_claim(names, "m_tape"), "m_tape");
    ck_assert_str_eq(cnames_claim(names, "m_backward"), "m_backward");
    arena_free(arena);
}
END_TEST

START_TEST(safety)
{
    /* A function-like macro (major, MAX) expands only before '(', which
     * never follows a value's C name, so it stays as spelled. */
    static const char *const safe[] = { "x", "tape", "d_x", "seed", "x_", "X1", "Int",
                                        "E", "Ex", "e2", "INT8", "PRI", "M", "Mx",
                                        "PATH", "GRADC", "gradc_x", "major", "MAX" };
    static const char *const unsafe[] = {
        "int", "class", "_x", "a__b", "gradrt_x", "GRADRT_X", "exp", "y0", "NAN",
        "EOF", "E2BIG", "INT8_MAX", "PRId64", "SIGINT", "M_PI", "I", "linux",
        "typeof", "PATH_MAX", "NSIG", "WNOHANG", "CLOCK_REALTIME", "st_atime",
        "GRADC_M_H", "GRADC_X",
    };
    for (size_t i = 0; i < sizeof safe / sizeof *safe; i++)
        ck_assert_msg(cnames_is_safe(safe[i]), "%s", safe[i]);
    for (size_t i = 0; i < sizeof unsafe / sizeof *unsafe; i++)
        ck_assert_msg(!cnames_is_safe(unsafe[i]), "%s", unsafe[i]);
}
END_TEST

START_TEST(model_names)
{
    Arena *arena = arena_new();
    static const struct { const char *path, *model; } cases[] = {
        { "my-net.grad", "my_net" },
        { "dir/a.b.grad", "a_b" },
        { "/abs/path.d/model.grad", "model" },
        { "kamper.grad", "kamper" },
        { "noext", "noext" },
        { "a b+c.grad", "a_b_c" },
        /* '_' only between other characters, once: no leading '_', no
         * "__", and none at the end before "_forward" */
        { "caf\xc3\xa9.grad", "caf" },
        { "_net.grad", "net" },
        { "a__b.grad", "a_b" },
        { "a-_b.grad", "a_b" },
        { "net_.grad", "net" },
        /* "model" when nothing is left, "model_" before a digit or a name
         * whose functions would be reserved */
        { "\xc3\xa9.grad", "model" },
        { "__.grad", "model" },
        { "3d.grad", "model_3d" },
        { "_3d.grad", "model_3d" },
        { "\xc3\xa9\xc3\xa9-1.grad", "model_1" },
        { "gradrt_softmax.grad", "model_gradrt_softmax" },
        { "gradrt.grad", "model_gradrt" },
        { "GRADRT_X.grad", "model_GRADRT_X" },
        { "EOF.grad", "model_EOF" },
        { "GRADC_X.grad", "model_GRADC_X" },
        { "gradrtx.grad", "gradrtx" },
    };
    static const char *const suffixes[] = { "forward", "backward", "grad", "tape" };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *model = cnames_model(arena, cases[i].path);
        ck_assert_str_eq(model, cases[i].model);
        for (size_t k = 0; k < sizeof suffixes / sizeof *suffixes; k++)
            assert_usable(arena_printf(arena, "%s_%s", model, suffixes[k]), cases[i].path);
    }
    arena_free(arena);
}
END_TEST

TCase *tcase_cname(void)
{
    TCase *tc = tcase_create("C names");
    tcase_add_test(tc, claimed_names_are_unique_and_usable);
    tcase_add_test(tc, repeated_names_get_the_first_free_number);
    tcase_add_test(tc, runtime_prefix_is_mangled);
    tcase_add_test(tc, numbered_names_stay_usable);
    tcase_add_test(tc, reserved_names_are_not_claimed);
    tcase_add_test(tc, safety);
    tcase_add_test(tc, model_names);
    return tc;
}
