/*
 * bulk.c: many domains of one host in one run
 *
 * One connection, the selected domains in name order.  CPU allocation is
 * host-wide: the vCPU, emulator and I/O thread pins of every domain
 * outside the selection are taken from the start (threads' CPUs only
 * from vCPUs: threads share the housekeeping CPUs).  For each selected domain, the CPUs of the
 * others are taken too: the new pins of those planned before it (their
 * current ones when they did not change), the current pins of those
 * after it.  So a domain already placed well keeps
 * its placement (the library's nst_place_keep) whatever order the others
 * come in, a re-run or a run with a new domain moves nothing, and no two
 * pinned domains share a CPU.  A failure stops only its domain (--fail-fast stops
 * the run).  Restarts come last, --parallel at a time, so a host is
 * restarted in a rolling fashion after every definition is in place.
 * This model is the plan; each define is still re-checked against what
 * libvirt holds at that moment (live.c), and the run holds the run lock
 * (lock.h) until its restarts.
 *
 * Memory stays flat in the number of domains: each domain's report and
 * diff are printed (or, with --output json, its entry of the document)
 * as soon as its result is final, and what is kept of it is a row of the
 * summary table and its pins as text.  The counting is the library's
 * (struct nst_holdings): the CPUs of the other domains are one count per
 * CPU, not a set per domain.
 *
 * Hugepages are allocated the same way: each domain is planned on a view
 * of the host (nst_holdings_host, its own copy) whose free pages leave
 * out what the other selected domains' definitions use (the new ones of
 * those planned before it), after vn_live_prepare took off what the
 * domains outside the selection use.  So two guests are never promised
 * the same pages.
 */
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json.h>
#include <libvirt/virterror.h>

#include "apply.h"
#include "conn.h"
#include "nestify.h"
#include "lock.h"
#include "map.h"
#include "tool.h"

static const char *const result_names[VN_DOM_LAST] = {
    "unchanged", "changed", "pending", "refused", "failed",
};

/* What is kept of one selected domain: its row of the summary. */
struct row {
    enum vn_dom_result result;
    size_t changes;
    size_t warnings;
    char *backup;                /* or NULL */
    char *error;                 /* or NULL */
    char *pins;                  /* the vCPU pins it holds in held */
    char *threads;               /* its emulator and I/O thread pins */
    struct nst_page_counts pages;  /* the hugepages it holds in held */
    bool shared;                 /* --overcommit placed it on taken CPUs */
    bool needs_restart;          /* defined while running, --restart */
    /* -o json: its report document (NULL: none), waiting for its
     * restart */
    struct json_object *report;
    struct json_object *plan_pins;  /* -o json: its "pins", or NULL */
};

struct bulk {
    const struct vn_apply_opts *o;
    const struct nst_profile *profile;
    virConnectPtr conn;
    struct nst_host *host;
    virDomainPtr *doms;          /* selected, in name order */
    size_t ndoms;
    size_t nrun;                 /* how many ran (--fail-fast stops early) */
    struct row *rows;            /* one per selected domain */
    /* The pins of the domains not selected (held.outside), and what the
     * selected ones hold: the new pins and pages of those planned so
     * far, the current ones of the others. */
    struct nst_holdings held;
    size_t njson;                /* domain entries printed (-o json) */
    bool write_failed;           /* stdout failed */
    size_t next_restart;         /* restart queue, under lock */
    pthread_mutex_t lock;
};

static int
compare_domains(const void *a, const void *b)
{
    return strcmp(vn_domain_name(*(virDomainPtr const *)a),
                  vn_domain_name(*(virDomainPtr const *)b));
}

static bool
state_matches(const struct vn_apply_opts *o, virDomainPtr dom)
{
    if (!o->state || strcmp(o->state, "any") == 0)
        return true;
    bool active = virDomainIsActive(dom) == 1;
    return strcmp(o->state, "running") == 0 ? active : !active;
}

/* Whether the options select dom. */
static bool
selected(const struct vn_apply_opts *o, virDomainPtr dom)
{
    const char *name = vn_domain_name(dom);
    /* Without --domain, every domain passes to the filters. */
    bool named = o->all || !o->ndomains;

    for (size_t i = 0; i < o->ndomains && !named; i++)
        named = strcmp(o->domains[i], name) == 0;
    if (o->match && fnmatch(o->match, name, 0) != 0)
        return false;
    for (size_t i = 0; i < o->nexcludes; i++)
        if (fnmatch(o->excludes[i], name, 0) == 0)
            return false;
    return named && state_matches(o, dom);
}

/* The selection, in name order; named domains must exist.  Returns an
 * exit status: VN_EXIT_OK, or the failure's with *err set. */
static int
select_domains(struct bulk *b, char **err)
{
    virDomainPtr *all = NULL;
    int n = virConnectListAllDomains(b->conn, &all, 0);

    if (n < 0) {
        nst_set_error(err, "cannot list domains: %s", vn_libvirt_error());
        return VN_EXIT_SYSTEM;
    }
    for (size_t i = 0; i < b->o->ndomains; i++) {
        bool found = false;
        for (int k = 0; k < n && !found; k++)
            found = strcmp(vn_domain_name(all[k]), b->o->domains[i]) == 0;
        if (!found) {
            nst_set_error(err, "domain '%s' not found", b->o->domains[i]);
            for (int k = 0; k < n; k++)
                virDomainFree(all[k]);
            free(all);
            return VN_EXIT_INPUT;
        }
    }
    b->doms = calloc(n ? (size_t)n : 1, sizeof(*b->doms));
    for (int k = 0; k < n; k++) {
        if (b->doms && selected(b->o, all[k]))
            b->doms[b->ndoms++] = all[k];
        else
            virDomainFree(all[k]);
    }
    free(all);
    if (!b->doms) {
        nst_set_error(err, "out of memory");
        return VN_EXIT_SYSTEM;
    }
    qsort(b->doms, b->ndoms, sizeof(*b->doms), compare_domains);
    return VN_EXIT_OK;
}

/* "[3/50] web1" on a terminal, so a long run shows where it is. */
static void
progress(const struct bulk *b, size_t i)
{
    /* Fleets run hosts side by side: their lines would overwrite. */
    if (b->o->quiet || b->o->nconnects > 1 || !isatty(STDERR_FILENO))
        return;
    if (i < b->ndoms)
        fprintf(stderr, "\r\033[K[%zu/%zu] %s", i + 1, b->ndoms,
                vn_domain_name(b->doms[i]));
    else
        fputs("\r\033[K", stderr);
}

/* The pins row i holds (vCPUs', or threads'), parsed back from their
 * text. */
static void
row_pins(const char *text, struct nst_cpuset *pins)
{
    nst_cpuset_clear_all(pins);
    if (text && *text)
        nst_cpuset_parse(text, pins, NULL);
}

/* Whether dom's plan is refused for want of free CPUs (a dry plan that
 * prints nothing). */
static bool
short_of_cpus(struct bulk *b, size_t i, const struct nst_host *host,
              const struct nst_cpuset *taken)
{
    virDomainPtr dom = b->doms[i];
    struct vn_result r = { 0 };
    bool short_of = false;
    char *xml = vn_domain_xml(dom, true, NULL);
    if (xml && vn_transform(&b->o->plan, b->profile, host, taken, xml,
                            strlen(xml), vn_domain_name(dom), &r, NULL) == 0 &&
        r.refused)
        for (size_t k = 0; k < r.report.findings.n; k++) {
            const struct nst_finding *e = &r.report.findings.items[k];
            short_of |= e->severity == NST_ERROR &&
                        nst_rule_find(e->rule) == NST_RULE_PLACEMENT;
        }
    vn_result_clear(&r);
    free(xml);
    return short_of;
}

static void
write_out(struct bulk *b, struct nst_buf *buf)
{
    size_t len;
    char *text = nst_buf_finish(buf, &len);
    if (!text || vn_write_stdout(text, len) < 0)
        b->write_failed = true;
    free(text);
}

/*
 * The JSON document (docs/json.md) is written as the run goes: its head,
 * each domain's entry once its result is final, its tail.  Each value is
 * json-c's text of it at the depth it has in the document, so the pieces
 * make what json-c writes for the whole.
 */
static void
write_json(struct bulk *b, const char *before, struct json_object *val,
           unsigned int level, bool ok, const char *after)
{
    char *text = nst_json_format(val, level, ok);
    struct nst_buf buf = { 0 };

    if (!text) {
        b->write_failed = true;
        return;
    }
    nst_buf_adds(&buf, before);
    nst_buf_adds(&buf, text);
    nst_buf_adds(&buf, after);
    free(text);
    write_out(b, &buf);
}

/* "pins" of a domain entry (docs/json.md, the bulk document): what the
 * plan has it hold, pin by pin; NULL when out of memory. */
static struct json_object *
plan_pins_json(const struct nst_plan *plan)
{
    struct json_object *pins = json_object_new_object();
    struct json_object *pages = json_object_new_array();
    bool ok = pins && pages;

    nst_json_add_cpuset(pins, "vcpus", &plan->vcpus, &ok);
    nst_json_add_cpuset(pins, "emulator", &plan->emulator, &ok);
    nst_json_add_cpuset(pins, "iothreads", &plan->iothreads, &ok);
    for (size_t i = 0; i < plan->npages; i++) {
        struct json_object *use = json_object_new_object();
        nst_json_add_int(use, "cell", (long long)plan->pages[i].host_cell,
                         &ok);
        nst_json_add_int(use, "size_kib", (long long)plan->pages[i].size_kib,
                         &ok);
        nst_json_add_int(use, "pages", (long long)plan->pages[i].pages, &ok);
        nst_json_append(pages, use, &ok);
    }
    nst_json_add(pins, "hugepages", pages, &ok);
    if (!ok) {
        json_object_put(pins);
        return NULL;
    }
    return pins;
}

/* One entry of "domains"; hands the row's report over. */
static void
print_json_entry(struct bulk *b, size_t i)
{
    struct row *r = &b->rows[i];
    struct json_object *entry = json_object_new_object();
    bool ok = true;

    nst_json_add_string(entry, "name", vn_domain_name(b->doms[i]), &ok);
    nst_json_add_string(entry, "result", result_names[r->result], &ok);
    nst_json_add_int(entry, "changes", (long long)r->changes, &ok);
    nst_json_add_int(entry, "warnings", (long long)r->warnings, &ok);
    nst_json_add_string(entry, "backup", r->backup, &ok);
    nst_json_add_string(entry, "error", r->error, &ok);
    if (r->report)
        nst_json_add(entry, "report", r->report, &ok);
    else
        nst_json_add_null(entry, "report", &ok);
    r->report = NULL;
    /* null for every refused or failed domain (docs/json.md), also one
     * planned and defined whose restart then failed. */
    if (r->plan_pins && r->result != VN_DOM_REFUSED &&
        r->result != VN_DOM_FAILED) {
        nst_json_add(entry, "pins", r->plan_pins, &ok);
    } else {
        json_object_put(r->plan_pins);
        nst_json_add_null(entry, "pins", &ok);
    }
    r->plan_pins = NULL;
    write_json(b, b->njson++ ? ",\n    " : "    ", entry, 2, ok, "");
}

/* Keeps what the summary needs of run in row i, and hands its report
 * over: printed now (JSON) unless a restart is still to come. */
static void
keep_row(struct bulk *b, size_t i, struct vn_dom_run *run)
{
    struct row *row = &b->rows[i];
    row->result = run->result;
    row->changes = run->changes;
    row->warnings = run->warnings;
    row->backup = run->backup;
    row->error = run->error;
    row->needs_restart = run->needs_restart && b->o->restart;
    run->backup = run->error = NULL;
    if (b->o->output == VN_OUTPUT_JSON) {
        /* A domain stopped before planning (transient) has no report. */
        if (run->report.domain &&
            !(row->report = nst_report_to_json(&run->report)))
            b->write_failed = true;
        if (run->has_plan && !(row->plan_pins = plan_pins_json(&run->plan)))
            b->write_failed = true;
        if (!row->needs_restart)
            print_json_entry(b, i);
    }
}

/* Plans and defines one domain; with --overcommit, a domain that finds
 * no free CPUs is planned sharing them, with a warning. */
static void
run_one(struct bulk *b, size_t i)
{
    struct vn_dom_run run = { 0 };
    struct nst_cpuset own, own_threads, taken;
    struct nst_host *host = nst_holdings_host(&b->held, b->host,
                                              &b->rows[i].pages);

    if (!host) {
        vn_error("domain '%s': out of memory", vn_domain_name(b->doms[i]));
        b->rows[i].result = VN_DOM_FAILED;
        return;
    }
    row_pins(b->rows[i].pins, &own);
    row_pins(b->rows[i].threads, &own_threads);
    nst_holdings_taken(&b->held, &own, &own_threads, &taken);
    b->rows[i].shared = b->o->overcommit &&
                        short_of_cpus(b, i, host, &taken);
    if (b->rows[i].shared) {
        vn_warning("domain '%s': no free CPUs for it; --overcommit: sharing "
                   "CPUs with other domains", vn_domain_name(b->doms[i]));
        nst_cpuset_clear_all(&taken);
    }
    vn_live_domain(b->conn, b->doms[i], host, &taken, b->o, b->profile,
                   b->o->output == VN_OUTPUT_JSON ? VN_LIVE_COLLECT : 0,
                   &run);
    nst_host_free(host);
    if (b->rows[i].shared) {
        nst_report_add(&run.report, NST_WARNING,
                       nst_rules()[NST_RULE_PLACEMENT].name, "/domain/vcpu",
                       "overcommitted: CPUs are shared with other domains");
        run.warnings++;
    }
    if (run.result == VN_DOM_CHANGED || run.result == VN_DOM_PENDING) {
        char *pins = nst_cpuset_format(&run.pins);
        char *threads = nst_cpuset_format(&run.threads);
        if (pins && threads) {
            nst_holdings_add(&b->held, &own, &own_threads, NULL, -1);
            nst_holdings_add(&b->held, &run.pins, &run.threads, NULL, 1);
            free(b->rows[i].pins);
            b->rows[i].pins = pins;
            free(b->rows[i].threads);
            b->rows[i].threads = threads;
        } else {
            free(pins);
            free(threads);
        }
        struct nst_page_counts before = b->rows[i].pages;
        if (nst_holdings_add(&b->held, NULL, NULL, &before, -1) == 0 &&
            nst_holdings_add(&b->held, NULL, NULL, &run.pages, 1) == 0) {
            b->rows[i].pages = run.pages;
            run.pages = before;          /* freed with run */
        }
    }
    keep_row(b, i, &run);
    vn_dom_run_clear(&run);
}

/* Restart workers take the next changed running domain off the queue. */
static void *
restart_worker(void *opaque)
{
    struct bulk *b = opaque;
    for (;;) {
        pthread_mutex_lock(&b->lock);
        size_t i = b->next_restart;
        while (i < b->nrun && !b->rows[i].needs_restart)
            i++;
        b->next_restart = i + 1;
        pthread_mutex_unlock(&b->lock);
        if (i >= b->nrun)
            return NULL;

        struct row *row = &b->rows[i];
        struct vn_dom_run run = { .result = row->result,
                                  .backup = row->backup,
                                  .error = row->error };
        vn_live_restart(b->conn, b->doms[i], b->o, b->profile, &run);
        row->result = run.result;
        row->error = run.error;
    }
}

static void
restart_all(struct bulk *b)
{
    unsigned int n = b->o->parallel ? b->o->parallel : 1;
    pthread_t *threads = calloc(n, sizeof(*threads));
    unsigned int started = 0;

    pthread_mutex_init(&b->lock, NULL);
    for (; threads && started < n; started++)
        if (pthread_create(&threads[started], NULL, restart_worker, b) != 0)
            break;
    if (!started)
        restart_worker(b);
    for (unsigned int t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    pthread_mutex_destroy(&b->lock);
    free(threads);
    /* Their entries of the JSON document come last, in name order. */
    for (size_t i = 0; i < b->nrun; i++) {
        if (b->rows[i].needs_restart && b->o->output == VN_OUTPUT_JSON)
            print_json_entry(b, i);
        json_object_put(b->rows[i].report);
        b->rows[i].report = NULL;
        json_object_put(b->rows[i].plan_pins);
        b->rows[i].plan_pins = NULL;
    }
}

static void
print_summary(struct bulk *b)
{
    size_t width = 6;
    for (size_t i = 0; i < b->nrun; i++)
        if (strlen(vn_domain_name(b->doms[i])) > width)
            width = strlen(vn_domain_name(b->doms[i]));
    printf("\n%-*s  %-9s  %7s  %8s  %s\n", (int)width, "DOMAIN", "RESULT",
           "CHANGES", "WARNINGS", "BACKUP");
    for (size_t i = 0; i < b->nrun; i++) {
        const struct row *r = &b->rows[i];
        printf("%-*s  %-9s  %7zu  %8zu  %s\n", (int)width,
               vn_domain_name(b->doms[i]), result_names[r->result],
               r->changes, r->warnings, r->backup ? r->backup : "-");
    }
    if (fflush(stdout) != 0)
        b->write_failed = true;
}

static void
print_json_head(struct bulk *b)
{
    struct json_object *connect = b->o->plan.connect ?
                                  json_object_new_string(b->o->plan.connect) :
                                  NULL;
    struct json_object *profile = json_object_new_string(b->profile->name);

    write_json(b, "{\n  \"connect\": ", connect, 1,
               !b->o->plan.connect || connect, ",\n");
    write_json(b, "  \"profile\": ", profile, 1, profile != NULL,
               ",\n  \"domains\": [\n");
}

static void
print_json_tail(struct bulk *b)
{
    size_t counts[VN_DOM_LAST] = { 0 };
    struct json_object *summary = json_object_new_object();
    bool ok = true;

    for (size_t i = 0; i < b->nrun; i++)
        counts[b->rows[i].result]++;
    for (int k = 0; k < VN_DOM_LAST; k++)
        nst_json_add_int(summary, result_names[k], (long long)counts[k], &ok);
    write_json(b, b->njson ? "\n  ],\n  \"summary\": " :
                             "  ],\n  \"summary\": ", summary, 1, ok,
               "\n}\n");
}

/* What every selected domain holds now, counted in held
 * (vn_live_prepare gave back what they hold live when the counts came
 * from the connection). */
static int
count_current_usage(struct bulk *b, char **err)
{
    for (size_t i = 0; i < b->ndoms; i++) {
        struct nst_cpuset pins, threads;
        struct nst_page_counts live = { 0 };
        int ret = vn_domain_usage(b->doms[i], &pins, &threads,
                                  &b->rows[i].pages, &live, err);
        nst_page_counts_clear(&live);
        if (ret < 0)
            return -1;
        if (nst_holdings_add(&b->held, &pins, &threads, &b->rows[i].pages,
                             1) < 0) {
            nst_set_error(err, "out of memory");
            return -1;
        }
        if (!(b->rows[i].pins = nst_cpuset_format(&pins)) ||
            !(b->rows[i].threads = nst_cpuset_format(&threads))) {
            nst_set_error(err, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* --map: the plan drawn after the summary, each domain of the run with
 * what it holds in held (its new pins when it changed), the domains
 * outside the run as taken. */
static void
print_map(struct bulk *b)
{
    struct nst_cpuset housekeeping;
    struct nst_map *map;
    bool ok;

    nst_profile_housekeeping(b->profile, b->host, &housekeeping);
    ok = (map = nst_map_new(b->host, &housekeeping, &b->held.outside));
    for (size_t i = 0; ok && i < b->nrun; i++) {
        struct nst_cpuset pins, threads;
        row_pins(b->rows[i].pins, &pins);
        row_pins(b->rows[i].threads, &threads);
        ok = nst_map_add(map, vn_domain_name(b->doms[i]), &pins, &threads,
                         &b->rows[i].pages,
                         b->rows[i].shared ? "overcommitted by --overcommit" :
                         NULL) == 0;
    }
    printf("\n");
    if (!ok)
        vn_error("cannot draw the map: out of memory");
    if (!ok || vn_map_print(map, VN_MAP_TEXT, b->o->color) < 0)
        b->write_failed = true;
    nst_map_free(map);
}

/* The run's status: a write to stdout failed, a domain failed or was
 * refused (partial), one is pending under --check, or all is well. */
static int
exit_status(const struct bulk *b)
{
    bool failed = false, pending = false;

    for (size_t i = 0; i < b->nrun; i++) {
        failed |= b->rows[i].result == VN_DOM_FAILED ||
                  b->rows[i].result == VN_DOM_REFUSED;
        pending |= b->rows[i].result == VN_DOM_PENDING;
    }
    if (b->write_failed) {
        vn_error("cannot write to stdout");
        return VN_EXIT_SYSTEM;
    }
    return failed ? VN_EXIT_PARTIAL :
           b->o->check && pending ? VN_EXIT_PENDING : VN_EXIT_OK;
}

static void
bulk_free(struct bulk *b)
{
    for (size_t i = 0; b->rows && i < b->ndoms; i++) {
        free(b->rows[i].backup);
        free(b->rows[i].error);
        free(b->rows[i].pins);
        free(b->rows[i].threads);
        json_object_put(b->rows[i].report);
        json_object_put(b->rows[i].plan_pins);
        nst_page_counts_clear(&b->rows[i].pages);
    }
    free(b->rows);
    nst_holdings_clear(&b->held);
    for (size_t i = 0; i < b->ndoms; i++)
        virDomainFree(b->doms[i]);
    free(b->doms);
    nst_host_free(b->host);
    vn_conn_close(b->conn);
    free(b);
}

int
vn_apply_bulk(const struct vn_apply_opts *o, const struct nst_profile *profile)
{
    struct bulk *b = calloc(1, sizeof(*b));   /* held: 16 KiB */
    struct vn_lock *lock = NULL;
    char *err = NULL;
    int ret = VN_EXIT_SYSTEM;

    if (!b) {
        vn_error("out of memory");
        return VN_EXIT_SYSTEM;
    }
    b->o = o;
    b->profile = profile;
    if (!(b->conn = vn_conn_open(o->plan.connect, &err)))
        goto fail;
    if ((ret = select_domains(b, &err)) != VN_EXIT_OK)
        goto fail;
    ret = VN_EXIT_SYSTEM;
    if (vn_live_changes(o) &&
        vn_lock_take(b->conn, o->timeout, o->quiet, &lock, &err) < 0)
        goto fail;
    if ((ret = vn_live_prepare(b->conn, &o->plan, b->doms, b->ndoms,
                               &b->host, &b->held.outside, &err)) != VN_EXIT_OK)
        goto fail;
    /* A CPU list the host lacks is wrong for every domain: one refusal
     * for the run, before the first. */
    if ((o->plan.has_taken &&
         nst_host_check_cpus(b->host, &o->plan.taken, "--taken", &err) < 0) ||
        nst_profile_check_host(profile, b->host, &err) < 0) {
        ret = VN_EXIT_INPUT;
        goto fail;
    }
    ret = VN_EXIT_SYSTEM;
    if (!(b->rows = calloc(b->ndoms ? b->ndoms : 1, sizeof(*b->rows)))) {
        nst_set_error(&err, "out of memory");
        goto fail;
    }
    if (count_current_usage(b, &err) < 0)
        goto fail;

    if (o->output == VN_OUTPUT_JSON)
        print_json_head(b);
    bool stop = false;
    for (; b->nrun < b->ndoms && !stop; b->nrun++) {
        progress(b, b->nrun);
        run_one(b, b->nrun);
        stop = o->fail_fast && (b->rows[b->nrun].result == VN_DOM_FAILED ||
                                b->rows[b->nrun].result == VN_DOM_REFUSED);
    }
    progress(b, b->ndoms);
    vn_lock_release(lock);       /* restarts move no pin */
    lock = NULL;
    if (o->restart)
        restart_all(b);
    if (o->output == VN_OUTPUT_JSON)
        print_json_tail(b);
    else if (!o->quiet)
        print_summary(b);
    if (o->map && o->output != VN_OUTPUT_JSON)
        print_map(b);
    ret = exit_status(b);
    goto out;

 fail:
    vn_error("%s", err ? err : "out of memory");
 out:
    vn_lock_release(lock);
    free(err);
    bulk_free(b);
    return ret;
}
