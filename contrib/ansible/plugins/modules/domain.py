#!/usr/bin/python
# -*- coding: utf-8 -*-
# virt_nestify.kvm.domain: libvirt domains to virt-nestify profiles.

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: domain
short_description: Bring libvirt domains to virt-nestify profiles
description:
  - Runs the installed C(virt-nestify) on the managed host for one or
    more libvirt domains with C(--output json), and returns its report.
  - The run is always a bulk run (C(--state) is always given), so the
    result has the same shape for one domain or many, with each
    domain's backup.
  - In check mode the tool runs with C(--check), nothing is defined, and
    C(changed) says whether a run would change a domain.
  - In diff mode the tool first runs with C(--check) without JSON, and
    the unified diff it prints for each domain is the task's diff.
  - C(changed) is true only when a domain was defined, so a second run
    reports no change.
  - Every failure of the tool fails the task with its own one-line error
    and its exit status (docs/virt-nestify.1, EXIT STATUS). Exit status
    4 (some domain refused or failed) fails the task too, but its result
    still holds the report, since the other domains were converted.
version_added: 0.1.0
author:
  - virt-nestify developers
options:
  uri:
    description:
      - The libvirt URI (C(--connect)); libvirt's default when omitted.
    type: str
  domain:
    description:
      - The domains to change, by name, UUID or ID (C(--domain), once
        each).
      - One of I(domain), I(all) and I(match) is required.
    type: list
    elements: str
  all:
    description:
      - Every domain of the connection (C(--all)).
    type: bool
    default: false
  match:
    description:
      - Only the domains whose name matches this shell glob (C(--match)).
    type: str
  exclude:
    description:
      - Not the domains whose name matches one of these globs
        (C(--exclude), once each).
    type: list
    elements: str
    default: []
  state:
    description:
      - Only the running domains, the shut off ones, or any (C(--state)).
    type: str
    choices: [running, shutoff, any]
    default: any
  profile:
    description:
      - The profiles to compose, in order (C(--profile), joined with
        commas), for example C([perf, secure]).
    type: list
    elements: str
    required: true
  set:
    description:
      - Profile keys to override (C(--set KEY=VALUE), once each), as a
        dictionary or as a list of C(KEY=VALUE) strings.
    type: raw
  restart:
    description:
      - Restart the running domains that changed, so they run with the
        new definition (C(--restart)).
    type: bool
    default: false
  force:
    description:
      - With I(restart), power off a domain that ignores the shutdown for
        I(timeout) seconds (C(--force)).
    type: bool
    default: false
  timeout:
    description:
      - With I(restart), seconds to wait for each shutdown (C(--timeout)).
    type: int
  backup_dir:
    description:
      - Where the previous definitions are saved (C(--backup-dir)).
    type: path
  host_caps:
    description:
      - Plan against this capabilities XML instead of the host's own
        (C(--host-caps)).
    type: path
extends_documentation_fragment:
  - virt_nestify.kvm.virt_nestify
notes:
  - Supports check mode and diff mode.
  - The tool's JSON is described in docs/json.md of virt-nestify (the
    bulk document).
'''

EXAMPLES = r'''
- name: Every domain of the host nested-ready
  virt_nestify.kvm.domain:
    uri: qemu:///system
    all: true
    profile: [nested]

- name: The web servers fast and safe, restarted, with hugepages off
  virt_nestify.kvm.domain:
    match: 'web*'
    exclude: [web-template]
    profile: [perf, secure]
    set:
      hugepages: 'off'
    restart: true
    timeout: 300
    force: true
  register: nestify

- name: Where their previous definitions went
  ansible.builtin.debug:
    var: nestify.backups

- name: The host CPUs web1's vCPUs are pinned to
  ansible.builtin.debug:
    msg: "{{ nestify.pins.web1.vcpus }}"
'''

RETURN = r'''
report:
  description: The tool's JSON document (the bulk document of docs/json.md).
  returned: when the tool printed one
  type: dict
domains:
  description:
    - One entry per domain that ran, from the report - C(name),
      C(result) (C(unchanged), C(changed), C(pending), C(refused),
      C(failed)), C(changes), C(warnings), C(backup), C(error), the
      domain's C(report) with every change, and its C(pins) (see I(pins)).
  returned: when the tool printed a report
  type: list
  elements: dict
summary:
  description: How many domains ended with each result.
  returned: when the tool printed a report
  type: dict
  sample: {"unchanged": 1, "changed": 1, "pending": 0, "refused": 0, "failed": 0}
backups:
  description: Domain name to the file holding its previous definition,
    for each domain a backup was written for.
  returned: when the tool printed a report
  type: dict
  sample: {"web1": "/var/lib/virt-nestify/backups/e05f...-web1.xml"}
pins:
  description:
    - Domain name to what it holds once the run is done, from the tool's
      plan - C(vcpus), C(emulator) and C(iothreads) (host CPUs in
      libvirt's cpuset syntax, C("") when it pins none) and C(hugepages)
      (a list of C(cell), C(size_kib), C(pages)).
    - For C(changed), C(pending) and C(unchanged) domains; a refused or
      failed domain has none (it is left out).
    - In check mode, the pins the plan would give.
  returned: when the tool printed a report
  type: dict
  sample: {"web1": {"vcpus": "1-2", "emulator": "0", "iothreads": "",
           "hugepages": []}}
pending:
  description: The domains with a change waiting (check mode).
  returned: when the tool printed a report
  type: list
  elements: str
rc:
  description: The tool's exit status.
  returned: always
  type: int
stderr_lines:
  description: What the tool said on standard error (what it defined,
    restarted, or why it failed).
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six import string_types
from ansible.module_utils.common.text.converters import to_text
from ansible_collections.virt_nestify.kvm.plugins.module_utils.virt_nestify import (
    TOOL_ARGUMENT_SPEC, EXIT_OK, EXIT_PENDING, EXIT_PARTIAL, fail, parse_json,
    run_tool)


def set_args(module, value):
    """--set KEY=VALUE for each item of a dict or a list of strings."""
    if value is None:
        return []
    if isinstance(value, dict):
        pairs = ['%s=%s' % (k, v) for k, v in value.items()]
    elif isinstance(value, list):
        pairs = [to_text(v) for v in value]
    elif isinstance(value, string_types):
        pairs = [value]
    else:
        module.fail_json(msg='set must be a dictionary or a list of '
                         'KEY=VALUE strings')
    args = []
    for pair in pairs:
        if '=' not in pair:
            module.fail_json(msg="set: '%s' is not KEY=VALUE" % pair)
        args += ['--set', pair]
    return args


def common_args(module):
    """The selection and the plan: what the check, the diff and the
    real run share."""
    p = module.params
    args = []
    if p['uri']:
        args += ['--connect', p['uri']]
    for name in p['domain'] or []:
        args += ['--domain', name]
    if p['all']:
        args.append('--all')
    if p['match']:
        args += ['--match', p['match']]
    for glob in p['exclude']:
        args += ['--exclude', glob]
    # Always given: it makes every run a bulk run, whose document has the
    # backups, also for a single --domain.
    args += ['--state', p['state']]
    args += ['--profile', ','.join(p['profile'])]
    args += set_args(module, p['set'])
    if p['host_caps']:
        args += ['--host-caps', p['host_caps']]
    return args


def unified_diff(text):
    """The unified diffs of the tool's text output: each from its
    '--- ' and '+++ ' header to its last hunk line."""
    out = []
    inside = False
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if (line.startswith('--- ') and i + 1 < len(lines)
                and lines[i + 1].startswith('+++ ')):
            inside = True
        elif inside and not line[:1] in (' ', '+', '-', '@', '\\'):
            inside = False
        if inside:
            out.append(line)
    return '\n'.join(out) + '\n' if out else ''


def main():
    module = AnsibleModule(
        argument_spec=dict(
            uri=dict(type='str'),
            domain=dict(type='list', elements='str'),
            all=dict(type='bool', default=False),
            match=dict(type='str'),
            exclude=dict(type='list', elements='str', default=[]),
            state=dict(type='str', default='any',
                       choices=['running', 'shutoff', 'any']),
            profile=dict(type='list', elements='str', required=True),
            set=dict(type='raw'),
            restart=dict(type='bool', default=False),
            force=dict(type='bool', default=False),
            timeout=dict(type='int'),
            backup_dir=dict(type='path'),
            host_caps=dict(type='path'),
            **TOOL_ARGUMENT_SPEC
        ),
        required_one_of=[['domain', 'all', 'match']],
        mutually_exclusive=[['domain', 'all']],
        required_by={'force': 'restart', 'timeout': 'restart'},
        supports_check_mode=True,
    )
    p = module.params
    if p['force'] and not p['restart']:
        module.fail_json(msg='force needs restart')

    args = common_args(module)
    result = dict(changed=False)

    if module._diff:
        # The text output of a --check run holds each domain's unified
        # diff; it changes nothing, so it also runs before a real run.
        rc, out, err = run_tool(module, args + ['--check', '--color',
                                                'never'])
        if rc not in (EXIT_OK, EXIT_PENDING):
            fail(module, rc, out, err, **result)
        result['diff'] = dict(prepared=unified_diff(out))

    if module.check_mode:
        args.append('--check')
    else:
        if p['backup_dir']:
            args += ['--backup-dir', p['backup_dir']]
        if p['restart']:
            args.append('--restart')
        if p['force']:
            args.append('--force')
        if p['timeout'] is not None:
            args += ['--timeout', str(p['timeout'])]
    rc, out, err = run_tool(module, args + ['--output', 'json'])
    result['rc'] = rc
    result['stderr_lines'] = err.splitlines()

    ok = (EXIT_OK, EXIT_PENDING) if module.check_mode else (EXIT_OK,)
    if rc not in ok and rc != EXIT_PARTIAL:
        fail(module, rc, out, err, **result)
    report = parse_json(module, rc, out, err)
    domains = report.get('domains', [])
    result.update(
        report=report,
        domains=domains,
        summary=report.get('summary', {}),
        backups=dict((d['name'], d['backup']) for d in domains
                     if d.get('backup')),
        pins=dict((d['name'], d['pins']) for d in domains
                  if d.get('pins') is not None),
        pending=[d['name'] for d in domains if d.get('result') == 'pending'],
    )
    if module.check_mode:
        result['changed'] = bool(result['pending'])
    else:
        result['changed'] = any(d.get('result') == 'changed'
                                for d in domains)
    if rc == EXIT_PARTIAL:
        # Failed, with the report: the other domains were handled.
        fail(module, rc, out, err, **result)
    # Explicit: Ansible takes a result with a non-zero rc and no
    # 'failed' for a failure, and --check's 1 is a success here.
    module.exit_json(failed=False, **result)


if __name__ == '__main__':
    main()
