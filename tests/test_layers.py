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


FACES = sorted(
    [p for layer in ("cli", "ui") for p in (PACKAGE / layer).rglob("*.py")]
    + [PACKAGE.parent / "app.py"]
)
FACE_MAY_USE = ("coding.service", "coding.model", "coding.errors")


def _face_imports(path: Path) -> list[str]:
    """What a face imports from the package below it, as "module" or "module:name"."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("coding")]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("coding"):
            found += [f"{node.module}:{a.name}" for a in node.names]
    return found


@pytest.mark.parametrize("path", FACES, ids=lambda p: p.name if p.name == "app.py" else p.stem)
def test_faces_reach_the_core_and_store_only_through_the_service(path: Path) -> None:
    """The CLI and the app call services; of the store they use only Store (to open one)."""
    face = "cli" if "cli" in path.parts else "ui"
    wrong = []
    for name in _face_imports(path):
        module, _, item = name.partition(":")
        target = f"{module}.{item}" if module == "coding" else module
        if target.startswith((*FACE_MAY_USE, f"coding.{face}")) or name == "coding.store:Store":
            continue
        wrong.append(name)
    assert not wrong, f"{path.name} imports {wrong}: go through coding.service"


@pytest.mark.parametrize(
    "path", [*sorted((PACKAGE / "ui").rglob("*.py")), PACKAGE.parent / "app.py"]
)
def test_the_app_never_acts_as_the_operator(path: Path) -> None:
    """Operator holds every role: only the command line, whose user opened the study file
    themselves, may act as one; the app's users sign in."""
    assert "Operator" not in path.read_text(encoding="utf-8")
