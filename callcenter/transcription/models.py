"""`callcenter models install SOURCE`: a speech model from a directory, a .zip file or an http(s) URL.

The archive is checked against a sha256 when one is given (always give one for a download), unpacked
into a temporary directory beside the target (refusing members that would land outside it), its layout
checked for the engine, and only then renamed into place: a failed install leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from callcenter.transcription.vosk_engine import check_vosk_layout
from callcenter.transcription.whisper_engine import check_whisper_layout

LAYOUT_CHECKS: dict[str, Callable[[Path], object]] = {
    "vosk": check_vosk_layout,
    "whisper": check_whisper_layout,
}
_CHUNK = 1 << 20


class ModelInstallError(Exception):
    """The model could not be installed; the message says why, and nothing was left in place."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def install_model(
    source: str,
    models_dir: Path,
    *,
    engine: str = "vosk",
    sha256: str | None = None,
    name: str | None = None,
    force: bool = False,
    timeout_s: float = 60.0,
) -> Path:
    """Install and check a model; returns its directory under `models_dir`."""
    check = LAYOUT_CHECKS.get(engine)
    if check is None:
        raise ModelInstallError(f"unknown engine {engine!r}; known: {', '.join(LAYOUT_CHECKS)}")
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=".install-") as tmp:
        work = Path(tmp)
        url = urllib.parse.urlparse(source)
        if url.scheme in ("http", "https"):
            archive = work / (Path(url.path).name or "model.zip")
            _download(source, archive, timeout_s)
            unpacked = _unzip(archive, work / "unpacked", sha256)
            default_name = archive.name.removesuffix(".zip")
        elif url.scheme not in ("", "file"):
            raise ModelInstallError(
                f"unsupported source scheme {url.scheme!r} (a directory, a .zip or http(s))"
            )
        else:
            path = Path(url.path if url.scheme == "file" else source).expanduser()
            if path.is_dir():
                if sha256:
                    raise ModelInstallError("--sha256 applies to an archive, not to a directory")
                unpacked = work / "unpacked"
                shutil.copytree(path, unpacked)
                default_name = path.name
            elif path.is_file():
                unpacked = _unzip(path, work / "unpacked", sha256)
                default_name = path.name.removesuffix(".zip")
            else:
                raise ModelInstallError(f"no such file or directory: {path}")
        root = _single_top_directory(unpacked)
        try:
            check(root)
        except Exception as exc:
            raise ModelInstallError(f"not a usable {engine} model: {exc}") from exc
        target = models_dir / (name or (root.name if root != unpacked else default_name))
        if target.exists():
            if not force:
                raise ModelInstallError(f"{target} exists; pass --force to replace it")
            shutil.rmtree(target)
        root.rename(target)
    return target


def _download(url: str, dest: Path, timeout_s: float) -> None:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response, dest.open("wb") as out:
            shutil.copyfileobj(response, out, _CHUNK)
    except OSError as exc:
        raise ModelInstallError(f"download failed: {url}: {exc}") from exc


def _unzip(archive: Path, dest: Path, sha256: str | None) -> Path:
    if sha256:
        actual = sha256_of(archive)
        if actual.lower() != sha256.strip().lower():
            raise ModelInstallError(f"sha256 mismatch for {archive.name}: expected {sha256}, got {actual}")
    try:
        with zipfile.ZipFile(archive) as zf:
            dest.mkdir(parents=True)
            base = dest.resolve()
            for member in zf.infolist():
                target = (dest / member.filename).resolve()
                if not target.is_relative_to(base):
                    raise ModelInstallError(f"archive member escapes the target: {member.filename!r}")
            zf.extractall(dest)
    except zipfile.BadZipFile as exc:
        raise ModelInstallError(f"{archive.name} is not a zip archive: {exc}") from exc
    return dest


def _single_top_directory(path: Path) -> Path:
    """Model zips hold one top directory (vosk-model-small-vn-0.4/...): use it when that is so."""
    entries = [p for p in path.iterdir() if not p.name.startswith(".") and p.name != "__MACOSX"]
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else path
