/* output.c: writing the generated files all or nothing.
 *
 * Each file is written to a temporary in its destination's directory; only
 * when every file is written are they renamed into place, and a rename that
 * fails undoes the ones before it.  So a failed run leaves no half-written
 * file and no changed one.  The renames of concurrent runs are serialised,
 * so two runs writing the same files leave the pair of one of them. */
#define _XOPEN_SOURCE 700 /* S_ISVTX, the sticky bit */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gradc.h"

enum { MAX_FILES = 8 };
/* Symbolic links followed before giving up, as Linux does (ELOOP). */
enum { MAX_LINK_HOPS = 40 };

/* One file to write. */
typedef struct Dest {
    const char *path;     /* as the caller named it, for messages */
    const char *target;   /* PATH with symbolic links followed: the file replaced */
    size_t dir_len;       /* target[0, dir_len) is its directory, with the '/' */
    const char *dir;      /* that directory, or "." */
    struct stat dir_st;
    char *tmp;            /* the new contents, until renamed onto target */
    char *backup;         /* another name for the old file, until discarded */
    bool replaced;        /* target no longer names the old file */
} Dest;

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
    return (size_t)(path_base(path) - path);
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

/* The target of the symbolic link PATH, or NULL with errno set. */
static char *read_link(Arena *arena, const char *path)
{
    for (size_t size = 256;; size *= 2) {
        char *text = arena_alloc(arena, size);
        ssize_t n = readlink(path, text, size);
        if (n < 0)
            return NULL;
        if ((size_t)n < size)
            return text;
    }
}

/* Sets D->target to D->path with symbolic links followed, as open() would
 * follow them: a link is written through, and a dangling one creates the
 * file it names.  *ST describes the target, which exists when *EXISTS.
 * Returns 0 or an errno value. */
static int follow_links(Arena *arena, Dest *d, struct stat *st, bool *exists)
{
    const char *path = d->path;
    for (int hops = 0;; hops++) {
        if (lstat(path, st) != 0) {
            if (errno != ENOENT)
                return errno;
            *exists = false;
            break;
        }
        *exists = true;
        if (!S_ISLNK(st->st_mode))
            break;
        if (hops == MAX_LINK_HOPS)
            return ELOOP;
        const char *link = read_link(arena, path);
        if (!link)
            return errno;
        size_t keep = link[0] == '/' ? 0 : dir_prefix_len(path);
        path = arena_printf(arena, "%.*s%s", (int)keep, path, link);
    }
    d->target = path;
    d->dir_len = dir_prefix_len(path);
    return 0;
}

/* Everything that can be refused is refused here, before any file is made:
 * what fopen(PATH, "w") would refuse, and anything but a regular file. */
static bool prepare(Arena *arena, Dest *d)
{
    struct stat st;
    bool exists;
    int err = follow_links(arena, d, &st, &exists);
    if (err)
        return write_error(d->path, strerror(err));
    if (exists && S_ISDIR(st.st_mode))
        return write_error(d->path, strerror(EISDIR));
    if (exists && !S_ISREG(st.st_mode))
        return write_error(d->path, "it is not a regular file");
    /* access() asks what open() would: root may replace a 0444 file. */
    if (exists && access(d->target, W_OK) != 0)
        return write_error(d->path, strerror(errno));
    d->dir = d->dir_len ? arena_strndup(arena, d->target, d->dir_len) : ".";
    if (stat(d->dir, &d->dir_st) != 0)
        return write_error(d->path, strerror(errno));
    return true;
}

/* Orders directories by identity: negative, 0 or positive. */
static int dir_cmp(const Dest *a, const Dest *b)
{
    const struct stat *x = &a->dir_st, *y = &b->dir_st;
    if (x->st_dev != y->st_dev)
        return x->st_dev < y->st_dev ? -1 : 1;
    return x->st_ino < y->st_ino ? -1 : x->st_ino > y->st_ino;
}

static bool same_file(const Dest *a, const Dest *b)
{
    return dir_cmp(a, b) == 0 &&
           strcmp(a->target + a->dir_len, b->target + b->dir_len) == 0;
}

/* A new empty file of this run's in D's target directory: a short name, so
 * that any valid destination name leaves room for it. */
static char *new_temp(Arena *arena, const Dest *d, int *fd)
{
    char *name = arena_printf(arena, "%.*s.gradc-XXXXXX", (int)d->dir_len, d->target);
    *fd = mkstemp(name);
    return *fd < 0 ? NULL : name;
}

/* Writes what BUF still holds to D's temporary and closes it. */
static bool finish_temp(Dest *d, Buf *buf, int fd, mode_t mode)
{
    bool ok = buf_flush(buf) && fchmod(fd, mode) == 0;
    int saved = buf->error ? buf->error : errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    return ok || write_error(d->path, strerror(saved));
}

/* In a sticky directory only root and the owner of a file or of the
 * directory may remove it: a link to someone else's file there could not
 * be removed again (and the file cannot be replaced anyway). */
static bool may_remove(const Dest *d, const struct stat *st)
{
    uid_t me = geteuid();
    return !(d->dir_st.st_mode & S_ISVTX) || me == 0 || st->st_uid == me ||
           d->dir_st.st_uid == me;
}

/* Another name for D's existing target, so that renaming over it can be
 * undone; NULL when the file cannot be linked (protected_hardlinks, a file
 * system without hard links). */
static char *link_backup(Arena *arena, const Dest *d, const struct stat *st)
{
    int fd;
    char *name = may_remove(d, st) ? new_temp(arena, d, &fd) : NULL;
    if (!name)
        return NULL;
    close(fd);
    /* link() cannot replace the file mkstemp() made, so give the name back;
     * should another process take it meanwhile, link() fails and the file
     * counts as one that cannot be linked. */
    unlink(name);
    return link(d->target, name) == 0 ? name : NULL;
}

/* Moves D's old file aside onto a temporary of this run's: for a second
 * file that cannot be linked, it keeps the old file for undoing. */
static bool move_aside(Arena *arena, Dest *d)
{
    int fd;
    char *name = new_temp(arena, d, &fd);
    if (!name)
        return write_error(d->path, strerror(errno));
    close(fd);
    if (rename(d->target, name) != 0) {
        int saved = errno;
        unlink(name);
        return write_error(d->path, strerror(saved));
    }
    d->backup = name;
    d->replaced = true;
    return true;
}

/* Puts back the old files of the first N of ORDER, last first. */
static void undo(Dest **order, int n)
{
    while (n-- > 0) {
        Dest *d = order[n];
        if (!d->replaced)
            continue;
        if (!d->backup) {
            unlink(d->target);
        } else if (rename(d->backup, d->target) == 0) {
            d->backup = NULL;
        } else {
            fprintf(stderr, "gradc: error: cannot restore '%s' (%s); its old "
                    "contents are in '%s'\n", d->path, strerror(errno), d->backup);
            d->backup = NULL;
        }
    }
}

/* Renames every temporary onto its target.  A file that existed gets a
 * backup first; one that cannot have a linked backup goes last, where a
 * failed rename leaves nothing to undo, and if there are several, all but
 * the last are moved aside instead. */
static bool commit(Arena *arena, Dest *dests, int n)
{
    Dest *order[MAX_FILES];
    int linked = 0, unlinked = n;
    for (int i = 0; i < n; i++) {
        Dest *d = &dests[i];
        struct stat st;
        bool existed = lstat(d->target, &st) == 0;
        if (existed)
            d->backup = link_backup(arena, d, &st);
        if (existed && !d->backup)
            order[--unlinked] = d;
        else
            order[linked++] = d;
    }
    int done = 0;
    bool ok = true;
    for (; done < n && ok; done++) {
        Dest *d = order[done];
        if (done >= linked && done < n - 1)
            ok = move_aside(arena, d);
        if (ok && rename(d->tmp, d->target) != 0)
            ok = write_error(d->path, strerror(errno));
        else if (ok) {
            d->tmp = NULL;
            d->replaced = true;
        }
    }
    if (!ok)
        undo(order, done);
    return ok;
}

/* Locks each target directory once, in the order of their identities, so
 * that two runs cannot deadlock.  The lock is advisory and best effort: a
 * directory that cannot be opened or locked is not locked. */
static int lock_dirs(const Dest *dests, int n, int *fds)
{
    int nfds = 0;
    for (const Dest *prev = NULL;;) {
        const Dest *next = NULL;
        for (int i = 0; i < n; i++)
            if ((!prev || dir_cmp(&dests[i], prev) > 0) &&
                (!next || dir_cmp(&dests[i], next) < 0))
                next = &dests[i];
        if (!next)
            return nfds;
        int fd = open(next->dir, O_RDONLY | O_DIRECTORY);
        if (fd >= 0) {
            while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
                continue;
            fds[nfds++] = fd;
        }
        prev = next;
    }
}

struct OutputFiles {
    Arena *arena;
    Dest dests[MAX_FILES];
    Buf bufs[MAX_FILES];
    int fds[MAX_FILES];
    int n;
    mode_t mode;
    bool watched;         /* the cleanup below is installed */
};

/* The files being written, for the cleanup on a fatal signal or exit(). */
static OutputFiles *volatile active;

static void remove_temps(void)
{
    OutputFiles *f = active;
    for (int i = 0; f && i < f->n; i++)
        if (f->dests[i].tmp)
            unlink(f->dests[i].tmp);
}

/* The signals that end a run with temporaries made, the text of a big
 * model taking seconds to write: they are removed, then the signal does
 * what it would have done. */
static const int fatal_signals[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE,
                                     SIGXCPU, SIGXFSZ };
enum { NSIGNALS = sizeof fatal_signals / sizeof *fatal_signals };
static struct sigaction saved_actions[NSIGNALS];

static void on_fatal_signal(int sig)
{
    remove_temps();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Installs the cleanup (once for exit(), at each call for signals, but
 * not for a signal the caller ignores, as nohup does). */
static void watch(OutputFiles *f)
{
    static bool registered;
    if (!registered && atexit(remove_temps) == 0)
        registered = true;
    active = f;
    f->watched = true;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < NSIGNALS; i++) {
        sigaction(fatal_signals[i], NULL, &saved_actions[i]);
        if (saved_actions[i].sa_handler != SIG_IGN)
            sigaction(fatal_signals[i], &sa, NULL);
    }
}

/* Removes what is left of F's temporaries, and F. */
static void finish(OutputFiles *f)
{
    for (int i = 0; i < f->n; i++)
        if (f->fds[i] >= 0)
            close(f->fds[i]);
    if (f->watched) {
        remove_temps();
        for (int i = 0; i < NSIGNALS; i++)
            sigaction(fatal_signals[i], &saved_actions[i], NULL);
        active = NULL;
    }
    arena_free(f->arena);
}

OutputFiles *output_begin(const char *const *paths, int nfiles)
{
    if (nfiles > MAX_FILES)
        UNREACHABLE();
    OutputFiles *f = calloc(1, sizeof *f);
    if (!f)
        die("error: out of memory");
    f->arena = arena_new();
    f->n = nfiles;
    mode_t mask = umask(0);
    umask(mask);
    f->mode = 0666 & ~mask;
    for (int i = 0; i < nfiles; i++) {
        f->dests[i].path = paths[i];
        f->fds[i] = -1;
    }
    bool ok = true;
    for (int i = 0; ok && i < nfiles; i++)
        ok = prepare(f->arena, &f->dests[i]);
    for (int i = 0; ok && i < nfiles; i++)
        for (int j = 0; ok && j < i; j++)
            if (same_file(&f->dests[i], &f->dests[j])) {
                fprintf(stderr, "gradc: error: '%s' and '%s' are the same file\n",
                        f->dests[j].path, f->dests[i].path);
                ok = false;
            }
    if (ok)
        watch(f);
    for (int i = 0; ok && i < nfiles; i++) {
        Dest *d = &f->dests[i];
        d->tmp = new_temp(f->arena, d, &f->fds[i]);
        if (!d->tmp)
            ok = write_error(d->path, strerror(errno));
        else
            buf_init_file(&f->bufs[i], f->arena, f->fds[i]);
    }
    if (!ok) {
        output_abort(f);
        return NULL;
    }
    return f;
}

Buf *output_buf(OutputFiles *f, int i)
{
    return &f->bufs[i];
}

void output_abort(OutputFiles *f)
{
    finish(f);
    free(f);
}

bool output_commit(OutputFiles *f)
{
    bool ok = true;
    for (int i = 0; ok && i < f->n; i++) {
        ok = finish_temp(&f->dests[i], &f->bufs[i], f->fds[i], f->mode);
        f->fds[i] = -1;
    }
    if (ok) {
        int fds[MAX_FILES];
        int nfds = lock_dirs(f->dests, f->n, fds);
        ok = commit(f->arena, f->dests, f->n);
        for (int i = 0; i < f->n; i++)
            if (f->dests[i].backup)
                unlink(f->dests[i].backup);
        while (nfds-- > 0)
            close(fds[nfds]);
    }
    output_abort(f);
    return ok;
}

bool output_write_files(const char *const *paths, const Buf *const *contents,
                        int nfiles)
{
    OutputFiles *f = output_begin(paths, nfiles);
    if (!f)
        return false;
    for (int i = 0; i < nfiles; i++)
        buf_putn(output_buf(f, i), contents[i]->data, contents[i]->len);
    return output_commit(f);
}
