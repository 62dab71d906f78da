/* stack.c: the driver of tests/stack.sh.  The 784-256-10 network at batch
 * 4096, whose temporaries are megabytes each, must run on the default 8 MB
 * stack and in a thread with a 256 KiB one; its gradient must match this
 * file's own plain C computation of the same network. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "net.h"

enum { B = 4096, I = 784, H = 256, O = 10 };

typedef struct Net {
    double *X, *Y, *W1, *b1, *W2, *b2;
    double *gW1, *gb1, *gW2, *gb2;
    double loss;
    net_tape *tape;
} Net;

static double *zeros(size_t n)
{
    double *p = calloc(n, sizeof *p);
    if (!p) {
        perror("stack");
        exit(2);
    }
    return p;
}

/* Uniform in [-scale, scale), from a fixed xorshift sequence. */
static void fill(double *p, size_t n, double scale, unsigned long long *state)
{
    for (size_t i = 0; i < n; i++) {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        p[i] = scale * ((double)(*state >> 11) / 9007199254740992.0 * 2 - 1);
    }
}

static void *run_net(void *arg)
{
    Net *n = arg;
    n->loss = net_grad(n->tape, n->X, n->Y, n->W1, n->b1, n->W2, n->b2, n->gW1, n->gb1,
                       n->gW2, n->gb2);
    return NULL;
}

/* h = sigmoid(X W1 + b1), loss = -sum(Y * log_softmax(h W2 + b2)) / B, and
 * its gradient, as one would write it by hand. */
static void reference(Net *n)
{
    double *h = zeros((size_t)B * H), *dz1 = zeros((size_t)B * H);
    double z2[O], dz2[O];
    n->loss = 0;
    for (int b = 0; b < B; b++) {
        double *hb = h + b * H;
        for (int j = 0; j < H; j++)
            hb[j] = n->b1[j];
        for (int i = 0; i < I; i++)
            for (int j = 0; j < H; j++)
                hb[j] += n->X[b * I + i] * n->W1[i * H + j];
        for (int j = 0; j < H; j++)
            hb[j] = 1 / (1 + exp(-hb[j]));
        double m = -INFINITY, s = 0, ysum = 0;
        for (int k = 0; k < O; k++) {
            z2[k] = n->b2[k];
            for (int j = 0; j < H; j++)
                z2[k] += hb[j] * n->W2[j * O + k];
            m = fmax(m, z2[k]);
        }
        for (int k = 0; k < O; k++) {
            s += exp(z2[k] - m);
            ysum += n->Y[b * O + k];
        }
        for (int k = 0; k < O; k++) {
            const double y = n->Y[b * O + k];
            n->loss -= y * (z2[k] - m - log(s)) / B;
            dz2[k] = (exp(z2[k] - m) / s * ysum - y) / B;
            n->gb2[k] += dz2[k];
        }
        for (int j = 0; j < H; j++) {
            double dh = 0;
            for (int k = 0; k < O; k++) {
                n->gW2[j * O + k] += hb[j] * dz2[k];
                dh += dz2[k] * n->W2[j * O + k];
            }
            dz1[b * H + j] = dh * hb[j] * (1 - hb[j]);
            n->gb1[j] += dz1[b * H + j];
        }
        for (int i = 0; i < I; i++)
            for (int j = 0; j < H; j++)
                n->gW1[i * H + j] += n->X[b * I + i] * dz1[b * H + j];
    }
    free(h);
    free(dz1);
}

/* The largest difference relative to the largest reference entry. */
static int compare(const char *what, const char *name, const double *got,
                   const double *want, size_t n)
{
    double scale = 0, diff = 0;
    for (size_t i = 0; i < n; i++) {
        scale = fmax(scale, fabs(want[i]));
        diff = fmax(diff, fabs(got[i] - want[i]));
    }
    if (!(diff <= 1e-10 * scale)) {
        printf("FAIL: %s: %s differs from the reference by %g (largest entry %g)\n",
               what, name, diff, scale);
        return 1;
    }
    return 0;
}

static int check(const char *what, const Net *n, const Net *ref)
{
    int bad = compare(what, "loss", &n->loss, &ref->loss, 1);
    bad += compare(what, "grad_W1", n->gW1, ref->gW1, (size_t)I * H);
    bad += compare(what, "grad_b1", n->gb1, ref->gb1, H);
    bad += compare(what, "grad_W2", n->gW2, ref->gW2, (size_t)H * O);
    bad += compare(what, "grad_b2", n->gb2, ref->gb2, O);
    if (!bad)
        printf("ok: %s: loss %.17g\n", what, n->loss);
    return bad;
}

static void free_gradients(Net *n)
{
    free(n->gW1);
    free(n->gb1);
    free(n->gW2);
    free(n->gb2);
}

static void gradients(Net *n)
{
    n->gW1 = zeros((size_t)I * H);
    n->gb1 = zeros(H);
    n->gW2 = zeros((size_t)H * O);
    n->gb2 = zeros(O);
}

int main(void)
{
    unsigned long long state = 20261202;
    Net n, ref;
    n.X = zeros((size_t)B * I);
    n.Y = zeros((size_t)B * O);
    n.W1 = zeros((size_t)I * H);
    n.b1 = zeros(H);
    n.W2 = zeros((size_t)H * O);
    n.b2 = zeros(O);
    fill(n.X, (size_t)B * I, 1, &state);
    fill(n.W1, (size_t)I * H, 0.1, &state);
    fill(n.b1, H, 0.1, &state);
    fill(n.W2, (size_t)H * O, 0.3, &state);
    fill(n.b2, O, 0.3, &state);
    for (int b = 0; b < B; b++)
        n.Y[b * O + b % O] = 1;
    n.tape = malloc(sizeof *n.tape);
    if (!n.tape) {
        perror("stack");
        return 2;
    }
    ref = n;
    gradients(&ref);
    reference(&ref);

    int bad = 0;
    gradients(&n);
    run_net(&n);
    bad += check("on the main thread", &n, &ref);

    free_gradients(&n);
    gradients(&n);
    pthread_attr_t attr;
    pthread_t thread;
    if (pthread_attr_init(&attr) || pthread_attr_setstacksize(&attr, 256 * 1024) ||
        pthread_create(&thread, &attr, run_net, &n) || pthread_join(thread, NULL)) {
        puts("FAIL: cannot run a thread with a 256 KiB stack");
        return 1;
    }
    bad += check("in a thread with a 256 KiB stack", &n, &ref);
    free_gradients(&n);
    free_gradients(&ref);
    double *inputs[] = { n.X, n.Y, n.W1, n.b1, n.W2, n.b2 };
    for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++)
        free(inputs[i]);
    free(n.tape);
    return bad ? 1 : 0;
}
