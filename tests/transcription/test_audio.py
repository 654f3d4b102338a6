"""Reading and converting recordings: real MixMonitor files, broken ones, and other formats."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

np = pytest.importorskip("numpy", reason="numpy is not installed: pip install -e '.[speech]'")

from callcenter.transcription import audio  # noqa: E402
from callcenter.transcription.audio import (  # noqa: E402
    AudioEmpty,
    AudioError,
    AudioMissing,
    NotAWav,
    TruncatedWav,
    UnsupportedWav,
)

from .conftest import REAL_VI, RECORDING_1, SCENARIO_1  # noqa: E402

RX = SCENARIO_1 / f"{RECORDING_1}-rx.wav"


def wav_bytes(
    payload: bytes,
    *,
    rate: int = 8000,
    channels: int = 1,
    bits: int = 16,
    tag: int = 1,
    data_size: int | None = None,
    riff_size: int | None = None,
    extensible: bool = False,
    trailer: bytes = b"",
) -> bytes:
    block = channels * bits // 8
    if extensible:
        guid_tail = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt = struct.pack("<HHIIHH", 0xFFFE, channels, rate, rate * block, block, bits)
        fmt += struct.pack("<HHI", 22, bits, 0) + struct.pack("<H", tag) + guid_tail
    else:
        fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(payload) if data_size is None else data_size) + payload + trailer
    return b"RIFF" + struct.pack("<I", len(body) if riff_size is None else riff_size) + body


def tone(freq: float, rate: int, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def pcm16(samples: np.ndarray) -> bytes:
    return audio.float_to_pcm16(samples)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[int(np.argmax(spectrum))])


# ------------------------------------------------------------------------------- real recordings


def test_a_real_mixmonitor_leg_reads_as_wave_reads_it() -> None:
    samples, info = audio.read_wav(RX)
    with wave.open(str(RX)) as w:
        expected = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        assert (info.sample_rate, info.channels, info.frames) == (w.getframerate(), 1, w.getnframes())
    assert np.array_equal(np.rint(samples[:, 0] * 32768).astype(np.int16), expected)
    assert info.notes == ()
    assert info.duration_s == pytest.approx(10.06)


def test_a_real_leg_converts_to_16k_with_its_duration_and_level() -> None:
    pcm = audio.load_pcm(RX, sample_rate=16000)
    assert pcm.sample_rate == 16000 and pcm.frames == 2 * 80480
    assert pcm.duration_s == pytest.approx(10.06)
    assert pcm.dbfs() == pytest.approx(-22.3, abs=0.1)  # measured: the caller talks at about -22 dBFS
    assert pcm.gain_db == 0.0


def test_a_wav_with_a_list_chunk_before_the_data_reads() -> None:
    path = REAL_VI / "common_voice_vi_23397238.wav"  # written by ffmpeg: LIST/INFO precedes data
    _samples, info = audio.read_wav(path)
    assert info.sample_rate == 16000 and info.frames == 113664 and not info.notes


# ------------------------------------------------------------------------------ what cannot be read


def test_missing(tmp_path: Path) -> None:
    with pytest.raises(AudioMissing, match="does not exist") as err:
        audio.read_wav(tmp_path / "nope.wav")
    assert err.value.kind == "missing" and err.value.path == tmp_path / "nope.wav"


def test_a_directory(tmp_path: Path) -> None:
    with pytest.raises(NotAWav, match="directory"):
        audio.read_wav(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(AudioEmpty, match="0 bytes"):
        audio.read_wav(write(tmp_path, "e.wav", b""))


def test_a_header_without_samples_is_empty(tmp_path: Path) -> None:
    with pytest.raises(AudioEmpty, match="no audio frames"):
        audio.read_wav(write(tmp_path, "h.wav", wav_bytes(b"")))


def test_a_header_without_a_data_chunk_is_empty(tmp_path: Path) -> None:
    with pytest.raises(AudioEmpty, match="without a data chunk"):
        audio.read_wav(write(tmp_path, "h.wav", wav_bytes(b"")[:36]))


@pytest.mark.parametrize("keep", [4, 11, 20, 30])
def test_a_header_cut_short(tmp_path: Path, keep: int) -> None:
    with pytest.raises(TruncatedWav):
        audio.read_wav(write(tmp_path, "t.wav", wav_bytes(b"\x00\x01" * 100)[:keep]))


def test_a_text_file_renamed_wav(tmp_path: Path) -> None:
    path = write(tmp_path, "notes.wav", "Ghi chú cuộc gọi: bệnh nhân phàn nàn\n".encode())
    with pytest.raises(NotAWav, match="text") as err:
        audio.read_wav(path)
    assert "Ghi ch" in err.value.reason


def test_a_vietnamese_text_cut_mid_character_is_still_seen_as_text(tmp_path: Path) -> None:
    text = "Ư" * 40  # two bytes each: the 32-byte look cuts none, 31 would; either way it is text
    for data in (text.encode(), b"x" + text.encode()):
        with pytest.raises(NotAWav, match="a text file"):
            audio.read_wav(write(tmp_path, "t.wav", data))


def test_a_format_chunk_too_short(tmp_path: Path) -> None:
    data = b"RIFF" + struct.pack("<I", 20) + b"WAVEfmt " + struct.pack("<I", 4) + b"\x01\x00\x01\x00"
    with pytest.raises(NotAWav, match="too short"):
        audio.read_wav(write(tmp_path, "s.wav", data))


def test_binary_that_is_not_riff(tmp_path: Path) -> None:
    with pytest.raises(NotAWav, match="bytes ff fb"):
        audio.read_wav(write(tmp_path, "x.wav", b"\xff\xfb\x90\x64" + bytes(200)))  # an MP3 frame


def test_riff_that_is_not_wave(tmp_path: Path) -> None:
    with pytest.raises(NotAWav, match="AVI"):
        audio.read_wav(write(tmp_path, "x.wav", b"RIFF" + struct.pack("<I", 100) + b"AVI " + bytes(100)))


def test_gsm_in_a_wav_is_unsupported_and_says_so(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedWav, match="GSM"):
        audio.read_wav(write(tmp_path, "g.wav", wav_bytes(bytes(65), tag=0x31, bits=0)))


def test_every_audio_error_is_an_audio_error_with_a_reason(tmp_path: Path) -> None:
    for cls in (AudioMissing, AudioEmpty, NotAWav, TruncatedWav, UnsupportedWav):
        assert issubclass(cls, AudioError)
    with pytest.raises(AudioError) as err:
        audio.read_wav(write(tmp_path, "e.wav", b""))
    assert err.value.reason and str(tmp_path) in str(err.value)


# ---------------------------------------------------------------- wrong sizes: trust the bytes


def test_data_size_zero_while_mixmonitor_still_writes(tmp_path: Path) -> None:
    payload = pcm16(tone(440, 8000, 1.0))
    path = write(tmp_path, "open.wav", wav_bytes(payload, data_size=0, riff_size=36))
    _samples, info = audio.read_wav(path)
    assert info.frames == 8000 and info.declared_data_bytes == 0
    assert any("data size 0" in n for n in info.notes) and any("RIFF size" in n for n in info.notes)


def test_data_size_larger_than_the_file(tmp_path: Path) -> None:
    payload = pcm16(tone(440, 8000, 0.5))
    _samples, info = audio.read_wav(write(tmp_path, "big.wav", wav_bytes(payload, data_size=0xFFFFFFFF)))
    assert info.frames == 4000 and any("exceeds" in n for n in info.notes)


def test_data_size_smaller_than_the_file_with_nothing_after_it(tmp_path: Path) -> None:
    payload = pcm16(tone(440, 8000, 0.5))
    _samples, info = audio.read_wav(write(tmp_path, "stale.wav", wav_bytes(payload, data_size=1000)))
    assert info.frames == 4000 and any("no other chunk" in n for n in info.notes)


def test_data_size_right_and_a_chunk_after_the_data(tmp_path: Path) -> None:
    payload = pcm16(tone(440, 8000, 0.5))
    trailer = b"LIST" + struct.pack("<I", 12) + b"INFOISFT\x00\x00\x00\x00"
    _samples, info = audio.read_wav(write(tmp_path, "list.wav", wav_bytes(payload, trailer=trailer)))
    assert info.frames == 4000 and info.notes == ()


def test_cut_in_the_middle_of_a_sample(tmp_path: Path) -> None:
    payload = pcm16(tone(440, 8000, 0.5)) + b"\x7f"  # half of a 16-bit sample
    _samples, info = audio.read_wav(
        write(tmp_path, "cut.wav", wav_bytes(payload, data_size=len(payload) + 999))
    )
    assert info.frames == 4000 and any("cut short" in n for n in info.notes)


def test_stereo_cut_in_the_middle_of_a_frame(tmp_path: Path) -> None:
    frames = np.stack([tone(440, 8000, 0.1), tone(660, 8000, 0.1)], axis=1).reshape(-1)
    payload = pcm16(frames) + b"\x01\x02"  # the left sample of a frame whose right one never came
    samples, info = audio.read_wav(write(tmp_path, "cut2.wav", wav_bytes(payload, channels=2)))
    assert samples.shape == (800, 2) and any("2 of 4 bytes" in n for n in info.notes)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=200), cut=st.integers(0, 120), size=st.integers(0, 2**32 - 1))
def test_any_bytes_read_or_raise_an_audio_error(data: bytes, cut: int, size: int) -> None:
    valid = wav_bytes(b"\x01\x00" * 20, data_size=size)
    for candidate in (data, valid[:cut] + data, b"RIFF" + data, valid[:40] + data):
        try:
            samples, info = audio.parse_wav(candidate)
        except AudioError as exc:
            reason = exc.reason
        else:
            reason = "read"
            assert samples.shape[0] == info.frames > 0 and np.all(np.abs(samples) <= 1.0)
        assert reason


# ---------------------------------------------------------------------------- other formats


def test_stereo_44k_float_becomes_mono_16k(tmp_path: Path) -> None:
    left, right = tone(1000, 44100, 1.0, 0.4), tone(1000, 44100, 1.0, 0.2)
    payload = np.stack([left, right], axis=1).astype("<f4").tobytes()
    path = write(tmp_path, "f.wav", wav_bytes(payload, rate=44100, channels=2, bits=32, tag=3))
    pcm = audio.load_pcm(path, sample_rate=16000)
    samples = pcm.samples()
    assert pcm.frames == 16000 and pcm.source is not None and pcm.source.channels == 2
    assert dominant_hz(samples, 16000) == pytest.approx(1000, abs=2)
    assert np.max(np.abs(samples[1000:-1000])) == pytest.approx(0.3, abs=0.005)  # the channels' mean


@pytest.mark.parametrize(
    ("bits", "tag", "encode"),
    [
        (8, 1, lambda x: (np.rint(x * 127) + 128).astype(np.uint8).tobytes()),
        (24, 1, lambda x: b"".join(int(v).to_bytes(3, "little", signed=True) for v in np.rint(x * 8388607))),
        (32, 1, lambda x: np.rint(x * 2147483647).astype("<i4").tobytes()),
        (64, 3, lambda x: x.astype("<f8").tobytes()),
    ],
    ids=["u8", "s24", "s32", "f64"],
)
def test_pcm_widths(tmp_path: Path, bits: int, tag: int, encode: object) -> None:
    x = tone(300, 8000, 0.05)
    path = write(tmp_path, "w.wav", wav_bytes(encode(x), bits=bits, tag=tag))  # type: ignore[operator]
    samples, info = audio.read_wav(path)
    assert info.bits_per_sample == bits and np.max(np.abs(samples[:, 0] - x)) < 0.01


@pytest.mark.parametrize("extensible", [False, True])
def test_g711(tmp_path: Path, extensible: bool) -> None:
    # Known code points: mu-law 0xFF and A-law 0xD5 are zero; mu-law 0x80 is the most positive value.
    mu = audio.read_wav(
        write(tmp_path, "u.wav", wav_bytes(b"\xff\x80\x00", bits=8, tag=7, extensible=extensible))
    )
    a = audio.read_wav(
        write(tmp_path, "a.wav", wav_bytes(b"\xd5\xaa\x2a", bits=8, tag=6, extensible=extensible))
    )
    assert mu[0][:, 0].tolist() == pytest.approx([0.0, 32124 / 32768, -32124 / 32768])
    assert a[0][:, 0].tolist() == pytest.approx([8 / 32768, 32256 / 32768, -32256 / 32768])


def test_extensible_pcm(tmp_path: Path) -> None:
    x = tone(300, 16000, 0.05)
    samples, info = audio.read_wav(write(tmp_path, "x.wav", wav_bytes(pcm16(x), rate=16000, extensible=True)))
    assert info.format_tag == 1 and np.max(np.abs(samples[:, 0] - x)) < 1e-4


# ----------------------------------------------------------------------------------- resampling


def test_8k_to_16k_keeps_a_tone_exactly_in_time() -> None:
    x = tone(1000, 8000, 1.0)
    y = audio.resample(x, 8000, 16000)
    reference = tone(1000, 16000, 1.0)
    assert y.size == 16000
    error = np.sqrt(np.mean((y[2000:-2000] - reference[2000:-2000]) ** 2))
    assert 20 * math.log10(error) < -80  # no delay, no gain change (measured -108 dB)


def test_8k_to_16k_passes_the_telephone_band() -> None:
    for freq in (300, 1000, 3400):
        y = audio.resample(tone(freq, 8000, 1.0), 8000, 16000)
        assert audio.rms_dbfs(y[2000:-2000]) == pytest.approx(audio.rms_dbfs(tone(freq, 16000, 1.0)), abs=0.5)


def test_16k_to_8k_removes_what_8k_cannot_hold() -> None:
    y = audio.resample(tone(6000, 16000, 1.0), 16000, 8000)
    assert audio.rms_dbfs(y[1000:-1000]) < -70  # a 6 kHz tone would alias to 2 kHz (measured -107)


@pytest.mark.parametrize(
    ("src", "dst"), [(8000, 16000), (16000, 8000), (44100, 16000), (8000, 11025), (48000, 8000)]
)
def test_durations_survive_resampling(src: int, dst: int) -> None:
    x = tone(200, src, 1.37)
    y = audio.resample(x, src, dst)
    assert y.size == math.ceil(x.size * dst / src)
    assert dominant_hz(y, dst) == pytest.approx(200, abs=1.5)


def test_resampling_in_blocks_equals_one_block() -> None:
    x = tone(440, 8000, 0.3) + tone(1234, 8000, 0.3, 0.1)
    assert np.allclose(audio.resample(x, 8000, 16000, block=97), audio.resample(x, 8000, 16000))


# ---------------------------------------------------------------------------------------- levels


def test_levels() -> None:
    square = np.sign(tone(100, 8000, 1.0) + 1e-9).astype(np.float32)
    assert audio.rms_dbfs(square) == pytest.approx(0.0, abs=0.01)
    assert audio.rms_dbfs(tone(100, 8000, 1.0, 1.0)) == pytest.approx(-3.01, abs=0.01)
    assert audio.rms_dbfs(np.zeros(100, np.float32)) == -math.inf
    assert audio.rms_dbfs(np.zeros(0, np.float32)) == -math.inf


def test_normalisation_raises_quiet_audio_and_is_bounded(tmp_path: Path) -> None:
    quiet = write(tmp_path, "q.wav", wav_bytes(pcm16(tone(500, 8000, 0.5, 0.01))))
    pcm = audio.load_pcm(quiet, sample_rate=8000, normalize=True)
    assert pcm.gain_db == 24.0  # -40 dBFS peak wants +39 dB: capped
    assert audio.peak_dbfs(pcm.samples()) == pytest.approx(-40 + 24, abs=0.1)
    loud = write(tmp_path, "l.wav", wav_bytes(pcm16(tone(500, 8000, 0.5, 0.5))))
    assert audio.load_pcm(loud, sample_rate=8000, normalize=True).gain_db == pytest.approx(5.02, abs=0.05)
    assert audio.peak_gain_db(np.zeros(10, np.float32)) == 0.0  # silence stays silence
