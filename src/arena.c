/* arena.c: bump allocation in big blocks, freed all at once.  gradc is a
 * short-lived compiler: nothing is freed on its own, everything goes with
 * arena_free() at the end of the compilation; only a child arena (the
 * Ast's) may go before, and the big block of a table that has outgrown it
 * (arena_drop), for a model of 10^6 statements must fit in memory. */
#define _XOPEN_SOURCE 700 /* write() */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gradc.h"

enum { BLOCK_SIZE = 64 * 1024 };

/* Strictest alignment of anything gradc allocates (C99 has no max_align_t):
 * no long double, whose 16 bytes would pad every short name and node. */
typedef union Align {
    double d;
    long long ll;
    void *p;
} Align;

typedef struct Block {
    struct Block *next;
    size_t used, size;
    Align data[];
} Block;

struct Arena {
    Block *head;
    Arena *parent;        /* arena_new_child's */
    Arena *children;      /* freed with this one */
    Arena *sibling;       /* the parent's next child */
};

void die(const char *fmt, ...)
{
    va_list ap;
    fputs("gradc: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

const char *path_base(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static void *xmalloc(size_t size)
{
    void *p = malloc(size);
    if (!p) {
        fputs("gradc: error: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

Arena *arena_new(void)
{
    Arena *arena = xmalloc(sizeof *arena);
    arena->head = NULL;
    arena->parent = arena->children = arena->sibling = NULL;
    return arena;
}

Arena *arena_new_child(Arena *parent)
{
    Arena *child = arena_new();
    child->parent = parent;
    child->sibling = parent->children;
    parent->children = child;
    return child;
}

static void free_blocks(Block *b)
{
    for (Block *next; b; b = next) {
        next = b->next;
        free(b);
    }
}

/* Keeps the first block: a scratch arena reset after every statement
 * would otherwise return and refetch its memory each time. */
void arena_reset(Arena *arena)
{
    Block *keep = arena->head;
    if (!keep)
        return;
    free_blocks(keep->next);
    keep->next = NULL;
    keep->used = 0;
}

void arena_free(Arena *arena)
{
    if (!arena)
        return;
    while (arena->children)
        arena_free(arena->children);
    if (arena->parent) {
        Arena **link = &arena->parent->children;
        while (*link != arena)
            link = &(*link)->sibling;
        *link = arena->sibling;
    }
    free_blocks(arena->head);
    free(arena);
}

static size_t aligned(size_t size)
{
    return (size + sizeof(Align) - 1) / sizeof(Align) * sizeof(Align);
}

/* A block of SIZE bytes; ZEROED from calloc, which for a big block maps
 * zero pages without touching them, so that room not yet used costs no
 * memory. */
static Block *block_new(size_t size, bool zeroed)
{
    if (size > SIZE_MAX - sizeof(Block))
        die("error: out of memory");
    Block *b = zeroed ? calloc(1, sizeof(Block) + size) : malloc(sizeof(Block) + size);
    if (!b) {
        fputs("gradc: error: out of memory\n", stderr);
        exit(1);
    }
    b->used = 0;
    b->size = size;
    return b;
}

void *arena_alloc(Arena *arena, size_t size)
{
    if (size > SIZE_MAX - sizeof(Align))
        die("error: out of memory");
    size = aligned(size);
    Block *b = arena->head;
    if (size > BLOCK_SIZE / 4) {
        /* A big request always gets a block of its own (arena_reserve
         * relies on it), behind the current one so that the current
         * block's free space is not wasted. */
        Block *big = block_new(size, true);
        big->used = size;
        if (b) {
            big->next = b->next;
            b->next = big;
        } else {
            big->next = NULL;
            arena->head = big;
        }
        return big->data;
    }
    if (!b || b->size - b->used < size) {
        b = block_new(BLOCK_SIZE, false);
        b->next = arena->head;
        arena->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

char *arena_strndup(Arena *arena, const char *s, size_t len)
{
    char *p = arena_alloc(arena, len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *arena_strdup(Arena *arena, const char *s)
{
    return arena_strndup(arena, s, strlen(s));
}

char *arena_vprintf(Arena *arena, const char *fmt, va_list ap)
{
    /* Most strings are short: format once on the stack, then copy. */
    char small[256];
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(small, sizeof small, fmt, copy);
    va_end(copy);
    if (n < 0)
        die("internal error: bad format '%s'", fmt);
    if ((size_t)n < sizeof small)
        return arena_strndup(arena, small, (size_t)n);
    char *p = arena_alloc(arena, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *arena_printf(Arena *arena, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = arena_vprintf(arena, fmt, ap);
    va_end(ap);
    return p;
}

/* Moves the dedicated block holding P to NEW_SIZE bytes with realloc():
 * a growing array then costs its final size, not twice that in the copies
 * left behind.  The new room is left as realloc() gives it, untouched
 * until the array grows into it. */
static void *grow_dedicated(Arena *arena, void *p, size_t new_size)
{
    Block *old = (Block *)(void *)((char *)p - offsetof(Block, data));
    Block **link = &arena->head;
    while (*link != old)
        link = &(*link)->next;
    if (new_size > SIZE_MAX - sizeof(Block))
        die("error: out of memory");
    Block *b = realloc(old, sizeof(Block) + new_size);
    if (!b) {
        fputs("gradc: error: out of memory\n", stderr);
        exit(1);
    }
    b->size = b->used = new_size;
    *link = b;
    return b->data;
}

void arena_drop(Arena *arena, void *p, size_t size)
{
    if (aligned(size) <= BLOCK_SIZE / 4)
        return;
    Block *old = (Block *)(void *)((char *)p - offsetof(Block, data));
    Block **link = &arena->head;
    while (*link != old)
        link = &(*link)->next;
    *link = old->next;
    free(old);
}

void arena_reserve(Arena *arena, void *items, size_t *cap, size_t need,
                   size_t elem_size)
{
    if (need <= *cap)
        return;
    /* From 2: most vectors are a call's one or two arguments. */
    size_t new_cap = *cap ? *cap : 2;
    while (new_cap < need) {
        if (new_cap > SIZE_MAX / 2 / elem_size)
            die("error: out of memory");
        new_cap *= 2;
    }
    void **slot = items;
    size_t old_size = aligned(*cap * elem_size);
    if (*cap && old_size > BLOCK_SIZE / 4) {
        *slot = grow_dedicated(arena, *slot, aligned(new_cap * elem_size));
        *cap = new_cap;
        return;
    }
    void *grown = arena_alloc(arena, new_cap * elem_size);
    if (*cap)
        memcpy(grown, *slot, *cap * elem_size);
    *slot = grown;
    *cap = new_cap;
}

/* ---- Buf ---- */

void buf_init(Buf *buf, Arena *arena)
{
    buf->arena = arena;
    buf->len = 0;
    buf->cap = 0;
    buf->data = NULL;
    buf->fd = -1;
    buf->error = 0;
    arena_reserve(arena, &buf->data, &buf->cap, 32, 1);
    buf->data[0] = '\0';
}

/* Big enough that write() calls cost nothing beside the formatting. */
enum { BUF_FILE_SIZE = 256 * 1024 };

void buf_init_file(Buf *buf, Arena *arena, int fd)
{
    buf_init(buf, arena);
    arena_reserve(arena, &buf->data, &buf->cap, BUF_FILE_SIZE, 1);
    buf->fd = fd;
}

/* Writes N bytes at S to BUF's file; after a failure, nothing more. */
static void sink_write(Buf *buf, const char *s, size_t n)
{
    while (n > 0 && !buf->error) {
        ssize_t done = write(buf->fd, s, n);
        if (done < 0 && errno != EINTR)
            buf->error = errno;
        if (done > 0) {
            s += done;
            n -= (size_t)done;
        }
    }
}

bool buf_flush(Buf *buf)
{
    if (buf->fd >= 0) {
        sink_write(buf, buf->data, buf->len);
        buf->len = 0;
        buf->data[0] = '\0';
    }
    return !buf->error;
}

/* Room for N more bytes and the NUL: a file's buffer is emptied into the
 * file, others grow.  False when N bytes will not fit even so. */
static bool buf_room(Buf *buf, size_t n)
{
    if (buf->fd < 0) {
        arena_reserve(buf->arena, &buf->data, &buf->cap, buf->len + n + 1, 1);
        return true;
    }
    if (buf->len + n + 1 > buf->cap)
        buf_flush(buf);
    return n + 1 <= buf->cap;
}

void buf_putn(Buf *buf, const char *s, size_t n)
{
    if (!buf_room(buf, n)) {
        sink_write(buf, s, n);
        return;
    }
    memcpy(buf->data + buf->len, s, n);
    buf->len += n;
    buf->data[buf->len] = '\0';
}

void buf_putc(Buf *buf, char c)
{
    if (buf->len + 2 > buf->cap) {
        buf_putn(buf, &c, 1);
        return;
    }
    buf->data[buf->len++] = c;
    buf->data[buf->len] = '\0';
}

void buf_puts(Buf *buf, const char *s)
{
    buf_putn(buf, s, strlen(s));
}

void buf_vprintf(Buf *buf, const char *fmt, va_list ap)
{
    /* Straight into the room left; formatted again only when it was too
     * small, which the doubling of the buffer makes rare. */
    size_t room = buf->cap - buf->len;
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(buf->data + buf->len, room, fmt, copy);
    va_end(copy);
    if (n < 0)
        die("internal error: bad format '%s'", fmt);
    if ((size_t)n >= room) {
        if (!buf_room(buf, (size_t)n)) {
            /* Longer than a file's whole buffer: formatted on its own. */
            char *text = xmalloc((size_t)n + 1);
            vsnprintf(text, (size_t)n + 1, fmt, ap);
            sink_write(buf, text, (size_t)n);
            free(text);
            return;
        }
        vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    }
    buf->len += (size_t)n;
}

void buf_printf(Buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(buf, fmt, ap);
    va_end(ap);
}

/* ---- StrMap ---- */

/* FNV's low bits, which pick the slot, depend only on the low bits of
 * each byte: the high bits are folded in. */
static size_t mix_hash(uint64_t h)
{
    h ^= h >> 32;
    h *= 0x9E3779B97F4A7C15u;
    return (size_t)(h ^ (h >> 29));
}

static size_t hash_string(const char *s)
{
    uint64_t h = 14695981039346656037u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return mix_hash(h);
}

void strmap_init(StrMap *map, Arena *arena)
{
    map->arena = arena;
    map->cap = 64;
    map->used = 0;
    map->slots = arena_alloc(arena, map->cap * sizeof *map->slots);
}

/* The slot holding KEY (of HASH), or the empty one where it would go. */
static StrMapSlot *strmap_slot(const StrMap *map, const char *key, uint32_t hash)
{
    size_t mask = map->cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        StrMapSlot *slot = &map->slots[i];
        if (!slot->key || (slot->hash == hash && strcmp(slot->key, key) == 0))
            return slot;
    }
}

int *strmap_find(const StrMap *map, const char *key)
{
    StrMapSlot *slot = strmap_slot(map, key, (uint32_t)hash_string(key));
    return slot->key ? &slot->value : NULL;
}

/* Grows the table to CAP slots; the old one, once big, goes back to malloc. */
static void strmap_grow(StrMap *map, size_t cap)
{
    StrMap grown = *map;
    grown.cap = cap;
    grown.slots = arena_alloc(map->arena, grown.cap * sizeof *grown.slots);
    for (size_t i = 0; i < map->cap; i++)
        if (map->slots[i].key)
            *strmap_slot(&grown, map->slots[i].key, map->slots[i].hash) = map->slots[i];
    arena_drop(map->arena, map->slots, map->cap * sizeof *map->slots);
    *map = grown;
}

/* The slot for KEY, made (with no value yet) when absent: *ADDED says so. */
static StrMapSlot *strmap_claim(StrMap *map, const char *key, bool *added)
{
    /* Filled up to 3/4: the hashes in the slots keep probes cheap. */
    if ((map->used + 1) * 4 > map->cap * 3)
        strmap_grow(map, map->cap * 2);
    uint32_t hash = (uint32_t)hash_string(key);
    StrMapSlot *slot = strmap_slot(map, key, hash);
    *added = !slot->key;
    if (*added) {
        slot->key = key;
        slot->hash = hash;
        map->used++;
    }
    return slot;
}

void strmap_prefetch(const StrMap *map, const char *a, const char *b, const char *c)
{
    uint64_t h = 14695981039346656037u;
    for (const char *part[] = { a, b, c }, **p = part; p < part + 3; p++)
        for (const char *s = *p; *s; s++)
            h = (h ^ (unsigned char)*s) * 1099511628211u;
    uint32_t hash = (uint32_t)mix_hash(h);
#ifdef __GNUC__
    __builtin_prefetch(&map->slots[hash & (map->cap - 1)], 1);
#else
    (void)hash;
#endif
}

void strmap_reserve(StrMap *map, size_t n)
{
    size_t cap = map->cap;
    while ((n + 1) * 4 > cap * 3)
        cap *= 2;
    if (cap > map->cap)
        strmap_grow(map, cap);
}

void strmap_put(StrMap *map, const char *key, int value)
{
    bool added;
    strmap_claim(map, key, &added)->value = value;
}

bool strmap_add(StrMap *map, const char *key, int value)
{
    bool added;
    StrMapSlot *slot = strmap_claim(map, key, &added);
    if (added)
        slot->value = value;
    return added;
}
