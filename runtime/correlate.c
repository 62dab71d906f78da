/* correlate.c: the adjoint of a convolution for its kernel, k sums over
 * the whole signal.  Written as k dot products, each is one chain of
 * dependent additions: at 4 to 5 cycles an FMA, 100,000 samples and a
 * kernel of 9 took 0.7 ms, four times the convolution.  Eight partial sums
 * per dot product break the chain (and pair up in vector registers); built
 * with the product's flags (fused multiply-adds). */
#include "gradrt.h"

#define REAL double
#define NAME(name) name
#include "correlate-real.h"
#undef REAL
#undef NAME

#define REAL float
#define NAME(name) name##f
#include "correlate-real.h"
#undef REAL
#undef NAME
