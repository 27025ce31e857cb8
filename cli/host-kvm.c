/*
 * host-kvm.c: whether /dev/kvm can run a guest, asked of the kernel
 *
 * Opening /dev/kvm proves little: on a host that is itself a VM, KVM may
 * create VMs and vCPUs and still refuse what QEMU must do for every
 * guest.  One such host reports the feature MSR IA32_ARCH_CAPABILITIES
 * (KVM_GET_MSRS on the system fd) with a value its own vCPUs refuse
 * (KVM_SET_MSRS), and QEMU, which sets that MSR on every -cpu host guest,
 * aborts each guest with "failed to set MSR 0x10a".
 *
 * So the doctor does what QEMU does for a guest, with the KVM API alone
 * (no QEMU is started): a VM with a page of memory, a vCPU with the
 * CPUID of -cpu host, the feature MSRs KVM reports set on that vCPU as
 * QEMU sets them (before it runs: KVM freezes them at the first KVM_RUN),
 * then a few real-mode instructions run to hlt.
 *
 * As QEMU: a CPU that lacks ARCH_CAPABILITIES itself gets a vCPU without
 * it in CPUID (KVM offers it regardless), though KVM still reports the
 * MSR with a value it made up, and QEMU still sets that MSR.  Newer
 * kernels refuse a nonzero IA32_ARCH_CAPABILITIES on a vCPU without the
 * CPUID bit: that is the host above.  VMX capability MSRs are set only on
 * a vCPU with VMX, never the six KVM reports but refuses every write to
 * (QEMU sets the TRUE_* controls instead); IA32_PERF_CAPABILITIES is 0 on
 * a vCPU without PDCM.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "host-doctor.h"
#include "nestify.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <linux/kvm.h>

#define KVM_API_VERSION_WANTED 12
/* Guest-physical address of the code (and the one page of memory). */
#define CODE_ADDR 0x1000
/* The three-page TSS a VMX host without unrestricted guest needs for
 * real mode: right after KVM's default identity-map page (0xfffbc000),
 * far from the code. */
#define TSS_ADDR 0xfffbd000
/* arch_prctl: permission for a guest's dynamically enabled XSAVE state
 * (AMX tile data, XFEATURE 18), asked before the first vCPU locks it, as
 * QEMU does; without it KVM leaves AMX out of the supported CPUID. */
#define REQ_XCOMP_GUEST_PERM 0x1025
#define XFEATURE_XTILEDATA 18

/* CPUID bits the MSRs depend on. */
#define CPUID1_ECX_VMX (1u << 5)
#define CPUID1_ECX_PDCM (1u << 15)
#define CPUID7_EDX_ARCH_CAPABILITIES (1u << 29)

#define MSR_IA32_PERF_CAPABILITIES 0x345
#define MSR_IA32_VMX_FIRST 0x480
#define MSR_IA32_VMX_LAST 0x492

/* mov $1, %ax; add $2, %ax; hlt */
static const unsigned char guest_code[] = {
    0xb8, 0x01, 0x00, 0x83, 0xc0, 0x02, 0xf4,
};

/* Records the first failing step. */
static void
failed(struct vn_kvm_trial *t, enum vn_kvm_step step, char *why)
{
    if (t->failed != VN_KVM_STEP_NONE) {
        free(why);
        return;
    }
    t->failed = step;
    t->why = why;
}

/* KVM's supported CPUID (what -cpu host gets), or NULL. */
static struct kvm_cpuid2 *
supported_cpuid(int kvm, int *err)
{
    for (unsigned int n = 64; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c = calloc(1, sizeof(*c) +
                                      n * sizeof(c->entries[0]));
        if (!c) {
            *err = ENOMEM;
            return NULL;
        }
        c->nent = n;
        if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) == 0)
            return c;
        *err = errno;
        free(c);
        if (*err != E2BIG)
            return NULL;
    }
    return NULL;
}

/* The entry for leaf function, subleaf index, or NULL. */
static struct kvm_cpuid_entry2 *
cpuid_entry(struct kvm_cpuid2 *c, uint32_t function, uint32_t index)
{
    for (uint32_t i = 0; c && i < c->nent; i++)
        if (c->entries[i].function == function &&
            c->entries[i].index == index)
            return &c->entries[i];
    return NULL;
}

static bool
cpuid_has(struct kvm_cpuid2 *c, uint32_t function, bool edx, uint32_t bit)
{
    struct kvm_cpuid_entry2 *e = cpuid_entry(c, function, 0);
    return e && ((edx ? e->edx : e->ecx) & bit);
}

/* -cpu host's CPUID: what KVM supports, without ARCH_CAPABILITIES when
 * this CPU itself lacks it (KVM offers it regardless; QEMU does not). */
static void
host_cpuid(struct kvm_cpuid2 *c)
{
    unsigned int a, b, ecx, edx;
    struct kvm_cpuid_entry2 *leaf7 = cpuid_entry(c, 7, 0);
    if (leaf7 && (!__get_cpuid_count(7, 0, &a, &b, &ecx, &edx) ||
                  !(edx & CPUID7_EDX_ARCH_CAPABILITIES)))
        leaf7->edx &= ~CPUID7_EDX_ARCH_CAPABILITIES;
}

/* The feature MSRs KVM reports, with their values (KVM_GET_MSRS on the
 * system fd); NULL with *n 0 when KVM has none to report. */
static struct kvm_msrs *
feature_msrs(int kvm)
{
    if (ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_GET_MSR_FEATURES) <= 0)
        return NULL;
    struct kvm_msr_list probe = { .nmsrs = 0 };
    if (ioctl(kvm, KVM_GET_MSR_FEATURE_INDEX_LIST, &probe) < 0 &&
        errno != E2BIG)
        return NULL;
    if (probe.nmsrs == 0)
        return NULL;
    struct kvm_msr_list *list = calloc(1, sizeof(*list) +
                                       probe.nmsrs * sizeof(uint32_t));
    struct kvm_msrs *msrs = calloc(1, sizeof(*msrs) + probe.nmsrs *
                                   sizeof(msrs->entries[0]));
    if (!list || !msrs)
        goto fail;
    list->nmsrs = probe.nmsrs;
    if (ioctl(kvm, KVM_GET_MSR_FEATURE_INDEX_LIST, list) < 0)
        goto fail;
    for (uint32_t i = 0; i < list->nmsrs; i++)
        msrs->entries[i].index = list->indices[i];
    msrs->nmsrs = list->nmsrs;
    int got = ioctl(kvm, KVM_GET_MSRS, msrs);
    if (got < 0)
        goto fail;
    /* KVM stops at the first MSR it cannot read: keep those it read. */
    msrs->nmsrs = (uint32_t)got;
    free(list);
    return msrs;

 fail:
    free(list);
    free(msrs);
    return NULL;
}

/* Whether QEMU sets feature MSR index on a vCPU with CPUID c, and to
 * what (*value, from KVM's report). */
static bool
qemu_sets(uint32_t index, struct kvm_cpuid2 *c, __u64 *value)
{
    if (index >= MSR_IA32_VMX_FIRST && index <= MSR_IA32_VMX_LAST) {
        /* The non-TRUE controls and the two FIXED1 MSRs: KVM refuses
         * every write; QEMU writes the others, with VMX only. */
        if ((index >= 0x481 && index <= 0x484) || index == 0x487 ||
            index == 0x489)
            return false;
        return cpuid_has(c, 1, false, CPUID1_ECX_VMX);
    }
    if (index == MSR_IA32_PERF_CAPABILITIES &&
        !cpuid_has(c, 1, false, CPUID1_ECX_PDCM))
        *value = 0;
    return true;
}

/* Sets each feature MSR on the vCPU on its own, as QEMU sets them all:
 * a KVM_SET_MSRS that sets fewer than it was given aborts QEMU. */
static void
set_feature_msrs(int kvm, int vcpu, struct kvm_cpuid2 *cpuid,
                 struct vn_kvm_trial *t)
{
    struct kvm_msrs *msrs = feature_msrs(kvm);
    if (!msrs)
        return;
    for (uint32_t i = 0; i < msrs->nmsrs; i++) {
        struct {
            struct kvm_msrs head;
            struct kvm_msr_entry entry;
        } one = { .head.nmsrs = 1, .entry = msrs->entries[i] };
        if (!qemu_sets(one.entry.index, cpuid, &one.entry.data))
            continue;
        t->nfeature_msrs++;
        if (ioctl(vcpu, KVM_SET_MSRS, &one) == 1)
            continue;
        if (NST_GROW(t->refused, t->nrefused + 1, t->refused_alloc) < 0)
            break;
        t->refused[t->nrefused++] = (struct vn_kvm_msr){
            .index = one.entry.index, .value = one.entry.data,
        };
    }
    free(msrs);
}

/* Real mode at CODE_ADDR, run to hlt: ax must come out 3. */
static void
run_code(int vcpu, struct kvm_run *run, struct vn_kvm_trial *t)
{
    struct kvm_sregs sregs;
    struct kvm_regs regs = { .rip = CODE_ADDR, .rflags = 0x2 };

    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) {
        failed(t, VN_KVM_STEP_RUN, nst_printf("KVM_GET_SREGS: %s",
                                              strerror(errno)));
        return;
    }
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 ||
        ioctl(vcpu, KVM_SET_REGS, &regs) < 0) {
        failed(t, VN_KVM_STEP_RUN, nst_printf("cannot set the vCPU's "
                                              "registers: %s",
                                              strerror(errno)));
        return;
    }
    int ret;
    int tries = 0;
    do {
        ret = ioctl(vcpu, KVM_RUN, 0);
    } while (ret < 0 && (errno == EINTR || errno == EAGAIN) && ++tries < 100);
    if (ret < 0) {
        failed(t, VN_KVM_STEP_RUN, nst_printf("KVM_RUN: %s",
                                              strerror(errno)));
        return;
    }
    if (run->exit_reason != KVM_EXIT_HLT) {
        failed(t, VN_KVM_STEP_RUN,
               nst_printf("the vCPU stopped with exit reason %u before hlt",
                          run->exit_reason));
        return;
    }
    if (ioctl(vcpu, KVM_GET_REGS, &regs) < 0 || (regs.rax & 0xffff) != 3)
        failed(t, VN_KVM_STEP_RUN,
               nst_printf("the vCPU reached hlt with wrong results"));
}

/* What a trial holds open; guest_close() releases what was made. */
struct guest {
    int vm, vcpu;
    void *mem;                   /* the page of guest code */
    long page;
    struct kvm_run *run;
    long run_size;
    struct kvm_cpuid2 *cpuid;
};

static void
guest_close(struct guest *g)
{
    free(g->cpuid);
    if (g->run != MAP_FAILED)
        munmap(g->run, (size_t)g->run_size);
    if (g->vcpu >= 0)
        close(g->vcpu);
    if (g->vm >= 0)
        close(g->vm);
    if (g->mem != MAP_FAILED)
        munmap(g->mem, (size_t)g->page);
}

/* The API version QEMU needs, then a VM.  Returns 0, or -1 with the
 * failed step in t. */
static int
create_vm(int kvm, struct guest *g, struct vn_kvm_trial *t)
{
    int version = ioctl(kvm, KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION_WANTED) {
        failed(t, VN_KVM_STEP_VERSION,
               version < 0 ? nst_printf("%s", strerror(errno)) :
               nst_printf("version %d, not %d", version,
                          KVM_API_VERSION_WANTED));
        return -1;
    }
    (void)syscall(SYS_arch_prctl, REQ_XCOMP_GUEST_PERM, XFEATURE_XTILEDATA);
    if ((g->vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0) {
        failed(t, VN_KVM_STEP_VM, nst_printf("%s", strerror(errno)));
        return -1;
    }
    /* Needed by VMX hosts without unrestricted guest; AMD ignores it. */
    (void)ioctl(g->vm, KVM_SET_TSS_ADDR, TSS_ADDR);
    return 0;
}

/* One page of guest memory holding guest_code at CODE_ADDR. */
static int
map_code(struct guest *g, struct vn_kvm_trial *t)
{
    g->page = sysconf(_SC_PAGESIZE);
    g->mem = mmap(NULL, (size_t)g->page, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g->mem == MAP_FAILED) {
        failed(t, VN_KVM_STEP_MEMORY, nst_printf("%s", strerror(errno)));
        return -1;
    }
    memcpy(g->mem, guest_code, sizeof(guest_code));
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = CODE_ADDR,
        .memory_size = (uint64_t)g->page, .userspace_addr = (uintptr_t)g->mem,
    };
    if (ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
        failed(t, VN_KVM_STEP_MEMORY, nst_printf("%s", strerror(errno)));
        return -1;
    }
    return 0;
}

/* A vCPU with its kvm_run mapped, and the CPUID of -cpu host: where
 * QEMU fails, the trial stops. */
static int
create_vcpu(int kvm, struct guest *g, struct vn_kvm_trial *t)
{
    if ((g->vcpu = ioctl(g->vm, KVM_CREATE_VCPU, 0)) < 0) {
        failed(t, VN_KVM_STEP_VCPU, nst_printf("%s", strerror(errno)));
        return -1;
    }
    g->run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (g->run_size <= 0 ||
        (g->run = mmap(NULL, (size_t)g->run_size, PROT_READ | PROT_WRITE,
                       MAP_SHARED, g->vcpu, 0)) == MAP_FAILED) {
        failed(t, VN_KVM_STEP_VCPU, nst_printf("cannot map its kvm_run: %s",
                                               strerror(errno)));
        return -1;
    }
    int err = 0;
    if (!(g->cpuid = supported_cpuid(kvm, &err))) {
        failed(t, VN_KVM_STEP_CPUID, nst_printf("KVM_GET_SUPPORTED_CPUID: %s",
                                                strerror(err)));
        return -1;
    }
    host_cpuid(g->cpuid);
    if (ioctl(g->vcpu, KVM_SET_CPUID2, g->cpuid) < 0) {
        failed(t, VN_KVM_STEP_CPUID, nst_printf("%s", strerror(errno)));
        return -1;
    }
    return 0;
}

void
vn_kvm_try(int kvm, struct vn_kvm_trial *t)
{
    struct guest g = { .vm = -1, .vcpu = -1, .mem = MAP_FAILED,
                       .run = MAP_FAILED };

    memset(t, 0, sizeof(*t));
    t->failed = VN_KVM_STEP_NONE;
    if (create_vm(kvm, &g, t) == 0 && map_code(&g, t) == 0 &&
        create_vcpu(kvm, &g, t) == 0) {
        set_feature_msrs(kvm, g.vcpu, g.cpuid, t);
        run_code(g.vcpu, g.run, t);
    }
    guest_close(&g);
}

#else /* not x86 */

/* The trial speaks x86's KVM API (CPUID, MSRs, real mode). */
void
vn_kvm_try(int kvm, struct vn_kvm_trial *t)
{
    memset(t, 0, sizeof(*t));
    t->failed = VN_KVM_STEP_VERSION;
    t->why = nst_printf("the trial is written for x86 hosts");
}

#endif

const char *
vn_kvm_step_name(enum vn_kvm_step step)
{
    switch (step) {
    case VN_KVM_STEP_VERSION: return "KVM_GET_API_VERSION";
    case VN_KVM_STEP_VM: return "KVM_CREATE_VM";
    case VN_KVM_STEP_MEMORY: return "KVM_SET_USER_MEMORY_REGION";
    case VN_KVM_STEP_VCPU: return "KVM_CREATE_VCPU";
    case VN_KVM_STEP_CPUID: return "KVM_SET_CPUID2";
    case VN_KVM_STEP_RUN: return "KVM_RUN";
    default: return "none";
    }
}

void
vn_kvm_trial_clear(struct vn_kvm_trial *t)
{
    free(t->why);
    free(t->refused);
    memset(t, 0, sizeof(*t));
}

#define MSR_ARCH_CAPABILITIES 0x10a

/* The feature MSRs whose names a reader knows. */
static const char *
msr_name(uint32_t index)
{
    if (index >= 0x480 && index <= 0x492)
        return "IA32_VMX_*";
    switch (index) {
    case 0x8b: return "IA32_UCODE_REV";
    case 0xce: return "PLATFORM_INFO";
    case 0x10a: return "IA32_ARCH_CAPABILITIES";
    case 0x345: return "IA32_PERF_CAPABILITIES";
    case 0xc0011029: return "AMD64_DE_CFG";
    default: return NULL;
    }
}

bool
vn_kvm_verdict(const struct vn_kvm_trial *t, bool in_vm, char **detail,
               char **fix)
{
    *detail = NULL;
    *fix = NULL;
    if (t->nrefused > 0) {
        /* What QEMU trips on first: name every refused MSR. */
        struct nst_buf list = { 0 };
        for (size_t i = 0; i < t->nrefused; i++) {
            const char *name = msr_name(t->refused[i].index);
            char *one = nst_printf("%s0x%x%s%s%s = 0x%llx",
                                   i ? ", " : "", t->refused[i].index,
                                   name ? " (" : "", name ? name : "",
                                   name ? ")" : "",
                                   t->refused[i].value);
            if (one)
                nst_buf_add(&list, one, strlen(one));
            free(one);
        }
        char *msrs = nst_buf_finish(&list, NULL);
        *detail = nst_printf("KVM reports feature MSR%s %s, but its vCPU "
                             "refuses %s (KVM_SET_MSRS): QEMU aborts every "
                             "guest with -cpu host here (\"failed to set "
                             "MSR 0x%x\")", t->nrefused > 1 ? "s" : "",
                             msrs ? msrs : "?",
                             t->nrefused > 1 ? "them" : "it",
                             t->refused[0].index);
        free(msrs);
        if (t->refused[0].index == MSR_ARCH_CAPABILITIES)
            *fix = nst_printf("%s; or turn the feature off in each guest's "
                              "<cpu>: <feature policy='disable' "
                              "name='arch-capabilities'/>",
                              in_vm ? "this host is a VM whose CPU lacks "
                              "ARCH_CAPABILITIES, which its KVM reports "
                              "regardless: give the VM a CPU model with "
                              "arch-capabilities in the outer hypervisor, "
                              "or update the outer hypervisor" :
                              "this CPU lacks ARCH_CAPABILITIES, which KVM "
                              "reports regardless: update the kernel or "
                              "QEMU");
        else
            *fix = in_vm ?
                nst_printf("this host is a VM, and its hypervisor hands KVM "
                           "a CPU feature KVM cannot pass on: give this VM "
                           "another CPU model in the outer hypervisor, or "
                           "update the outer hypervisor") :
                nst_printf("update the kernel: a KVM that refuses what it "
                           "reports is a kernel bug");
        return false;
    }
    if (t->failed != VN_KVM_STEP_NONE) {
        *detail = nst_printf("%s failed: %s", vn_kvm_step_name(t->failed),
                             t->why ? t->why : "?");
        *fix = t->failed <= VN_KVM_STEP_VCPU || t->failed == VN_KVM_STEP_RUN ?
            (in_vm ? nst_printf("this host is a VM: turn nested "
                                "virtualization on for it in the outer "
                                "hypervisor, then see the kernel log "
                                "(dmesg | grep -i kvm)") :
                     nst_printf("see the kernel log (dmesg | grep -i kvm); "
                                "check that VT-x/AMD-V is on in the "
                                "firmware setup")) :
            nst_printf("update the kernel");
        return false;
    }
    *detail = t->nfeature_msrs > 0 ?
        nst_printf("a VM's vCPU took the %zu feature MSRs KVM reports and "
                   "ran code to hlt", t->nfeature_msrs) :
        nst_printf("a VM's vCPU ran code to hlt (KVM reports no feature "
                   "MSRs)");
    return true;
}
