"""Read call recordings and turn them into what a speech engine eats: mono 16-bit PCM at its rate.

Reading. The RIFF chunks are walked here with `struct` rather than through `wave`: `wave` believes the
header's sizes, and Asterisk writes those sizes only when it closes the file, so a recording read while
MixMonitor still holds it (or left by a crash) says "0 bytes of data" over minutes of audio. We trust
the bytes that are there: a data size of 0, or larger than the file, or smaller than the file with no
chunk after it, is replaced by what the file holds, and a last sample cut in half is dropped. Each such
repair is kept in `WavInfo.notes`. What cannot be read raises an `AudioError` subclass with a reason;
nothing here raises anything else for a bad file.

Formats: PCM integer 8/16/24/32-bit, IEEE float 32/64-bit, G.711 A-law and mu-law, plain or in a
WAVE_FORMAT_EXTENSIBLE wrapper, any channel count, any rate. pydub is not used: it does the same
conversions through `audioop`, which Python 3.13 removed, and needs ffmpeg for anything but WAV.

Resampling is explicit (`resample`): a rational-factor polyphase FIR. The rates are reduced to
L/M (8 kHz -> 16 kHz is 2/1, 44.1 kHz -> 16 kHz is 160/441); every output sample is a dot product of
the input around its position with one of L precomputed phases of a Kaiser-windowed sinc low-pass
(cut-off at the lower Nyquist times 0.95, 16 zero crossings each side, beta 8.6, about 80 dB
stop-band), each phase normalised to unit DC gain. It runs in blocks with numpy, so a call of an hour
costs memory for a block, not for the hour. Upsampling 8 -> 16 kHz invents nothing above 4 kHz: the
models hear telephone band audio at the rate they were trained on.
"""

from __future__ import annotations

import codecs
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.float32]

WAVE_FORMAT_PCM: Final = 0x0001
WAVE_FORMAT_IEEE_FLOAT: Final = 0x0003
WAVE_FORMAT_ALAW: Final = 0x0006
WAVE_FORMAT_MULAW: Final = 0x0007
WAVE_FORMAT_EXTENSIBLE: Final = 0xFFFE
_FORMAT_NAMES: Final = {
    0x0002: "MS ADPCM",
    0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10",
    0x0055: "MPEG layer 3",
    0x0064: "G.726 ADPCM",
}
# Digital silence is -inf dBFS; a leg quieter than this carries nothing worth transcribing.
SILENCE_DBFS: Final = -60.0


class AudioError(Exception):
    """A recording that cannot be used. `reason` says why, for people and for the ticket."""

    kind = "unreadable"

    def __init__(self, path: Path | None, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}" if path is not None else reason)


class AudioMissing(AudioError):
    kind = "missing"


class AudioEmpty(AudioError):
    """The file exists but holds no audio: 0 bytes, a header alone, or a data chunk of 0 frames."""

    kind = "empty"


class NotAWav(AudioError):
    kind = "not_wav"


class TruncatedWav(AudioError):
    """A WAV whose header itself is cut off before the format is known."""

    kind = "truncated"


class UnsupportedWav(AudioError):
    kind = "unsupported"


@dataclass(frozen=True, slots=True)
class WavInfo:
    format_tag: int
    channels: int
    sample_rate: int
    bits_per_sample: int
    frames: int
    declared_data_bytes: int | None  # what the header said (None: no data chunk header at all)
    data_bytes: int  # what was read
    notes: tuple[str, ...] = ()  # repairs made: wrong sizes, a cut sample

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


@dataclass(frozen=True, slots=True)
class PcmAudio:
    """Mono signed 16-bit little-endian PCM."""

    pcm: bytes
    sample_rate: int
    source: WavInfo | None = None
    gain_db: float = 0.0  # applied by normalisation; the recording's own level is dbfs() - gain_db

    @property
    def frames(self) -> int:
        return len(self.pcm) // 2

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate

    def samples(self) -> Samples:
        return pcm16_to_float(self.pcm)

    def dbfs(self) -> float:
        return rms_dbfs(self.samples())


# ---------------------------------------------------------------------------------------------- reading


def read_wav(path: Path) -> tuple[Samples, WavInfo]:
    """The file's samples as float32 in [-1, 1], shape (frames, channels), and what was found."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AudioMissing(path, "file does not exist") from None
    except IsADirectoryError:
        raise NotAWav(path, "is a directory") from None
    except OSError as exc:
        raise AudioError(path, f"cannot be read: {exc.strerror or exc}") from None
    return parse_wav(data, path)


def parse_wav(data: bytes, path: Path | None = None) -> tuple[Samples, WavInfo]:
    if not data:
        raise AudioEmpty(path, "file is empty (0 bytes)")
    if data[:4] in (b"RIFX", b"RF64", b"BW64"):
        raise UnsupportedWav(path, f"{data[:4].decode()} container is not supported (only RIFF/WAVE)")
    if data[:4] != b"RIFF":
        raise NotAWav(path, f"not a WAV file: starts with {_describe_start(data)}")
    if len(data) < 12:
        raise TruncatedWav(path, f"RIFF header cut off after {len(data)} bytes")
    if data[8:12] != b"WAVE":
        raise NotAWav(path, f"RIFF file of type {data[8:12]!r}, not WAVE")

    notes: list[str] = []
    riff_size = struct.unpack_from("<I", data, 4)[0]
    if riff_size != len(data) - 8:
        notes.append(f"RIFF size {riff_size} disagrees with file length {len(data)} (trusting the file)")

    fmt: _Format | None = None
    pos = 12
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        size = struct.unpack_from("<I", data, pos + 4)[0]
        body = pos + 8
        if chunk_id == b"fmt ":
            if body + size > len(data):
                raise TruncatedWav(path, f"format chunk cut off ({len(data) - body} of {size} bytes)")
            if size < 16:
                raise NotAWav(path, f"format chunk of {size} bytes: too short to describe audio")
            fmt = _parse_fmt(data[body : body + size], path)
        elif chunk_id == b"data":
            if fmt is None:
                raise NotAWav(path, "data chunk before any format chunk")
            data_bytes, data_notes = _data_extent(data, body, size)
            notes.extend(data_notes)
            return _decode(data[body : body + data_bytes], fmt, size, tuple(notes), path)
        pos = body + size + (size & 1)  # chunks are padded to an even length
    if fmt is None:
        raise TruncatedWav(path, f"no format chunk in {len(data)} bytes")
    raise AudioEmpty(path, "WAV header without a data chunk: no audio was written")


@dataclass(frozen=True, slots=True)
class _Format:
    tag: int
    channels: int
    sample_rate: int
    block_align: int
    bits: int


def _parse_fmt(body: bytes, path: Path | None) -> _Format:
    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", body, 0)
    if tag == WAVE_FORMAT_EXTENSIBLE:
        if len(body) < 40:
            raise TruncatedWav(path, "extensible format chunk shorter than 40 bytes")
        tag = struct.unpack_from("<H", body, 24)[0]  # the sub-format GUID starts with the format tag
    if channels == 0 or rate == 0:
        raise UnsupportedWav(path, f"format says {channels} channels at {rate} Hz")
    supported = {
        WAVE_FORMAT_PCM: (8, 16, 24, 32),
        WAVE_FORMAT_IEEE_FLOAT: (32, 64),
        WAVE_FORMAT_ALAW: (8,),
        WAVE_FORMAT_MULAW: (8,),
    }
    if tag not in supported:
        name = _FORMAT_NAMES.get(tag, f"format 0x{tag:04x}")
        raise UnsupportedWav(path, f"{name} audio is not supported (PCM, float, A-law, mu-law are)")
    if bits not in supported[tag]:
        raise UnsupportedWav(path, f"{bits}-bit samples are not supported for format 0x{tag:04x}")
    if block_align != channels * bits // 8:
        block_align = channels * bits // 8  # some writers get it wrong; the rest of the header decides
    return _Format(tag, channels, rate, block_align, bits)


def _data_extent(data: bytes, body: int, declared: int) -> tuple[int, list[str]]:
    available = len(data) - body
    if declared == 0 and available > 0:
        return available, [f"data size 0 in header over {available} bytes (file still open?)"]
    if declared > available:
        return available, [f"data size {declared} exceeds the {available} bytes present"]
    if declared < available and not _chunk_header_at(data, body + declared + (declared & 1)):
        return available, [f"data size {declared} but {available} bytes follow and no other chunk"]
    return declared, []


def _chunk_header_at(data: bytes, pos: int) -> bool:
    """Whether a plausible RIFF chunk starts at pos: a printable four-letter id and a size that fits."""
    if pos + 8 > len(data):
        return pos >= len(data) - 1  # nothing but a pad byte left: the declared size was right
    chunk_id = data[pos : pos + 4]
    size = struct.unpack_from("<I", data, pos + 4)[0]
    return all(0x20 <= b < 0x7F for b in chunk_id) and pos + 8 + size <= len(data) + 1


def _decode(
    raw: bytes, fmt: _Format, declared: int, notes: tuple[str, ...], path: Path | None
) -> tuple[Samples, WavInfo]:
    frames = len(raw) // fmt.block_align
    if len(raw) % fmt.block_align:
        cut = len(raw) % fmt.block_align
        notes = (*notes, f"last frame cut short ({cut} of {fmt.block_align} bytes), dropped")
        raw = raw[: frames * fmt.block_align]
    if frames == 0:
        raise AudioEmpty(path, "no audio frames in the data chunk")
    samples = _to_float(raw, fmt).reshape(frames, fmt.channels)
    info = WavInfo(
        format_tag=fmt.tag,
        channels=fmt.channels,
        sample_rate=fmt.sample_rate,
        bits_per_sample=fmt.bits,
        frames=frames,
        declared_data_bytes=declared,
        data_bytes=len(raw),
        notes=notes,
    )
    return samples, info


def _to_float(raw: bytes, fmt: _Format) -> Samples:
    if fmt.tag == WAVE_FORMAT_IEEE_FLOAT:
        values = np.frombuffer(raw, dtype="<f4" if fmt.bits == 32 else "<f8").astype(np.float32)
        return np.clip(np.nan_to_num(values, nan=0.0), -1.0, 1.0).astype(np.float32)
    if fmt.tag == WAVE_FORMAT_MULAW:
        return _ULAW.take(np.frombuffer(raw, dtype=np.uint8))
    if fmt.tag == WAVE_FORMAT_ALAW:
        return _ALAW.take(np.frombuffer(raw, dtype=np.uint8))
    if fmt.bits == 8:  # 8-bit WAV is unsigned
        return ((np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0).astype(np.float32)
    if fmt.bits == 16:
        return (np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0).astype(np.float32)
    if fmt.bits == 24:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        value = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        value = np.where(value & 0x800000, value - 0x1000000, value)
        return (value.astype(np.float64) / 8388608.0).astype(np.float32)
    return (np.frombuffer(raw, dtype="<i4").astype(np.float64) / 2147483648.0).astype(np.float32)


def _g711_tables() -> tuple[Samples, Samples]:
    codes = np.arange(256, dtype=np.int32)
    u = ~codes & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    ulaw = np.where(u & 0x80, 0x84 - t, t - 0x84)
    a = codes ^ 0x55
    seg = (a & 0x70) >> 4
    mant = (a & 0x0F) << 4
    mag = np.where(seg == 0, mant + 8, (mant + 0x108) << np.maximum(seg - 1, 0))
    alaw = np.where(a & 0x80, mag, -mag)
    return (ulaw / 32768.0).astype(np.float32), (alaw / 32768.0).astype(np.float32)


_ULAW, _ALAW = _g711_tables()


def _describe_start(data: bytes) -> str:
    head = data[:32]
    try:
        # final=False: a character cut by the 32-byte slice is not an error (Vietnamese is multi-byte).
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        text = ""
    if text and all(c.isprintable() or c in "\r\n\t" for c in text):
        return f"text {text[:16]!r} (a text file named .wav?)"
    return f"bytes {head[:8].hex(' ')}"


# ------------------------------------------------------------------------------------------- converting


def to_mono(samples: Samples) -> Samples:
    """Average of the channels: shape (frames, channels) or (frames,) to (frames,)."""
    if samples.ndim == 1:
        return samples
    if samples.shape[1] == 1:
        return samples[:, 0]
    mono: Samples = samples.mean(axis=1, dtype=np.float32)
    return mono


def resample(samples: Samples, src_rate: int, dst_rate: int, *, block: int = 1 << 15) -> Samples:
    """Polyphase windowed-sinc resampling of a mono signal (see the module's doc)."""
    if src_rate <= 0 or dst_rate <= 0:
        raise ValueError(f"sample rates must be positive: {src_rate} -> {dst_rate}")
    if src_rate == dst_rate or samples.size == 0:
        return samples.astype(np.float32, copy=False)
    g = math.gcd(src_rate, dst_rate)
    up, down = dst_rate // g, src_rate // g
    phases, half = _polyphase(up, down)
    x = np.concatenate([np.zeros(half, np.float32), samples.astype(np.float32), np.zeros(half, np.float32)])
    n_out = (samples.size * up + down - 1) // down
    out = np.empty(n_out, dtype=np.float32)
    taps = np.arange(2 * half)
    for start in range(0, n_out, block):
        n = np.arange(start, min(start + block, n_out), dtype=np.int64)
        base, phase = np.divmod(n * down, up)
        # Output n sits at input position base + phase/up; its taps are x[base-half+1 .. base+half].
        window = x[base[:, None] + 1 + taps[None, :]]
        out[start : start + n.size] = np.einsum("ij,ij->i", window, phases[phase])
    return out


_POLYPHASE_CACHE: dict[tuple[int, int], tuple[npt.NDArray[np.float32], int]] = {}


def _polyphase(up: int, down: int) -> tuple[npt.NDArray[np.float32], int]:
    key = (up, down)
    cached = _POLYPHASE_CACHE.get(key)
    if cached is not None:
        return cached
    zero_crossings, beta, rolloff = 16, 8.6, 0.95
    cutoff = min(1.0, up / down) * rolloff  # of the input's Nyquist frequency
    half = math.ceil(zero_crossings / cutoff)
    frac = np.arange(up, dtype=np.float64)[:, None] / up
    u = frac + (half - 1) - np.arange(2 * half, dtype=np.float64)[None, :]  # distance to each tap
    window = np.i0(beta * np.sqrt(np.clip(1.0 - (u / half) ** 2, 0.0, None))) / np.i0(beta)
    h = cutoff * np.sinc(cutoff * u) * window
    h /= h.sum(axis=1, keepdims=True)  # every phase passes DC unchanged
    result = (h.astype(np.float32), half)
    _POLYPHASE_CACHE[key] = result
    return result


def float_to_pcm16(samples: Samples) -> bytes:
    scaled = np.clip(np.rint(samples.astype(np.float64) * 32768.0), -32768, 32767)
    return scaled.astype("<i2").tobytes()


def pcm16_to_float(pcm: bytes) -> Samples:
    usable = len(pcm) - len(pcm) % 2
    return (np.frombuffer(pcm[:usable], dtype="<i2").astype(np.float32) / 32768.0).astype(np.float32)


def rms_dbfs(samples: Samples) -> float:
    """RMS level relative to a full-scale square wave: 0.0 at full scale, -inf for digital silence."""
    if samples.size == 0:
        return -math.inf
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20.0 * math.log10(rms) if rms > 0.0 else -math.inf


def peak_dbfs(samples: Samples) -> float:
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    return 20.0 * math.log10(peak) if peak > 0.0 else -math.inf


def peak_gain_db(samples: Samples, *, target_dbfs: float = -1.0, max_gain_db: float = 24.0) -> float:
    """The gain that raises (never lowers) the peak to target_dbfs, at most max_gain_db."""
    peak = peak_dbfs(samples)
    if not math.isfinite(peak):
        return 0.0
    return min(max(target_dbfs - peak, 0.0), max_gain_db)


def apply_gain(samples: Samples, gain_db: float) -> Samples:
    if gain_db == 0.0:
        return samples
    return (samples * np.float32(10.0 ** (gain_db / 20.0))).astype(np.float32)


def convert(samples: Samples, src_rate: int, dst_rate: int) -> PcmAudio:
    """Any (frames, channels) float signal to mono 16-bit PCM at dst_rate."""
    mono = resample(to_mono(samples), src_rate, dst_rate)
    return PcmAudio(float_to_pcm16(mono), dst_rate)


def load_pcm(path: Path, *, sample_rate: int = 16000, normalize: bool = False) -> PcmAudio:
    """Read, validate and convert a recording to mono 16-bit PCM at sample_rate.

    normalize raises quiet recordings towards full scale (`peak_gain_db`: peak to -1 dBFS, at most
    +24 dB) before quantising, so a quiet caller is not lost in 16-bit steps or by the engine.
    Raises an `AudioError` subclass when the file cannot be used.
    """
    samples, info = read_wav(path)
    mono = resample(to_mono(samples), info.sample_rate, sample_rate)
    gain = peak_gain_db(mono) if normalize else 0.0
    return PcmAudio(float_to_pcm16(apply_gain(mono, gain)), sample_rate, info, gain)


def write_wav(path: Path, pcm: bytes, sample_rate: int, *, channels: int = 1) -> None:
    """A plain 16-bit PCM WAV (tests and tools)."""
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(pcm),
        b"WAVE",
        b"fmt ",
        16,
        WAVE_FORMAT_PCM,
        channels,
        sample_rate,
        sample_rate * channels * 2,
        channels * 2,
        16,
        b"data",
        len(pcm),
    )
    path.write_bytes(header + pcm)
