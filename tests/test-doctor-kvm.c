/*
 * test-doctor-kvm.c: the host doctor's KVM trial (cli/host-kvm.c)
 *
 * The verdict on trials as hosts give them (a working KVM, the nested
 * host whose vCPUs refuse the IA32_ARCH_CAPABILITIES value KVM reports,
 * a KVM that creates no VM), and the trial itself on this machine's
 * /dev/kvm when it has one.  Whether the trial agrees with QEMU starting
 * a guest there is tests/cli/host.sh's part.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host-doctor.h"
#include "internal.h"
#include "testutil.h"

static void
verdict(const struct vn_kvm_trial *t, bool in_vm, bool want_ok,
        const char *want_detail, const char *want_fix)
{
    char *detail, *fix;
    bool ok = vn_kvm_verdict(t, in_vm, &detail, &fix);
    ck_assert_int_eq(ok, want_ok);
    ck_assert_str_eq(detail, want_detail);
    if (want_fix)
        ck_assert_str_eq(fix, want_fix);
    else
        ck_assert_ptr_null(fix);
    free(detail);
    free(fix);
}

START_TEST(test_verdict_working)
{
    struct vn_kvm_trial t = { .failed = VN_KVM_STEP_NONE,
                              .nfeature_msrs = 23 };
    verdict(&t, false, true, "a VM's vCPU took the 23 feature MSRs KVM "
            "reports and ran code to hlt", NULL);
    t.nfeature_msrs = 0;
    verdict(&t, true, true, "a VM's vCPU ran code to hlt (KVM reports no "
            "feature MSRs)", NULL);
}
END_TEST

/* The CI host of issue 11: everything runs but the one MSR. */
START_TEST(test_verdict_refused_msr)
{
    struct vn_kvm_msr refused[] = {
        { .index = 0x10a, .value = 0x400000000c000069ULL },
        { .index = 0x48b, .value = 0x1ff00000000ULL },
    };
    struct vn_kvm_trial t = { .failed = VN_KVM_STEP_NONE,
                              .nfeature_msrs = 23, .refused = refused,
                              .nrefused = 1 };
    verdict(&t, true, false,
            "KVM reports feature MSR 0x10a (IA32_ARCH_CAPABILITIES) = "
            "0x400000000c000069, but its vCPU refuses it (KVM_SET_MSRS): "
            "QEMU aborts every guest with -cpu host here (\"failed to set "
            "MSR 0x10a\")",
            "this host is a VM whose CPU lacks ARCH_CAPABILITIES, which its "
            "KVM reports regardless: give the VM a CPU model with "
            "arch-capabilities in the outer hypervisor, or update the outer "
            "hypervisor; or turn the feature off in each guest's <cpu>: "
            "<feature policy='disable' name='arch-capabilities'/>");
    verdict(&t, false, false,
            "KVM reports feature MSR 0x10a (IA32_ARCH_CAPABILITIES) = "
            "0x400000000c000069, but its vCPU refuses it (KVM_SET_MSRS): "
            "QEMU aborts every guest with -cpu host here (\"failed to set "
            "MSR 0x10a\")",
            "this CPU lacks ARCH_CAPABILITIES, which KVM reports regardless: "
            "update the kernel or QEMU; or turn the feature off in each "
            "guest's <cpu>: <feature policy='disable' "
            "name='arch-capabilities'/>");
    /* Refused MSRs come first, whatever else failed; all are named; the
     * fix is for the first. */
    struct vn_kvm_msr vmx_first[] = { refused[1], refused[0] };
    t.refused = vmx_first;
    t.nrefused = 2;
    t.failed = VN_KVM_STEP_RUN;
    t.why = (char *)"KVM_RUN: Invalid argument";
    verdict(&t, false, false,
            "KVM reports feature MSRs 0x48b (IA32_VMX_*) = 0x1ff00000000, "
            "0x10a (IA32_ARCH_CAPABILITIES) = 0x400000000c000069, but "
            "its vCPU refuses them (KVM_SET_MSRS): QEMU aborts every guest "
            "with -cpu host here (\"failed to set MSR 0x48b\")",
            "update the kernel: a KVM that refuses what it reports is a "
            "kernel bug");
    verdict(&t, true, false,
            "KVM reports feature MSRs 0x48b (IA32_VMX_*) = 0x1ff00000000, "
            "0x10a (IA32_ARCH_CAPABILITIES) = 0x400000000c000069, but "
            "its vCPU refuses them (KVM_SET_MSRS): QEMU aborts every guest "
            "with -cpu host here (\"failed to set MSR 0x48b\")",
            "this host is a VM, and its hypervisor hands KVM a CPU feature "
            "KVM cannot pass on: give this VM another CPU model in the "
            "outer hypervisor, or update the outer hypervisor");
}
END_TEST

START_TEST(test_verdict_failed_step)
{
    struct vn_kvm_trial t = { .failed = VN_KVM_STEP_VM,
                              .why = (char *)"Device or resource busy" };
    verdict(&t, true, false, "KVM_CREATE_VM failed: Device or resource busy",
            "this host is a VM: turn nested virtualization on for it in the "
            "outer hypervisor, then see the kernel log (dmesg | grep -i kvm)");
    verdict(&t, false, false, "KVM_CREATE_VM failed: Device or resource busy",
            "see the kernel log (dmesg | grep -i kvm); check that "
            "VT-x/AMD-V is on in the firmware setup");
    t.failed = VN_KVM_STEP_RUN;
    t.why = (char *)"the vCPU stopped with exit reason 17 before hlt";
    verdict(&t, false, false, "KVM_RUN failed: the vCPU stopped with exit "
            "reason 17 before hlt",
            "see the kernel log (dmesg | grep -i kvm); check that "
            "VT-x/AMD-V is on in the firmware setup");
    t.failed = VN_KVM_STEP_CPUID;
    t.why = (char *)"Invalid argument";
    verdict(&t, true, false, "KVM_SET_CPUID2 failed: Invalid argument",
            "update the kernel");
}
END_TEST

/* The trial on the device at path. */
static void
trial_of(const char *path, struct vn_kvm_trial *t)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    ck_assert_msg(fd >= 0, "cannot open %s", path);
    vn_kvm_try(fd, t);
    close(fd);
}

/* Not a KVM device: the first ioctl says so, and nothing else is tried. */
START_TEST(test_trial_not_kvm)
{
    struct vn_kvm_trial t;
    trial_of("/dev/null", &t);
    ck_assert_int_eq(t.failed, VN_KVM_STEP_VERSION);
    ck_assert_str_eq(t.why, strerror(ENOTTY));
    ck_assert_uint_eq(t.nrefused, 0);
    vn_kvm_trial_clear(&t);
}
END_TEST

/* This machine's KVM, when it has one: a real /dev/kvm answers version
 * 12 and creates a VM; what the rest gives is host.sh's to compare with
 * QEMU.  Under ASan and valgrind this runs every ioctl path. */
START_TEST(test_trial_real)
{
    struct vn_kvm_trial t;
    trial_of("/dev/kvm", &t);
    ck_assert_msg(t.failed > VN_KVM_STEP_VM, "%s failed: %s",
                  vn_kvm_step_name(t.failed), t.why);
    for (size_t i = 0; i < t.nrefused; i++)
        ck_assert_uint_ne(t.refused[i].index, 0);
    ck_assert_uint_le(t.nrefused, t.nfeature_msrs);
    vn_kvm_trial_clear(&t);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("doctor-kvm");
    TCase *tc = tcase_create("kvm");
    tcase_add_test(tc, test_verdict_working);
    tcase_add_test(tc, test_verdict_refused_msr);
    tcase_add_test(tc, test_verdict_failed_step);
    tcase_add_test(tc, test_trial_not_kvm);
    struct stat st;
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISCHR(st.st_mode))
        tcase_add_test(tc, test_trial_real);
    else
        printf("no usable /dev/kvm device here: the trial on it is not "
               "run\n");
    if (fd >= 0)
        close(fd);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
