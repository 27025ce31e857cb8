/*
 * cmd-verify.c: "virt-nestify verify", is a running domain ready to run VMs?
 *
 * Two sides, each a list of checks with PASS, FAIL (with the fix) or
 * SKIP:
 *   - the live XML: re-planned with the profile (as live.c does after a
 *     restart), it must need no change to its CPU mode, its vmx/svm
 *     requirement, its vCPU pins and the rest of what the profile sets;
 *   - inside the guest, through the QEMU guest agent (libvirt's agent
 *     passthrough, guest-exec and guest-exec-status): vmx or svm in
 *     /proc/cpuinfo, /dev/kvm, and the kvm module's nested parameter;
 *     in a Windows guest, what Windows reports of the Hyper-V
 *     requirements instead.
 * The agent is never waited for longer than --timeout in all: a guest
 * without an agent channel, or whose agent does not answer, gets a FAIL
 * saying so, not a hang.  This file holds the command, the live XML
 * checks and the output; the guest side is verify-guest.c, and the
 * protocol itself (JSON, base64, the guest files) agent.c, without
 * libvirt.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <json.h>

#include "transform.h"
#include "conn.h"
#include "nestify.h"
#include "options.h"
#include "tool.h"
#include "verify.h"
#include "verify-check.h"

int
vn_verify_parse_options(int argc, char **argv, struct vn_verify_opts *o)
{
    struct vn_given given;

    memset(o, 0, sizeof(*o));
    o->timeout = 30;
    o->output = VN_OUTPUT_TEXT;
    o->agent_command = virDomainQemuAgentCommand;
    int r = vn_options_parse_checked(VN_CMD_VERIFY, argc, argv, o, &given);
    if (r != 0)
        return r;
    if (!o->profile_owned && !o->plan.nprofile_files &&
        !(o->profile_owned = nst_printf("nested"))) {
        vn_error("out of memory");
        return -1;
    }
    o->plan.profile = o->profile_owned;
    return 0;
}

void
vn_verify_opts_clear(struct vn_verify_opts *o)
{
    free(o->plan.profile_files);
    free(o->plan.sets);
    free(o->profile_owned);
    memset(o, 0, sizeof(*o));
}

/* ---------------------------------------------------------------- checks */

static const char *const result_names[CHECK_LAST] = { "pass", "fail",
                                                      "skip" };

static const char *const check_names[CHECK_ID_LAST] = {
    "live-cpu-mode", "live-cpu-feature", "live-vcpu-pins", "live-other",
    "guest-agent", "guest-cpu-flags", "guest-kvm-device", "guest-kvm-nested",
};

/* Replaces *text with the formatted message. */
static void
set_text(char **text, const char *fmt, va_list ap)
{
    free(*text);
    *text = nst_vprintf(fmt, ap);
}

void
vn_check(struct verify *v, enum check_id id, enum check_result result,
         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_text(&v->checks[id].message, fmt, ap);
    va_end(ap);
    v->checks[id].result = result;
}

void
vn_fix(struct verify *v, enum check_id id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_text(&v->checks[id].fix, fmt, ap);
    va_end(ap);
}

char *
vn_verify_live_string(const struct verify *v, const char *expr)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(v->live);
    xmlXPathObjectPtr obj = ctx ? xmlXPathEvalExpression(BAD_CAST expr, ctx)
                                : NULL;
    char *s = nst_printf("%s", obj && obj->type == XPATH_STRING &&
                         obj->stringval ? (const char *)obj->stringval : "");
    xmlXPathFreeObject(obj);
    xmlXPathFreeContext(ctx);
    return s;
}

const char *
vn_verify_connect_arg(const struct verify *v, char *buf, size_t size)
{
    if (!v->o->plan.connect)
        return "";
    snprintf(buf, size, " -c '%s'", v->o->plan.connect);
    return buf;
}

/* --------------------------------------------------------- the live XML */

/* The live check that covers each policy rule (lib/policy.c's table,
 * enum nst_rule); an entry of no rule ("internal") goes to live-other. */
static const enum check_id rule_checks[NST_RULE_LAST] = {
    [NST_RULE_DOMAIN] = LIVE_OTHER,
    [NST_RULE_CPU_MODE] = LIVE_CPU_MODE,
    [NST_RULE_CPU_FEATURE] = LIVE_CPU_FEATURE,
    /* Hyper-V enlightenments are how the guest's CPU presents itself
     * (CPUID leaves), part of what nested gives a Windows guest */
    [NST_RULE_HYPERV] = LIVE_CPU_MODE,
    [NST_RULE_MITIGATIONS] = LIVE_OTHER,
    [NST_RULE_PLACEMENT] = LIVE_VCPU_PINS,
    [NST_RULE_VCPU_PINNING] = LIVE_VCPU_PINS,
    [NST_RULE_EMULATOR_PINNING] = LIVE_VCPU_PINS,
    [NST_RULE_IOTHREAD_PINNING] = LIVE_VCPU_PINS,
    [NST_RULE_TOPOLOGY] = LIVE_VCPU_PINS,
    [NST_RULE_GUEST_NUMA] = LIVE_OTHER,
    [NST_RULE_NUMATUNE] = LIVE_OTHER,
    [NST_RULE_HUGEPAGES] = LIVE_OTHER,
    [NST_RULE_MEMTUNE] = LIVE_OTHER,
    [NST_RULE_CPU_LIMITS] = LIVE_OTHER,
    [NST_RULE_REALTIME] = LIVE_OTHER,
    [NST_RULE_IOTHREADS] = LIVE_OTHER,
    [NST_RULE_DISK_CACHE] = LIVE_OTHER,
    [NST_RULE_NET_QUEUES] = LIVE_OTHER,
    [NST_RULE_BALLOON] = LIVE_OTHER,
};

/* Where the rule runs in nst_apply's order: a refusal by one means the
 * later ones did not run.  An entry of no rule comes before all. */
static size_t
rule_rank(const char *rule)
{
    enum nst_rule r = nst_rule_find(rule);
    return r == NST_RULE_LAST ? 0 : (size_t)r;
}

static enum check_id
rule_check(const char *rule)
{
    enum nst_rule r = nst_rule_find(rule);
    return r == NST_RULE_LAST ? LIVE_OTHER : rule_checks[r];
}

/* Whether the profile runs a rule that sets something the check
 * looks at. */
static bool
check_enabled(const struct nst_profile *p, enum check_id id)
{
    for (int r = 0; r < NST_RULE_LAST; r++)
        if (rule_checks[r] == id && nst_rules()[r].edits &&
            nst_rule_enabled(p, (enum nst_rule)r))
            return true;
    return false;
}

/* What a check says when it passes. */
static void
live_pass(struct verify *v, enum check_id id, const char *live_xml)
{
    const char *profile = v->profile->name;
    char *s = NULL;

    switch (id) {
    case LIVE_CPU_MODE:
        s = vn_verify_live_string(v, "string(/domain/cpu/@mode)");
        vn_check(v, id, CHECK_PASS, "the running domain has <cpu mode='%s'>, "
                 "as profile '%s' sets", s && *s ? s : "?", profile);
        break;
    case LIVE_CPU_FEATURE:
        s = vn_verify_live_string(v, "string(/domain/cpu/feature["
                                  "(@policy='require' or @policy='force') "
                                  "and (@name='vmx' or @name='svm')]/@name)");
        if (s && *s)
            vn_check(v, id, CHECK_PASS, "the running domain requires '%s', "
                     "as profile '%s' sets for this %s host", s, profile,
                     nst_vendor_name(v->host->vendor));
        else
            vn_check(v, id, CHECK_PASS, "the running domain's CPU features "
                     "are as profile '%s' sets", profile);
        break;
    case LIVE_VCPU_PINS: {
        struct nst_doc *doc = NULL;
        struct nst_cpuset pins;
        nst_cpuset_clear_all(&pins);
        if (nst_doc_parse(live_xml, strlen(live_xml), "live XML", &doc,
                          NULL) == 0)
            nst_doc_vcpu_pins(doc, &pins, NULL);
        nst_doc_free(doc);
        s = nst_cpuset_format(&pins);
        vn_check(v, id, CHECK_PASS, "the running domain's vCPUs are pinned "
                 "to host CPUs %s, as profile '%s' places them",
                 s && *s ? s : "?", profile);
        break;
    }
    default:
        vn_check(v, id, CHECK_PASS, "the rest of what profile '%s' sets "
                 "(NUMA, hugepages, memory and CPU limits, mitigations) is "
                 "in the running domain", profile);
        break;
    }
    free(s);
}

/*
 * One live check: FAIL when the plan of the running domain was refused
 * by one of its rules or would change what it covers; SKIP when the
 * profile does not set it, or planning stopped before its rules; else
 * PASS.  stored is the plan of the stored definition, for the fix.
 */
static void
judge_live(struct verify *v, enum check_id id, const struct vn_result *live,
           const struct vn_result *stored, const struct nst_finding *refusal,
           const char *live_xml)
{
    char cbuf[512];
    const char *conn = vn_verify_connect_arg(v, cbuf, sizeof(cbuf));
    const struct nst_finding *first = NULL;
    size_t nchanges = 0;
    for (size_t i = 0; i < live->report.findings.n; i++) {
        const struct nst_finding *e = &live->report.findings.items[i];
        if (e->severity == NST_CHANGE && rule_check(e->rule) == id &&
            !nchanges++)
            first = e;
    }
    size_t last_rank = 0;
    for (int r = 0; r < NST_RULE_LAST; r++)
        if (rule_checks[r] == id)
            last_rank = (size_t)r;

    if (refusal && rule_check(refusal->rule) == id) {
        vn_check(v, id, CHECK_FAIL, "profile '%s' cannot be planned for "
                 "the running domain: %s: %s", v->profile->name,
                 refusal->rule, refusal->message);
        vn_fix(v, id, "solve that first; the whole report: "
               "virt-nestify%s --domain %s --profile %s --dry-run",
               conn, v->name, v->profile->name);
    } else if (!check_enabled(v->profile, id)) {
        vn_check(v, id, CHECK_SKIP, "profile '%s' does not set %s",
                 v->profile->name,
                 id == LIVE_CPU_MODE ? "the CPU mode" :
                 id == LIVE_CPU_FEATURE ? "vmx or svm" :
                 id == LIVE_VCPU_PINS ? "vCPU pins" :
                 "NUMA, hugepages, limits or mitigations");
    } else if (nchanges) {
        vn_check(v, id, CHECK_FAIL, "the running domain is not as "
                 "profile '%s' sets: %s: %s%s", v->profile->name,
                 first->rule, first->message,
                 nchanges > 1 ? " (and more)" : "");
        if (stored->refused || stored->pending)
            vn_fix(v, id, "apply the profile and restart the domain: "
                   "virt-nestify%s --domain %s --profile %s --restart",
                   conn, v->name, v->profile->name);
        else
            vn_fix(v, id, "the stored definition already holds the "
                   "profile: power the domain off and start it again "
                   "(virsh%s shutdown %s, then virsh%s start %s); a "
                   "reboot inside the guest is not enough", conn,
                   v->name, conn, v->name);
    } else if (refusal && rule_rank(refusal->rule) <= last_rank) {
        vn_check(v, id, CHECK_SKIP, "not checked: planning stopped at "
                 "rule '%s' (see %s)", refusal->rule,
                 check_names[rule_check(refusal->rule)]);
    } else {
        live_pass(v, id, live_xml);
    }
}

/*
 * The live checks: re-plan the live XML; every change the plan would
 * make is something the running domain lacks.  The stored definition
 * is re-planned too, for the fix: when it already holds the profile,
 * only a power cycle is missing.  Returns an exit status for failures
 * that stop everything (VN_EXIT_OK otherwise).
 */
static int
check_live(struct verify *v, const struct nst_cpuset *taken,
           const char *live_xml, const char *stored_xml)
{
    struct vn_result live = { 0 }, stored = { 0 };
    char *err = NULL;
    int ret = VN_EXIT_SYSTEM;

    if (vn_transform(&v->o->plan, v->profile, v->host, taken, live_xml,
                     strlen(live_xml), "running domain", &live, &err) < 0 ||
        vn_transform(&v->o->plan, v->profile, v->host, taken, stored_xml,
                     strlen(stored_xml), "stored definition", &stored,
                     &err) < 0) {
        vn_error("domain '%s': %s", v->name, err ? err : "out of memory");
        if (live.bad_input)
            ret = VN_EXIT_INPUT;     /* --taken names a CPU the host lacks */
        goto out;
    }
    const struct nst_finding *refusal = NULL;
    for (size_t i = 0; i < live.report.findings.n && !refusal; i++)
        if (live.report.findings.items[i].severity == NST_ERROR)
            refusal = &live.report.findings.items[i];
    if (refusal && strcmp(refusal->rule, "internal") == 0) {
        vn_error("domain '%s': %s", v->name, refusal->message);
        goto out;
    }
    /* A profile value the host cannot have is bad input, not a check
     * the domain fails. */
    if (refusal && strcmp(refusal->rule, "profile") == 0) {
        vn_error("domain '%s': %s", v->name, refusal->message);
        ret = VN_EXIT_INPUT;
        goto out;
    }
    for (int id = LIVE_CPU_MODE; id <= LIVE_OTHER; id++)
        judge_live(v, (enum check_id)id, &live, &stored, refusal, live_xml);
    ret = VN_EXIT_OK;
 out:
    free(err);
    vn_result_clear(&live);
    vn_result_clear(&stored);
    return ret;
}

/* ---------------------------------------------------------------- output */

/* The verify document (docs/json.md). */
static char *
results_json(const struct verify *v, const size_t count[CHECK_LAST])
{
    struct json_object *doc = json_object_new_object();
    struct json_object *checks = json_object_new_array();
    struct json_object *summary = json_object_new_object();
    bool ok = true;

    nst_json_add_string(doc, "domain", v->name, &ok);
    nst_json_add_string(doc, "profile", v->profile->name, &ok);
    nst_json_add_string(doc, "result", count[CHECK_FAIL] ? "fail" : "pass",
                        &ok);
    for (int id = 0; id < CHECK_ID_LAST; id++) {
        const struct check *c = &v->checks[id];
        struct json_object *check = json_object_new_object();
        nst_json_add_string(check, "check", check_names[id], &ok);
        nst_json_add_string(check, "result", result_names[c->result], &ok);
        nst_json_add_string(check, "message", c->message ? c->message : "",
                            &ok);
        nst_json_add_string(check, "fix",
                            c->result == CHECK_FAIL ? c->fix : NULL, &ok);
        nst_json_append(checks, check, &ok);
    }
    nst_json_add(doc, "checks", checks, &ok);
    for (int r = 0; r < CHECK_LAST; r++)
        nst_json_add_int(summary, result_names[r], (long long)count[r], &ok);
    nst_json_add(doc, "summary", summary, &ok);
    return nst_json_finish(doc, ok);
}

static int
print_results(const struct verify *v)
{
    struct nst_buf buf = { 0 };
    size_t count[CHECK_LAST] = { 0 };
    char *text = NULL;
    size_t len = 0;

    for (int id = 0; id < CHECK_ID_LAST; id++)
        count[v->checks[id].result]++;
    if (v->o->output == VN_OUTPUT_JSON) {
        if ((text = results_json(v, count)))
            len = strlen(text);
    } else {
        static const char *const tags[CHECK_LAST] = { "PASS", "FAIL",
                                                      "SKIP" };
        nst_buf_addf(&buf, "domain '%s', profile '%s'\n", v->name,
                     v->profile->name);
        for (int id = 0; id < CHECK_ID_LAST; id++) {
            const struct check *c = &v->checks[id];
            nst_buf_addf(&buf, "%s  %s: %s\n", tags[c->result],
                         check_names[id], c->message ? c->message : "");
            if (c->result == CHECK_FAIL && c->fix)
                nst_buf_addf(&buf, "      fix: %s\n", c->fix);
        }
        nst_buf_addf(&buf, "%zu passed, %zu failed, %zu skipped\n",
                     count[CHECK_PASS], count[CHECK_FAIL],
                     count[CHECK_SKIP]);
        text = nst_buf_finish(&buf, &len);
    }
    int ret = text ? vn_write_stdout(text, len) : -1;
    free(text);
    if (ret < 0) {
        vn_error("cannot write to stdout");
        return VN_EXIT_SYSTEM;
    }
    if (v->system_failure)
        return VN_EXIT_SYSTEM;
    /* 1, as --check's pending change: something to fix was found. */
    return count[CHECK_FAIL] ? VN_EXIT_PENDING : VN_EXIT_OK;
}

/* ------------------------------------------------------------------ run */

int
vn_verify_run(const struct vn_verify_opts *o)
{
    struct verify v = { .o = o };
    struct nst_profile profile;
    struct nst_host *host = NULL;
    struct nst_cpuset taken;
    virConnectPtr conn = NULL;
    char *err = NULL, *live_xml = NULL, *stored_xml = NULL;
    int ret = VN_EXIT_INPUT;

    nst_profile_init(&profile);
    if (vn_build_profile(&o->plan, &profile, &err) < 0)
        goto fail;
    v.profile = &profile;
    ret = VN_EXIT_SYSTEM;
    if (!(conn = vn_conn_open(o->plan.connect, &err)))
        goto fail;
    if (!(v.dom = vn_domain_lookup(conn, o->domain, &err))) {
        virErrorPtr e = virGetLastError();
        if (!e || e->code == VIR_ERR_NO_DOMAIN)
            ret = VN_EXIT_INPUT;
        goto fail;
    }
    v.name = vn_domain_name(v.dom);
    int active = virDomainIsActive(v.dom);
    if (active < 0) {
        nst_set_error(&err, "domain '%s': %s", v.name, vn_libvirt_error());
        goto fail;
    }
    if (active == 0) {
        nst_set_error(&err, "domain '%s' is not running: verify checks a "
                      "running guest (start it first)", v.name);
        ret = VN_EXIT_INPUT;
        goto fail;
    }
    if ((ret = vn_live_prepare(conn, &o->plan, &v.dom, 1, &host,
                               &taken, &err)) != VN_EXIT_OK)
        goto fail;
    v.host = host;
    ret = VN_EXIT_SYSTEM;
    if (!(live_xml = vn_domain_xml(v.dom, false, &err)) ||
        !(stored_xml = vn_domain_xml(v.dom, true, &err)))
        goto fail;
    if (!(v.live = xmlReadMemory(live_xml, (int)strlen(live_xml),
                                 "live.xml", NULL,
                                 XML_PARSE_NONET | XML_PARSE_NOERROR |
                                 XML_PARSE_NOWARNING))) {
        nst_set_error(&err, "domain '%s': cannot parse its live XML",
                      v.name);
        goto fail;
    }
    if ((ret = check_live(&v, &taken, live_xml, stored_xml)) != VN_EXIT_OK)
        goto out;
    vn_verify_guest(&v);
    ret = print_results(&v);
    goto out;

 fail:
    vn_error("%s", err ? err : "out of memory");
 out:
    for (int id = 0; id < CHECK_ID_LAST; id++) {
        free(v.checks[id].message);
        free(v.checks[id].fix);
    }
    if (v.live)
        xmlFreeDoc(v.live);
    free(err);
    free(live_xml);
    free(stored_xml);
    nst_host_free(host);
    nst_profile_clear(&profile);
    if (v.dom)
        virDomainFree(v.dom);
    vn_conn_close(conn);
    return ret;
}

int
vn_cmd_verify(int argc, char **argv)
{
    struct vn_verify_opts o;
    int r = vn_verify_parse_options(argc, argv, &o);
    int ret = r < 0 ? VN_EXIT_INPUT : r > 0 ? VN_EXIT_OK : vn_verify_run(&o);
    vn_verify_opts_clear(&o);
    return ret;
}
