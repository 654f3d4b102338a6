#!/usr/bin/env python3
"""Classic AGI entry point: `AGI(/opt/callcenter/agi/call_ended.py)` (see agi/README.md)."""

from callcenter.app import run_classic_agi

raise SystemExit(run_classic_agi("call_ended"))
