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

/* Bytes that would garble a terminal are shown as '?'. */
static void put_source_byte(FILE *out, unsigned char c)
{
    fputc(c == '\t' || (c >= 0x20 && c < 0x7f) ? c : '?', out);
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
    for (size_t i = 0; i < len; i++)
        put_source_byte(diag->out, (unsigned char)text[i]);
    fputc('\n', diag->out);
    for (size_t i = 0; i + 1 < col && i < len; i++)
        fputc(text[i] == '\t' ? '\t' : ' ', diag->out);
    fputc('^', diag->out);
    /* Underline the rest of the span that lies on this line. */
    size_t line_end = (size_t)(text - src->text) + len;
    size_t end = at.end < line_end ? at.end : line_end;
    for (size_t i = at.off + 1; i < end; i++)
        fputc('~', diag->out);
    fputc('\n', diag->out);
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
