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
  - In check mode these run with C(--dry-run), so nothing is written, and
    C(changed) says whether something would be.
  - C(changed) is true only when a file was written, the module was
    reloaded or the reserved hugepages changed, so a second run reports
    no change.
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
  executable:
    description:
      - The virt-nestify program; found in C(PATH) when omitted.
    type: path
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
  description: What the tool says is left to do (its C(next:) lines -
    the initramfs rebuild, a reload or reboot, systemctl daemon-reload).
  returned: always
  type: list
  elements: str
output:
  description: The lines C(host --enable) and C(host --isolate) printed.
  returned: always
  type: list
  elements: str
'''

import json
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.virt_nestify.kvm.plugins.module_utils.virt_nestify import (
    EXIT_OK, EXIT_PENDING, fail, parse_json, run_tool)

# Lines of host --enable and --isolate that say something was or would
# be changed; "hugepages: ..." lines are judged against the doctor.
CHANGE_LINE = re.compile(r'^(wrote |would write |would run: |reloaded |loaded )')
HUGEPAGES_PLAN = re.compile(
    r'^would write (\d+) to /sys/kernel/mm/hugepages/hugepages-(\d+)kB/')


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


def reserved(doc):
    """Hugepage size in KiB -> pages reserved, from the doctor."""
    for check in doc.get('checks', []):
        if check.get('id') == 'hugepages':
            return dict((pg['size_kib'], pg['reserved'])
                        for pg in check.get('pages', []))
    return {}


def action(module, args, before, result):
    """Runs host --enable or --isolate (with --dry-run in check mode);
    adds its lines to the result and returns whether it changed (or
    would change) something."""
    if module.check_mode:
        args = args + ['--dry-run']
    rc, out, err = run_tool(module, args)
    if rc != EXIT_OK:
        fail(module, rc, out, err, **result)
    lines = out.splitlines()
    result['output'] += lines
    result['next_steps'] += [line[len('next: '):] for line in lines
                             if line.startswith('next: ')]
    changed = False
    for line in lines:
        plan = HUGEPAGES_PLAN.match(line)
        if plan:
            # The plan always names the hugepages write; it changes
            # something only when the count differs.
            count, size = int(plan.group(1)), int(plan.group(2))
            changed = changed or reserved(before).get(size) != count
        elif line.startswith('would write ') and '/node/node' in line:
            changed = True    # one node's count, which the doctor lacks
        elif CHANGE_LINE.match(line):
            changed = True
    return changed


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
            executable=dict(type='path'),
        ),
        required_by={'node': 'hugepages'},
        required_if=[('isolate', True, ('uri', 'taken'), True)],
        supports_check_mode=True,
    )
    p = module.params
    if not p['executable']:
        p['executable'] = module.get_bin_path('virt-nestify', required=True)
    for opt in ('reload', 'hugepages', 'persist'):
        if p[opt] and not p['enable']:
            module.fail_json(msg='%s needs enable' % opt)
    if p['host_caps'] and not p['isolate']:
        module.fail_json(msg='host_caps needs isolate')

    result = dict(changed=False, output=[], next_steps=[])
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
        result['changed'] |= action(module, args, before, result)
    if p['isolate']:
        args = ['host', '--isolate'] + root_args(p)
        if p['uri']:
            args += ['--connect', p['uri']]
        if p['taken']:
            args += ['--taken', p['taken']]
        if p['host_caps']:
            args += ['--host-caps', p['host_caps']]
        result['changed'] |= action(module, args, before, result)

    after = before
    if not module.check_mode and (result['changed'] or p['hugepages']):
        after = doctor(module)
        # A real run prints what the kernel granted, not whether that
        # differs: the doctor before and after says.
        result['changed'] |= reserved(after) != reserved(before)
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
