/* vecbench.h: the loops bench/vec/inline.c compiles. */
#ifndef VECBENCH_H
#define VECBENCH_H

#define DECLARE_INLINE_LOOPS(N)                                               \
    void inline_exp_##N(const double *x, double *y, double *unused);          \
    void inline_sigmoid_##N(const double *x, double *y, double *unused);      \
    void inline_sigmoid_and_deriv_##N(const double *x, double *y,             \
                                      double *dy);                            \
    void inline_tanh_##N(const double *x, double *y, double *unused);

DECLARE_INLINE_LOOPS(128)
DECLARE_INLINE_LOOPS(131072)

#endif
