/* gemm-kernel.h: the GEMM kernels for one instruction set.  gemm.c
 * includes it once per set, after defining
 *
 *   KERNEL(name)  name with the set's suffix
 *   Vec           a vector of W doubles (plain double when W is 1)
 *   W             doubles per Vec
 *   TARGET        the attributes that compile a function for the set
 *
 * The micro-kernel keeps a GEMM_MR x NR tile of C in 2 GEMM_MR
 * accumulators of type Vec: 12 of the 16 vector registers of SSE2, AVX2 or
 * AVX-512 (with room for the two B vectors and a broadcast), enough
 * independent sums to hide the latency of the multiply-add. */

#define NR (2 * W)

/* y[j] += x * b[j] for j < n. */
static inline TARGET void KERNEL(axpy)(int n, double x,
                                       const double *restrict b,
                                       double *restrict y)
{
    int j = 0;
    for (; j + W <= n; j += W) {
        Vec bv, yv;
        memcpy(&bv, b + j, sizeof bv);
        memcpy(&yv, y + j, sizeof yv);
        yv += x * bv;
        memcpy(y + j, &yv, sizeof yv);
    }
    for (; j < n; j++)
        y[j] += x * b[j];
}

/* sum(a[p] b[p]) for p < k, both contiguous; two vector sums for the
 * latency of the add. */
static inline TARGET double KERNEL(dot)(int k, const double *restrict a,
                                        const double *restrict b)
{
    Vec s0 = {0}, s1 = {0};
    int p = 0;
    for (; p + 2 * W <= k; p += 2 * W) {
        Vec a0, a1, b0, b1;
        memcpy(&a0, a + p, sizeof a0);
        memcpy(&a1, a + p + W, sizeof a1);
        memcpy(&b0, b + p, sizeof b0);
        memcpy(&b1, b + p + W, sizeof b1);
        s0 += a0 * b0;
        s1 += a1 * b1;
    }
    double lanes[W], s = 0;
    s0 += s1;
    memcpy(lanes, &s0, sizeof lanes);
    for (int l = 0; l < W; l++)
        s += lanes[l];
    for (; p < k; p++)
        s += a[p] * b[p];
    return s;
}

/* The product without packing, for sizes where packing does not pay.  Where
 * op(B)'s rows are contiguous, row i of C gathers the rows of op(B) scaled
 * by row i of op(A) (i-k-j: each pass streams one row); where its columns
 * are (B transposed, or one column), each element is a dot product, except
 * for A^T times one column: there the column of C gathers A's rows scaled
 * by the column's elements (k-i: a dot product would read A by columns). */
static TARGET void KERNEL(direct)(const GemmArgs *g)
{
    GemmStrides s = gemm_strides(g);
    if (g->n == 1 && s.a_row == 1 && g->ldc == 1) {
        gemm_scale_row(g->m, g->beta, g->c);
        for (int p = 0; p < g->k; p++)
            KERNEL(axpy)(g->m, g->b[(ptrdiff_t)p * s.b_row], g->a + (ptrdiff_t)p * s.a_col,
                         g->c);
        return;
    }
    for (int i = 0; i < g->m; i++) {
        double *c = g->c + (ptrdiff_t)i * g->ldc;
        const double *a = g->a + (ptrdiff_t)i * s.a_row;
        if (s.b_col != 1 || g->n == 1) {
            for (int j = 0; j < g->n; j++) {
                const double *b = g->b + (ptrdiff_t)j * s.b_col;
                double sum = s.a_col == 1 && s.b_row == 1
                    ? KERNEL(dot)(g->k, a, b)
                    : gemm_dot_strided(g->k, a, s.a_col, b, s.b_row);
                c[j] = g->beta == 0 ? sum : sum + g->beta * c[j];
            }
            continue;
        }
        gemm_scale_row(g->n, g->beta, c);
        for (int p = 0; p < g->k; p++)
            KERNEL(axpy)(g->n, a[(ptrdiff_t)p * s.a_col],
                         g->b + (ptrdiff_t)p * s.b_row, c);
    }
}

/* Pack rows i0.. i0+mc-1 and columns p0.. p0+kc-1 of op(A) into panels of
 * GEMM_MR rows, each stored column by column (GEMM_MR values per column);
 * rows past the end are zero. */
static TARGET void KERNEL(pack_a)(const GemmArgs *g, int i0, int p0, int mc,
                                  int kc, double *restrict pa)
{
    GemmStrides s = gemm_strides(g);
    for (int ir = 0; ir < mc; ir += GEMM_MR, pa += GEMM_MR * kc) {
        int rows = mc - ir < GEMM_MR ? mc - ir : GEMM_MR;
        const double *a = g->a + (ptrdiff_t)(i0 + ir) * s.a_row
            + (ptrdiff_t)p0 * s.a_col;
        for (int p = 0; p < kc; p++) {
            const double *ap = a + (ptrdiff_t)p * s.a_col;
            int r = 0;
            for (; r < rows; r++)
                pa[p * GEMM_MR + r] = ap[(ptrdiff_t)r * s.a_row];
            for (; r < GEMM_MR; r++)
                pa[p * GEMM_MR + r] = 0;
        }
    }
}

/* Pack rows p0.. p0+kc-1 and columns j0.. j0+nc-1 of op(B) into panels of
 * NR columns, each stored row by row; columns past the end are zero.  The
 * loop runs along whichever direction B is contiguous in. */
static TARGET void KERNEL(pack_b)(const GemmArgs *g, int p0, int j0, int kc,
                                  int nc, double *restrict pb)
{
    GemmStrides s = gemm_strides(g);
    for (int jr = 0; jr < nc; jr += NR, pb += NR * kc) {
        int cols = nc - jr < NR ? nc - jr : NR;
        const double *b = g->b + (ptrdiff_t)p0 * s.b_row
            + (ptrdiff_t)(j0 + jr) * s.b_col;
        if (s.b_col == 1) {
            for (int p = 0; p < kc; p++) {
                const double *bp = b + (ptrdiff_t)p * s.b_row;
                int j = 0;
                for (; j < cols; j++)
                    pb[p * NR + j] = bp[j];
                for (; j < NR; j++)
                    pb[p * NR + j] = 0;
            }
        } else {
            for (int j = 0; j < NR; j++) {
                const double *bj = b + (ptrdiff_t)j * s.b_col;
                for (int p = 0; p < kc; p++)
                    pb[p * NR + j] = j < cols ? bj[(ptrdiff_t)p * s.b_row] : 0;
            }
        }
    }
}

/* C[0..mr, 0..nr) (+)= the product of a packed GEMM_MR x kc panel of A and
 * a packed kc x NR panel of B: added to C when ADD is nonzero, stored over
 * it (unread) otherwise.  mr <= GEMM_MR and nr <= NR are the part of the
 * tile inside C. */
static TARGET void KERNEL(micro)(int kc, const double *restrict a,
                                 const double *restrict b, double *c,
                                 int ldc, int mr, int nr, int add)
{
    Vec c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0};
    Vec c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};
    for (int p = 0; p < kc; p++, a += GEMM_MR, b += NR) {
        Vec b0, b1;
        memcpy(&b0, b, sizeof b0);
        memcpy(&b1, b + W, sizeof b1);
        c00 += a[0] * b0;
        c01 += a[0] * b1;
        c10 += a[1] * b0;
        c11 += a[1] * b1;
        c20 += a[2] * b0;
        c21 += a[2] * b1;
        c30 += a[3] * b0;
        c31 += a[3] * b1;
        c40 += a[4] * b0;
        c41 += a[4] * b1;
        c50 += a[5] * b0;
        c51 += a[5] * b1;
    }
    Vec tile[2 * GEMM_MR] = {
        c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51
    };
    if (mr == GEMM_MR && nr == NR) {
        for (int r = 0; r < GEMM_MR; r++) {
            double *cr = c + (ptrdiff_t)r * ldc;
            for (int h = 0; h < 2; h++) {
                Vec v = tile[2 * r + h];
                if (add) {
                    Vec old;
                    memcpy(&old, cr + h * W, sizeof old);
                    v += old;
                }
                memcpy(cr + h * W, &v, sizeof v);
            }
        }
        return;
    }
    double t[GEMM_MR * NR];
    memcpy(t, tile, sizeof t);
    for (int r = 0; r < mr; r++) {
        double *cr = c + (ptrdiff_t)r * ldc;
        for (int j = 0; j < nr; j++)
            cr[j] = add ? cr[j] + t[r * NR + j] : t[r * NR + j];
    }
}

/* The blocked product (see gemm.c).  WORK holds a packed block of op(A)
 * (bk->mc x bk->kc, rounded up to whole panels) followed by a packed block of
 * op(B) (bk->kc x bk->nc, likewise); C has already been scaled by beta
 * unless beta is 0 or 1. */
static TARGET void KERNEL(blocked)(const GemmArgs *g, const GemmBlocks *bk,
                                   double *work)
{
    double *pa = work;
    double *pb = work + gemm_round_up(bk->mc, GEMM_MR) * (size_t)bk->kc;
    for (int jc = 0; jc < g->n; jc += bk->nc) {
        int nc = g->n - jc < bk->nc ? g->n - jc : bk->nc;
        for (int pc = 0; pc < g->k; pc += bk->kc) {
            int kc = g->k - pc < bk->kc ? g->k - pc : bk->kc;
            int add = pc > 0 || g->beta != 0;
            KERNEL(pack_b)(g, pc, jc, kc, nc, pb);
            /* The place for threads: the ic blocks are independent. */
            for (int ic = 0; ic < g->m; ic += bk->mc) {
                int mc = g->m - ic < bk->mc ? g->m - ic : bk->mc;
                KERNEL(pack_a)(g, ic, pc, mc, kc, pa);
                for (int jr = 0; jr < nc; jr += NR)
                    for (int ir = 0; ir < mc; ir += GEMM_MR)
                        KERNEL(micro)(kc, pa + (ptrdiff_t)ir * kc,
                                      pb + (ptrdiff_t)jr * kc,
                                      g->c + (ptrdiff_t)(ic + ir) * g->ldc
                                          + jc + jr,
                                      g->ldc,
                                      mc - ir < GEMM_MR ? mc - ir : GEMM_MR,
                                      nc - jr < NR ? nc - jr : NR, add);
            }
        }
    }
}

#undef NR
