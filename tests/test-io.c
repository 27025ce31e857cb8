/*
 * test-io.c: the I/O rules (lib/rules-io.c): iothreads, disk-cache,
 * net-queues and balloon, one behaviour per test
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

/* test-io plans on the Intel host. */
#define apply(res, xml, ...) \
    test_apply(res, xml, "intel-e5-2697v4", __VA_ARGS__)

#define DOMAIN(vcpus, head, devices) \
    "<domain type='kvm'>\n" \
    "  <name>t</name>\n" \
    "  <memory unit='KiB'>4194304</memory>\n" \
    head \
    "  <vcpu placement='static'>" vcpus "</vcpu>\n" \
    "  <os>\n" \
    "    <type arch='x86_64'>hvm</type>\n" \
    "  </os>\n" \
    "  <devices>\n" \
    devices \
    "  </devices>\n" \
    "</domain>\n"

#define DISK(type, source, dev, bus, extra) \
    "    <disk type='" type "' device='disk'>\n" \
    "      <driver name='qemu' type='raw'/>\n" \
    "      " source "\n" \
    "      <target dev='" dev "' bus='" bus "'/>\n" \
    extra \
    "    </disk>\n"

static const char disks_xml[] = DOMAIN("4", "",
    DISK("file", "<source file='/i/a.img'/>", "vda", "virtio", "")
    DISK("block", "<source dev='/dev/sdb'/>", "vdb", "virtio", "")
    DISK("file", "<source file='/i/c.img'/>", "sda", "scsi", "")
    DISK("file", "<source file='/i/d.img'/>", "sdb", "sata", "")
    "    <controller type='scsi' index='0' model='virtio-scsi'/>\n"
    "    <controller type='sata' index='0'/>\n");

/* ------------------------------------------------------------ iothreads */

START_TEST(test_iothreads_shared)
{
    struct test_applied res;
    apply(&res, disks_xml, "perf", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "  <vcpu placement='static'>4</vcpu>\n  <iothreads>1</iothreads>\n"
        "  <cputune>");
    HAS(res, "<driver name='qemu' type='raw' cache='none' io='native' "
        "iothread='1'/>\n      <source file='/i/a.img'/>");
    HAS(res, "<source dev='/dev/sdb'/>");
    HAS(res, "<controller type='scsi' index='0' model='virtio-scsi'>\n"
        "      <driver iothread='1'/>\n    </controller>");
    /* SATA: cache and io, but QEMU has no I/O thread for it */
    HAS(res, "<driver name='qemu' type='raw' cache='none' io='native'/>\n"
        "      <source file='/i/d.img'/>");
    LACKS(res, "<controller type='sata' index='0'>");
    SAYS(res, "vda on 1, vdb on 1, virtio-scsi controller 0 on 1");
    /* pinned by the pinning rule, on the housekeeping core, never on a
     * vCPU's CPU */
    HAS(res, "<iothreadpin iothread='1' cpuset='0,36'/>");
    ck_assert(!nst_cpuset_is_empty(&res.plan.iothreads));
    ck_assert(!nst_cpuset_intersects(&res.plan.iothreads, &res.plan.vcpus));
    test_applied_clear(&res);
}
END_TEST

START_TEST(test_iothreads_per_disk_bounded)
{
    struct test_applied res;
    apply(&res, disks_xml, "perf", NULL, false, "iothreads=per-disk",
          "iothreads-max=2", NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<iothreads>2</iothreads>");
    HAS(res, "iothread='1'/>\n      <source file='/i/a.img'/>");
    HAS(res, "iothread='2'/>\n      <source dev='/dev/sdb'/>");
    HAS(res, "<driver iothread='1'/>");      /* the third, round robin */
    HAS(res, "<iothreadpin iothread='1' cpuset='0,36'/>\n"
        "    <iothreadpin iothread='2' cpuset='0,36'/>");
    SAYS(res, "2 I/O threads (one per device)");
    test_applied_clear(&res);

    apply(&res, disks_xml, "perf", NULL, false, "iothreads=per-disk", NULL);
    HAS(res, "<iothreads>3</iothreads>");
    test_applied_clear(&res);
}
END_TEST

START_TEST(test_iothreads_of_the_domain_kept)
{
    static const char xml[] = DOMAIN("2", "  <iothreads>2</iothreads>\n",
        DISK("file", "<source file='/i/a.img'/>", "vda", "virtio", "")
        "    <disk type='file' device='disk'>\n"
        "      <driver name='qemu' type='raw' iothread='2'/>\n"
        "      <source file='/i/b.img'/>\n"
        "      <target dev='vdb' bus='virtio'/>\n"
        "    </disk>\n");
    struct test_applied res;
    apply(&res, xml, "perf", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<iothreads>2</iothreads>");
    HAS(res, "<driver name='qemu' type='raw' cache='none' io='native'/>\n"
        "      <source file='/i/a.img'/>");
    HAS(res, "iothread='2'/>\n      <source file='/i/b.img'/>");
    SAYS_NOT(res, "iothreads /domain/iothreads");
    /* the operator's threads are pinned like ours */
    HAS(res, "<iothreadpin iothread='2' cpuset='0,36'/>");
    test_applied_clear(&res);

    /* nested leaves I/O alone */
    apply(&res, disks_xml, "nested", NULL, false, NULL);
    LACKS(res, "iothread");
    LACKS(res, "cache=");
    test_applied_clear(&res);
}
END_TEST

/* Two domains planned in a row, the second with only the first's vCPUs
 * taken, as a bulk run counts them (cli/bulk.c, nst_holdings): no vCPU
 * of either lands on an I/O thread CPU of the other, since the I/O
 * threads live on the housekeeping CPUs no placement gives a vCPU. */
START_TEST(test_iothreads_planned_in_a_row)
{
    struct test_applied a, b;
    apply(&a, disks_xml, "perf", NULL, false, "iothreads=per-disk", NULL);
    ck_assert_int_eq(a.ret, 0);
    struct nst_cpuset taken = a.plan.vcpus;
    apply(&b, disks_xml, "perf", &taken, false, NULL);
    ck_assert_int_eq(b.ret, 0);
    ck_assert(!nst_cpuset_is_empty(&a.plan.iothreads));
    ck_assert(!nst_cpuset_intersects(&b.plan.vcpus, &a.plan.iothreads));
    ck_assert(!nst_cpuset_intersects(&a.plan.vcpus, &b.plan.iothreads));
    ck_assert(!nst_cpuset_intersects(&b.plan.vcpus, &a.plan.vcpus));
    test_applied_clear(&a);
    test_applied_clear(&b);
}
END_TEST

/* ----------------------------------------------------------- disk-cache */

START_TEST(test_disk_cache_which_disks)
{
    static const char xml[] = DOMAIN("2", "",
        "    <disk type='file' device='disk'>\n"
        "      <source file='/i/nodriver.img'/>\n"
        "      <target dev='vda' bus='virtio'/>\n"
        "    </disk>\n"
        "    <disk type='file' device='disk'>\n"
        "      <driver name='qemu' type='qcow2' discard='unmap'/>\n"
        "      <source file='/i/q.qcow2'/>\n"
        "      <target dev='vdb' bus='virtio'/>\n"
        "    </disk>\n"
        DISK("file", "<source file='/i/tuned.img'/>", "vdc", "virtio", "")
        "    <disk type='network' device='disk'>\n"
        "      <driver name='qemu' type='raw'/>\n"
        "      <source protocol='rbd' name='pool/img'>\n"
        "        <host name='mon1' port='6789'/>\n"
        "      </source>\n"
        "      <target dev='vdd' bus='virtio'/>\n"
        "    </disk>\n"
        "    <disk type='file' device='cdrom'>\n"
        "      <driver name='qemu' type='raw'/>\n"
        "      <source file='/i/x.iso'/>\n"
        "      <target dev='sda' bus='sata'/>\n"
        "      <readonly/>\n"
        "    </disk>\n"
        DISK("file", "<source file='/i/ro.img'/>", "vde", "virtio",
             "      <readonly/>\n")
        DISK("block", "<source dev='/dev/sdc'/>", "sdb", "scsi",
             "      <shareable/>\n"));
    char *tuned = NULL;
    struct test_applied res;

    /* the operator's cache/io on vdc */
    const char *at = strstr(xml, "<source file='/i/tuned.img'/>");
    const char *drv = at - strlen("<driver name='qemu' type='raw'/>\n      ");
    tuned = nst_printf("%.*s<driver name='qemu' type='raw' cache='writeback' "
                       "io='threads'/>%s", (int)(drv - xml), xml,
                       drv + strlen("<driver name='qemu' type='raw'/>"));
    apply(&res, tuned, "perf", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    /* a missing <driver> goes first, attributes in libvirt's order */
    HAS(res, "<disk type='file' device='disk'>\n"
        "      <driver cache='none' io='native' iothread='1'/>\n"
        "      <source file='/i/nodriver.img'/>");
    HAS(res, "<driver name='qemu' type='qcow2' cache='none' io='native' "
        "discard='unmap' iothread='1'/>");
    HAS(res, "cache='writeback' io='threads' iothread='1'/>");
    HAS(res, "<driver name='qemu' type='raw' iothread='1'/>\n"
        "      <source protocol='rbd'");
    HAS(res, "<driver name='qemu' type='raw'/>\n      <source file='/i/x.iso'/>");
    HAS(res, "<driver name='qemu' type='raw' iothread='1'/>\n"
        "      <source file='/i/ro.img'/>");
    HAS(res, "<driver name='qemu' type='raw' cache='none' io='native'/>\n"
        "      <source dev='/dev/sdc'/>");
    SAYS(res, "cache='none' io='native' on vda, vdb, sdb");
    SAYS(res, "kept as set: vdc (cache='writeback' io='threads')");
    test_applied_clear(&res);

    /* the guide's writeback: never on a shareable disk */
    apply(&res, tuned, "perf", NULL, false, "disk-cache=writeback-threads",
          NULL);
    HAS(res, "cache='writeback' io='threads' discard='unmap'");
    HAS(res, "<driver name='qemu' type='raw'/>\n      <source dev='/dev/sdc'/>");
    SAYS(res, "shareable sdb left without cache='writeback'");
    test_applied_clear(&res);

    apply(&res, tuned, "nested", NULL, false, "disk-cache=none-io_uring",
          NULL);
    HAS(res, "<driver name='qemu' type='qcow2' cache='none' io='io_uring' "
        "discard='unmap'/>");
    LACKS(res, "unsafe");
    test_applied_clear(&res);
    free(tuned);
}
END_TEST

/* ----------------------------------------------------------- net-queues */

#define IFACE(type, source, model, extra) \
    "    <interface type='" type "'>\n" \
    "      " source "\n" \
    "      <model type='" model "'/>\n" \
    extra \
    "    </interface>\n"

static const char ifaces_xml[] = DOMAIN("12", "",
    IFACE("network", "<source network='default'/>", "virtio",
          "      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' "
          "function='0x0'/>\n")
    IFACE("vhostuser", "<source type='unix' path='/s' mode='client'/>",
          "virtio", "")
    IFACE("network", "<source network='default'/>", "e1000e", "")
    IFACE("bridge", "<source bridge='br0'/>", "virtio",
          "      <driver name='qemu'/>\n")
    IFACE("direct", "<source dev='eth1' mode='passthrough'/>", "virtio", "")
    IFACE("user", "<source/>", "virtio", "")
    "    <interface type='hostdev' managed='yes'>\n"
    "      <source>\n"
    "        <address type='pci' domain='0x0000' bus='0x3b' slot='0x10' "
    "function='0x1'/>\n"
    "      </source>\n"
    "    </interface>\n");

START_TEST(test_net_queues)
{
    struct test_applied res;
    apply(&res, ifaces_xml, "perf", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    /* 12 vCPUs, bounded by net-queues-max 8; <driver> after <model> */
    HAS(res, "<model type='virtio'/>\n      <driver name='vhost' queues='8'/>\n"
        "      <address type='pci'");
    HAS(res, "<source dev='eth1' mode='passthrough'/>\n"
        "      <model type='virtio'/>\n      <driver name='vhost' queues='8'/>");
    HAS(res, "mode='client'/>\n      <model type='virtio'/>\n    </interface>");
    HAS(res, "<model type='e1000e'/>\n    </interface>");
    HAS(res, "<source/>\n      <model type='virtio'/>\n    </interface>");
    HAS(res, "<driver name='qemu'/>");
    LACKS(res, "function='0x1'/>\n      </source>\n      <driver");
    SAYS(res, "kept as set: bridge interface");
    test_applied_clear(&res);

    apply(&res, ifaces_xml, "perf", NULL, false, "net-queues-max=3", NULL);
    HAS(res, "<driver name='vhost' queues='3'/>");
    test_applied_clear(&res);

    /* one vCPU: one queue, nothing to add */
    static const char one[] = DOMAIN("1", "",
        IFACE("network", "<source network='default'/>", "virtio", ""));
    apply(&res, one, "perf", NULL, false, NULL);
    LACKS(res, "<driver");
    test_applied_clear(&res);
}
END_TEST

/* -------------------------------------------------------------- balloon */

static const char balloon_xml[] = DOMAIN("2", "",
    "    <memballoon model='virtio' autodeflate='on'>\n"
    "      <stats period='10'/>\n"
    "      <address type='pci' domain='0x0000' bus='0x05' slot='0x00' "
    "function='0x0'/>\n"
    "    </memballoon>\n"
    "    <rng model='virtio'>\n"
    "      <backend model='random'>/dev/urandom</backend>\n"
    "    </rng>\n");

START_TEST(test_balloon)
{
    struct test_applied res;
    apply(&res, balloon_xml, "perf", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "    <memballoon model='none'/>\n    <rng model='virtio'>");
    LACKS(res, "stats");
    LACKS(res, "autodeflate");
    SAYS(res, "with hugepages the balloon cannot give memory back");
    test_applied_clear(&res);

    /* keep: a warning, and in strict mode a refusal */
    apply(&res, balloon_xml, "perf", NULL, false, "balloon=keep", NULL);
    HAS(res, "<stats period='10'/>");
    SAYS(res, "warning  balloon");
    test_applied_clear(&res);
    apply(&res, balloon_xml, "perf", NULL, true, "balloon=keep", NULL);
    ck_assert_int_eq(res.ret, -1);
    test_applied_clear(&res);

    /* normal pages: the balloon works, kept without a word */
    apply(&res, balloon_xml, "nested", NULL, false, "balloon=none", NULL);
    HAS(res, "<stats period='10'/>");
    SAYS_NOT(res, "balloon");
    test_applied_clear(&res);

    /* locked memory, and no <memballoon> (libvirt would add one) */
    static const char locked[] = DOMAIN("2",
        "  <memoryBacking>\n    <locked/>\n  </memoryBacking>\n",
        "    <rng model='virtio'>\n"
        "      <backend model='random'>/dev/urandom</backend>\n"
        "    </rng>\n");
    apply(&res, locked, "nested", NULL, false, "balloon=none", NULL);
    HAS(res, "    <memballoon model='none'/>\n    <rng model='virtio'>");
    SAYS(res, "with locked memory");
    test_applied_clear(&res);
}
END_TEST

/* ------------------------------------------------------------- profile */

START_TEST(test_io_keys)
{
    struct nst_profile p;
    char *err = NULL;

    nst_profile_init(&p);
    ck_assert_int_eq(p.iothreads, NST_IOTHREADS_OFF);
    ck_assert_int_eq(p.disk_cache, NST_DISK_CACHE_KEEP);
    ck_assert_int_eq(p.balloon, NST_BALLOON_KEEP);
    ck_assert(!p.net_queues);
    ck_assert_uint_eq(p.iothreads_max, 4);
    ck_assert_uint_eq(p.net_queues_max, 8);
    ck_assert_int_eq(nst_profile_set(&p, "disk-cache=unsafe", "--set", &err),
                     -1);
    ck_assert_str_eq(err, "--set: invalid value 'unsafe' for 'disk-cache' "
                     "(expected keep, none-native, none-io_uring or "
                     "writeback-threads)");
    free(err);
    err = NULL;
    ck_assert_int_eq(nst_profile_set(&p, "net-queues-max=0", "--set", &err),
                     -1);
    free(err);
    ck_assert_int_eq(nst_profile_set(&p, "iothreads=per-disk", "--set", NULL),
                     0);
    ck_assert_int_eq(p.iothreads, NST_IOTHREADS_PER_DISK);
    nst_profile_clear(&p);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("io");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_iothreads_shared);
    tcase_add_test(tc, test_iothreads_per_disk_bounded);
    tcase_add_test(tc, test_iothreads_of_the_domain_kept);
    tcase_add_test(tc, test_iothreads_planned_in_a_row);
    tcase_add_test(tc, test_disk_cache_which_disks);
    tcase_add_test(tc, test_net_queues);
    tcase_add_test(tc, test_balloon);
    tcase_add_test(tc, test_io_keys);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
