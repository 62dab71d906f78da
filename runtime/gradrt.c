/* gradrt.c: the gradc runtime. */
#include "gradrt.h"

const char *gradrt_version(void)
{
    return GRADRT_VERSION;
}

/* exp() only ever sees a non-positive argument, so nothing overflows;
 * for x < 0 the second form keeps the tiny results' relative accuracy. */
double gradrt_sigmoid(double x)
{
    if (x >= 0)
        return 1 / (1 + exp(-x));
    double z = exp(x);
    return z / (1 + z);
}

/* max(x, 0) + log1p(exp(-|x|)): no overflow, and log1p keeps the tail
 * exact where exp(-|x|) is far below 1. */
double gradrt_softplus(double x)
{
    return (x > 0 ? x : 0) + log1p(exp(-fabs(x)));
}
