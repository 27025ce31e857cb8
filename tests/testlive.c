/*
 * testlive.c: what the tests that hold a libvirt connection share
 */
#include <check.h>
#include <stdlib.h>

#include "conn.h"
#include "internal.h"
#include "testlive.h"
#include "testutil.h"

char *
test_stored_xml(virConnectPtr conn, const char *name)
{
    virDomainPtr dom = virDomainLookupByName(conn, name);
    ck_assert_msg(dom != NULL, "no domain '%s'", name);
    char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE |
                                    VIR_DOMAIN_XML_SECURE);
    virDomainFree(dom);
    ck_assert_ptr_nonnull(xml);
    return xml;
}

void
test_embed_open(struct test_embed *e)
{
    char *err = NULL;
    e->root = test_embed_root();
    e->uri = nst_printf("qemu:///embed?root=%s", e->root);
    e->keep = vn_conn_open(e->uri, &err);
    ck_assert_msg(e->keep != NULL, "%s", err);
}

void
test_embed_close(struct test_embed *e, const char *const *guests)
{
    for (size_t i = 0; guests && guests[i]; i++) {
        virDomainPtr dom = virDomainLookupByName(e->keep, guests[i]);
        if (dom) {
            virDomainDestroy(dom);
            virDomainFree(dom);
        }
    }
    vn_conn_close(e->keep);
    char *cmd = nst_printf("rm -rf '%s'", e->root);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    free(e->uri);
    free(e->root);
}
