/*
 * util.c: strings and numbers for the rest of the library
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void
nst_buf_add_json(struct nst_buf *buf, const char *str)
{
    if (!str) {
        nst_buf_adds(buf, "null");
        return;
    }
    nst_buf_adds(buf, "\"");
    for (const unsigned char *c = (const unsigned char *)str; *c; c++) {
        switch (*c) {
        case '"': nst_buf_adds(buf, "\\\""); break;
        case '\\': nst_buf_adds(buf, "\\\\"); break;
        case '\n': nst_buf_adds(buf, "\\n"); break;
        case '\t': nst_buf_adds(buf, "\\t"); break;
        case '\r': nst_buf_adds(buf, "\\r"); break;
        default:
            if (*c < 0x20)
                nst_buf_addf(buf, "\\u%04x", *c);
            else
                nst_buf_add(buf, (const char *)c, 1);
        }
    }
    nst_buf_adds(buf, "\"");
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
