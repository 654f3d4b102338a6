"""How a call's recordings are named: one base name per call, one suffix per kind of file.

MixMonitor writes `<base>.wav` (the mix), `<base>-rx.wav` (r(): what the caller said) and
`<base>-tx.wav` (t(): what the caller heard, the officer); Record() writes `<base>-voicemail.wav`.
The dialplan (dialplan/extensions_hotline.conf) uses the same suffixes.
"""

from __future__ import annotations

import re

SUFFIXES: dict[str, str] = {"mix": "", "caller": "-rx", "officer": "-tx", "voicemail": "-voicemail"}
MIXMONITOR_KINDS: tuple[str, ...] = ("mix", "caller", "officer")

_UNSAFE = re.compile(r"[^0-9A-Za-z._-]")


def recording_name(uniqueid: str) -> str:
    """Base name of a call's recordings; built from Asterisk's uniqueid, never from free text."""
    return "hotline-" + _UNSAFE.sub("_", uniqueid)[:64]


def file_name(base: str, kind: str) -> str:
    return f"{base}{SUFFIXES[kind]}.wav"


def base_of(file: str) -> str:
    """ "hotline-1795380439.44-rx.wav" -> "hotline-1795380439.44"."""
    stem = file.removesuffix(".wav")
    for suffix in SUFFIXES.values():
        if suffix:
            stem = stem.removesuffix(suffix)
    return stem
