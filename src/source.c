/* source.c: reading the input and mapping byte offsets to lines. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "gradc.h"

static void build_line_map(Source *src, Arena *arena)
{
    size_t n = 1, cap = 0;
    for (size_t i = 0; i < src->len; i++)
        if (src->text[i] == '\n')
            n++;
    src->line_off = NULL;
    arena_reserve(arena, &src->line_off, &cap, n, sizeof *src->line_off);
    src->line_off[0] = 0;
    src->nlines = 1;
    for (size_t i = 0; i < src->len; i++)
        if (src->text[i] == '\n')
            src->line_off[src->nlines++] = i + 1;
}

void source_from_text(Source *src, Arena *arena, const char *path,
                      const char *text, size_t len)
{
    src->path = path;
    src->text = arena_strndup(arena, text, len);
    src->len = len;
    build_line_map(src, arena);
}

static bool read_error(const char *path, const char *what)
{
    fprintf(stderr, "gradc: error: cannot read '%s': %s\n", path, what);
    return false;
}

bool source_read(Source *src, Arena *arena, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return read_error(path, strerror(errno));
    const char *too_large = arena_printf(arena, "it is larger than %ld MiB",
                                         GRADC_MAX_SOURCE_BYTES >> 20);
    struct stat st;
    bool known = fstat(fileno(f), &st) == 0;
    const char *problem = NULL;
    if (known && S_ISDIR(st.st_mode))
        problem = "it is a directory";
    else if (known && S_ISREG(st.st_mode) && st.st_size > GRADC_MAX_SOURCE_BYTES)
        problem = too_large; /* refused without reading it */
    if (problem) {
        fclose(f);
        return read_error(path, problem);
    }
    Buf buf;
    buf_init(&buf, arena);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (n > (size_t)GRADC_MAX_SOURCE_BYTES - buf.len) {
            fclose(f);
            return read_error(path, too_large);
        }
        buf_putn(&buf, chunk, n);
    }
    int failed = ferror(f);
    int saved = errno;
    fclose(f);
    if (failed)
        return read_error(path, strerror(saved));
    src->path = path;
    src->text = buf.data;
    src->len = buf.len;
    build_line_map(src, arena);
    return true;
}

void source_locate(const Source *src, size_t off, size_t *line, size_t *col)
{
    size_t lo = 0, hi = src->nlines;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (src->line_off[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    *line = lo + 1;
    *col = off - src->line_off[lo] + 1;
}

const char *source_line(const Source *src, size_t line, size_t *len)
{
    size_t start = src->line_off[line - 1];
    size_t end = line < src->nlines ? src->line_off[line] - 1 : src->len;
    if (end > start && src->text[end - 1] == '\r')
        end--;
    *len = end - start;
    return src->text + start;
}
