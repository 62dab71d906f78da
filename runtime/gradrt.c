/* gradrt.c: the gradc runtime. */
#include "gradrt.h"

const char *gradrt_version(void)
{
    return GRADRT_VERSION;
}

/* The external definitions of gradrt.h's inline scalar functions: a
 * declaration without inline makes this file's definition external. */
#ifndef GRADRT_INLINE_SCALARS
#error "the runtime is built as C99 (configure adds -std=c99)"
#endif
#define GRADRT_EXTERN(REAL, NAME) \
    extern REAL NAME(gradrt_sigmoid)(REAL); \
    extern REAL NAME(gradrt_sigmoid_deriv)(REAL); \
    extern REAL NAME(gradrt_tanh_deriv)(REAL); \
    extern REAL NAME(gradrt_softplus)(REAL); \
    extern REAL NAME(gradrt_sigmoid_with_deriv)(REAL, REAL *); \
    extern REAL NAME(gradrt_softplus_with_deriv)(REAL, REAL *);
#define GRADRT_DOUBLE(name) name
#define GRADRT_FLOAT(name) name##f
GRADRT_EXTERN(double, GRADRT_DOUBLE)
GRADRT_EXTERN(float, GRADRT_FLOAT)

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
