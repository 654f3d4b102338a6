#!/usr/bin/env python3
"""Classic AGI entry point: `AGI(/opt/callcenter/agi/rate_call.py)` (see agi/README.md)."""

from callcenter.app import run_classic_agi

raise SystemExit(run_classic_agi("rate_call"))
