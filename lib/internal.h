/*
 * internal.h: what the library's files share and nothing outside uses;
 * not installed (the helpers the tool shares are in nestify.h)
 */
#ifndef NESTIFY_INTERNAL_H
#define NESTIFY_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "nestify.h"

/* The value of the profile's on/off key ("pinning"); false for a key
 * that is no switch. */
bool nsti_profile_switch(const struct nst_profile *p, const char *key);

/*
 * Appends a finding to list, taking target, message and fix (target and
 * fix may be NULL; message NULL means it could not be made).  id and
 * rule are static.  Returns 0, or -1 when out of memory (the strings
 * freed).
 */
int nsti_findings_add(struct nst_findings *list, enum nst_severity severity,
                     const char *id, const char *rule, char *target,
                     char *message, char *fix);

/* Appends nst_size_text(kib) ("2 MiB") to buf. */
void nsti_buf_add_size(struct nst_buf *buf, unsigned long long kib);

#endif /* NESTIFY_INTERNAL_H */
