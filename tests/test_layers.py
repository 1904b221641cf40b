"""Imports follow the layers: model -> core -> store -> service -> cli/ui."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "coding"
CORE = (
    "codebook",
    "corpus",
    "csvfile",
    "textfile",
    "segment",
    "review",
    "agreement",
    "suggest",
    "export",
    "refi",
    "xmlzip",
)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__main__.py")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_only_to_lower_layers(path: Path) -> None:
    layer = _layer(path)
    imports = _imports(path)
    third_party = {name.split(".")[0] for name in imports}
    ours = {name.split(".")[1] for name in imports if name.startswith("coding.")}
    if layer != "store":
        assert "sqlalchemy" not in third_party, "only coding/store speaks SQL"
    if layer != "cli":
        assert "click" not in third_party
    if layer != "ui":
        assert "streamlit" not in third_party
    if layer in ("errors", "model"):
        assert ours <= {"errors", "model"}
    elif layer in CORE:
        assert ours <= {"errors", "model", *CORE}, ours
    elif layer == "store":
        assert ours <= {"errors", "model", "store"}, ours
    elif layer == "service":
        assert "cli" not in ours and "ui" not in ours
