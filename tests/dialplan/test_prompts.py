"""make-prompts.sh turns prompts.tsv into WAVs Asterisk plays natively: 8 kHz, mono, 16-bit PCM."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "dialplan" / "make-prompts.sh"
PROMPTS = REPO / "dialplan" / "prompts.tsv"

missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]


def prompt_names() -> list[str]:
    lines = PROMPTS.read_text(encoding="utf-8").splitlines()
    return [line.split("\t", 1)[0] for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.skipif(bool(missing), reason=f"needs {' and '.join(missing)} (apt-get install espeak-ng sox)")
def test_make_prompts_writes_8khz_mono_16bit_wavs(tmp_path: Path) -> None:
    out = tmp_path / "vi"
    result = subprocess.run([str(SCRIPT), str(out)], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    names = prompt_names()
    assert len(names) >= 8
    assert sorted(p.stem for p in out.glob("*.wav")) == sorted(names)
    for name in names:
        with wave.open(str(out / f"{name}.wav"), "rb") as wav:
            assert wav.getframerate() == 8000, name
            assert wav.getnchannels() == 1, name
            assert wav.getsampwidth() == 2, name
            assert wav.getcomptype() == "NONE", name
            # Speech, not an empty file: at least half a second.
            assert wav.getnframes() > 4000, name


def test_make_prompts_is_strict_bash() -> None:
    text = SCRIPT.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert SCRIPT.stat().st_mode & 0o111, "make-prompts.sh must be executable"
    assert "-v vi" in text


@pytest.mark.skipif(bool(missing), reason=f"needs {' and '.join(missing)} (apt-get install espeak-ng sox)")
def test_make_prompts_rejects_a_bad_table(tmp_path: Path) -> None:
    bad = tmp_path / "prompts.tsv"
    bad.write_text("hotline-x\n", encoding="utf-8")  # no text
    result = subprocess.run(
        [str(SCRIPT), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "PROMPTS": str(bad)},
    )
    assert result.returncode != 0
    assert "no text" in result.stderr
