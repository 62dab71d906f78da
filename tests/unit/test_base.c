/* test_base.c: the arena, Buf, StrMap, path_base, the source line map and the
 * rendering of diagnostics. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

START_TEST(arena_memory_is_zeroed_aligned_and_distinct)
{
    Arena *arena = arena_new();
    char *previous = NULL;
    /* Sizes around the block size reach both the shared blocks and the
     * blocks of their own that big requests get. */
    static const size_t sizes[] = { 1, 3, 8, 17, 100, 4096, 16385, 70000, 5 };
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        char *p = arena_alloc(arena, sizes[i]);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq((uintptr_t)p % sizeof(double), 0);
        for (size_t j = 0; j < sizes[i]; j++)
            ck_assert_int_eq(p[j], 0);
        memset(p, 0xAB, sizes[i]);
        ck_assert_ptr_ne(p, previous);
        previous = p;
    }
    arena_free(arena);
    arena_free(NULL); /* allowed, like free(NULL) */
}
END_TEST

START_TEST(arena_strings)
{
    Arena *arena = arena_new();
    ck_assert_str_eq(arena_strndup(arena, "abcdef", 3), "abc");
    ck_assert_str_eq(arena_strdup(arena, "xyz"), "xyz");
    ck_assert_str_eq(arena_printf(arena, "%s-%d-%.1f", "a", 42, 0.5), "a-42-0.5");
    /* Longer than a Buf's first reservation. */
    char *long_text = arena_printf(arena, "%0300d", 7);
    ck_assert_uint_eq(strlen(long_text), 300);
    ck_assert_int_eq(long_text[299], '7');
    arena_free(arena);
}
END_TEST

START_TEST(vec_push_grows_and_keeps_items)
{
    Arena *arena = arena_new();
    int *items = NULL;
    size_t len = 0, cap = 0;
    for (int i = 0; i < 10000; i++)
        VEC_PUSH(arena, items, len, cap, i * 3);
    ck_assert_uint_eq(len, 10000);
    ck_assert_uint_ge(cap, len);
    for (int i = 0; i < 10000; i++)
        ck_assert_int_eq(items[i], i * 3);
    arena_free(arena);
}
END_TEST

START_TEST(buf_appends_and_stays_terminated)
{
    Arena *arena = arena_new();
    Buf buf;
    buf_init(&buf, arena);
    ck_assert_uint_eq(buf.len, 0);
    ck_assert_str_eq(buf.data, "");
    buf_puts(&buf, "ab");
    buf_putc(&buf, 'c');
    buf_printf(&buf, "%d%s", 12, "x");
    buf_putn(&buf, "yz!", 2);
    ck_assert_str_eq(buf.data, "abc12xyz");
    ck_assert_uint_eq(buf.len, 8);
    for (int i = 0; i < 1000; i++)
        buf_printf(&buf, "%03d", i);
    ck_assert_uint_eq(buf.len, 8 + 3000);
    ck_assert_uint_eq(strlen(buf.data), buf.len);
    ck_assert_int_eq(strncmp(buf.data + 8 + 3 * 998, "998999", 6), 0);
    /* Bytes are kept as given, NUL included. */
    buf_putn(&buf, "\0q", 2);
    ck_assert_uint_eq(buf.len, 3010);
    ck_assert_int_eq(buf.data[3009], 'q');
    ck_assert_int_eq(buf.data[3010], '\0');
    arena_free(arena);
}
END_TEST

START_TEST(strmap_finds_what_was_put)
{
    Arena *arena = arena_new();
    StrMap map;
    strmap_init(&map, arena);
    ck_assert_ptr_null(strmap_find(&map, "a"));
    strmap_put(&map, "a", 1);
    strmap_put(&map, "b", 2);
    ck_assert_int_eq(*strmap_find(&map, "a"), 1);
    ck_assert_int_eq(*strmap_find(&map, "b"), 2);
    strmap_put(&map, "a", 5);
    ck_assert_int_eq(*strmap_find(&map, "a"), 5);
    ck_assert_uint_eq(map.used, 2);
    ck_assert_ptr_null(strmap_find(&map, "c"));
    ck_assert_ptr_null(strmap_find(&map, ""));

    /* Enough keys to grow the table several times; the keys are found by
     * content, not by pointer. */
    for (int i = 0; i < 5000; i++)
        strmap_put(&map, arena_printf(arena, "key%d", i), i);
    for (int i = 0; i < 5000; i++) {
        char key[32];
        snprintf(key, sizeof key, "key%d", i);
        int *value = strmap_find(&map, key);
        ck_assert_ptr_nonnull(value);
        ck_assert_int_eq(*value, i);
    }
    ck_assert_int_eq(*strmap_find(&map, "a"), 5);
    ck_assert_ptr_null(strmap_find(&map, "key5000"));
    arena_free(arena);
}
END_TEST

START_TEST(source_lines_and_columns)
{
    Arena *arena = arena_new();
    Source src;
    const char text[] = "ab\r\n\ncd\nlast";
    source_from_text(&src, arena, "t.grad", text, sizeof text - 1);
    ck_assert_uint_eq(src.nlines, 4);
    size_t line, col, len;
    static const struct { size_t off, line, col; } where[] = {
        { 0, 1, 1 }, { 1, 1, 2 }, { 3, 1, 4 }, /* the '\n' ends line 1 */
        { 4, 2, 1 }, { 5, 3, 1 }, { 9, 4, 2 }, { 12, 4, 5 }, /* end of file */
    };
    for (size_t i = 0; i < sizeof where / sizeof *where; i++) {
        source_locate(&src, where[i].off, &line, &col);
        ck_assert_uint_eq(line, where[i].line);
        ck_assert_uint_eq(col, where[i].col);
    }
    /* Lines come without their terminator, CR included. */
    const char *s = source_line(&src, 1, &len);
    ck_assert_uint_eq(len, 2);
    ck_assert_int_eq(strncmp(s, "ab", 2), 0);
    source_line(&src, 2, &len);
    ck_assert_uint_eq(len, 0);
    s = source_line(&src, 4, &len);
    ck_assert_uint_eq(len, 4);
    ck_assert_int_eq(strncmp(s, "last", 4), 0);
    arena_free(arena);
}
END_TEST

/* docs/gradc.1 promises inputs of up to 256 MiB: one of exactly that
 * size is read whole.  A sparse file, so nothing is written, and removed
 * at once, so nothing is left behind: it is read through /dev/fd. */
START_TEST(source_reads_up_to_the_limit)
{
    const off_t limit = 256 * 1024 * 1024;
    char path[] = "source-limit-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    ck_assert_int_eq(ftruncate(fd, limit), 0);
    Arena *arena = arena_new();
    Source src;
    ck_assert(source_read(&src, arena, arena_printf(arena, "/dev/fd/%d", fd)));
    ck_assert_uint_eq(src.len, (size_t)limit);
    close(fd);
    arena_free(arena);
}
END_TEST

/* The whole text diag writes for one error at [OFF, END) of TEXT. */
static const char *render_error(Arena *arena, const char *text, uint32_t off,
                                uint32_t end)
{
    Source src;
    source_from_text(&src, arena, "t.grad", text, strlen(text));
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    Diag diag;
    diag_init(&diag, &src, f);
    diag_error(&diag, (Span){ off, end }, "bad %s", "thing");
    ck_assert_int_eq(diag.errors, 1);
    fclose(f);
    const char *result = arena_strdup(arena, out);
    free(out);
    return result;
}

START_TEST(diag_shows_line_and_caret)
{
    Arena *arena = arena_new();
    ck_assert_str_eq(render_error(arena, "input x\noutput y = foo + 1\n", 19, 22),
                     "t.grad:2:12: error: bad thing\n"
                     "output y = foo + 1\n"
                     "           ^~~\n");
    /* Tabs are copied so the caret stays under the column. */
    ck_assert_str_eq(render_error(arena, "\ty =\tfoo\n", 5, 8),
                     "t.grad:1:6: error: bad thing\n"
                     "\ty =\tfoo\n"
                     "\t   \t^~~\n");
    /* A span running past the end of the line is underlined to its end;
     * a CR before the newline is not shown. */
    ck_assert_str_eq(render_error(arena, "a = (x +\r\n  y)\r\n", 4, 14),
                     "t.grad:1:5: error: bad thing\n"
                     "a = (x +\n"
                     "    ^~~~\n");
    /* Control bytes would garble the terminal. */
    ck_assert_str_eq(render_error(arena, "a = \033x\n", 4, 5),
                     "t.grad:1:5: error: bad thing\n"
                     "a = ?x\n"
                     "    ^\n");
    arena_free(arena);
}
END_TEST

/* COUNT copies of UNIT, then TAIL. */
static const char *repeat(Arena *arena, const char *unit, int count, const char *tail)
{
    Buf buf;
    buf_init(&buf, arena);
    for (int i = 0; i < count; i++)
        buf_puts(&buf, unit);
    buf_puts(&buf, tail);
    return buf.data;
}

/* A line longer than 160 bytes shows only the 160 around the column, so
 * that a diagnostic costs the same on a line of any length. */
START_TEST(diag_shows_part_of_a_long_line)
{
    Arena *arena = arena_new();
    const char *digits = "0123456789";
    const char *line = repeat(arena, digits, 40, "\n"); /* 400 bytes */
    /* In the middle: 80 bytes before the column, 80 from it on. */
    const char *want = arena_printf(arena, "t.grad:1:201: error: bad thing\n...%s...\n   %s^~~\n",
                                    repeat(arena, digits, 16, ""),
                                    repeat(arena, " ", 80, ""));
    ck_assert_str_eq(render_error(arena, line, 200, 203), want);
    /* Near the start: no cut before. */
    want = arena_printf(arena, "t.grad:1:6: error: bad thing\n%s...\n     ^~\n",
                        repeat(arena, digits, 16, ""));
    ck_assert_str_eq(render_error(arena, line, 5, 7), want);
    /* At the end of the line: the last 160 bytes, the caret after them;
     * a span running on is underlined only as far as shown. */
    want = arena_printf(arena, "t.grad:1:401: error: bad thing\n...%s\n   %s^\n",
                        repeat(arena, digits, 16, ""), repeat(arena, " ", 160, ""));
    ck_assert_str_eq(render_error(arena, line, 400, 401), want);
    want = arena_printf(arena, "t.grad:1:391: error: bad thing\n...%s\n   %s^%s\n",
                        repeat(arena, digits, 16, ""), repeat(arena, " ", 150, ""),
                        repeat(arena, "~", 9, ""));
    ck_assert_str_eq(render_error(arena, line, 390, 401), want);
    arena_free(arena);
}
END_TEST

START_TEST(diag_stops_after_too_many_errors)
{
    Arena *arena = arena_new();
    Source src;
    source_from_text(&src, arena, "t.grad", "x\n", 2);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    Diag diag;
    diag_init(&diag, &src, f);
    for (int i = 0; i < diag.max_errors + 5; i++)
        diag_error(&diag, (Span){ 0, 1 }, "error %d", i);
    fclose(f);
    ck_assert(diag_too_many(&diag));
    ck_assert_int_eq(count_substr(out, ": error: "), diag.max_errors);
    ck_assert_int_eq(count_substr(out, "t.grad: too many errors, stopping\n"), 1);
    free(out);
    arena_free(arena);
}
END_TEST

START_TEST(path_base_is_what_follows_the_last_slash)
{
    static const struct {
        const char *path, *base;
    } cases[] = {
        { "m.grad", "m.grad" },
        { "dir/m.grad", "m.grad" },
        { "/a/b.c/m", "m" },
        { "./.m", ".m" },
        { "dir/", "" },
        { "/", "" },
        { "", "" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *base = path_base(cases[i].path);
        ck_assert_str_eq(base, cases[i].base);
        /* A pointer into PATH, not a copy: output.c measures the
         * directory part by it. */
        ck_assert_ptr_eq(base, cases[i].path + strlen(cases[i].path) -
                                   strlen(cases[i].base));
    }
}
END_TEST

TCase *tcase_base(void)
{
    TCase *tc = tcase_create("arena, buf, strmap, path_base, source, diag");
    /* source_reads_up_to_the_limit reads 256 MiB. */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, arena_memory_is_zeroed_aligned_and_distinct);
    tcase_add_test(tc, arena_strings);
    tcase_add_test(tc, vec_push_grows_and_keeps_items);
    tcase_add_test(tc, buf_appends_and_stays_terminated);
    tcase_add_test(tc, strmap_finds_what_was_put);
    tcase_add_test(tc, source_lines_and_columns);
    tcase_add_test(tc, source_reads_up_to_the_limit);
    tcase_add_test(tc, diag_shows_line_and_caret);
    tcase_add_test(tc, diag_shows_part_of_a_long_line);
    tcase_add_test(tc, diag_stops_after_too_many_errors);
    tcase_add_test(tc, path_base_is_what_follows_the_last_slash);
    return tc;
}
