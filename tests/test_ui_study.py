"""Study page: counts, progress per coder and document, disagreements, next steps."""

from __future__ import annotations

from pathlib import Path

from tests.ui_helpers import add_team, open_page


def test_study_page_shows_progress_and_next_steps(coded_db: Path) -> None:
    at = open_page(add_team(coded_db), "rosa", "study")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Units"] == "4"
    assert metrics["Codebook"] == "v1"
    bars = [p.proto.text for p in at.get("progress")]
    assert any("0 resolved, 2 open of 2" in b for b in bars)
    assert any("chloe: all documents" in b for b in bars)
    steps = " ".join(m.value for m in at.markdown)
    assert "chloe: 4 unit(s) still to code" in steps
