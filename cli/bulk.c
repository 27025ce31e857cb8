/*
 * bulk.c: many domains of one host in one run
 *
 * One connection, the selected domains in name order.  CPU allocation is
 * host-wide: the vCPU pins of every domain outside the selection are
 * taken from the start.  For each selected domain, the CPUs of the
 * others are taken too: the new pins of those planned before it (their
 * current ones when they did not change), the current pins of those
 * after it.  So a domain already placed well keeps
 * its placement (the library's nst_place_keep) whatever order the others
 * come in, a re-run or a run with a new domain moves nothing, and no two
 * pinned domains share a CPU.  A failure stops only its domain (--fail-fast stops
 * the run).  Restarts come last, --parallel at a time, so a host is
 * restarted in a rolling fashion after every definition is in place.
 */
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "conn.h"
#include "internal.h"
#include "tool.h"

static const char *const result_names[VN_DOM_LAST] = {
    "unchanged", "changed", "pending", "refused", "failed",
};

struct bulk {
    const struct vn_apply_opts *o;
    const struct nst_profile *profile;
    virConnectPtr conn;
    struct nst_host *host;
    virDomainPtr *doms;          /* selected, in name order */
    size_t ndoms;
    size_t nrun;                 /* how many ran (--fail-fast stops early) */
    struct vn_dom_run *runs;     /* one per selected domain */
    struct nst_cpuset *planned;  /* the CPUs taken when each was planned */
    struct nst_cpuset *current;  /* each one's vCPU pins before the run */
    struct nst_cpuset outside;   /* pins of the domains not selected */
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

/* The CPUs taken for domain i: see the top of this file. */
static void
taken_for(const struct bulk *b, size_t i, struct nst_cpuset *out)
{
    *out = b->outside;
    for (size_t j = 0; j < b->ndoms; j++) {
        bool moved = j < i && (b->runs[j].result == VN_DOM_CHANGED ||
                               b->runs[j].result == VN_DOM_PENDING);
        if (j != i)
            nst_cpuset_union(out, moved ? &b->runs[j].pins : &b->current[j]);
    }
}

/* Whether dom's plan is refused for want of free CPUs (a dry plan that
 * prints nothing). */
static bool
short_of_cpus(struct bulk *b, size_t i)
{
    virDomainPtr dom = b->doms[i];
    struct vn_result r = { 0 };
    bool short_of = false;
    char *xml = vn_domain_xml(dom, true, NULL);
    struct nst_cpuset taken;
    taken_for(b, i, &taken);
    if (xml && vn_transform(b->o, b->profile, b->host, &taken, xml,
                            strlen(xml), vn_domain_name(dom), &r, NULL) == 0 &&
        r.refused)
        for (size_t k = 0; k < r.report.nentries; k++)
            short_of |= r.report.entries[k].severity == NST_ERROR &&
                        strcmp(r.report.entries[k].rule, "placement") == 0;
    vn_result_clear(&r);
    free(xml);
    return short_of;
}

/* Plans and defines one domain; with --overcommit, a domain that finds
 * no free CPUs is planned sharing them, with a warning. */
static int
run_one(struct bulk *b, size_t i)
{
    struct vn_dom_run *run = &b->runs[i];
    bool shared = b->o->overcommit && short_of_cpus(b, i);

    if (shared) {
        vn_warning("domain '%s': no free CPUs for it; --overcommit: sharing "
                   "CPUs with other domains", vn_domain_name(b->doms[i]));
        nst_cpuset_clear_all(&b->planned[i]);
    } else {
        taken_for(b, i, &b->planned[i]);
    }
    int ret = vn_live_domain(b->conn, b->doms[i], b->host, &b->planned[i],
                             b->o, b->profile,
                             b->o->output == VN_OUTPUT_JSON, run);
    if (shared) {
        nst_report_add(&run->report, NST_WARNING, "placement", "/domain/vcpu",
                       "overcommitted: CPUs are shared with other domains");
        run->warnings++;
    }
    return ret;
}

/* Restart workers take the next changed running domain off the queue. */
static void *
restart_worker(void *opaque)
{
    struct bulk *b = opaque;
    for (;;) {
        pthread_mutex_lock(&b->lock);
        size_t i = b->next_restart;
        while (i < b->nrun && !b->runs[i].needs_restart)
            i++;
        b->next_restart = i + 1;
        pthread_mutex_unlock(&b->lock);
        if (i >= b->nrun)
            return NULL;
        vn_live_restart(b->conn, b->doms[i], b->host, &b->planned[i], b->o,
                        b->profile, &b->runs[i]);
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
}

static void
print_summary(const struct bulk *b)
{
    size_t width = 6;
    for (size_t i = 0; i < b->nrun; i++)
        if (strlen(b->runs[i].name) > width)
            width = strlen(b->runs[i].name);
    printf("\n%-*s  %-9s  %7s  %8s  %s\n", (int)width, "DOMAIN", "RESULT",
           "CHANGES", "WARNINGS", "BACKUP");
    for (size_t i = 0; i < b->nrun; i++) {
        const struct vn_dom_run *r = &b->runs[i];
        printf("%-*s  %-9s  %7zu  %8zu  %s\n", (int)width, r->name,
               result_names[r->result], r->changes, r->warnings,
               r->backup ? r->backup : "-");
    }
}

/* One document for the whole run: docs/json.md describes it. */
static int
print_json(const struct bulk *b)
{
    struct nst_buf buf = { 0 };
    size_t counts[VN_DOM_LAST] = { 0 };

    nst_buf_adds(&buf, "{\n  \"connect\": ");
    nst_buf_add_json(&buf, b->o->connect);
    nst_buf_adds(&buf, ",\n  \"profile\": ");
    nst_buf_add_json(&buf, b->profile->name);
    nst_buf_adds(&buf, ",\n  \"domains\": [");
    for (size_t i = 0; i < b->nrun; i++) {
        const struct vn_dom_run *r = &b->runs[i];
        /* A domain stopped before planning (transient) has no report. */
        char *report = r->report.domain ?
                       nst_report_format_json(&r->report) : NULL;
        counts[r->result]++;
        nst_buf_adds(&buf, i ? ",\n    {\"name\": " : "\n    {\"name\": ");
        nst_buf_add_json(&buf, r->name);
        nst_buf_addf(&buf, ", \"result\": \"%s\", \"changes\": %zu, "
                     "\"warnings\": %zu, \"backup\": ",
                     result_names[r->result], r->changes, r->warnings);
        nst_buf_add_json(&buf, r->backup);
        nst_buf_adds(&buf, ", \"error\": ");
        nst_buf_add_json(&buf, r->error);
        nst_buf_adds(&buf, ",\n     \"report\": ");
        /* The report document, one level in. */
        for (const char *c = report ? report : "null"; *c; c++) {
            nst_buf_add(&buf, c, 1);
            if (*c == '\n' && c[1])
                nst_buf_adds(&buf, "     ");
        }
        if (buf.len && buf.data[buf.len - 1] == '\n')
            buf.data[--buf.len] = '\0';
        nst_buf_adds(&buf, "}");
        free(report);
    }
    nst_buf_adds(&buf, b->nrun ? "\n  ],\n  \"summary\": {" :
                                  "],\n  \"summary\": {");
    for (int k = 0; k < VN_DOM_LAST; k++)
        nst_buf_addf(&buf, "%s\"%s\": %zu", k ? ", " : "", result_names[k],
                     counts[k]);
    nst_buf_adds(&buf, "}\n}\n");
    size_t len;
    char *text = nst_buf_finish(&buf, &len);
    int ret = text ? vn_write_stdout(text, len) : -1;
    free(text);
    return ret;
}

int
vn_apply_bulk(const struct vn_apply_opts *o, const struct nst_profile *profile)
{
    struct bulk b = { .o = o, .profile = profile };
    char *err = NULL;
    int ret = VN_EXIT_SYSTEM;

    if (!(b.conn = vn_conn_open(o->connect, &err)))
        goto fail;
    if ((ret = select_domains(&b, &err)) != VN_EXIT_OK)
        goto fail;
    ret = VN_EXIT_SYSTEM;
    if ((ret = vn_live_prepare(b.conn, o, (void **)b.doms, b.ndoms, &b.host,
                               &b.outside, &err)) != VN_EXIT_OK)
        goto fail;
    ret = VN_EXIT_SYSTEM;
    b.runs = calloc(b.ndoms ? b.ndoms : 1, sizeof(*b.runs));
    b.planned = calloc(b.ndoms ? b.ndoms : 1, sizeof(*b.planned));
    b.current = calloc(b.ndoms ? b.ndoms : 1, sizeof(*b.current));
    if (!b.runs || !b.planned || !b.current) {
        nst_set_error(&err, "out of memory");
        goto fail;
    }

    for (size_t i = 0; i < b.ndoms; i++)
        if (vn_domain_pins(b.doms[i], &b.current[i], &err) < 0)
            goto fail;
    bool stop = false;
    for (; b.nrun < b.ndoms && !stop; b.nrun++) {
        progress(&b, b.nrun);
        run_one(&b, b.nrun);
        stop = o->fail_fast && (b.runs[b.nrun].result == VN_DOM_FAILED ||
                                b.runs[b.nrun].result == VN_DOM_REFUSED);
    }
    progress(&b, b.ndoms);
    if (o->restart)
        restart_all(&b);

    bool failed = false, pending = false;
    for (size_t i = 0; i < b.nrun; i++) {
        failed |= b.runs[i].result == VN_DOM_FAILED ||
                  b.runs[i].result == VN_DOM_REFUSED;
        pending |= b.runs[i].result == VN_DOM_PENDING;
    }
    if (o->output == VN_OUTPUT_JSON ? print_json(&b) < 0 :
        (!o->quiet && (print_summary(&b), fflush(stdout) != 0))) {
        vn_error("cannot write to stdout");
        ret = VN_EXIT_SYSTEM;
    } else {
        ret = failed ? VN_EXIT_PARTIAL :
              o->check && pending ? VN_EXIT_PENDING : VN_EXIT_OK;
    }
    goto out;

 fail:
    vn_error("%s", err ? err : "out of memory");
 out:
    for (size_t i = 0; b.runs && i < b.nrun; i++)
        vn_dom_run_clear(&b.runs[i]);
    free(b.runs);
    free(b.planned);
    free(b.current);
    for (size_t i = 0; i < b.ndoms; i++)
        virDomainFree(b.doms[i]);
    free(b.doms);
    nst_host_free(b.host);
    free(err);
    vn_conn_close(b.conn);
    return ret;
}
