/* tests/threads.c: in place of tests/checkdrv.c, a GRADC_check that checks
 * nothing but prints, for tests/threads.sh, every output and gradient
 * element of the model at each of the driver's points, bit for bit (%a),
 * so that runs on different numbers of threads can be compared with cmp. */
#include <stdio.h>
#include <stdlib.h>

#include "checkdrv.h"

static void print_all(const char *what, int p, const double *x, int n)
{
    for (int i = 0; i < n; i++)
        printf("%d %s[%d] %a\n", p, what, i, x[i]);
}

int GRADC_check(const struct GRADC_model *m)
{
    int n = m->args_len > m->grads_len ? m->args_len : m->grads_len;
    void *tape = calloc(1, m->tape_size ? m->tape_size : 1);
    double *out = malloc((size_t)(m->outputs_len + 1) * sizeof *out);
    double *grad = malloc((size_t)(n + 1) * sizeof *grad);
    if (!tape || !out || !grad) {
        fprintf(stderr, "%s: out of memory\n", m->path);
        return 1;
    }
    for (int p = 0; p < m->npoints; p++) {
        const double *arg = m->points + (size_t)p * (size_t)m->args_len;
        m->forward(tape, arg, out);
        print_all("output", p, out, m->outputs_len);
        m->backward(tape, arg, m->seeds + (size_t)p * (size_t)m->outputs_len, grad);
        print_all("gradient", p, grad, m->grads_len);
    }
    free(tape);
    free(out);
    free(grad);
    return 0;
}
