/* gradrt.c: the gradc runtime. */
#include "gradrt.h"

const char *gradrt_version(void)
{
    return GRADRT_VERSION;
}

#define REAL double
#define NAME(name) name
#define MATH(name) name
#include "gradrt-impl.h"
#undef REAL
#undef NAME
#undef MATH

#define REAL float
#define NAME(name) name##f
#define MATH(name) name##f
#include "gradrt-impl.h"
#undef REAL
#undef NAME
#undef MATH
