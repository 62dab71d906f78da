#!/usr/bin/env python3
"""vecmath-coef.py: the polynomial coefficients of runtime/vecmath.c.

Usage: vecmath-coef.py            print them as C
       vecmath-coef.py --check F  exit 1 unless file F holds exactly them

Needs mpmath.  Each polynomial interpolates its function at the Chebyshev
nodes of its interval, in 60-digit arithmetic, which comes within a small
factor of the best (minimax) polynomial of that degree; the coefficients
are then rounded to the nearest double.  The error printed for each is that
of the rounded polynomial, the largest over 2001 points of the interval.
It also prints 1/ln 2 and ln 2 in two parts, the constants of the
argument reduction.

  exp:   e^r = 1 + r + r^2 q(r) for |r| <= 0.35 (the reduced argument is at
         most ln(2)/2 = 0.3466 plus rounding); q has degree 10.
  log1p: log(1 + f) = 2 atanh(s), s = f / (2 + f), |s| <= 0.2, and
         2 atanh(s) = 2s + s^3 g(s^2); g has degree 7 on [0, 0.041].
"""
import re
import sys

import mpmath as mp

mp.mp.dps = 60


def exp_q(r):
    """(e^r - 1 - r) / r^2, by its series near 0 where it would cancel."""
    if abs(r) < mp.mpf('1e-15'):
        return sum(r ** j / mp.factorial(j + 2) for j in range(8))
    return (mp.exp(r) - 1 - r) / r ** 2


def log_g(t):
    """(2 atanh(s) - 2s) / s^3 with s = sqrt(t), by its series near 0."""
    if t < mp.mpf('1e-30'):
        return sum(2 * t ** j / (2 * j + 3) for j in range(8))
    s = mp.sqrt(t)
    return (2 * mp.atanh(s) - 2 * s) / s ** 3


def chebyshev_interpolant(f, a, b, degree):
    """Monomial coefficients, lowest first, of the polynomial of DEGREE that
    agrees with F at the Chebyshev nodes of [A, B]."""
    n = degree + 1
    nodes = [mp.cos(mp.pi * (k + mp.mpf(1) / 2) / n) for k in range(n)]
    values = [f((a + b) / 2 + (b - a) / 2 * u) for u in nodes]
    cheb = [2 * mp.fsum(v * mp.cos(j * mp.acos(u)) for u, v in zip(nodes, values)) / n
            for j in range(n)]
    cheb[0] /= 2
    # sum cheb[j] T_j(u), u = (2x - (a + b)) / (b - a), as a polynomial in x
    u = [-(a + b) / (b - a), 2 / (b - a)]
    t_prev, t_cur = [mp.mpf(1)], u
    result = [cheb[0]] + [mp.mpf(0)] * degree
    for j in range(1, n):
        for i, c in enumerate(t_cur):
            result[i] += cheb[j] * c
        t_next = [mp.mpf(0)] * (len(t_cur) + 1)
        for i, c in enumerate(t_cur):
            for k, d in enumerate(u):
                t_next[i + k] += 2 * c * d
        for i, c in enumerate(t_prev):
            t_next[i] -= c
        t_prev, t_cur = t_cur, t_next
    return [float(c) for c in result]


def max_error(f, coefs, a, b):
    worst = mp.mpf(0)
    for k in range(2001):
        x = a + (b - a) * k / 2000
        p = mp.mpf(0)
        for c in reversed(coefs):
            p = p * x + mp.mpf(c)
        worst = max(worst, abs(p - f(x)))
    return worst


POLYNOMIALS = [
    ('EXP_Q', exp_q, -mp.mpf('0.35'), mp.mpf('0.35'), 10,
     '(e^r - 1 - r) / r^2 on [-0.35, 0.35]'),
    ('LOG_G', log_g, mp.mpf(0), mp.mpf('0.041'), 7,
     '(2 atanh(s) - 2s) / s^3 as a polynomial in t = s^2 on [0, 0.041]'),
]


def c_text():
    ln2 = mp.log(2)
    # 42 significant bits: k LN2_HI is exact for any |k| < 2^11
    ln2_hi = mp.floor(ln2 * 2 ** 42) / 2 ** 42
    lines = [
        '#define LOG2_E %s' % float(1 / ln2).hex(),
        '#define LN2_HI %s' % float(ln2_hi).hex(),
        '#define LN2_LO %s' % float(ln2 - ln2_hi).hex(),
    ]
    for name, f, a, b, degree, what in POLYNOMIALS:
        coefs = chebyshev_interpolant(f, a, b, degree)
        err = max_error(f, coefs, a, b)
        lines.append('/* %s,\n * lowest degree first; largest error %s */'
                     % (what, mp.nstr(err, 2)))
        lines.append('static const double %s[%d] = {' % (name, len(coefs)))
        for i in range(0, len(coefs), 3):
            lines.append('    ' + ', '.join(c.hex() for c in coefs[i:i + 3]) + ',')
        lines.append('};')
    return '\n'.join(lines) + '\n'


def main():
    text = c_text()
    if len(sys.argv) == 3 and sys.argv[1] == '--check':
        with open(sys.argv[2]) as src:
            have = src.read()
        # compare the numbers only: the comments carry error estimates
        want_nums = re.findall(r'0x[0-9a-f.]+p[-+]\d+', text)
        block = re.search(r'#define LOG2_E.*?LOG_G.*?};', have, re.S)
        have_nums = re.findall(r'0x[0-9a-f.]+p[-+]\d+', block.group(0)) if block else []
        if have_nums != want_nums:
            sys.stderr.write('%s: the coefficients differ from these:\n%s'
                             % (sys.argv[2], text))
            return 1
        return 0
    if len(sys.argv) != 1:
        sys.stderr.write('usage: vecmath-coef.py [--check FILE]\n')
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
