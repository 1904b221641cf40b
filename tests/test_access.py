"""Users, roles, password hashing, sign-in and the role check on writes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import event

from coding import service
from coding.cli import cli
from coding.errors import CodingError, Conflict, PermissionDenied
from coding.export import tables
from coding.service import access
from coding.service import coder as coder_service
from coding.service import export as export_service
from coding.store import Store
from coding.store import base as store_base
from coding.store import users as user_store
from tests.conftest import DATA

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


# -- sign-in lockout: failures are rows of the audit trail, shared by every session ----------
class Clock:
    """A settable UTC clock for the store's timestamps and the lockout rules alike."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)  # every timestamp distinct and in order
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(store_base, "utcnow", fake)
    monkeypatch.setattr(access, "utcnow", fake)
    return fake


def _fail(store: Store, name: str, times: int, client: str | None = None) -> None:
    for _ in range(times):
        with pytest.raises(PermissionDenied, match="unknown user or wrong password"):
            access.sign_in(store, name, "wrong-password", client)


def _events(store: Store, action: str) -> list[tuple[str, str, dict[str, object]]]:
    rows = store.events()
    rows = rows[rows["action"] == action]
    return [(r.actor, r.subject, json.loads(r.detail)) for r in rows.itertuples()]


def test_failures_in_separate_calls_lock_the_name(store: Store, clock: Clock) -> None:
    access.add_user(store, "rosa", "reviewer", "pw-test-8", "tester")
    _fail(store, "rosa", access.LOCK_AFTER)  # each call is a fresh session: nothing carried
    with pytest.raises(PermissionDenied, match="too many failed sign-ins"):
        access.sign_in(store, "rosa", "pw-test-8")  # the right password is refused too
    failed = _events(store, user_store.SIGN_IN_FAILED)
    assert failed == [("(sign-in)", "rosa", {})] * access.LOCK_AFTER
    [(_actor, subject, detail)] = _events(store, "sign_in_locked")
    assert subject == "rosa" and detail["failures"] == access.LOCK_AFTER
    assert detail["seconds"] == access.LOCK_FOR.total_seconds()
    # Attempts while locked check no password and add no rows.
    assert len(_events(store, user_store.SIGN_IN_FAILED)) == access.LOCK_AFTER


def test_lockout_on_both_engines(target: str, clock: Clock) -> None:
    with service.init_study(target, "tester") as store:
        access.add_user(store, "rosa", "reviewer", "pw-test-8", "tester")
        _fail(store, "rosa", access.LOCK_AFTER, client="203.0.113.9")
        with pytest.raises(PermissionDenied, match="too many"):
            access.sign_in(store, "rosa", "pw-test-8", "198.51.100.7")
        clock.advance(access.LOCK_FOR + timedelta(seconds=1))
        assert access.sign_in(store, "rosa", "pw-test-8", "198.51.100.7").name == "rosa"


def test_an_unknown_name_counts_and_locks_like_a_known_one(store: Store, clock: Clock) -> None:
    _fail(store, "nobody", access.LOCK_AFTER)
    with pytest.raises(PermissionDenied, match="too many failed sign-ins"):
        access.sign_in(store, "nobody", "anything")
    assert [s for _a, s, _d in _events(store, "sign_in_locked")] == ["nobody"]


def test_a_lockout_expires_and_the_next_one_lasts_twice_as_long(store: Store, clock: Clock) -> None:
    access.add_user(store, "rosa", "reviewer", "pw-test-8", "tester")
    _fail(store, "rosa", access.LOCK_AFTER)
    clock.advance(access.LOCK_FOR - timedelta(seconds=5))
    with pytest.raises(PermissionDenied, match="too many"):
        access.sign_in(store, "rosa", "pw-test-8")
    clock.advance(timedelta(seconds=10))
    assert access.sign_in(store, "rosa", "pw-test-8").name == "rosa"
    _fail(store, "rosa", access.LOCK_AFTER - 1)  # a fresh count after the lockout ended
    _fail(store, "rosa", 1)
    seconds = [d["seconds"] for _a, _s, d in _events(store, "sign_in_locked")]
    assert seconds == [900, 1800]
    clock.advance(timedelta(minutes=20))
    with pytest.raises(PermissionDenied, match="too many"):
        access.sign_in(store, "rosa", "pw-test-8")
    clock.advance(timedelta(minutes=11))
    assert access.sign_in(store, "rosa", "pw-test-8").name == "rosa"


def test_failures_spread_beyond_the_window_do_not_lock(store: Store, clock: Clock) -> None:
    access.add_user(store, "rosa", "reviewer", "pw-test-8", "tester")
    _fail(store, "rosa", access.LOCK_AFTER - 1)
    clock.advance(access.WINDOW)
    _fail(store, "rosa", access.LOCK_AFTER - 1)
    assert access.sign_in(store, "rosa", "pw-test-8").name == "rosa"
    assert not _events(store, "sign_in_locked")


def test_one_client_address_guessing_many_names_is_locked(store: Store, clock: Clock) -> None:
    access.add_user(store, "rosa", "reviewer", "pw-test-8", "tester")
    for i in range(access.CLIENT_LOCK_AFTER):
        _fail(store, f"name{i}", 1, client="203.0.113.9")
    with pytest.raises(PermissionDenied, match="too many"):
        access.sign_in(store, "rosa", "pw-test-8", "203.0.113.9")
    assert access.sign_in(store, "rosa", "pw-test-8", "198.51.100.7").name == "rosa"
    [(_actor, subject, detail)] = _events(store, "sign_in_locked_client")
    assert subject == "203.0.113.9" and detail["failures"] == access.CLIENT_LOCK_AFTER
    assert _events(store, user_store.SIGN_IN_FAILED)[0][2] == {"client": "203.0.113.9"}


def test_a_typed_name_cannot_lock_a_client_address(store: Store, clock: Clock) -> None:
    access.add_user(store, "rosa", "reviewer", "pw-test-8", "tester")
    _fail(store, "203.0.113.9", access.LOCK_AFTER)
    assert access.sign_in(store, "rosa", "pw-test-8", "203.0.113.9").name == "rosa"


def test_the_audit_export_withholds_what_was_typed_at_sign_in(store: Store, clock: Clock) -> None:
    _fail(store, "my-password-typed-as-name", access.LOCK_AFTER, client="203.0.113.9")
    shown = tables.audit_events(store.events(), store.assignments_frame())
    sign_in = shown[shown["action"].str.startswith("sign_in")]
    assert len(sign_in) == access.LOCK_AFTER + 1
    assert set(sign_in["subject"]) == {""} and set(sign_in["detail"]) == {"{}"}


@pytest.mark.sqlite_only("reads SQLite's EXPLAIN QUERY PLAN")
def test_counting_failures_reads_only_recent_sign_in_events(store: Store) -> None:
    """The sign-in query uses the events (action, at) index, so its cost does not grow with
    the audit trail (the plan is checked, not a timing, which a busy machine would skew)."""
    ran: list[tuple[str, object]] = []

    def keep(
        _conn: object, _cursor: object, statement: str, parameters: object, *_: object
    ) -> None:
        ran.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", keep)
    try:
        since = datetime(2025, 1, 1, tzinfo=UTC)
        assert user_store.sign_in_events(store, "rosa", "203.0.113.9", since) == []
    finally:
        event.remove(store.engine, "before_cursor_execute", keep)
    [(query, parameters)] = [(q, p) for q, p in ran if "FROM events" in q]
    with store.engine.connect() as conn:
        plan = " ".join(
            str(row[-1])
            for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + query, parameters)  # type: ignore[arg-type]
        )
    assert "USING INDEX ix_events_action_at" in plan, plan
    assert "SCAN events" not in plan, plan


# -- PostgreSQL: the documented roles (docs/postgres-roles.sql) -----------------------------
ROLES_SQL = Path(__file__).parent.parent / "docs" / "postgres-roles.sql"


def _as(url: str, role: str) -> str:
    """The same database as another role (the test server trusts local connections)."""
    return url.replace("://concord@", f"://{role}@", 1)


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture
def team_pg(postgres_server: str, small_codebook: Path) -> str:
    """A study set up as docs/security.md says: created by concord_owner, then the roles."""
    import psycopg

    from tests import pg

    url = pg.fresh_database(postgres_server)
    with psycopg.connect(_dsn(url), autocommit=True) as conn:
        conn.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'concord_owner') "
            "THEN CREATE ROLE concord_owner LOGIN; END IF; END $$"
        )
        conn.execute(f'ALTER DATABASE "{url.rsplit("/", 1)[1]}" OWNER TO concord_owner')
        conn.execute("ALTER SCHEMA public OWNER TO concord_owner")
    owner = _as(url, "concord_owner")
    with service.init_study(owner, "tester", small_codebook) as store:
        service.import_documents(store, [DATA / "manual.md"], "tester")
        for name, role in (("amira", "coder"), ("ben", "coder"), ("rosa", "reviewer")):
            access.add_user(store, name, role, "pw-test-8", "tester")
            if role == "coder":
                service.assign(store, name, "tester")
    with psycopg.connect(_dsn(url), autocommit=True) as conn:
        conn.execute(ROLES_SQL.read_text(encoding="utf-8"))
        conn.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mallory') "
            "THEN CREATE ROLE mallory LOGIN; END IF; END $$"
        )
    return url


def test_the_app_role_runs_the_app_but_cannot_rewrite_the_audit_trail(team_pg: str) -> None:
    import psycopg

    app_url = _as(team_pg, "concord_app")
    with Store.open(app_url) as store:
        assert access.sign_in(store, "amira", "pw-test-8").name == "amira"
        with pytest.raises(PermissionDenied):
            access.sign_in(store, "amira", "wrong-password")
        unit = store.segments()[0].id
        coder_service.save_unit(store, "amira", unit, ["calm", "cues"], "draft memo")
        coder_service.save_unit(
            store, "amira", unit, ["calm"], "memo", submit=True
        )  # deletes 'cues'
        assert list(store.annotations_frame()["code_id"]) == ["calm"]
        name, content = export_service.export_download(store, "rosa", "segments", "csv")
        assert name == "coded_segments.csv" and b"calm" in content
    with psycopg.connect(_dsn(app_url), autocommit=True) as conn:
        for statement in (
            "UPDATE events SET detail = '{}'",
            "DELETE FROM events",
            "TRUNCATE events",
            "DELETE FROM schema_version",
            "CREATE TABLE stolen (x int)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_a_role_without_grants_cannot_read_coders_work(team_pg: str) -> None:
    import psycopg

    with Store.open(_as(team_pg, "concord_app")) as store:
        coder_service.save_unit(store, "amira", store.segments()[0].id, ["calm"], submit=True)
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(_dsn(_as(team_pg, "mallory")))
    # Even a role let in to connect (say, for monitoring) reads none of the study's tables.
    with psycopg.connect(_dsn(team_pg), autocommit=True) as conn:
        conn.execute(f'GRANT CONNECT ON DATABASE "{team_pg.rsplit("/", 1)[1]}" TO mallory')
    with psycopg.connect(_dsn(_as(team_pg, "mallory")), autocommit=True) as conn:
        for table in ("annotations", "unit_memos", "resolutions", "users", "events"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"SELECT * FROM public.{table}")


def test_the_app_role_cannot_run_a_migration(team_pg: str) -> None:
    import psycopg

    with psycopg.connect(_dsn(_as(team_pg, "concord_owner")), autocommit=True) as conn:
        row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
        assert row is not None
        newest = int(row[0])
        conn.execute("DELETE FROM schema_version WHERE version = %s", (newest,))  # look older
    with pytest.raises(CodingError, match=r"cannot open the database.*permission denied"):
        Store.open(_as(team_pg, "concord_app"))
    with Store.open(_as(team_pg, "concord_owner")) as store:  # `coding migrate` as the owner
        assert store.schema_version() == newest
    with Store.open(_as(team_pg, "concord_app")) as store:
        assert access.sign_in(store, "rosa", "pw-test-8").role == "reviewer"
