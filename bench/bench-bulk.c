/*
 * bench-bulk.c: a bulk apply against a bare define loop, on the real QEMU
 * driver embedded in this process (qemu:///embed)
 *
 * Usage: bench-bulk [SRCDIR [N]]      (N domains, default 500)
 *
 * N persistent domains of mixed sizes (type 'qemu', 1-8 vCPUs, 1-8 GiB,
 * machine 'pc', no balloon; a fixed pseudo-random mix, so every run
 * defines the same ones) are defined under a fresh root, then:
 *
 * (a) the tool's own entry point, vn_cmd_apply(), as "virt-nestify -c URI
 *     --all --host-caps large-4s-smt.xml --backup-dir DIR -p perf --set
 *     hugepages=off --overcommit -q": everything a bulk run does (its own
 *     connection, profile and host model, listing, taken CPUs, then per
 *     domain: dump, plan (twice for a domain that must share CPUs),
 *     backup, define, read back, verify);
 * (b) a bare loop that defines, for each domain (a) changed, the
 *     definition (a) left stored (read back with virDomainGetXMLDesc);
 * (c) for reference, (b) again without VIR_DOMAIN_DEFINE_VALIDATE: how
 *     much of either is libvirt checking each document against its RNG
 *     schema (virt-nestify asks for the check; on libvirt 9.0 it is most
 *     of the cost of a define).
 *
 * Fairness: before (b) and before (c) every original definition is
 * defined again (not timed), so each starts from the state (a) started
 * from and, like (a), replaces N existing definitions with the same
 * documents, with the same flag as the tool (VIR_DOMAIN_DEFINE_VALIDATE),
 * through the same driver, which this process started (and whose schema
 * it loaded) before anything was timed.  The difference is what
 * virt-nestify adds on top of the defines it cannot avoid.
 *
 * The host has 192 CPUs and 4 x 256 GiB: N domains of 1-8 vCPUs do not
 * fit, so the run uses --overcommit and every domain is planned (those
 * that find no free CPUs share them, with one warning each, which goes to
 * a log file, not the terminal).  The bare loop is the goal's baseline:
 * within 1.5x.
 *
 * Memory: the whole bench runs twice, with N/5 and N domains, each in a
 * child process of its own (fork before any libvirt call), so each has a
 * fresh embedded driver and its own ru_maxrss.  That peak includes
 * libvirt's own objects for every domain, which grow with N in any
 * process that embeds the driver.  So each child also resets its RSS high
 * water mark (/proc/self/clear_refs) just before (a) and reads how far
 * (a) raised it above the RSS it started from.  Part of that rise is not
 * virt-nestify's either: libvirt keeps every new definition, and a pinned,
 * NUMA-bound one holds more (cpuset bitmaps) than the original it
 * replaces; that part is the growth of the heap in use (mallinfo2) from
 * before (a) to after it, when the tool has freed all it had.  The rest
 * is virt-nestify's transient working memory (and what the allocator
 * keeps around it): that is the figure that should stay flat from N/5 to
 * N.
 *
 * Prints figures and asserts nothing; exit 0 when both runs completed
 * (the bulk apply exiting 0), 2 on a usage error, 3 when something
 * failed.  Run with "make bench".
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>

#include "conn.h"
#include "internal.h"
#include "tool.h"

/* What one child measured, sent to the parent through a pipe. */
struct figures {
    size_t n;                  /* domains defined */
    size_t changed;            /* definitions (a) changed */
    size_t backups;            /* backups (a) wrote: one per define */
    size_t warnings;           /* warning lines (a) printed */
    int apply_status;          /* vn_cmd_apply's exit status */
    double apply_s;            /* (a) */
    double define_s;           /* (b) */
    double plain_s;            /* (c) */
    long rss_before_kb;        /* VmRSS just before (a) */
    long hwm_apply_kb;         /* VmHWM after (a), reset before it; -1 */
    long heap_before_kb;       /* heap in use just before (a) */
    long heap_after_kb;        /* heap in use just after (a) */
    long maxrss_kb;            /* ru_maxrss at the end */
};

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A "Key:  123 kB" line of /proc/self/status, in KiB; -1 if unknown. */
static long
status_kb(const char *key)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t klen = strlen(key);

    while (fp && fgets(line, sizeof(line), fp))
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            kb = strtol(line + klen + 1, NULL, 10);
            break;
        }
    if (fp)
        fclose(fp);
    return kb;
}

/* Resets VmHWM (and so ru_maxrss) to the current RSS (Linux >= 4.0). */
static int
reset_peak_rss(void)
{
    FILE *fp = fopen("/proc/self/clear_refs", "w");
    if (!fp)
        return -1;
    int ok = fputs("5", fp) >= 0;
    return fclose(fp) == 0 && ok ? 0 : -1;
}

/* Bytes malloc has handed out and not had back, in KiB. */
static long
heap_kb(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (long)((mi.uordblks + mi.hblkhd) / 1024);
}

static int
remove_entry(const char *path, const struct stat *st, int flag,
             struct FTW *ftw)
{
    return remove(path);
}

static void
remove_tree(const char *root)
{
    if (nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
        fprintf(stderr, "bench-bulk: cannot remove '%s': %s\n", root,
                strerror(errno));
}

static size_t
count_entries(const char *dir)
{
    char *cmd = nst_printf("ls '%s' 2>/dev/null | wc -l", dir);
    FILE *fp = cmd ? popen(cmd, "r") : NULL;
    unsigned long n = 0;
    if (fp) {
        if (fscanf(fp, "%lu", &n) != 1)
            n = 0;
        pclose(fp);
    }
    free(cmd);
    return n;
}

/* Counts the warning lines of log; copies up to 5 other lines to
 * stderr (errors must not go unseen). */
static size_t
scan_log(const char *log)
{
    FILE *fp = fopen(log, "r");
    char line[1024];
    size_t warnings = 0, shown = 0;

    while (fp && fgets(line, sizeof(line), fp)) {
        if (strstr(line, "warning:"))
            warnings++;
        else if (shown++ < 5)
            fputs(line, stderr);
    }
    if (fp)
        fclose(fp);
    return warnings;
}

/* The mix of sizes: a fixed sequence, the same on every run. */
static unsigned int
next_size(unsigned long *state)
{
    *state = *state * 6364136223846793005UL + 1442695040888963407UL;
    return (unsigned int)(*state >> 33) % 8 + 1;
}

static char *
domain_xml(size_t i, unsigned int vcpus, unsigned int gib)
{
    return nst_printf(
        "<domain type='qemu'>\n"
        "  <name>bench%04zu</name>\n"
        "  <memory unit='GiB'>%u</memory>\n"
        "  <vcpu placement='static'>%u</vcpu>\n"
        "  <os>\n"
        "    <type arch='x86_64' machine='pc'>hvm</type>\n"
        "  </os>\n"
        "  <devices>\n"
        "    <memballoon model='none'/>\n"
        "  </devices>\n"
        "</domain>\n", i, gib, vcpus);
}

static char *
stored_xml(virConnectPtr conn, size_t i)
{
    char name[32];
    snprintf(name, sizeof(name), "bench%04zu", i);
    virDomainPtr dom = virDomainLookupByName(conn, name);
    char *xml = dom ? virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE |
                                               VIR_DOMAIN_XML_SECURE) : NULL;
    if (dom)
        virDomainFree(dom);
    return xml;
}

static bool
define(virConnectPtr conn, const char *xml, unsigned int flags)
{
    virDomainPtr dom = virDomainDefineXMLFlags(conn, xml, flags);
    if (!dom) {
        fprintf(stderr, "bench-bulk: define: %s\n", vn_libvirt_error());
        return false;
    }
    virDomainFree(dom);
    return true;
}

/* Defines the original of every domain (a) changed again, not timed: back
 * to the state (a) started from, checked. */
static int
restore(virConnectPtr conn, size_t n, char **orig, char **stored)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(stored[i], orig[i]) != 0 && !define(conn, orig[i], 0))
            return -1;
    for (size_t i = 0; i < n; i++) {
        char *again = stored_xml(conn, i);
        bool same = again && strcmp(again, orig[i]) == 0;
        free(again);
        if (!same) {
            fprintf(stderr, "bench-bulk: bench%04zu not restored\n", i);
            return -1;
        }
    }
    return 0;
}

/* (b) and (c): defines what (a) stored for every domain it changed.
 * Returns the seconds it took, -1 on failure. */
static double
define_loop(virConnectPtr conn, size_t n, char **orig, char **stored,
            unsigned int flags)
{
    double t0 = now();
    for (size_t i = 0; i < n; i++)
        if (strcmp(stored[i], orig[i]) != 0 && !define(conn, stored[i], flags))
            return -1;
    return now() - t0;
}

/* (a) with stderr in log; returns vn_cmd_apply's status. */
static int
bulk_apply(const char *uri, const char *caps, const char *backups,
           const char *log)
{
    const char *args[] = { "virt-nestify", "-c", uri, "--all", "--host-caps",
                           caps, "--backup-dir", backups, "-p", "perf",
                           "--set", "hugepages=off", "--overcommit", "-q",
                           NULL };
    int argc = (int)(sizeof(args) / sizeof(args[0])) - 1;
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int saved = dup(STDERR_FILENO);

    if (fd < 0 || saved < 0) {
        perror("bench-bulk: log");
        return -1;
    }
    fflush(stderr);
    dup2(fd, STDERR_FILENO);
    close(fd);
    int status = vn_cmd_apply(argc, (char **)args);
    fflush(stdout);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    return status;
}

/* The whole bench for n domains, in this (child) process. */
static int
run_bench(const char *srcdir, size_t n, struct figures *f)
{
    char root[] = "/tmp/bench-bulk-XXXXXX";
    char *uri = NULL, *caps = NULL, *backups = NULL,
         *log = NULL, *err = NULL;
    char **orig = calloc(n, sizeof(*orig));
    char **stored = calloc(n, sizeof(*stored));
    virConnectPtr conn = NULL;
    unsigned long seed = 2024;
    int ret = -1;

    memset(f, 0, sizeof(*f));
    f->n = n;
    f->hwm_apply_kb = -1;
    if (!orig || !stored || !mkdtemp(root)) {
        perror("bench-bulk");
        free(orig);
        free(stored);
        return -1;
    }
    /* The tests' root maker: its qemu.conf, and under make bench the
     * QEMU capabilities probed once ($NST_EMBED_SEED). */
    char *cmd = nst_printf("sh '%s/tests/embed-root.sh' '%s'", srcdir, root);
    int made = system(cmd);
    free(cmd);
    if (made != 0) {
        fprintf(stderr, "bench-bulk: cannot make the embedded root %s\n",
                root);
        goto out;
    }
    uri = nst_printf("qemu:///embed?root=%s", root);
    caps = nst_printf("%s/tests/fixtures/hosts/large-4s-smt.xml", srcdir);
    backups = nst_printf("%s/backups", root);
    log = nst_printf("%s/apply.log", root);

    /* Registers libvirt's default event loop, then opens: the embedded
     * driver starts here, before anything is timed. */
    if (!(conn = vn_conn_open(uri, &err))) {
        fprintf(stderr, "bench-bulk: %s\n", err);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned int vcpus = next_size(&seed), gib = next_size(&seed);
        char *xml = domain_xml(i, vcpus, gib);
        /* With the schema check, so libvirt has loaded its schema
         * before (a) is measured, as (a) and (b) both use it. */
        bool ok = xml && define(conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);
        free(xml);
        if (!ok || !(orig[i] = stored_xml(conn, i)))
            goto out;
    }

    f->heap_before_kb = heap_kb();
    f->rss_before_kb = status_kb("VmRSS");
    bool reset = reset_peak_rss() == 0;
    double t0 = now();
    f->apply_status = bulk_apply(uri, caps, backups, log);
    f->apply_s = now() - t0;
    if (reset)
        f->hwm_apply_kb = status_kb("VmHWM");
    f->heap_after_kb = heap_kb();
    f->warnings = scan_log(log);
    f->backups = count_entries(backups);
    /* Anything but a clean run would compare different work. */
    if (f->apply_status != 0) {
        fprintf(stderr, "bench-bulk: the bulk apply exited %d (its messages "
                "are above)\n", f->apply_status);
        goto out;
    }

    for (size_t i = 0; i < n; i++) {
        if (!(stored[i] = stored_xml(conn, i)))
            goto out;
        if (strcmp(stored[i], orig[i]) != 0)
            f->changed++;
    }
    if (restore(conn, n, orig, stored) < 0)
        goto out;
    if ((f->define_s = define_loop(conn, n, orig, stored,
                                   VIR_DOMAIN_DEFINE_VALIDATE)) < 0)
        goto out;
    if (restore(conn, n, orig, stored) < 0 ||
        (f->plain_s = define_loop(conn, n, orig, stored, 0)) < 0)
        goto out;

    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        f->maxrss_kb = ru.ru_maxrss;
    ret = 0;

 out:
    for (size_t i = 0; i < n; i++) {
        free(orig[i]);
        free(stored[i]);
    }
    free(orig);
    free(stored);
    vn_conn_close(conn);
    remove_tree(root);
    free(uri);
    free(caps);
    free(backups);
    free(log);
    free(err);
    return ret;
}

/* Runs the bench for n domains in a child; fills *f. */
static int
run_child(const char *srcdir, size_t n, struct figures *f)
{
    int fds[2];
    if (pipe(fds) < 0) {
        perror("bench-bulk: pipe");
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("bench-bulk: fork");
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        int ok = run_bench(srcdir, n, f) == 0 &&
                 write(fds[1], f, sizeof(*f)) == (ssize_t)sizeof(*f);
        close(fds[1]);
        exit(ok ? 0 : 3);
    }
    close(fds[1]);
    ssize_t got = read(fds[0], f, sizeof(*f));
    close(fds[0]);
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0 || got != (ssize_t)sizeof(*f)) {
        fprintf(stderr, "bench-bulk: the run with %zu domains failed\n", n);
        return -1;
    }
    return 0;
}

static void
print_figures(const struct figures *f)
{
    printf("%zu domains: (a) bulk apply exit %d, %zu changed, %zu backups, "
           "%zu overcommit warnings\n", f->n, f->apply_status, f->changed,
           f->backups, f->warnings);
    printf("  (a) virt-nestify bulk apply: %8.3f s  %7.2f ms/domain\n",
           f->apply_s, f->apply_s * 1e3 / (double)f->n);
    printf("  (b) bare define loop:        %8.3f s  %7.2f ms/domain\n",
           f->define_s, f->define_s * 1e3 / (double)f->n);
    printf("  (c) (b) without VALIDATE:    %8.3f s  %7.2f ms/domain\n",
           f->plain_s, f->plain_s * 1e3 / (double)f->n);
    printf("  ratio (a)/(b): %.2f    (goal: within 1.5x, %s)\n",
           f->apply_s / f->define_s,
           f->apply_s / f->define_s <= 1.5 ? "met" : "not met");
    if (f->changed != f->n || f->backups != f->changed)
        printf("  note: (b) did %zu defines, (a) wrote %zu backups for %zu "
               "domains\n", f->changed, f->backups, f->n);
}

int
main(int argc, char **argv)
{
    const char *srcdir = argc > 1 ? argv[1] : ".";
    unsigned long long n = 500;
    struct figures small, large;

    if (argc > 3 || (argc > 2 && (nst_parse_ull(argv[2], 100000, &n) < 0 ||
                                  n < 5))) {
        fprintf(stderr, "usage: bench-bulk [SRCDIR [N]]   (N >= 5)\n");
        return 2;
    }
    char *caps = nst_printf("%s/tests/fixtures/hosts/large-4s-smt.xml",
                            srcdir);
    if (!caps || access(caps, R_OK) < 0) {
        fprintf(stderr, "bench-bulk: '%s' not found: give the source "
                "directory\n", caps ? caps : srcdir);
        free(caps);
        return 2;
    }
    free(caps);
    if (run_child(srcdir, (size_t)n / 5, &small) < 0 ||
        run_child(srcdir, (size_t)n, &large) < 0)
        return 3;
    print_figures(&small);
    print_figures(&large);
    printf("memory (KiB), each N in a child process of its own:\n");
    printf("  %5s  %10s  %13s  %14s  %15s  %10s\n", "N", "RSS at (a)",
           "peak rise (a)", "libvirt keeps", "virt-nestify's", "ru_maxrss");
    const struct figures *both[] = { &small, &large };
    for (int k = 0; k < 2; k++) {
        const struct figures *f = both[k];
        long kept = f->heap_after_kb - f->heap_before_kb;
        if (f->hwm_apply_kb >= 0) {
            long rise = f->hwm_apply_kb - f->rss_before_kb;
            printf("  %5zu  %10ld  %+13ld  %+14ld  %+15ld  %10ld\n", f->n,
                   f->rss_before_kb, rise, kept, rise - kept, f->maxrss_kb);
        } else {
            printf("  %5zu  %10ld  %13s  %+14ld  %15s  %10ld\n", f->n,
                   f->rss_before_kb, "n/a", kept, "n/a", f->maxrss_kb);
        }
    }
    printf("  (peak rise (a) = libvirt keeps + virt-nestify's; goal: "
           "virt-nestify's flat in N)\n");
    return 0;
}
