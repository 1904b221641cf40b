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
    access.add_user(store, "rosa", "reviewer", "pw-test", "tester")
    assert access.sign_in(store, "rosa", "pw-test") == access.User("rosa", "reviewer")
    row = user_store.get_user(store, "rosa")
    assert row is not None and "pw-test" not in row.password_hash


@pytest.mark.parametrize(("name", "password"), [("rosa", "bad"), ("nobody", "pw-test")])
def test_sign_in_refuses_with_one_message(store: Store, name: str, password: str) -> None:
    access.add_user(store, "rosa", "reviewer", "pw-test", "tester")
    with pytest.raises(PermissionDenied, match="unknown user or wrong password"):
        access.sign_in(store, name, password)


def test_coder_user_becomes_a_coder(store: Store) -> None:
    access.add_user(store, "chloe", "coder", "pw-test", "tester")
    assert "chloe" in store.coders()


@pytest.mark.parametrize(
    ("name", "role", "password"),
    [
        ("nlp", "coder", "pw-test"),
        ("bad name", "coder", "pw-test"),
        ("x", "boss", "pw-test"),
        ("x", "coder", "pw"),
    ],
)
def test_add_user_refuses_bad_input(store: Store, name: str, role: str, password: str) -> None:
    with pytest.raises(CodingError):
        access.add_user(store, name, role, password, "tester")


def test_duplicate_user_is_a_conflict(store: Store) -> None:
    access.add_user(store, "rosa", "reviewer", "pw-test", "tester")
    with pytest.raises(Conflict):
        access.add_user(store, "rosa", "admin", "pw-test", "tester")


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
    access.add_user(store, "u", role, "pw-test", "tester")
    if allowed:
        assert access.require_role(store, "u", needed).name == "u"
    else:
        with pytest.raises(PermissionDenied):
            access.require_role(store, "u", needed)


def test_unknown_user_is_refused(store: Store) -> None:
    with pytest.raises(PermissionDenied, match="sign in"):
        access.require_role(store, "ghost", "coder")


def test_only_an_admin_adds_users_in_the_app(store: Store) -> None:
    access.add_user(store, "rosa", "reviewer", "pw-test", "tester")
    access.add_user(store, "root", "admin", "pw-test", "tester")
    with pytest.raises(PermissionDenied):
        access.add_user_as(store, "rosa", "eve", "admin", "pw-test")
    assert access.add_user_as(store, "root", "eve", "coder", "pw-test").role == "coder"


def test_set_password_own_or_as_admin(store: Store) -> None:
    access.add_user(store, "rosa", "reviewer", "pw-test", "tester")
    access.add_user(store, "ben", "coder", "pw-test", "tester")
    access.set_password(store, "rosa", "rosa", "new-pw")
    assert access.sign_in(store, "rosa", "new-pw").name == "rosa"
    with pytest.raises(PermissionDenied):
        access.set_password(store, "ben", "rosa", "hijack")


def test_cli_users_add_and_list(study: Path) -> None:
    runner = CliRunner()
    added = runner.invoke(
        cli,
        ["users", "add", str(study), "chloe", "--role", "coder", "--password-stdin"],
        input="pw-test\n",
    )
    assert added.exit_code == 0, added.output
    assert "added chloe (coder)" in added.output
    listed = runner.invoke(cli, ["users", "list", str(study)])
    assert listed.exit_code == 0
    assert "chloe" in listed.output and "coder" in listed.output
    with Store.open(study) as store:
        assert access.sign_in(store, "chloe", "pw-test").role == "coder"


def test_cli_users_add_twice_fails_cleanly(study: Path) -> None:
    runner = CliRunner()
    args = ["users", "add", str(study), "chloe", "--role", "coder", "--password-stdin"]
    runner.invoke(cli, args, input="pw-test\n")
    again = runner.invoke(cli, args, input="pw-test\n")
    assert again.exit_code == 1
    assert "already exists" in again.output
