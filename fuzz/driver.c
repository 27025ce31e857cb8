/*
 * driver.c: a main() for the fuzz targets without libFuzzer
 *
 * Feeds each file named on the command line (or every file of a
 * directory named there) to LLVMFuzzerTestOneInput once, so that make
 * check builds every target with the normal compiler and replays the
 * seeds and the regression inputs under ASan or valgrind.  Prints one
 * line with the number of inputs; any crash is the test failing.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int
run_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    size_t cap = 4096, n = 0;
    unsigned char *buf = malloc(cap);

    if (!fp || !buf) {
        fprintf(stderr, "driver: cannot read %s\n", path);
        if (fp)
            fclose(fp);
        free(buf);
        return -1;
    }
    for (;;) {
        n += fread(buf + n, 1, cap - n, fp);
        if (n < cap)
            break;
        cap *= 2;
        unsigned char *bigger = realloc(buf, cap);
        if (!bigger)
            abort();
        buf = bigger;
    }
    if (ferror(fp)) {
        fprintf(stderr, "driver: cannot read %s\n", path);
        fclose(fp);
        free(buf);
        return -1;
    }
    fclose(fp);
    /* Exactly n bytes, so ASan sees a read past the input. */
    unsigned char *exact = malloc(n ? n : 1);
    if (!exact)
        abort();
    if (n)
        memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir, in name order (deterministic runs). */
static int
run_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0;
    int ret = 0;

    if (!d) {
        fprintf(stderr, "driver: cannot open %s\n", dir);
        return -1;
    }
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char **more = realloc(names, (n + 1) * sizeof(*names));
        if (!more)
            abort();
        names = more;
        if (asprintf(&names[n++], "%s/%s", dir, e->d_name) < 0)
            abort();
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(names[i]) < 0)
                ret = -1;
            else
                (*count)++;
        }
        free(names[i]);
    }
    free(names);
    return ret;
}

int
main(int argc, char **argv)
{
    size_t count = 0;
    int ret = 0;

    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) < 0) {
            fprintf(stderr, "driver: cannot read %s\n", argv[i]);
            ret = 1;
        } else if (S_ISDIR(st.st_mode)) {
            if (run_dir(argv[i], &count) < 0)
                ret = 1;
        } else if (run_file(argv[i]) < 0) {
            ret = 1;
        } else {
            count++;
        }
    }
    printf("%s: %zu inputs\n", argv[0], count);
    return ret;
}
