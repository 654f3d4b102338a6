"""An in-memory AgiChannel for the handler and service tests (the TCP-level fake is the emulator).

It keeps the semantics the captures show: variable commands work on a dead channel, channel commands
raise ChannelHungUp once the caller has gone, GET VARIABLE of an unset variable is None.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from callcenter.asterisk.channel import AgiHeader, ChannelHungUp, DigitsResult

ROUTE_HEADER = {
    # Scenario 1 of ../shared/asterisk/scenarios, route_call session.
    "network": "yes",
    "network_script": "route_call",
    "request": "agi://127.0.0.1:4573/route_call",
    "channel": "PJSIP/sipp-0000001c",
    "language": "en",
    "type": "PJSIP",
    "uniqueid": "1795380439.44",
    "version": "22.10.1",
    "callerid": "0912345678",
    "calleridname": "Nguyen Van A",
    "dnid": "19009095",
    "rdnis": "unknown",
    "context": "hotline-in",
    "extension": "19009095",
    "priority": "4",
}


@dataclass
class MemoryChannel:
    values: dict[str, str] = field(default_factory=lambda: dict(ROUTE_HEADER))
    digits: deque[DigitsResult | None] = field(default_factory=deque)  # None: caller hangs up here
    variables: dict[str, str] = field(default_factory=dict)
    dead: bool = False
    commands: list[str] = field(default_factory=list)

    @property
    def header(self) -> AgiHeader:
        return AgiHeader(dict(self.values))

    @property
    def hung_up(self) -> bool:
        return self.dead

    def _live(self, command: str) -> None:
        self.commands.append(command)
        if self.dead:
            raise ChannelHungUp(command)

    async def answer(self) -> None:
        self._live("ANSWER")

    async def stream_file(self, name: str, escape_digits: str = "") -> None:
        self._live(f"STREAM FILE {name}")

    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> DigitsResult:
        self._live(f"GET DATA {prompt}")
        planned = self.digits.popleft() if self.digits else DigitsResult("", True)
        if planned is None:
            self.dead = True
            raise ChannelHungUp("GET DATA")
        return planned

    async def set_variable(self, name: str, value: str) -> None:
        self.commands.append(f"SET VARIABLE {name}")
        self.variables[name] = value

    async def get_variable(self, name: str) -> str | None:
        self.commands.append(f"GET VARIABLE {name}")
        return self.variables.get(name)

    async def get_full_variable(self, expression: str) -> str | None:
        self.commands.append(f"GET FULL VARIABLE {expression}")
        if expression.startswith("${") and expression.endswith("}"):
            return self.variables.get(expression[2:-1])
        return None

    async def verbose(self, message: str, level: int = 1) -> None:
        self.commands.append("VERBOSE")

    def hang_up_for_call_ended(self) -> None:
        """The hangup handler runs on the dead channel with the same variables."""
        self.dead = True
        self.values.update(network_script="call_ended", context="hotline-hangup", extension="s", priority="2")
