"""A call end as plain JSON for the journal, and back. Versioned so an old spool still replays.

Fields added later (`ring_ms`, `rating`, `rating_status`, `talk_ms`) are optional on reading: an entry
spooled by an older version decodes with their defaults, so the version number stays 1.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from callcenter.domain.call import AttemptResult, CallEndReport
from callcenter.domain.satisfaction import RatingStatus, check_rating

if TYPE_CHECKING:
    from callcenter.services.calls import IncomingCall, RecordingNames

VERSION = 1


def dump_end(
    incoming: IncomingCall, report: CallEndReport, recordings: RecordingNames, now: datetime
) -> dict[str, Any]:
    return {
        "v": VERSION,
        "at": now.isoformat(),
        "incoming": {
            "uniqueid": incoming.uniqueid,
            "channel": incoming.channel,
            "caller_number": incoming.caller_number,
            "caller_name": incoming.caller_name,
            "dialled_number": incoming.dialled_number,
            "call_id": incoming.call_id,
        },
        "report": {
            "routed": report.routed,
            "current_index": report.current_index,
            "results": {str(k): r.value for k, r in report.results.items()},
            "last_status": report.last_status.value if report.last_status else None,
            "answered_ms": report.answered_ms,
            "hangup_cause": report.hangup_cause,
            "voicemail_file": report.voicemail_file,
            "voicemail_recorded": report.voicemail_recorded,
            "duration_s": report.duration_s,
            "ring_ms": {str(k): ms for k, ms in report.ring_ms.items()},
            "rating": report.rating,
            "talk_ms": report.talk_ms,
            "rating_status": report.rating_status.value if report.rating_status else None,
        },
        "recordings": {"mix": recordings.mix, "voicemail": recordings.voicemail},
    }


def load_end(data: dict[str, Any]) -> tuple[IncomingCall, CallEndReport, RecordingNames, datetime]:
    from callcenter.services.calls import IncomingCall, RecordingNames

    if data.get("v") != VERSION:
        raise ValueError(f"unknown journal version {data.get('v')!r}")
    at = datetime.fromisoformat(data["at"])
    if at.tzinfo is None:
        raise ValueError("journal time without a zone")
    i, r, rec = data["incoming"], data["report"], data["recordings"]
    incoming = IncomingCall(
        uniqueid=str(i["uniqueid"]),
        channel=str(i["channel"]),
        caller_number=str(i["caller_number"]),
        caller_name=str(i["caller_name"]),
        dialled_number=str(i["dialled_number"]),
        call_id=i.get("call_id"),
    )
    report = CallEndReport(
        routed=bool(r["routed"]),
        current_index=r["current_index"],
        results={int(k): AttemptResult(v) for k, v in r["results"].items()},
        last_status=AttemptResult(r["last_status"]) if r["last_status"] else None,
        answered_ms=r["answered_ms"],
        hangup_cause=r["hangup_cause"],
        voicemail_file=r["voicemail_file"],
        voicemail_recorded=bool(r["voicemail_recorded"]),
        duration_s=r["duration_s"],
        ring_ms={int(k): int(ms) for k, ms in (r.get("ring_ms") or {}).items()},
        rating=r.get("rating"),
        talk_ms=r.get("talk_ms"),
        rating_status=RatingStatus(r["rating_status"]) if r.get("rating_status") else None,
    )
    if report.rating_status is not None:
        check_rating(report.rating, report.rating_status)
    return incoming, report, RecordingNames(mix=rec["mix"], voicemail=rec["voicemail"]), at
