/*
 * host-enable.c: "virt-nestify host --enable"
 *
 * Turns nested on for the CPU's kvm module in /etc/modprobe.d (and with
 * --reload in the running kernel), and reserves hugepages.  In two
 * phases, so nothing is half-done: first everything is read and checked
 * and the plan made (--dry-run prints it and stops), then it is carried
 * out.  Files are replaced atomically; a file that is replaced keeps its
 * previous content in NAME.TIME.bak beside it (modprobe and sysctl read
 * only *.conf, so the backup is inert).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json.h>

#include "host-doctor.h"
#include "nestify.h"

#define MODPROBE_DIR "/etc/modprobe.d"
#define SYSCTL_DIR "/etc/sysctl.d"
#define SYSCTL_NAME "80-virt-nestify-hugepages.conf"

struct plan {
    enum vn_cpu_vendor vendor;
    const char *module;
    struct vn_conf_file modprobe;
    char *persisted_by;          /* another file already sets nested=1 */
    bool nested_now;             /* the loaded module has nested on */
    bool loaded;

    bool hugepages;
    unsigned long long count;
    unsigned long long kib;
    unsigned long long default_kib;
    long node;                   /* -1: all nodes */
    char *hp_host;               /* nr_hugepages as the host sees it */
    char *hp_dir;                /* its directory */
    unsigned long long hp_before;  /* what hp_host says before the run */
    unsigned long long hp_after;   /* and after it (the kernel's grant) */
    bool hp_applied;               /* hp_after is known */
    struct vn_conf_file sysctl;
    bool sysctl_planned;
    char *cmdline;               /* the kernel command line that persists it */

    char *modprobe_cmd;          /* --reload */
    const char *initramfs;
};

static void
plan_clear(struct plan *p)
{
    vn_conf_file_clear(&p->modprobe);
    vn_conf_file_clear(&p->sysctl);
    free(p->persisted_by);
    free(p->hp_host);
    free(p->hp_dir);
    free(p->cmdline);
    free(p->modprobe_cmd);
}

/*
 * Parses a hugepage size: a number with k/K/kB (KiB), M/MB/MiB or
 * G/GB/GiB, or a bare number of KiB (sysfs's unit).  Returns 0 or -1.
 */
static int
parse_size(const char *text, unsigned long long *kib)
{
    static const struct { const char *suffix; unsigned long long mult; }
    units[] = {
        { "", 1 }, { "k", 1 }, { "K", 1 }, { "kB", 1 }, { "KB", 1 },
        { "KiB", 1 }, { "M", 1024 }, { "MB", 1024 }, { "MiB", 1024 },
        { "G", 1024 * 1024 }, { "GB", 1024 * 1024 }, { "GiB", 1024 * 1024 },
    };
    size_t digits = strspn(text, "0123456789");
    unsigned long long n;

    if (!digits || digits > 12)
        return -1;
    char *num = nst_printf("%.*s", (int)digits, text);
    int bad = !num || nst_parse_ull(num, 1ULL << 40, &n) < 0 || n == 0;
    free(num);
    if (bad)
        return -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++) {
        if (strcmp(text + digits, units[i].suffix) == 0) {
            *kib = n * units[i].mult;
            return 0;
        }
    }
    return -1;
}

/* The default hugepage size: /proc/meminfo's Hugepagesize, else the
 * smallest size the kernel offers, else 0. */
static unsigned long long
default_hugepage_size(const char *root, const unsigned long long *sizes,
                      int nsizes)
{
    char *path = vn_root_path(root, "/proc/meminfo");
    size_t len;
    char *text = path ? vn_read_file(path, &len, NULL) : NULL;
    unsigned long long kib = 0;

    free(path);
    for (const char *line = text; line && *line;) {
        if (strncmp(line, "Hugepagesize:", 13) == 0) {
            const char *v = line + 13;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t digits = strspn(v, "0123456789");
            char *num = nst_printf("%.*s", (int)digits, v);
            if (!num || nst_parse_ull(num, 1ULL << 40, &kib) < 0)
                kib = 0;
            free(num);
            break;
        }
        const char *eol = strchr(line, '\n');
        line = eol ? eol + 1 : NULL;
    }
    free(text);
    if (!kib && nsizes > 0)
        kib = sizes[0];
    return kib;
}

/* "2048 kB, 1048576 kB": the sizes for a message; free(). */
static char *
sizes_text(const unsigned long long *sizes, int n)
{
    struct nst_buf buf = { 0 };
    for (int i = 0; i < n; i++) {
        char *t = nst_size_text(sizes[i]);
        nst_buf_addf(&buf, "%s%s", i ? ", " : "", t ? t : "?");
        free(t);
    }
    if (!n)
        nst_buf_adds(&buf, "none");
    return nst_buf_finish(&buf, NULL);
}

/* The kernel command line's spelling of a size: 2M, 1G, 64K. */
static char *
cmdline_size(unsigned long long kib)
{
    if (kib % (1024 * 1024) == 0)
        return nst_printf("%lluG", kib / (1024 * 1024));
    if (kib % 1024 == 0)
        return nst_printf("%lluM", kib / 1024);
    return nst_printf("%lluK", kib);
}

/* Whether a process of /proc under root is a QEMU: its comm, or the
 * base name of its argv[0] (comm is cut at 15 characters). */
static bool
is_qemu(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    return strncmp(base, "qemu-system", 11) == 0 ||
           strncmp(base, "qemu-kvm", 8) == 0;
}

/* The QEMU processes under root's /proc: how many, and the first pid. */
static size_t
running_qemus(const char *root, char **first)
{
    char *dir = vn_root_path(root, "/proc");
    DIR *d = dir ? opendir(dir) : NULL;
    size_t n = 0;

    *first = NULL;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strspn(e->d_name, "0123456789") != strlen(e->d_name) ||
            !e->d_name[0])
            continue;
        char *comm = nst_printf("/proc/%s/comm", e->d_name);
        char *cmd = nst_printf("/proc/%s/cmdline", e->d_name);
        char *c = comm ? vn_root_read_value(root, comm, NULL) : NULL;
        /* cmdline's arguments end in NULs: the string is argv[0]. */
        char *a = cmd ? vn_root_read_value(root, cmd, NULL) : NULL;
        if ((c && is_qemu(c)) || (a && is_qemu(a))) {
            if (!n++)
                *first = nst_printf("pid %s, %s", e->d_name,
                                    c && is_qemu(c) ? c : a);
        }
        free(c);
        free(a);
        free(comm);
        free(cmd);
    }
    if (d)
        closedir(d);
    free(dir);
    return n;
}

/* The initramfs step for root's distribution (/etc/os-release). */
static const char *
initramfs_step(const char *root)
{
    char *path = vn_root_path(root, "/etc/os-release");
    size_t len;
    char *text = path ? vn_read_file(path, &len, NULL) : NULL;
    const char *step = NULL;

    free(path);
    /* ID first, then ID_LIKE: a derivative says what it is like. */
    static const char *const keys[] = { "ID=", "ID_LIKE=" };
    for (size_t k = 0; text && !step && k < 2; k++) {
        for (const char *line = text; line && *line && !step;) {
            const char *eol = strchr(line, '\n');
            size_t n = eol ? (size_t)(eol - line) : strlen(line);
            size_t klen = strlen(keys[k]);
            if (n > klen && strncmp(line, keys[k], klen) == 0) {
                char *v = nst_printf("%.*s", (int)(n - klen), line + klen);
                /* Values may be quoted, ID_LIKE a list of words. */
                for (char *q = v; q && *q; q++)
                    if (*q == '"' || *q == '\'')
                        *q = ' ';
                const char *end = v ? v + strlen(v) : NULL;
                for (const char *w = v; w && w < end && !step;) {
                    while (*w == ' ')
                        w++;
                    size_t wl = strcspn(w, " ");
                    if ((wl == 6 && strncmp(w, "debian", 6) == 0) ||
                        (wl == 6 && strncmp(w, "ubuntu", 6) == 0))
                        step = "update-initramfs -u";
                    else if ((wl == 6 && strncmp(w, "fedora", 6) == 0) ||
                             (wl == 4 && strncmp(w, "rhel", 4) == 0) ||
                             (wl == 6 && strncmp(w, "centos", 6) == 0))
                        step = "dracut -f";
                    w += wl;
                }
                free(v);
            }
            line = eol ? eol + 1 : NULL;
        }
    }
    free(text);
    return step;
}

/* The modprobe --reload runs: the system's (never one from $PATH); with
 * --root, $VIRT_NESTIFY_MODPROBE (how the tests run it).  The variable
 * is ignored without --root: an environment variable must not choose
 * what a root-run tool executes on the real host. */
static char *
find_modprobe(bool under_root, char **err)
{
    const char *env = getenv("VIRT_NESTIFY_MODPROBE");
    if (under_root && env && *env)
        return nst_printf("%s", env);
    if (under_root) {
        nst_set_error(err, "--reload with --root: the module belongs to the "
                      "running kernel, not to the root; set "
                      "VIRT_NESTIFY_MODPROBE to run a modprobe of its own");
        return NULL;
    }
    static const char *const paths[] = { "/usr/sbin/modprobe",
                                         "/sbin/modprobe" };
    for (size_t i = 0; i < 2; i++)
        if (access(paths[i], X_OK) == 0)
            return nst_printf("%s", paths[i]);
    nst_set_error(err, "--reload: no modprobe in /usr/sbin or /sbin");
    return NULL;
}

/* Each plan_* step below returns VN_EXIT_OK, or an exit status with
 * *err set (VN_EXIT_SYSTEM with "out of memory"). */
static int
plan_oom(char **err)
{
    nst_set_error(err, "out of memory");
    return VN_EXIT_SYSTEM;
}

/* The KVM module of the CPU's vendor. */
static int
plan_vendor(const struct vn_host_opts *o, struct plan *p, char **err)
{
    struct vn_cpuinfo cpu;

    if (vn_cpuinfo_read(o->root, &cpu, err) < 0)
        return VN_EXIT_INPUT;
    if (!(p->module = vn_kvm_module(cpu.vendor))) {
        nst_set_error(err, "cannot tell the CPU vendor from /proc/cpuinfo "
                      "(no vmx, svm or known vendor_id)");
        return VN_EXIT_INPUT;
    }
    p->vendor = cpu.vendor;
    if (!cpu.vmx && !cpu.svm)
        vn_warning("the CPU shows no %s flag: enable %s in the firmware "
                   "setup too", cpu.vendor == VN_CPU_INTEL ? "vmx" : "svm",
                   cpu.vendor == VN_CPU_INTEL ? "Intel VT-x" : "AMD-V");
    return VN_EXIT_OK;
}

/* --hugepages N[,SIZE] and --node N into p->count, p->kib, p->node. */
static int
plan_hugepages_args(const struct vn_host_opts *o, struct plan *p, char **err)
{
    const char *comma = strchr(o->hugepages, ',');
    char *num = nst_printf("%.*s", comma ? (int)(comma - o->hugepages) :
                                           (int)strlen(o->hugepages),
                           o->hugepages);
    int bad = !num || nst_parse_ull(num, 1ULL << 32, &p->count) < 0;
    free(num);
    if (bad || (comma && parse_size(comma + 1, &p->kib) < 0)) {
        nst_set_error(err, "--hugepages must be N or N,SIZE (a count and a "
                      "size such as 2M or 1G), not '%s'", o->hugepages);
        return VN_EXIT_INPUT;
    }
    if (o->node) {
        unsigned long long node;
        if (nst_parse_ull(o->node, 4095, &node) < 0) {
            nst_set_error(err, "--node must be a NUMA node number, not '%s'",
                          o->node);
            return VN_EXIT_INPUT;
        }
        p->node = (long)node;
        char *node_dir = nst_printf("/sys/devices/system/node/node%ld",
                                    p->node);
        char *full = node_dir ? vn_root_path(o->root, node_dir) : NULL;
        struct stat st;
        bool there = full && stat(full, &st) == 0;
        free(full);
        free(node_dir);
        if (!there) {
            nst_set_error(err, "--node %ld: no such NUMA node", p->node);
            return VN_EXIT_INPUT;
        }
    }
    return VN_EXIT_OK;
}

/* The size asked for (the host's default without one) must be one the
 * host, or the node, has: dir is its sysfs hugepages directory. */
static int
plan_hugepage_size(const struct vn_host_opts *o, struct plan *p,
                   const char *dir, char **err)
{
    unsigned long long *sizes, *all;
    int n = vn_hugepage_sizes(o->root, dir, &sizes, err);
    int nall = vn_hugepage_sizes(o->root, "/sys/kernel/mm/hugepages", &all,
                                 NULL);
    p->default_kib = default_hugepage_size(o->root, all, nall);
    free(all);
    if (n < 0)
        return VN_EXIT_INPUT;
    if (!p->kib)
        p->kib = p->default_kib;
    bool known = false;
    for (int i = 0; i < n; i++)
        known = known || sizes[i] == p->kib;
    if (!known) {
        char *size = nst_size_text(p->kib);
        char *list = sizes_text(sizes, n);
        if (p->node >= 0)
            nst_set_error(err, "no %s hugepages on node %ld (sizes: %s)",
                          size ? size : "?", p->node, list ? list : "?");
        else
            nst_set_error(err, "no %s hugepages on this host (sizes: %s)",
                          size ? size : "?", list ? list : "?");
        free(size);
        free(list);
    }
    free(sizes);
    return known ? VN_EXIT_OK : VN_EXIT_INPUT;
}

/* --persist: a sysctl file for the default size on the whole host, else
 * the kernel command line to give (boot-time pages). */
static int
plan_hugepages_persist(const struct vn_host_opts *o, struct plan *p,
                       char **err)
{
    char *size = cmdline_size(p->kib);
    int status = VN_EXIT_OK;

    if (p->node < 0 && p->kib == p->default_kib) {
        p->sysctl_planned = true;
        status = vn_conf_file_init(&p->sysctl, SYSCTL_DIR, SYSCTL_NAME,
                                   nst_printf("# Written by virt-nestify "
                                              "host --enable --hugepages "
                                              "--persist.\n"
                                              "vm.nr_hugepages = %llu\n",
                                              p->count)) < 0 ?
                 plan_oom(err) :
                 vn_conf_file_prepare(o->root, &p->sysctl, err);
    } else if (p->node < 0) {
        p->cmdline = nst_printf("hugepagesz=%s hugepages=%llu",
                                size ? size : "?", p->count);
    } else {
        p->cmdline = nst_printf("hugepagesz=%s hugepages=%ld:%llu",
                                size ? size : "?", p->node, p->count);
    }
    free(size);
    return status;
}

static int
plan_hugepages(const struct vn_host_opts *o, struct plan *p, char **err)
{
    int status = plan_hugepages_args(o, p, err);
    if (status != VN_EXIT_OK)
        return status;
    char *dir = p->node < 0 ? nst_printf("/sys/kernel/mm/hugepages") :
        nst_printf("/sys/devices/system/node/node%ld/hugepages", p->node);
    if (!dir)
        return plan_oom(err);
    status = plan_hugepage_size(o, p, dir, err);
    if (status == VN_EXIT_OK) {
        p->hugepages = true;
        p->hp_dir = nst_printf("%s/hugepages-%llukB", dir, p->kib);
        p->hp_host = p->hp_dir ? nst_printf("%s/nr_hugepages", p->hp_dir) :
                     NULL;
        status = !p->hp_host ? plan_oom(err) :
                 vn_host_check_knob(o->root, p->hp_dir, "nr_hugepages", p->hp_host,
                            err);
    }
    if (status == VN_EXIT_OK) {
        /* The count before, for --output json: unknown reads as 0. */
        char *now = vn_root_read_value(o->root, p->hp_host, NULL);
        if (!now || nst_parse_ull(now, ~0ULL, &p->hp_before) < 0)
            p->hp_before = 0;
        free(now);
    }
    free(dir);
    if (status == VN_EXIT_OK && o->persist)
        status = plan_hugepages_persist(o, p, err);
    return status;
}

/* The modprobe.d file, unless the configuration already has nested on;
 * refused when a later file would turn it off again. */
static int
plan_modprobe(const struct vn_host_opts *o, struct plan *p, char **err)
{
    struct vn_modprobe_nested now, after;

    if (vn_conf_file_init(&p->modprobe, MODPROBE_DIR, VN_MODPROBE_CONF,
                          nst_printf("# Written by virt-nestify host "
                                     "--enable: nested virtualization for "
                                     "KVM.\noptions %s nested=1\n",
                                     p->module)) < 0)
        return plan_oom(err);
    if (vn_modprobe_nested(o->root, p->module, NULL, NULL, &now, err) < 0)
        return VN_EXIT_INPUT;
    free(now.where);
    if (now.value == 1 && strcmp(now.file, p->modprobe.host) != 0) {
        p->persisted_by = now.file;
        return VN_EXIT_OK;
    }
    free(now.file);
    if (vn_modprobe_nested(o->root, p->module, VN_MODPROBE_CONF,
                           p->modprobe.text, &after, err) < 0)
        return VN_EXIT_INPUT;
    int status = VN_EXIT_INPUT;
    if (after.value != 1)
        nst_set_error(err, "%s turns nested off again after %s: remove it "
                      "first", after.where, p->modprobe.host);
    else
        status = vn_conf_file_prepare(o->root, &p->modprobe, err);
    free(after.file);
    free(after.where);
    return status;
}

/* The running module: loaded, nested on; --reload's preconditions. */
static int
plan_module(const struct vn_host_opts *o, struct plan *p, char **err)
{
    char *param = nst_printf("/sys/module/%s/parameters/nested", p->module);
    char *v = param ? vn_root_read_value(o->root, param, NULL) : NULL;
    char *mod_dir = nst_printf("/sys/module/%s", p->module);
    char *mod_path = mod_dir ? vn_root_path(o->root, mod_dir) : NULL;
    struct stat st;
    p->loaded = mod_path && stat(mod_path, &st) == 0;
    free(mod_path);
    free(mod_dir);
    p->nested_now = v && (strcmp(v, "Y") == 0 || strcmp(v, "1") == 0);
    free(v);
    free(param);

    if (o->reload) {
        char *first;
        if (!(p->modprobe_cmd = find_modprobe(strcmp(o->root, "/") != 0,
                                              err)))
            return VN_EXIT_INPUT;
        size_t n = running_qemus(o->root, &first);
        if (n) {
            nst_set_error(err, "refusing --reload: %zu QEMU process%s "
                          "running (%s); stop every VM first", n,
                          n == 1 ? " is" : "es are", first ? first : "?");
            free(first);
            return VN_EXIT_INPUT;
        }
    }
    return VN_EXIT_OK;
}

/* Makes the plan; reports and returns an exit status when it cannot. */
static int
make_plan(const struct vn_host_opts *o, struct plan *p)
{
    char *err = NULL;
    int status;

    p->node = -1;
    if ((status = plan_vendor(o, p, &err)) != VN_EXIT_OK ||
        (o->hugepages && (status = plan_hugepages(o, p, &err)) !=
                         VN_EXIT_OK) ||
        (status = plan_modprobe(o, p, &err)) != VN_EXIT_OK ||
        (status = plan_module(o, p, &err)) != VN_EXIT_OK) {
        vn_error("%s", err ? err : "out of memory");
        free(err);
        return status;
    }
    p->initramfs = initramfs_step(o->root);
    return VN_EXIT_OK;
}

/* Runs argv (argv[0] a path) and waits.  Returns its exit status (a
 * signal's death as the shell gives it, 128 + the signal; 127 when it
 * could not run), reported when not 0. */
static int
run_wait(char *const argv[])
{
    fflush(stdout);
    pid_t pid = fork();
    int status;

    if (pid < 0) {
        vn_error("cannot run %s: %s", argv[0], strerror(errno));
        return 127;
    }
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            vn_error("cannot wait for %s: %s", argv[0], strerror(errno));
            return 127;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    struct nst_buf cmd = { 0 };
    for (size_t i = 0; argv[i]; i++)
        nst_buf_addf(&cmd, "%s%s", i ? " " : "", argv[i]);
    char *text = nst_buf_finish(&cmd, NULL);
    if (WIFEXITED(status))
        vn_error("'%s' failed with exit status %d", text ? text : argv[0],
                 WEXITSTATUS(status));
    else
        vn_error("'%s' was killed by signal %d", text ? text : argv[0],
                 WTERMSIG(status));
    free(text);
    /* A signal's death as the shell gives it. */
    return WIFEXITED(status) ? WEXITSTATUS(status) :
           128 + WTERMSIG(status);
}

/* Runs argv, recording it in r.  Returns 0 or -1, reported. */
static int
run(char *const argv[], struct vn_host_result *r)
{
    int status = run_wait(argv);
    vn_host_result_command(r, argv, status);
    return status == 0 ? 0 : -1;
}

static void
print_plan(const struct vn_host_opts *o, const struct plan *p)
{
    if (p->persisted_by)
        printf("nested: %s already sets nested=1 for %s: nothing to "
               "write\n", p->persisted_by, p->module);
    else if (!p->modprobe.write)
        printf("nested: %s already says options %s nested=1\n",
               p->modprobe.host, p->module);
    else
        printf("would write %s: options %s nested=1%s\n", p->modprobe.host,
               p->module, p->modprobe.old ?
               " (the previous content kept in NAME.TIME.bak)" : "");
    if (o->reload && p->loaded)
        printf("would run: %s -r %s; %s %s\n", p->modprobe_cmd, p->module,
               p->modprobe_cmd, p->module);
    else if (o->reload)
        printf("would run: %s %s\n", p->modprobe_cmd, p->module);
    if (p->hugepages) {
        char *size = nst_size_text(p->kib);
        printf("would write %llu to %s (%s pages%s)\n", p->count, p->hp_host,
               size ? size : "?", p->node >= 0 ? ", one NUMA node" : "");
        free(size);
        if (p->sysctl_planned && p->sysctl.write)
            printf("would write %s: vm.nr_hugepages = %llu%s\n",
                   p->sysctl.host, p->count, p->sysctl.old ?
                   " (the previous content kept in NAME.TIME.bak)" : "");
        else if (p->sysctl_planned)
            printf("hugepages: %s already says vm.nr_hugepages = %llu\n",
                   p->sysctl.host, p->count);
    }
}

/* What is left to the operator. */
static void
print_next(const struct vn_host_opts *o, const struct plan *p,
           struct vn_host_result *r)
{
    if (p->cmdline)
        vn_host_result_next(r, "/etc/sysctl.d sets the default size on "
                            "every node only; to keep these hugepages "
                            "across reboots, add '%s' to the kernel command "
                            "line", p->cmdline);
    if (!o->reload && !p->nested_now && p->loaded)
        vn_host_result_next(r, "the running %s has nested off; run again "
                            "with --reload (every VM stopped) or reboot",
                            p->module);
    else if (!o->reload && !p->loaded)
        vn_host_result_next(r, "%s is not loaded; load it with modprobe %s "
                            "(or run again with --reload)", p->module,
                            p->module);
    if (!p->persisted_by && p->modprobe.write)
        vn_host_result_next(r, "%s, so that a %s loaded from the initramfs "
                            "gets nested=1 too",
                            p->initramfs ? p->initramfs :
                            "rebuild the initramfs (update-initramfs -u, "
                            "dracut -f or mkinitcpio -P, as the "
                            "distribution does it)", p->module);
}

/* The files and commands of a --dry-run, into r's document. */
static void
record_plan(const struct vn_host_opts *o, const struct plan *p,
            struct vn_host_result *r)
{
    if (p->persisted_by)
        vn_host_result_file(r, p->persisted_by, "unchanged", NULL);
    else
        vn_host_result_conf(r, &p->modprobe);
    if (p->sysctl_planned)
        vn_host_result_conf(r, &p->sysctl);
    char *rm[] = { p->modprobe_cmd, (char *)"-r", (char *)p->module, NULL };
    char *add[] = { p->modprobe_cmd, (char *)p->module, NULL };
    if (o->reload && p->loaded)
        vn_host_result_command(r, rm, -1);
    if (o->reload)
        vn_host_result_command(r, add, -1);
}

/* "initramfs": the distribution's command (argv) that makes a kvm module
 * loaded from the initramfs read the modprobe.d file this run wrote (or
 * would write), for a caller to run without reading "next"; null when no
 * file was written or the distribution is not known. */
static void
record_initramfs(const struct plan *p, struct vn_host_result *r)
{
    char *words = !p->persisted_by && p->modprobe.write && p->initramfs ?
                  strdup(p->initramfs) : NULL;
    if (!words) {
        nst_json_add_null(r->doc, "initramfs", &r->ok);
        return;
    }
    struct json_object *argv = json_object_new_array();
    char *save = NULL;
    for (char *w = strtok_r(words, " ", &save); w;
         w = strtok_r(NULL, " ", &save))
        nst_json_append(argv, json_object_new_string(w), &r->ok);
    nst_json_add(r->doc, "initramfs", argv, &r->ok);
    free(words);
}

/* The keys of the enable document (docs/json.md) beside the files,
 * commands and next steps; a hugepage count that moves is a change. */
static void
record_enable(const struct vn_host_opts *o, const struct plan *p,
              struct vn_host_result *r)
{
    struct json_object *module = json_object_new_object();
    const char *action = !o->reload ? NULL :
                         o->dry_run ? (p->loaded ? "would-reload" :
                                                   "would-load") :
                         p->loaded ? "reloaded" : "loaded";
    nst_json_add_string(module, "name", p->module, &r->ok);
    nst_json_add_string(module, "action", action, &r->ok);
    nst_json_add_bool(module, "nested", p->nested_now, &r->ok);
    nst_json_add(r->doc, "module", module, &r->ok);
    if (!p->hugepages) {
        nst_json_add_null(r->doc, "hugepages", &r->ok);
    } else {
        struct json_object *hp = json_object_new_object();
        nst_json_add_int(hp, "size_kib", (long long)p->kib, &r->ok);
        if (p->node >= 0)
            nst_json_add_int(hp, "node", p->node, &r->ok);
        else
            nst_json_add_null(hp, "node", &r->ok);
        nst_json_add_int(hp, "asked", (long long)p->count, &r->ok);
        nst_json_add_int(hp, "before", (long long)p->hp_before, &r->ok);
        if (p->hp_applied)
            nst_json_add_int(hp, "after", (long long)p->hp_after, &r->ok);
        else
            nst_json_add_null(hp, "after", &r->ok);
        nst_json_add(r->doc, "hugepages", hp, &r->ok);
        if (p->hp_applied ? p->hp_after != p->hp_before :
            p->count != p->hp_before)
            r->changed = true;
    }
    nst_json_add_string(r->doc, "kernel_cmdline", p->cmdline, &r->ok);
    record_initramfs(p, r);
}

/* Writes the hugepage count into sysfs and says what the kernel
 * granted, then the sysctl file.  Returns 0, or -1 having reported. */
static int
apply_hugepages(const struct vn_host_opts *o, struct plan *p,
                struct vn_host_result *r)
{
    char *value = nst_printf("%llu\n", p->count);
    char *err = NULL;
    int dfd = vn_host_open_dir(o->root, p->hp_dir, false, &err);
    free(err);
    err = NULL;
    /* sysfs takes a write in place; O_TRUNC is for plain files.  The
     * plan found a regular file (vn_host_check_knob): O_NOFOLLOW and O_NONBLOCK
     * keep whatever replaced it since from being written through or
     * waited for. */
    int fd = dfd < 0 ? -1 : openat(dfd, "nr_hugepages", O_WRONLY | O_TRUNC |
                                   O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    ssize_t n = fd >= 0 && value ? write(fd, value, strlen(value)) : -1;
    int saved = errno;
    if (dfd >= 0)
        close(dfd);
    if (fd >= 0 && close(fd) < 0 && n >= 0) {
        n = -1;
        saved = errno;
    }
    free(value);
    if (n < 0) {
        vn_error("cannot write %s: %s", p->hp_host, strerror(saved));
        return -1;
    }
    char *got = vn_root_read_value(o->root, p->hp_host, &err);
    unsigned long long granted;
    if (!got || nst_parse_ull(got, ~0ULL, &granted) < 0) {
        vn_error("%s", err ? err : "cannot read back the hugepages");
        free(err);
        free(got);
        return -1;
    }
    free(got);
    p->hp_after = granted;
    p->hp_applied = true;
    char *size = nst_size_text(p->kib);
    if (!r->json)
        printf("hugepages: asked for %llu of %s%s, the kernel has %llu\n",
               p->count, size ? size : "?",
               p->node >= 0 ? " on this node" : "", granted);
    if (granted < p->count)
        vn_warning("the kernel reserved %llu of the %llu hugepages of %s "
                   "asked for (not enough free contiguous memory): free "
                   "memory or reserve them at boot", granted, p->count,
                   size ? size : "?");
    free(size);
    if (p->sysctl_planned && !p->sysctl.write) {
        if (r->json)
            vn_host_result_conf(r, &p->sysctl);
        else
            printf("hugepages: %s already says vm.nr_hugepages = %llu\n",
                   p->sysctl.host, p->count);
        return 0;
    }
    return p->sysctl_planned ? vn_conf_file_write(o->root, &p->sysctl, r) :
           0;
}

/* --reload: the module out and in again, then nested must be on.
 * Returns 0, or -1 having reported. */
static int
reload_module(const struct vn_host_opts *o, struct plan *p,
              struct vn_host_result *r)
{
    char *rm[] = { p->modprobe_cmd, (char *)"-r", (char *)p->module, NULL };
    char *add[] = { p->modprobe_cmd, (char *)p->module, NULL };

    /* modprobe -r fails for a module that is not loaded. */
    if (p->loaded && run(rm, r) < 0)
        return -1;
    if (run(add, r) < 0) {
        vn_error("%s is not loaded now: load it with modprobe %s", p->module,
                 p->module);
        return -1;
    }
    char *param = nst_printf("/sys/module/%s/parameters/nested", p->module);
    char *v = param ? vn_root_read_value(o->root, param, NULL) : NULL;
    p->nested_now = v && (strcmp(v, "Y") == 0 || strcmp(v, "1") == 0);
    if (!r->json)
        printf("%s %s: nested=%s\n", p->loaded ? "reloaded" : "loaded",
               p->module, v ? v : "?");
    free(param);
    free(v);
    if (!p->nested_now) {
        vn_error("%s still has nested off after the reload", p->module);
        return -1;
    }
    return 0;
}

/* Carries the plan out (the files, the hugepages, the module).
 * Returns 0, or -1 having reported. */
static int
apply_plan(const struct vn_host_opts *o, struct plan *p,
           struct vn_host_result *r)
{
    if (p->persisted_by && r->json)
        vn_host_result_file(r, p->persisted_by, "unchanged", NULL);
    else if (p->persisted_by)
        printf("nested: %s already sets nested=1 for %s: nothing "
               "written\n", p->persisted_by, p->module);
    else if (!p->modprobe.write && r->json)
        vn_host_result_conf(r, &p->modprobe);
    else if (!p->modprobe.write)
        printf("nested: %s already says options %s nested=1\n",
               p->modprobe.host, p->module);
    else if (vn_conf_file_write(o->root, &p->modprobe, r) < 0)
        return -1;
    if ((p->hugepages && apply_hugepages(o, p, r) < 0) ||
        (o->reload && reload_module(o, p, r) < 0))
        return -1;
    return 0;
}

int
vn_host_enable(const struct vn_host_opts *o)
{
    struct plan p = { 0 };
    struct vn_host_result r;
    int ret = make_plan(o, &p);

    vn_host_result_init(&r, o, "enable");
    if (ret != VN_EXIT_OK)
        goto out;
    if (o->dry_run && !r.json)
        print_plan(o, &p);
    else if (o->dry_run)
        record_plan(o, &p, &r);
    /* Once something may have been done, the document says what, even
     * when a step failed (the exit status and the error say which). */
    ret = o->dry_run || apply_plan(o, &p, &r) == 0 ? VN_EXIT_OK :
          VN_EXIT_SYSTEM;
    if (ret == VN_EXIT_OK)
        print_next(o, &p, &r);
    if (r.json)
        record_enable(o, &p, &r);
    if (vn_host_result_finish(&r) < 0)
        ret = VN_EXIT_SYSTEM;
 out:
    vn_host_result_clear(&r);
    plan_clear(&p);
    return ret;
}
