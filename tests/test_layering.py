"""The layers point inward: domain <- services <- adapters <- app. Adapters never import each other."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "callcenter"
ADAPTERS = {"asterisk", "web", "storage", "transcription"}
STDLIB = set(sys.stdlib_module_names)


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_respect_the_layers(path: Path) -> None:
    layer = _layer(path)
    for module in _imports(path):
        top = module.split(".")[0]
        if layer == "domain":
            assert top in STDLIB or module.startswith("callcenter.domain"), f"domain imports {module}"
        if not module.startswith("callcenter."):
            continue
        target = module.split(".")[1]
        if layer == "services":
            assert target in {"domain", "services"}, f"services imports {module}"
        if layer in ADAPTERS:
            assert target not in ADAPTERS - {layer}, f"adapter {layer} imports adapter {module}"
            assert target not in {"app", "cli", "cli_commands"}, f"adapter {layer} imports {module}"
        if layer in {"domain", "services"}:
            assert target not in {"app", "cli", "cli_commands", "settings"}, f"{layer} imports {module}"


def test_the_walk_sees_every_layer() -> None:
    layers = {_layer(p) for p in _modules()}
    assert {"domain", "services", "asterisk", "storage", "web", "app"} <= layers


def test_a_violation_is_caught(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from callcenter.storage.models import Base\nimport sqlalchemy\n")
    assert "callcenter.storage.models" in _imports(bad) and "sqlalchemy" in _imports(bad)
