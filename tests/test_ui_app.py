"""The app shell: no study, sign-in, and pages built per role with st.navigation."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coding.service import access
from coding.store import Store
from tests.ui_helpers import PAGES, PASSWORD, app, open_page

pytestmark = pytest.mark.usefixtures("clear_streamlit_caches")


def test_without_a_study_the_app_explains_how_to_open_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONCORD_STUDY", raising=False)
    at = app(None).run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "coding init" in text and "coding demo" in text


def test_a_missing_study_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    at = app(tmp_path / "nope.db").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Sign in"]


def test_signed_out_user_sees_only_sign_in(team_db: Path) -> None:
    at = app(team_db).run()
    assert [t.value for t in at.title] == ["Sign in"]
    with pytest.raises(ValueError):
        at.switch_page(PAGES["resolve"])


def test_sign_in_with_the_right_password(team_db: Path) -> None:
    at = app(team_db).run()
    at.text_input(key="signin-name").input("rosa")
    at.text_input(key="signin-password").input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert at.session_state["user"] == "rosa"
    assert [t.value for t in at.title] == ["Study"]


def test_sign_in_with_a_wrong_password_is_refused(team_db: Path) -> None:
    at = app(team_db).run()
    at.text_input(key="signin-name").input("rosa")
    at.text_input(key="signin-password").input("wrong")
    at.button[0].click().run()
    assert "user" not in at.session_state
    assert "wrong password" in at.error[0].value


def _try(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="signin-name").input(name)
    at.text_input(key="signin-password").input(password)
    return at.button[0].click().run()


def test_failures_in_one_session_lock_the_name_in_another(team_db: Path) -> None:
    first = app(team_db).run()
    for _ in range(access.LOCK_AFTER):
        _try(first, "rosa", "wrong")
    assert "wrong password" in first.error[0].value
    second = app(team_db).run()  # a new tab, a new session: nothing carried in session state
    _try(second, "rosa", PASSWORD)  # even the right password waits out the lockout
    assert not second.exception
    assert "user" not in second.session_state
    assert "too many failed sign" in second.error[0].value
    with Store.open(team_db) as store:
        events = store.events()
    assert list(events[events["action"] == "sign_in_locked"]["subject"]) == ["rosa"]


def test_sign_in_page_offers_an_oidc_user_outside_the_study_a_log_out(
    team_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONCORD_AUTH", "oidc")
    at = app(team_db)
    at.user = {"is_logged_in": True, "email": "eve@example.org", "email_verified": True}
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Sign in"]
    assert [b.label for b in at.button] == ["Log out"]


@pytest.mark.parametrize(
    ("verified", "title"), [(True, "Study"), (False, "Sign in"), (None, "Sign in")]
)
def test_oidc_needs_a_verified_email(
    team_db: Path, monkeypatch: pytest.MonkeyPatch, verified: bool | None, title: str
) -> None:
    with Store.open(team_db) as store:
        access.add_user(store, "rosa@example.org", "reviewer", PASSWORD, "tester")
    monkeypatch.setenv("CONCORD_AUTH", "oidc")
    at = app(team_db)
    identity: dict[str, object] = {"is_logged_in": True, "email": "rosa@example.org"}
    if verified is not None:
        identity["email_verified"] = verified
    at.user = identity  # type: ignore[assignment]
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == [title]


def test_a_coder_cannot_reach_the_resolve_page(team_db: Path) -> None:
    at = app(team_db, "amira").run()
    for page in ("resolve", "agreement", "export", "users"):
        with pytest.raises(ValueError):
            at.switch_page(PAGES[page])


def test_a_reviewer_cannot_reach_the_code_page(team_db: Path) -> None:
    at = app(team_db, "rosa").run()
    with pytest.raises(ValueError):
        at.switch_page(PAGES["code"])


def test_a_name_not_in_the_study_gets_only_sign_in(team_db: Path) -> None:
    at = app(team_db, "mallory").run()
    assert [t.value for t in at.title] == ["Sign in"]


def test_proxy_header_identifies_the_user(team_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONCORD_AUTH", "proxy")
    at = app(team_db)
    at.user = {"name": "rosa"}
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Study"]
    at.switch_page(PAGES["resolve"]).run()
    assert [t.value for t in at.title] == ["Resolve"]


def test_sign_out_returns_to_sign_in(team_db: Path) -> None:
    at = open_page(team_db, "amira", "study")
    at.button(key="sign-out").click().run()
    assert [t.value for t in at.title] == ["Sign in"]
