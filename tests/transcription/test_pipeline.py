"""A call's recordings to caller/officer turns: the logic with a scripted engine, then real engines."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

np = pytest.importorskip("numpy", reason="numpy is not installed: pip install -e '.[speech]'")

from callcenter.domain.turns import Speaker  # noqa: E402
from callcenter.transcription import audio  # noqa: E402
from callcenter.transcription.engine import EngineError, SpeechEngine, Transcript, Word  # noqa: E402
from callcenter.transcription.pipeline import (  # noqa: E402
    CALLER,
    MIX,
    OFFICER,
    VOICEMAIL,
    LegStatus,
    Source,
    legs_for_recording,
    transcribe_call,
)
from callcenter.transcription.vosk_engine import VoskEngine  # noqa: E402
from callcenter.transcription.whisper_engine import WhisperEngine  # noqa: E402

from .conftest import REAL_VI, RECORDING_1, SCENARIO_1, TTS_VI  # noqa: E402


class ScriptedEngine:
    """Says, for each recording, the words scripted for its level: a stand-in that knows which leg
    it hears by its loudness, so the test can tell which leg's words landed where."""

    name = "scripted"

    def __init__(self, sample_rate: int = 16000, fail_on: float | None = None) -> None:
        self.sample_rate = sample_rate
        self.fail_on = fail_on
        self.calls: list[tuple[int, int]] = []

    def transcribe(self, pcm: bytes, sample_rate: int) -> Transcript:
        self.calls.append((len(pcm) // 2, sample_rate))
        duration = len(pcm) / 2 / sample_rate
        peak = float(np.max(np.abs(audio.pcm16_to_float(pcm))))
        if self.fail_on is not None and abs(peak - self.fail_on) < 0.05:
            raise EngineError("decoder crashed")
        label = f"p{round(peak, 1)}"
        words = (
            Word(f"{label}a", 0.1 * duration, 0.2 * duration, 0.9),
            Word(f"{label}b", 0.6 * duration, 0.7 * duration, 0.8),
        )
        return Transcript(" ".join(w.text for w in words), words, "vi", self.name)


def leg(tmp_path: Path, name: str, amplitude: float, seconds: float = 2.0, rate: int = 8000) -> Path:
    t = np.arange(int(rate * seconds)) / rate
    path = tmp_path / name
    audio.write_wav(
        path, audio.float_to_pcm16((amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.float32)), rate
    )
    return path


def call(tmp_path: Path, **overrides: Path | None) -> dict[str, Path]:
    legs = {
        CALLER: leg(tmp_path, "c-rx.wav", 0.3),
        OFFICER: leg(tmp_path, "c-tx.wav", 0.6),
        MIX: leg(tmp_path, "c.wav", 0.9),
    }
    for key, value in overrides.items():
        if value is None:
            legs.pop(key, None)
        else:
            legs[key] = value
    return legs


def test_the_protocol_is_met() -> None:
    engines: list[SpeechEngine] = [
        ScriptedEngine(),
        VoskEngine(Path("m"), language="vi"),
        WhisperEngine(Path("m")),
    ]
    assert [e.sample_rate for e in engines] == [16000, 16000, 16000]


def test_both_legs_make_caller_and_officer_turns(tmp_path: Path) -> None:
    engine = ScriptedEngine()
    result = transcribe_call(engine, call(tmp_path), normalize=False)
    assert result.source is Source.LEGS and result.engine == "scripted" and result.language == "vi"
    # Both "spoke" at the same moments: each side keeps a whole turn (see callcenter.domain.turns).
    assert [(t.speaker, t.text) for t in result.turns] == [
        (Speaker.CALLER, "p0.3a p0.3b"),
        (Speaker.OFFICER, "p0.6a p0.6b"),
    ]
    assert engine.calls == [(32000, 16000), (32000, 16000)]  # 8 kHz legs went in at 16 kHz; no mix
    assert result.legs[MIX].status is LegStatus.NOT_NEEDED and result.failures == {}
    rx = result.legs[CALLER]
    assert rx.status is LegStatus.TRANSCRIBED and rx.duration_s == pytest.approx(2.0)
    assert rx.dbfs == pytest.approx(-13.5, abs=0.1) and rx.transcript is not None


@pytest.mark.parametrize(
    ("broken", "status", "reason"),
    [
        (None, LegStatus.MISSING, "no file given"),
        ("absent", LegStatus.MISSING, "does not exist"),
        (b"", LegStatus.EMPTY, "0 bytes"),
        (b"RIFF\x00\x00", LegStatus.TRUNCATED, "cut off"),
        (b"not audio at all, a note\n", LegStatus.NOT_WAV, "text"),
    ],
    ids=["not-given", "no-file", "empty", "truncated", "text"],
)
def test_a_broken_leg_falls_back_to_the_mix(
    tmp_path: Path, broken: bytes | str | None, status: LegStatus, reason: str
) -> None:
    path: Path | None
    if broken is None:
        path = None
    elif isinstance(broken, str):
        path = tmp_path / broken
    else:
        path = tmp_path / "bad-tx.wav"
        path.write_bytes(broken)
    result = transcribe_call(ScriptedEngine(), call(tmp_path, **{OFFICER: path}), normalize=False)
    assert result.source is Source.MIX
    assert [(t.speaker, t.text) for t in result.turns] == [
        (Speaker.UNKNOWN, "p0.9a p0.9b"),
    ]
    failed = result.failures[OFFICER]
    assert failed.status is status and reason in failed.reason
    assert (
        result.legs[CALLER].status is LegStatus.TRANSCRIBED
        and result.legs[MIX].status is LegStatus.TRANSCRIBED
    )


def test_without_a_usable_mix_the_good_leg_is_kept(tmp_path: Path) -> None:
    result = transcribe_call(ScriptedEngine(), call(tmp_path, **{OFFICER: None, MIX: None}), normalize=False)
    assert result.source is Source.CALLER_ONLY
    assert {t.speaker for t in result.turns} == {Speaker.CALLER}
    assert set(result.failures) == {OFFICER, MIX}
    result = transcribe_call(ScriptedEngine(), call(tmp_path, **{CALLER: None, MIX: None}), normalize=False)
    assert result.source is Source.OFFICER_ONLY and {t.speaker for t in result.turns} == {Speaker.OFFICER}


def test_nothing_usable_is_data_not_an_exception(tmp_path: Path) -> None:
    result = transcribe_call(ScriptedEngine(), {}, normalize=False)
    assert result.source is Source.NONE and result.turns == () and result.language == ""
    assert set(result.failures) == {CALLER, OFFICER, MIX}


def test_an_engine_failure_is_reported_and_the_mix_used(tmp_path: Path) -> None:
    result = transcribe_call(ScriptedEngine(fail_on=0.6), call(tmp_path), normalize=False)
    assert result.source is Source.MIX
    assert result.failures[OFFICER].status is LegStatus.ENGINE_FAILED
    assert result.failures[OFFICER].reason == "EngineError: decoder crashed"


def test_a_silent_leg_is_not_sent_to_the_engine_and_needs_no_mix(tmp_path: Path) -> None:
    engine = ScriptedEngine()
    silent = leg(tmp_path, "silent-tx.wav", 0.0005)  # -69 dBFS: a line with nobody on it
    result = transcribe_call(engine, call(tmp_path, **{OFFICER: silent}), normalize=False)
    assert result.source is Source.LEGS and len(engine.calls) == 1
    assert result.legs[OFFICER].status is LegStatus.SILENT and "below -60 dBFS" in result.legs[OFFICER].reason
    assert [(t.speaker, t.text) for t in result.turns] == [(Speaker.CALLER, "p0.3a p0.3b")]
    assert result.failures == {}


def test_header_repairs_are_reported(tmp_path: Path) -> None:
    rx = leg(tmp_path, "open-rx.wav", 0.3)
    data = bytearray(rx.read_bytes())
    data[40:44] = b"\x00\x00\x00\x00"  # MixMonitor had not closed it
    rx.write_bytes(bytes(data))
    result = transcribe_call(ScriptedEngine(), call(tmp_path, **{CALLER: rx}), normalize=False)
    assert result.legs[CALLER].status is LegStatus.TRANSCRIBED
    assert any("data size 0" in note for note in result.legs[CALLER].notes)


def test_normalisation_is_on_by_default_and_levels_report_the_recording(tmp_path: Path) -> None:
    quiet = leg(tmp_path, "quiet-rx.wav", 0.02)
    result = transcribe_call(ScriptedEngine(), call(tmp_path, **{CALLER: quiet}))
    rx = result.legs[CALLER]
    assert rx.dbfs == pytest.approx(-37.0, abs=0.1)  # the file's level, not the normalised one
    # The engine heard it 24 dB louder (the cap: reaching -1 dBFS would take +36 dB).
    assert rx.transcript is not None and rx.transcript.words[0].text == "p0.3a"


def test_a_voicemail_is_transcribed_apart(tmp_path: Path) -> None:
    legs = call(tmp_path, **{VOICEMAIL: leg(tmp_path, "c-voicemail.wav", 0.5)})
    result = transcribe_call(ScriptedEngine(), legs, normalize=False)
    assert [(t.speaker, t.text) for t in result.voicemail_turns] == [
        (Speaker.CALLER, "p0.5a p0.5b"),
    ]
    assert result.legs[VOICEMAIL].status is LegStatus.TRANSCRIBED


def test_mixmonitor_names(tmp_path: Path) -> None:
    legs = legs_for_recording(tmp_path, "hotline-1.2")
    assert legs == {
        CALLER: tmp_path / "hotline-1.2-rx.wav",
        OFFICER: tmp_path / "hotline-1.2-tx.wav",
        MIX: tmp_path / "hotline-1.2.wav",
    }
    (tmp_path / "hotline-1.2-voicemail.wav").write_bytes(b"")
    assert legs_for_recording(tmp_path, "hotline-1.2")[VOICEMAIL] == tmp_path / "hotline-1.2-voicemail.wav"


# ---------------------------------------------------------------------------------- real engines


def test_scenario_1_with_vosk(vosk_engine: VoskEngine, tmp_path: Path) -> None:
    # The real MixMonitor output of an answered call (the Korean model: structure, not words).
    for suffix in ("-rx.wav", "-tx.wav", ".wav"):
        shutil.copy(SCENARIO_1 / f"{RECORDING_1}{suffix}", tmp_path)
    result = transcribe_call(vosk_engine, legs_for_recording(tmp_path, RECORDING_1))
    assert result.source is Source.LEGS and result.failures == {}
    assert {t.speaker for t in result.turns} == {Speaker.CALLER, Speaker.OFFICER}
    caller = result.legs[CALLER].transcript
    officer = result.legs[OFFICER].transcript
    assert caller is not None and officer is not None
    assert sum(len(t.words) for t in result.turns) == len(caller.words) + len(officer.words)
    assert [t.start_s for t in result.turns] == sorted(t.start_s for t in result.turns)
    assert all(t.end_s <= 10.06 + 0.05 for t in result.turns)


def test_a_constructed_call_with_whisper(whisper_engine: WhisperEngine, tmp_path: Path) -> None:
    # The caller (real speech) from 1 s to 8.1 s on rx; the officer (espeak's voice) from 9 s on tx;
    # line noise elsewhere, as on a phone line. Both legs 8 kHz, like MixMonitor's.
    noise = np.random.default_rng(3).standard_normal(8000 * 14).astype(np.float32) * 0.0005
    caller, _ = audio.read_wav(REAL_VI / "common_voice_vi_23397238.wav")
    officer, _ = audio.read_wav(TTS_VI / "complaint-04.wav")
    rx, tx = noise.copy(), noise.copy()
    said = audio.resample(audio.to_mono(caller), 16000, 8000)
    rx[8000 : 8000 + said.size] += said
    tx[72000 : 72000 + officer.shape[0]] += audio.to_mono(officer)
    legs = {CALLER: tmp_path / "rx.wav", OFFICER: tmp_path / "tx.wav"}
    audio.write_wav(legs[CALLER], audio.float_to_pcm16(rx), 8000)
    audio.write_wav(legs[OFFICER], audio.float_to_pcm16(tx), 8000)
    result = transcribe_call(whisper_engine, legs)
    assert result.source is Source.LEGS and result.language == "vi"
    assert [t.speaker for t in result.turns] == [Speaker.CALLER, Speaker.OFFICER]
    # Where the speech is in each leg (by its envelope): caller 1.7-8.1 s, officer 9.05-12.35 s.
    # Whisper's word times are coarse (measured: the officer's first word at 8.66 s, 0.4 s early).
    for turn in result.turns:
        start, end = (1.7, 8.1) if turn.speaker is Speaker.CALLER else (9.05, 12.35)
        assert start - 0.5 <= turn.start_s <= turn.end_s <= end + 0.5, turn
