/*
 * verify-guest.c: verify's checks inside the guest, through the QEMU
 * guest agent (libvirt's agent passthrough, guest-exec and
 * guest-exec-status): the agent answers; in a Linux guest vmx or svm in
 * /proc/cpuinfo, /dev/kvm, and the kvm module's nested parameter; in a
 * Windows guest (guest-get-osinfo says which, asked once) what Windows
 * reports of the Hyper-V requirements, the rest being Linux's and not
 * checkable there.  All of it within --timeout: an agent that does not
 * answer is a FAIL saying so, not a hang.  The protocol itself is
 * agent.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include <json.h>

#include "agent.h"
#include "conn.h"
#include "cpuinfo.h"
#include "nestify.h"
#include "tool.h"
#include "verify-check.h"

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
        vn_check(v, (enum check_id)id, CHECK_SKIP, "not checked: %s", why);
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
        vn_check(v, id, CHECK_FAIL, "gave up %s: %s", what, why);
        vn_fix(v, id, "check that qemu-guest-agent runs in the guest "
               "(systemctl status qemu-guest-agent) or give a longer "
               "--timeout");
        skip_guest(v, (enum check_id)(id + 1),
                   "the guest agent stopped answering");
        return;
    }
    vn_check(v, id, CHECK_FAIL, "%s through the guest agent failed: %s",
             what, why);
    if (strstr(why, "disabled"))
        vn_fix(v, id, "allow guest-exec and guest-exec-status in the "
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
    const char *conn = vn_verify_connect_arg(v, cbuf, sizeof(cbuf));
    char *n = vn_verify_live_string(v, "string(count(/domain/devices/"
                                    "channel/target[@type='virtio' and "
                                    "@name='org.qemu.guest_agent.0']))");
    bool channel = n && strcmp(n, "0") != 0;
    bool ok = false;

    free(n);
    if (!channel) {
        vn_check(v, GUEST_AGENT, CHECK_FAIL, "domain '%s' has no guest "
                 "agent channel: the checks inside the guest need the QEMU "
                 "guest agent", v->name);
        vn_fix(v, GUEST_AGENT, "add <channel type='unix'><target "
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
        vn_check(v, GUEST_AGENT, CHECK_PASS, "the guest agent answers");
    } else if (s == AGENT_SILENT) {
        vn_check(v, GUEST_AGENT, CHECK_FAIL, "guest agent not responding: "
                 "%s", why);
        vn_fix(v, GUEST_AGENT, "install and start qemu-guest-agent in the "
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

/* The fix when the guest sees no hardware virtualization. */
static void
cpu_fix(struct verify *v, enum check_id id)
{
    char cbuf[512];
    const char *conn = vn_verify_connect_arg(v, cbuf, sizeof(cbuf));
    vn_fix(v, id, "give the domain host-passthrough with vmx (Intel) or "
           "svm (AMD) required and power-cycle it (virt-nestify%s --domain "
           "%s --profile nested --restart), with nested on in the host's "
           "kvm module (virt-nestify host)", conn, v->name);
}

/* guest-cpu-flags; returns the kvm module of the guest's vendor
 * ("kvm_intel", "kvm_amd"), NULL when unknown, or "" to stop. */
static const char *
check_cpu_flags(struct verify *v)
{
    static const char *const args[] = { "/proc/cpuinfo" };
    struct vn_agent_exec_status st;
    struct vn_cpuinfo info;
    char *why = NULL;
    const char *module = NULL;

    enum agent_status s = guest_run(v, "cat", args, 1, &st, &why);
    if (s != AGENT_OK) {
        agent_trouble(v, GUEST_CPU_FLAGS, s, "reading /proc/cpuinfo", why);
        module = "";
    } else if (!st.has_exitcode || st.exitcode != 0) {
        char *line = first_line(&st);
        vn_check(v, GUEST_CPU_FLAGS, CHECK_FAIL, "cannot read /proc/cpuinfo "
                 "in the guest: %s", line);
        free(line);
    } else {
        vn_cpuinfo_parse(st.out ? st.out : "", st.out_len, &info);
        const char *flag = info.vmx >= info.svm ? "vmx" : "svm";
        unsigned int have = info.vmx >= info.svm ? info.vmx : info.svm;
        if (have)
            module = strcmp(flag, "vmx") == 0 ? "kvm_intel" : "kvm_amd";
        if (info.cpus == 0) {
            vn_check(v, GUEST_CPU_FLAGS, CHECK_FAIL, "the guest's "
                     "/proc/cpuinfo has no flags lines (not an x86 guest?)");
        } else if (have == info.cpus) {
            vn_check(v, GUEST_CPU_FLAGS, CHECK_PASS, "the guest's "
                     "/proc/cpuinfo shows %s on all %u vCPUs", flag,
                     info.cpus);
        } else {
            if (have)
                vn_check(v, GUEST_CPU_FLAGS, CHECK_FAIL, "the guest's "
                         "/proc/cpuinfo shows %s on only %u of %u vCPUs",
                         flag, have, info.cpus);
            else
                vn_check(v, GUEST_CPU_FLAGS, CHECK_FAIL, "no vmx or svm in "
                         "the guest's /proc/cpuinfo (%u vCPUs): the guest "
                         "has no hardware virtualization", info.cpus);
            cpu_fix(v, GUEST_CPU_FLAGS);
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
        vn_check(v, GUEST_KVM_DEVICE, CHECK_PASS, "/dev/kvm is there in the "
                 "guest");
    } else if (st.has_exitcode && st.exitcode == 1) {
        vn_check(v, GUEST_KVM_DEVICE, CHECK_FAIL, "no /dev/kvm in the "
                 "guest");
        vn_fix(v, GUEST_KVM_DEVICE, "load the KVM module in the guest "
               "(modprobe %s); it needs vmx or svm in the guest's CPU "
               "(see guest-cpu-flags)", module ? module : "kvm_intel or "
               "modprobe kvm_amd");
    } else {
        char *line = first_line(&st);
        vn_check(v, GUEST_KVM_DEVICE, CHECK_FAIL, "'test -c /dev/kvm' failed "
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
        vn_check(v, GUEST_KVM_NESTED, CHECK_FAIL, "%s is not loaded in the "
                 "guest (no %s)", module, path);
        vn_fix(v, GUEST_KVM_NESTED, "load it in the guest: modprobe %s",
               module);
    } else {
        int nested = vn_nested_param_parse(st.out ? st.out : "", st.out_len);
        size_t n = st.out ? strcspn(st.out, "\n") : 0;
        if (nested == 1) {
            vn_check(v, GUEST_KVM_NESTED, CHECK_PASS, "the guest's %s "
                     "reports nested=%.*s", module, (int)n, st.out);
        } else {
            if (nested == 0)
                vn_check(v, GUEST_KVM_NESTED, CHECK_FAIL, "the guest's %s "
                         "has nested off (%.*s)", module, (int)n,
                         st.out);
            else
                vn_check(v, GUEST_KVM_NESTED, CHECK_FAIL, "the guest's %s "
                         "reports nested='%.*s', neither Y nor 1", module,
                         (int)(n > 16 ? 16 : n), st.out ? st.out : "");
            vn_fix(v, GUEST_KVM_NESTED, "in the guest: echo 'options %s "
                   "nested=1' > /etc/modprobe.d/kvm-nested.conf, then "
                   "modprobe -r %s && modprobe %s", module, module, module);
        }
    }
    vn_agent_exec_status_clear(&st);
    free(why);
    free(path);
}

/*
 * Asks the agent once which OS the guest runs (guest-get-osinfo), after
 * guest-ping passed.  Returns 1 for Windows (guest-agent's message then
 * names it), 0 for anything else, and -1 to stop when the agent stopped
 * answering or libvirt failed (guest-agent then fails).  An agent that
 * refuses the command (qemu-ga before 2.10, or one that blocks it) or
 * gives a reply that cannot be read is taken for a Linux guest, as
 * verify did before it asked.
 */
static int
guest_os(struct verify *v)
{
    char *req = vn_agent_osinfo_request(), *reply = NULL, *why = NULL;
    char *name = NULL;
    bool windows = false;
    int ret = 0;

    enum agent_status s = agent_call(v, req, &reply, &why);
    free(req);
    if (s == AGENT_SILENT || s == AGENT_FAILED) {
        agent_trouble(v, GUEST_AGENT, s, "asking the guest's operating "
                      "system", why);
        ret = -1;
    } else if (s == AGENT_OK &&
               vn_agent_parse_osinfo(reply, &windows, &name, NULL) == 0 &&
               windows) {
        vn_check(v, GUEST_AGENT, CHECK_PASS, "the guest agent answers, in "
                 "%s", name ? name : "Windows");
        ret = 1;
    }
    free(name);
    free(reply);
    free(why);
    return ret;
}

/* What the Windows guest lacks of the Hyper-V requirements, for a
 * message: "no A on 1 of 2 processors, no B" (a new string). */
static char *
windows_missing(const struct vn_windows_virt *w)
{
    const struct {
        unsigned int have;
        const char *what;
    } reqs[] = {
        { w->vmx, "VM monitor mode extensions (VT-x or AMD-V)" },
        { w->slat, "second level address translation" },
        { w->firmware, "virtualization enabled in firmware" },
    };
    struct nst_buf buf = { 0 };
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        if (reqs[i].have == w->cpus)
            continue;
        nst_buf_addf(&buf, "%sno %s", buf.len ? ", " : "", reqs[i].what);
        if (reqs[i].have)
            nst_buf_addf(&buf, " on %u of %u processors",
                         w->cpus - reqs[i].have, w->cpus);
    }
    return nst_buf_finish(&buf, NULL);
}

/*
 * A Windows guest: guest-cpu-flags is what Windows reports of the
 * Hyper-V requirements (agent.c, vn_windows_query_args, says what is
 * asked and why so); guest-kvm-device and guest-kvm-nested are Linux's
 * and not checkable there, which is a SKIP, not a pass nor a failure.
 */
static void
check_windows(struct verify *v)
{
    struct vn_agent_exec_status st;
    struct vn_windows_virt w;
    char *why = NULL;

    enum agent_status s = guest_run(v, "powershell.exe",
                                    vn_windows_query_args,
                                    vn_windows_query_nargs, &st, &why);
    if (s != AGENT_OK) {
        agent_trouble(v, GUEST_CPU_FLAGS, s, "asking Windows for the "
                      "Hyper-V requirements", why);
    } else if (!st.has_exitcode || st.exitcode != 0) {
        char *line = first_line(&st);
        vn_check(v, GUEST_CPU_FLAGS, CHECK_FAIL, "the PowerShell query of "
                 "the Hyper-V requirements failed in the guest (%s %d): %s",
                 st.has_exitcode ? "exit" : "signal",
                 st.has_exitcode ? st.exitcode : st.signal, line);
        free(line);
    } else if (vn_windows_virt_parse(st.out ? st.out : "", st.out_len, &w,
                                     &why) < 0) {
        vn_check(v, GUEST_CPU_FLAGS, CHECK_FAIL, "cannot read what the "
                 "PowerShell query of the Hyper-V requirements printed in "
                 "the guest: %s", why);
    } else if (w.vmx == w.cpus && w.slat == w.cpus &&
               w.firmware == w.cpus) {
        vn_check(v, GUEST_CPU_FLAGS, CHECK_PASS, "Windows in the guest "
                 "reports VM monitor mode extensions, second level address "
                 "translation and virtualization enabled in firmware on "
                 "every processor (%u): Hyper-V can start", w.cpus);
    } else if (w.vbs == 2) {
        /* Windows then runs on the hypervisor, which hides VT-x or
         * AMD-V from it: the processors' answers say nothing. */
        vn_check(v, GUEST_CPU_FLAGS, CHECK_PASS, "virtualization-based "
                 "security runs in the Windows guest: its hypervisor "
                 "started, on the guest's VT-x or AMD-V with SLAT");
    } else if (w.hypervisor_support) {
        vn_check(v, GUEST_CPU_FLAGS, CHECK_PASS, "Windows in the guest "
                 "reports hypervisor support available (Win32_DeviceGuard): "
                 "Hyper-V can start");
    } else {
        char *missing = windows_missing(&w);
        vn_check(v, GUEST_CPU_FLAGS, CHECK_FAIL, "Windows in the guest "
                 "reports %s, and no hypervisor support: Hyper-V, WSL2 and "
                 "VBS cannot start", missing ? missing : "?");
        free(missing);
        cpu_fix(v, GUEST_CPU_FLAGS);
    }
    vn_check(v, GUEST_KVM_DEVICE, CHECK_SKIP, "not checkable in a Windows "
             "guest: /dev/kvm is Linux's");
    vn_check(v, GUEST_KVM_NESTED, CHECK_SKIP, "not checkable in a Windows "
             "guest: the kvm module's nested parameter is Linux's");
    vn_agent_exec_status_clear(&st);
    free(why);
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

void
vn_verify_guest(struct verify *v)
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
    int windows = guest_os(v);
    if (windows < 0)
        return;
    if (windows) {
        check_windows(v);
        return;
    }
    const char *fallback = v->host->vendor == NST_VENDOR_AMD ? "kvm_amd" :
                           "kvm_intel";
    const char *module = check_cpu_flags(v);
    if (module && !*module)
        return;
    if (!check_kvm_device(v, module))
        return;
    check_kvm_nested(v, module ? module : fallback);
}
