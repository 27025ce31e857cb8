# -*- coding: utf-8 -*-
# Running virt-nestify for the collection's modules: the one place that
# builds the command, turns the tool's exit status and stderr into
# fail_json, and reads its JSON document.

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

# The tool's exit statuses (docs/virt-nestify.1, EXIT STATUS).
EXIT_OK = 0
EXIT_PENDING = 1    # --check: a change is pending; host: a check failed
EXIT_BAD_INPUT = 2
EXIT_SYSTEM = 3
EXIT_PARTIAL = 4    # a bulk run finished, some domain refused or failed

ERROR_PREFIX = 'virt-nestify: error: '

# The option every module has (doc_fragments/virt_nestify.py documents
# it): the program, found in PATH when not given.
TOOL_ARGUMENT_SPEC = dict(executable=dict(type='path'))


def tool_error(stderr, rc):
    """The tool's own one-line error: its last 'virt-nestify: error:'
    line (without that prefix), else the last line of stderr, else a
    line saying only the exit status (a tool that died without a word,
    or a missing program)."""
    lines = [line for line in (stderr or '').splitlines() if line.strip()]
    errors = [line[len(ERROR_PREFIX):] for line in lines
              if line.startswith(ERROR_PREFIX)]
    if errors:
        return errors[-1]
    if lines:
        return lines[-1]
    return 'virt-nestify exited with status %d and said nothing' % rc


def run_tool(module, args):
    """Runs the tool (module.params['executable'], else virt-nestify
    from PATH) with args, never through a shell.  Returns (rc, stdout,
    stderr)."""
    program = (module.params['executable'] or
               module.get_bin_path('virt-nestify', required=True))
    argv = [program] + list(args)
    # LC_ALL=C: the error lines passed on as msg are the tool's own
    # English ones whatever the managed host's locale (the modules read
    # only its JSON documents).
    return module.run_command(argv, environ_update={'LC_ALL': 'C'})


def fail(module, status, stdout, stderr, **extra):
    """fail_json with the tool's one-line error, its exit status (rc)
    and what it printed; extra (the result so far) may hold rc too."""
    extra.update(msg=tool_error(stderr, status), rc=status, stdout=stdout,
                 stderr=stderr)
    module.fail_json(**extra)


def parse_json(module, rc, stdout, stderr):
    """The JSON document the tool printed; a failure when there is
    none (the run stopped before printing: its error says why)."""
    try:
        return json.loads(stdout)
    except ValueError:
        fail(module, rc, stdout, stderr)
