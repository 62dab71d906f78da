/* cname.c: C identifiers for the generated code.  Any .grad name is legal,
 * including C keywords and names such as 'tape' or 'd_x', so every
 * identifier the emitter writes is claimed here and comes back unique,
 * valid in C and C++, and clear of everything the generated code uses. */
#include <string.h>

#include "gradc.h"

struct CNames {
    Arena *arena;
    StrMap taken;
};

/* C99 and C++ keywords, the names <math.h> may declare or define (the
 * generated code calls some of them), and macros of <stddef.h>. */
static const char *const reserved_words[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do",
    "double", "else", "enum", "extern", "float", "for", "goto", "if",
    "inline", "int", "long", "register", "restrict", "return", "short",
    "signed", "sizeof", "static", "struct", "switch", "typedef", "union",
    "unsigned", "void", "volatile", "while",
    "alignas", "alignof", "and", "and_eq", "asm", "bitand", "bitor", "bool",
    "catch", "char8_t", "char16_t", "char32_t", "class", "compl", "concept",
    "consteval", "constexpr", "constinit", "const_cast", "co_await",
    "co_return", "co_yield", "decltype", "delete", "dynamic_cast",
    "explicit", "export", "false", "friend", "mutable", "namespace", "new",
    "noexcept", "not", "not_eq", "nullptr", "operator", "or", "or_eq",
    "private", "protected", "public", "reinterpret_cast", "requires",
    "static_assert", "static_cast", "template", "this", "thread_local",
    "throw", "true", "try", "typeid", "typename", "using", "virtual",
    "wchar_t", "xor", "xor_eq", "complex", "imaginary", "noreturn",
    "NULL", "offsetof", "size_t", "ptrdiff_t", "errno", "assert",
    "acos", "asin", "atan", "atan2", "ceil", "cos", "cosh", "exp", "fabs",
    "floor", "fmod", "frexp", "ldexp", "log", "log10", "modf", "pow", "sin",
    "sinh", "sqrt", "tan", "tanh", "acosh", "asinh", "atanh", "cbrt",
    "copysign", "erf", "erfc", "exp2", "expm1", "fdim", "fma", "fmax",
    "fmin", "hypot", "ilogb", "lgamma", "llrint", "llround", "log1p", "log2",
    "logb", "lrint", "lround", "nan", "nearbyint", "nextafter", "nexttoward",
    "remainder", "remquo", "rint", "round", "scalbln", "scalbn", "tgamma",
    "trunc", "j0", "j1", "jn", "y0", "y1", "yn", "gamma", "signgam", "drem",
    "finite", "scalb", "significand", "exp10", "pow10", "sincos",
    "HUGE_VAL", "HUGE_VALF", "HUGE_VALL", "INFINITY", "NAN", "FP_INFINITE",
    "FP_NAN", "FP_NORMAL", "FP_SUBNORMAL", "FP_ZERO", "FP_FAST_FMA",
    "FP_FAST_FMAF", "FP_FAST_FMAL", "FP_ILOGB0", "FP_ILOGBNAN",
    "MATH_ERRNO", "MATH_ERREXCEPT", "math_errhandling", "fpclassify",
    "isfinite", "isinf", "isnan", "isnormal", "signbit", "isgreater",
    "isgreaterequal", "isless", "islessequal", "islessgreater",
    "isunordered", "float_t", "double_t", "M_E", "M_LOG2E", "M_LOG10E",
    "M_LN2", "M_LN10", "M_PI", "M_PI_2", "M_PI_4", "M_1_PI", "M_2_PI",
    "M_2_SQRTPI", "M_SQRT2", "M_SQRT1_2",
    "main", "abs", "labs", "exit", "abort", "malloc", "free",
};

static bool is_reserved_word(const char *name)
{
    for (size_t i = 0; i < sizeof reserved_words / sizeof *reserved_words; i++)
        if (strcmp(name, reserved_words[i]) == 0)
            return true;
    return false;
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
    if (base.len == 0)
        buf_putc(&base, 'v');
    const char *name = base.data;
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
