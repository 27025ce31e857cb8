/*
 * internal.h: helpers shared by the library's files, not installed
 */
#ifndef NESTIFY_INTERNAL_H
#define NESTIFY_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
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

/* The value of the profile's on/off key ("pinning"); false for a key
 * that is no switch. */
bool nst_profile_switch(const struct nst_profile *p, const char *key);

/*
 * Appends a finding to list, taking target, message and fix (target and
 * fix may be NULL; message NULL means it could not be made).  id and
 * rule are static.  Returns 0, or -1 when out of memory (the strings
 * freed).
 */
int nst_findings_add(struct nst_findings *list, enum nst_severity severity,
                     const char *id, const char *rule, char *target,
                     char *message, char *fix);

/*
 * Makes room for need elements of size bytes in the array whose address
 * is arrayp (a T ** passed as void *) and whose allocated count is
 * *alloc, growing it by half again and at least to need, as git's
 * ALLOC_GROW does.  Returns 0, or -1 when out of memory, the array and
 * *alloc then as they were.  NST_GROW(array, need, alloc) is the call
 * with the element size filled in.
 */
int nst_grow(void *arrayp, size_t *alloc, size_t need, size_t size);
#define NST_GROW(array, need, alloc) \
    nst_grow(&(array), &(alloc), (need), sizeof(*(array)))

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
/* Returns the string (caller frees) or NULL when out of memory. */
char *nst_buf_finish(struct nst_buf *buf, size_t *len);

/*
 * JSON documents are json-c objects.  The adders put val under key of obj
 * (an object) or append it to arr (an array), taking val; each sets *ok
 * to false when out of memory, counting a NULL container or a NULL val
 * as that, so a document is built straight through and checked once.
 */
struct json_object;
void nst_json_add(struct json_object *obj, const char *key,
                  struct json_object *val, bool *ok);
void nst_json_append(struct json_object *arr, struct json_object *val,
                     bool *ok);
void nst_json_add_null(struct json_object *obj, const char *key, bool *ok);
/* The string str, or null for NULL. */
void nst_json_add_string(struct json_object *obj, const char *key,
                         const char *str, bool *ok);
void nst_json_add_int(struct json_object *obj, const char *key, long long n,
                      bool *ok);
void nst_json_add_bool(struct json_object *obj, const char *key, bool b,
                       bool *ok);

/*
 * The text of val as every --output json document is written
 * (docs/json.md, "Format"), as it appears nested level deep in one (a
 * document written in pieces is then what json-c writes for the whole),
 * without a final newline; NULL when !ok or out of memory.  Takes val;
 * a NULL val is JSON's null.
 */
char *nst_json_format(struct json_object *val, unsigned int level, bool ok);
/* A whole document: nst_json_format at level 0 and a final newline. */
char *nst_json_finish(struct json_object *doc, bool ok);

/*
 * Parses text (len bytes and a NUL) as one JSON document, strictly
 * (RFC 8259: no comments, no trailing commas, nothing after it; nesting
 * bounded by json-c).  Returns it (json_object_put), or NULL with *err
 * set ("unexpected character at byte 7"); the document null is NULL
 * with *err left alone.
 */
struct json_object *nst_json_parse(const char *text, size_t len,
                                   char **err);

#endif /* NESTIFY_INTERNAL_H */
