"""`models install`: from a directory, a zip, or a zip served over HTTP on 127.0.0.1, sha256-checked."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from callcenter.transcription.models import ModelInstallError, install_model
from callcenter.transcription.vosk_engine import check_vosk_layout

# The files of a Vosk "V2" model with a lookahead graph (the layout of vosk-model-small-vn-0.4).
VOSK_FILES = (
    "am/final.mdl",
    "conf/model.conf",
    "conf/mfcc.conf",
    "graph/phones/word_boundary.int",
    "graph/HCLr.fst",
    "graph/Gr.fst",
    "graph/disambig_tid.int",
)


def _model_dir(root: Path, name: str = "vosk-model-small-vn-0.4") -> Path:
    model = root / name
    for rel in VOSK_FILES:
        (model / rel).parent.mkdir(parents=True, exist_ok=True)
        (model / rel).write_bytes(b"x" * 16)
    return model


def _zip(model: Path, archive: Path, *, extra: str | None = None) -> str:
    with zipfile.ZipFile(archive, "w") as zf:
        for file in sorted(model.rglob("*")):
            zf.write(file, file.relative_to(model.parent))
        if extra:
            zf.writestr(extra, b"evil")
    return hashlib.sha256(archive.read_bytes()).hexdigest()


@pytest.fixture
def http_dir(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_install_from_a_url_checks_sha256_and_layout(tmp_path: Path, http_dir: tuple[Path, str]) -> None:
    served, base = http_dir
    digest = _zip(_model_dir(tmp_path / "src"), served / "vosk-model-small-vn-0.4.zip")
    models = tmp_path / "models"
    installed = install_model(f"{base}/vosk-model-small-vn-0.4.zip", models, sha256=digest)
    assert installed == models / "vosk-model-small-vn-0.4"
    assert check_vosk_layout(installed).graph == "lookahead"
    assert [p.name for p in models.iterdir()] == ["vosk-model-small-vn-0.4"]  # no temporary left


def test_a_wrong_checksum_installs_nothing(tmp_path: Path, http_dir: tuple[Path, str]) -> None:
    served, base = http_dir
    _zip(_model_dir(tmp_path / "src"), served / "m.zip")
    models = tmp_path / "models"
    with pytest.raises(ModelInstallError, match="sha256 mismatch"):
        install_model(f"{base}/m.zip", models, sha256="0" * 64)
    assert list(models.iterdir()) == []


def test_an_unreachable_url_is_a_clear_error(tmp_path: Path, http_dir: tuple[Path, str]) -> None:
    _, base = http_dir
    with pytest.raises(ModelInstallError, match="download failed"):
        install_model(f"{base}/missing.zip", tmp_path / "models")


def test_archive_members_cannot_escape(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    _zip(_model_dir(tmp_path / "src"), archive, extra="../../escaped.txt")
    with pytest.raises(ModelInstallError, match="escapes"):
        install_model(str(archive), tmp_path / "models")
    assert not (tmp_path / "escaped.txt").exists()


def test_an_incomplete_model_is_refused_naming_what_is_missing(tmp_path: Path) -> None:
    model = _model_dir(tmp_path / "src")
    (model / "am" / "final.mdl").unlink()
    with pytest.raises(ModelInstallError, match=r"am/final\.mdl"):
        install_model(str(model), tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_install_from_a_directory_and_refuse_to_overwrite(tmp_path: Path) -> None:
    model = _model_dir(tmp_path / "src")
    models = tmp_path / "models"
    install_model(str(model), models)
    with pytest.raises(ModelInstallError, match="exists"):
        install_model(str(model), models)
    assert install_model(str(model), models, force=True) == models / model.name


def test_not_a_zip(tmp_path: Path) -> None:
    bogus = tmp_path / "model.zip"
    bogus.write_text("this is not a zip")
    with pytest.raises(ModelInstallError, match="not a zip"):
        install_model(str(bogus), tmp_path / "models")
