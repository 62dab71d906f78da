// adolc_peer.cc: the benchmark's models in ADOL-C (operator overloading
// on adouble, a tape, reverse mode).
//
//   adolc_peer MODEL DIR BUDGET [CHAIN_N]
//
// Reads the point the C harness wrote to DIR (input.bin, data.bin: the
// flat arrays of bench/harness.h) and gradc's gradient there (grad.bin),
// and times two ways to a gradient, in process CPU seconds, printing
// lines as the harness does:
//   time adolc_tape    taping the model (trace_on ... trace_off, keeping
//                      the forward values) and a reverse sweep
//                      (fos_reverse): what each call costs when the
//                      control flow may change between calls
//   time adolc_reverse gradient() on the recorded tape: a forward sweep
//                      that replays it (zos_forward) and a reverse sweep
//   check adolc_gradient MAX_RELATIVE_DIFFERENCE ok|MISMATCH
// Run it in a directory whose .adolcrc makes the tape buffers large
// enough to stay in memory (bench.py writes one).
#include <adolc/adolc.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace {

// As in bench/harness.c.
const double ROUND_SECONDS = 0.005;
const int MIN_ROUNDS = 3;
const int MAX_ROUNDS = 21;
const double TOLERANCE = 1e-9;
const short TAG = 1;

typedef std::vector<double> Vec;
// A model: the loss of the inputs x (flat, n of them) and the data.
typedef std::function<adouble(const adouble *x, const Vec &data)> Model;

adouble sigmoid(const adouble &z)
{
    return 1 / (1 + exp(-z));
}

adouble relu(const adouble &z)
{
    return fmax(z, 0.0);
}

// Z[rows, n_out] = A[rows, n_in] W + b, for A active (adouble) or data
// (double, which ADOL-C does not tape).
template <class T>
std::vector<adouble> affine(int rows, int n_in, int n_out, const T *A,
                            const adouble *W, const adouble *b)
{
    std::vector<adouble> Z(static_cast<size_t>(rows) * n_out);
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < n_out; j++) {
            adouble s = b[j];
            for (int k = 0; k < n_in; k++)
                s += A[i * n_in + k] * W[k * n_out + j];
            Z[i * n_out + j] = s;
        }
    return Z;
}

// -sum(Y * log_softmax(Z)) / rows.
adouble xent(int rows, int n, const std::vector<adouble> &Z, const double *Y)
{
    adouble loss = 0;
    for (int i = 0; i < rows; i++) {
        adouble m = Z[i * n];
        for (int j = 1; j < n; j++)
            m = fmax(m, Z[i * n + j]);
        adouble s = 0;
        for (int j = 0; j < n; j++)
            s += exp(Z[i * n + j] - m);
        adouble log_s = log(s);
        for (int j = 0; j < n; j++)
            loss += Y[i * n + j] * ((Z[i * n + j] - m) - log_s);
    }
    return -loss / rows;
}

template <class F>
void apply(std::vector<adouble> &v, F f)
{
    for (auto &z : v)
        z = f(z);
}

adouble kamper(const adouble *x, const Vec &)
{
    return (x[0] + sigmoid(x[1])) / (x[0] * x[0] + x[1]);
}

// bench/gen.py's recurrence.
Model chain(int n)
{
    return [n](const adouble *x, const Vec &) {
        adouble b = x[0], a = x[1];
        for (int k = 1; k <= n; k++) {
            adouble t = 2 * a - b - 0.01 * (k % 2 ? sin(a) : tanh(a));
            b = a;
            a = t;
        }
        return a;
    };
}

Model mlp(int batch)
{
    return [batch](const adouble *p, const Vec &d) {
        const int in = 784, hid = 128, out = 10;
        const adouble *W1 = p, *b1 = W1 + in * hid, *W2 = b1 + hid, *b2 = W2 + hid * out;
        std::vector<adouble> h = affine(batch, in, hid, d.data(), W1, b1);
        apply(h, sigmoid);
        return xent(batch, out, affine(batch, hid, out, h.data(), W2, b2),
                    d.data() + batch * in);
    };
}

adouble deep(const adouble *p, const Vec &d)
{
    const int rows = 256, in = 784, hid = 512, out = 10;
    const adouble *W1 = p, *b1 = W1 + in * hid, *W2 = b1 + hid, *b2 = W2 + hid * hid,
                  *W3 = b2 + hid, *b3 = W3 + hid * out;
    std::vector<adouble> h1 = affine(rows, in, hid, d.data(), W1, b1);
    apply(h1, relu);
    std::vector<adouble> h2 = affine(rows, hid, hid, h1.data(), W2, b2);
    apply(h2, relu);
    return xent(rows, out, affine(rows, hid, out, h2.data(), W3, b3),
                d.data() + rows * in);
}

adouble lstsq(const adouble *theta, const Vec &d)
{
    const int m = 1000, n = 100;
    adouble loss = 0;
    for (int i = 0; i < m; i++) {
        adouble s = 0;
        for (int j = 0; j < n; j++)
            s += d[i * n + j] * theta[j];
        adouble e = d[m * n + i] - s;
        loss += e * e;
    }
    return loss;
}

// The "same"-size, zero-padded correlation of x with h, squared loss.
adouble conv1d(const adouble *p, const Vec &target)
{
    const int n = 100000, k = 9, r = (k - 1) / 2;
    const adouble *x = p, *h = p + n;
    adouble loss = 0;
    for (int i = 0; i < n; i++) {
        adouble y = 0;
        for (int j = std::max(0, r - i); j < k && i + j - r < n; j++)
            y += x[i + j - r] * h[j];
        adouble e = y - target[i];
        loss += e * e;
    }
    return loss;
}

Vec read(const std::string &path)
{
    Vec v;
    FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) {
        std::fprintf(stderr, "adolc_peer: cannot read '%s'\n", path.c_str());
        std::exit(1);
    }
    double buf[4096];
    size_t got;
    while ((got = std::fread(buf, sizeof buf[0], 4096, f)) > 0)
        v.insert(v.end(), buf, buf + got);
    std::fclose(f);
    return v;
}

double cpu_seconds()
{
    timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

void time_call(const char *what, const std::function<void()> &call, double budget)
{
    call();
    double t = cpu_seconds();
    call();
    t = std::max(cpu_seconds() - t, 1e-9);
    long reps = t >= ROUND_SECONDS ? 1 : static_cast<long>(std::ceil(ROUND_SECONDS / t));
    int rounds = static_cast<int>(std::min<double>(MAX_ROUNDS, std::floor(budget / (t * reps))));
    rounds = std::max(MIN_ROUNDS, rounds);
    std::vector<double> per_call;
    for (int k = 0; k < rounds; k++) {
        double start = cpu_seconds();
        for (long i = 0; i < reps; i++)
            call();
        per_call.push_back((cpu_seconds() - start) / reps);
    }
    std::sort(per_call.begin(), per_call.end());
    double median = per_call[rounds / 2];
    std::printf("time %s %.6e %.6e %.4f %d %ld\n", what, per_call[0], median,
                (per_call[rounds * 3 / 4] - per_call[rounds / 4]) / median, rounds, reps);
    std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 4) {
        std::fprintf(stderr, "usage: adolc_peer MODEL DIR BUDGET [CHAIN_N]\n");
        return 2;
    }
    std::map<std::string, Model> models = {
        { "kamper", kamper },
        { "chain", chain(argc > 4 ? std::atoi(argv[4]) : 3000) },
        { "mlp1", mlp(1) },
        { "mlp64", mlp(64) },
        { "mlp1024", mlp(1024) },
        { "deep", deep },
        { "lstsq", lstsq },
        { "conv1d", conv1d },
    };
    auto found = models.find(argv[1]);
    if (found == models.end()) {
        std::fprintf(stderr, "adolc_peer: unknown model '%s'\n", argv[1]);
        return 2;
    }
    const Model &model = found->second;
    std::string dir = argv[2];
    double budget = std::atof(argv[3]);
    Vec x = read(dir + "/input.bin"), data = read(dir + "/data.bin"),
        want = read(dir + "/grad.bin");
    int n = static_cast<int>(x.size());
    Vec g(x.size());

    auto tape_and_reverse = [&]() {
        trace_on(TAG, 1);
        {
            std::vector<adouble> ax(x.size());
            for (int i = 0; i < n; i++)
                ax[i] <<= x[i];
            double loss;
            model(ax.data(), data) >>= loss;
        }
        trace_off();
        double weight = 1;
        fos_reverse(TAG, 1, n, &weight, g.data());
    };
    time_call("adolc_tape", tape_and_reverse, budget);
    time_call("adolc_reverse", [&]() { gradient(TAG, n, x.data(), g.data()); }, budget);

    double diff = 0, size = 0;
    for (int i = 0; i < n; i++) {
        diff = std::max(diff, std::fabs(g[i] - want[i]));
        size = std::max(size, std::fabs(want[i]));
    }
    double rel = size > 0 ? diff / size : diff;
    std::printf("check adolc_gradient %.3e %s\n", rel, rel <= TOLERANCE ? "ok" : "MISMATCH");
    return rel <= TOLERANCE ? 0 : 1;
}
