"""Every service function the app calls checks the acting user's role in the study itself.

The app's navigation hides pages by role, but a page is only a view: the service function
behind it looks the user up again and refuses the wrong role. This test reads the app's
calls into the service layer and each called function's body.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
SERVICE = ROOT / "coding" / "service"
APP_FILES = [*sorted((ROOT / "coding" / "ui").glob("*.py")), ROOT / "app.py"]
CHECKS = {"require_role", "check_decision", "check_reviewer"}
# Called before anyone is signed in, or holding no study data.
OPEN = {
    "access.sign_in": "signing in is how a user gets a role",
    "access.identify": "maps a trusted proxy's header to a user, before any role",
    "access.shown_target": "the study's own name, with any password removed",
    "demo.is_demo_study": "whether the open study is the demo (a marker, no data)",
    "export.available_exports": "the list of export kinds (no study data)",
    "coder.suggestions_mode": "a study setting every page reads to draw itself",
}


def _service_functions() -> dict[str, ast.FunctionDef]:
    found = {}
    for path in SERVICE.glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef):
                found[f"{path.stem}.{node.name}"] = node
    return found


def _app_calls() -> set[str]:
    """module.function for each call like ``queue_service.review_item(...)`` in the app."""
    calls = set()
    for path in APP_FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "coding.service":
                aliases.update({a.asname or a.name: a.name for a in node.names})
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in aliases
            ) and not node.func.attr[0].isupper():  # a class (an enum, a dataclass)
                calls.add(f"{aliases[node.func.value.id]}.{node.func.attr}")
    return calls


def _checks_role(function: ast.FunctionDef) -> bool:
    names = {
        n.func.id if isinstance(n.func, ast.Name) else n.func.attr
        for n in ast.walk(function)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name | ast.Attribute)
    }
    return bool(names & CHECKS)


FUNCTIONS = _service_functions()
CALLS = sorted(_app_calls())


def test_the_app_calls_the_service_layer() -> None:
    assert {"queue.review_item", "review.decide", "agreement.agreement_views"} <= set(CALLS)


@pytest.mark.parametrize("call", CALLS)
def test_each_service_call_of_the_app_checks_the_role(call: str) -> None:
    assert call in FUNCTIONS, f"{call} is not a function of coding/service"
    if call in OPEN:
        return
    assert _checks_role(FUNCTIONS[call]), (
        f"{call} is called by the app but never checks the user's role (require_role)"
    )
