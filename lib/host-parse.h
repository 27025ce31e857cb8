/*
 * host-parse.h: what the host model's files share (host.c reads
 * capabilities, host-features.c domain capabilities and cpu_map), not
 * installed
 */
#ifndef NESTIFY_HOST_PARSE_H
#define NESTIFY_HOST_PARSE_H

#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "internal.h"
#include "xmledit.h"
#include "xmlprop.h"

/* Strings and documents freed when they go out of scope, so the many
 * early returns of a reader leak nothing. */
static inline void
host_str_cleanup(char **p)
{
    free(*p);
}

static inline void
host_doc_cleanup(xmlDoc **p)
{
    if (*p)
        xmlFreeDoc(*p);
}

#define AUTO_STR __attribute__((cleanup(host_str_cleanup))) char *
#define AUTO_DOC __attribute__((cleanup(host_doc_cleanup))) xmlDoc *

/* The element reading is xmledit.h's (nsti_child, nsti_next, nsti_attr)
 * and xmlprop.h's, as for the domain. */
#define FOR_EACH_CHILD(var, parent, name) \
    for (const xmlNode *var = nsti_child(parent, name); var; \
         var = nsti_next(var, name))

/* Whether a (may be NULL) is s. */
static inline bool
same(const char *a, const char *s)
{
    return a && strcmp(a, s) == 0;
}

/*
 * Parses text as an XML document with nsti_xml_parse (no network, no
 * file, no DOCTYPE).  label names it in errors ("capabilities").
 * Returns a document the caller frees with xmlFreeDoc, or NULL with
 * *err set.
 */
xmlDoc *host_parse_xml(const char *text, size_t len, const char *label,
                       char **err);
/* The root element if it is called name, else NULL with *err set. */
const xmlNode *host_expect_root(const xmlDoc *doc, const char *name,
                                const char *label, char **err);
/* The text of node without surrounding white space, a new string; NULL
 * when out of memory. */
char *host_trimmed_text(const xmlNode *node);
/* The vendor libvirt names so ("Intel", "AMD"). */
enum nst_vendor host_vendor_from_name(const char *name);
/* Sets has_vmx/has_svm from the <feature name> children of cpu (with
 * check_policy, only those with no policy or 'require'). */
void host_read_virt_features(struct nst_host *host, const xmlNode *cpu,
                             bool check_policy);

/* Reads domain capabilities (len bytes of text) into host: whether
 * host-passthrough is supported, and the vendor and vmx/svm of the
 * host-model CPU where the capabilities named none.  Returns 0, or -1
 * with *err set. */
int host_parse_domcaps(struct nst_host *host, const char *text, size_t len,
                       char **err);
/*
 * The sorted list of parent's <child> elements' attr values (their
 * trimmed text when attr is NULL), into *out and *n (an array even when
 * empty).  Returns 0, or -1 when out of memory.
 */
int host_sorted_names(const xmlNode *parent, const char *child,
                      const char *attr, char ***out, size_t *n);
/* Frees count names and the array. */
void host_free_names(char **names, size_t count);

#endif /* NESTIFY_HOST_PARSE_H */
