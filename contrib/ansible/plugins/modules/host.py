#!/usr/bin/python
# -*- coding: utf-8 -*-
# virt_nestify.kvm.host: the host doctor as facts, host --enable and
# host --isolate.

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: host
short_description: Check and prepare a KVM host for nested virtualization
description:
  - Runs the installed C(virt-nestify host) on the managed host.
  - Always runs the host doctor (C(virt-nestify host --output json)) and
    returns its checks as the fact C(virt_nestify_host) and as I(host).
    A failed check does not fail the task; read the facts.
  - With I(enable), first runs C(host --enable) (nested virtualization
    on in modprobe.d, hugepages with I(hugepages)); with I(isolate),
    C(host --isolate) (the host's own work off the CPUs guests pin).
    The doctor then runs after them.
  - Both run with C(--output json); their documents (docs/json.md, the
    host enable/isolate document) are returned as I(enable) and
    I(isolate), and C(changed) is theirs.
  - In check mode these run with C(--dry-run), so nothing is written, and
    C(changed) says whether something would be.
  - C(changed) is true only when a file was written, a command ran (the
    module reloaded) or the reserved hugepages changed, so a second run
    reports no change.
  - Every failure of the tool fails the task with its own one-line error
    and its exit status.
version_added: 0.1.0
author:
  - virt-nestify developers
options:
  root:
    description:
      - Read C(/proc), C(/sys), C(/dev) and C(/etc) under this directory
        instead of C(/), and write there (C(--root)); for images, chroots
        and tests.
    type: path
  uri:
    description:
      - A libvirt URI (C(--connect)) - the doctor adds its
        C(libvirt-passthrough) check, and the isolation (check and
        I(isolate)) takes the CPUs its domains pin.
    type: str
  taken:
    description:
      - CPUs guests own, in libvirt's cpuset syntax (C(--taken)), for the
        isolation check and I(isolate).
    type: str
  enable:
    description:
      - Turn nested virtualization on (C(host --enable)).
    type: bool
    default: false
  reload:
    description:
      - With I(enable), reload the kvm module now (C(--reload)); refused
        by the tool while a QEMU runs. Without it a reload or reboot is
        left to do (I(next_steps) says so).
    type: bool
    default: false
  hugepages:
    description:
      - With I(enable), reserve this many hugepages, C(N[,SIZE])
        (C(--hugepages)).
    type: str
  node:
    description:
      - With I(hugepages), on this NUMA node only (C(--node)).
    type: int
  persist:
    description:
      - With I(hugepages), also keep them across reboots (C(--persist)).
    type: bool
    default: false
  isolate:
    description:
      - Keep the host's processes and interrupts off the CPUs guests pin
        (C(host --isolate)); needs I(uri) or I(taken).
    type: bool
    default: false
  host_caps:
    description:
      - With I(isolate), the host's CPUs from this capabilities XML
        (C(--host-caps)).
    type: path
extends_documentation_fragment:
  - virt_nestify.kvm.virt_nestify
notes:
  - Supports check mode.
  - The facts are the host document of docs/json.md.
'''

EXAMPLES = r'''
- name: Read the host's readiness
  virt_nestify.kvm.host:

- name: Fail early on a host without hardware virtualization
  ansible.builtin.assert:
    that: >-
      ansible_facts.virt_nestify_host.checks
      | selectattr('id', 'equalto', 'cpu-virt')
      | map(attribute='status') | first == 'pass'

- name: Nested on, 1024 hugepages kept across reboots
  virt_nestify.kvm.host:
    enable: true
    hugepages: '1024'
    persist: true
  register: host_enable

- name: The host's own work off the CPUs the domains pin
  virt_nestify.kvm.host:
    isolate: true
    uri: qemu:///system
'''

RETURN = r'''
host:
  description: The doctor's document (docs/json.md, the host document) -
    C(vendor), C(result) (C(pass), C(warn) or C(fail)), C(checks) (each
    with C(id), C(status), C(title), C(detail), C(fix)) and C(counts).
  returned: always
  type: dict
ansible_facts:
  description: The same document as C(virt_nestify_host).
  returned: always
  type: dict
  contains:
    virt_nestify_host:
      description: The doctor's document.
      type: dict
failed_checks:
  description: The ids of the checks that failed.
  returned: always
  type: list
  elements: str
nested:
  description: The status of the doctor's C(nested) check (is nested on in
    the running module) - C(fail) after I(enable) without I(reload) means
    a reload or a reboot is still to do.
  returned: always
  type: str
next_steps:
  description: What the tool says is left to do (the C(next) of the
    I(enable) and I(isolate) documents - the initramfs rebuild, a reload
    or reboot, systemctl daemon-reload).
  returned: always
  type: list
  elements: str
kernel_cmdline:
  description: The words the tool advises adding to the kernel command
    line (hugepages of a size or node sysctl cannot keep, the isolation's
    isolcpus, nohz_full, rcu_nocbs), one string per action that has
    advice.
  returned: always
  type: list
  elements: str
enable:
  description:
    - What C(host --enable) did (in check mode, would do) - the host
      enable/isolate document of docs/json.md.
    - C(changed); C(files), each with C(path), C(what) (C(written),
      C(unchanged), C(would-write)) and C(backup) (where the replaced
      content went, or null); C(commands), each with C(argv) and
      C(status) (its exit status, null when not run); C(module) (C(name),
      C(action), C(nested)); C(hugepages) (C(size_kib), C(node),
      C(asked), C(before), C(after)); C(kernel_cmdline); C(next).
  returned: with I(enable)
  type: dict
  sample: {"action": "enable", "dry_run": false, "changed": true,
           "files": [{"path": "/etc/modprobe.d/virt-nestify-kvm.conf",
                      "what": "written", "backup": null}],
           "commands": []}
isolate:
  description:
    - What C(host --isolate) did (in check mode, would do), the same
      document - C(changed), C(files), C(commands), C(cpus) (C(host),
      C(guests), C(housekeeping)), C(kernel_cmdline), C(next).
  returned: with I(isolate)
  type: dict
'''

import json

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.virt_nestify.kvm.plugins.module_utils.virt_nestify import (
    TOOL_ARGUMENT_SPEC, EXIT_OK, EXIT_PENDING, fail, parse_json, run_tool)


def root_args(p):
    return ['--root', p['root']] if p['root'] else []


def doctor(module):
    """The doctor's document; exit 1 (a check failed) is a result, not
    a failure of the task."""
    p = module.params
    args = ['host', '--output', 'json'] + root_args(p)
    if p['uri']:
        args += ['--connect', p['uri']]
    if p['taken']:
        args += ['--taken', p['taken']]
    rc, out, err = run_tool(module, args)
    if rc not in (EXIT_OK, EXIT_PENDING):
        # 3: the libvirt check could not talk to libvirt; the document
        # is still printed, and returned with the failure.
        try:
            facts = dict(virt_nestify_host=json.loads(out))
        except ValueError:
            facts = {}
        fail(module, rc, out, err, ansible_facts=facts)
    return parse_json(module, rc, out, err)


def action(module, name, args, result):
    """Runs host --enable or --isolate (name) with --output json (and
    --dry-run in check mode); keeps its document as result[name] and
    takes its "changed".  A failure after the run began still has a
    document saying what was done: it goes with the failure."""
    args = args + ['--output', 'json']
    if module.check_mode:
        args.append('--dry-run')
    rc, out, err = run_tool(module, args)
    try:
        doc = json.loads(out) if out.strip() else None
    except ValueError:
        doc = None
    if doc is not None:
        result[name] = doc
        result['changed'] = result['changed'] or bool(doc.get('changed'))
        result['next_steps'] += doc.get('next', [])
        if doc.get('kernel_cmdline'):
            result['kernel_cmdline'].append(doc['kernel_cmdline'])
    if rc != EXIT_OK:
        fail(module, rc, out, err, **result)
    if doc is None:
        parse_json(module, rc, out, err)    # fails, saying why


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type='path'),
            uri=dict(type='str'),
            taken=dict(type='str'),
            enable=dict(type='bool', default=False),
            reload=dict(type='bool', default=False),
            hugepages=dict(type='str'),
            node=dict(type='int'),
            persist=dict(type='bool', default=False),
            isolate=dict(type='bool', default=False),
            host_caps=dict(type='path'),
            **TOOL_ARGUMENT_SPEC
        ),
        required_by={'node': 'hugepages'},
        required_if=[('isolate', True, ('uri', 'taken'), True)],
        supports_check_mode=True,
    )
    p = module.params
    for opt in ('reload', 'hugepages', 'persist'):
        if p[opt] and not p['enable']:
            module.fail_json(msg='%s needs enable' % opt)
    if p['host_caps'] and not p['isolate']:
        module.fail_json(msg='host_caps needs isolate')

    result = dict(changed=False, next_steps=[], kernel_cmdline=[])
    before = doctor(module)
    if p['enable']:
        args = ['host', '--enable'] + root_args(p)
        if p['reload']:
            args.append('--reload')
        if p['hugepages']:
            args += ['--hugepages', p['hugepages']]
        if p['node'] is not None:
            args += ['--node', str(p['node'])]
        if p['persist']:
            args.append('--persist')
        action(module, 'enable', args, result)
    if p['isolate']:
        args = ['host', '--isolate'] + root_args(p)
        if p['uri']:
            args += ['--connect', p['uri']]
        if p['taken']:
            args += ['--taken', p['taken']]
        if p['host_caps']:
            args += ['--host-caps', p['host_caps']]
        action(module, 'isolate', args, result)

    # The facts are the host as the run left it.
    after = doctor(module) if result['changed'] and not module.check_mode \
        else before
    result.update(
        host=after,
        ansible_facts=dict(virt_nestify_host=after),
        failed_checks=[c['id'] for c in after.get('checks', [])
                       if c.get('status') == 'fail'],
        nested=next((c.get('status') for c in after.get('checks', [])
                     if c.get('id') == 'nested'), None),
    )
    module.exit_json(**result)


if __name__ == '__main__':
    main()
