# realtime: perf, plus realtime vCPUs, as OpenStack Nova's realtime
# flavors and KubeVirt's realtime VMs give them.
#
# Built into virt-nestify; a file of the same name in the profiles.d
# directory replaces it.  See docs/profiles.md for every key, and for
# what the guest and the host need besides (a realtime kernel,
# isolated CPUs on both sides).

description = Perf, plus vCPUs on a realtime scheduler but a housekeeping one, locked memory and a memory hard limit

# Everything perf gives: the guest can run its own VMs, vCPUs pinned
# NUMA-local on whole cores, the emulator on housekeeping CPUs no vCPU
# uses, strict memory binding and hugepages.  Realtime needs the pins: a
# realtime vCPU starves whatever shares its host CPU.
nested = on
hyperv = on
pinning = on
thread-policy = prefer
housekeeping = auto
split = on
numa = on
hugepages = on

# perf's I/O: one I/O thread on the housekeeping CPUs, so disk I/O stays
# off the realtime vCPUs; cache=none disks; multiqueue virtio-net; no
# balloon (locked hugepage memory cannot be given back).
iothreads = shared
disk-cache = none-native
net-queues = on
balloon = none

# vCPUs on the host's realtime scheduler (<vcpusched>), at the lowest
# realtime priority: above every ordinary host thread, below the
# kernel's own realtime threads (Nova and KubeVirt use fifo, priority 1).
realtime = on
realtime-scheduler = fifo
realtime-priority = 1

# Every vCPU but vCPU 0 is realtime: the guest kernel's own work (timers,
# RCU, interrupts it does not isolate) needs an ordinary vCPU, which a
# realtime vCPU busy-polling would otherwise starve (Nova's "^0").
realtime-mask = ^0

# Locked memory (<locked/>) must have a hard limit, or libvirt lets QEMU
# lock memory without bound; memtune's hard limit covers the guest plus
# QEMU's overhead.
memtune = on
memtune-overhead-min = 512
memtune-overhead-percent = 10
