/*
 * util.c: strings, numbers and JSON for the rest of the library
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "internal.h"

char *
nst_vprintf(const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return NULL;
    char *str = malloc((size_t)n + 1);
    if (!str)
        return NULL;
    vsnprintf(str, (size_t)n + 1, fmt, ap);
    return str;
}

char *
nst_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *str = nst_vprintf(fmt, ap);
    va_end(ap);
    return str;
}

void
nst_set_error(char **err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    free(*err);
    *err = nst_vprintf(fmt, ap);
    va_end(ap);
}

int
nst_parse_ull(const char *text, unsigned long long max,
              unsigned long long *out)
{
    if (!text || *text < '0' || *text > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno || *end || value > max)
        return -1;
    *out = value;
    return 0;
}

static void
buf_grow(struct nst_buf *buf, size_t extra)
{
    if (buf->oom)
        return;
    if (buf->len + extra + 1 <= buf->cap)
        return;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < buf->len + extra + 1)
        cap *= 2;
    char *data = realloc(buf->data, cap);
    if (!data) {
        buf->oom = 1;
        return;
    }
    buf->data = data;
    buf->cap = cap;
}

void
nst_buf_add(struct nst_buf *buf, const char *data, size_t len)
{
    buf_grow(buf, len);
    if (buf->oom)
        return;
    memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
}

void
nst_buf_adds(struct nst_buf *buf, const char *str)
{
    nst_buf_add(buf, str, strlen(str));
}

void
nst_buf_addf(struct nst_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *str = nst_vprintf(fmt, ap);
    va_end(ap);
    if (!str) {
        buf->oom = 1;
        return;
    }
    nst_buf_adds(buf, str);
    free(str);
}

char *
nst_buf_finish(struct nst_buf *buf, size_t *len)
{
    if (buf->oom) {
        free(buf->data);
        buf->data = NULL;
        return NULL;
    }
    if (!buf->data)
        nst_buf_add(buf, "", 0);
    if (buf->oom)
        return NULL;
    char *data = buf->data;
    if (len)
        *len = buf->len;
    buf->data = NULL;
    buf->len = buf->cap = 0;
    return data;
}

/* ------------------------------------------------------------------ JSON */

void
nst_json_add(struct json_object *obj, const char *key,
             struct json_object *val, bool *ok)
{
    if (!obj || !val || json_object_object_add(obj, key, val) < 0) {
        json_object_put(val);
        *ok = false;
    }
}

void
nst_json_append(struct json_object *arr, struct json_object *val, bool *ok)
{
    if (!arr || !val || json_object_array_add(arr, val) < 0) {
        json_object_put(val);
        *ok = false;
    }
}

void
nst_json_add_null(struct json_object *obj, const char *key, bool *ok)
{
    /* json-c's null is a NULL value: added as such, not as a failure. */
    if (!obj || json_object_object_add(obj, key, NULL) < 0)
        *ok = false;
}

void
nst_json_add_string(struct json_object *obj, const char *key,
                    const char *str, bool *ok)
{
    if (!str)
        nst_json_add_null(obj, key, ok);
    else
        nst_json_add(obj, key, json_object_new_string(str), ok);
}

void
nst_json_add_int(struct json_object *obj, const char *key, long long n,
                 bool *ok)
{
    nst_json_add(obj, key, json_object_new_int64(n), ok);
}

void
nst_json_add_bool(struct json_object *obj, const char *key, bool b, bool *ok)
{
    nst_json_add(obj, key, json_object_new_boolean(b), ok);
}

void
nst_json_add_cpuset(struct json_object *obj, const char *key,
                    const struct nst_cpuset *set, bool *ok)
{
    char *text = nst_cpuset_format(set);
    if (!text)
        *ok = false;
    nst_json_add_string(obj, key, text ? text : "", ok);
    free(text);
}

char *
nst_size_text(unsigned long long kib)
{
    if (kib && kib % (1024 * 1024) == 0)
        return nst_printf("%llu GiB", kib / (1024 * 1024));
    if (kib && kib % 1024 == 0)
        return nst_printf("%llu MiB", kib / 1024);
    return nst_printf("%llu KiB", kib);
}

void
nsti_buf_add_size(struct nst_buf *buf, unsigned long long kib)
{
    char *text = nst_size_text(kib);
    if (!text)
        buf->oom = 1;
    nst_buf_adds(buf, text ? text : "");
    free(text);
}

/* Every document's flags: json-c's two-space pretty form with a space
 * after ':', and '/' left alone (XPath targets and file names are full
 * of them; escaping them is allowed, not needed). */
#define DOCUMENT_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | \
                        JSON_C_TO_STRING_NOSLASHESCAPE)

char *
nst_json_format(struct json_object *val, unsigned int level, bool ok)
{
    /* json-c writes a NULL val as null. */
    const char *text = ok ? json_object_to_json_string_ext(val,
                                                           DOCUMENT_FLAGS) :
                       NULL;
    struct nst_buf buf = { 0 };

    /* json-c escapes a newline inside a string, so each one it writes
     * starts a line of the layout: indent those lines one step (two
     * spaces) per level, as json-c does for a value nested that deep. */
    for (const char *c = text; c && *c; c++) {
        nst_buf_add(&buf, c, 1);
        if (*c == '\n')
            for (unsigned int i = 0; i < level; i++)
                nst_buf_adds(&buf, "  ");
    }
    json_object_put(val);
    return text ? nst_buf_finish(&buf, NULL) : NULL;
}

char *
nst_json_finish(struct json_object *doc, bool ok)
{
    char *text = nst_json_format(doc, 0, ok);
    char *line = text ? nst_printf("%s\n", text) : NULL;
    free(text);
    return line;
}

struct json_object *
nst_json_parse(const char *text, size_t len, char **err)
{
    struct json_tokener *tok = len < INT_MAX ? json_tokener_new() : NULL;
    struct json_object *doc;

    if (!tok) {
        nst_set_error(err, len < INT_MAX ? "out of memory" : "too long");
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    /* With the NUL, which ends a number that ends the text. */
    doc = json_tokener_parse_ex(tok, text, (int)len + 1);
    enum json_tokener_error e = json_tokener_get_error(tok);
    if (!doc && e != json_tokener_success) {
        nst_set_error(err, "%s at byte %zu",
                      e == json_tokener_continue ? "unexpected end of data" :
                      json_tokener_error_desc(e),
                      json_tokener_get_parse_end(tok));
    }
    json_tokener_free(tok);
    return doc;
}

int
nst_grow(void *arrayp, size_t *alloc, size_t need, size_t size)
{
    void *array;

    if (need <= *alloc)
        return 0;
    size_t count = *alloc + *alloc / 2;
    if (count < need)
        count = need;
    if (count < 8)
        count = 8;
    if (size && count > SIZE_MAX / size)
        return -1;
    memcpy(&array, arrayp, sizeof(array));
    void *grown = realloc(array, count * size);
    if (!grown)
        return -1;
    memcpy(arrayp, &grown, sizeof(grown));
    *alloc = count;
    return 0;
}
