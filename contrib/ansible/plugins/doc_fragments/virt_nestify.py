# -*- coding: utf-8 -*-
# What every module of the collection shares in its documentation: the
# program it runs (module_utils/virt_nestify.py, TOOL_ARGUMENT_SPEC).

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  executable:
    description:
      - The virt-nestify program; found in C(PATH) when omitted.
    type: path
requirements:
  - virt-nestify installed on the managed host (the Debian package
    virt-nestify, or C(make install) from its source tree).
'''
