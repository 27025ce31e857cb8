/*
 * host-isolate.c: "virt-nestify host --isolate", the host side of pinning
 *
 * A pinned vCPU keeps to its CPU, but the host's own processes and
 * interrupts still run there.  From the CPUs the guests own (the vCPU
 * pins of every domain of -c, and --taken) and the host's CPUs, this
 * writes below --root:
 *   - systemd drop-ins giving system.slice, user.slice and init.scope
 *     AllowedCPUs= the housekeeping CPUs (the rest); machine.slice is
 *     left alone: it holds the guests, whose CPUs libvirt sets from their
 *     pins, and their emulator threads on the housekeeping CPUs;
 *   - irqbalance's IRQBALANCE_BANNED_CPULIST=, when irqbalance is
 *     installed (the file's other lines kept);
 *   - tuned's cpu-partitioning isolated_cores=, when tuned is installed;
 * and prints the kernel command line (isolcpus, nohz_full, rcu_nocbs)
 * as advice: a boot setting is the operator's to make.
 *
 * Built as "host --enable" is (host-enable.c): the whole plan is made
 * and checked first (--dry-run prints it), then the files are written
 * with host-conf.c's helpers (atomic, never through a link, the earlier
 * content kept as NAME.TIME.bak); a file already so is not written.
 *
 * The doctor's check (vn_isolation_missing) reads the same files the
 * way systemd and irqbalance do.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "host-doctor.h"
#include "nestify.h"

#define DROPIN_NAME "50-virt-nestify.conf"

/* The units whose processes are the host's own: [section] per type. */
static const struct unit {
    const char *name;
    const char *section;
    const char *dropin_dir;      /* where --isolate writes */
} units[] = {
    { "system.slice", "Slice", "/etc/systemd/system/system.slice.d" },
    { "user.slice", "Slice", "/etc/systemd/system/user.slice.d" },
    { "init.scope", "Scope", "/etc/systemd/system/init.scope.d" },
};
#define NUNITS (sizeof(units) / sizeof(*units))

/* systemd's unit directories that hold drop-ins, highest priority first
 * (systemd.unit(5)); "systemctl set-property" writes system.control.  A
 * drop-in's name in an earlier directory hides it in the later ones;
 * then all are applied in name order, the last setting winning. */
static const char *const unit_dirs[] = {
    "/etc/systemd/system.control", "/run/systemd/system.control",
    "/etc/systemd/system", "/run/systemd/system",
    "/usr/local/lib/systemd/system", "/usr/lib/systemd/system",
    "/lib/systemd/system",
};
#define NUNIT_DIRS (sizeof(unit_dirs) / sizeof(*unit_dirs))
#define ETC_UNIT_DIR 2           /* unit_dirs[] index of /etc/systemd/system */

#define IRQBALANCE_DIR "/etc/default"
#define IRQBALANCE_NAME "irqbalance"
#define IRQBALANCE_KEY "IRQBALANCE_BANNED_CPULIST"
#define TUNED_DIR "/etc/tuned"
#define TUNED_NAME "cpu-partitioning-variables.conf"
#define TUNED_KEY "isolated_cores"

/* irqbalance >= 1.8 reads IRQBALANCE_BANNED_CPULIST from this file
 * (Debian's systemd unit's EnvironmentFile). */
static bool
irqbalance_installed(const char *root)
{
    return vn_root_exists(root, IRQBALANCE_DIR "/" IRQBALANCE_NAME) ||
           vn_root_exists(root, "/usr/sbin/irqbalance");
}

static bool
tuned_installed(const char *root)
{
    return vn_root_exists(root, "/usr/sbin/tuned") ||
           vn_root_exists(root, TUNED_DIR);
}

/* ------------------------------------------------------ reading files */

/* One logical line of text from *p (advanced past it), without its
 * newline and with the whitespace around it trimmed: *len its length. */
static const char *
next_line(const char **p, size_t *len)
{
    const char *line = *p;
    const char *eol = strchr(line, '\n');
    size_t n = eol ? (size_t)(eol - line) : strlen(line);

    *p = eol ? eol + 1 : line + n;
    while (n && strchr(" \t\r", line[n - 1]))
        n--;
    while (n && (*line == ' ' || *line == '\t')) {
        line++;
        n--;
    }
    *len = n;
    return line;
}

/* Whether line (len bytes) assigns key ("KEY=..."), and where the value
 * starts.  Spaces around '=' are allowed (systemd allows them). */
static const char *
assigns(const char *line, size_t len, const char *key)
{
    size_t klen = strlen(key);
    if (len <= klen || strncmp(line, key, klen) != 0)
        return NULL;
    const char *q = line + klen;
    while (q < line + len && (*q == ' ' || *q == '\t'))
        q++;
    return q < line + len && *q == '=' ? q + 1 : NULL;
}

/* A CPU list as systemd, irqbalance and tuned write it: commas or
 * spaces between items, maybe in quotes.  Returns 0, or -1 when it is
 * not one (whoever reads the file ignores it then). */
static int
parse_list(const char *v, size_t len, struct nst_cpuset *set)
{
    while (len && (*v == ' ' || *v == '\t'))
        v++, len--;
    if (len >= 2 && (*v == '"' || *v == '\'') && v[len - 1] == *v)
        v++, len -= 2;
    char *text = nst_printf("%.*s", (int)len, v);
    char *err = NULL;
    for (char *q = text; q && *q; q++)
        if (*q == ' ' || *q == '\t')
            *q = ',';
    int r = text && *text ? nst_cpuset_parse(text, set, &err) : -1;
    free(err);
    free(text);
    return r;
}

/* What systemd gives a unit for AllowedCPUs=. */
struct allowed {
    bool set;                    /* false: every CPU */
    struct nst_cpuset cpus;
    char *file;                  /* host path of the deciding drop-in */
};

/* Applies the AllowedCPUs= lines of one drop-in's [section]. */
static void
scan_dropin(const char *text, const char *section, const char *path,
            struct allowed *out)
{
    bool in = false;
    size_t slen = strlen(section);

    for (const char *p = text; *p;) {
        size_t len;
        const char *line = next_line(&p, &len);
        const char *v;
        if (len && line[0] == '[') {
            in = len == slen + 2 && strncmp(line + 1, section, slen) == 0 &&
                 line[len - 1] == ']';
        } else if (in && (v = assigns(line, len, "AllowedCPUs"))) {
            size_t vlen = len - (size_t)(v - line);
            struct nst_cpuset cpus;
            bool empty = strspn(v, " \t") >= vlen;
            /* An empty value resets to every CPU; a bad one is ignored,
             * as systemd does (it logs it). */
            if (!empty && parse_list(v, vlen, &cpus) < 0)
                continue;
            out->set = !empty;
            if (!empty)
                out->cpus = cpus;
            free(out->file);
            out->file = nst_printf("%s", path);
        }
    }
}

struct dropin {
    char *name;
    size_t dir;                  /* unit_dirs index */
};

static int
compare_dropins(const void *a, const void *b)
{
    return strcmp(((const struct dropin *)a)->name,
                  ((const struct dropin *)b)->name);
}

/* Adds name (of unit_dirs[dir]) unless an earlier directory has it. */
static int
add_dropin(struct dropin **list, size_t *n, size_t *alloc, const char *name,
           size_t dir)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*list)[i].name, name) == 0)
            return 0;
    if (NST_GROW(*list, *n + 1, *alloc) < 0 ||
        !((*list)[*n].name = nst_printf("%s", name)))
        return -1;
    (*list)[(*n)++].dir = dir;
    return 0;
}

/*
 * What unit's drop-ins under root give it for AllowedCPUs=.  When
 * extra_name is not NULL, /etc/systemd/system's drop-in of that name
 * holds extra_text instead of what is on disk (to see what a file about
 * to be written does).  Returns 0, or -1 with *err set.
 */
static int
allowed_cpus(const char *root, const struct unit *u, const char *extra_name,
             const char *extra_text, struct allowed *out, char **err)
{
    struct dropin *list = NULL;
    size_t n = 0, alloc = 0;
    int ret = 0;

    memset(out, 0, sizeof(*out));
    for (size_t d = 0; d < NUNIT_DIRS && ret == 0; d++) {
        char *dir = nst_printf("%s/%s.d", unit_dirs[d], u->name);
        char *full = dir ? vn_root_path(root, dir) : NULL;
        DIR *dh = full ? opendir(full) : NULL;
        if (!dh && (!full || (errno != ENOENT && errno != ENOTDIR))) {
            nst_set_error(err, "cannot read %s: %s", dir ? dir : "?",
                          full ? strerror(errno) : "out of memory");
            ret = -1;
        }
        for (struct dirent *e; dh && ret == 0 && (e = readdir(dh));) {
            size_t len = strlen(e->d_name);
            if (len > 5 && strcmp(e->d_name + len - 5, ".conf") == 0 &&
                add_dropin(&list, &n, &alloc, e->d_name, d) < 0)
                ret = -1;
        }
        if (ret == 0 && d == ETC_UNIT_DIR && extra_name &&
            add_dropin(&list, &n, &alloc, extra_name, d) < 0)
            ret = -1;
        if (dh)
            closedir(dh);
        free(full);
        free(dir);
    }
    if (ret < 0 && !*err)
        nst_set_error(err, "out of memory");
    if (ret == 0 && n)
        qsort(list, n, sizeof(*list), compare_dropins);
    for (size_t i = 0; i < n; i++) {
        char *host = nst_printf("%s/%s.d/%s", unit_dirs[list[i].dir],
                                u->name, list[i].name);
        bool extra = extra_name && list[i].dir == ETC_UNIT_DIR &&
                     strcmp(list[i].name, extra_name) == 0;
        char *full = host && !extra ? vn_root_path(root, host) : NULL;
        size_t len;
        char *text = full ? vn_read_file(full, &len, NULL) : NULL;
        if (ret == 0 && (extra || text))
            scan_dropin(extra ? extra_text : text, u->section,
                        host ? host : "?", out);
        else if (ret == 0 && host) {
            nst_set_error(err, "cannot read %s: %s", host, strerror(errno));
            ret = -1;
        }
        free(text);
        free(full);
        free(host);
        free(list[i].name);
    }
    free(list);
    if (ret < 0) {
        free(out->file);
        out->file = NULL;
    }
    return ret;
}

/* irqbalance's banned CPUs from root's /etc/default/irqbalance: the last
 * IRQBALANCE_BANNED_CPULIST= line, as the shell would.  false: none. */
static bool
irqbalance_banned(const char *root, struct nst_cpuset *banned)
{
    char *full = vn_root_path(root, IRQBALANCE_DIR "/" IRQBALANCE_NAME);
    size_t len;
    char *text = full ? vn_read_file(full, &len, NULL) : NULL;
    bool found = false;

    free(full);
    nst_cpuset_clear_all(banned);
    for (const char *p = text; p && *p;) {
        const char *line = next_line(&p, &len), *v;
        if ((v = assigns(line, len, IRQBALANCE_KEY))) {
            found = parse_list(v, len - (size_t)(v - line), banned) == 0;
            if (!found)
                nst_cpuset_clear_all(banned);
        }
    }
    free(text);
    return found;
}

int
vn_isolation_missing(const char *root, const struct nst_cpuset *pinned,
                     struct nst_cpuset *missing, char **why, char **err)
{
    struct nst_buf parts = { 0 };
    struct nst_cpuset part;

    nst_cpuset_clear_all(missing);
    *why = NULL;
    for (size_t i = 0; i < NUNITS; i++) {
        struct allowed a;
        if (allowed_cpus(root, &units[i], NULL, NULL, &a, err) < 0) {
            free(nst_buf_finish(&parts, NULL));
            return -1;
        }
        part = *pinned;
        if (a.set)
            nst_cpuset_intersect(&part, &a.cpus);
        if (!nst_cpuset_is_empty(&part)) {
            nst_cpuset_union(missing, &part);
            nst_buf_addf(&parts, "%s%s", parts.len ? ", " : "",
                         units[i].name);
        }
        free(a.file);
    }
    if (irqbalance_installed(root)) {
        struct nst_cpuset banned;
        irqbalance_banned(root, &banned);
        part = *pinned;
        nst_cpuset_subtract(&part, &banned);
        if (!nst_cpuset_is_empty(&part)) {
            nst_cpuset_union(missing, &part);
            nst_buf_addf(&parts, "%sirqbalance", parts.len ? ", " : "");
        }
    }
    char *text = nst_buf_finish(&parts, NULL);
    if (!text) {
        nst_set_error(err, "out of memory");
        return -1;
    }
    if (*text)
        *why = text;
    else
        free(text);
    return 0;
}

/* ----------------------------------------------------- editing files */

/* Whether line (len bytes) assigns one of keys. */
static bool
assigns_any(const char *line, size_t len, const char *const *keys)
{
    for (size_t i = 0; keys && keys[i]; i++)
        if (assigns(line, len, keys[i]))
            return true;
    return false;
}

char *
vn_conf_assign(const char *text, const char *key, const char *value,
               const char *const *retire, const char *note)
{
    struct nst_buf buf = { 0 };
    bool found = false;

    for (const char *p = text ? text : ""; *p;) {
        const char *start = p, *eol = strchr(p, '\n');
        size_t raw = eol ? (size_t)(eol - p) : strlen(p), len;
        const char *line = next_line(&p, &len);
        if (len && line[0] != '#' && assigns(line, len, key)) {
            nst_buf_addf(&buf, "%s=%s\n", key, value);
            found = true;
        } else if (len && line[0] != '#' && assigns_any(line, len, retire)) {
            nst_buf_adds(&buf, "# ");
            nst_buf_add(&buf, start, raw);
            nst_buf_adds(&buf, "\n");
        } else {
            nst_buf_add(&buf, start, raw);
            nst_buf_adds(&buf, eol ? "\n" : "");
        }
    }
    if (!found) {
        if (buf.len && buf.data[buf.len - 1] != '\n')
            nst_buf_adds(&buf, "\n");
        if (note)
            nst_buf_addf(&buf, "# %s\n", note);
        nst_buf_addf(&buf, "%s=%s\n", key, value);
    }
    return nst_buf_finish(&buf, NULL);
}

/* --------------------------------------------------------------- plan */

enum { F_SYSTEMD, F_IRQBALANCE = NUNITS, F_TUNED, F_LAST };

struct isolate {
    struct nst_cpuset host, owned, housekeeping;
    char *host_text, *owned_text, *hk_text;
    char *cmdline;               /* the kernel command line advised */
    struct vn_conf_file files[F_LAST];
    bool planned[F_LAST];
    const char *cgroup_warning;
};

static void
isolate_clear(struct isolate *s)
{
    free(s->host_text);
    free(s->owned_text);
    free(s->hk_text);
    free(s->cmdline);
    for (size_t i = 0; i < F_LAST; i++)
        vn_conf_file_clear(&s->files[i]);
}

static int
oom(char **err)
{
    nst_set_error(err, "out of memory");
    return VN_EXIT_SYSTEM;
}

/* The host's CPUs: --host-caps, else the connection's capabilities
 * (conn_cpus, when -c), else root's /sys/devices/system/cpu/online. */
static int
host_cpus(const struct vn_host_opts *o, const struct nst_cpuset *conn_cpus,
          struct nst_cpuset *out, char **err)
{
    if (o->host_caps) {
        size_t len;
        char *caps = vn_read_file(o->host_caps, &len, err);
        struct nst_host *h = caps ? vn_host_build(caps, len, o->host_caps,
                                                  NULL, 0, "none", err) :
                             NULL;
        free(caps);
        if (!h)
            return VN_EXIT_INPUT;
        nst_host_all_cpus(h, out);
        nst_host_free(h);
        return VN_EXIT_OK;
    }
    if (conn_cpus) {
        *out = *conn_cpus;
        return VN_EXIT_OK;
    }
    const char *online = "/sys/devices/system/cpu/online";
    char *why = NULL, *text = vn_root_read_value(o->root, online, err);
    if (!text)
        return VN_EXIT_SYSTEM;
    int r = nst_cpuset_parse(text, out, &why);
    if (r < 0)
        nst_set_error(err, "%s: %s", online, why);
    free(why);
    free(text);
    return r < 0 ? VN_EXIT_SYSTEM : VN_EXIT_OK;
}

/* CPUs of set the host lacks: refused, naming them (what names set). */
static int
check_on_host(const struct isolate *s, const struct nst_cpuset *set,
              const char *what, char **err)
{
    struct nst_cpuset extra = *set;
    nst_cpuset_subtract(&extra, &s->host);
    if (nst_cpuset_is_empty(&extra))
        return VN_EXIT_OK;
    char *list = nst_cpuset_format(&extra);
    nst_set_error(err, "%s: CPU%s %s not on this host (CPUs %s)", what,
                  nst_cpuset_count(&extra) == 1 ? "" : "s",
                  list ? list : "?", s->host_text);
    free(list);
    return VN_EXIT_INPUT;
}

/* A shell-style file edited in place (vn_conf_assign): its present
 * content is read by vn_conf_file_prepare first. */
static int
plan_assign(const char *root, struct vn_conf_file *f, const char *dir,
            const char *name, const char *key, const char *value,
            const char *const *retire, const char *note, char **err)
{
    /* A text no such file has (a lone \001 byte), so that
     * prepare reads the present content and checks that the directory
     * is writable; the real text is made from that content. */
    if (vn_conf_file_init(f, dir, name, nst_printf("%c", '\001')) < 0)
        return oom(err);
    int status = vn_conf_file_prepare(root, f, err);
    if (status != VN_EXIT_OK)
        return status;
    free(f->text);
    if (!(f->text = vn_conf_assign(f->old, key, value, retire, note)))
        return oom(err);
    f->write = !f->old || strcmp(f->old, f->text) != 0;
    return VN_EXIT_OK;
}

/* The systemd drop-ins; refused when a later drop-in would set
 * AllowedCPUs= again after ours. */
static int
plan_systemd(const struct vn_host_opts *o, struct isolate *s, char **err)
{
    for (size_t i = 0; i < NUNITS; i++) {
        const struct unit *u = &units[i];
        struct vn_conf_file *f = &s->files[F_SYSTEMD + i];
        struct allowed after;
        if (vn_conf_file_init(f, u->dropin_dir, DROPIN_NAME,
                              nst_printf("# Written by virt-nestify host "
                                         "--isolate: the host's own work "
                                         "on the\n# housekeeping CPUs, off "
                                         "the CPUs guests pin (%s).\n"
                                         "[%s]\nAllowedCPUs=%s\n",
                                         s->owned_text, u->section,
                                         s->hk_text)) < 0)
            return oom(err);
        s->planned[F_SYSTEMD + i] = true;
        int status = vn_conf_file_prepare(o->root, f, err);
        if (status != VN_EXIT_OK)
            return status;
        if (allowed_cpus(o->root, u, DROPIN_NAME, f->text, &after, err) < 0)
            return VN_EXIT_SYSTEM;
        bool ours = after.set && nst_cpuset_equal(&after.cpus,
                                                  &s->housekeeping);
        if (!ours)
            nst_set_error(err, "%s sets AllowedCPUs= for %s again after "
                          "%s: remove it first", after.file ? after.file :
                          "?", u->name, f->host);
        free(after.file);
        if (!ours)
            return VN_EXIT_INPUT;
    }
    return VN_EXIT_OK;
}

/* Why systemd cannot apply AllowedCPUs= below root, or NULL: it needs
 * cgroup v2 with the cpuset controller (systemd.resource-control(5)). */
static const char *
cgroup_warning(const char *root)
{
    char *controllers = vn_root_read_value(root,
                                           "/sys/fs/cgroup/cgroup.controllers",
                                           NULL);
    bool cpuset = false;
    for (const char *w = controllers; w && *w && !cpuset;) {
        size_t n = strcspn(w, " \t\n");
        cpuset = n == 6 && strncmp(w, "cpuset", 6) == 0;
        w += n + strspn(w + n, " \t\n");
    }
    const char *why = cpuset ? NULL : controllers ?
        "the cgroup v2 hierarchy has no cpuset controller "
        "(/sys/fs/cgroup/cgroup.controllers): systemd cannot apply "
        "AllowedCPUs= until it has" :
        "no cgroup v2 hierarchy (/sys/fs/cgroup/cgroup.controllers): "
        "systemd applies AllowedCPUs= only on cgroup v2 with the "
        "cpuset controller";
    free(controllers);
    return why;
}

/*
 * The host's CPUs and those the guests own (--taken and the pins of the
 * guests of -c), both checked against the host, into s.  Returns an
 * exit status, with *err set when not VN_EXIT_OK.
 */
static int
owned_cpus(const struct vn_host_opts *o, vn_host_pins_fn *pins,
           struct isolate *s, char **err)
{
    struct nst_cpuset conn_cpus, pinned;
    int status = VN_EXIT_OK;

    if (o->connect && pins(o->connect, &conn_cpus, &pinned, err) < 0)
        status = VN_EXIT_SYSTEM;
    if (status == VN_EXIT_OK)
        status = host_cpus(o, o->connect ? &conn_cpus : NULL, &s->host,
                           err);
    if (status == VN_EXIT_OK && !(s->host_text = nst_cpuset_format(&s->host)))
        status = oom(err);
    if (status == VN_EXIT_OK && o->has_taken)
        status = check_on_host(s, &o->taken, "--taken", err);
    if (status == VN_EXIT_OK && o->connect) {
        char *what = nst_printf("the guests of '%s' pin", o->connect);
        status = what ? check_on_host(s, &pinned, what, err) : oom(err);
        free(what);
    }
    if (status != VN_EXIT_OK)
        return status;
    if (o->has_taken)
        s->owned = o->taken;
    if (o->connect)
        nst_cpuset_union(&s->owned, &pinned);
    return VN_EXIT_OK;
}

/* Makes the plan; reports and returns an exit status when it cannot.
 * *nothing: no guest pins a CPU, nothing to do. */
static int
make_plan(const struct vn_host_opts *o, vn_host_pins_fn *pins,
          struct isolate *s, bool *nothing)
{
    char *err = NULL;
    int status;

    *nothing = false;
    if ((status = owned_cpus(o, pins, s, &err)) != VN_EXIT_OK)
        goto out;
    s->housekeeping = s->host;
    nst_cpuset_subtract(&s->housekeeping, &s->owned);
    if (!(s->owned_text = nst_cpuset_format(&s->owned)) ||
        !(s->hk_text = nst_cpuset_format(&s->housekeeping))) {
        status = oom(&err);
        goto out;
    }
    if (nst_cpuset_is_empty(&s->owned)) {
        *nothing = true;
        goto out;
    }
    /* Advice only: a boot setting is the operator's to make. */
    if (!(s->cmdline = nst_printf("isolcpus=managed_irq,domain,%s "
                                  "nohz_full=%s rcu_nocbs=%s", s->owned_text,
                                  s->owned_text, s->owned_text))) {
        status = oom(&err);
        goto out;
    }
    if (nst_cpuset_is_empty(&s->housekeeping)) {
        nst_set_error(&err, "refusing: the guests own every CPU of this "
                      "host (%s), none would be left for the host's own "
                      "work; pin fewer", s->host_text);
        status = VN_EXIT_INPUT;
        goto out;
    }
    if ((status = plan_systemd(o, s, &err)) != VN_EXIT_OK)
        goto out;
    /* The older hex mask is commented out: irqbalance must not read two
     * lists that disagree. */
    static const char *const retire[] = { "IRQBALANCE_BANNED_CPUS", NULL };
    if (irqbalance_installed(o->root)) {
        s->planned[F_IRQBALANCE] = true;
        status = plan_assign(o->root, &s->files[F_IRQBALANCE],
                             IRQBALANCE_DIR, IRQBALANCE_NAME, IRQBALANCE_KEY,
                             s->owned_text, retire,
                             "virt-nestify host --isolate: no interrupts on "
                             "the CPUs guests pin", &err);
    }
    if (status == VN_EXIT_OK && tuned_installed(o->root)) {
        s->planned[F_TUNED] = true;
        status = plan_assign(o->root, &s->files[F_TUNED], TUNED_DIR,
                             TUNED_NAME, TUNED_KEY, s->owned_text, NULL,
                             "virt-nestify host --isolate: the CPUs guests "
                             "pin", &err);
    }
    s->cgroup_warning = cgroup_warning(o->root);
 out:
    if (status != VN_EXIT_OK)
        vn_error("%s", err ? err : "out of memory");
    free(err);
    return status;
}

/* ------------------------------------------------------------- output */

static void
print_file_plan(const struct vn_conf_file *f)
{
    if (!f->write) {
        printf("already in place: %s\n", f->host);
        return;
    }
    printf("would write %s%s:\n", f->host, f->old ?
           " (the previous content kept in NAME.TIME.bak)" : "");
    for (const char *p = f->text; *p;) {
        const char *eol = strchr(p, '\n');
        int n = eol ? (int)(eol - p) : (int)strlen(p);
        printf("    %.*s\n", n, p);
        p += n + (eol ? 1 : 0);
    }
}

/* What is left to the operator; changed: the files written (or, in a
 * dry run, that would be). */
static void
print_next(const struct isolate *s, const bool changed[F_LAST],
           struct vn_host_result *r)
{
    bool systemd = false;
    for (size_t i = 0; i < NUNITS; i++)
        systemd = systemd || changed[F_SYSTEMD + i];
    if (systemd)
        vn_host_result_next(r, "systemctl daemon-reload (system.slice, "
                            "user.slice and init.scope take their CPUs "
                            "then)");
    if (changed[F_IRQBALANCE])
        vn_host_result_next(r, "systemctl restart irqbalance");
    if (changed[F_TUNED])
        vn_host_result_next(r, "tuned-adm profile cpu-partitioning, to use "
                            "isolated_cores");
    vn_host_result_next(r, "to keep the kernel's own work off them too, "
                        "add '%s' to the kernel command line "
                        "(GRUB_CMDLINE_LINUX in /etc/default/grub, then "
                        "update-grub) and reboot", s->cmdline);
}

/* The text's account of the plan, before the files. */
static void
print_head(const struct isolate *s)
{
    printf("guests own CPU%s %s; the host keeps %s (of %s)\n",
           nst_cpuset_count(&s->owned) == 1 ? "" : "s", s->owned_text,
           s->hk_text, s->host_text);
    printf("machine.slice: left as it is: it holds the guests, whose CPUs "
           "libvirt sets from their pins\n");
    if (!s->planned[F_IRQBALANCE])
        printf("irqbalance: not installed, nothing to write\n");
    if (!s->planned[F_TUNED])
        printf("tuned: not installed, nothing to write\n");
}

/* Writes the planned files (--dry-run: shows them), recording each in
 * r and in changed[].  Returns an exit status, reported. */
static int
write_files(const struct vn_host_opts *o, struct isolate *s,
            struct vn_host_result *r, bool changed[F_LAST])
{
    bool any = false;
    for (size_t i = 0; i < F_LAST; i++) {
        struct vn_conf_file *f = &s->files[i];
        if (!s->planned[i])
            continue;
        any = any || f->write;
        changed[i] = f->write;
        if (r->json && (o->dry_run || !f->write))
            vn_host_result_conf(r, f);
        else if (o->dry_run)
            print_file_plan(f);
        else if (!f->write)
            printf("already in place: %s\n", f->host);
        else if (vn_conf_file_write(o->root, f, r) < 0)
            return VN_EXIT_SYSTEM;
    }
    if (!any && !r->json)
        printf("nothing %s: the host side of pinning is already in place\n",
               o->dry_run ? "to write" : "written");
    return VN_EXIT_OK;
}

/* The keys of the isolate document (docs/json.md) beside the files and
 * next steps. */
static void
record_isolate(const struct isolate *s, struct vn_host_result *r)
{
    struct json_object *cpus = json_object_new_object();
    nst_json_add_string(cpus, "host", s->host_text, &r->ok);
    nst_json_add_string(cpus, "guests", s->owned_text, &r->ok);
    nst_json_add_string(cpus, "housekeeping", s->hk_text, &r->ok);
    nst_json_add(r->doc, "cpus", cpus, &r->ok);
    nst_json_add_string(r->doc, "kernel_cmdline", s->cmdline, &r->ok);
}

int
vn_host_isolate(const struct vn_host_opts *o, vn_host_pins_fn *pins)
{
    struct isolate s = { 0 };
    struct vn_host_result r;
    bool nothing, changed[F_LAST] = { false };
    int ret = make_plan(o, pins, &s, &nothing);

    vn_host_result_init(&r, o, "isolate");
    if (ret != VN_EXIT_OK)
        goto out;
    if (nothing && !r.json)
        printf("no guest pins a CPU of this host (CPUs %s): nothing to "
               "isolate, nothing written\n", s.host_text);
    if (!nothing && s.cgroup_warning)
        vn_warning("%s", s.cgroup_warning);
    if (!nothing && !r.json)
        print_head(&s);
    if (!nothing && (ret = write_files(o, &s, &r, changed)) == VN_EXIT_OK)
        print_next(&s, changed, &r);
    if (r.json)
        record_isolate(&s, &r);
    if (vn_host_result_finish(&r) < 0)
        ret = VN_EXIT_SYSTEM;
 out:
    vn_host_result_clear(&r);
    isolate_clear(&s);
    return ret;
}

int
vn_isolated_cpus(const char *root, struct nst_cpuset *isolated, char **err)
{
    struct nst_cpuset every, missing;
    char *why = NULL;

    nst_cpuset_clear_all(&every);
    for (unsigned int cpu = 0; cpu < NST_MAX_CPUS; cpu++)
        nst_cpuset_set(&every, cpu);
    if (vn_isolation_missing(root, &every, &missing, &why, err) < 0)
        return -1;
    free(why);
    *isolated = every;
    nst_cpuset_subtract(isolated, &missing);
    return 0;
}
