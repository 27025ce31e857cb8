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

#endif /* NESTIFY_TESTLIVE_H */
