/* output-fail.c: an LD_PRELOAD library for tests/output.sh that makes
 * link() and rename() fail on chosen files, to reach gradc's undo paths
 * without root.
 *
 *   FAIL_LINK=SUFFIX    every link() from a path ending in SUFFIX fails
 *                       (with EPERM, as under protected_hardlinks); an
 *                       empty SUFFIX matches every path
 *   FAIL_RENAME=SUFFIX  the first rename() onto a path ending in SUFFIX
 *                       fails with EIO; the ones after it, which put the
 *                       old files back, succeed */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int link(const char *from, const char *to);
int rename(const char *from, const char *to);

typedef int Call(const char *, const char *);

static bool ends_in(const char *path, const char *var)
{
    const char *suffix = getenv(var);
    if (!suffix)
        return false;
    size_t n = strlen(path), k = strlen(suffix);
    return n >= k && strcmp(path + n - k, suffix) == 0;
}

static Call *real(const char *name)
{
    Call *call;
    /* dlsym returns an object pointer; POSIX makes it convertible. */
    *(void **)&call = dlsym(RTLD_NEXT, name);
    return call;
}

int link(const char *from, const char *to)
{
    if (ends_in(from, "FAIL_LINK")) {
        errno = EPERM;
        return -1;
    }
    return real("link")(from, to);
}

int rename(const char *from, const char *to)
{
    static bool failed;
    if (!failed && ends_in(to, "FAIL_RENAME")) {
        failed = true;
        errno = EIO;
        return -1;
    }
    return real("rename")(from, to);
}
