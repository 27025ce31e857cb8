/*
 * xmlprop.c: typed attribute readers and libvirt's size units (see
 * xmlprop.h)
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "xmledit.h"
#include "xmlprop.h"

/* The attribute's value (caller frees) or NULL; with *ret set to what
 * the reader returns when there is nothing to read. */
static char *
prop_value(const xmlNode *node, const char *name, unsigned int flags,
           const char *what, int *ret, char **err)
{
    char *value = node ? nsti_attr(node, name) : NULL;

    *ret = 0;
    if (!value && (flags & NST_PROP_REQUIRED)) {
        if (what)
            nst_set_error(err, "missing %s of %s", name, what);
        else
            nst_set_error(err, "missing %s of <%s>", name,
                          node ? (const char *)node->name : "?");
        *ret = -1;
    }
    return value;
}

/* Frees value and returns -1 with the "invalid" message. */
static int
prop_invalid(const xmlNode *node, const char *name, char *value,
             const char *what, char **err)
{
    if (what)
        nst_set_error(err, "invalid %s '%s' of %s", name, value, what);
    else
        nst_set_error(err, "invalid %s '%s' of <%s>", name, value,
                      (const char *)node->name);
    free(value);
    return -1;
}

int
nsti_prop_ull(const xmlNode *node, const char *name, unsigned long long max,
             unsigned int flags, const char *what, unsigned long long *out,
             char **err)
{
    int ret;
    char *value = prop_value(node, name, flags, what, &ret, err);
    unsigned long long n;

    if (!value)
        return ret;
    if (nst_parse_ull(value, max, &n) < 0 ||
        (!n && (flags & NST_PROP_NONZERO)))
        return prop_invalid(node, name, value, what, err);
    free(value);
    *out = n;
    return 1;
}

int
nsti_prop_enum(const xmlNode *node, const char *name,
              const char *const *values, unsigned int flags,
              const char *what, int *out, char **err)
{
    int ret;
    char *value = prop_value(node, name, flags, what, &ret, err);

    if (!value)
        return ret;
    for (int i = 0; values[i]; i++) {
        if (strcmp(values[i], value) == 0) {
            free(value);
            *out = i;
            return 1;
        }
    }
    return prop_invalid(node, name, value, what, err);
}

int
nsti_prop_cpuset(const xmlNode *node, const char *name, unsigned int flags,
                const char *what, struct nst_cpuset *out, char **err)
{
    int ret;
    char *value = prop_value(node, name, flags, what, &ret, err);

    if (!value)
        return ret;
    if (nst_cpuset_parse(value, out, NULL) < 0)
        return prop_invalid(node, name, value, what, err);
    free(value);
    return 1;
}

int
nsti_prop_kib(const xmlNode *node, const char *name, unsigned int flags,
             const char *what, unsigned long long *kib, char **err)
{
    int ret;
    char *value = prop_value(node, name, flags, what, &ret, err);
    unsigned long long n;

    if (!value)
        return ret;
    char *unit = nsti_attr(node, "unit");
    bool ok = nsti_scaled_kib(value, unit, &n) == 0 &&
              (n || !(flags & NST_PROP_NONZERO));
    free(unit);
    if (!ok)
        return prop_invalid(node, name, value, what, err);
    free(value);
    *kib = n;
    return 1;
}

/* ------------------------------------------------------------- units */

/* ASCII only: a unit is not text in the user's locale. */
static bool
same_word(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}

int
nsti_unit_bytes(const char *unit, unsigned long long *bytes)
{
    /* libvirt's rule (virScaleInteger), any case: "b", "byte", "bytes";
     * or a power letter alone or with "iB" (1024) or with "B" (1000). */
    static const char powers[] = "kmgtpe";
    const char *power = NULL;
    unsigned long long base;

    if (same_word(unit, "b") || same_word(unit, "byte") ||
        same_word(unit, "bytes")) {
        *bytes = 1;
        return 0;
    }
    for (size_t i = 0; unit[0] && powers[i]; i++)
        if (unit[0] == powers[i] || unit[0] == powers[i] - 'a' + 'A')
            power = &powers[i];
    if (!power)
        return -1;
    if (!unit[1] || same_word(unit + 1, "iB"))
        base = 1024;
    else if (same_word(unit + 1, "B"))
        base = 1000;
    else
        return -1;
    *bytes = 1;
    for (const char *p = powers; p <= power; p++)
        *bytes *= base;
    return 0;
}

int
nsti_scaled_kib(const char *value, const char *unit, unsigned long long *kib)
{
    const unsigned long long max_bytes = LLONG_MAX;
    unsigned long long n, unit_bytes = 1024;

    if (!value || (unit && *unit && nsti_unit_bytes(unit, &unit_bytes) < 0) ||
        nst_parse_ull(value, max_bytes / unit_bytes, &n) < 0)
        return -1;
    unsigned long long bytes = n * unit_bytes;
    unsigned long long k = bytes / 1024 + (bytes % 1024 != 0);
    if (k > max_bytes / 1024)
        return -1;
    *kib = k;
    return 0;
}

int
nsti_read_kib(const xmlNode *node, unsigned long long *kib)
{
    char *text = nsti_text(node);
    char *unit = nsti_attr(node, "unit");
    int ret = nsti_scaled_kib(text, unit, kib);
    free(text);
    free(unit);
    return ret;
}
