/*
 * rules-io.c: the I/O of the guest, in <devices>: I/O threads for the
 * virtio disks and virtio-scsi controllers, the cache and io mode of
 * local disks, vhost multiqueue on virtio interfaces, and the memory
 * balloon of a guest whose memory it cannot give back.  Why each does
 * what it does is in docs/profiles.md, "I/O of the guest".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

/* The device's "<disk ...> vda" style name for messages: its target
 * dev, or its source; a new string, NULL when out of memory. */
static char *
disk_label(xmlNodePtr disk)
{
    char *dev = nsti_attr(nsti_child(disk, "target"), "dev");
    char *label = nst_printf("%s", dev ? dev : "?");
    free(dev);
    return label;
}

static bool
has_attr(const xmlNode *node, const char *name)
{
    return node && xmlHasNsProp(node, (const xmlChar *)name, NULL);
}

/* Whether the disk's target is on bus ("virtio", "sata", ...). */
static bool
disk_bus_is(xmlNodePtr disk, const char *bus)
{
    return nsti_attr_is(nsti_child(disk, "target"), "bus", bus);
}

/* The disk's <driver>, added first in the disk when missing (libvirt
 * writes it before <source>); NULL when out of memory. */
static xmlNodePtr
disk_driver(struct run *run, xmlNodePtr disk)
{
    return nsti_ensure(run->doc, disk, "driver", nst_order_disk, NULL);
}

/* Appends ", name" (or "name" first) to *list; false when out of memory. */
static bool
list_add(struct nst_buf *list, const char *name)
{
    nst_buf_addf(list, "%s%s", list->len ? ", " : "", name);
    return !list->oom;
}

/* ------------------------------------------------------------ iothreads */

/*
 * The devices an I/O thread serves: every virtio-blk disk (device='disk'
 * on bus='virtio'; a network disk too, the thread runs the virtio
 * device, not the backend) and every virtio-scsi controller, whose
 * thread serves all its disks.  A vhost-user disk is served by its
 * backend, not QEMU: none.  SATA and IDE have no I/O threads in QEMU.
 */
static bool
takes_iothread(xmlNodePtr dev)
{
    if (strcmp((const char *)dev->name, "controller") == 0)
        return nsti_attr_is(dev, "type", "scsi") &&
               nsti_attr_is(dev, "model", "virtio-scsi");
    return strcmp((const char *)dev->name, "disk") == 0 &&
           disk_bus_is(dev, "virtio") &&
           !nsti_attr_is(dev, "type", "vhostuser") &&
           (!has_attr(dev, "device") || nsti_attr_is(dev, "device", "disk"));
}

int
policy_iothreads(struct run *run)
{
    const char *target = "/domain/iothreads";
    xmlNodePtr devices = nsti_child(run->root, "devices");
    xmlNodePtr served[256];
    size_t n = 0;

    /* I/O threads the operator defined are theirs, with the disks they
     * assigned: the pinning rule pins them as they are. */
    if (nsti_child(run->root, "iothreads") ||
        nsti_child(run->root, "iothreadids"))
        return 0;
    for (xmlNodePtr dev = nsti_child(devices, NULL); dev && n < 256;
         dev = nsti_next(dev, NULL))
        if (takes_iothread(dev))
            served[n++] = dev;
    if (!n)
        return 0;

    unsigned int threads = run->profile->iothreads == NST_IOTHREADS_SHARED ?
                           1 : (unsigned int)(n < run->profile->iothreads_max ?
                                              n : run->profile->iothreads_max);
    int failed = 0;
    struct nst_buf list = { 0 };
    xmlNodePtr count = nsti_ensure(run->doc, run->root, "iothreads",
                                  nst_order_domain, NULL);
    if (!count || set_number_text(run->doc, count, threads) < 0)
        return policy_oom(run);
    for (size_t i = 0; i < n && !failed; i++) {
        bool disk = strcmp((const char *)served[i]->name, "disk") == 0;
        xmlNodePtr driver = disk ? disk_driver(run, served[i]) :
                            nsti_ensure(run->doc, served[i], "driver",
                                        nst_order_controller, NULL);
        char id[16], *label = disk ? disk_label(served[i]) :
                              nsti_attr(served[i], "index");
        snprintf(id, sizeof(id), "%u", (unsigned int)(i % threads) + 1);
        if (!driver || !label ||
            nsti_set_attr_ordered(run->doc, driver, "iothread", id,
                                  disk ? nst_order_disk_driver :
                                  nst_order_controller_driver) < 0)
            failed = 1;
        else
            nst_buf_addf(&list, "%s%s%s on %s", list.len ? ", " : "",
                         disk ? "" : "virtio-scsi controller ",
                         label, id);
        free(label);
    }
    char *text = nst_buf_finish(&list, NULL);
    if (failed || !text) {
        free(text);
        return policy_oom(run);
    }
    nst_report_add(run->report, NST_CHANGE, "iothreads", target,
                   "%u I/O thread%s (%s) for the virtio disks and "
                   "controllers (%s); their requests no "
                   "longer wait on QEMU's main loop or run on a vCPU",
                   threads, threads > 1 ? "s" : "",
                   run->profile->iothreads == NST_IOTHREADS_SHARED ?
                   "one shared" : "one per device", text);
    free(text);
    return 0;
}

/* ----------------------------------------------------------- disk-cache */

/*
 * Local files and block devices only: a network disk's cache and io
 * belong to its protocol (librbd has its own cache; io='native' needs a
 * local file descriptor).  CD-ROMs and floppies are removable media,
 * often an ISO on a filesystem without O_DIRECT, read once: left alone,
 * as are read-only disks, which have no writes to make safe or fast.
 * A shareable disk takes cache='none' (what a disk written by two
 * guests needs) but never writeback, whose cache one host keeps.
 */
int
policy_disk_cache(struct run *run)
{
    static const struct { const char *cache, *io; } modes[] = {
        [NST_DISK_CACHE_NONE_NATIVE] = { "none", "native" },
        [NST_DISK_CACHE_NONE_IO_URING] = { "none", "io_uring" },
        [NST_DISK_CACHE_WRITEBACK_THREADS] = { "writeback", "threads" },
    };
    const char *cache = modes[run->profile->disk_cache].cache;
    const char *io = modes[run->profile->disk_cache].io;
    bool writeback = run->profile->disk_cache ==
                     NST_DISK_CACHE_WRITEBACK_THREADS;
    struct nst_buf set = { 0 }, kept = { 0 }, shared = { 0 };
    int failed = 0;

    for (xmlNodePtr disk = nsti_child(nsti_child(run->root, "devices"),
                                      "disk");
         disk && !failed; disk = nsti_next(disk, "disk")) {
        if (!(nsti_attr_is(disk, "type", "file") ||
              nsti_attr_is(disk, "type", "block")) ||
            nsti_attr_is(disk, "device", "cdrom") ||
            nsti_attr_is(disk, "device", "floppy") ||
            nsti_child(disk, "readonly"))
            continue;
        char *label = disk_label(disk);
        xmlNodePtr have = nsti_child(disk, "driver");
        char *old_cache = nsti_attr(have, "cache");
        char *old_io = nsti_attr(have, "io");
        if (!label) {
            failed = 1;
        } else if (old_cache || old_io) {
            /* The operator chose: theirs to change. */
            char *what = nst_printf("%s (cache='%s' io='%s')", label,
                                    old_cache ? old_cache : "default",
                                    old_io ? old_io : "default");
            failed = !what || !list_add(&kept, what);
            free(what);
        } else if (writeback && nsti_child(disk, "shareable")) {
            failed = !list_add(&shared, label);
        } else {
            xmlNodePtr driver = disk_driver(run, disk);
            if (!driver ||
                nsti_set_attr_ordered(run->doc, driver, "cache", cache,
                                      nst_order_disk_driver) < 0 ||
                nsti_set_attr_ordered(run->doc, driver, "io", io,
                                      nst_order_disk_driver) < 0 ||
                !list_add(&set, label))
                failed = 1;
        }
        free(old_cache);
        free(old_io);
        free(label);
    }
    char *set_text = nst_buf_finish(&set, NULL);
    char *kept_text = nst_buf_finish(&kept, NULL);
    char *shared_text = nst_buf_finish(&shared, NULL);
    int ret = 0;
    if (failed || !set_text || !kept_text || !shared_text)
        ret = policy_oom(run);
    else if (*set_text)
        nst_report_add(run->report, NST_CHANGE, "disk-cache",
                       "/domain/devices/disk/driver",
                       "cache='%s' io='%s' on %s: %s%s%s", cache, io,
                       set_text, writeback ?
                       "the host's page cache absorbs writes, flushed when "
                       "the guest flushes (a host crash loses what the "
                       "guest did not flush)" :
                       "O_DIRECT, no copy in the host's page cache, and "
                       "the guest's flushes reach the disk",
                       *kept_text ? "; kept as set: " : "", kept_text);
    if (ret == 0 && *shared_text)
        nst_report_add(run->report, NST_CHANGE, "disk-cache",
                       "/domain/devices/disk/shareable",
                       "shareable %s left without cache='writeback': a "
                       "disk other guests write must not be cached by "
                       "one host", shared_text);
    free(set_text);
    free(kept_text);
    free(shared_text);
    return ret;
}

/* ----------------------------------------------------------- net-queues */

/*
 * The interfaces vhost serves with several queues: a virtio model on a
 * tap (network, bridge, ethernet) or macvtap (direct) backend, the
 * types libvirt opens one file descriptor per queue for.  vhost-user
 * and vDPA have their own backend, hostdev is the host's NIC itself,
 * user networking has no vhost.
 */
static bool
takes_queues(xmlNodePtr iface)
{
    static const char *const types[] = { "network", "bridge", "ethernet",
                                         "direct" };
    xmlNodePtr model = nsti_child(iface, "model");
    bool type_ok = false;

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        type_ok |= nsti_attr_is(iface, "type", types[i]);
    return type_ok &&
           (nsti_attr_is(model, "type", "virtio") ||
            nsti_attr_is(model, "type", "virtio-transitional") ||
            nsti_attr_is(model, "type", "virtio-non-transitional"));
}

int
policy_net_queues(struct run *run)
{
    unsigned int queues = run->dom.vcpus < run->profile->net_queues_max ?
                          run->dom.vcpus : run->profile->net_queues_max;
    struct nst_buf set = { 0 }, kept = { 0 };
    int failed = 0;

    /* One vCPU: one queue, what the interface has already. */
    if (queues < 2)
        return 0;
    for (xmlNodePtr iface = nsti_child(nsti_child(run->root, "devices"),
                                       "interface");
         iface && !failed; iface = nsti_next(iface, "interface")) {
        if (!takes_queues(iface))
            continue;
        xmlNodePtr have = nsti_child(iface, "driver");
        char *mac = nsti_attr(nsti_child(iface, "mac"), "address");
        char *type = nsti_attr(iface, "type");
        char *label = nst_printf("%s interface%s%s", type ? type : "?",
                                 mac ? " " : "", mac ? mac : "");
        if (!label) {
            failed = 1;
        } else if (has_attr(have, "name") || has_attr(have, "queues")) {
            /* name='qemu' chose userspace virtio, queues a count. */
            failed = !list_add(&kept, label);
        } else {
            xmlNodePtr driver = nsti_ensure(run->doc, iface, "driver",
                                           nst_order_interface, NULL);
            char text[16];
            snprintf(text, sizeof(text), "%u", queues);
            if (!driver ||
                nsti_set_attr_ordered(run->doc, driver, "name", "vhost",
                                      nst_order_interface_driver) < 0 ||
                nsti_set_attr_ordered(run->doc, driver, "queues", text,
                                      nst_order_interface_driver) < 0 ||
                !list_add(&set, label))
                failed = 1;
        }
        free(label);
        free(type);
        free(mac);
    }
    char *set_text = nst_buf_finish(&set, NULL);
    char *kept_text = nst_buf_finish(&kept, NULL);
    int ret = 0;
    if (failed || !set_text || !kept_text)
        ret = policy_oom(run);
    else if (*set_text)
        nst_report_add(run->report, NST_CHANGE, "net-queues",
                       "/domain/devices/interface/driver",
                       "vhost with %u queues (one per vCPU, at most %u) on "
                       "%s: the guest spreads network traffic over its "
                       "vCPUs%s%s", queues, run->profile->net_queues_max,
                       set_text, *kept_text ? "; kept as set: " : "",
                       kept_text);
    free(set_text);
    free(kept_text);
    return ret;
}

/* -------------------------------------------------------------- balloon */

/*
 * A balloon gives the host back the memory it inflates over; memory on
 * hugepages or locked (<memoryBacking>, as the memory rules left it)
 * stays the guest's, so there it only reports statistics.  balloon=none
 * then removes the device (libvirt's model='none' takes no children),
 * keep says what it cannot do.  Without <memballoon> libvirt adds a
 * virtio one, so none writes one.
 */
int
policy_balloon(struct run *run)
{
    xmlNodePtr backing = nsti_child(run->root, "memoryBacking");
    const char *why = nsti_child(backing, "hugepages") ? "hugepages" :
                      nsti_child(backing, "locked") ? "locked memory" : NULL;
    const char *target = "/domain/devices/memballoon";
    xmlNodePtr devices = nsti_child(run->root, "devices");
    xmlNodePtr balloon = nsti_child(devices, "memballoon");

    if (!why || !devices || nsti_attr_is(balloon, "model", "none"))
        return 0;
    if (run->profile->balloon == NST_BALLOON_KEEP) {
        char *msg = nst_printf("the memory balloon cannot give the host "
                               "back memory on %s; it only reports "
                               "statistics (balloon = none removes it)",
                               why);
        int ret = msg ? policy_warn(run, "balloon", target, msg) :
                  policy_oom(run);
        free(msg);
        return ret;
    }
    int failed = 0;
    if (balloon && xmlFirstElementChild(balloon)) {
        /* <stats>, <address>, <driver>: none of them go with 'none'. */
        changed(&failed, nsti_remove(run->doc, balloon));
        balloon = NULL;
    }
    if (!balloon && !failed)
        balloon = nsti_insert(run->doc, devices, "memballoon",
                             nst_order_devices);
    if (!balloon || failed ||
        nsti_set_attr(run->doc, balloon, "model", "none") < 0 ||
        nsti_remove_attr(run->doc, balloon, "autodeflate") < 0 ||
        nsti_remove_attr(run->doc, balloon, "freePageReporting") < 0)
        return policy_oom(run);
    nst_report_add(run->report, NST_CHANGE, "balloon", target,
                   "model='none': with %s the balloon cannot give memory "
                   "back to the host; its statistics go with it", why);
    return 0;
}
