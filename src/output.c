/* output.c: writing the generated files all or nothing.  Each file goes to
 * a temporary beside its destination and is renamed into place only when
 * every file has been written, so a failed run leaves no half-written file
 * and no changed one. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gradc.h"

/* Names are quoted as given, a control character shown as '?' as in
 * source lines, so that a message stays on one line. */
static bool write_error(const char *path, const char *what)
{
    fputs("gradc: error: cannot write '", stderr);
    for (const char *p = path; *p; p++)
        fputc((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, stderr);
    fprintf(stderr, "': %s\n", what);
    return false;
}

static size_t dir_prefix_len(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? (size_t)(slash - path) + 1 : 0;
}

/* Why NAME cannot stand between the quotes of #include "...", or NULL.
 * C99 6.4.7 leaves ' and \ undefined there; " and a newline end it; a
 * trigraph (C99 5.2.1.1) would change the name under -std=c99. */
static const char *include_problem(Arena *arena, const char *name)
{
    static const struct {
        char c;
        const char *what;
    } forbidden[] = {
        { '"', "a double quote" },
        { '\\', "a backslash" },
        { '\'', "an apostrophe" },
    };
    for (const char *p = name; *p; p++) {
        for (size_t i = 0; i < sizeof forbidden / sizeof forbidden[0]; i++)
            if (*p == forbidden[i].c)
                return forbidden[i].what;
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return arena_printf(arena, "the control character 0x%02X", (unsigned)*p);
        if (p[0] == '?' && p[1] == '?' && p[2] && strchr("=(/)'<!>-", p[2]))
            return arena_printf(arena, "the trigraph '%.3s'", p);
    }
    return NULL;
}

static bool write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        data += n;
        len -= (size_t)n;
    }
    return true;
}

/* Writes CONTENTS to a new temporary beside PATH; returns its name. */
static char *write_temp(const char *path, const Buf *contents, mode_t mode)
{
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = path + dir_len;
    size_t size = strlen(path) + 16;
    char *tmp = malloc(size);
    if (!tmp)
        die("error: out of memory");
    snprintf(tmp, size, "%.*s.%s.XXXXXX", (int)dir_len, path, base);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        write_error(path, strerror(errno));
        free(tmp);
        return NULL;
    }
    bool ok = write_all(fd, contents->data, contents->len) &&
              fchmod(fd, mode) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        write_error(path, strerror(saved));
        unlink(tmp);
        free(tmp);
        return NULL;
    }
    return tmp;
}

bool output_write_files(const char *const *paths, const Buf *const *contents,
                        int nfiles)
{
    mode_t mask = umask(0);
    umask(mask);
    mode_t mode = 0666 & ~mask;
    char *tmp[8] = { 0 };
    if (nfiles > 8)
        UNREACHABLE();
    /* A rename onto a directory fails only after earlier renames have
     * replaced their files: refuse before touching anything. */
    struct stat st;
    for (int i = 0; i < nfiles; i++)
        if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode))
            return write_error(paths[i], strerror(EISDIR));
    bool ok = true;
    for (int i = 0; i < nfiles && ok; i++)
        ok = (tmp[i] = write_temp(paths[i], contents[i], mode)) != NULL;
    for (int i = 0; i < nfiles && ok; i++) {
        if (rename(tmp[i], paths[i]) != 0) {
            ok = write_error(paths[i], strerror(errno));
            unlink(tmp[i]);
        }
        free(tmp[i]);
        tmp[i] = NULL;
    }
    for (int i = 0; i < nfiles; i++) {
        if (tmp[i])
            unlink(tmp[i]);
        free(tmp[i]);
    }
    return ok;
}

const char *output_header_path(Arena *arena, const char *c_path)
{
    size_t len = strlen(c_path), dir_len = dir_prefix_len(c_path);
    if (len < dir_len + 3 || strcmp(c_path + len - 2, ".c") != 0) {
        write_error(c_path, "the output must be named NAME.c");
        return NULL;
    }
    const char *h_path = arena_printf(arena, "%.*s.h", (int)(len - 2), c_path);
    const char *problem = include_problem(arena, h_path + dir_len);
    if (problem) {
        write_error(c_path, arena_printf(arena, "its header's name cannot be written "
                                         "in #include \"...\": it contains %s", problem));
        return NULL;
    }
    return h_path;
}
