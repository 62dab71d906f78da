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
};

/* C99 and C++ keywords, the names <math.h> may declare or define (the
 * generated code calls some of them), and macros of <stddef.h>.  Sorted in
 * strcmp() order for bsearch(); cnames_new() checks that it stays so. */
static const char *const reserved_words[] = {
    "FP_FAST_FMA", "FP_FAST_FMAF", "FP_FAST_FMAL", "FP_ILOGB0", "FP_ILOGBNAN",
    "FP_INFINITE", "FP_NAN", "FP_NORMAL", "FP_SUBNORMAL", "FP_ZERO",
    "HUGE_VAL", "HUGE_VALF", "HUGE_VALL", "INFINITY", "MATH_ERREXCEPT",
    "MATH_ERRNO", "M_1_PI", "M_2_PI", "M_2_SQRTPI", "M_E", "M_LN10", "M_LN2",
    "M_LOG10E", "M_LOG2E", "M_PI", "M_PI_2", "M_PI_4", "M_SQRT1_2", "M_SQRT2",
    "NAN", "NULL", "abort", "abs", "acos", "acosh", "alignas", "alignof",
    "and", "and_eq", "asin", "asinh", "asm", "assert", "atan", "atan2",
    "atanh", "auto", "bitand", "bitor", "bool", "break", "case", "catch",
    "cbrt", "ceil", "char", "char16_t", "char32_t", "char8_t", "class",
    "co_await", "co_return", "co_yield", "compl", "complex", "concept",
    "const", "const_cast", "consteval", "constexpr", "constinit", "continue",
    "copysign", "cos", "cosh", "decltype", "default", "delete", "do",
    "double", "double_t", "drem", "dynamic_cast", "else", "enum", "erf",
    "erfc", "errno", "exit", "exp", "exp10", "exp2", "explicit", "expm1",
    "export", "extern", "fabs", "false", "fdim", "finite", "float", "float_t",
    "floor", "fma", "fmax", "fmin", "fmod", "for", "fpclassify", "free",
    "frexp", "friend", "gamma", "goto", "hypot", "if", "ilogb", "imaginary",
    "inline", "int", "isfinite", "isgreater", "isgreaterequal", "isinf",
    "isless", "islessequal", "islessgreater", "isnan", "isnormal",
    "isunordered", "j0", "j1", "jn", "labs", "ldexp", "lgamma", "llrint",
    "llround", "log", "log10", "log1p", "log2", "logb", "long", "lrint",
    "lround", "main", "malloc", "math_errhandling", "modf", "mutable",
    "namespace", "nan", "nearbyint", "new", "nextafter", "nexttoward",
    "noexcept", "noreturn", "not", "not_eq", "nullptr", "offsetof",
    "operator", "or", "or_eq", "pow", "pow10", "private", "protected",
    "ptrdiff_t", "public", "register", "reinterpret_cast", "remainder",
    "remquo", "requires", "restrict", "return", "rint", "round", "scalb",
    "scalbln", "scalbn", "short", "signbit", "signed", "signgam",
    "significand", "sin", "sincos", "sinh", "size_t", "sizeof", "sqrt",
    "static", "static_assert", "static_cast", "struct", "switch", "tan",
    "tanh", "template", "tgamma", "this", "thread_local", "throw", "true",
    "trunc", "try", "typedef", "typeid", "typename", "union", "unsigned",
    "using", "virtual", "void", "volatile", "wchar_t", "while", "xor",
    "xor_eq", "y0", "y1", "yn",
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

/* Spellings C or C++ keep for the implementation, and gradc's own. */
static bool is_reserved(const char *name)
{
    return name[0] == '_' || strstr(name, "__") ||
           strncmp(name, "gradrt_", 7) == 0 ||
           strncmp(name, "GRADRT_", 7) == 0 || is_reserved_word(name);
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
    return names;
}

void cnames_reserve(CNames *names, const char *name)
{
    strmap_put(&names->taken, name, 1);
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
    /* gradc's own prefix gets one in front; a keyword gets '_' behind.
     * Neither can be undone by the numeric suffix below. */
    if (strncmp(name, "gradrt_", 7) == 0 || strncmp(name, "GRADRT_", 7) == 0)
        name = arena_printf(names->arena, "v_%s", name);
    bool trailing = name[strlen(name) - 1] == '_';
    if (is_reserved_word(name))
        name = arena_printf(names->arena, "%s%s", name, trailing ? "v" : "_");
    trailing = name[strlen(name) - 1] == '_';
    const char *candidate = name;
    for (long n = 2; strmap_find(&names->taken, candidate); n++)
        candidate = arena_printf(names->arena, "%s%s%ld", name, trailing ? "" : "_", n);
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
