/*
 * testlive.c: what the tests that hold a libvirt connection share
 */
#include <check.h>

#include "testlive.h"

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
