/* real.c: the floating-point types gradc generates code for. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradc.h"

/* The default first.  A float literal is the source's double rounded to
 * float once, here: the C compiler then reads it back exactly. */
const RealType real_types[] = {
    { "double", "", "", "", "", "0.0", "1.0", "HUGE_VAL", (int)sizeof(double), 17 },
    { "float", " --type=float", "f", "f", "f", "0.0f", "1.0f", "HUGE_VALF", (int)sizeof(float),
      9 },
};

const int real_type_count = (int)(sizeof real_types / sizeof real_types[0]);

const RealType *real_type(const char *name)
{
    for (int i = 0; i < real_type_count; i++)
        if (strcmp(real_types[i].name, name) == 0)
            return &real_types[i];
    return NULL;
}

/* V rounded to REAL, and whether TEXT reads back as it. */
static bool reads_back(const RealType *real, const char *text, double v)
{
    if (real->size == (int)sizeof(float))
        return strtof(text, NULL) == (float)v;
    return strtod(text, NULL) == v;
}

const char *real_literal(Arena *arena, const RealType *real, double v)
{
    if (real->size == (int)sizeof(float))
        v = (float)v;
    /* A double beyond float's range: its rounding, the infinity. */
    if (isinf(v))
        return arena_printf(arena, "%s%s%s", v < 0 ? "(-" : "", real->infinity,
                            v < 0 ? ")" : "");
    char text[64];
    for (int prec = 1; prec <= real->digits; prec++) {
        snprintf(text, sizeof text, "%.*g", prec, v);
        if (reads_back(real, text, v))
            break;
    }
    if (!strpbrk(text, ".eEn"))
        strcat(text, ".0");
    return arena_printf(arena, v < 0 || (v == 0 && signbit(v)) ? "(%s%s)" : "%s%s", text,
                        real->literal_suffix);
}
