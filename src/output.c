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

static bool write_error(const char *path, const char *what)
{
    fprintf(stderr, "gradc: error: cannot write '%s': %s\n", path, what);
    return false;
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
    const char *slash = strrchr(c_path, '/');
    const char *base = slash ? slash + 1 : c_path;
    const char *dot = strrchr(base, '.');
    size_t len = dot && dot != base ? (size_t)(dot - c_path) : strlen(c_path);
    return arena_printf(arena, "%.*s.h", (int)len, c_path);
}
