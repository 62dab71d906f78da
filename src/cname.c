/* cname.c: C identifiers for the generated code.  Any .grad name is legal,
 * including C keywords and names such as 'tape' or 'd_x', so every
 * identifier the emitter writes is claimed here and comes back unique,
 * valid in C and C++, and clear of everything the generated code uses. */
#include <stdlib.h>
#include <string.h>

#include "gradc.h"

struct CNames {
    Arena *arena;
    StrMap taken;
    StrMap next_suffix;   /* per base name: the number to try next */
};

/* C99 and C++ keywords, the names <math.h> may declare or define (the
 * generated code calls some of them), and the object-like macros of the
 * other standard headers a user's file may include before a model's header
 * (<stdio.h>'s EOF, <limits.h>'s INT_MAX, <complex.h>'s I, ...), with
 * NDEBUG and the GNU dialects' predefined linux, unix and i386.  Sorted in
 * strcmp() order for bsearch(); cnames_new() checks that it stays so. */
static const char *const reserved_words[] = {
    "BUFSIZ", "CHAR_BIT", "CHAR_MAX", "CHAR_MIN", "CLOCKS_PER_SEC",
    "DECIMAL_DIG", "FILENAME_MAX", "FOPEN_MAX", "HUGE_VAL", "HUGE_VALF",
    "HUGE_VALL", "I", "INFINITY", "LLONG_MAX", "LLONG_MIN", "LONG_MAX",
    "LONG_MIN", "L_tmpnam", "MATH_ERREXCEPT", "MATH_ERRNO", "MB_CUR_MAX",
    "MB_LEN_MAX", "NAN", "NDEBUG", "NULL", "ONCE_FLAG_INIT", "PTRDIFF_MAX",
    "PTRDIFF_MIN", "RAND_MAX", "RSIZE_MAX", "SCHAR_MAX", "SCHAR_MIN",
    "SEEK_CUR", "SEEK_END", "SEEK_SET", "SHRT_MAX", "SHRT_MIN", "SIZE_MAX",
    "TIME_UTC", "TMP_MAX", "UCHAR_MAX", "ULLONG_MAX", "ULONG_MAX", "USHRT_MAX",
    "WCHAR_MAX", "WCHAR_MIN", "WEOF", "WINT_MAX", "WINT_MIN", "abort", "abs",
    "acos", "acosh", "alignas", "alignof", "and", "and_eq", "asin", "asinh",
    "asm", "assert", "atan", "atan2", "atanh", "auto", "bitand", "bitor",
    "bool", "break", "case", "catch", "cbrt", "ceil", "char", "char16_t",
    "char32_t", "char8_t", "class", "co_await", "co_return", "co_yield",
    "compl", "complex", "concept", "const", "const_cast", "consteval",
    "constexpr", "constinit", "continue", "copysign", "cos", "cosh",
    "decltype", "default", "delete", "do", "double", "double_t", "drem",
    "dynamic_cast", "else", "enum", "erf", "erfc", "errno", "exit", "exp",
    "exp10", "exp2", "explicit", "expm1", "export", "extern", "fabs", "false",
    "fdim", "finite", "float", "float_t", "floor", "fma", "fmax", "fmin",
    "fmod", "for", "fpclassify", "free", "frexp", "friend", "gamma", "goto",
    "hypot", "i386", "if", "ilogb", "imaginary", "inline", "int", "isfinite",
    "isgreater", "isgreaterequal", "isinf", "isless", "islessequal",
    "islessgreater", "isnan", "isnormal", "isunordered", "j0", "j1", "jn",
    "labs", "ldexp", "lgamma", "linux", "llrint", "llround", "log", "log10",
    "log1p", "log2", "logb", "long", "longjmp", "lrint", "lround", "main",
    "malloc", "math_errhandling", "modf", "mutable", "namespace", "nan",
    "nearbyint", "new", "nextafter", "nexttoward", "noexcept", "noreturn",
    "not", "not_eq", "nullptr", "offsetof", "operator", "or", "or_eq", "pow",
    "pow10", "private", "protected", "ptrdiff_t", "public", "register",
    "reinterpret_cast", "remainder", "remquo", "requires", "restrict",
    "return", "rint", "round", "scalb", "scalbln", "scalbn", "setjmp", "short",
    "signbit", "signed", "signgam", "significand", "sin", "sincos", "sinh",
    "size_t", "sizeof", "sqrt", "static", "static_assert", "static_cast",
    "stderr", "stdin", "stdout", "struct", "switch", "tan", "tanh", "template",
    "tgamma", "this", "thread_local", "throw", "true", "trunc", "try",
    "typedef", "typeid", "typename", "union", "unix", "unsigned", "using",
    "va_arg", "va_copy", "va_end", "va_list", "va_start", "virtual", "void",
    "volatile", "wchar_t", "while", "xor", "xor_eq", "y0", "y1", "yn",
};

enum { NRESERVED = sizeof reserved_words / sizeof *reserved_words };

static int compare_word(const void *key, const void *word)
{
    return strcmp(key, *(const char *const *)word);
}

static bool is_reserved_word(const char *name)
{
    return bsearch(name, reserved_words, NRESERVED, sizeof *reserved_words,
                   compare_word) != NULL;
}

static bool is_upper_or_digit(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The macro name families C99 7.26 keeps for the library: errno codes
 * (E followed by a digit or capital: EDOM, E2BIG, EOF too), FE_, LC_, SIG,
 * SIG_, the limits of <float.h> and <stdint.h>, the formats of
 * <inttypes.h>; also <math.h>'s FP_ and POSIX's M_ constants. */
static bool is_library_macro(const char *name)
{
    static const char *const prefixes[] = {
        "E", "FE_", "LC_", "SIG", "SIG_", "DBL_", "FLT_", "LDBL_", "FP_", "M_",
    };
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(name, prefixes[i], n) == 0 && is_upper_or_digit(name[n]))
            return true;
    }
    if ((strncmp(name, "PRI", 3) == 0 || strncmp(name, "SCN", 3) == 0) &&
        ((name[3] >= 'a' && name[3] <= 'z') || name[3] == 'X'))
        return true;
    return (strncmp(name, "INT", 3) == 0 || strncmp(name, "UINT", 4) == 0) &&
           (ends_with(name, "_MAX") || ends_with(name, "_MIN") || ends_with(name, "_C"));
}

/* Spellings C or C++ keep for the implementation, and gradc's own. */
static bool is_reserved(const char *name)
{
    return name[0] == '_' || strstr(name, "__") ||
           strncmp(name, "gradrt_", 7) == 0 ||
           strncmp(name, "GRADRT_", 7) == 0 || is_reserved_word(name) ||
           is_library_macro(name);
}

bool cnames_is_safe(const char *name)
{
    return !is_reserved(name);
}

CNames *cnames_new(Arena *arena)
{
    for (size_t i = 1; i < NRESERVED; i++)
        if (strcmp(reserved_words[i - 1], reserved_words[i]) >= 0)
            die("internal error: reserved_words is not sorted at '%s'", reserved_words[i]);
    CNames *names = arena_alloc(arena, sizeof *names);
    names->arena = arena;
    strmap_init(&names->taken, arena);
    strmap_init(&names->next_suffix, arena);
    return names;
}

void cnames_reserve(CNames *names, const char *name)
{
    strmap_put(&names->taken, name, 1);
}

/* NAME, which has no "__" and does not start with '_' or a digit, made
 * free of what C and the runtime reserve: a reserved prefix (gradrt_, a
 * macro family) gets "v_" in front, since nothing behind it helps; a
 * reserved word gets '_' behind ('v' if it ends in '_' already).
 * Applied again after a number is appended, since "gradrt" + "_2" or
 * "M_PI_" + "2" is reserved again. */
static const char *unreserve(Arena *arena, const char *name)
{
    if (strncmp(name, "gradrt_", 7) == 0 || strncmp(name, "GRADRT_", 7) == 0 ||
        is_library_macro(name))
        name = arena_printf(arena, "v_%s", name);
    if (is_reserved_word(name))
        name = arena_printf(arena, "%s%s", name, name[strlen(name) - 1] == '_' ? "v" : "_");
    return name;
}

const char *cnames_claim(CNames *names, const char *preferred)
{
    /* Drop leading underscores and squeeze runs of them: "__x__y" -> "x_y". */
    Buf base;
    buf_init(&base, names->arena);
    for (const char *s = preferred; *s; s++)
        if (*s != '_' || (base.len > 0 && base.data[base.len - 1] != '_'))
            buf_putc(&base, *s);
    const char *name = base.data;
    /* "_" alone, or "_2" with its underscore gone, needs a letter first. */
    if (base.len == 0 || (name[0] >= '0' && name[0] <= '9'))
        name = arena_printf(names->arena, "v%s", name);
    const char *candidate = unreserve(names->arena, name);
    bool trailing = name[strlen(name) - 1] == '_';
    if (strmap_find(&names->taken, candidate)) {
        /* Numbers tried for NAME before are taken for good: start after
         * them, or many values of one name would cost the square of their
         * number. */
        int *next = strmap_find(&names->next_suffix, name);
        int n = next ? *next : 2;
        do
            candidate = unreserve(names->arena, arena_printf(names->arena, "%s%s%d", name,
                                                             trailing ? "" : "_", n++));
        while (strmap_find(&names->taken, candidate));
        strmap_put(&names->next_suffix, name, n);
    }
    if (is_reserved(candidate))
        die("internal error: C name '%s' for '%s' is reserved", candidate, preferred);
    strmap_put(&names->taken, candidate, 1);
    return candidate;
}

const char *cnames_model(Arena *arena, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    Buf name;
    buf_init(&name, arena);
    /* A C identifier cannot start with a digit, and a leading '_' would
     * make a reserved one. */
    if (len == 0 || (base[0] >= '0' && base[0] <= '9'))
        buf_puts(&name, "model_");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)base[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_';
        /* A UTF-8 character becomes one '_', not one per byte. */
        if (c >= 0x80 && c < 0xC0)
            continue;
        buf_putc(&name, ok ? (char)c : '_');
    }
    return name.data;
}
