/* gradrt-real.h: the runtime's functions for one type, double or float.
 * gradrt.h includes it once for each, after defining GRADRT_REAL, the
 * type, and GRADRT_NAME(name), the name with the type's suffix: the float
 * functions are the double ones with an f after the name, as in <math.h>
 * (gradrt_sigmoidf, gradrt_gemmf), and code that gradc --type=float
 * generates calls them.  Each float function computes what its double twin
 * computes, with float's precision: the array kernels to within one
 * float ulp (docs/api.md), the others as their formulas round in float. */

/* The scalar functions are inline definitions (GRADRT_SCALAR) where the
 * compiler has C99's inline, so that a call in generated code costs no
 * more than the exp it makes; the library holds their external
 * definitions for every other caller. */

/* 1 / (1 + exp(-x)), without overflow for any x: exp() only ever sees a
 * non-positive argument, and for x < 0 the second form keeps the tiny
 * results' relative accuracy. */
GRADRT_SCALAR GRADRT_REAL GRADRT_NAME(gradrt_sigmoid)(GRADRT_REAL x)
GRADRT_BODY({
    if (x >= 0)
        return 1 / (1 + GRADRT_MATH(exp)(-x));
    GRADRT_REAL z = GRADRT_MATH(exp)(x);
    return z / (1 + z);
})

/* sigmoid'(x) = sigmoid(x) sigmoid(-x), exact to rounding for any x
 * (where s (1 - s) from a rounded s is not, once s rounds to 1): with
 * z = exp(-|x|) <= 1, sigmoid(|x|) = 1 / (1 + z) and sigmoid(-|x|) =
 * z / (1 + z), so no term cancels. */
GRADRT_SCALAR GRADRT_REAL GRADRT_NAME(gradrt_sigmoid_deriv)(GRADRT_REAL x)
GRADRT_BODY({
    GRADRT_REAL z = GRADRT_MATH(exp)(-GRADRT_MATH(fabs)(x));
    return z / ((1 + z) * (1 + z));
})

/* tanh'(x) = 1 - tanh(x)^2, exact to rounding for any x:
 * 4 e^(-2|x|) / (1 + e^(-2|x|))^2. */
GRADRT_SCALAR GRADRT_REAL GRADRT_NAME(gradrt_tanh_deriv)(GRADRT_REAL x)
GRADRT_BODY({
    GRADRT_REAL z = GRADRT_MATH(exp)(-2 * GRADRT_MATH(fabs)(x));
    return 4 * z / ((1 + z) * (1 + z));
})

/* log(1 + exp(x)), exact to rounding for large |x|: max(x, 0) +
 * log1p(exp(-|x|)) does not overflow, and log1p keeps the tail exact
 * where exp(-|x|) is far below 1. */
GRADRT_SCALAR GRADRT_REAL GRADRT_NAME(gradrt_softplus)(GRADRT_REAL x)
GRADRT_BODY({
    return (x > 0 ? x : 0) + GRADRT_MATH(log1p)(GRADRT_MATH(exp)(-GRADRT_MATH(fabs)(x)));
})

/* The value, and the derivative in *DERIV, from one exp: what the forward
 * pass stores for the backward pass.  sigmoid and softplus give bit for bit
 * what the functions above give, tanh what gradrt_tanh_and_deriv gives. */
GRADRT_SCALAR GRADRT_REAL GRADRT_NAME(gradrt_sigmoid_with_deriv)(GRADRT_REAL x,
        GRADRT_REAL *deriv)
GRADRT_BODY({
    GRADRT_REAL z = GRADRT_MATH(exp)(-GRADRT_MATH(fabs)(x));
    *deriv = z / ((1 + z) * (1 + z));
    return (x >= 0 ? 1 : z) / (1 + z);
})
GRADRT_SCALAR GRADRT_REAL GRADRT_NAME(gradrt_softplus_with_deriv)(GRADRT_REAL x,
        GRADRT_REAL *deriv)
GRADRT_BODY({
    GRADRT_REAL z = GRADRT_MATH(exp)(-GRADRT_MATH(fabs)(x));
    *deriv = (x >= 0 ? 1 : z) / (1 + z);
    return (x > 0 ? x : 0) + GRADRT_MATH(log1p)(z);
})
GRADRT_REAL GRADRT_NAME(gradrt_tanh_with_deriv)(GRADRT_REAL x,
        GRADRT_REAL *deriv);

/* Rows: m is the row maximum, and every kernel subtracts it before
 * exponentiating.  A row holding NaN gives NaN throughout.  A row whose
 * maximum is +inf (or that is all -inf) is the limit of rows whose largest
 * entries grow (fall) together: softmax is 1/k on the k entries equal to m
 * and 0 elsewhere, log_softmax -log k and -inf, logsumexp m; the backward
 * kernels use the same softmax. */

/* y = softmax of each row of x: exp(x - m) / sum(exp(x - m)). */
void GRADRT_NAME(gradrt_softmax)(int rows, int n, const GRADRT_REAL *x,
                                 GRADRT_REAL *y);
/* dx = y * (dy - <dy, y>) per row, from the softmax output y. */
void GRADRT_NAME(gradrt_softmax_backward)(int rows, int n, const GRADRT_REAL *y,
        const GRADRT_REAL *dy, GRADRT_REAL *dx, int accumulate);

/* y = (x - m) - log(sum(exp(x - m))) per row: exact to rounding for any
 * finite row. */
void GRADRT_NAME(gradrt_log_softmax)(int rows, int n, const GRADRT_REAL *x,
                                     GRADRT_REAL *y);
/* dx = dy - softmax(x) * sum(dy) per row, from the INPUT x.  It replaces
 * gradrt_log_softmax_backward, which took the output y: code generated for
 * that one fails to link instead of passing y where x is expected. */
void GRADRT_NAME(gradrt_log_softmax_backward_x)(int rows, int n,
        const GRADRT_REAL *x, const GRADRT_REAL *dy, GRADRT_REAL *dx,
        int accumulate);

/* y[r] = m + log(sum(exp(x - m))) for row r, one value per row. */
void GRADRT_NAME(gradrt_logsumexp)(int rows, int n, const GRADRT_REAL *x,
                                   GRADRT_REAL *y);
/* dx = dy[r] * softmax(x) per row, from x alone (it took y as well before
 * libgradrt.so.1). */
void GRADRT_NAME(gradrt_logsumexp_backward)(int rows, int n,
        const GRADRT_REAL *x, const GRADRT_REAL *dy, GRADRT_REAL *dx,
        int accumulate);

/* C = op(A) op(B) + beta C for row-major matrices: op(A) is M x K, op(B)
 * K x N and C M x N.  op(X) is X transposed where TRANS_X is nonzero and X
 * itself otherwise, so A is stored M x K, or K x M when transposed (and B
 * K x N, or N x K).  lda, ldb and ldc are the distances between the
 * starts of consecutive stored rows, at least those rows' lengths.  Where
 * beta is 0, C is written without being read (NaN in it does not leak);
 * where K is 0, C becomes beta C (zeros for beta 0); where M or N is 0,
 * nothing happens.  Sizes are non-negative; C must not overlap A or B.
 * The code generated for `@` calls it for the product (transA and transB
 * 0) and for the adjoints (dA = dC B^T: 0, 1; dB = A^T dC: 1, 0), with
 * beta 1 where it adds into an adjoint.  It chooses the kernel for the CPU
 * it runs on; products large enough for blocking allocate their packed
 * copies with malloc (and run the direct loop if that fails); with
 * configure --with-blas they go to cblas_dgemm (gradrt_gemmf's to
 * cblas_sgemm). */
void GRADRT_NAME(gradrt_gemm)(int transA, int transB, int M, int N, int K,
                              const GRADRT_REAL *A, int lda,
                              const GRADRT_REAL *B, int ldb, GRADRT_REAL beta,
                              GRADRT_REAL *C, int ldc);

/* dh[j] = sum_i dy[i] x[i + j - (k - 1) / 2] + beta dh[j] for 0 <= j < k,
 * with x zero outside [0, n): the adjoint of conv1d(x, h) for its kernel
 * h of k elements, given the result's adjoint dy (n elements).  Where beta
 * is 0, dh is written without being read.  The sums are taken in partial
 * sums, in an order of their own. */
void GRADRT_NAME(gradrt_correlate)(int n, int k, const GRADRT_REAL *x,
                                   const GRADRT_REAL *dy, GRADRT_REAL beta,
                                   GRADRT_REAL *dh);

/* Elementwise kernels over arrays (vecmath.c): y[i] = f(x[i]) for
 * 0 <= i < n, vectorised, on an exp of the runtime's own.  An output may
 * be the same array as an input; arrays must not overlap otherwise.  Each
 * agrees with its scalar form (the functions above, or the C library's exp
 * and tanh) to a few ulps, and exactly at NaN, the infinities and zeros;
 * docs/api.md gives the bounds. */

/* e^x, faithfully rounded: within 1 ulp of the C library's exp. */
void GRADRT_NAME(gradrt_exp_array)(int n, const GRADRT_REAL *x, GRADRT_REAL *y);

void GRADRT_NAME(gradrt_sigmoid_array)(int n, const GRADRT_REAL *x,
                                       GRADRT_REAL *y);
void GRADRT_NAME(gradrt_sigmoid_deriv_array)(int n, const GRADRT_REAL *x,
        GRADRT_REAL *y);
/* s = sigmoid(x) and ds = sigmoid'(x), from one exp per element. */
void GRADRT_NAME(gradrt_sigmoid_and_deriv)(int n, const GRADRT_REAL *x,
        GRADRT_REAL *s, GRADRT_REAL *ds);
void GRADRT_NAME(gradrt_softplus_array)(int n, const GRADRT_REAL *x,
                                        GRADRT_REAL *y);
void GRADRT_NAME(gradrt_tanh_array)(int n, const GRADRT_REAL *x,
                                    GRADRT_REAL *y);
void GRADRT_NAME(gradrt_tanh_deriv_array)(int n, const GRADRT_REAL *x,
        GRADRT_REAL *y);
/* t = tanh(x) and dt = tanh'(x), from one exp per element. */
void GRADRT_NAME(gradrt_tanh_and_deriv)(int n, const GRADRT_REAL *x,
                                        GRADRT_REAL *t, GRADRT_REAL *dt);
/* y = softplus(x) and dy = softplus'(x) = sigmoid(x), likewise. */
void GRADRT_NAME(gradrt_softplus_and_deriv)(int n, const GRADRT_REAL *x,
        GRADRT_REAL *y, GRADRT_REAL *dy);

/* Backward: dx = dy * f'(x) from the argument x, added into dx when
 * ACCUMULATE is nonzero (as the row kernels do).  softplus' is sigmoid. */
void GRADRT_NAME(gradrt_sigmoid_backward)(int n, const GRADRT_REAL *x,
        const GRADRT_REAL *dy, GRADRT_REAL *dx, int accumulate);
void GRADRT_NAME(gradrt_softplus_backward)(int n, const GRADRT_REAL *x,
        const GRADRT_REAL *dy, GRADRT_REAL *dx, int accumulate);
void GRADRT_NAME(gradrt_tanh_backward)(int n, const GRADRT_REAL *x,
                                       const GRADRT_REAL *dy, GRADRT_REAL *dx,
                                       int accumulate);

