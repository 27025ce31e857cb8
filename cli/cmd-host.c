/*
 * cmd-host.c: "virt-nestify host", the host doctor
 *
 * Checks, in the manner of virt-host-validate, what a host needs for
 * nested virtualization: the CPU's virtualization and second-level
 * paging flags, /dev/kvm, the kvm vendor module and its nested
 * parameter (now, and after a reboot: /etc/modprobe.d), hugepages and
 * the IOMMU; with -c, that libvirt offers host-passthrough.  Each check
 * that does not pass says the exact fix.  Everything is read under
 * --root (default "/"), which is how the tests run it.
 *
 * No libvirt here: the -c check comes in as a function pointer from the
 * build that links libvirt (vn_host_main's libvirt_check), so the
 * offline build can carry the doctor without libvirt.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json.h>

#include "host-doctor.h"
#include "nestify.h"
#include "options.h"

/* ------------------------------------------------------------ helpers */

char *
vn_root_path(const char *root, const char *path)
{
    size_t len = strlen(root);
    while (len > 0 && root[len - 1] == '/')
        len--;
    return nst_printf("%.*s%s", (int)len, root, path);
}

char *
vn_root_read_value(const char *root, const char *path, char **err)
{
    char *full = vn_root_path(root, path);
    size_t len;
    char *text = full ? vn_read_file(full, &len, NULL) : NULL;

    if (!text) {
        nst_set_error(err, "cannot read %s: %s", path,
                      full ? strerror(errno) : "out of memory");
        free(full);
        return NULL;
    }
    free(full);
    while (len > 0 && strchr(" \t\r\n", text[len - 1]))
        text[--len] = '\0';
    return text;
}

bool
vn_root_exists(const char *root, const char *path)
{
    struct stat st;
    char *full = vn_root_path(root, path);
    bool ok = full && stat(full, &st) == 0;
    free(full);
    return ok;
}

const char *
vn_kvm_module(enum vn_cpu_vendor vendor)
{
    switch (vendor) {
    case VN_CPU_INTEL: return "kvm_intel";
    case VN_CPU_AMD: return "kvm_amd";
    default: return NULL;
    }
}

int
vn_cpuinfo_read(const char *root, struct vn_cpuinfo *out, char **err)
{
    char *path = vn_root_path(root, "/proc/cpuinfo");
    size_t len;
    char *text = path ? vn_read_file(path, &len, NULL) : NULL;

    memset(out, 0, sizeof(*out));
    if (!text) {
        nst_set_error(err, "cannot read /proc/cpuinfo: %s",
                      path ? strerror(errno) : "out of memory");
        free(path);
        return -1;
    }
    free(path);
    vn_cpuinfo_parse(text, len, out);
    free(text);
    return 0;
}

static int
compare_ull(const void *a, const void *b)
{
    unsigned long long x = *(const unsigned long long *)a;
    unsigned long long y = *(const unsigned long long *)b;
    return x < y ? -1 : x > y;
}

int
vn_hugepage_sizes(const char *root, const char *dir,
                  unsigned long long **sizes, char **err)
{
    char *path = vn_root_path(root, dir);
    DIR *d = path ? opendir(path) : NULL;
    unsigned long long *list = NULL;
    size_t n = 0, alloc = 0;

    *sizes = NULL;
    if (!d) {
        bool missing = path && (errno == ENOENT || errno == ENOTDIR);
        if (!missing)
            nst_set_error(err, "cannot read %s: %s", dir,
                          path ? strerror(errno) : "out of memory");
        free(path);
        return missing ? 0 : -1;
    }
    free(path);
    for (struct dirent *e; (e = readdir(d));) {
        const char *name = e->d_name;
        size_t len = strlen(name);
        unsigned long long kib;
        if (strncmp(name, "hugepages-", 10) != 0 || len < 13 ||
            strcmp(name + len - 2, "kB") != 0)
            continue;
        char *digits = nst_printf("%.*s", (int)(len - 12), name + 10);
        int bad = !digits || nst_parse_ull(digits, 1ULL << 40, &kib) < 0;
        free(digits);
        if (bad)
            continue;
        if (NST_GROW(list, n + 1, alloc) < 0) {
            free(list);
            closedir(d);
            nst_set_error(err, "out of memory");
            return -1;
        }
        list[n++] = kib;
    }
    closedir(d);
    if (n)
        qsort(list, n, sizeof(*list), compare_ull);
    *sizes = list;
    return (int)n;
}

/* ------------------------------------------------------------- checks */

enum status { ST_PASS, ST_WARN, ST_FAIL, ST_SKIP, ST_LAST };

static const char *const status_text[ST_LAST] = {
    "PASS", "WARN", "FAIL", "SKIP",
};
static const char *const status_json[ST_LAST] = {
    "pass", "warn", "fail", "skip",
};

struct hp_size {
    unsigned long long kib;
    unsigned long long reserved;
    unsigned long long free;
};

struct check {
    const char *id;              /* stable, for JSON */
    const char *group;           /* the text line's prefix */
    char *title;
    enum status status;
    char *detail;                /* or NULL */
    char *fix;                   /* NULL when it passes */
    struct hp_size *pages;       /* the hugepages check only */
    size_t npages;
};

struct doctor {
    const char *root;
    struct vn_cpuinfo cpu;
    bool cpu_read;
    struct check checks[16];
    size_t nchecks;
    bool oom;
    bool libvirt_failed;
};

/* Adds a check; title, detail and fix are formats' results taken over. */
static struct check *
add(struct doctor *dr, const char *id, const char *group, char *title,
    enum status status, char *detail, char *fix)
{
    struct check *c = &dr->checks[dr->nchecks++];
    *c = (struct check){
        .id = id, .group = group, .title = title, .status = status,
        .detail = detail, .fix = fix,
    };
    if (!title)
        dr->oom = true;
    return c;
}

static const char *
virt_name(const struct vn_cpuinfo *cpu)
{
    switch (cpu->vendor) {
    case VN_CPU_INTEL: return "Intel VT-x";
    case VN_CPU_AMD: return "AMD-V";
    default: return "Intel VT-x or AMD-V";
    }
}

static const char *
flag_name(const struct vn_cpuinfo *cpu)
{
    return cpu->vendor == VN_CPU_INTEL ? "vmx" :
           cpu->vendor == VN_CPU_AMD ? "svm" : "vmx or svm";
}

static void
check_cpu(struct doctor *dr, const char *cpu_err)
{
    const struct vn_cpuinfo *cpu = &dr->cpu;
    const char *flag = flag_name(cpu);

    if (!dr->cpu_read) {
        add(dr, "cpu-virt", "CPU",
            nst_printf("hardware virtualization"), ST_FAIL,
            nst_printf("%s", cpu_err),
            nst_printf("make /proc/cpuinfo readable (is /proc mounted?)"));
    } else if (cpu->vmx || cpu->svm) {
        add(dr, "cpu-virt", "CPU", nst_printf("hardware virtualization"),
            ST_PASS, nst_printf("%s: %s flag", virt_name(cpu), flag), NULL);
    } else if (cpu->hypervisor) {
        add(dr, "cpu-virt", "CPU", nst_printf("hardware virtualization"),
            ST_FAIL,
            nst_printf("no %s flag in /proc/cpuinfo, and this host is "
                       "itself a virtual machine", flag),
            nst_printf("give this VM's CPU host-passthrough with %s "
                       "required, on its host: virt-nestify --domain "
                       "THIS-VM --profile nested", flag));
    } else {
        add(dr, "cpu-virt", "CPU", nst_printf("hardware virtualization"),
            ST_FAIL, nst_printf("no %s flag in /proc/cpuinfo", flag),
            nst_printf("enable %s (%s) in the firmware (BIOS/UEFI) setup, "
                       "then power the host off and on",
                       virt_name(cpu),
                       cpu->vendor == VN_CPU_INTEL ?
                           "Intel Virtualization Technology" :
                       cpu->vendor == VN_CPU_AMD ? "SVM Mode" :
                           "Virtualization Technology or SVM Mode"));
    }

    /* Second-level paging: without it nested guests run on shadow page
     * tables, which works but is slow. */
    const char *slat = cpu->vendor == VN_CPU_AMD ? "npt" : "ept";
    const char *slat_name = cpu->vendor == VN_CPU_AMD ? "NPT" : "EPT";
    char *title = nst_printf("second-level paging (%s)",
                             cpu->vendor == VN_CPU_UNKNOWN ? "EPT or NPT" :
                             slat_name);
    if (!dr->cpu_read || !(cpu->vmx || cpu->svm)) {
        add(dr, "cpu-paging", "CPU", title, ST_SKIP,
            nst_printf("no hardware virtualization"), NULL);
    } else if (cpu->vendor == VN_CPU_AMD ? cpu->npt : cpu->ept) {
        add(dr, "cpu-paging", "CPU", title, ST_PASS,
            nst_printf("%s flag", slat), NULL);
    } else {
        add(dr, "cpu-paging", "CPU", title, ST_WARN,
            nst_printf("no %s flag in /proc/cpuinfo: nested guests use "
                       "shadow page tables, which is slow", slat),
            nst_printf("enable %s in the firmware setup where it is "
                       "offered; otherwise this CPU has none", slat_name));
    }
}

/* dev-kvm: /dev/kvm opens read-write and, for the device, the KVM API
 * runs a guest there as QEMU would (host-kvm.c).  Below --root a plain
 * file stands for it in the fixtures: it only opens. */
static void
check_dev_kvm(struct doctor *dr, const char *module)
{
    const struct vn_cpuinfo *cpu = &dr->cpu;
    bool virt = cpu->vmx || cpu->svm;
    char *kvm = vn_root_path(dr->root, "/dev/kvm");
    int fd = kvm ? open(kvm, O_RDWR | O_CLOEXEC | O_NOCTTY) : -1;
    int saved = errno;
    struct stat st;
    free(kvm);
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISCHR(st.st_mode)) {
        struct vn_kvm_trial trial;
        char *detail, *fix;
        vn_kvm_try(fd, &trial);
        close(fd);
        bool ok = vn_kvm_verdict(&trial, cpu->hypervisor, &detail, &fix);
        vn_kvm_trial_clear(&trial);
        add(dr, "dev-kvm", "KVM", nst_printf("/dev/kvm present and usable"),
            ok ? ST_PASS : ST_FAIL, detail, fix);
    } else if (fd >= 0) {
        close(fd);
        add(dr, "dev-kvm", "KVM", nst_printf("/dev/kvm present and usable"),
            ST_PASS, nst_printf("opens; not a device, so no KVM API tried"),
            NULL);
    } else if (saved == ENOENT) {
        add(dr, "dev-kvm", "KVM", nst_printf("/dev/kvm present and usable"),
            ST_FAIL, nst_printf("/dev/kvm does not exist"),
            !virt ? nst_printf("make the CPU show %s first (the CPU check "
                               "above); then modprobe %s", flag_name(cpu),
                               module ? module : "kvm_intel (or kvm_amd)") :
                    nst_printf("modprobe %s (it creates /dev/kvm)",
                               module ? module : "kvm_intel (or kvm_amd)"));
    } else if (saved == EACCES || saved == EPERM) {
        add(dr, "dev-kvm", "KVM", nst_printf("/dev/kvm present and usable"),
            ST_FAIL,
            nst_printf("cannot open /dev/kvm read-write: %s",
                       strerror(saved)),
            nst_printf("run as root, or add the user to group kvm "
                       "(usermod -aG kvm USER) and log in again"));
    } else {
        add(dr, "dev-kvm", "KVM", nst_printf("/dev/kvm present and usable"),
            ST_FAIL,
            nst_printf("cannot open /dev/kvm read-write: %s",
                       strerror(saved)),
            nst_printf("recreate it: modprobe -r %s && modprobe %s",
                       module ? module : "kvm_intel",
                       module ? module : "kvm_intel"));
    }
}

/* kvm-module: the vendor's module (NULL: the vendor is unknown and
 * neither is loaded) is loaded. */
static void
check_kvm_module(struct doctor *dr, const char *module, bool loaded)
{
    const struct vn_cpuinfo *cpu = &dr->cpu;
    bool virt = cpu->vmx || cpu->svm;

    if (!module && (!dr->cpu_read || !virt)) {
        add(dr, "kvm-module", "KVM",
            nst_printf("kvm_intel or kvm_amd loaded"), ST_FAIL,
            nst_printf("neither is loaded, and the CPU vendor is unknown"),
            nst_printf("load the module of the CPU: modprobe kvm_intel "
                       "(Intel) or modprobe kvm_amd (AMD)"));
    } else if (!module) {
        add(dr, "kvm-module", "KVM", nst_printf("kvm_intel or kvm_amd loaded"),
            ST_FAIL, nst_printf("neither is loaded"),
            nst_printf("modprobe %s", cpu->vmx ? "kvm_intel" : "kvm_amd"));
    } else if (loaded) {
        add(dr, "kvm-module", "KVM", nst_printf("%s loaded", module), ST_PASS,
            NULL, NULL);
    } else {
        add(dr, "kvm-module", "KVM", nst_printf("%s loaded", module), ST_FAIL,
            nst_printf("/sys/module/%s does not exist", module),
            virt ? nst_printf("modprobe %s", module) :
                   nst_printf("make the CPU show %s first (the CPU check "
                              "above); then modprobe %s", flag_name(cpu),
                              module));
    }
}

/* nested: on in the loaded module, now. */
static void
check_nested_now(struct doctor *dr, const char *module, bool loaded)
{
    char *title = module ? nst_printf("nested virtualization on in %s",
                                      module) :
                  nst_printf("nested virtualization on");
    if (!loaded) {
        add(dr, "nested", "KVM", title, ST_SKIP,
            module ? nst_printf("%s is not loaded", module) :
                     nst_printf("no kvm module is loaded"),
            NULL);
        return;
    }
    char *why = NULL;
    char *param = nst_printf("/sys/module/%s/parameters/nested", module);
    char *v = param ? vn_root_read_value(dr->root, param, &why) : NULL;
    int b = v ? vn_kernel_bool(v, strlen(v)) : -1;
    if (b == 1)
        add(dr, "nested", "KVM", title, ST_PASS, nst_printf("nested=%s", v),
            NULL);
    else if (!v)
        add(dr, "nested", "KVM", title, ST_FAIL, why,
            nst_printf("use a kernel whose %s has the nested parameter",
                       module));
    else
        add(dr, "nested", "KVM", title, ST_FAIL, nst_printf("nested=%s", v),
            nst_printf("virt-nestify host --enable --reload (with every VM "
                       "stopped), or reboot after virt-nestify host "
                       "--enable"));
    free(v);
    free(param);
}

/* nested-persist: what modprobe.d and the kernel command line give
 * after a reboot. */
static void
check_nested_persist(struct doctor *dr, const char *module)
{
    struct vn_modprobe_nested mp = { .value = -1 };
    char *title = nst_printf("nested persisted for the next boot");
    char *why = NULL;

    if (!module) {
        add(dr, "nested-persist", "KVM", title, ST_SKIP,
            nst_printf("the CPU vendor is unknown"), NULL);
    } else if (vn_modprobe_nested(dr->root, module, NULL, NULL, &mp,
                                  &why) < 0) {
        add(dr, "nested-persist", "KVM", title, ST_FAIL, why,
            nst_printf("make the modprobe.d directories readable"));
    } else if (mp.value == 1) {
        add(dr, "nested-persist", "KVM", title, ST_PASS,
            nst_printf("%s", mp.where), NULL);
    } else if (mp.value == 0) {
        /* Our file only wins over files named before it, and never over
         * the kernel command line. */
        const char *base = strrchr(mp.file, '/');
        bool later = base && strcmp(base + 1, VN_MODPROBE_CONF) > 0;
        add(dr, "nested-persist", "KVM", title, ST_WARN,
            nst_printf("%s turns nested off for %s", mp.where, module),
            mp.line == 0 ?
            nst_printf("remove %s.nested from the kernel command line "
                       "(GRUB_CMDLINE_LINUX in /etc/default/grub, then "
                       "update-grub)", module) :
            later ? nst_printf("remove the nested option from %s, then: "
                               "virt-nestify host --enable", mp.where) :
                    nst_printf("virt-nestify host --enable"));
    } else {
        add(dr, "nested-persist", "KVM", title, ST_WARN,
            nst_printf("no options %s nested=1: after a reboot nested is "
                       "the kernel's default", module),
            nst_printf("virt-nestify host --enable"));
    }
    free(mp.file);
    free(mp.where);
}

static void
check_kvm(struct doctor *dr)
{
    const char *module = vn_kvm_module(dr->cpu.vendor);
    bool loaded = false;

    /* The vendor module, or for an unknown vendor either of them. */
    if (module) {
        char *dir = nst_printf("/sys/module/%s", module);
        loaded = dir && vn_root_exists(dr->root, dir);
        free(dir);
    } else if (vn_root_exists(dr->root, "/sys/module/kvm_intel")) {
        module = "kvm_intel";
        loaded = true;
    } else if (vn_root_exists(dr->root, "/sys/module/kvm_amd")) {
        module = "kvm_amd";
        loaded = true;
    }
    check_dev_kvm(dr, module);
    check_kvm_module(dr, module, loaded);
    check_nested_now(dr, module, loaded);
    check_nested_persist(dr, module);
}

static void
check_hugepages(struct doctor *dr)
{
    const char *base = "/sys/kernel/mm/hugepages";
    unsigned long long *sizes;
    char *why = NULL;
    int n = vn_hugepage_sizes(dr->root, base, &sizes, &why);
    char *title = nst_printf("hugepages reserved and free");

    if (n < 0) {
        add(dr, "hugepages", "MEMORY", title, ST_WARN, why,
            nst_printf("make %s readable", base));
        return;
    }
    if (n == 0) {
        add(dr, "hugepages", "MEMORY", title, ST_WARN,
            nst_printf("no hugepage sizes in %s", base),
            nst_printf("use a kernel with hugetlbfs (CONFIG_HUGETLBFS)"));
        return;
    }
    struct hp_size *pages = calloc((size_t)n, sizeof(*pages));
    struct nst_buf detail = { 0 };
    unsigned long long reserved = 0, avail = 0;
    for (int i = 0; pages && i < n; i++) {
        char *dir = nst_printf("%s/hugepages-%llukB", base, sizes[i]);
        char *nr = nst_printf("%s/nr_hugepages", dir);
        char *fr = nst_printf("%s/free_hugepages", dir);
        char *a = nr ? vn_root_read_value(dr->root, nr, NULL) : NULL;
        char *b = fr ? vn_root_read_value(dr->root, fr, NULL) : NULL;
        pages[i].kib = sizes[i];
        if (!a || nst_parse_ull(a, ~0ULL, &pages[i].reserved) < 0)
            pages[i].reserved = 0;
        if (!b || nst_parse_ull(b, ~0ULL, &pages[i].free) < 0)
            pages[i].free = 0;
        reserved += pages[i].reserved;
        avail += pages[i].free;
        char *size = nst_size_text(sizes[i]);
        nst_buf_addf(&detail, "%s%s: %llu reserved, %llu free",
                     i ? "; " : "", size ? size : "?", pages[i].reserved,
                     pages[i].free);
        free(size);
        free(a);
        free(b);
        free(dir);
        free(nr);
        free(fr);
    }
    char *text = nst_buf_finish(&detail, NULL);
    struct check *c;
    if (!pages) {
        c = add(dr, "hugepages", "MEMORY", title, ST_WARN, text, NULL);
        dr->oom = true;
    } else if (reserved == 0) {
        char *size = nst_size_text(sizes[0]);
        c = add(dr, "hugepages", "MEMORY", title, ST_WARN, text,
                nst_printf("reserve some (N pages of %s; --node for one "
                           "NUMA node): virt-nestify host --enable "
                           "--hugepages N --persist", size ? size : "?"));
        free(size);
    } else if (avail == 0) {
        c = add(dr, "hugepages", "MEMORY", title, ST_WARN, text,
                nst_printf("every reserved hugepage is in use: reserve "
                           "more with virt-nestify host --enable "
                           "--hugepages N[,SIZE]"));
    } else {
        c = add(dr, "hugepages", "MEMORY", title, ST_PASS, text, NULL);
    }
    c->pages = pages;
    c->npages = pages ? (size_t)n : 0;
    free(sizes);
}

/* The names in dir (host path) under root, sorted, ", "-joined; NULL
 * when there are none.  *count gets their number. */
static char *
list_dir(const char *root, const char *dir, size_t *count)
{
    char *path = vn_root_path(root, dir);
    DIR *d = path ? opendir(path) : NULL;
    char **names = NULL;
    size_t n = 0, alloc = 0;

    free(path);
    *count = 0;
    if (!d)
        return NULL;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        if (NST_GROW(names, n + 1, alloc) < 0 ||
            !(names[n] = nst_printf("%s", e->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), vn_compare_strings);
    struct nst_buf buf = { 0 };
    for (size_t i = 0; i < n; i++) {
        nst_buf_addf(&buf, "%s%s", i ? ", " : "", names[i]);
        free(names[i]);
    }
    free(names);
    *count = n;
    char *text = nst_buf_finish(&buf, NULL);
    if (!n) {
        free(text);
        return NULL;
    }
    return text;
}

static void
check_iommu(struct doctor *dr)
{
    size_t n;
    char *names = list_dir(dr->root, "/sys/class/iommu", &n);
    char *title = nst_printf("IOMMU enabled");

    if (names) {
        add(dr, "iommu", "IOMMU", title, ST_PASS,
            nst_printf("/sys/class/iommu: %s", names), NULL);
        free(names);
        return;
    }
    free(list_dir(dr->root, "/sys/kernel/iommu_groups", &n));
    if (n) {
        add(dr, "iommu", "IOMMU", title, ST_PASS,
            nst_printf("%zu IOMMU group%s", n, n == 1 ? "" : "s"), NULL);
        return;
    }
    /* AMD's IOMMU is on by default when the firmware enables it; Intel's
     * needs intel_iommu=on on kernels built without it on by default. */
    add(dr, "iommu", "IOMMU", title, ST_WARN,
        nst_printf("none in /sys/class/iommu or /sys/kernel/iommu_groups: "
                   "no device assignment (VFIO) to guests"),
        dr->cpu.vendor == VN_CPU_AMD ?
            nst_printf("enable the IOMMU (AMD-Vi) in the firmware setup and "
                       "reboot; remove amd_iommu=off from the kernel command "
                       "line if it is there") :
            nst_printf("enable VT-d in the firmware setup, add intel_iommu=on "
                       "to the kernel command line (GRUB_CMDLINE_LINUX in "
                       "/etc/default/grub, then update-grub or "
                       "grub2-mkconfig) and reboot"));
}

/* isolation: the host side of pinning, for the CPUs the guests of -c
 * pin and --taken names (vn_isolation_missing, host-isolate.c). */
static void
check_isolation(struct doctor *dr, const struct vn_host_opts *o,
                vn_host_pins_fn *pins)
{
    struct nst_cpuset pinned, host_cpus;
    char *why = NULL, *err = NULL;
    char *title = nst_printf("host side of pinning");

    nst_cpuset_clear_all(&pinned);
    if (o->has_taken)
        pinned = o->taken;
    if (!o->connect && !o->has_taken) {
        add(dr, "isolation", "PINNING", title, ST_SKIP,
            nst_printf("no guests to compare with: give -c URI or "
                       "--taken CPULIST"), NULL);
        return;
    }
    if (o->connect) {
        struct nst_cpuset conn;
        if (pins(o->connect, &host_cpus, &conn, &err) < 0) {
            dr->libvirt_failed = true;
            add(dr, "isolation", "PINNING", title, ST_FAIL, err,
                nst_printf("check that libvirt runs and answers: virsh -c "
                           "'%s' list --all", o->connect));
            return;
        }
        nst_cpuset_union(&pinned, &conn);
    }
    if (nst_cpuset_is_empty(&pinned)) {
        add(dr, "isolation", "PINNING", title, ST_SKIP,
            nst_printf("no guest pins a CPU"), NULL);
        return;
    }
    struct nst_cpuset missing;
    char *list = nst_cpuset_format(&pinned);
    if (vn_isolation_missing(dr->root, &pinned, &missing, &why, &err) < 0) {
        add(dr, "isolation", "PINNING", title, ST_WARN, err,
            nst_printf("make the systemd drop-in directories and "
                       "/etc/default/irqbalance readable"));
    } else if (nst_cpuset_is_empty(&missing)) {
        add(dr, "isolation", "PINNING", title, ST_PASS,
            nst_printf("pinned CPUs %s: kept free of the host's processes "
                       "and interrupts", list ? list : "?"), NULL);
    } else {
        char *off = nst_cpuset_format(&missing);
        char *taken = o->has_taken ? nst_cpuset_format(&o->taken) : NULL;
        add(dr, "isolation", "PINNING", title, ST_WARN,
            nst_printf("CPU%s %s pinned but not isolated: not kept free "
                       "by %s", nst_cpuset_count(&missing) == 1 ? "" : "s",
                       off ? off : "?", why ? why : "?"),
            o->connect ? nst_printf("virt-nestify host --isolate -c '%s'",
                                    o->connect) :
                         nst_printf("virt-nestify host --isolate --taken %s",
                                    taken ? taken : "?"));
        free(off);
        free(taken);
    }
    free(list);
    free(why);
}

static void
check_libvirt(struct doctor *dr, const char *uri, vn_doctor_libvirt_fn *fn)
{
    struct vn_doctor_libvirt lv = { 0 };
    char *why = NULL;
    char *title = nst_printf("host-passthrough CPU mode supported");

    if (fn(uri, &lv, &why) < 0) {
        dr->libvirt_failed = true;
        add(dr, "libvirt-passthrough", "LIBVIRT", title, ST_FAIL, why,
            nst_printf("check that libvirt runs and answers: "
                       "virsh -c '%s' domcapabilities", uri));
        return;
    }
    if (lv.passthrough) {
        add(dr, "libvirt-passthrough", "LIBVIRT", title, ST_PASS,
            nst_printf("domain type %s, %s",
                       lv.virttype ? lv.virttype : "?",
                       lv.emulator ? lv.emulator : "?"), NULL);
    } else {
        add(dr, "libvirt-passthrough", "LIBVIRT", title, ST_FAIL,
            nst_printf("domain type %s, %s: host-passthrough not supported",
                       lv.virttype ? lv.virttype : "?",
                       lv.emulator ? lv.emulator : "?"),
            nst_printf("make KVM usable to libvirt (the KVM checks above; "
                       "virt-host-validate qemu), then restart libvirtd"));
    }
    free(lv.virttype);
    free(lv.emulator);
}

/* ------------------------------------------------------------- output */

static char *
format_text(const struct doctor *dr, const size_t counts[ST_LAST])
{
    struct nst_buf buf = { 0 };
    for (size_t i = 0; i < dr->nchecks; i++) {
        const struct check *c = &dr->checks[i];
        nst_buf_addf(&buf, "%7s: %-45s : %s", c->group, c->title,
                     status_text[c->status]);
        if (c->detail)
            nst_buf_addf(&buf, " (%s)", c->detail);
        nst_buf_adds(&buf, "\n");
        if (c->fix && (c->status == ST_WARN || c->status == ST_FAIL))
            nst_buf_addf(&buf, "%7s  fix: %s\n", "", c->fix);
    }
    nst_buf_addf(&buf, "%zu passed, %zu warning%s, %zu failed, %zu skipped\n",
                 counts[ST_PASS], counts[ST_WARN],
                 counts[ST_WARN] == 1 ? "" : "s", counts[ST_FAIL],
                 counts[ST_SKIP]);
    return nst_buf_finish(&buf, NULL);
}

/* A check's "pages": one object per hugepage size. */
static struct json_object *
pages_json(const struct check *c, bool *ok)
{
    struct json_object *pages = json_object_new_array();

    for (size_t j = 0; j < c->npages; j++) {
        struct json_object *page = json_object_new_object();
        nst_json_add_int(page, "size_kib", (long long)c->pages[j].kib, ok);
        nst_json_add_int(page, "reserved", (long long)c->pages[j].reserved,
                         ok);
        nst_json_add_int(page, "free", (long long)c->pages[j].free, ok);
        nst_json_append(pages, page, ok);
    }
    return pages;
}

/* The host document (docs/json.md). */
static char *
format_json(const struct doctor *dr, const size_t counts[ST_LAST])
{
    static const char *const vendors[VN_CPU_LAST] = { NULL, "intel", "amd" };
    struct json_object *doc = json_object_new_object();
    struct json_object *checks = json_object_new_array();
    struct json_object *totals = json_object_new_object();
    bool ok = true;

    nst_json_add_string(doc, "vendor", vendors[dr->cpu.vendor], &ok);
    nst_json_add_string(doc, "result", counts[ST_FAIL] ? "fail" :
                        counts[ST_WARN] ? "warn" : "pass", &ok);
    for (size_t i = 0; i < dr->nchecks; i++) {
        const struct check *c = &dr->checks[i];
        struct json_object *check = json_object_new_object();
        nst_json_add_string(check, "id", c->id, &ok);
        nst_json_add_string(check, "status", status_json[c->status], &ok);
        nst_json_add_string(check, "title", c->title, &ok);
        nst_json_add_string(check, "detail", c->detail, &ok);
        nst_json_add_string(check, "fix", c->status == ST_WARN ||
                            c->status == ST_FAIL ? c->fix : NULL, &ok);
        if (strcmp(c->id, "hugepages") == 0)
            nst_json_add(check, "pages", pages_json(c, &ok), &ok);
        nst_json_append(checks, check, &ok);
    }
    nst_json_add(doc, "checks", checks, &ok);
    for (int st = 0; st < ST_LAST; st++)
        nst_json_add_int(totals, status_json[st], (long long)counts[st], &ok);
    nst_json_add(doc, "counts", totals, &ok);
    return nst_json_finish(doc, ok);
}

static int
doctor(const struct vn_host_opts *o, vn_doctor_libvirt_fn *libvirt_check,
       vn_host_pins_fn *pins)
{
    struct doctor dr = { .root = o->root };
    char *cpu_err = NULL;
    size_t counts[ST_LAST] = { 0 };
    int ret;

    dr.cpu_read = vn_cpuinfo_read(o->root, &dr.cpu, &cpu_err) == 0;
    check_cpu(&dr, cpu_err);
    free(cpu_err);
    check_kvm(&dr);
    check_hugepages(&dr);
    check_iommu(&dr);
    check_isolation(&dr, o, pins);
    if (o->connect)
        check_libvirt(&dr, o->connect, libvirt_check);

    for (size_t i = 0; i < dr.nchecks; i++)
        counts[dr.checks[i].status]++;
    char *out = dr.oom ? NULL :
                o->output == VN_OUTPUT_JSON ? format_json(&dr, counts) :
                format_text(&dr, counts);
    if (!out) {
        vn_error("out of memory");
        ret = VN_EXIT_SYSTEM;
    } else if (vn_write_stdout(out, strlen(out)) < 0) {
        vn_error("cannot write to stdout: %s", strerror(errno));
        ret = VN_EXIT_SYSTEM;
    } else {
        ret = dr.libvirt_failed ? VN_EXIT_SYSTEM :
              counts[ST_FAIL] ? VN_EXIT_CHECK_FAILED : VN_EXIT_OK;
    }
    free(out);
    for (size_t i = 0; i < dr.nchecks; i++) {
        free(dr.checks[i].title);
        free(dr.checks[i].detail);
        free(dr.checks[i].fix);
        free(dr.checks[i].pages);
    }
    return ret;
}

/* ------------------------------------------------------------ options */

/* Returns -1 on a usage error (already reported), 1 for --help. */
static int
parse_options(int argc, char **argv, struct vn_host_opts *o,
              vn_doctor_libvirt_fn *libvirt_check)
{
    struct vn_given given;
    struct stat st;

    int r = vn_options_parse(VN_CMD_HOST, argc, argv, o, &given);
    if (r != 0)
        return r;
    /* --root first: the combinations are only worth checking on a root
     * that is there. */
    if (!*o->root) {
        vn_error("--root must not be empty");
        return -1;
    }
    if (stat(o->root, &st) < 0) {
        vn_error("root '%s': %s", o->root, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        vn_error("root '%s': not a directory", o->root);
        return -1;
    }
    if (vn_options_check(VN_CMD_HOST, &given) < 0)
        return -1;
    if (o->connect && !libvirt_check) {
        vn_error("--connect: this build of virt-nestify has no libvirt");
        return -1;
    }
    return 0;
}

int
vn_host_main(int argc, char **argv, vn_doctor_libvirt_fn *libvirt_check,
             vn_host_pins_fn *pins)
{
    struct vn_host_opts o = { .root = "/", .output = VN_OUTPUT_TEXT };

    switch (parse_options(argc, argv, &o, libvirt_check)) {
    case 1: return VN_EXIT_OK;
    case -1: return VN_EXIT_INPUT;
    default: break;
    }
    if (o.isolate)
        return vn_host_isolate(&o, pins);
    return o.enable ? vn_host_enable(&o) : doctor(&o, libvirt_check, pins);
}
