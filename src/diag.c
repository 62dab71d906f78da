/* diag.c: diagnostics in the form
 *     FILE:LINE:COL: error: MESSAGE
 *     <the source line>
 *         ^~~~
 * The caret line copies the source line's tabs so the caret stays aligned. */
#include <string.h>

#include "gradc.h"

void diag_init(Diag *diag, const Source *src, FILE *out)
{
    diag->src = src;
    diag->out = out;
    diag->errors = 0;
    diag->warnings = 0;
    diag->max_errors = 20;
}

bool diag_too_many(const Diag *diag)
{
    return diag->errors >= diag->max_errors;
}

/* A source line longer than this is shown in part: the stretch around the
 * column, with "..." where it is cut.  A diagnostic then costs as much on a
 * long line as on a short one; a long statement with a warning at each of
 * its numbers would otherwise print the whole line for every one. */
enum { SHOWN_MAX = 160 };

/* Bytes that would garble a terminal are shown as '?'. */
static char shown_byte(char c)
{
    unsigned char u = (unsigned char)c;
    return c == '\t' || (u >= 0x20 && u < 0x7f) ? c : '?';
}

static size_t put_text(char *out, const char *s)
{
    size_t n = strlen(s);
    memcpy(out, s, n);
    return n;
}

static void report(Diag *diag, const char *kind, Span at, const char *fmt,
                   va_list ap)
{
    const Source *src = diag->src;
    size_t line, col;
    source_locate(src, at.off, &line, &col);
    fprintf(diag->out, "%s:%zu:%zu: %s: ", src->path, line, col, kind);
    vfprintf(diag->out, fmt, ap);
    fputc('\n', diag->out);

    size_t len;
    const char *text = source_line(src, line, &len);
    size_t caret = col - 1 < len ? col - 1 : len;
    size_t from = 0, to = len;
    if (len > SHOWN_MAX) {
        from = caret > SHOWN_MAX / 2 ? caret - SHOWN_MAX / 2 : 0;
        if (from > len - SHOWN_MAX)
            from = len - SHOWN_MAX;
        to = from + SHOWN_MAX;
    }
    /* Both lines in one write: stderr is unbuffered. */
    char out[2 * (SHOWN_MAX + 8)];
    size_t n = 0;
    if (from > 0)
        n += put_text(out + n, "...");
    for (size_t i = from; i < to; i++)
        out[n++] = shown_byte(text[i]);
    if (to < len)
        n += put_text(out + n, "...");
    out[n++] = '\n';
    if (from > 0)
        n += put_text(out + n, "   ");
    /* Tabs are copied so that the caret stays under the column. */
    for (size_t i = from; i < caret; i++)
        out[n++] = text[i] == '\t' ? '\t' : ' ';
    out[n++] = '^';
    /* Underline the rest of the span that is shown. */
    size_t shown_end = (size_t)(text - src->text) + to;
    size_t end = at.end < shown_end ? at.end : shown_end;
    for (size_t i = at.off + 1; i < end; i++)
        out[n++] = '~';
    out[n++] = '\n';
    fwrite(out, 1, n, diag->out);
}

void diag_error(Diag *diag, Span at, const char *fmt, ...)
{
    diag->errors++;
    if (diag->errors > diag->max_errors)
        return;
    va_list ap;
    va_start(ap, fmt);
    report(diag, "error", at, fmt, ap);
    va_end(ap);
    if (diag->errors == diag->max_errors)
        fprintf(diag->out, "%s: too many errors, stopping\n", diag->src->path);
}

void diag_warning(Diag *diag, Span at, const char *fmt, ...)
{
    diag->warnings++;
    va_list ap;
    va_start(ap, fmt);
    report(diag, "warning", at, fmt, ap);
    va_end(ap);
}

void diag_note(Diag *diag, Span at, const char *fmt, ...)
{
    if (diag->errors > diag->max_errors)
        return;
    va_list ap;
    va_start(ap, fmt);
    report(diag, "note", at, fmt, ap);
    va_end(ap);
}
