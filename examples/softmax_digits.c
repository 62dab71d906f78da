/* softmax_digits.c: trains the softmax classifier of softmax.grad,
 *   loss = -sum(Y * log_softmax(X W + b)) / 32
 * on the UCI handwritten digits (8x8 images, 10 classes) with minibatch
 * stochastic gradient descent, using softmax_grad for every step.
 *
 *   usage: softmax_digits DIGITS.CSV
 *
 * Each row of the CSV holds 64 pixel values 0..16 and then the class 0..9.
 * Pixels are scaled to [0, 1].  The last 297 rows are the test set, the
 * others the training set, shuffled afresh each epoch with a fixed seed.
 * Prints the mean training loss per epoch and the test accuracy; then
 * checks softmax_grad on one batch against the closed form of the
 * cross-entropy gradient, dW = X^T (P - Y) / 32 and db = the column sums
 * of (P - Y) / 32 with P = softmax(X W + b).  Exits 1 when the accuracy is
 * below 0.85, the gradient is off by more than 1e-12 (relative) or the
 * file cannot be read. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "softmax.h"

enum {
    PIXELS = 64, CLASSES = 10, BATCH = 32, /* fixed by softmax.grad */
    MAX_ROWS = 4096, TEST_ROWS = 297, EPOCHS = 20
};

static double images[MAX_ROWS][PIXELS];
static int labels[MAX_ROWS];

/* Reads up to MAX_ROWS rows; returns the count, or -1 after a message. */
static int read_digits(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "softmax_digits: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[1024];
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '\n' || line[0] == '\0')
            continue;
        if (rows == MAX_ROWS || (!strchr(line, '\n') && !feof(f))) {
            fprintf(stderr, "softmax_digits: %s:%d: %s\n", path, rows + 1,
                    rows == MAX_ROWS ? "too many rows" : "line too long");
            fclose(f);
            return -1;
        }
        char *p = line;
        for (int c = 0; c <= PIXELS; c++) {
            char *end;
            long v = strtol(p, &end, 10);
            int last = c == PIXELS;
            int max = last ? CLASSES - 1 : 16;
            if (end == p || v < 0 || v > max ||
                (last ? strchr("\r\n", *end) == NULL : *end != ',')) {
                fprintf(stderr, "softmax_digits: %s:%d: field %d is not "
                        "a number in 0..%d\n", path, rows + 1, c + 1, max);
                fclose(f);
                return -1;
            }
            if (last)
                labels[rows] = (int)v;
            else
                images[rows][c] = (double)v / 16.0;
            p = end + 1;
        }
        rows++;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "softmax_digits: %s: read error\n", path);
        return -1;
    }
    return rows;
}

/* The closed-form gradient of the batch loss: with P the row-wise softmax
 * of X W + b, dW = X^T (P - Y) / BATCH and db[j] = sum_r (P - Y)[r][j] / BATCH. */
static void closed_form(const double *X, const double *Y, const double *W,
                        const double *b, double *dW, double *db)
{
    double D[BATCH * CLASSES];
    for (int r = 0; r < BATCH; r++) {
        double z[CLASSES], max = 0.0, total = 0.0;
        for (int j = 0; j < CLASSES; j++) {
            z[j] = b[j];
            for (int k = 0; k < PIXELS; k++)
                z[j] += X[r * PIXELS + k] * W[k * CLASSES + j];
            if (j == 0 || z[j] > max)
                max = z[j];
        }
        for (int j = 0; j < CLASSES; j++)
            total += exp(z[j] - max);
        for (int j = 0; j < CLASSES; j++)
            D[r * CLASSES + j] =
                (exp(z[j] - max) / total - Y[r * CLASSES + j]) / BATCH;
    }
    for (int j = 0; j < CLASSES; j++) {
        db[j] = 0.0;
        for (int r = 0; r < BATCH; r++)
            db[j] += D[r * CLASSES + j];
        for (int k = 0; k < PIXELS; k++) {
            double s = 0.0;
            for (int r = 0; r < BATCH; r++)
                s += X[r * PIXELS + k] * D[r * CLASSES + j];
            dW[k * CLASSES + j] = s;
        }
    }
}

/* The class with the largest score x W + b. */
static int predict(const double *x, const double *W, const double *b)
{
    int best = 0;
    double best_score = 0.0;
    for (int j = 0; j < CLASSES; j++) {
        double s = b[j];
        for (int k = 0; k < PIXELS; k++)
            s += x[k] * W[k * CLASSES + j];
        if (j == 0 || s > best_score) {
            best = j;
            best_score = s;
        }
    }
    return best;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: softmax_digits DIGITS.CSV\n");
        return 2;
    }
    int rows = read_digits(argv[1]);
    if (rows < 0)
        return 1;
    if (rows < TEST_ROWS + BATCH) {
        fprintf(stderr, "softmax_digits: %s: %d rows, need at least %d\n",
                argv[1], rows, TEST_ROWS + BATCH);
        return 1;
    }
    int train = rows - TEST_ROWS;
    int batches = train / BATCH;
    printf("digits: %d rows, %d for training, the last %d for testing\n",
           rows, train, TEST_ROWS);

    static double W[PIXELS * CLASSES], b[CLASSES];
    static double gW[PIXELS * CLASSES], gb[CLASSES];
    static double X[BATCH * PIXELS], Y[BATCH * CLASSES];
    static softmax_tape tape;
    static int order[MAX_ROWS];
    const double rate = 1.0;
    demo_rng rng = { 1797 };

    for (int i = 0; i < train; i++)
        order[i] = i;
    printf("digits: SGD, batch %d, rate %.1f, %d batches per epoch\n", BATCH,
           rate, batches);
    for (int epoch = 1; epoch <= EPOCHS; epoch++) {
        /* Fisher-Yates shuffle; the rows left over after the last full
         * batch change from epoch to epoch. */
        for (int i = train - 1; i > 0; i--) {
            int j = demo_below(&rng, i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        double total = 0.0;
        for (int batch = 0; batch < batches; batch++) {
            memset(Y, 0, sizeof Y);
            for (int r = 0; r < BATCH; r++) {
                int row = order[batch * BATCH + r];
                memcpy(&X[r * PIXELS], images[row], sizeof images[row]);
                Y[r * CLASSES + labels[row]] = 1.0;
            }
            total += softmax_grad(&tape, X, Y, W, b, gW, gb);
            for (int k = 0; k < PIXELS * CLASSES; k++)
                W[k] -= rate * gW[k];
            for (int j = 0; j < CLASSES; j++)
                b[j] -= rate * gb[j];
        }
        printf("  epoch %2d  mean training loss %.4f\n", epoch,
               total / batches);
    }

    int correct = 0;
    for (int row = 0; row < train; row++)
        correct += predict(images[row], W, b) == labels[row];
    printf("digits: training accuracy %d/%d = %.4f\n", correct, train,
           (double)correct / train);
    correct = 0;
    for (int row = train; row < rows; row++)
        correct += predict(images[row], W, b) == labels[row];
    double accuracy = (double)correct / TEST_ROWS;
    printf("digits: test accuracy     %d/%d = %.4f\n", correct, TEST_ROWS,
           accuracy);
    int failed = 0;
    if (!(accuracy >= 0.85)) {
        printf("  FAILED: test accuracy below 0.85\n");
        failed = 1;
    }

    /* The gradient of the last batch, at the trained weights. */
    static double want_gW[PIXELS * CLASSES], want_gb[CLASSES];
    softmax_grad(&tape, X, Y, W, b, gW, gb);
    closed_form(X, Y, W, b, want_gW, want_gb);
    printf("digits: softmax_grad on one batch vs X^T (P - Y) / 32\n");
    failed |= demo_check("dW", gW, want_gW, PIXELS * CLASSES, 1e-12);
    failed |= demo_check("db", gb, want_gb, CLASSES, 1e-12);

    printf("digits: %s\n", failed ? "FAILED" : "ok");
    return failed;
}
