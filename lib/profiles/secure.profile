# secure: nested, plus limits that keep one guest from starving the host.
#
# Built into virt-nestify; a file of the same name in the profiles.d
# directory replaces it.  See docs/profiles.md for every key.

description = Nested, plus memory and CPU limits and no disabled Spectre/MDS mitigations

# The guest still gets to run its own VMs.
nested = on

# A Windows guest (libosinfo metadata, or <hyperv> already set) also gets
# the Hyper-V enlightenments nested Hyper-V needs (WSL2, VBS,
# Credential Guard): a Linux guest is not touched.
hyperv = on

# A hard memory limit so a runaway guest cannot push the host into swap
# or the OOM killer; the overhead leaves room for QEMU itself.
memtune = on
memtune-overhead-min = 512
memtune-overhead-percent = 10

# CPU shares by size and a quota, so one guest cannot take more host CPU
# time than its vCPUs are worth.
cpu-limits = on
cpu-shares-per-vcpu = 100
cpu-period = 100000
cpu-quota-percent = 100

# Remove features that disable Spectre/MDS mitigations (spec-ctrl,
# md-clear, ...): turning them off exposes the guest and its nested VMs.
mitigations = on
