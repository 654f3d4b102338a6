"""The test calls' series of a hotline ("Cuộc gọi kiểm tra") in the API and on the pages."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from callcenter.domain.outbound import Outcome
from callcenter.domain.probe_health import (
    PROBE_FAIL_LABELS_VI,
    PROBE_FLAG_VI,
    SERIES_LABEL_VI,
    ProbeBucket,
    ProbeSeries,
)


class ProbeBucketOut(BaseModel):
    counted: int
    human: int
    rate: float | None = Field(description="human / counted, 0..1; null without counted probes")


class ProbeSeriesOut(BaseModel):
    label: str = Field(default=SERIES_LABEL_VI, description="never mixed with citizens' calls")
    placed: int = Field(description="test calls placed in the period")
    running: int = Field(description="still ringing or waiting for the key")
    counted: int = Field(description="placed, done, and not failed/unknown (ours): the rate's base")
    human: int = Field(description="answered and 1 pressed")
    no_key: int = Field(description="answered without the key (a voicemail?)")
    busy: int
    no_answer: int
    unreachable: int
    failed: int = Field(description="ours: Asterisk refused or ARI was away; not the hotline's failure")
    unknown: int = Field(description="ours: the service lost the call; not the hotline's failure")
    human_rate: float | None = Field(description="human / counted, 0..1")
    mean_ring_to_human_s: float | None
    last_human_at: datetime | None
    day: ProbeBucketOut = Field(description="placed 07:00-19:00 local")
    night: ProbeBucketOut
    workday: ProbeBucketOut
    off_day: ProbeBucketOut = Field(description="weekend or public holiday")
    off_hours_unanswered: int
    failing: bool
    flag_vi: str | None = Field(description="'Không có người nghe khi kiểm tra' when failing")
    reasons: list[str] = Field(description="probe_off_hours, probe_no_human, probe_low_rate")
    reasons_vi: list[str]


def _bucket(b: ProbeBucket) -> ProbeBucketOut:
    return ProbeBucketOut(counted=b.counted, human=b.human, rate=b.human / b.counted if b.counted else None)


def probe_series_out(s: ProbeSeries) -> ProbeSeriesOut:
    return ProbeSeriesOut(
        placed=s.placed,
        running=s.running,
        counted=s.counted,
        human=s.human,
        no_key=s.count(Outcome.NO_KEY),
        busy=s.count(Outcome.BUSY),
        no_answer=s.count(Outcome.NO_ANSWER),
        unreachable=s.count(Outcome.UNREACHABLE),
        failed=s.count(Outcome.FAILED),
        unknown=s.count(Outcome.UNKNOWN),
        human_rate=s.human / s.counted if s.counted else None,
        mean_ring_to_human_s=s.mean_ring_to_human_s,
        last_human_at=s.last_human_at,
        day=_bucket(s.day),
        night=_bucket(s.night),
        workday=_bucket(s.workday),
        off_day=_bucket(s.off_day),
        off_hours_unanswered=s.off_hours_unanswered,
        failing=s.failing,
        flag_vi=PROBE_FLAG_VI if s.failing else None,
        reasons=[r.value for r in s.reasons],
        reasons_vi=[PROBE_FAIL_LABELS_VI[r] for r in s.reasons],
    )
