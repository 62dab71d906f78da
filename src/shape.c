/* shape.c: the shapes of values, shared by every stage from check.c on. */
#include "gradc.h"

bool shape_equal(Shape a, Shape b)
{
    if (a.rank != b.rank)
        return false;
    for (int i = 0; i < a.rank; i++)
        if (a.dim[i] != b.dim[i])
            return false;
    return true;
}

long shape_size(Shape s)
{
    long n = 1;
    for (int i = 0; i < s.rank; i++)
        n *= s.dim[i];
    return n;
}

const char *shape_str(Arena *arena, Shape s)
{
    switch (s.rank) {
    case 0: return "scalar";
    case 1: return arena_printf(arena, "[%ld]", s.dim[0]);
    default: return arena_printf(arena, "[%ld, %ld]", s.dim[0], s.dim[1]);
    }
}
