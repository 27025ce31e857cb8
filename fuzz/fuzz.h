/*
 * fuzz.h: what the fuzz targets share with their two drivers, libFuzzer
 * (make fuzz) and fuzz/driver.c (make check replays files through the
 * same entry point with the normal compiler)
 */
#ifndef NESTIFY_FUZZ_H
#define NESTIFY_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A fixture of the source tree, read whole: $NST_SRCDIR (set by the
 * tests) or the source directory compiled in.  Returns a new
 * NUL-terminated buffer the caller frees; aborts when it cannot be read,
 * since a target without its fixed inputs would fuzz nothing.
 */
char *fuzz_read_fixture(const char *relpath, size_t *len);

/* A NUL-terminated copy of data, which the library's string APIs need. */
char *fuzz_strndup(const uint8_t *data, size_t size);

/* Stops the run as a crash would: an invariant does not hold. */
#define FUZZ_ASSERT(cond) \
    do { \
        if (!(cond)) \
            fuzz_fail(__FILE__, __LINE__, #cond); \
    } while (0)
void fuzz_fail(const char *file, int line, const char *what)
    __attribute__((noreturn));

#endif /* NESTIFY_FUZZ_H */
