/*
 * xmledit-doc.h: the document xmledit.h edits, as xmledit.c,
 * xmledit-edit.c and xmledit-secrets.c share it; not installed
 */
#ifndef NESTIFY_XMLEDIT_DOC_H
#define NESTIFY_XMLEDIT_DOC_H

#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "internal.h"
#include "xmledit.h"

enum {
    SPAN_ATTRS = 1,      /* the element's attributes changed */
    SPAN_CHILDREN = 2,   /* children added, removed or replaced */
    SPAN_INSIDE = 4,     /* something below changed */
};

struct span {
    size_t start;        /* first byte of the node */
    size_t end;          /* one past its last byte */
    size_t open_end;     /* elements: where "/>" or ">" of the start tag is */
    size_t close_start;  /* elements with an end tag: where "</" is */
    bool empty_tag;      /* written as <x/> */
    unsigned int flags;
};

struct nst_doc {
    char *text;          /* the input, NUL-terminated */
    size_t len;
    xmlDocPtr xml;
    xmlNodePtr root;
    struct span *spans;
    size_t nspans;
    char quote;          /* the input's attribute quote character */
    char *name;          /* <name> of the domain, or NULL */
    char *uuid;          /* <uuid> of the domain, or NULL */
};

#endif /* NESTIFY_XMLEDIT_DOC_H */
