/*
 * xmledit-secrets.c: a document's bytes (or any text) with the values
 * libvirt keeps secret masked
 */
#include <stdlib.h>
#include <string.h>

#include "xmledit-doc.h"

/* ------------------------------------------------------------- secrets */

/*
 * What libvirt formats only with VIR_DOMAIN_XML_SECURE ("virsh dumpxml
 * --security-info"), checked on libvirt 9.0's test driver: the passwd of
 * <graphics> (VNC, SPICE), and the <cookies> of a network disk source
 * (its own and its backing stores'), whose <cookie name='n'>VALUE</cookie>
 * values are masked.  Everything else libvirt prints either way (a disk's
 * <auth> names a libvirt secret, it holds no value).  Matched by local
 * name in any namespace: masking a look-alike costs nothing.
 */
static const struct {
    const char *element;
    const char *attr;            /* NULL: the element's content */
} secrets[] = {
    { "graphics", "passwd" },
    { "cookie", NULL },
};

/*
 * Finds the value of the attribute name (no prefix) in the start tag
 * text[start..end): *value_start and *value_end bound what is between
 * its quotes.  libxml2 has parsed these bytes, so the tag is well-formed.
 */
static bool
find_attr_value(const char *text, size_t start, size_t end, const char *name,
                size_t *value_start, size_t *value_end)
{
    size_t n = strlen(name), p = start + 1;

    while (p < end && !strchr(" \t\r\n/>", text[p]))
        p++;                                     /* the element's name */
    for (;;) {
        while (p < end && strchr(" \t\r\n", text[p]))
            p++;
        if (p >= end || text[p] == '/' || text[p] == '>')
            return false;
        size_t name_start = p;
        while (p < end && !strchr(" \t\r\n=", text[p]))
            p++;
        bool match = p - name_start == n &&
                     memcmp(text + name_start, name, n) == 0;
        while (p < end && text[p] != '\'' && text[p] != '"')
            p++;                                 /* spaces, '=', spaces */
        if (p >= end)
            return false;
        const char *close = memchr(text + p + 1, text[p], end - p - 1);
        if (!close)
            return false;
        if (match) {
            *value_start = p + 1;
            *value_end = (size_t)(close - text);
            return true;
        }
        p = (size_t)(close - text) + 1;
    }
}

/* Appends the input from *pos up to from, then "***"; moves *pos to to. */
static void
mask_range(const struct nst_doc *doc, struct nst_buf *buf, size_t *pos,
           size_t from, size_t to)
{
    nst_buf_add(buf, doc->text + *pos, from - *pos);
    nst_buf_adds(buf, "***");
    *pos = to;
}

/* Masks node's subtree, in document order (so in byte order). */
static void
mask_node(const struct nst_doc *doc, struct nst_buf *buf, size_t *pos,
          const xmlNode *node)
{
    const struct span *span = node->_private;

    if (node->type != XML_ELEMENT_NODE || !span)
        return;
    for (size_t i = 0; i < sizeof(secrets) / sizeof(*secrets); i++) {
        if (strcmp((const char *)node->name, secrets[i].element) != 0)
            continue;
        size_t from, to;
        if (secrets[i].attr &&
            find_attr_value(doc->text, span->start, span->open_end,
                            secrets[i].attr, &from, &to))
            mask_range(doc, buf, pos, from, to);
        if (!secrets[i].attr && !span->empty_tag &&
            span->close_start > span->open_end + 1) {
            /* all of the content: text, entities, CDATA alike */
            mask_range(doc, buf, pos, span->open_end + 1, span->close_start);
            return;
        }
    }
    for (const xmlNode *c = node->children; c; c = c->next)
        mask_node(doc, buf, pos, c);
}

char *
nst_doc_masked(const struct nst_doc *doc, size_t *len)
{
    struct nst_buf buf = { 0 };
    size_t pos = 0;

    mask_node(doc, &buf, &pos, doc->root);
    nst_buf_add(&buf, doc->text + pos, doc->len - pos);
    return nst_buf_finish(&buf, len);
}

/* The secrets' values found in a document. */
struct secret_values {
    char **items;
    size_t n, alloc;
};

/* Adds the value of every secret in node's subtree to values. */
static int
secret_values(const xmlNode *node, struct secret_values *values)
{
    if (node->type != XML_ELEMENT_NODE)
        return 0;
    for (size_t i = 0; i < sizeof(secrets) / sizeof(*secrets); i++) {
        if (strcmp((const char *)node->name, secrets[i].element) != 0)
            continue;
        const char *attr = secrets[i].attr;
        char *value = attr ? nsti_attr(node, attr) : nsti_text(node);
        if (!value && (!attr || xmlHasNsProp(node, (const xmlChar *)attr,
                                             NULL)))
            return -1;                           /* out of memory */
        if (!value || !*value) {
            free(value);
            continue;
        }
        if (NST_GROW(values->items, values->n + 1, values->alloc) < 0) {
            free(value);
            return -1;
        }
        values->items[values->n++] = value;
    }
    for (const xmlNode *c = node->children; c; c = c->next)
        if (secret_values(c, values) < 0)
            return -1;
    return 0;
}

char *
nst_doc_mask_text(const struct nst_doc *doc, const char *text)
{
    struct secret_values values = { 0 };
    struct nst_buf buf = { 0 };

    if (secret_values(doc->root, &values) < 0)
        buf.oom = 1;
    /* At each byte the longest secret that starts there is masked. */
    for (const char *p = text; *p && !buf.oom;) {
        size_t longest = 0;
        for (size_t i = 0; i < values.n; i++) {
            size_t len = strlen(values.items[i]);
            if (len > longest && strncmp(p, values.items[i], len) == 0)
                longest = len;
        }
        if (longest) {
            nst_buf_adds(&buf, "***");
            p += longest;
        } else {
            nst_buf_add(&buf, p++, 1);
        }
    }
    for (size_t i = 0; i < values.n; i++)
        free(values.items[i]);
    free(values.items);
    return nst_buf_finish(&buf, NULL);
}
