"""A whole call through the real FastAGI handlers: route_call, then call_ended with these variables."""

from __future__ import annotations

from callcenter.app import App
from callcenter.asterisk import variables as v
from tests.fakes.memory_channel import MemoryChannel

MIX = "/var/spool/asterisk/monitor/hotline/hotline-1795380439.44.wav"

# What the hang-up handler finds on the channel for the usual endings (variable names from the captures).
ANSWERED_FIRST = {"HOTLINE_IDX": "1", "DIALSTATUS": "ANSWER", "ANSWEREDTIME_MS": "15000"}
ANSWERED_BACKUP = {
    "HOTLINE_IDX": "2",
    "HOTLINE_RESULT_1": "BUSY",
    "DIALSTATUS": "ANSWER",
    "ANSWEREDTIME_MS": "9000",
}
ALL_FAILED = {
    "HOTLINE_IDX": "4",
    "HOTLINE_RESULT_1": "NOANSWER",
    "HOTLINE_RESULT_2": "BUSY",
    "HOTLINE_RESULT_3": "NOANSWER",
    "HOTLINE_RESULT_4": "NOANSWER",
    "DIALSTATUS": "NOANSWER",
    "ANSWEREDTIME_MS": "",
}
ABANDONED = {"HOTLINE_IDX": "1", "DIALSTATUS": "CANCEL"}


async def place_call(app: App, dialled: str, ending: dict[str, str]) -> None:
    channel = MemoryChannel()
    channel.values["dnid"] = dialled
    await app.handlers[v.ROUTE_CALL](channel)
    channel.hang_up_for_call_ended()
    channel.variables.update(ending, MIXMONITOR_FILENAME=MIX)
    await app.handlers[v.CALL_ENDED](channel)
