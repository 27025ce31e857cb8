# nested: let the guest run virtual machines of its own.
#
# Built into virt-nestify; a file of the same name in the profiles.d
# directory replaces it.  See docs/profiles.md for every key.

description = Host CPU passthrough with VMX/SVM required, so the guest can run its own VMs

# host-passthrough plus "require vmx" (Intel) or "svm" (AMD), chosen from
# the host's vendor: without the flag the guest has no hardware
# virtualization and its own VMs fall back to slow emulation.
nested = on

# A Windows guest (libosinfo metadata, or <hyperv> already set) also gets
# the Hyper-V enlightenments nested Hyper-V needs (WSL2, VBS,
# Credential Guard): a Linux guest is not touched.
hyperv = on
