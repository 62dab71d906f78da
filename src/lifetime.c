/* lifetime.c: which local arrays can share storage.  The emitter numbers
 * the places where a function's body reads and writes arrays (positions)
 * and gives each array the span from the position that writes it first to
 * the last that reads it.  Arrays of one size whose spans do not overlap
 * share a slot; an array written where another is last read does not take
 * that one's slot, so no statement reads and writes the same memory.
 *
 * Only equal sizes share: every slot then has the exact size of each array
 * it holds, and the generated code declares it as it is used.  The layers
 * of a network have equal sizes, so its stack follows its width, not its
 * depth. */
#include "gradc.h"

/* A slot in use, and the last position its array is live at. */
typedef struct Busy {
    long last;
    int slot;
} Busy;

/* The busy slots form a min-heap on 'last': the next to become free on top. */
static void heap_push(Busy *heap, int *len, Busy b)
{
    int i = (*len)++;
    while (i > 0 && heap[(i - 1) / 2].last > b.last) {
        heap[i] = heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap[i] = b;
}

static Busy heap_pop(Busy *heap, int *len)
{
    Busy top = heap[0], b = heap[--*len];
    int i = 0;
    for (;;) {
        int child = 2 * i + 1;
        if (child >= *len)
            break;
        if (child + 1 < *len && heap[child + 1].last < heap[child].last)
            child++;
        if (heap[child].last >= b.last)
            break;
        heap[i] = heap[child];
        i = child;
    }
    heap[i] = b;
    return top;
}

/* The free slots of each size: an open-addressing table from a size to the
 * first free slot of that size, the others chained through next_free. */
typedef struct FreeSlots {
    long *size;      /* 0: an empty entry */
    int *head;       /* -1: none free now */
    size_t mask;
    int *next_free;
} FreeSlots;

static int *free_head(FreeSlots *f, long size)
{
    size_t h = (size_t)size * 0x9E3779B97F4A7C15u;
    for (size_t i = (h >> 17) & f->mask;; i = (i + 1) & f->mask) {
        if (f->size[i] == size)
            return &f->head[i];
        if (f->size[i] == 0) {
            f->size[i] = size;
            f->head[i] = -1;
            return &f->head[i];
        }
    }
}

int lifetime_slots(const Lifetime *life, int n, int *slot, Arena *arena)
{
    size_t cap = 4;
    while (cap < 2 * (size_t)n)
        cap *= 2;
    FreeSlots f = { arena_alloc(arena, cap * sizeof *f.size),
                    arena_alloc(arena, cap * sizeof *f.head), cap - 1,
                    arena_alloc(arena, ((size_t)n + 1) * sizeof *f.next_free) };
    long *slot_size = arena_alloc(arena, ((size_t)n + 1) * sizeof *slot_size);
    Busy *busy = arena_alloc(arena, ((size_t)n + 1) * sizeof *busy);
    int nbusy = 0, nslots = 0;
    for (int i = 0; i < n; i++) {
        if (life[i].size <= 0 || life[i].last < life[i].first ||
            (i > 0 && life[i].first < life[i - 1].first))
            die("internal error: lifetime %d is not in order", i);
        while (nbusy > 0 && busy[0].last < life[i].first) {
            int s = heap_pop(busy, &nbusy).slot;
            int *head = free_head(&f, slot_size[s]);
            f.next_free[s] = *head;
            *head = s;
        }
        int *head = free_head(&f, life[i].size);
        if (*head >= 0) {
            slot[i] = *head;
            *head = f.next_free[*head];
        } else {
            slot[i] = nslots;
            slot_size[nslots++] = life[i].size;
        }
        heap_push(busy, &nbusy, (Busy){ life[i].last, slot[i] });
    }
    return nslots;
}
