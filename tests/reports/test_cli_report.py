"""`callcenter tickets import` and `callcenter report` through `main()` (SQLite, a temporary config)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from callcenter.cli import main
from tests.reports.test_seed_002 import seed_002_rows, to_csv, to_xlsx


def test_import_then_report(config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    rows = seed_002_rows()
    bad.write_bytes(to_csv([{**rows[0], "trang_thai": "xong"}, *rows[1:]]))
    assert main(["--config", config, "tickets", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "dòng 2, cột trang_thai" in err and "không nhập gì" in err

    good = tmp_path / "cu.xlsx"
    good.write_bytes(to_xlsx(rows))
    assert main(["--config", config, "tickets", "import", str(good), "--dry-run"]) == 0
    assert "96 phản ánh hợp lệ" in capsys.readouterr().out
    assert main(["--config", config, "tickets", "import", str(good)]) == 0
    assert "đã nhập 96" in capsys.readouterr().out
    assert main(["--config", config, "tickets", "import", str(good)]) == 0
    assert "giữ nguyên 96" in capsys.readouterr().out

    args = ["--config", config, "report", "--from", "2022-12-12", "--to", "2023-11-30"]
    assert main([*args, "--format", "json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert (r["carried_over"], r["received"], r["change"], r["outside_jurisdiction"]) == (0, 43, -10, 0)
    assert (r["by_category"]["thieu_thuoc"], r["resolved"], r["still_open"]) == (18, 43, 0)

    out = tmp_path / "bao_cao.xlsx"
    assert main([*args, "--format", "xlsx", "-o", str(out)]) == 0
    sheet = load_workbook(out).active
    assert sheet is not None
    values = {row[0]: row[1] for row in sheet.iter_rows(values_only=True)}
    assert values["Xử lý, giải quyết dứt điểm"] == 43
    assert main([*args, "--format", "xlsx"]) == 2
    assert main(["--config", config, "report", "--from", "2023-12-01", "--to", "2023-11-30"]) == 2
