/* gemm-kernel.h: the GEMM kernels for one element type and instruction
 * set.  gemm-real.h includes it once per set, for each type, after
 * defining
 *
 *   GemmReal      the element type, double or float
 *   TYPED(name)   name with the type's suffix (gemm_runf for float)
 *   KERNEL(name)  name with the set's and the type's suffixes
 *   Vec           a vector of W GemmReals (plain GemmReal when W is 1)
 *   W             GemmReals per Vec
 *   TARGET        the attributes that compile a function for the set
 *
 * The micro-kernel keeps a GEMM_MR x NR tile of C in 2 GEMM_MR
 * accumulators of type Vec: 12 of the 16 vector registers of SSE2, AVX2 or
 * AVX-512 (with room for the two B vectors and a broadcast), enough
 * independent sums to hide the latency of the multiply-add.  A vector
 * holds twice as many floats as doubles, so the float tile is twice as
 * wide (6 x 16 on AVX2) for the same registers. */

#define NR (2 * W)

/* y[j] += x * b[j] for j < n. */
static inline TARGET void KERNEL(axpy)(int n, GemmReal x,
                                       const GemmReal *restrict b,
                                       GemmReal *restrict y)
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

/* y[j] = x * b[j] for j < n: the first step of a product with beta 0,
 * which would otherwise zero y and then add to it. */
static inline TARGET void KERNEL(scal)(int n, GemmReal x,
                                       const GemmReal *restrict b,
                                       GemmReal *restrict y)
{
    int j = 0;
    for (; j + W <= n; j += W) {
        Vec bv;
        memcpy(&bv, b + j, sizeof bv);
        bv *= x;
        memcpy(y + j, &bv, sizeof bv);
    }
    for (; j < n; j++)
        y[j] = x * b[j];
}

/* sum(a[p] b[p]) for p < k, both contiguous; two vector sums for the
 * latency of the add. */
static inline TARGET GemmReal KERNEL(dot)(int k, const GemmReal *restrict a,
                                        const GemmReal *restrict b)
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
    GemmReal lanes[W], s = 0;
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
static TARGET void KERNEL(direct)(const TYPED(GemmArgs) *g)
{
    GemmStrides s = TYPED(gemm_strides)(g);
    if (g->n == 1 && s.a_row == 1 && g->ldc == 1) {
        TYPED(gemm_scale_row)(g->m, g->beta, g->c);
        for (int p = 0; p < g->k; p++)
            KERNEL(axpy)(g->m, g->b[(ptrdiff_t)p * s.b_row], g->a + (ptrdiff_t)p * s.a_col,
                         g->c);
        return;
    }
    for (int i = 0; i < g->m; i++) {
        GemmReal *c = g->c + (ptrdiff_t)i * g->ldc;
        const GemmReal *a = g->a + (ptrdiff_t)i * s.a_row;
        if (s.b_col != 1 || g->n == 1) {
            for (int j = 0; j < g->n; j++) {
                const GemmReal *b = g->b + (ptrdiff_t)j * s.b_col;
                GemmReal sum = s.a_col == 1 && s.b_row == 1
                    ? KERNEL(dot)(g->k, a, b)
                    : TYPED(gemm_dot_strided)(g->k, a, s.a_col, b, s.b_row);
                c[j] = g->beta == 0 ? sum : sum + g->beta * c[j];
            }
            continue;
        }
        int p = 0;
        if (g->beta == 0 && g->k > 0) {
            KERNEL(scal)(g->n, a[0], g->b, c);
            p = 1;
        } else {
            TYPED(gemm_scale_row)(g->n, g->beta, c);
        }
        for (; p < g->k; p++)
            KERNEL(axpy)(g->n, a[(ptrdiff_t)p * s.a_col],
                         g->b + (ptrdiff_t)p * s.b_row, c);
    }
}

/* Copy the N values at SRC into panels WIDTH values wide, one row of each:
 * to DST, DST + WIDTH * kc, and so on; zero past the N-th.  Inlined where
 * WIDTH is a constant, which makes each copy a few vector moves (as a loop,
 * GCC made it a call to memmove). */
static GEMM_INLINE TARGET void KERNEL(spread)(int n, int width, int kc,
                                              const GemmReal *restrict src,
                                              GemmReal *restrict dst)
{
    int i = 0;
    for (; i + width <= n; i += width, dst += (ptrdiff_t)width * kc)
        memcpy(dst, src + i, (size_t)width * sizeof *dst);
    for (int r = 0; i < n && r < width; r++)
        dst[r] = i + r < n ? src[i + r] : 0;
}

/* Pack rows i0.. i0+mc-1 and columns p0.. p0+kc-1 of op(A) into panels of
 * GEMM_MR rows, each stored column by column (GEMM_MR values per column);
 * rows past the end are zero.  The loads run along whichever direction A
 * is contiguous in: column by column of op(A) when A is transposed, so
 * that each pass streams a row of A, not GEMM_MR values from each of kc
 * rows far apart.  (Untransposed, blocked only packs a last partial
 * panel.) */
static TARGET void KERNEL(pack_a)(const TYPED(GemmArgs) *g, int i0, int p0, int mc,
                                  int kc, GemmReal *restrict pa)
{
    GemmStrides s = TYPED(gemm_strides)(g);
    const GemmReal *a = g->a + (ptrdiff_t)i0 * s.a_row + (ptrdiff_t)p0 * s.a_col;
    if (s.a_row == 1) {
        for (int p = 0; p < kc; p++)
            KERNEL(spread)(mc, GEMM_MR, kc, a + (ptrdiff_t)p * s.a_col,
                           pa + p * GEMM_MR);
        return;
    }
    for (int ir = 0; ir < mc; ir += GEMM_MR, pa += GEMM_MR * kc) {
        int rows = mc - ir < GEMM_MR ? mc - ir : GEMM_MR;
        const GemmReal *ai = a + (ptrdiff_t)ir * s.a_row;
        for (int p = 0; p < kc; p++) {
            const GemmReal *ap = ai + p;
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
 * loads run along whichever direction B is contiguous in: where its rows
 * are, each pass copies a row of op(B) into every panel, a vector at a
 * time; where its columns are (B transposed), a cache line of each of
 * the NR columns at a time, so that the lines read and the lines of the
 * panel written stay in L1 until they are whole. */
static TARGET void KERNEL(pack_b)(const TYPED(GemmArgs) *g, int p0, int j0, int kc,
                                  int nc, GemmReal *restrict pb)
{
    GemmStrides s = TYPED(gemm_strides)(g);
    const GemmReal *b = g->b + (ptrdiff_t)p0 * s.b_row + (ptrdiff_t)j0 * s.b_col;
    if (s.b_col == 1) {
        for (int p = 0; p < kc; p++)
            KERNEL(spread)(nc, NR, kc, b + (ptrdiff_t)p * s.b_row, pb + p * NR);
        return;
    }
    for (int jr = 0; jr < nc; jr += NR, pb += NR * kc) {
        int cols = nc - jr < NR ? nc - jr : NR;
        const GemmReal *bj0 = b + (ptrdiff_t)jr * s.b_col;
        int q = 0;
        for (; q + GEMM_LINE <= kc; q += GEMM_LINE)
            for (int j = 0; j < cols; j++) {
                const GemmReal *bj = bj0 + (ptrdiff_t)j * s.b_col + q;
                for (int p = 0; p < GEMM_LINE; p++)
                    pb[(q + p) * NR + j] = bj[p];
            }
        for (int j = 0; j < cols; j++)
            for (int p = q; p < kc; p++)
                pb[p * NR + j] = bj0[(ptrdiff_t)j * s.b_col + p];
        for (int p = 0; p < kc; p++)
            for (int j = cols; j < NR; j++)
                pb[p * NR + j] = 0;
    }
}

/* C[0..mr, 0..nr) (+)= the product of a GEMM_MR x kc panel of A, element
 * (r, p) at a[r * rs + p * ks], and a packed kc x NR panel of B: added to C
 * when ADD is nonzero, stored over it (unread) otherwise.  mr <= GEMM_MR
 * and nr <= NR are the part of the tile inside C; A's rows past mr are
 * read (they must exist) and ignored.  Inlined into micro_packed and
 * micro_rows, where one of the strides is 1. */
static GEMM_INLINE TARGET void KERNEL(tile)(int kc, const GemmReal *restrict a,
                                            ptrdiff_t rs, ptrdiff_t ks,
                                            const GemmReal *restrict b,
                                            GemmReal *c, int ldc, int mr,
                                            int nr, int add)
{
    /* The tile of C is read or written only after the loop: have its lines
     * on the way meanwhile, if the loop is long enough for that to pay. */
    for (int r = 0; r < mr && kc > GEMM_PREFETCH_KC; r++) {
        GEMM_PREFETCH(c + (ptrdiff_t)r * ldc);
        GEMM_PREFETCH(c + (ptrdiff_t)r * ldc + nr - 1);
    }
    Vec c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0};
    Vec c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};
    for (int p = 0; p < kc; p++, a += ks, b += NR) {
        Vec b0, b1;
        memcpy(&b0, b, sizeof b0);
        memcpy(&b1, b + W, sizeof b1);
        c00 += a[0] * b0;
        c01 += a[0] * b1;
        c10 += a[rs] * b0;
        c11 += a[rs] * b1;
        c20 += a[2 * rs] * b0;
        c21 += a[2 * rs] * b1;
        c30 += a[3 * rs] * b0;
        c31 += a[3 * rs] * b1;
        c40 += a[4 * rs] * b0;
        c41 += a[4 * rs] * b1;
        c50 += a[5 * rs] * b0;
        c51 += a[5 * rs] * b1;
    }
    Vec tile[2 * GEMM_MR] = {
        c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51
    };
    if (mr == GEMM_MR && nr == NR) {
        for (int r = 0; r < GEMM_MR; r++) {
            GemmReal *cr = c + (ptrdiff_t)r * ldc;
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
    GemmReal t[GEMM_MR * NR];
    memcpy(t, tile, sizeof t);
    for (int r = 0; r < mr; r++) {
        GemmReal *cr = c + (ptrdiff_t)r * ldc;
        for (int j = 0; j < nr; j++)
            cr[j] = add ? cr[j] + t[r * NR + j] : t[r * NR + j];
    }
}

/* The tile with a packed panel of A. */
static TARGET void KERNEL(micro_packed)(int kc, const GemmReal *restrict a,
                                        const GemmReal *restrict b, GemmReal *c,
                                        int ldc, int mr, int nr, int add)
{
    KERNEL(tile)(kc, a, 1, GEMM_MR, b, c, ldc, mr, nr, add);
}

/* The tile where A's rows are contiguous, read in place (rs = lda). */
static TARGET void KERNEL(micro_rows)(int kc, const GemmReal *restrict a,
                                      ptrdiff_t rs, const GemmReal *restrict b,
                                      GemmReal *c, int ldc, int mr, int nr,
                                      int add)
{
    KERNEL(tile)(kc, a, rs, 1, b, c, ldc, mr, nr, add);
}

/* The blocked product (see gemm.c).  WORK holds a packed block of op(A)
 * (bk->mc x bk->kc, rounded up to whole panels) followed by a packed block of
 * op(B) (bk->kc x bk->nc, likewise); C has already been scaled by beta
 * unless beta is 0 or 1.
 *
 * Where A's rows are contiguous (A not transposed) the micro-kernel reads
 * its whole panels in place, and only a last partial one is packed: each
 * k step reads one value from each of GEMM_MR rows, the same number of
 * cache lines as the packed panel, and the block stays in L2 for the next
 * panels of B, so packing it cost a pass over A for nothing (bench: the
 * batch-1024 mlp gradient 14.1 -> 12.8 ms).  Transposed A is packed: read
 * in place, each k step would be a row of A of its own, and a page. */
static TARGET void KERNEL(blocked)(const TYPED(GemmArgs) *g, const GemmBlocks *bk,
                                   GemmReal *work)
{
    GemmStrides s = TYPED(gemm_strides)(g);
    GemmReal *pa = work;
    GemmReal *pb = work + gemm_round_up(bk->mc, GEMM_MR) * (size_t)bk->kc;
    for (int jc = 0; jc < g->n; jc += bk->nc) {
        int nc = g->n - jc < bk->nc ? g->n - jc : bk->nc;
        for (int pc = 0; pc < g->k; pc += bk->kc) {
            int kc = g->k - pc < bk->kc ? g->k - pc : bk->kc;
            int add = pc > 0 || g->beta != 0;
            KERNEL(pack_b)(g, pc, jc, kc, nc, pb);
            for (int ic = 0; ic < g->m; ic += bk->mc) {
                int mc = g->m - ic < bk->mc ? g->m - ic : bk->mc;
                int whole = s.a_col == 1 ? mc - mc % GEMM_MR : 0;
                const GemmReal *a = g->a + (ptrdiff_t)ic * s.a_row
                    + (ptrdiff_t)pc * s.a_col;
                if (whole < mc)
                    KERNEL(pack_a)(g, ic + whole, pc, mc - whole, kc,
                                   pa + (ptrdiff_t)whole * kc);
                for (int jr = 0; jr < nc; jr += NR)
                    for (int ir = 0; ir < mc; ir += GEMM_MR) {
                        const GemmReal *b = pb + (ptrdiff_t)jr * kc;
                        GemmReal *c = g->c + (ptrdiff_t)(ic + ir) * g->ldc
                            + jc + jr;
                        int mr = mc - ir < GEMM_MR ? mc - ir : GEMM_MR;
                        int nr = nc - jr < NR ? nc - jr : NR;
                        if (ir < whole)
                            KERNEL(micro_rows)(kc, a + (ptrdiff_t)ir * s.a_row,
                                               s.a_row, b, c, g->ldc, mr, nr,
                                               add);
                        else
                            KERNEL(micro_packed)(kc, pa + (ptrdiff_t)ir * kc, b,
                                                 c, g->ldc, mr, nr, add);
                    }
            }
        }
    }
}

#undef NR
