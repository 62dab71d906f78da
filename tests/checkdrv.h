/* checkdrv.h: what a driver written by gradcheck (tests/gradcheck.c) hands
 * to the checks of tests/checkdrv.c, which are the same for every model:
 * the model's signature, the points with the reference at them, and
 * wrappers that call the generated functions on flat arrays.
 *
 * A driver puts this file and the model's header into one translation
 * unit, and tests/random.sh puts fifty drivers into one.  So every name
 * declared here, and every file-scope name of a driver, starts with GRADC_:
 * gradc keeps that prefix for itself (src/cname.c) and writes it only in
 * include guards, GRADC_NAME_H, which none of these ends like.  No C name
 * of any model can be one of them; the members are in their structs' own
 * scope, and this file defines no other macro. */
#ifndef GRADC_CHECKDRV_INCLUDED
#define GRADC_CHECKDRV_INCLUDED

#include <stddef.h>

/* An input or data argument of the generated functions.  Offsets are in
 * all the arguments' elements in order, and in all the inputs'. */
struct GRADC_arg {
    const char *name;
    int len;            /* elements */
    int offset;
    int grad;           /* where its gradient goes; -1 for data */
};

struct GRADC_output {
    const char *name;
    int len;
    int offset;         /* in all the outputs' elements in order */
};

/* The tables are flat: point P's row starts at P times the row's length. */
struct GRADC_model {
    const char *path;           /* the model, for the messages */
    const char *seed;           /* gradcheck's --seed, and */
    const char *options;        /* all its options: to reproduce a failure */
    const char *scales;         /* --scale's factors, for the summary */

    /* the generated functions on flat arrays; grad is NULL unless the
     * model has exactly one output, a scalar */
    size_t tape_size;
    void (*forward)(void *tape, const double *arg, double *out);
    void (*backward)(const void *tape, const double *arg, const double *seed,
                     double *grad);
    double (*grad)(void *tape, const double *arg, double *grad);

    int nargs, args_len;
    const struct GRADC_arg *args;
    int noutputs, outputs_len;
    const struct GRADC_output *outputs;
    int grads_len;              /* the inputs' elements */

    /* points: the first nfixed are --at's, those from nbase on the others
     * scaled (--scale) */
    int npoints, nfixed, nbase;
    const double *points;       /* npoints x args_len */
    const double *seeds;        /* npoints x outputs_len */
    const double *output_ref;   /* npoints x outputs_len */

    /* the gradient elements checked at each point: which argument (an
     * input), which of its elements, the reference, and the size of the
     * terms that sum to it (the chain rule with the absolute value of every
     * partial derivative and every term) */
    int ncheck;
    const int *check_arg;       /* ncheck */
    const int *check_elem;      /* npoints x ncheck, and so the rest */
    const double *grad_ref;
    const double *grad_mag;

    /* central differences with step fd_step max(1, |x|), or 0 for none;
     * the elements whose differences would come near a kink are skipped */
    double fd_step;
    const unsigned char *fd_skip;

    /* the tolerances: |reference - got| <= rel * size + abs_coef * (the
     * array's largest reference) + mag_coef * grad_mag + the element's
     * error bound (output_err, grad_err: NULL for none), and differences
     * below tiny always agree.  The type of the generated code, for the
     * summary: "double", or "float" (gradcheck --type=float, where the
     * wrappers convert to and from float and the bounds come from
     * gradcheck's running error analysis) */
    const char *type;
    double rel, abs_coef, mag_coef, tiny;
    const double *output_err;   /* npoints x outputs_len */
    const double *grad_err;     /* npoints x ncheck */
};

/* Run every check of M: 0 and a summary line on stdout, or 1 and the
 * failures on stderr. */
int GRADC_check(const struct GRADC_model *m);

#endif
