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
 *     /proc/cpuinfo, /dev/kvm, and the kvm module's nested parameter.
 * The agent is never waited for longer than --timeout in all: a guest
 * without an agent channel, or whose agent does not answer, gets a FAIL
 * saying so, not a hang.  The protocol itself (JSON, base64, the guest
 * files) is in agent.c, without libvirt.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <json.h>

#include "agent.h"
#include "apply.h"
#include "conn.h"
#include "cpuinfo.h"
#include "nestify.h"
#include "options.h"
#include "tool.h"
#include "verify.h"

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

enum check_result { CHECK_PASS, CHECK_FAIL, CHECK_SKIP, CHECK_LAST };

static const char *const result_names[CHECK_LAST] = { "pass", "fail",
                                                      "skip" };

/* The checks, in the order they are printed. */
enum check_id {
    LIVE_CPU_MODE,
    LIVE_CPU_FEATURE,
    LIVE_VCPU_PINS,
    LIVE_OTHER,
    GUEST_AGENT,
    GUEST_CPU_FLAGS,
    GUEST_KVM_DEVICE,
    GUEST_KVM_NESTED,
    CHECK_ID_LAST
};

static const char *const check_names[CHECK_ID_LAST] = {
    "live-cpu-mode", "live-cpu-feature", "live-vcpu-pins", "live-other",
    "guest-agent", "guest-cpu-flags", "guest-kvm-device", "guest-kvm-nested",
};

struct check {
    enum check_result result;
    char *message;               /* one line */
    char *fix;                   /* FAIL only: what to do, or NULL */
};

/* What one verify run works with. */
struct verify {
    const struct vn_verify_opts *o;
    const struct nst_profile *profile;
    virDomainPtr dom;
    const char *name;
    const struct nst_host *host;
    xmlDocPtr live;              /* the live XML, parsed */
    struct check checks[CHECK_ID_LAST];
    bool system_failure;         /* libvirt failed under a check */
    struct timespec deadline;    /* for the guest agent, monotonic */
};

static void set_check(struct verify *v, enum check_id id,
                      enum check_result result, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
set_check(struct verify *v, enum check_id id, enum check_result result,
          const char *fmt, ...)
{
    va_list ap;
    struct check *c = &v->checks[id];
    free(c->message);
    va_start(ap, fmt);
    c->message = nst_vprintf(fmt, ap);
    va_end(ap);
    c->result = result;
}

static void set_fix(struct verify *v, enum check_id id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_fix(struct verify *v, enum check_id id, const char *fmt, ...)
{
    va_list ap;
    struct check *c = &v->checks[id];
    free(c->fix);
    va_start(ap, fmt);
    c->fix = nst_vprintf(fmt, ap);
    va_end(ap);
}

/* An XPath string of the live XML: a new string, "" when absent. */
static char *
live_string(const struct verify *v, const char *expr)
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

/* " -c URI" when one was given, for the commands of a fix. */
static const char *
connect_arg(const struct verify *v, char *buf, size_t size)
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
        s = live_string(v, "string(/domain/cpu/@mode)");
        set_check(v, id, CHECK_PASS, "the running domain has <cpu mode='%s'>, "
                  "as profile '%s' sets", s && *s ? s : "?", profile);
        break;
    case LIVE_CPU_FEATURE:
        s = live_string(v, "string(/domain/cpu/feature[(@policy='require' or "
                        "@policy='force') and (@name='vmx' or "
                        "@name='svm')]/@name)");
        if (s && *s)
            set_check(v, id, CHECK_PASS, "the running domain requires '%s', "
                      "as profile '%s' sets for this %s host", s, profile,
                      nst_vendor_name(v->host->vendor));
        else
            set_check(v, id, CHECK_PASS, "the running domain's CPU features "
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
        set_check(v, id, CHECK_PASS, "the running domain's vCPUs are pinned "
                  "to host CPUs %s, as profile '%s' places them",
                  s && *s ? s : "?", profile);
        break;
    }
    default:
        set_check(v, id, CHECK_PASS, "the rest of what profile '%s' sets "
                  "(NUMA, hugepages, memory and CPU limits, mitigations) is "
                  "in the running domain", profile);
        break;
    }
    free(s);
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
    char *err = NULL, cbuf[512];
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
    const char *conn = connect_arg(v, cbuf, sizeof(cbuf));
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
    for (int id = LIVE_CPU_MODE; id <= LIVE_OTHER; id++) {
        const struct nst_finding *first = NULL;
        size_t nchanges = 0;
        for (size_t i = 0; i < live.report.findings.n; i++) {
            const struct nst_finding *e = &live.report.findings.items[i];
            if (e->severity == NST_CHANGE && (int)rule_check(e->rule) == id &&
                !nchanges++)
                first = e;
        }
        size_t last_rank = 0;
        for (int r = 0; r < NST_RULE_LAST; r++)
            if ((int)rule_checks[r] == id)
                last_rank = (size_t)r;

        if (refusal && (int)rule_check(refusal->rule) == id) {
            set_check(v, id, CHECK_FAIL, "profile '%s' cannot be planned for "
                      "the running domain: %s: %s", v->profile->name,
                      refusal->rule, refusal->message);
            set_fix(v, id, "solve that first; the whole report: "
                    "virt-nestify%s --domain %s --profile %s --dry-run",
                    conn, v->name, v->profile->name);
        } else if (!check_enabled(v->profile, id)) {
            set_check(v, id, CHECK_SKIP, "profile '%s' does not set %s",
                      v->profile->name,
                      id == LIVE_CPU_MODE ? "the CPU mode" :
                      id == LIVE_CPU_FEATURE ? "vmx or svm" :
                      id == LIVE_VCPU_PINS ? "vCPU pins" :
                      "NUMA, hugepages, limits or mitigations");
        } else if (nchanges) {
            set_check(v, id, CHECK_FAIL, "the running domain is not as "
                      "profile '%s' sets: %s: %s%s", v->profile->name,
                      first->rule, first->message,
                      nchanges > 1 ? " (and more)" : "");
            if (stored.refused || stored.pending)
                set_fix(v, id, "apply the profile and restart the domain: "
                        "virt-nestify%s --domain %s --profile %s --restart",
                        conn, v->name, v->profile->name);
            else
                set_fix(v, id, "the stored definition already holds the "
                        "profile: power the domain off and start it again "
                        "(virsh%s shutdown %s, then virsh%s start %s); a "
                        "reboot inside the guest is not enough", conn,
                        v->name, conn, v->name);
        } else if (refusal && rule_rank(refusal->rule) <= last_rank) {
            set_check(v, id, CHECK_SKIP, "not checked: planning stopped at "
                      "rule '%s' (see %s)", refusal->rule,
                      check_names[rule_check(refusal->rule)]);
        } else {
            live_pass(v, (enum check_id)id, live_xml);
        }
    }
    ret = VN_EXIT_OK;
 out:
    free(err);
    vn_result_clear(&live);
    vn_result_clear(&stored);
    return ret;
}

/* ------------------------------------------------------- the guest agent */

enum agent_status {
    AGENT_OK,
    AGENT_SILENT,                /* no answer in time, or not connected */
    AGENT_REFUSED,               /* the agent answered with an error */
    AGENT_FAILED,                /* libvirt failed */
};

static double
seconds_left(const struct verify *v)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(v->deadline.tv_sec - now.tv_sec) +
           (double)(v->deadline.tv_nsec - now.tv_nsec) / 1e9;
}

/*
 * Sends one command, waiting at most what is left of --timeout.
 * Returns AGENT_OK with *reply (free()), or the failure with *why set.
 */
static enum agent_status
agent_call(struct verify *v, const char *cmd, char **reply, char **why)
{
    double left = seconds_left(v);

    *reply = NULL;
    if (!cmd) {
        nst_set_error(why, "out of memory");
        return AGENT_FAILED;
    }
    if (left <= 0) {
        nst_set_error(why, "no answer within %u s", v->o->timeout);
        return AGENT_SILENT;
    }
    /* libvirt waits for the reply this long; before sending, it syncs
     * with the agent (guest-sync), waiting up to its own 5 s. */
    int timeout = left < 1 ? 1 : (int)(left + 0.999);
    virResetLastError();
    if ((*reply = v->o->agent_command(v->dom, cmd, timeout, 0)))
        return AGENT_OK;

    virErrorPtr e = virGetLastError();
    const char *msg = e && e->message ? e->message : NULL;
    static const char prefix[] = "Guest agent is not responding: ";
    if (!e || e->code == VIR_ERR_AGENT_UNRESPONSIVE ||
        e->code == VIR_ERR_OPERATION_TIMEOUT ||
        e->code == VIR_ERR_AGENT_UNSYNCED) {
        /* libvirt knows at once when nothing in the guest opened the
         * channel ("QEMU guest agent is not connected"): its reason is
         * better than a time.  After a wait, the time says it. */
        if (msg && strncmp(msg, prefix, strlen(prefix)) == 0)
            msg += strlen(prefix);
        double now_left = seconds_left(v);
        if (msg && now_left > left - timeout + 0.5)
            nst_set_error(why, "%s", msg);
        else
            /* libvirt's own guest-sync may wait up to 5 s whatever the
             * timeout: say how long it really was. */
            nst_set_error(why, "no answer within %.0f s",
                          (double)v->o->timeout - now_left);
        return AGENT_SILENT;
    }
    nst_set_error(why, "%s", vn_libvirt_error());
    /* libvirt 9.0 reports the agent's own errors as internal errors
     * naming the command. */
    return msg && strstr(msg, "agent command") ? AGENT_REFUSED :
           AGENT_FAILED;
}

/*
 * Runs path with args in the guest (guest-exec) and polls
 * guest-exec-status until it exits, within --timeout.  Returns AGENT_OK
 * with *st filled (clear it always), or the failure with *why set.
 */
static enum agent_status
guest_run(struct verify *v, const char *path, const char *const *args,
          size_t nargs, struct vn_agent_exec_status *st, char **why)
{
    char *req = vn_agent_exec_request(path, args, nargs), *reply = NULL;
    long long pid;
    long delay_ms = 20;

    memset(st, 0, sizeof(*st));
    enum agent_status s = agent_call(v, req, &reply, why);
    free(req);
    if (s != AGENT_OK)
        return s;
    int bad = vn_agent_parse_exec(reply, &pid, why);
    free(reply);
    if (bad < 0)
        return AGENT_REFUSED;
    for (;;) {
        req = vn_agent_exec_status_request(pid);
        s = agent_call(v, req, &reply, why);
        free(req);
        if (s != AGENT_OK)
            return s;
        vn_agent_exec_status_clear(st);
        bad = vn_agent_parse_exec_status(reply, st, why);
        free(reply);
        if (bad < 0)
            return AGENT_REFUSED;
        if (st->exited)
            return AGENT_OK;
        double left = seconds_left(v);
        if (left <= 0) {
            nst_set_error(why, "'%s' did not finish within %u s", path,
                          v->o->timeout);
            return AGENT_SILENT;
        }
        /* Short first: cat and test end at once. */
        long ms = delay_ms;
        if (ms > (long)(left * 1000))
            ms = (long)(left * 1000) + 1;
        struct timespec step = { ms / 1000, (ms % 1000) * 1000000L };
        nanosleep(&step, NULL);
        if (delay_ms < 500)
            delay_ms *= 2;
        if (seconds_left(v) <= 0) {
            nst_set_error(why, "'%s' did not finish within %u s", path,
                          v->o->timeout);
            return AGENT_SILENT;
        }
    }
}

/* The first line of what a process wrote on stderr, for messages. */
static char *
first_line(const struct vn_agent_exec_status *st)
{
    if (!st->err || !st->err_len)
        return nst_printf("%s", st->has_signal ? "killed by a signal" :
                          "no message");
    size_t n = strcspn(st->err, "\n");
    return nst_printf("%.*s", (int)n, st->err);
}

/* Marks the guest checks from first on as not checked. */
static void
skip_guest(struct verify *v, enum check_id first, const char *why)
{
    for (int id = first; id < CHECK_ID_LAST; id++)
        set_check(v, (enum check_id)id, CHECK_SKIP, "not checked: %s", why);
}

/*
 * A failed agent call under check id: a FAIL saying why; the later
 * checks are skipped, they would fail the same way.
 */
static void
agent_trouble(struct verify *v, enum check_id id, enum agent_status s,
              const char *what, const char *why)
{
    if (s == AGENT_SILENT) {
        set_check(v, id, CHECK_FAIL, "gave up %s: %s", what, why);
        set_fix(v, id, "check that qemu-guest-agent runs in the guest "
                "(systemctl status qemu-guest-agent) or give a longer "
                "--timeout");
        skip_guest(v, (enum check_id)(id + 1),
                   "the guest agent stopped answering");
        return;
    }
    set_check(v, id, CHECK_FAIL, "%s through the guest agent failed: %s",
              what, why);
    if (strstr(why, "disabled"))
        set_fix(v, id, "allow guest-exec and guest-exec-status in the "
                "guest's qemu-guest-agent (its --block-rpcs or BLOCK_RPCS "
                "list, or --allow-rpcs)");
    if (s == AGENT_FAILED)
        v->system_failure = true;
    skip_guest(v, (enum check_id)(id + 1), s == AGENT_FAILED ?
               "libvirt failed" : "the guest agent failed");
}

/* guest-agent: the channel, then guest-ping.  Returns true when the
 * guest checks can go on. */
static bool
check_agent(struct verify *v)
{
    char cbuf[512], *reply = NULL, *why = NULL;
    const char *conn = connect_arg(v, cbuf, sizeof(cbuf));
    char *n = live_string(v, "string(count(/domain/devices/channel/"
                          "target[@type='virtio' and "
                          "@name='org.qemu.guest_agent.0']))");
    bool channel = n && strcmp(n, "0") != 0;
    bool ok = false;

    free(n);
    if (!channel) {
        set_check(v, GUEST_AGENT, CHECK_FAIL, "domain '%s' has no guest "
                  "agent channel: the checks inside the guest need the QEMU "
                  "guest agent", v->name);
        set_fix(v, GUEST_AGENT, "add <channel type='unix'><target "
                "type='virtio' name='org.qemu.guest_agent.0'/></channel> to "
                "its <devices> (virsh%s edit %s), power it off and on, and "
                "install qemu-guest-agent in the guest", conn, v->name);
        skip_guest(v, GUEST_CPU_FLAGS, "no guest agent");
        return false;
    }
    char *req = vn_agent_ping_request();
    enum agent_status s = agent_call(v, req, &reply, &why);
    free(req);
    if (s == AGENT_OK) {
        struct json_object *doc = NULL, *val;
        if (vn_agent_parse_return(reply, "guest-ping", &doc, &val, &why) == 0)
            ok = true;
        else
            s = AGENT_REFUSED;
        json_object_put(doc);
    }
    if (ok) {
        set_check(v, GUEST_AGENT, CHECK_PASS, "the guest agent answers");
    } else if (s == AGENT_SILENT) {
        set_check(v, GUEST_AGENT, CHECK_FAIL, "guest agent not responding: "
                  "%s", why);
        set_fix(v, GUEST_AGENT, "install and start qemu-guest-agent in the "
                "guest (systemctl enable --now qemu-guest-agent); a guest "
                "still booting answers later");
        skip_guest(v, GUEST_CPU_FLAGS, "the guest agent does not answer");
    } else {
        agent_trouble(v, GUEST_AGENT, s, "pinging the guest", why);
    }
    free(reply);
    free(why);
    return ok;
}

/* guest-cpu-flags; returns the kvm module of the guest's vendor
 * ("kvm_intel", "kvm_amd"), NULL when unknown, or "" to stop. */
static const char *
check_cpu_flags(struct verify *v)
{
    static const char *const args[] = { "/proc/cpuinfo" };
    struct vn_agent_exec_status st;
    struct vn_cpuinfo info;
    char *why = NULL, cbuf[512];
    const char *module = NULL;
    const char *conn = connect_arg(v, cbuf, sizeof(cbuf));

    enum agent_status s = guest_run(v, "cat", args, 1, &st, &why);
    if (s != AGENT_OK) {
        agent_trouble(v, GUEST_CPU_FLAGS, s, "reading /proc/cpuinfo", why);
        module = "";
    } else if (!st.has_exitcode || st.exitcode != 0) {
        char *line = first_line(&st);
        set_check(v, GUEST_CPU_FLAGS, CHECK_FAIL, "cannot read /proc/cpuinfo "
                  "in the guest: %s", line);
        free(line);
    } else {
        vn_cpuinfo_parse(st.out ? st.out : "", st.out_len, &info);
        const char *flag = info.vmx >= info.svm ? "vmx" : "svm";
        unsigned int have = info.vmx >= info.svm ? info.vmx : info.svm;
        if (have)
            module = strcmp(flag, "vmx") == 0 ? "kvm_intel" : "kvm_amd";
        if (info.cpus == 0) {
            set_check(v, GUEST_CPU_FLAGS, CHECK_FAIL, "the guest's "
                      "/proc/cpuinfo has no flags lines (not an x86 guest?)");
        } else if (have == info.cpus) {
            set_check(v, GUEST_CPU_FLAGS, CHECK_PASS, "the guest's "
                      "/proc/cpuinfo shows %s on all %u vCPUs", flag,
                      info.cpus);
        } else {
            if (have)
                set_check(v, GUEST_CPU_FLAGS, CHECK_FAIL, "the guest's "
                          "/proc/cpuinfo shows %s on only %u of %u vCPUs",
                          flag, have, info.cpus);
            else
                set_check(v, GUEST_CPU_FLAGS, CHECK_FAIL, "no vmx or svm in "
                          "the guest's /proc/cpuinfo (%u vCPUs): the guest "
                          "has no hardware virtualization", info.cpus);
            set_fix(v, GUEST_CPU_FLAGS, "give the domain host-passthrough "
                    "with vmx (Intel) or svm (AMD) required and power-cycle "
                    "it (virt-nestify%s --domain %s --profile nested "
                    "--restart), with nested on in the host's kvm module "
                    "(virt-nestify host)", conn, v->name);
        }
    }
    vn_agent_exec_status_clear(&st);
    free(why);
    return module;
}

/* guest-kvm-device: test -c /dev/kvm.  Returns false to stop. */
static bool
check_kvm_device(struct verify *v, const char *module)
{
    static const char *const args[] = { "-c", "/dev/kvm" };
    struct vn_agent_exec_status st;
    char *why = NULL;
    bool go_on = true;

    enum agent_status s = guest_run(v, "test", args, 2, &st, &why);
    if (s != AGENT_OK) {
        agent_trouble(v, GUEST_KVM_DEVICE, s, "looking for /dev/kvm", why);
        go_on = false;
    } else if (st.has_exitcode && st.exitcode == 0) {
        set_check(v, GUEST_KVM_DEVICE, CHECK_PASS, "/dev/kvm is there in the "
                  "guest");
    } else if (st.has_exitcode && st.exitcode == 1) {
        set_check(v, GUEST_KVM_DEVICE, CHECK_FAIL, "no /dev/kvm in the "
                  "guest");
        set_fix(v, GUEST_KVM_DEVICE, "load the KVM module in the guest "
                "(modprobe %s); it needs vmx or svm in the guest's CPU "
                "(see guest-cpu-flags)", module ? module : "kvm_intel or "
                "modprobe kvm_amd");
    } else {
        char *line = first_line(&st);
        set_check(v, GUEST_KVM_DEVICE, CHECK_FAIL, "'test -c /dev/kvm' failed "
                  "in the guest (exit %d): %s", st.exitcode, line);
        free(line);
    }
    vn_agent_exec_status_clear(&st);
    free(why);
    return go_on;
}

/* guest-kvm-nested: the module's nested parameter. */
static void
check_kvm_nested(struct verify *v, const char *module)
{
    struct vn_agent_exec_status st;
    char *why = NULL;
    char *path = nst_printf("/sys/module/%s/parameters/nested", module);
    const char *args[] = { path };

    enum agent_status s = path ? guest_run(v, "cat", args, 1, &st, &why) :
                          AGENT_FAILED;
    if (!path) {
        memset(&st, 0, sizeof(st));
        nst_set_error(&why, "out of memory");
    }
    if (s != AGENT_OK) {
        agent_trouble(v, GUEST_KVM_NESTED, s, "reading the nested parameter",
                      why ? why : "?");
    } else if (!st.has_exitcode || st.exitcode != 0) {
        set_check(v, GUEST_KVM_NESTED, CHECK_FAIL, "%s is not loaded in the "
                  "guest (no %s)", module, path);
        set_fix(v, GUEST_KVM_NESTED, "load it in the guest: modprobe %s",
                module);
    } else {
        int nested = vn_nested_param_parse(st.out ? st.out : "", st.out_len);
        size_t n = st.out ? strcspn(st.out, "\n") : 0;
        if (nested == 1) {
            set_check(v, GUEST_KVM_NESTED, CHECK_PASS, "the guest's %s "
                      "reports nested=%.*s", module, (int)n, st.out);
        } else {
            if (nested == 0)
                set_check(v, GUEST_KVM_NESTED, CHECK_FAIL, "the guest's %s "
                          "has nested off (%.*s)", module, (int)n,
                          st.out);
            else
                set_check(v, GUEST_KVM_NESTED, CHECK_FAIL, "the guest's %s "
                          "reports nested='%.*s', neither Y nor 1", module,
                          (int)(n > 16 ? 16 : n), st.out ? st.out : "");
            set_fix(v, GUEST_KVM_NESTED, "in the guest: echo 'options %s "
                    "nested=1' > /etc/modprobe.d/kvm-nested.conf, then "
                    "modprobe -r %s && modprobe %s", module, module, module);
        }
    }
    vn_agent_exec_status_clear(&st);
    free(why);
    free(path);
}

/* The <launchSecurity> of the live XML, or NULL. */
static xmlNodePtr
launch_security(const struct verify *v)
{
    xmlNodePtr root = xmlDocGetRootElement(v->live);
    for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE && !n->ns &&
            xmlStrEqual(n->name, BAD_CAST "launchSecurity"))
            return n;
    return NULL;
}

static void
check_guest(struct verify *v)
{
    /* A confidential guest runs no VMs of its own, whatever its CPU
     * shows: nothing to ask it (docs/profiles.md, nested). */
    xmlNodePtr ls = launch_security(v);
    if (ls) {
        xmlChar *type = xmlGetNoNsProp(ls, BAD_CAST "type");
        char *why = nst_printf("<launchSecurity type='%s'> makes a "
                               "confidential guest, which cannot run VMs "
                               "of its own", type ? (char *)type : "");
        skip_guest(v, GUEST_AGENT, why ? why : "a confidential guest");
        free(why);
        xmlFree(type);
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &v->deadline);
    v->deadline.tv_sec += v->o->timeout;
    if (!check_agent(v))
        return;
    const char *fallback = v->host->vendor == NST_VENDOR_AMD ? "kvm_amd" :
                           "kvm_intel";
    const char *module = check_cpu_flags(v);
    if (module && !*module)
        return;
    if (!check_kvm_device(v, module))
        return;
    check_kvm_nested(v, module ? module : fallback);
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
    check_guest(&v);
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
