/* inline.c: the element functions of runtime/vecmath.c compiled into the
 * loops that call them, as they would be were they static inline in
 * gradrt.h, in loops of a constant count as gradc writes them.  This file
 * also supplies the array functions themselves, compiled with the same
 * flags as the rest of the benchmark. */
#include "../../runtime/vecmath.c"

#include "vecbench.h"

/* One loop per kernel and size; the count is a constant, as in generated
 * code, so that gcc -O2 may vectorise it. */
#define INLINE_LOOPS(N)                                                     \
    void inline_exp_##N(const double *restrict x, double *restrict y,       \
                        double *restrict unused)                            \
    {                                                                       \
        (void)unused;                                                       \
        for (int i = 0; i < N; i++) {                                       \
            double m;                                                       \
            y[i] = exp_elem(x[i], &m);                                      \
        }                                                                   \
    }                                                                       \
    void inline_sigmoid_##N(const double *restrict x, double *restrict y,   \
                            double *restrict unused)                        \
    {                                                                       \
        (void)unused;                                                       \
        for (int i = 0; i < N; i++) {                                       \
            double m;                                                       \
            y[i] = sigmoid_of(x[i], exp_elem(-fabs(x[i]), &m));             \
        }                                                                   \
    }                                                                       \
    void inline_sigmoid_and_deriv_##N(const double *restrict x,             \
                                      double *restrict y,                   \
                                      double *restrict dy)                  \
    {                                                                       \
        for (int i = 0; i < N; i++) {                                       \
            double m, z = exp_elem(-fabs(x[i]), &m);                        \
            y[i] = sigmoid_of(x[i], z);                                     \
            dy[i] = sigmoid_deriv_of(z);                                    \
        }                                                                   \
    }                                                                       \
    void inline_tanh_##N(const double *restrict x, double *restrict y,      \
                         double *restrict unused)                           \
    {                                                                       \
        (void)unused;                                                       \
        for (int i = 0; i < N; i++) {                                       \
            double m, z = exp_elem(-2 * fabs(x[i]), &m);                    \
            y[i] = tanh_of(x[i], z, m);                                     \
        }                                                                   \
    }

INLINE_LOOPS(128)
INLINE_LOOPS(131072)
