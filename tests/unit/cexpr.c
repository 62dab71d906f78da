/* cexpr.c: a small evaluator for the C expressions of ops.def templates,
 * so the unit tests can check numerically that each adjoint template is
 * the derivative of its forward template without compiling C.
 *
 * It knows the C subset the templates use: numbers, %0 %1 %= %g, unary
 * minus, * / + -, comparisons, && and ||, ?:, parentheses and calls of
 * <math.h> functions (isnan included) and the runtime's sigmoid and
 * softplus.  Anything else fails the test that asked, naming the template.
 * A function of one double that is not in call()'s table is looked up in
 * the C library by name, so an operator whose templates call <math.h>
 * needs nothing here. */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

typedef struct Reader {
    const char *tmpl;
    const char *s;
    const TemplateValues *values;
} Reader;

static double cond(Reader *r);

static void skip_spaces(Reader *r)
{
    while (*r->s == ' ')
        r->s++;
}

static bool accept(Reader *r, const char *token)
{
    skip_spaces(r);
    size_t n = strlen(token);
    if (strncmp(r->s, token, n) != 0)
        return false;
    r->s += n;
    return true;
}

static void expect(Reader *r, const char *token)
{
    ck_assert_msg(accept(r, token), "template \"%s\": expected '%s' at \"%s\"",
                  r->tmpl, token, r->s);
}

/* The runtime's functions, written the obvious way: the test is about the
 * derivative relation, not the runtime's accuracy. */
static double sigmoid(double x)
{
    return 1 / (1 + exp(-x));
}

static double softplus(double x)
{
    return log1p(exp(x));
}

static double sigmoid_deriv(double x)
{
    return sigmoid(x) * (1 - sigmoid(x));
}

static double tanh_deriv(double x)
{
    return 1 - tanh(x) * tanh(x);
}

static double is_nan(double x)
{
    return isnan(x) ? 1 : 0;
}

typedef double MathFn(double);

/* The C library's function NAME of one double, or NULL.  The runtime's
 * functions are not linked in: call()'s table spells them out, so that the
 * runtime is checked against formulas of its own. */
static MathFn *libm_function(const char *name, size_t len)
{
    char symbol[64];
    if (strncmp(name, "gradrt_", 7) == 0 || len >= sizeof symbol)
        return NULL;
    snprintf(symbol, sizeof symbol, "%.*s", (int)len, name);
    void *self = dlopen(NULL, RTLD_LAZY);
    if (!self)
        return NULL;
    MathFn *fn;
    /* POSIX's way to turn dlsym's object pointer into a function pointer */
    *(void **)&fn = dlsym(self, symbol);
    dlclose(self);
    return fn;
}

static double call(Reader *r, const char *name, size_t len)
{
    static const struct { const char *name; MathFn *fn; } functions[] = {
        { "isnan", is_nan }, { "gradrt_sigmoid", sigmoid }, { "gradrt_softplus", softplus },
        { "gradrt_sigmoid_deriv", sigmoid_deriv }, { "gradrt_tanh_deriv", tanh_deriv },
    };
    double a = cond(r);
    if (len == 3 && strncmp(name, "pow", 3) == 0) {
        expect(r, ",");
        double b = cond(r);
        expect(r, ")");
        return pow(a, b);
    }
    expect(r, ")");
    for (size_t i = 0; i < sizeof functions / sizeof *functions; i++)
        if (strlen(functions[i].name) == len &&
            strncmp(name, functions[i].name, len) == 0)
            return functions[i].fn(a);
    MathFn *fn = libm_function(name, len);
    if (fn)
        return fn(a);
    ck_abort_msg("template \"%s\": unknown function '%.*s'", r->tmpl, (int)len, name);
}

static double primary(Reader *r)
{
    skip_spaces(r);
    char c = *r->s;
    if (c == '%') {
        r->s += 2;
        switch (r->s[-1]) {
        case '0': return r->values->arg[0];
        case '1': return r->values->arg[1];
        case '=': return r->values->self;
        case 'g': return r->values->adjoint;
        case 'd': return r->values->deriv;
        default: break;
        }
        ck_abort_msg("template \"%s\": unknown placeholder", r->tmpl);
    }
    if ((c >= '0' && c <= '9') || c == '.') {
        char *end;
        double v = strtod(r->s, &end);
        r->s = end;
        return v;
    }
    if ((c >= 'a' && c <= 'z') || c == '_') {
        const char *name = r->s;
        while ((*r->s >= 'a' && *r->s <= 'z') || (*r->s >= '0' && *r->s <= '9') ||
               *r->s == '_')
            r->s++;
        size_t len = (size_t)(r->s - name);
        expect(r, "(");
        return call(r, name, len);
    }
    expect(r, "(");
    double v = cond(r);
    expect(r, ")");
    return v;
}

static double unary(Reader *r)
{
    if (accept(r, "-"))
        return -unary(r);
    return primary(r);
}

static double product(Reader *r)
{
    double v = unary(r);
    for (;;) {
        if (accept(r, "*"))
            v *= unary(r);
        else if (accept(r, "/"))
            v /= unary(r);
        else
            return v;
    }
}

static double sum(Reader *r)
{
    double v = product(r);
    for (;;) {
        if (accept(r, "+"))
            v += product(r);
        else if (accept(r, "-"))
            v -= product(r);
        else
            return v;
    }
}

static double comparison(Reader *r)
{
    double v = sum(r);
    if (accept(r, "<="))
        return v <= sum(r);
    if (accept(r, ">="))
        return v >= sum(r);
    if (accept(r, "=="))
        return v == sum(r);
    if (accept(r, "!="))
        return v != sum(r);
    if (accept(r, "<"))
        return v < sum(r);
    if (accept(r, ">"))
        return v > sum(r);
    return v;
}

/* Both operands of && and ||, and both branches of ?:, are evaluated:
 * templates have no side effects. */
static double conjunction(Reader *r)
{
    double v = comparison(r);
    while (accept(r, "&&")) {
        double w = comparison(r);
        v = v != 0 && w != 0;
    }
    return v;
}

static double disjunction(Reader *r)
{
    double v = conjunction(r);
    while (accept(r, "||")) {
        double w = conjunction(r);
        v = v != 0 || w != 0;
    }
    return v;
}

static double cond(Reader *r)
{
    double test = disjunction(r);
    if (!accept(r, "?"))
        return test;
    double yes = cond(r);
    expect(r, ":");
    double no = cond(r);
    return test != 0 ? yes : no;
}

double template_eval(const char *tmpl, const TemplateValues *values)
{
    Reader r = { tmpl, tmpl, values };
    double v = cond(&r);
    skip_spaces(&r);
    ck_assert_msg(*r.s == '\0', "template \"%s\": unexpected \"%s\"", tmpl, r.s);
    return v;
}
