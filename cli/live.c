/*
 * live.c: apply a profile to a domain on a libvirt connection
 *
 * The order is what makes a failure, or another writer, lose nothing:
 *   dump (INACTIVE|SECURE) -> plan -> [review and stop]
 *   -> back up the dump
 *   -> re-read what the other domains hold: plan again if ours clashes
 *   -> dump again: stop if the domain changed (someone else's edit wins)
 *   -> define with validation
 *   -> read back, re-plan: nothing may change; re-read the others again;
 *      read back once more: still ours
 *   -> [restart] -> check the live XML.
 * Until the define, nothing on the host has changed; after it, the
 * backup holds the previous definition and "virt-nestify rollback"
 * restores it.  A stored definition that does not hold what the profile
 * set, or that clashes with a domain another run defined at the same
 * time, is replaced by the previous one at once, but only while it is
 * still exactly ours: libvirt has no compare-and-swap, so a definition
 * someone else stored meanwhile is kept, and a domain someone removed
 * is not re-created.  The remaining windows (between a read and the
 * define that follows it) are the width of one libvirt call.
 *
 * The re-reads around the define are what keep two pinned guests off
 * the same CPU when runs on several machines (or other tools) share a
 * libvirtd; the run lock (lock.h) only makes them rarely fail.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "apply.h"
#include "backup.h"
#include "conn.h"
#include "nestify.h"
#include "lock.h"
#include "tool.h"

/* Plans a run makes when other runs keep taking what it planned on. */
#define MAX_TRIES 5

/* What one live run works with. */
struct live {
    const struct vn_apply_opts *o;
    const struct nst_profile *profile;
    virConnectPtr conn;
    virDomainPtr dom;
    const char *name;
    const struct nst_host *host;     /* the view it is planned on */
    const struct nst_cpuset *taken;
    char *clash;                 /* why define() found its plan taken */
    struct nst_host *fresh;      /* the view re-read after a clash */
    struct nst_cpuset fresh_taken;
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
 * Re-plans the document libvirt holds now (stored or live) on the view
 * it was planned on: what the profile set must be there, so the plan
 * finds nothing to change.  Returns 0, or -1 with *err naming what
 * differs.
 */
static int
verify(struct live *l, const char *xml, const char *what, char **err)
{
    struct vn_result r;
    int ret = -1;

    if (vn_transform(&l->o->plan, l->profile, l->host, l->taken, xml, strlen(xml),
                     what, &r, err) < 0)
        return -1;
    if (r.refused || r.pending) {
        const struct nst_finding *first = NULL;
        for (size_t i = 0; i < r.report.findings.n && !first; i++)
            if (r.report.findings.items[i].severity != NST_WARNING)
                first = &r.report.findings.items[i];
        nst_set_error(err, "the %s does not hold what the profile set "
                      "(%s: %s)", what, first ? first->rule : "?",
                      first ? first->message : "?");
    } else {
        ret = 0;
    }
    vn_result_clear(&r);
    return ret;
}

/*
 * The host as the other domains hold it now, re-read from libvirt as at
 * the start (vn_live_prepare).  With --overcommit no CPU is taken: the
 * run accepts CPUs shared with other domains (planning still prefers
 * free ones), so only hugepages are checked.
 */
static int
fresh_view(struct live *l, struct nst_host **host, struct nst_cpuset *taken,
           char **err)
{
    int ret = vn_live_prepare(l->conn, &l->o->plan, &l->dom, 1, host, taken,
                              err);
    if (ret == VN_EXIT_OK && l->o->overcommit)
        nst_cpuset_clear_all(taken);
    return ret;
}

/*
 * Whether xml (our plan, or what we stored) still fits the host as the
 * other domains hold it now: the profiles' rules (not --xslt's, which
 * has nothing to do with the host) make of it on the host as it is now
 * what they make of it on the view it was planned on.  So an overlap
 * with another domain's pins, or hugepages gone, shows, and nothing
 * else does.  Returns 1, 0 with *why, -1 with *why.
 */
static int
still_fits(struct live *l, const char *xml, char **why)
{
    struct vn_plan_opts rules = l->o->plan;
    struct nst_host *host = NULL;
    struct nst_cpuset taken, ours;
    struct vn_result then = { 0 }, now = { 0 };
    int ret = -1;

    rules.xslt_sheet = NULL;
    if (fresh_view(l, &host, &taken, why) != VN_EXIT_OK ||
        vn_transform(&rules, l->profile, l->host, l->taken, xml, strlen(xml),
                     "plan", &then, why) < 0 ||
        vn_transform(&rules, l->profile, host, &taken, xml, strlen(xml),
                     "plan", &now, why) < 0)
        goto out;
    ret = then.refused == now.refused &&
          (then.out && now.out ? strcmp(then.out, now.out) == 0 :
                                 then.out == now.out);
    if (ret)
        goto out;
    /* Say which CPUs, or else the first rule that now decides
     * otherwise. */
    ours = then.plan.vcpus;
    nst_cpuset_intersect(&ours, &taken);
    char *cpus = nst_cpuset_is_empty(&ours) ? NULL : nst_cpuset_format(&ours);
    const struct nst_finding *first = NULL;
    for (size_t i = 0; i < now.report.findings.n && !first; i++)
        if (now.report.findings.items[i].severity != NST_WARNING)
            first = &now.report.findings.items[i];
    if (cpus)
        nst_set_error(why, "another domain now pins CPUs %s", cpus);
    else
        nst_set_error(why, "%s: %s", first ? first->rule : "?",
                      first ? first->message : "?");
    free(cpus);
 out:
    vn_result_clear(&then);
    vn_result_clear(&now);
    nst_host_free(host);
    return ret;
}

/* Waits up to the timeout for the domain to be off.  Returns 1 when it
 * is, 0 when it still runs, -1 when it is gone (undefined meanwhile). */
static int
wait_for_shutoff(struct live *l)
{
    struct timespec step = { 0, 200 * 1000 * 1000 };
    for (unsigned int i = 0;; i++) {
        int active = virDomainIsActive(l->dom);
        if (active == 0)
            return 1;
        if (active < 0) {
            virErrorPtr e = virGetLastError();
            if (e && e->code == VIR_ERR_NO_DOMAIN)
                return -1;
        }
        if (i >= l->o->timeout * 5)
            return 0;
        nanosleep(&step, NULL);
    }
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
    int off = wait_for_shutoff(l);
    if (off < 0) {
        fail(l, "domain '%s' was removed while virt-nestify waited for it "
             "to shut down; nothing restarted", l->name);
        return VN_EXIT_SYSTEM;
    }
    if (!off) {
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
    /* On the host as it is now: the plan may have been made again, and
     * other domains may have started since. */
    char *live_xml = vn_domain_xml(l->dom, false, &err);
    struct nst_host *host = NULL;
    struct nst_cpuset taken;
    int ok = -1;
    if (live_xml && fresh_view(l, &host, &taken, &err) == VN_EXIT_OK) {
        l->host = host;
        l->taken = &taken;
        ok = verify(l, live_xml, "running domain", &err);
    }
    nst_host_free(host);
    free(live_xml);
    if (ok < 0) {
        fail(l, "domain '%s': %s", l->name, err ? err : "out of memory");
        free(err);
        return VN_EXIT_SYSTEM;
    }
    say(l, "domain '%s' restarted with the new definition\n", l->name);
    return VN_EXIT_OK;
}

/* Removes the backup of a define that did not happen or was undone:
 * the definition it holds is the stored one again. */
static void
drop_backup(struct live *l)
{
    if (l->run->backup && unlink(l->run->backup) < 0)
        vn_warning("cannot remove '%s': %s", l->run->backup,
                   strerror(errno));
    free(l->run->backup);
    l->run->backup = NULL;
}

/*
 * Puts previous back after our define of ours, unless the domain is no
 * longer ours to change: someone stored another definition since (it
 * stays), or removed the domain (it is not re-created).  Returns true
 * when previous is back; *what says what happened, for the message.
 */
static bool
undo(struct live *l, const char *ours, const char *previous,
     const char **what)
{
    char *err = NULL;
    char *now = vn_domain_xml(l->dom, true, &err);
    bool restored = false;

    free(err);
    err = NULL;
    if (!now) {
        *what = "the domain was removed meanwhile and is not re-created";
    } else if (strcmp(now, ours) != 0) {
        *what = "another writer has changed the definition since, and its "
                "definition stays";
    } else if (vn_domain_define(l->conn, previous, &err) == 0) {
        *what = "the previous definition is restored";
        drop_backup(l);
        restored = true;
    } else {
        *what = "restoring the previous definition failed too, see "
                "'virt-nestify rollback'";
    }
    free(err);
    free(now);
    return restored;
}

/* Writes the backup of xml, the definition about to be replaced. */
static int
back_up(struct live *l, const char *xml)
{
    char uuid[VIR_UUID_STRING_BUFLEN];
    char *dir = l->o->backup_dir ? nst_printf("%s", l->o->backup_dir) :
                vn_backup_default_dir();
    char *err = NULL;
    int ret = -1;

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
    ret = 0;
 out:
    free(dir);
    free(err);
    return ret;
}

/*
 * Defines planned in place of xml, once the plan still fits the host as
 * the others hold it and the stored definition is still xml.  Returns 0,
 * or -1 with nothing changed and the backup gone: l->clash set when
 * another run took what the plan counted on, else the failure reported.
 * After a define libvirt refused, the backup stays.
 */
static int
swap(struct live *l, const char *xml, const char *planned)
{
    char *err = NULL, *again = NULL;
    int ret = -1, fits;

    if ((fits = still_fits(l, planned, &err)) != 1) {
        drop_backup(l);
        if (fits < 0)
            fail(l, "domain '%s': %s; nothing changed", l->name, err);
        if (fits == 0)
            l->clash = err, err = NULL;
        goto out;
    }
    /* Compare, then swap, with nothing between the two but this: another
     * tool may have redefined it while we planned, and its edit wins. */
    if (!(again = vn_domain_xml(l->dom, true, &err))) {
        drop_backup(l);
        fail(l, "%s; nothing changed", err);
        goto out;
    }
    if (strcmp(again, xml) != 0) {
        drop_backup(l);
        fail(l, "domain '%s' changed while virt-nestify was planning; "
                 "nothing changed, run again", l->name);
        goto out;
    }
    if (vn_domain_define(l->conn, planned, &err) < 0) {
        /* The backup stays: a define whose reply was lost (the
         * connection broke) may have been applied all the same. */
        fail(l, "domain '%s': libvirt refused the new definition: %s; the "
                 "definition is unchanged (backup in '%s')", l->name, err,
                 l->run->backup);
        goto out;
    }
    ret = 0;
 out:
    free(err);
    free(again);
    return ret;
}

/*
 * Reads back what our define stored, in place of previous: it must hold
 * what the profile set, still fit the others, and still be ours.  When it
 * does not hold or fit, previous is put back (undo).  Returns 0, or -1
 * with l->clash set (another run defined the same CPUs and ours stepped
 * back) or the failure reported.
 */
static int
check_stored(struct live *l, const char *previous)
{
    char *err = NULL, *stored = NULL, *again = NULL;
    const char *what;
    int ret = -1, fits;

    if (!(stored = vn_domain_xml(l->dom, true, &err))) {
        fail(l, "%s after its define (backup in '%s')", err,
             l->run->backup);
        goto out;
    }
    if (l->o->test_after_define)
        l->o->test_after_define(l->dom, l->o->test_opaque);
    if (verify(l, stored, "stored definition", &err) < 0) {
        undo(l, stored, previous, &what);
        fail(l, "domain '%s': %s; %s", l->name, err ? err : "?", what);
        goto out;
    }
    /* A run elsewhere may have defined the same CPUs between our check
     * and our define: of two such runs, the later one's check here sees
     * the other, so at least one of them steps back. */
    if ((fits = still_fits(l, stored, &err)) != 1) {
        if (undo(l, stored, previous, &what) && fits == 0)
            l->clash = err, err = NULL;
        else
            fail(l, "domain '%s': %s; %s", l->name, err ? err : "?", what);
        goto out;
    }
    /* A writer that compared before our define and defined after it
     * has replaced ours: say so rather than claim a change that is
     * gone.  Theirs stays; the backup holds what we replaced. */
    if (!(again = vn_domain_xml(l->dom, true, &err))) {
        fail(l, "%s after its define (backup in '%s')", err,
             l->run->backup);
        goto out;
    }
    if (strcmp(again, stored) != 0) {
        fail(l, "domain '%s': another writer replaced our definition right "
             "after it was stored; its definition stays (backup of the one "
             "before ours in '%s')", l->name, l->run->backup);
        goto out;
    }
    ret = 0;
 out:
    free(err);
    free(again);
    free(stored);
    return ret;
}

/*
 * Back up, re-check, define, verify.  The domain is as it was on any
 * failure.  When another run took the CPUs or pages planned for it,
 * l->clash says how, and nothing is changed or left behind: plan again.
 */
static int
define(struct live *l, const char *xml, const struct vn_result *r)
{
    if (back_up(l, xml) < 0)
        return VN_EXIT_SYSTEM;
    if (l->o->test_before_define)
        l->o->test_before_define(l->dom, l->o->test_opaque);
    if (swap(l, xml, r->out) < 0 || check_stored(l, xml) < 0)
        return VN_EXIT_SYSTEM;
    return VN_EXIT_OK;
}

/* Waits a little before planning again, longer each try, and not in
 * step with the runs it clashed with. */
static void
back_off(unsigned int try)
{
    static unsigned int seed;
    if (!seed)
        seed = (unsigned int)getpid() ^ (unsigned int)time(NULL);
    long ms = 50L * try + rand_r(&seed) % (100L * try);
    struct timespec pause = { ms / 1000, (ms % 1000) * 1000 * 1000 };
    nanosleep(&pause, NULL);
}

/*
 * Dumps and plans the domain on l's view.  Returns 0 with *xml and *r,
 * or an exit status with the failure reported.
 */
static int
plan(struct live *l, bool collect, char **xml, struct vn_result *r)
{
    char *err = NULL;
    char *label = nst_printf("domain '%s'", l->name);
    int ret = VN_EXIT_SYSTEM;

    if (!(*xml = vn_domain_xml(l->dom, true, &err)) || !label ||
        vn_transform(&l->o->plan, l->profile, l->host, l->taken, *xml, strlen(*xml),
                     label, r, &err) < 0) {
        fail(l, "%s", err ? err : "out of memory");
        if (r->bad_input) {
            /* --xslt failed on this domain: bad input, nothing changed */
            l->run->result = VN_DOM_REFUSED;
            ret = VN_EXIT_INPUT;
        }
        goto out;
    }
    l->run->changes = nst_report_count(&r->report, NST_CHANGE);
    l->run->warnings = nst_report_count(&r->report, NST_WARNING);
    if (r->refused) {
        if (!collect)
            vn_print_refusal(l->o, r);
        for (size_t i = 0; i < r->report.findings.n && !l->run->error; i++) {
            const struct nst_finding *e = &r->report.findings.items[i];
            if (e->severity == NST_ERROR)
                l->run->error = nst_printf("%s: %s", e->rule, e->message);
        }
        l->run->result = VN_DOM_REFUSED;
        ret = VN_EXIT_INPUT;
        goto out;
    }
    ret = VN_EXIT_OK;
 out:
    free(err);
    free(label);
    return ret;
}

/*
 * --dry-run, --check, or nothing to change: print the report (unless
 * collected for a bulk run) and say whether the domain is pending.
 */
static int
review(struct live *l, bool collect, const struct vn_result *r,
       const char *xml)
{
    const struct vn_apply_opts *o = l->o;
    int ret;

    if (!collect && (!o->quiet || o->dry_run || o->check ||
                     o->output == VN_OUTPUT_JSON) &&
        vn_print_report(o, r, xml, strlen(xml), l->name) < 0)
        ret = VN_EXIT_SYSTEM;
    else
        ret = o->check && r->pending ? VN_EXIT_PENDING : VN_EXIT_OK;
    l->run->result = r->pending ? VN_DOM_PENDING : VN_DOM_UNCHANGED;
    return ret;
}

/*
 * After another run took what this plan counted on: waits, then dumps
 * and plans again on the host as it is now.  Returns what plan() does.
 */
static int
plan_again(struct live *l, bool collect, unsigned int try, char **xml,
           struct vn_result *r)
{
    char *err = NULL;
    int ret;

    vn_warning("domain '%s': another run took what it was planned on "
               "(%s); planning again", l->name, l->clash);
    free(l->clash);
    l->clash = NULL;
    back_off(try);
    free(*xml);
    *xml = NULL;
    vn_result_clear(r);
    memset(r, 0, sizeof(*r));
    nst_host_free(l->fresh);
    l->fresh = NULL;
    if ((ret = fresh_view(l, &l->fresh, &l->fresh_taken, &err)) !=
        VN_EXIT_OK) {
        fail(l, "%s", err ? err : "out of memory");
        free(err);
        return ret;
    }
    l->host = l->fresh;
    l->taken = &l->fresh_taken;
    return plan(l, collect, xml, r);
}

/*
 * What the domain pins after this run (vCPUs, and emulator and I/O
 * threads), for the bulk run's accounting:
 * the plan's when it landed (or would, in a review), else what xml, the
 * definition it had, pins.
 */
static void
record_pins(struct vn_dom_run *run, const struct vn_result *r,
            const char *xml)
{
    struct nst_doc *pinned = NULL;
    struct nst_page_use *uses = NULL;
    size_t nuses = 0;

    if ((run->result == VN_DOM_CHANGED || run->result == VN_DOM_PENDING) &&
        r->out) {
        nst_cpuset_union(&run->pins, &r->plan.vcpus);
        nst_cpuset_union(&run->threads, &r->plan.emulator);
        nst_cpuset_union(&run->threads, &r->plan.iothreads);
        nst_page_counts_add_uses(&run->pages, r->plan.pages, r->plan.npages,
                                 1);
    } else if (xml && nst_doc_parse(xml, strlen(xml), "pins", &pinned,
                                    NULL) == 0) {
        nst_doc_vcpu_pins(pinned, &run->pins, NULL);
        nst_doc_thread_pins(pinned, &run->threads, NULL);
        if (nst_doc_page_use(pinned, &uses, &nuses, NULL) == 0)
            nst_page_counts_add_uses(&run->pages, uses, nuses, 1);
    }
    free(uses);
    nst_doc_free(pinned);
}

int
vn_live_domain(virConnectPtr conn, virDomainPtr dom,
               const struct nst_host *host, const struct nst_cpuset *taken,
               const struct vn_apply_opts *o,
               const struct nst_profile *profile, unsigned int flags,
               struct vn_dom_run *run)
{
    struct live l = { .o = o, .profile = profile, .conn = conn, .dom = dom,
                      .host = host, .taken = taken, .run = run };
    bool collect = flags & VN_LIVE_COLLECT;
    struct vn_result r = { 0 };
    char *xml = NULL;
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
    if ((ret = plan(&l, collect, &xml, &r)) != VN_EXIT_OK)
        goto out;
    if (o->dry_run || o->check || !r.pending) {
        ret = review(&l, collect, &r, xml);
        goto out;
    }
    /* Another run took what this plan counted on: plan again on the
     * host as it is now. */
    for (unsigned int try = 1;
         (ret = define(&l, xml, &r)) != VN_EXIT_OK && l.clash; try++) {
        if (try == MAX_TRIES) {
            fail(&l, "domain '%s': other runs took what it was planned on "
                 "%u times (last time: %s); nothing changed, run again",
                 l.name, try, l.clash);
            break;
        }
        if ((ret = plan_again(&l, collect, try, &xml, &r)) != VN_EXIT_OK)
            goto out;
        if (!r.pending) {            /* someone else did it meanwhile */
            run->result = VN_DOM_UNCHANGED;
            break;
        }
    }
    /* The report of the plan that was defined (or tried last). */
    if (!collect && (!o->quiet || o->output == VN_OUTPUT_JSON) &&
        vn_print_report(o, &r, xml, strlen(xml), l.name) < 0)
        ret = VN_EXIT_SYSTEM;
    if (ret != VN_EXIT_OK || run->result == VN_DOM_UNCHANGED)
        goto out;
    say(&l, "domain '%s' defined (previous definition in '%s')\n", l.name,
        run->backup);
    run->result = VN_DOM_CHANGED;
    if (virDomainIsActive(dom) == 1) {
        run->needs_restart = true;
        if (!o->restart)
            say(&l, "domain '%s' is running: the new definition takes "
                "effect at its next power-off (a reboot inside the guest is "
                "not enough; --restart does it)\n", l.name);
    }
 out:
    record_pins(run, &r, xml);
    if (run->result == VN_DOM_CHANGED || run->result == VN_DOM_PENDING ||
        run->result == VN_DOM_UNCHANGED) {
        run->plan = r.plan;          /* the caller's now */
        run->has_plan = true;
        memset(&r.plan, 0, sizeof(r.plan));
    }
    run->report = r.report;          /* the caller's now */
    memset(&r.report, 0, sizeof(r.report));
    free(l.clash);
    free(xml);
    nst_host_free(l.fresh);
    vn_result_clear(&r);
    return ret;
}

int
vn_live_restart(virConnectPtr conn, virDomainPtr dom,
                const struct vn_apply_opts *o,
                const struct nst_profile *profile, struct vn_dom_run *run)
{
    struct live l = { .o = o, .profile = profile, .conn = conn, .dom = dom,
                      .run = run, .name = vn_domain_name(dom) };
    int ret = restart(&l);
    if (ret != VN_EXIT_OK)
        run->result = VN_DOM_FAILED;
    return ret;
}

bool
vn_live_changes(const struct vn_apply_opts *o)
{
    return !o->dry_run && !o->check;
}

void
vn_dom_run_clear(struct vn_dom_run *run)
{
    free(run->error);
    free(run->backup);
    nst_report_clear(&run->report);
    nst_page_counts_clear(&run->pages);
    nst_plan_clear(&run->plan);
    memset(run, 0, sizeof(*run));
}

int
vn_live_prepare(virConnectPtr conn, const struct vn_plan_opts *o,
                virDomainPtr *skip, size_t nskip, struct nst_host **host,
                struct nst_cpuset *taken, char **err)
{
    if (!(*host = vn_conn_host(conn, o->host_caps, o->domcaps, o->cpu_map,
                               err)))
        return o->host_caps ? VN_EXIT_INPUT : VN_EXIT_SYSTEM;
    struct nst_page_counts pages = { 0 };
    struct nst_cpuset threads;
    int ret = vn_conn_others(conn, skip, nskip,
                             !o->host_caps, taken, &threads, &pages, err);
    /* The others' emulator and I/O threads hold their CPUs too: no vCPU
     * goes there (housekeeping CPUs, shared by threads, are never given
     * to vCPUs anyway). */
    if (ret == 0) {
        nst_cpuset_union(taken, &threads);
        nst_page_counts_take(*host, &pages);
    }
    nst_page_counts_clear(&pages);
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
    struct vn_lock *lock = NULL;
    char *err = NULL;
    int ret = VN_EXIT_SYSTEM;

    if (!(conn = vn_conn_open(o->plan.connect, &err)))
        goto fail;
    if (!(dom = vn_domain_lookup(conn, o->domain, &err))) {
        virErrorPtr e = virGetLastError();
        if (!e || e->code == VIR_ERR_NO_DOMAIN)
            ret = VN_EXIT_INPUT;
        goto fail;
    }
    if (vn_live_changes(o) &&
        vn_lock_take(conn, o->timeout, o->quiet, &lock, &err) < 0)
        goto fail;
    if ((ret = vn_live_prepare(conn, &o->plan, &dom, 1, &host, &taken,
                               &err)) != VN_EXIT_OK)
        goto fail;
    ret = vn_live_domain(conn, dom, host, &taken, o, profile, 0, &run);
    vn_lock_release(lock);       /* a restart moves no pin */
    lock = NULL;
    if (ret == VN_EXIT_OK && run.needs_restart && o->restart)
        ret = vn_live_restart(conn, dom, o, profile, &run);
    goto out;

 fail:
    vn_error("%s", err ? err : "out of memory");
 out:
    vn_lock_release(lock);
    vn_dom_run_clear(&run);
    free(err);
    nst_host_free(host);
    if (dom)
        virDomainFree(dom);
    vn_conn_close(conn);
    return ret;
}
