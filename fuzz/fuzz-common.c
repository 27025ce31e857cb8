/*
 * fuzz-common.c: fixtures and checks for the fuzz targets
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#ifndef NST_FUZZ_SRCDIR
#define NST_FUZZ_SRCDIR "."
#endif

void
fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, what);
    abort();
}

char *
fuzz_read_fixture(const char *relpath, size_t *len)
{
    const char *dir = getenv("NST_SRCDIR");
    size_t cap = 4096, n = 0;
    char *path, *buf;
    FILE *fp;

    if (!dir || !*dir)
        dir = NST_FUZZ_SRCDIR;
    if (asprintf(&path, "%s/%s", dir, relpath) < 0)
        abort();
    fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "fuzz: cannot open %s (set NST_SRCDIR)\n", path);
        abort();
    }
    buf = malloc(cap);
    for (;;) {
        if (!buf)
            abort();
        n += fread(buf + n, 1, cap - n - 1, fp);
        if (n < cap - 1)
            break;
        cap *= 2;
        buf = realloc(buf, cap);
    }
    if (ferror(fp))
        abort();
    fclose(fp);
    free(path);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

char *
fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}
