"""What an AGI entry point may ask of the channel it runs on.

Two implementations: the FastAGI session (`session.AgiSession`, asyncio, over TCP) and the classic
one-process-per-call script (`agi/` over pyst2). Handlers are written against this Protocol only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class AgiError(Exception):
    """The channel or the connection answered something a handler cannot go on with."""


class ChannelHungUp(AgiError):
    """The caller is gone: a command returned -1, or 511 (dead channel)."""


class AgiCommandError(AgiError):
    """Asterisk refused the command (510 unknown command, 520 usage)."""


@dataclass(frozen=True)
class AgiHeader:
    """The `agi_*` variables Asterisk sends first, keys without the `agi_` prefix."""

    values: dict[str, str]
    args: tuple[str, ...] = field(default=())

    def get(self, key: str, default: str = "") -> str:
        return self.values.get(key, default)

    @property
    def script(self) -> str:
        """Entry-point name: the path of `agi_network_script` without its query string."""
        raw = self.values.get("network_script", "")
        return raw.split("?", 1)[0].strip("/")

    @property
    def uniqueid(self) -> str:
        return self.values.get("uniqueid", "")

    @property
    def callerid(self) -> str:
        return self.values.get("callerid", "")

    @property
    def calleridname(self) -> str:
        return self.values.get("calleridname", "")

    @property
    def dnid(self) -> str:
        return self.values.get("dnid", "")

    @property
    def extension(self) -> str:
        return self.values.get("extension", "")

    @property
    def channel(self) -> str:
        return self.values.get("channel", "")


@dataclass(frozen=True)
class DigitsResult:
    """What GET DATA returned: the digits, and whether it ended on its timeout."""

    digits: str
    timed_out: bool


class AgiChannel(Protocol):
    """The AGI commands our entry points use. Every call may raise `AgiError`.

    Commands that need a live channel raise `ChannelHungUp` once the caller is gone
    (`200 result=-1` or `511`). Variable commands keep working on a dead channel.
    """

    @property
    def header(self) -> AgiHeader: ...

    @property
    def hung_up(self) -> bool:
        """True once Asterisk said HANGUP or a command showed the channel is dead."""
        ...

    async def answer(self) -> None: ...

    async def stream_file(self, name: str, escape_digits: str = "") -> None: ...

    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> DigitsResult: ...

    async def set_variable(self, name: str, value: str) -> None: ...

    async def get_variable(self, name: str) -> str | None:
        """The value (possibly ""), or None when the variable is not set (`200 result=0`)."""
        ...

    async def get_full_variable(self, expression: str) -> str | None: ...

    async def verbose(self, message: str, level: int = 1) -> None: ...
