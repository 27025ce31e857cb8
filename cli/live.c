/*
 * live.c: apply a profile to a domain on a libvirt connection
 *
 * The order is what makes a failure lose nothing:
 *   dump (INACTIVE|SECURE) -> plan -> [review and stop]
 *   -> back up the dump -> dump again, stop if the domain changed
 *   -> define with validation -> read back, re-plan: nothing may change
 *   -> [restart] -> check the live XML.
 * Until the define, nothing on the host has changed; after it, the
 * backup holds the previous definition and "virt-nestify rollback"
 * restores it.  A stored definition that does not hold what the profile
 * set is replaced by the previous one at once.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/virterror.h>

#include "apply.h"
#include "backup.h"
#include "conn.h"
#include "internal.h"
#include "tool.h"

/* What one live run works with. */
struct live {
    const struct vn_apply_opts *o;
    const struct nst_profile *profile;
    virConnectPtr conn;
    virDomainPtr dom;
    const char *name;
    const struct nst_host *host;
    const struct nst_cpuset *taken;
    struct vn_dom_run *run;      /* what happened, for the caller */
};

/* Reports an error of this domain (once, on stderr) and keeps the first
 * for the summary. */
static void fail(struct live *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fail(struct live *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = nst_vprintf(fmt, ap);
    va_end(ap);
    vn_error("%s", msg ? msg : fmt);
    if (!l->run->error)
        l->run->error = msg;
    else
        free(msg);
}

/* A progress line: on stdout, or stderr when stdout holds JSON; none
 * with --quiet. */
static void say(const struct live *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(const struct live *l, const char *fmt, ...)
{
    va_list ap;
    if (l->o->quiet)
        return;
    va_start(ap, fmt);
    vfprintf(l->o->output == VN_OUTPUT_JSON ? stderr : stdout, fmt, ap);
    va_end(ap);
}

/*
 * Re-plans the document libvirt holds now (stored or live): what the
 * profile set must be there, so the plan finds nothing to change.
 * Returns 0, or -1 with *err naming what differs.
 */
static int
verify(struct live *l, const char *xml, const char *what, char **err)
{
    struct vn_result r;
    int ret = -1;

    if (vn_transform(l->o, l->profile, l->host, l->taken, xml, strlen(xml),
                     what, &r, err) < 0)
        return -1;
    if (r.refused || r.pending) {
        const struct nst_report_entry *first = NULL;
        for (size_t i = 0; i < r.report.nentries && !first; i++)
            if (r.report.entries[i].severity != NST_WARNING)
                first = &r.report.entries[i];
        nst_set_error(err, "the %s does not hold what the profile set "
                      "(%s: %s)", what, first ? first->rule : "?",
                      first ? first->message : "?");
    } else {
        ret = 0;
    }
    vn_result_clear(&r);
    return ret;
}

/* Waits up to the timeout for the domain to be off; true when it is. */
static bool
wait_for_shutoff(struct live *l)
{
    struct timespec step = { 0, 200 * 1000 * 1000 };
    for (unsigned int i = 0; i < l->o->timeout * 5; i++) {
        if (virDomainIsActive(l->dom) == 0)
            return true;
        nanosleep(&step, NULL);
    }
    return virDomainIsActive(l->dom) == 0;
}

/* --restart: shutdown, wait, (--force) destroy, start, verify. */
static int
restart(struct live *l)
{
    char *err = NULL;

    if (virDomainShutdown(l->dom) < 0) {
        fail(l, "domain '%s': cannot shut it down: %s", l->name,
                 vn_libvirt_error());
        return VN_EXIT_SYSTEM;
    }
    if (!wait_for_shutoff(l)) {
        if (!l->o->force) {
            fail(l, "domain '%s' ignored the shutdown request for %u s and "
                     "is still running; the new definition waits for its "
                     "next power-off (--force destroys it)", l->name,
                     l->o->timeout);
            return VN_EXIT_SYSTEM;
        }
        if (virDomainDestroy(l->dom) < 0 && virDomainIsActive(l->dom) != 0) {
            fail(l, "domain '%s': cannot force it off: %s", l->name,
                     vn_libvirt_error());
            return VN_EXIT_SYSTEM;
        }
        say(l, "domain '%s' did not shut down within %u s: forced off\n",
            l->name, l->o->timeout);
    }
    if (virDomainCreate(l->dom) < 0) {
        fail(l, "domain '%s' does not start with the new definition: %s "
                 "(previous definition in '%s'; 'virt-nestify rollback' "
                 "restores it)", l->name, vn_libvirt_error(), l->run->backup);
        return VN_EXIT_SYSTEM;
    }
    char *live_xml = vn_domain_xml(l->dom, false, &err);
    if (!live_xml || verify(l, live_xml, "running domain", &err) < 0) {
        fail(l, "domain '%s': %s", l->name, err);
        free(err);
        free(live_xml);
        return VN_EXIT_SYSTEM;
    }
    free(live_xml);
    say(l, "domain '%s' restarted with the new definition\n", l->name);
    return VN_EXIT_OK;
}

/* Back up, define, verify; the domain is as it was on any failure. */
static int
define(struct live *l, const char *xml, const struct vn_result *r)
{
    char uuid[VIR_UUID_STRING_BUFLEN];
    char *dir = l->o->backup_dir ? nst_printf("%s", l->o->backup_dir) :
                vn_backup_default_dir();
    char *err = NULL, *again = NULL, *stored = NULL;
    int ret = VN_EXIT_SYSTEM;

    vn_domain_uuid(l->dom, uuid);
    if (!dir) {
        fail(l, "domain '%s': no backup directory (HOME is not set): give "
                 "--backup-dir; nothing changed", l->name);
        goto out;
    }
    if (vn_backup_write(dir, l->name, uuid, xml, &l->run->backup, &err) < 0) {
        fail(l, "domain '%s': %s; nothing changed", l->name,
                 err ? err : "out of memory");
        goto out;
    }
    if (l->o->test_before_define)
        l->o->test_before_define(l->dom, l->o->test_opaque);
    /* Another tool may have redefined it while we planned. */
    if (!(again = vn_domain_xml(l->dom, true, &err))) {
        fail(l, "%s; nothing changed", err);
        goto out;
    }
    if (strcmp(again, xml) != 0) {
        fail(l, "domain '%s' changed while virt-nestify was planning; "
                 "nothing changed, run again", l->name);
        goto out;
    }
    if (vn_domain_define(l->conn, r->out, &err) < 0) {
        fail(l, "domain '%s': libvirt refused the new definition: %s; the "
                 "definition is unchanged (backup in '%s')", l->name, err,
                 l->run->backup);
        goto out;
    }
    free(err);
    err = NULL;
    stored = vn_domain_xml(l->dom, true, &err);
    if (!stored || verify(l, stored, "stored definition", &err) < 0) {
        char *undo = NULL;
        int undone = vn_domain_define(l->conn, xml, &undo);
        fail(l, "domain '%s': %s; %s", l->name, err ? err : "?",
                 undone == 0 ? "the previous definition is restored" :
                 "restoring the previous definition failed too, "
                 "see 'virt-nestify rollback'");
        free(undo);
        goto out;
    }
    say(l, "domain '%s' defined (previous definition in '%s')\n", l->name,
        l->run->backup);
    ret = VN_EXIT_OK;
 out:
    free(dir);
    free(err);
    free(again);
    free(stored);
    return ret;
}

int
vn_live_domain(void *conn, void *dom,
               const struct nst_host *host, const struct nst_cpuset *taken,
               const struct vn_apply_opts *o,
               const struct nst_profile *profile, bool collect,
               struct vn_dom_run *run)
{
    struct live l = { .o = o, .profile = profile, .conn = conn, .dom = dom,
                      .host = host, .taken = taken, .run = run };
    struct vn_result r = { 0 };
    char *err = NULL, *xml = NULL, *label = NULL;
    int ret = VN_EXIT_SYSTEM;

    memset(run, 0, sizeof(*run));
    run->result = VN_DOM_FAILED;
    l.name = run->name = vn_domain_name(dom);
    if (virDomainIsPersistent(dom) == 0) {
        fail(&l, "domain '%s' is transient: virt-nestify changes persistent "
             "definitions only (define it first)", l.name);
        run->result = VN_DOM_REFUSED;
        ret = VN_EXIT_INPUT;
        goto out;
    }
    if (!(xml = vn_domain_xml(dom, true, &err)) ||
        !(label = nst_printf("domain '%s'", l.name)) ||
        vn_transform(o, profile, host, taken, xml, strlen(xml), label, &r,
                     &err) < 0) {
        fail(&l, "%s", err ? err : "out of memory");
        if (r.bad_input) {
            /* --xslt failed on this domain: bad input, nothing changed */
            run->result = VN_DOM_REFUSED;
            ret = VN_EXIT_INPUT;
        }
        goto out;
    }
    run->changes = nst_report_count(&r.report, NST_CHANGE);
    run->warnings = nst_report_count(&r.report, NST_WARNING);

    if (r.refused) {
        if (!collect)
            vn_print_refusal(o, &r);
        for (size_t i = 0; i < r.report.nentries && !run->error; i++)
            if (r.report.entries[i].severity == NST_ERROR)
                run->error = nst_printf("%s: %s", r.report.entries[i].rule,
                                        r.report.entries[i].message);
        run->result = VN_DOM_REFUSED;
        ret = VN_EXIT_INPUT;
        goto out;
    }
    if (!collect && (!o->quiet || o->dry_run || o->check ||
                     o->output == VN_OUTPUT_JSON) &&
        vn_print_report(o, &r, xml, strlen(xml), l.name) < 0)
        goto out;
    if (o->dry_run || o->check || !r.pending) {
        run->result = r.pending ? VN_DOM_PENDING : VN_DOM_UNCHANGED;
        ret = o->check && r.pending ? VN_EXIT_PENDING : VN_EXIT_OK;
        goto out;
    }
    if ((ret = define(&l, xml, &r)) != VN_EXIT_OK)
        goto out;
    run->result = VN_DOM_CHANGED;
    if (virDomainIsActive(dom) == 1) {
        run->needs_restart = true;
        if (!o->restart)
            say(&l, "domain '%s' is running: the new definition takes "
                "effect at its next power-off (a reboot inside the guest is "
                "not enough; --restart does it)\n", l.name);
    }
 out:
    /* What the domain pins after this run: the plan's when it landed
     * (or would, in a review), else what it had. */
    const char *final = run->result == VN_DOM_CHANGED ||
                        run->result == VN_DOM_PENDING ? r.out : xml;
    struct nst_doc *pinned = NULL;
    struct nst_page_use *uses = NULL;
    size_t nuses = 0;
    if (final && nst_doc_parse(final, strlen(final), "pins", &pinned,
                               NULL) == 0) {
        nst_doc_vcpu_pins(pinned, &run->pins, NULL);
        if (nst_doc_page_use(pinned, &uses, &nuses, NULL) == 0)
            vn_pages_add_uses(&run->pages, uses, nuses, 1);
    }
    free(uses);
    nst_doc_free(pinned);
    run->report = r.report;          /* the caller's now */
    memset(&r.report, 0, sizeof(r.report));
    free(err);
    free(xml);
    free(label);
    vn_result_clear(&r);
    return ret;
}

int
vn_live_restart(void *conn, void *dom,
                const struct nst_host *host, const struct nst_cpuset *taken,
                const struct vn_apply_opts *o,
                const struct nst_profile *profile, struct vn_dom_run *run)
{
    struct live l = { .o = o, .profile = profile, .conn = conn, .dom = dom,
                      .host = host, .taken = taken, .run = run,
                      .name = vn_domain_name(dom) };
    int ret = restart(&l);
    if (ret != VN_EXIT_OK)
        run->result = VN_DOM_FAILED;
    return ret;
}

void
vn_dom_run_clear(struct vn_dom_run *run)
{
    free(run->error);
    free(run->backup);
    nst_report_clear(&run->report);
    vn_pages_clear(&run->pages);
    memset(run, 0, sizeof(*run));
}

int
vn_live_prepare(void *conn, const struct vn_apply_opts *o, void **skip,
                size_t nskip, struct nst_host **host, struct nst_cpuset *taken,
                char **err)
{
    if (!(*host = vn_conn_host(conn, o->host_caps, o->domcaps, o->cpu_map,
                               err)))
        return o->host_caps ? VN_EXIT_INPUT : VN_EXIT_SYSTEM;
    struct vn_pages pages = { 0 };
    int ret = vn_conn_others(conn, (virDomainPtr *)skip, nskip,
                             !o->host_caps, taken, &pages, err);
    if (ret == 0)
        vn_pages_take(*host, &pages);
    vn_pages_clear(&pages);
    if (ret < 0)
        return VN_EXIT_SYSTEM;
    /* parsed with the options, before the connection was opened */
    if (o->has_taken)
        nst_cpuset_union(taken, &o->taken);
    return VN_EXIT_OK;
}

int
vn_apply_live(const struct vn_apply_opts *o, const struct nst_profile *profile)
{
    struct vn_dom_run run = { 0 };
    struct nst_host *host = NULL;
    struct nst_cpuset taken;
    virConnectPtr conn = NULL;
    virDomainPtr dom = NULL;
    char *err = NULL;
    int ret = VN_EXIT_SYSTEM;

    if (!(conn = vn_conn_open(o->connect, &err)))
        goto fail;
    if (!(dom = vn_domain_lookup(conn, o->domain, &err))) {
        virErrorPtr e = virGetLastError();
        if (!e || e->code == VIR_ERR_NO_DOMAIN)
            ret = VN_EXIT_INPUT;
        goto fail;
    }
    if ((ret = vn_live_prepare(conn, o, (void **)&dom, 1, &host, &taken,
                               &err)) != VN_EXIT_OK)
        goto fail;
    ret = vn_live_domain(conn, dom, host, &taken, o, profile, false, &run);
    if (ret == VN_EXIT_OK && run.needs_restart && o->restart)
        ret = vn_live_restart(conn, dom, host, &taken, o, profile, &run);
    goto out;

 fail:
    vn_error("%s", err ? err : "out of memory");
 out:
    vn_dom_run_clear(&run);
    free(err);
    nst_host_free(host);
    if (dom)
        virDomainFree(dom);
    vn_conn_close(conn);
    return ret;
}
