"""structlog set-up: console in development, JSON in production, context bound per call or request.

Personal data: callers' numbers are masked by the code that logs them (`domain.phone.mask`), and a
processor drops any key that should never reach a log (transcripts, full numbers) as a second line of
defence.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from callcenter.domain.phone import mask

# Keys that must never be logged in clear.
_MASKED_KEYS = frozenset({"caller", "caller_number", "callerid", "phone", "number"})
_DROPPED_KEYS = frozenset({"transcript", "text", "password"})


def _scrub(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in _MASKED_KEYS & event.keys():
        value = event[key]
        if isinstance(value, str) and value and not value.startswith("*"):
            event[key] = mask(value)
    for key in _DROPPED_KEYS & event.keys():
        event[key] = "[redacted]"
    return event


class _StderrLogger:
    """Writes to whatever sys.stderr is at the time of writing (not at configuration), so a replaced
    stream (a daemon's redirect, a test's capture) never leaves logging on a closed file."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


class _StderrLoggerFactory:
    def __call__(self, *args: Any) -> _StderrLogger:
        return _StderrLogger()


def configure_logging(fmt: str = "console", level: str = "info") -> None:
    renderer: structlog.typing.Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _scrub,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=_StderrLoggerFactory(),
        cache_logger_on_first_use=False,
    )
