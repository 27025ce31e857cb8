# perf: nested, plus placement for steady performance.
#
# Built into virt-nestify; a file of the same name in the profiles.d
# directory replaces it.  See docs/profiles.md for every key.

description = Nested, plus vCPUs pinned NUMA-local on whole cores, guest NUMA cell, strict memory binding, hugepages, an I/O thread, cache=none disks and multiqueue virtio-net

# The guest still gets to run its own VMs.
nested = on

# A Windows guest (libosinfo metadata, or <hyperv> already set) also gets
# the Hyper-V enlightenments nested Hyper-V needs (WSL2, VBS,
# Credential Guard): a Linux guest is not touched.
hyperv = on

# Dedicated host CPUs: no migration between cores and warm caches.
pinning = on

# Pack vCPUs onto SMT siblings so the guest takes whole cores and no
# other domain shares a core (and its caches) with it.
thread-policy = prefer

# Emulator and I/O threads on the first core of every host cell, so they
# do not steal time from the vCPUs.
housekeeping = auto

# A guest larger than one host cell is split evenly rather than refused.
split = on

# One guest NUMA cell per host cell used, memory bound strictly to it:
# no remote memory accesses.
numa = on

# Back guest memory with the largest hugepages the cell has free: fewer
# TLB misses, and memory that cannot be swapped.
hugepages = on

# I/O of the guest (docs/profiles.md, "I/O of the guest").
# One I/O thread for all virtio disks, pinned with the emulator to the
# housekeeping core: the disks leave QEMU's main loop and the vCPUs, and
# more threads on the same two CPUs would add no CPU to run them.
iothreads = shared

# Local files and block devices: cache='none' io='native' (O_DIRECT, no
# second copy in the host page cache, flushes reach the disk; works with
# every libvirt and QEMU).  Disks with a cache or io set keep theirs;
# network disks, CD-ROMs and read-only disks are left alone.
disk-cache = none-native

# vhost with one queue per vCPU (at most net-queues-max) on virtio
# interfaces: network traffic spread over the guest's vCPUs.
net-queues = on

# With hugepages the balloon cannot give memory back: model='none'.
balloon = none
