/*
 * xmledit-edit.c: reading and editing the tree of a document xmledit.c
 * parsed; every edit marks the spans it touches (xmledit.c's serialiser
 * writes them afresh)
 */
#include <stdlib.h>
#include <string.h>

#include "xmledit-doc.h"

/* ---------------------------------------------------------------- reads */

/*
 * Whether node is one of libvirt's elements (named name; any name when
 * NULL).  libvirt's domain elements are in no namespace: its parser
 * looks them up by XPath ("./cpu"), which matches no element in a
 * namespace, so libvirt 9.0 drops <x:cpu xmlns:x='urn:x'> (or <cpu
 * xmlns='urn:x'>) as unknown, and "define --validate" refuses it as
 * extra content.  Such elements, like the foreign ones libvirt keeps in
 * <metadata>, are never found here and so never edited: their bytes stay.
 */
static bool
is_element(const xmlNode *node, const char *name)
{
    return node->type == XML_ELEMENT_NODE && !node->ns &&
           (!name || strcmp((const char *)node->name, name) == 0);
}

xmlNodePtr
nsti_child(const xmlNode *parent, const char *name)
{
    if (!parent)
        return NULL;
    for (xmlNodePtr node = parent->children; node; node = node->next)
        if (is_element(node, name))
            return node;
    return NULL;
}

xmlNodePtr
nsti_next(const xmlNode *node, const char *name)
{
    for (node = node->next; node; node = node->next)
        if (is_element(node, name))
            return (xmlNodePtr)node;
    return NULL;
}

size_t
nsti_count_children(const xmlNode *parent, const char *name)
{
    size_t n = 0;
    for (xmlNodePtr node = nsti_child(parent, name); node;
         node = nsti_next(node, name))
        n++;
    return n;
}

char *
nsti_attr(const xmlNode *node, const char *name)
{
    xmlChar *value = xmlGetNoNsProp(node, (const xmlChar *)name);
    if (!value)
        return NULL;
    char *copy = nst_printf("%s", (const char *)value);
    xmlFree(value);
    return copy;
}

bool
nsti_attr_is(const xmlNode *node, const char *name, const char *value)
{
    xmlChar *have = xmlGetNoNsProp(node, (const xmlChar *)name);
    bool same = have && strcmp((const char *)have, value) == 0;
    xmlFree(have);
    return same;
}

char *
nsti_text(const xmlNode *node)
{
    xmlChar *content = xmlNodeGetContent(node);
    char *copy = nst_printf("%s", content ? (const char *)content : "");
    xmlFree(content);
    return copy;
}

/* ---------------------------------------------------------------- edits */

static void
mark(xmlNodePtr node, unsigned int flags)
{
    struct span *span = node->_private;
    if (span)
        span->flags |= flags;
    for (node = node->parent; node && node->type == XML_ELEMENT_NODE;
         node = node->parent) {
        span = node->_private;
        if (span)
            span->flags |= SPAN_INSIDE;
    }
}

int
nsti_set_attr(struct nst_doc *doc, xmlNodePtr node, const char *name,
             const char *value)
{
    if (nsti_attr_is(node, name, value))
        return 0;
    if (!xmlSetProp(node, (const xmlChar *)name, (const xmlChar *)value))
        return -1;
    mark(node, SPAN_ATTRS);
    return 1;
}

int
nsti_remove_attr(struct nst_doc *doc, xmlNodePtr node, const char *name)
{
    /* the attribute in no namespace, as nsti_attr reads it */
    xmlAttrPtr attr = xmlHasNsProp(node, (const xmlChar *)name, NULL);
    if (!attr)
        return 0;
    xmlRemoveProp(attr);
    mark(node, SPAN_ATTRS);
    return 1;
}

static bool
is_blank_text(const xmlNode *node)
{
    if (!node || node->type != XML_TEXT_NODE)
        return false;
    for (const xmlChar *c = node->content; c && *c; c++)
        if (*c != ' ' && *c != '\t' && *c != '\n' && *c != '\r')
            return false;
    return true;
}

int
nsti_set_text(struct nst_doc *doc, xmlNodePtr node, const char *text)
{
    char *have = nsti_text(node);
    if (!have)
        return -1;
    bool same = strcmp(have, text) == 0 && !xmlFirstElementChild(node);
    free(have);
    if (same)
        return 0;
    while (node->children) {
        xmlNodePtr child = node->children;
        xmlUnlinkNode(child);
        xmlFreeNode(child);
    }
    xmlNodePtr content = xmlNewText((const xmlChar *)text);
    if (!content)
        return -1;
    xmlAddChild(node, content);
    mark(node, SPAN_CHILDREN);
    return 1;
}

int
nsti_remove(struct nst_doc *doc, xmlNodePtr node)
{
    xmlNodePtr parent = node->parent;
    xmlNodePtr before = node->prev;

    if (is_blank_text(before)) {
        xmlUnlinkNode(before);
        xmlFreeNode(before);
    }
    xmlUnlinkNode(node);
    xmlFreeNode(node);
    /* An element left with only whitespace becomes empty: <cpu .../>. */
    if (!xmlFirstElementChild(parent)) {
        bool blank = true;
        for (xmlNodePtr c = parent->children; c; c = c->next)
            if (!is_blank_text(c))
                blank = false;
        while (blank && parent->children) {
            xmlNodePtr c = parent->children;
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        }
    }
    mark(parent, SPAN_CHILDREN);
    return 1;
}

/* The whitespace after the last newline of the text before node. */
static const char *
indent_of(const xmlNode *node, size_t *len)
{
    const xmlNode *prev = node->prev;
    if (!is_blank_text(prev))
        return NULL;
    const char *text = (const char *)prev->content;
    const char *nl = strrchr(text, '\n');
    if (!nl)
        return NULL;
    *len = strlen(nl + 1);
    return nl + 1;
}

/* Index of name in order; unknown names sort last. */
static size_t
order_index(const char *const *order, const char *name)
{
    size_t i;
    for (i = 0; order[i]; i++)
        if (strcmp(order[i], name) == 0)
            return i;
    return i;
}

/* Makes a whitespace text node "\n" + indent. */
static xmlNodePtr
new_indent(const char *indent, size_t len)
{
    char *text = nst_printf("\n%.*s", (int)len, indent);
    if (!text)
        return NULL;
    xmlNodePtr node = xmlNewText((const xmlChar *)text);
    free(text);
    return node;
}

/* Indentation unit of the document: that of the root's children. */
static void
indent_unit(const struct nst_doc *doc, const char **unit, size_t *len)
{
    xmlNodePtr first = xmlFirstElementChild(doc->root);
    *unit = first ? indent_of(first, len) : NULL;
    if (!*unit || *len == 0) {
        *unit = "  ";
        *len = 2;
    }
}

xmlNodePtr
nsti_insert(struct nst_doc *doc, xmlNodePtr parent, const char *name,
           const char *const *order)
{
    xmlNodePtr node = xmlNewNode(NULL, (const xmlChar *)name);
    if (!node)
        return NULL;

    /* Any element gives the indentation; only libvirt's have a place
     * in its order (a foreign element sorts last, as unknown names). */
    size_t want = order_index(order, name);
    xmlNodePtr after = NULL, first = xmlFirstElementChild(parent);
    for (xmlNodePtr c = nsti_child(parent, NULL); c; c = nsti_next(c, NULL))
        if (order_index(order, (const char *)c->name) <= want)
            after = c;

    if (first) {
        /* Siblings exist: copy their indentation. */
        size_t len = 0;
        const char *indent = indent_of(first, &len);
        if (!indent)
            indent = "", len = 0;
        xmlNodePtr ws = new_indent(indent, len);
        if (!ws)
            goto oom;
        if (after) {
            xmlAddNextSibling(after, node);
            xmlAddPrevSibling(node, ws);
        } else {
            xmlAddPrevSibling(first, node);
            xmlAddPrevSibling(first, ws);
        }
    } else {
        /* No siblings: one unit deeper than the parent. */
        const char *unit, *indent;
        size_t unit_len, len = 0;
        indent_unit(doc, &unit, &unit_len);
        indent = indent_of(parent, &len);
        if (!indent)
            indent = "", len = 0;
        char *inner = nst_printf("%.*s%.*s", (int)len, indent,
                                 (int)unit_len, unit);
        if (!inner)
            goto oom;
        xmlNodePtr open = new_indent(inner, strlen(inner));
        xmlNodePtr close = new_indent(indent, len);
        free(inner);
        if (!open || !close) {
            xmlFreeNode(open);
            xmlFreeNode(close);
            goto oom;
        }
        /* Drop whitespace-only text, so <x>\n</x> gets a clean layout. */
        while (parent->children && is_blank_text(parent->children)) {
            xmlNodePtr c = parent->children;
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        }
        xmlAddChild(parent, open);
        xmlAddChild(parent, node);
        xmlAddChild(parent, close);
    }
    mark(parent, SPAN_CHILDREN);
    return node;

 oom:
    xmlFreeNode(node);
    return NULL;
}

xmlNodePtr
nsti_ensure(struct nst_doc *doc, xmlNodePtr parent, const char *name,
           const char *const *order, bool *created)
{
    xmlNodePtr node = nsti_child(parent, name);
    if (created)
        *created = !node;
    return node ? node : nsti_insert(doc, parent, name, order);
}

int
nsti_set_attr_ordered(struct nst_doc *doc, xmlNodePtr node, const char *name,
                     const char *value, const char *const *order)
{
    bool is_new = !xmlHasNsProp(node, (const xmlChar *)name, NULL);
    int ret = nsti_set_attr(doc, node, name, value);
    if (ret <= 0 || !is_new)
        return ret;
    /* xmlSetProp appended it: move it before the first attribute that
     * libvirt writes after it. */
    xmlAttrPtr attr = xmlHasNsProp(node, (const xmlChar *)name, NULL);
    size_t want = order_index(order, name);
    xmlAttrPtr before = node->properties;
    while (before != attr &&
           order_index(order, (const char *)before->name) <= want)
        before = before->next;
    if (before == attr)
        return 1;
    attr->prev->next = NULL;          /* it was last */
    attr->prev = before->prev;
    attr->next = before;
    if (before->prev)
        before->prev->next = attr;
    else
        node->properties = attr;
    before->prev = attr;
    return 1;
}
