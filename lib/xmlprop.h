/*
 * xmlprop.h: typed attribute readers, in the style of libvirt's
 * virXMLProp* (virxml.h), shared by the host (host.c) and the domain
 * (domain.c) parsers; not installed
 *
 * Each reads one attribute of one element and checks it against its type,
 * its bounds and its flags.  Each returns 1 when the attribute was read
 * into *out, 0 when it is absent and not required (*out untouched), -1
 * when it is refused, with *err (err may be NULL) set to
 * "invalid NAME 'VALUE' of WHAT" or "missing NAME of WHAT", WHAT being
 * the caller's name for the element ("cpu 3 in capabilities"), or
 * "<element>" when what is NULL.
 *
 * libvirt's size units (<memory unit='GiB'>, <page unit='M'>) are read
 * here too, in one place.
 */
#ifndef NESTIFY_XMLPROP_H
#define NESTIFY_XMLPROP_H

#include <libxml/tree.h>

#include "nestify.h"

enum nst_prop_flags {
    NST_PROP_REQUIRED = 1 << 0,  /* absent is an error */
    NST_PROP_NONZERO = 1 << 1,   /* zero is an error (numbers, sizes) */
};

/* A whole decimal number from 0 to max. */
int nsti_prop_ull(const xmlNode *node, const char *name,
                 unsigned long long max, unsigned int flags,
                 const char *what, unsigned long long *out, char **err);

/* One of values (NULL-terminated, compared exactly): *out is its index. */
int nsti_prop_enum(const xmlNode *node, const char *name,
                  const char *const *values, unsigned int flags,
                  const char *what, int *out, char **err);

/* A CPU or node list ("0-3,^2,8"), as nst_cpuset_parse reads it. */
int nsti_prop_cpuset(const xmlNode *node, const char *name,
                    unsigned int flags, const char *what,
                    struct nst_cpuset *out, char **err);

/* A size in attribute name, its unit in the attribute "unit" (KiB
 * without one), as KiB by nsti_scaled_kib: <cell memory='4' unit='GiB'/>,
 * <page size='2' unit='M'/>. */
int nsti_prop_kib(const xmlNode *node, const char *name, unsigned int flags,
                 const char *what, unsigned long long *kib, char **err);

/*
 * libvirt's scaled-integer units ("KiB", "M", "GB", "bytes", "eib", ...)
 * as a multiplier of bytes, by libvirt's own rule (virScaleInteger).
 * Returns 0, or -1 for a unit libvirt rejects.
 */
int nsti_unit_bytes(const char *unit, unsigned long long *bytes);

/*
 * A memory or hugepage size, value in unit (NULL or "": KiB), as KiB by
 * libvirt's domain rule: at most LLONG_MAX bytes, rounded up to whole
 * KiB, and those KiB at most LLONG_MAX / 1024.  Returns 0, or -1 when
 * value is not a number, the unit unknown or the size too large
 * (tests/test-define.c holds this against libvirt's own parser).
 */
int nsti_scaled_kib(const char *value, const char *unit,
                   unsigned long long *kib);

/* Reads an element like <memory unit='GiB'>8</memory> as KiB (the
 * default unit is KiB).  Returns 0, or -1 when it is not a size. */
int nsti_read_kib(const xmlNode *node, unsigned long long *kib);

#endif /* NESTIFY_XMLPROP_H */
