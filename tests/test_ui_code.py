"""Code page: a coder codes and submits units, blind to other coders, with safe rendering, on a
layout that keeps the unit, its codes and Submit side by side."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from coding import service
from coding.service import access
from coding.service import coder as coder_service
from coding.store import Store
from tests.ui_helpers import PASSWORD, html_bodies, open_page, plain

NASTY = "<script>alert('x')</script> Parents **calm** down; *stars* and _under_ & <b>bold</b>."

pytestmark = pytest.mark.usefixtures("clear_streamlit_caches")


def first_unit(db: Path, coder: str = "chloe") -> str:
    with Store.open(db) as store:
        return coder_service.coder_page(store, coder, limit=1).units[0].segment_id


def everything_shown(at: AppTest) -> str:
    """All text the page sent: markdown, text, html, captions, dataframes, widget labels."""
    parts = [m.value for m in at.markdown] + [t.value for t in at.text]
    parts += [c.value for c in at.caption] + [html_bodies(at)]
    parts += [d.value.to_csv() for d in at.dataframe]
    parts += [w.value for w in at.text_area]
    return "\n".join(str(p) for p in parts)


def toasts(at: AppTest) -> str:
    return "\n".join(plain(str(t.value)) for t in at.toast)


def keys_under(node: Any) -> list[str]:
    """The keys of the widgets and keyed containers inside ``node``, in page order."""
    found = []
    element_id = str(getattr(getattr(node, "proto", None), "id", "") or "")
    if element_id:
        found.append(re.sub(r"^\$\$ID-[0-9a-f]+-", "", element_id))
    for child in getattr(node, "children", {}).values():
        found += keys_under(child)
    return found


def test_code_page_shows_unit_codes_and_progress(team_db: Path) -> None:
    at = open_page(team_db, "chloe", "code")
    assert [c.label for c in at.checkbox] == ["Calm", "Cues"]
    assert "0 of 4 units submitted" in at.get("progress")[0].proto.text
    assert "Intro text before the first section." in html_bodies(at)


def test_each_code_shows_its_codebook_entry_on_hover(team_db: Path) -> None:
    sid = first_unit(team_db)
    at = open_page(team_db, "chloe", "code")
    entry = plain(str(at.checkbox(key=f"c-{sid}-calm").help))
    assert "The parent manages their own distress." in entry
    assert "Include:** Parent calms down" in entry and "Exclude:** Calming the infant" in entry
    assert "She took a breath and calmed down." in entry


def test_unit_and_codes_sit_side_by_side_with_submit_beside_the_text(team_db: Path) -> None:
    at = open_page(team_db, "chloe", "code")
    text_column, codes_column = at.columns[0], at.columns[1]
    assert "code-unit" in keys_under(text_column)
    beside = keys_under(codes_column)
    assert "code-codes" in beside and "code-submit" in beside


def test_codes_come_in_codebook_order_before_memo_and_submit(team_db: Path) -> None:
    """One Tab per code: the checkboxes in codebook order, then the memo, then Submit."""
    sid = first_unit(team_db)
    at = open_page(team_db, "chloe", "code")
    order = keys_under(at.columns[1])
    wanted = [f"{sid}-calm", f"{sid}-cues", sid, "code-submit"]
    places = [next(i for i, k in enumerate(order) if k.endswith(w)) for w in wanted]
    assert places == sorted(places)


def test_codebook_panel_stays_open_on_the_next_unit(team_db: Path) -> None:
    at = open_page(team_db, "chloe", "code")
    assert "Calming the infant only" not in html_bodies(at)
    at.toggle(key="code_book").set_value(True).run()
    assert "Calming the infant only" in html_bodies(at)
    at.button(key="code-next").click().run()
    assert "Unit **2** of 4" in " ".join(m.value for m in at.markdown)
    assert "Calming the infant only" in html_bodies(at)


def test_coder_codes_and_submits_a_unit(team_db: Path) -> None:
    sid = first_unit(team_db)
    at = open_page(team_db, "chloe", "code")
    at.checkbox(key=f"c-{sid}-calm").check()
    at.text_area(key=f"memo-{sid}").input("stress, calm")
    at.button(key="code-submit").click().run()
    assert not at.exception
    assert "Submitted (calm)" in toasts(at)
    with Store.open(team_db) as store:
        mine = store.annotations_frame(["chloe"])
        done = store.assignments_frame(["chloe"]).set_index("segment_id")
    assert list(mine["code_id"]) == ["calm"] and list(mine["memo"]) == ["stress, calm"]
    assert done.at[sid, "completed"]
    assert "1 of 4 units submitted" in at.get("progress")[0].proto.text


def test_save_draft_keeps_the_unit_open(team_db: Path) -> None:
    sid = first_unit(team_db)
    at = open_page(team_db, "chloe", "code")
    at.checkbox(key=f"c-{sid}-cues").check()
    at.button(key="code-save").click().run()
    with Store.open(team_db) as store:
        assert list(store.annotations_frame(["chloe"])["code_id"]) == ["cues"]
        assert not store.assignments_frame(["chloe"])["completed"].any()
    assert at.checkbox(key=f"c-{sid}-cues").value


def test_next_button_moves_to_the_next_unit(team_db: Path) -> None:
    at = open_page(team_db, "chloe", "code")
    assert "Unit **1** of 4" in " ".join(m.value for m in at.markdown)
    at.button(key="code-next").click().run()
    assert "Unit **2** of 4" in " ".join(m.value for m in at.markdown)


def test_a_submitted_unit_is_shown_locked(team_db: Path) -> None:
    sid = first_unit(team_db)
    with Store.open(team_db) as store:
        coder_service.save_unit(store, "chloe", sid, ["cues"], "done", submit=True)
    at = open_page(team_db, "chloe", "code")
    at.radio(key="code_state").set_value("Submitted").run()
    assert "code-submit" not in keys_under(at.main)
    assert "Your codes" in " ".join(m.value for m in at.markdown)
    assert not [c for c in at.checkbox if c.key and c.key.startswith(f"c-{sid}")]


def test_coder_never_receives_another_coders_codes_or_memo(team_db: Path) -> None:
    sid = first_unit(team_db)
    with Store.open(team_db) as store:
        access.add_user(store, "dora", "coder", PASSWORD, "tester")
        service.assign(store, "dora", "tester")
        coder_service.save_unit(store, "dora", sid, ["cues"], "DORA-SECRET-MEMO", submit=True)
    at = open_page(team_db, "chloe", "code")
    assert "DORA-SECRET-MEMO" not in everything_shown(at)
    assert not at.checkbox(key=f"c-{sid}-cues").value


def test_segment_text_is_escaped_not_rendered(study: Path, tmp_path: Path) -> None:
    source = tmp_path / "nasty.md"
    source.write_text(f"Intro paragraph.\n\n{NASTY}\n\nLast paragraph.\n", encoding="utf-8")
    with Store.open(study) as store:
        service.import_documents(store, [source], "tester")
        access.add_user(store, "chloe", "coder", PASSWORD, "tester")
        service.assign(store, "chloe", "tester")
    at = open_page(study, "chloe", "code")
    at.button(key="code-next").click().run()
    body = html_bodies(at)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body
    assert "<script>" not in body and "<b>bold</b>" not in body
    assert "**calm**" in body and "*stars*" in body and "_under_" in body


def test_an_admin_without_units_is_told_so(team_db: Path) -> None:
    at = open_page(team_db, "admin", "code")  # admins may code; they have no units here
    assert "No units are assigned to admin" in at.info[0].value
    assert "`coding " not in at.info[0].value  # the app never hands out command lines
