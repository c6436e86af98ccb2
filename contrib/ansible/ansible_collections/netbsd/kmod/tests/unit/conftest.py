# -*- coding: utf-8 -*-
# SPDX-License-Identifier: BSD-2-Clause
"""Lets plain pytest import ansible_collections.netbsd.kmod from this tree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

# tests/unit -> kmod -> netbsd -> ansible_collections -> the directory above it
_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', '..'))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
