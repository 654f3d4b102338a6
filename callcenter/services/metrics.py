"""What the service counts for monitoring, as a port: the use-cases and the FastAGI server report here,
and the web adapter exposes it in Prometheus' format (`web/metrics.py`).

Labels are codes and outcomes only (a facility's code, a call's state, an entry point, a route name),
never a phone number or a person's name.
"""

from __future__ import annotations

from typing import Protocol


class Metrics(Protocol):
    def call_received(self, facility: str | None) -> None: ...
    def call_ended(self, facility: str | None, state: str) -> None: ...
    def route_decided(self, step: str, seconds: float) -> None:
        """Time our service took to route (step "receive": the call, its ticket and, for a facility's
        own number, its chain; "route": the chain after a keypad code), database commit included."""
        ...

    def agi_session(self, script: str, delta: int) -> None:
        """+1 when a FastAGI session starts, -1 when it ends."""
        ...

    def agi_session_done(self, script: str, seconds: float) -> None: ...
    def agi_failure(self, reason: str) -> None: ...
    def transcription_job(self, outcome: str, seconds: float) -> None: ...


class NoMetrics:
    """Counts nothing (tests, the command line)."""

    def call_received(self, facility: str | None) -> None:
        pass

    def call_ended(self, facility: str | None, state: str) -> None:
        pass

    def route_decided(self, step: str, seconds: float) -> None:
        pass

    def agi_session(self, script: str, delta: int) -> None:
        pass

    def agi_session_done(self, script: str, seconds: float) -> None:
        pass

    def agi_failure(self, reason: str) -> None:
        pass

    def transcription_job(self, outcome: str, seconds: float) -> None:
        pass


NO_METRICS = NoMetrics()
