/*
 * testlive.h: what the tests that hold a libvirt connection share
 */
#ifndef NESTIFY_TESTLIVE_H
#define NESTIFY_TESTLIVE_H

#include <libvirt/libvirt.h>

/* The persistent definition of domain name, secrets included, as
 * "virsh dumpxml --inactive --security-info" prints it; fails the test
 * when there is none.  The caller frees it. */
char *test_stored_xml(virConnectPtr conn, const char *name);

/*
 * libvirt's QEMU driver in this process (qemu:///embed) with its state
 * under a fresh root (test_embed_root).  keep is a connection held for
 * the whole suite: a running guest is only known to the embedded driver
 * while a connection to it stays open.
 */
struct test_embed {
    char *root;              /* /tmp/nst-embed-XXXXXX */
    char *uri;               /* qemu:///embed?root=ROOT */
    virConnectPtr keep;
};
void test_embed_open(struct test_embed *e);
/* Destroys the named guests (NULL-terminated) still running, closes the
 * connection and removes the root. */
void test_embed_close(struct test_embed *e, const char *const *guests);

#endif /* NESTIFY_TESTLIVE_H */
