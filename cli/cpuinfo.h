/*
 * cpuinfo.h: what /proc/cpuinfo says about hardware virtualization, the
 * one reading of it for the host doctor, host --enable and verify's
 * look inside the guest
 */
#ifndef NESTIFY_CPUINFO_H
#define NESTIFY_CPUINFO_H

#include <stdbool.h>
#include <stddef.h>

enum vn_cpu_vendor { VN_CPU_UNKNOWN, VN_CPU_INTEL, VN_CPU_AMD, VN_CPU_LAST };

struct vn_cpuinfo {
    unsigned int cpus;           /* "flags" lines, one per processor */
    unsigned int vmx;            /* of them, with vmx */
    unsigned int svm;            /* of them, with svm */
    bool ept, npt;               /* the first processor's (ept also from
                                    Linux 5.9's "vmx flags" line) */
    bool hypervisor;             /* the machine is itself a guest */
    enum vn_cpu_vendor vendor;   /* from vmx/svm, else vendor_id */
};

/* Reads an x86 /proc/cpuinfo text.  Never fails: a text without any
 * flags line has cpus 0 and vendor VN_CPU_UNKNOWN (unless vendor_id
 * says). */
void vn_cpuinfo_parse(const char *text, size_t len, struct vn_cpuinfo *out);

#endif /* NESTIFY_CPUINFO_H */
