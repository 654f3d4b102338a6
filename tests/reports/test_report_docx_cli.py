"""`callcenter report --format docx -o FILE` through `main()` (SQLite, a temporary config)."""

from __future__ import annotations

from pathlib import Path

import pytest
from docx import Document

from callcenter.cli import main
from tests.reports.test_report_docx import SEED_002_LINES
from tests.reports.test_seed_002 import seed_002_rows, to_csv


def test_report_docx_from_the_command_line(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The sender as seed 002 has it, from the [report] settings.
    with Path(config).open("a", encoding="utf-8") as f:
        f.write(
            '[report]\nagency_parent = "UBND TỈNH BÀ RỊA - VŨNG TÀU"\nplace = "Bà Rịa - Vũng Tàu"\n'
            'signer_name = "Bùi Chí Tình"\n'
        )
    tickets = tmp_path / "cu.csv"
    tickets.write_bytes(to_csv(seed_002_rows()))
    assert main(["--config", config, "tickets", "import", str(tickets)]) == 0
    capsys.readouterr()

    args = ["--config", config, "report", "--from", "2022-12-12", "--to", "2023-11-30", "--format", "docx"]
    out = tmp_path / "bao_cao.docx"
    assert main([*args, "-o", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    doc = Document(str(out))
    paragraphs = [p.text for p in doc.paragraphs]
    start = paragraphs.index(SEED_002_LINES[0])
    assert paragraphs[start : start + len(SEED_002_LINES)] == SEED_002_LINES
    assert "BÁO CÁO" in paragraphs and "Kính gửi: UBND tỉnh." in paragraphs
    header = doc.tables[0].rows[0].cells
    assert header[0].text.startswith("UBND TỈNH BÀ RỊA - VŨNG TÀU\nSỞ Y TẾ")
    assert header[1].text.endswith("Bà Rịa - Vũng Tàu, ngày … tháng … năm 2023")
    assert "Bùi Chí Tình" in doc.tables[-1].rows[0].cells[1].text

    # A .docx is binary: it needs a file.
    assert main(args) == 2
    assert "docx cần -o" in capsys.readouterr().err
