/*
 * internal.h: helpers shared by the library's files, not installed
 */
#ifndef NESTIFY_INTERNAL_H
#define NESTIFY_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

#include "nestify.h"

/* Returns a new formatted string the caller frees, NULL on no memory. */
char *nst_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *nst_vprintf(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

/* Stores a new formatted message in *err (when err is not NULL). */
void nst_set_error(char **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Parses a whole decimal number with no sign, spaces or junk.  Returns
 * 0, or -1 when text is not such a number or exceeds max.
 */
int nst_parse_ull(const char *text, unsigned long long max,
                  unsigned long long *out);

/*
 * Appends a finding to list, taking target, message and fix (target and
 * fix may be NULL; message NULL means it could not be made).  id and
 * rule are static.  Returns 0, or -1 when out of memory (the strings
 * freed).
 */
int nst_findings_add(struct nst_findings *list, enum nst_severity severity,
                     const char *id, const char *rule, char *target,
                     char *message, char *fix);

/* A growable string; all appends are no-ops once out of memory. */
struct nst_buf {
    char *data;
    size_t len;
    size_t cap;
    int oom;
};

void nst_buf_add(struct nst_buf *buf, const char *data, size_t len);
void nst_buf_adds(struct nst_buf *buf, const char *str);
void nst_buf_addf(struct nst_buf *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends str as a JSON string ("null" for NULL). */
void nst_buf_add_json(struct nst_buf *buf, const char *str);
/* Returns the string (caller frees) or NULL when out of memory. */
char *nst_buf_finish(struct nst_buf *buf, size_t *len);

#endif /* NESTIFY_INTERNAL_H */
