"""Users, roles, password hashing, sign-in and the role check on writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from coding.cli import cli
from coding.errors import CodingError, Conflict, PermissionDenied
from coding.service import access
from coding.store import Store
from coding.store import users as user_store

pytestmark = pytest.mark.both_engines


def test_password_hash_verifies_and_is_salted() -> None:
    first, second = access.hash_password("s3cret"), access.hash_password("s3cret")
    assert first != second
    assert first.startswith("scrypt$")
    assert access.verify_password("s3cret", first)
    assert not access.verify_password("wrong", first)


@pytest.mark.parametrize("stored", ["", "plain", "scrypt$1$2$3$zz$zz", "md5$a$b$c$d$e"])
def test_malformed_hash_never_verifies(stored: str) -> None:
    assert not access.verify_password("x", stored)


def test_added_user_signs_in_and_password_is_not_stored(store: Store) -> None:
    access.add_user(store, "rosa", "reviewer", "pw-test-8", "tester")
    assert access.sign_in(store, "rosa", "pw-test-8") == access.User("rosa", "reviewer")
    row = user_store.get_user(store, "rosa")
    assert row is not None and "pw-test-8" not in row.password_hash


@pytest.mark.parametrize(("name", "password"), [("rosa", "bad"), ("nobody", "pw-test-8")])
def test_sign_in_refuses_with_one_message(store: Store, name: str, password: str) -> None:
    access.add_user(store, "rosa", "reviewer", "pw-test-8", "tester")
    with pytest.raises(PermissionDenied, match="unknown user or wrong password"):
        access.sign_in(store, name, password)


def test_an_unknown_name_costs_a_password_check_too(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    access.add_user(store, "rosa", "reviewer", "pw-test-8", "tester")
    checked: list[str] = []
    real = access.verify_password

    def spy(password: str, stored: str) -> bool:
        checked.append(stored)
        return real(password, stored)

    monkeypatch.setattr(access, "verify_password", spy)
    for name in ("rosa", "nobody"):
        with pytest.raises(PermissionDenied):
            access.sign_in(store, name, "wrong-password")
    assert len(checked) == 2 and all(h.startswith("scrypt$16384$") for h in checked)


def test_a_password_needs_eight_characters(store: Store) -> None:
    with pytest.raises(CodingError, match="at least 8"):
        access.add_user(store, "rosa", "reviewer", "1234567", "tester")
    with pytest.raises(CodingError, match="at least 8"):
        access.set_password(store, "rosa", "rosa", "short")


def test_a_shorter_password_only_when_asked_for(store: Store) -> None:
    access.add_user(store, "amira", "coder", "demo", "demo", min_length=4)
    assert access.sign_in(store, "amira", "demo").name == "amira"


def test_coder_user_becomes_a_coder(store: Store) -> None:
    access.add_user(store, "chloe", "coder", "pw-test-8", "tester")
    assert "chloe" in store.coders()


@pytest.mark.parametrize(
    ("name", "role", "password"),
    [
        ("nlp", "coder", "pw-test-8"),
        ("bad name", "coder", "pw-test-8"),
        ("x", "boss", "pw-test-8"),
        ("x", "coder", "pw"),
    ],
)
def test_add_user_refuses_bad_input(store: Store, name: str, role: str, password: str) -> None:
    with pytest.raises(CodingError):
        access.add_user(store, name, role, password, "tester")


def test_duplicate_user_is_a_conflict(store: Store) -> None:
    access.add_user(store, "rosa", "reviewer", "pw-test-8", "tester")
    with pytest.raises(Conflict):
        access.add_user(store, "rosa", "admin", "pw-test-8", "tester")


@pytest.mark.parametrize(
    ("role", "needed", "allowed"),
    [
        ("coder", "coder", True),
        ("coder", "reviewer", False),
        ("reviewer", "coder", False),
        ("reviewer", "reviewer", True),
        ("admin", "coder", True),
        ("admin", "reviewer", True),
        ("reviewer", "admin", False),
    ],
)
def test_require_role(store: Store, role: str, needed: str, allowed: bool) -> None:
    access.add_user(store, "u", role, "pw-test-8", "tester")
    if allowed:
        assert access.require_role(store, "u", needed).name == "u"
    else:
        with pytest.raises(PermissionDenied):
            access.require_role(store, "u", needed)


def test_unknown_user_is_refused(store: Store) -> None:
    with pytest.raises(PermissionDenied, match="sign in"):
        access.require_role(store, "ghost", "coder")


def test_only_an_admin_adds_users_in_the_app(store: Store) -> None:
    access.add_user(store, "rosa", "reviewer", "pw-test-8", "tester")
    access.add_user(store, "root", "admin", "pw-test-8", "tester")
    with pytest.raises(PermissionDenied):
        access.add_user_as(store, "rosa", "eve", "admin", "pw-test-8")
    assert access.add_user_as(store, "root", "eve", "coder", "pw-test-8").role == "coder"


def test_set_password_own_or_as_admin(store: Store) -> None:
    access.add_user(store, "rosa", "reviewer", "pw-test-8", "tester")
    access.add_user(store, "ben", "coder", "pw-test-8", "tester")
    access.set_password(store, "rosa", "rosa", "new-pw-long")
    assert access.sign_in(store, "rosa", "new-pw-long").name == "rosa"
    with pytest.raises(PermissionDenied):
        access.set_password(store, "ben", "rosa", "hijack-it-now")


def test_cli_users_add_and_list(study: Path) -> None:
    runner = CliRunner()
    added = runner.invoke(
        cli,
        ["users", "add", str(study), "chloe", "--role", "coder", "--password-stdin"],
        input="pw-test-8\n",
    )
    assert added.exit_code == 0, added.output
    assert "added chloe (coder)" in added.output
    listed = runner.invoke(cli, ["users", "list", str(study)])
    assert listed.exit_code == 0
    assert "chloe" in listed.output and "coder" in listed.output
    with Store.open(study) as store:
        assert access.sign_in(store, "chloe", "pw-test-8").role == "coder"


def test_cli_users_add_twice_fails_cleanly(study: Path) -> None:
    runner = CliRunner()
    args = ["users", "add", str(study), "chloe", "--role", "coder", "--password-stdin"]
    runner.invoke(cli, args, input="pw-test-8\n")
    again = runner.invoke(cli, args, input="pw-test-8\n")
    assert again.exit_code == 1
    assert "already exists" in again.output
