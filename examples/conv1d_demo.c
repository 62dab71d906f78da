/* conv1d_demo.c: the 1-D convolution of the backpropagation lecture
 * (seed 004, example 4.2) with the code gradc generates from conv1d.grad:
 *   y[i] = sum_{j=0..2} x[i + j - 1] h[j]   (x zero outside 0..15)
 *   loss = sum((y - target)^2),  so dy = dloss/dy = 2 (y - target).
 * The gradients are written out here without a Jacobian, O(n k):
 *   dx[p] = sum_{k=-1..1} dy[p - k] h[k + 1]   (Algorithm 4: dy correlated
 *                                              with the flipped kernel)
 *   dh[j] = sum_i x[i + j - 1] dy[i]           (x correlated with dy)
 * and compared with conv1d_grad's.  (Algorithm 4 as printed in the notes
 * indexes grad_output by "k - i"; with j the output index of the loop it
 * is grad_output[j - k], as used here.)  Exits 1 when a check fails. */
#include <stdio.h>

#include "conv1d.h"
#include "demo.h"

enum { N = 16, K = 3 };

int main(void)
{
    demo_rng rng = { 4 };
    int failed = 0;

    for (int trial = 1; trial <= 3; trial++) {
        double x[N], h[K], target[N], dx[N], dh[K];
        double y[N], dy[N], want_dx[N], want_dh[K], want_loss = 0.0;
        conv1d_tape tape;

        demo_fill(&rng, x, N, -1.0, 1.0);
        demo_fill(&rng, h, K, -1.0, 1.0);
        demo_fill(&rng, target, N, -1.0, 1.0);
        double loss = conv1d_grad(&tape, target, x, h, dx, dh);

        /* Forward: y = conv1d(x, h), and dy of the squared loss. */
        for (int i = 0; i < N; i++) {
            double s = 0.0;
            for (int j = 0; j < K; j++) {
                int p = i + j - 1;
                if (p >= 0 && p < N)
                    s += x[p] * h[j];
            }
            y[i] = s;
            dy[i] = 2.0 * (y[i] - target[i]);
            want_loss += (y[i] - target[i]) * (y[i] - target[i]);
        }
        /* Algorithm 4: dx[p] = sum_k dy[p - k] h[k + 1]. */
        for (int p = 0; p < N; p++)
            want_dx[p] = 0.0;
        for (int k = -1; k <= 1; k++)
            for (int p = 0; p < N; p++)
                if (p - k >= 0 && p - k < N)
                    want_dx[p] += dy[p - k] * h[k + 1];
        /* dh[j] = sum_i x[i + j - 1] dy[i]. */
        for (int j = 0; j < K; j++) {
            want_dh[j] = 0.0;
            for (int i = 0; i < N; i++) {
                int p = i + j - 1;
                if (p >= 0 && p < N)
                    want_dh[j] += x[p] * dy[i];
            }
        }

        printf("conv1d: trial %d, x [16], h [3], loss = %.6f\n", trial,
               loss);
        failed |= demo_check("loss vs sum((y - target)^2)", &loss,
                             &want_loss, 1, 1e-12);
        failed |= demo_check("dx vs dy * flipped h (Algorithm 4)", dx,
                             want_dx, N, 1e-12);
        failed |= demo_check("dh vs x correlated with dy", dh, want_dh, K,
                             1e-12);
        if (trial == 1) {
            demo_print("dx", dx, N);
            demo_print("dh", dh, K);
        }
    }

    printf("conv1d: %s\n", failed ? "FAILED" : "ok");
    return failed;
}
