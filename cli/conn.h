/*
 * conn.h: everything virt-nestify asks of libvirt
 */
#ifndef NESTIFY_CONN_H
#define NESTIFY_CONN_H

#include <stdbool.h>

#include <libvirt/libvirt.h>

#include "apply.h"
#include "nestify.h"

/*
 * Opens uri (NULL: $LIBVIRT_DEFAULT_URI, then libvirt's default) with
 * libvirt's errors kept quiet, and an event loop registered (the
 * embedded QEMU driver needs one).  Returns the connection or NULL with
 * *err set ("cannot connect to 'URI': reason").
 */
virConnectPtr vn_conn_open(const char *uri, char **err);
void vn_conn_close(virConnectPtr conn);

/* libvirt's last error message, never NULL: a copy valid until the
 * next call (per thread). */
const char *vn_libvirt_error(void);

/*
 * Looks a domain up as virsh does: by ID when it is a number, then by
 * UUID, then by name.  Returns NULL with *err set
 * ("domain 'x' not found").
 */
virDomainPtr vn_domain_lookup(virConnectPtr conn, const char *key, char **err);

/* The domain's name (owned by dom) and UUID string (into buf). */
const char *vn_domain_name(virDomainPtr dom);
void vn_domain_uuid(virDomainPtr dom, char buf[VIR_UUID_STRING_BUFLEN]);

/*
 * The domain's XML: inactive (the persistent definition) or live, always
 * with secrets (VIR_DOMAIN_XML_SECURE), so a redefine keeps graphics
 * passwords.  Returns a new string (free()) or NULL with *err set.
 */
char *vn_domain_xml(virDomainPtr dom, bool inactive, char **err);

/*
 * Defines xml with VIR_DOMAIN_DEFINE_VALIDATE.  Returns 0, or -1 with
 * *err set to libvirt's reason.
 */
int vn_domain_define(virConnectPtr conn, const char *xml, char **err);

/*
 * The host model for planning: the connection's capabilities, its domain
 * capabilities where the driver has them (fallback without error) and
 * the free hugepages of every cell; or, to plan for another host, the
 * host_caps (and domcaps) files when host_caps is not NULL.  cpu_map as
 * for vn_host_build.
 */
struct nst_host *vn_conn_host(virConnectPtr conn, const char *host_caps,
                              const char *domcaps, const char *cpu_map,
                              char **err);

/*
 * What dom holds of the host: the CPUs its vCPUs are pinned to (its
 * definition's and, when it runs, its live ones), added to pins after
 * clearing it; the same of its emulator and I/O threads in threads (when
 * not NULL); the hugepages its definition uses, added to defined, and
 * when it runs the ones its live XML uses, added to live.
 */
int vn_domain_usage(virDomainPtr dom, struct nst_cpuset *pins,
                    struct nst_cpuset *threads,
                    struct nst_page_counts *defined, struct nst_page_counts *live,
                    char **err);

/* What dom's definition (inactive) or live XML holds, as
 * vn_domain_usage counts it: pins and threads cleared first, pages
 * added to. */
int vn_domain_holding(virDomainPtr dom, bool inactive, struct nst_cpuset *pins,
                      struct nst_cpuset *threads,
                      struct nst_page_counts *pages, char **err);

/*
 * What the connection's domains hold, except the nskip domains in skip
 * (the ones being planned): the CPUs their vCPUs are pinned to, in
 * taken, those of their emulator and I/O threads in threads (when not
 * NULL), and in pages the hugepages their definitions use.  With
 * live_counts (the host's free page counts came from the connection, so
 * leave out what running domains hold), what running domains hold is
 * subtracted: the others' then count only what they will take more, the
 * skipped ones' count negative, as theirs to use again.
 */
int vn_conn_others(virConnectPtr conn, virDomainPtr *skip, size_t nskip,
                   bool live_counts, struct nst_cpuset *taken,
                   struct nst_cpuset *threads, struct nst_page_counts *pages,
                   char **err);

#endif /* NESTIFY_CONN_H */
