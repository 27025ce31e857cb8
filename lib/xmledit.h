/*
 * xmledit.h: formatting-preserving edits of a domain document
 *
 * A struct nst_doc keeps the original bytes next to the libxml2 DOM and
 * knows, for every node that came from the input, where its bytes are.
 * Edits go through the helpers below, which remember what they touched;
 * nst_doc_serialize() then copies every untouched node's bytes verbatim
 * and writes only touched and new nodes.  So a run changes nothing but
 * what a rule changed: not the quote style, not a comment, not an entity.
 *
 * New elements are put where libvirt would put them (its element order,
 * given as a NULL-terminated list of names) with their siblings'
 * indentation; a removed element takes the whitespace before it along.
 */
#ifndef NESTIFY_XMLEDIT_H
#define NESTIFY_XMLEDIT_H

#include <libxml/tree.h>

#include "nestify.h"

/*
 * Parses text with libxml2 safely: never the network or a file, any
 * DOCTYPE refused before its declarations are read (so no entity is ever
 * loaded or expanded), whitespace kept.  Returns a document the caller
 * frees with xmlFreeDoc, or NULL with *err set to "line N: message" (or
 * *doctype true when a DOCTYPE was the reason).
 */
xmlDocPtr nsti_xml_parse(const char *text, size_t len, bool *doctype,
                        char **err);

/* The <domain> root element; owned by doc. */
xmlNodePtr nsti_doc_root(const struct nst_doc *doc);

/* First element child of parent named name (any name when NULL); NULL
 * when parent is NULL, so lookups chain: nsti_child(nsti_child(r, "cpu"),
 * "numa"). */
xmlNodePtr nsti_child(const xmlNode *parent, const char *name);
/* Next element sibling after node named name (any name when NULL). */
xmlNodePtr nsti_next(const xmlNode *node, const char *name);
/* Number of element children named name. */
size_t nsti_count_children(const xmlNode *parent, const char *name);

/* Returns a new copy of the attribute (caller frees) or NULL. */
char *nsti_attr(const xmlNode *node, const char *name);
/* Returns true when the attribute exists and equals value. */
bool nsti_attr_is(const xmlNode *node, const char *name, const char *value);
/* Returns a new copy of the element's text (caller frees), never NULL
 * unless out of memory. */
char *nsti_text(const xmlNode *node);

/*
 * Each edit returns 1 when it changed the document, 0 when the document
 * already was that way, -1 when out of memory.
 */
int nsti_set_attr(struct nst_doc *doc, xmlNodePtr node, const char *name,
                 const char *value);
/* nsti_set_attr, a new attribute put where libvirt writes it: before
 * the first one that comes after it in order (unknown names last). */
int nsti_set_attr_ordered(struct nst_doc *doc, xmlNodePtr node,
                         const char *name, const char *value,
                         const char *const *order);
int nsti_remove_attr(struct nst_doc *doc, xmlNodePtr node, const char *name);
/* Replaces the element's content with text. */
int nsti_set_text(struct nst_doc *doc, xmlNodePtr node, const char *text);
/* Removes node and the whitespace before it. */
int nsti_remove(struct nst_doc *doc, xmlNodePtr node);

/*
 * Inserts a new empty element named name under parent at libvirt's
 * position given by order (after any existing elements of the same
 * name).  Returns the new node (owned by the document) or NULL when out
 * of memory.
 */
xmlNodePtr nsti_insert(struct nst_doc *doc, xmlNodePtr parent,
                      const char *name, const char *const *order);

/* The first child named name, inserted by nsti_insert when missing;
 * *created (optional) tells which. */
xmlNodePtr nsti_ensure(struct nst_doc *doc, xmlNodePtr parent,
                      const char *name, const char *const *order,
                      bool *created);

/* libvirt's element orders (from its XML formatter). */
extern const char *const nst_order_domain[];
extern const char *const nst_order_cpu[];
extern const char *const nst_order_cputune[];
extern const char *const nst_order_numatune[];
extern const char *const nst_order_memory_backing[];
extern const char *const nst_order_memtune[];
extern const char *const nst_order_features[];
extern const char *const nst_order_hyperv[];
extern const char *const nst_order_clock[];
/* <devices> and the device parts the I/O rules write (rules-io.c). */
extern const char *const nst_order_devices[];
extern const char *const nst_order_disk[];
extern const char *const nst_order_disk_driver[];
extern const char *const nst_order_controller[];
extern const char *const nst_order_controller_driver[];
extern const char *const nst_order_interface[];
extern const char *const nst_order_interface_driver[];

#endif /* NESTIFY_XMLEDIT_H */
