"""The tests' fake Asterisk 22 ARI: callcenter.asterisk.ari_emulator with every request and event it
serves checked against ARI's own API description (tests/fakes/ari_docs.py, from shared/asterisk/
ari-api-docs): a mismatch goes to `violations`, and `async with FakeAri(...)` fails on exit when there
is one; an event that does not fit its model fails at once."""

from __future__ import annotations

from typing import Any

from callcenter.asterisk.ari_emulator import (
    ARI_LEG_CONTEXT,
    ARI_LEG_STASIS_PRIORITY,
    ASTERISK_ID,
    CAUSE_TXT,
    REASON_CAUSE,
    Answer,
    AriEmulator,
    Busy,
    Congestion,
    FakeChannel,
    NoAnswer,
    Script,
    Unreachable,
    ViolationError,
    timestamp,
)
from tests.fakes.ari_docs import check_event, check_request

__all__ = [
    "ARI_LEG_CONTEXT",
    "ARI_LEG_STASIS_PRIORITY",
    "ASTERISK_ID",
    "CAUSE_TXT",
    "REASON_CAUSE",
    "Answer",
    "Busy",
    "Congestion",
    "FakeAri",
    "FakeChannel",
    "NoAnswer",
    "Script",
    "Unreachable",
    "ViolationError",
    "timestamp",
]


class FakeAri(AriEmulator):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, check_request=check_request, check_event=check_event, **kwargs)
