/* cname.c: C identifiers for the generated code.  Any .grad name is legal,
 * including C keywords and names such as 'tape' or 'd_x', so every
 * identifier the emitter writes is claimed here and comes back unique,
 * valid in C and C++, and clear of everything the generated code uses. */
#include <stdlib.h>
#include <string.h>

#include "gradc.h"

enum { STARTS = 1 << 16 };

struct CNames {
    Arena *arena;
    StrMap taken;
    StrMap next_suffix;   /* per base name: the number to try next */
    StrMap words;         /* both lists below: one probe, not two bsearches,
                             for each of a big model's 10^7 names */
    unsigned char starts[STARTS / 8]; /* bit start_key(w) set for every word
                             w: most names (t1, d_t1, ...) then need no probe */
};

/* A hash of NAME's first three bytes (fewer in a shorter name). */
static size_t start_key(const char *name)
{
    size_t key = 0;
    for (int i = 0; i < 3 && name[i]; i++)
        key = key * 257 + (unsigned char)name[i];
    return key % STARTS;
}

/* What a C name must never be, in two lists: the hand-kept keywords and
 * library names, and the macros generated from the C library's headers
 * (src/libc-macros.sh).  Each is sorted in strcmp() order for bsearch();
 * cnames_new() checks that they stay so. */
static const char *const reserved_words[] = {
#include "reserved-words.def"
};

static const char *const libc_macros[] = {
#include "libc-macros.def"
};

static const struct {
    const char *const *words;
    size_t n;
} word_lists[] = {
    { reserved_words, sizeof reserved_words / sizeof *reserved_words },
    { libc_macros, sizeof libc_macros / sizeof *libc_macros },
};

enum { NLISTS = sizeof word_lists / sizeof *word_lists };

static int compare_word(const void *key, const void *word)
{
    return strcmp(key, *(const char *const *)word);
}

/* Is NAME in the lists: in NAMES's table, or without one by bsearch. */
static bool is_reserved_word(const CNames *names, const char *name)
{
    if (names) {
        size_t start = start_key(name);
        return (names->starts[start / 8] >> (start % 8) & 1) &&
               strmap_find(&names->words, name) != NULL;
    }
    for (size_t i = 0; i < NLISTS; i++)
        if (bsearch(name, word_lists[i].words, word_lists[i].n, sizeof *word_lists[i].words,
                    compare_word))
            return true;
    return false;
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
 * <inttypes.h>; also <math.h>'s FP_ and POSIX's M_ constants.  Most of
 * them are in libc-macros.def; the families also cover the members another
 * platform, or a later version of this one, defines. */
static bool is_library_macro(const char *name)
{
    if (name[0] < 'A' || name[0] > 'Z')   /* every family is in capitals */
        return false;
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

/* gradc's own prefixes: the runtime's, and GRADC_ of the include guards
 * (GRADC_M_H), which would empty a value of that name in a file that
 * includes the header, its own or another model's. */
static bool has_own_prefix(const char *name)
{
    if (name[0] != 'g' && name[0] != 'G')
        return false;
    static const char *const prefixes[] = { "gradrt_", "GRADRT_", "GRADC_" };
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

/* Spellings C or C++ keep for the implementation, and gradc's own. */
static bool is_reserved(const char *name)
{
    return name[0] == '_' || strstr(name, "__") || has_own_prefix(name) ||
           is_reserved_word(NULL, name) || is_library_macro(name);
}

bool cnames_is_safe(const char *name)
{
    return !is_reserved(name);
}

CNames *cnames_new(Arena *arena)
{
    for (size_t l = 0; l < NLISTS; l++)
        for (size_t i = 1; i < word_lists[l].n; i++)
            if (strcmp(word_lists[l].words[i - 1], word_lists[l].words[i]) >= 0)
                die("internal error: reserved names not sorted at '%s'",
                    word_lists[l].words[i]);
    CNames *names = arena_alloc(arena, sizeof *names);
    names->arena = arena;
    strmap_init(&names->taken, arena);
    strmap_init(&names->next_suffix, arena);
    strmap_init(&names->words, arena);
    for (size_t l = 0; l < NLISTS; l++)
        for (size_t i = 0; i < word_lists[l].n; i++) {
            size_t start = start_key(word_lists[l].words[i]);
            names->starts[start / 8] |= (unsigned char)(1u << (start % 8));
            strmap_put(&names->words, word_lists[l].words[i], 1);
        }
    return names;
}

void cnames_reserve(CNames *names, const char *name)
{
    strmap_put(&names->taken, name, 1);
}

void cnames_expect(CNames *names, size_t n)
{
    strmap_reserve(&names->taken, n);
}

void cnames_prefetch(const CNames *names, const char *a, const char *b, const char *c)
{
    strmap_prefetch(&names->taken, a, b, c);
}

/* NAME, which has no "__" and does not start with '_' or a digit, made
 * free of what C and the runtime reserve: a reserved prefix (gradrt_, a
 * macro family) gets "v_" in front, since nothing behind it helps; a
 * reserved word gets '_' behind ('v' if it ends in '_' already), until it
 * is none, since a library may define both FOO and FOO_.  Applied again
 * after a number is appended, since "gradrt" + "_2" or "M_PI_" + "2" is
 * reserved again. */
static const char *unreserve(CNames *names, const char *name)
{
    if (has_own_prefix(name) || is_library_macro(name))
        name = arena_printf(names->arena, "v_%s", name);
    while (is_reserved_word(names, name))
        name = arena_printf(names->arena, "%s%s", name,
                            name[strlen(name) - 1] == '_' ? "v" : "_");
    return name;
}

const char *cnames_claim(CNames *names, const char *preferred)
{
    /* Drop leading underscores and squeeze runs of them: "__x__y" -> "x_y".
     * Made in place of its own copy, with room for a 'v' in front: most
     * names are claimed as they come, and a claim is made per value. */
    char *name = arena_alloc(names->arena, strlen(preferred) + 2);
    size_t len = 0;
    for (const char *s = preferred; *s; s++)
        if (*s != '_' || (len > 0 && name[len - 1] != '_'))
            name[len++] = *s;
    name[len] = '\0';
    /* "_" alone, or "_2" with its underscore gone, needs a letter first. */
    if (len == 0 || (name[0] >= '0' && name[0] <= '9')) {
        memmove(name + 1, name, len + 1);
        name[0] = 'v';
        len++;
    }
    const char *candidate = unreserve(names, name);
    bool trailing = name[len - 1] == '_';
    if (!strmap_add(&names->taken, candidate, 1)) {
        /* Numbers tried for NAME before are taken for good: start after
         * them, or many values of one name would cost the square of their
         * number. */
        int *next = strmap_find(&names->next_suffix, name);
        int n = next ? *next : 2;
        do
            candidate = unreserve(names, arena_printf(names->arena, "%s%s%d", name,
                                                      trailing ? "" : "_", n++));
        while (!strmap_add(&names->taken, candidate, 1));
        strmap_put(&names->next_suffix, name, n);
    }
    /* unreserve() left no reserved word: the rest is checked again. */
    if (candidate[0] == '_' || strstr(candidate, "__") || has_own_prefix(candidate) ||
        is_library_macro(candidate))
        die("internal error: C name '%s' for '%s' is reserved", candidate, preferred);
    return candidate;
}

const char *const cnames_model_suffixes[] = { "forward", "backward", "grad", "tape", NULL };

/* True when every name made from MODEL is safe: MODEL_forward, ... */
static bool model_is_safe(Arena *arena, const char *model)
{
    for (const char *const *s = cnames_model_suffixes; *s; s++)
        if (is_reserved(arena_printf(arena, "%s_%s", model, *s)))
            return false;
    return true;
}

const char *cnames_model(Arena *arena, const char *path)
{
    const char *base = path_base(path);
    const char *dot = strrchr(base, '.');
    size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    Buf name;
    buf_init(&name, arena);
    for (size_t i = 0; i < len; i++) {
        char c = base[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            buf_putc(&name, c);
        /* A run of anything else ('_', '-', the bytes of a UTF-8
         * character) is one '_', and only between other characters:
         * "_m", "a__b" and "m_" would make the reserved _m_forward,
         * a__b_forward and m__forward. */
        else if (name.len > 0 && name.data[name.len - 1] != '_')
            buf_putc(&name, '_');
    }
    if (name.len > 0 && name.data[name.len - 1] == '_')
        name.data[--name.len] = '\0';
    /* An empty name, a leading digit, and a name whose functions C or
     * gradc reserve (gradrt_softmax_backward, EOF_forward) get a prefix. */
    const char *model = name.data;
    if (name.len == 0)
        model = "model";
    else if ((model[0] >= '0' && model[0] <= '9') || !model_is_safe(arena, model))
        model = arena_printf(arena, "model_%s", model);
    if (!model_is_safe(arena, model))
        die("internal error: C names for model '%s' are reserved", model);
    return model;
}
