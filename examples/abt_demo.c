/* abt_demo.c: C = A B^T with the code gradc generates from abt.grad
 * (Kamper, section 5.1).  The output is a matrix, so there is no abt_grad:
 * abt_backward takes a whole seed matrix dC, the adjoint of C that the
 * rest of a network would pass back, and returns
 *   dA = dC B     (Kamper eq. 26)
 *   dB = dC^T A   (Kamper eq. 25)
 * Both are computed here directly and compared, as is C itself, for a few
 * random A, B and dC.  Exits 1 when a check fails. */
#include <stdio.h>

#include "abt.h"
#include "demo.h"

enum { N = 4, K = 3, D = 5 }; /* A [N, K], B [D, K], C [N, D] */

int main(void)
{
    demo_rng rng = { 25 };
    int failed = 0;

    for (int trial = 1; trial <= 3; trial++) {
        double A[N * K], B[D * K], dC[N * D];
        double C[N * D], dA[N * K], dB[D * K];
        double want_C[N * D], want_dA[N * K], want_dB[D * K];
        abt_tape tape;

        demo_fill(&rng, A, N * K, -1.0, 1.0);
        demo_fill(&rng, B, D * K, -1.0, 1.0);
        demo_fill(&rng, dC, N * D, -1.0, 1.0);
        abt_forward(&tape, A, B, C);
        abt_backward(&tape, A, B, dC, dA, dB);

        /* C[n][d] = sum_k A[n][k] B[d][k] */
        for (int n = 0; n < N; n++)
            for (int d = 0; d < D; d++) {
                double s = 0.0;
                for (int k = 0; k < K; k++)
                    s += A[n * K + k] * B[d * K + k];
                want_C[n * D + d] = s;
            }
        /* dA[n][k] = sum_d dC[n][d] B[d][k] */
        for (int n = 0; n < N; n++)
            for (int k = 0; k < K; k++) {
                double s = 0.0;
                for (int d = 0; d < D; d++)
                    s += dC[n * D + d] * B[d * K + k];
                want_dA[n * K + k] = s;
            }
        /* dB[d][k] = sum_n dC[n][d] A[n][k] */
        for (int d = 0; d < D; d++)
            for (int k = 0; k < K; k++) {
                double s = 0.0;
                for (int n = 0; n < N; n++)
                    s += dC[n * D + d] * A[n * K + k];
                want_dB[d * K + k] = s;
            }

        printf("abt: trial %d, A [4, 3], B [5, 3], random seed dC [4, 5]\n",
               trial);
        failed |= demo_check("C  vs A B^T", C, want_C, N * D, 1e-12);
        failed |= demo_check("dA vs dC B   (eq. 26)", dA, want_dA, N * K,
                             1e-12);
        failed |= demo_check("dB vs dC^T A (eq. 25)", dB, want_dB, D * K,
                             1e-12);
        if (trial == 1) {
            demo_print("dA row 0", dA, K);
            demo_print("dB row 0", dB, K);
        }
    }

    printf("abt: %s\n", failed ? "FAILED" : "ok");
    return failed;
}
