"""Shared fixtures: a study with a small codebook, a small corpus, and a coded study.

Engines. ``study``, ``store``, ``corpus_db``, ``coded_db``, ``team_db``, ``targets`` and
``target`` live on the engine named by the ``engine`` fixture. By default that is SQLite, and
the study fixtures give a file path, as they always did. A module that sets
``pytestmark = pytest.mark.both_engines`` (or a single test so marked) runs every test that
uses these fixtures twice, ``[sqlite]`` and ``[postgresql]``; on PostgreSQL the same fixtures
give the URL of a fresh database, copied with ``CREATE DATABASE ... TEMPLATE`` from a template
built once per session (tests/pg.py). Such a test must treat its study as a path or a URL
(``Store.open``, the CLI); one whose subject is SQLite's file (paths, WAL, the write lock)
carries ``@pytest.mark.sqlite_only("why")``. Tests that ask for ``target`` run on both engines
everywhere. Every PostgreSQL run carries the ``postgres`` marker (so does any test that
asks for ``postgres_server`` itself): ``-m "not postgres"`` skips
them for a quick run, ``-m postgres`` runs only them. The server is started once per test
process from the Debian binaries, or taken from CONCORD_TEST_POSTGRES_URL; without one the
PostgreSQL tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from coding import service
from coding.store import Store
from tests import pg

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent

os.environ.setdefault("CONCORD_USER", "tester")

# Property tests. "ci" (the default, used by `make test`): the same examples on every run and
# clone (derandomised), no example database carried between runs, no per-example deadline (two
# busy cores make timings meaningless). "fuzz" (`make fuzz`, on purpose): fresh random seeds and
# many examples; failures found are saved under .hypothesis/fuzz and replayed by later fuzz runs,
# never by `make test`.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=60,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz",
    derandomize=False,
    database=DirectoryBasedExampleDatabase(str(ROOT / ".hypothesis" / "fuzz")),
    deadline=None,
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "2000")),
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def small_codebook() -> Path:
    return DATA / "codebook_small.yaml"


# -- the engines -------------------------------------------------------------------------------
ENGINES = (
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run a test on both engines when it is marked ``both_engines`` or asks for ``target``.

    ``sqlite_only("why")`` on a test keeps it on SQLite inside a ``both_engines`` module.
    """
    if "engine" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("sqlite_only") is not None:
        return
    if (
        metafunc.definition.get_closest_marker("both_engines") is not None
        or "target" in metafunc.fixturenames
    ):
        metafunc.parametrize("engine", ENGINES, indirect=True)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that asks for the PostgreSQL server itself is a PostgreSQL test too."""
    for item in items:
        if "postgres_server" in getattr(item, "fixturenames", ()) and not item.get_closest_marker(
            "postgres"
        ):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def engine(request: pytest.FixtureRequest) -> str:
    """The engine a test's study lives on: "sqlite" unless the test runs on both engines."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    reason = pg.why_unavailable()
    if reason and os.environ.get("CI"):
        pytest.fail(f"CI must run the PostgreSQL tests: {reason}", pytrace=False)
    if reason:
        pytest.skip(reason)
    with pg.server() as url:
        yield url


@pytest.fixture(scope="session")
def pg_templates(postgres_server: str) -> Iterator[pg.Templates]:
    """The session's template databases (an empty study, then one per fixture step below)."""
    templates = pg.Templates(postgres_server, _STEPS)
    yield templates
    templates.drop_all()


@contextlib.contextmanager
def new_target(engine: str, request: pytest.FixtureRequest, folder: Path) -> Iterator[str]:
    """A place for a new study, for fixtures of any scope: a file in ``folder`` on SQLite, or
    a fresh database on PostgreSQL (dropped afterwards)."""
    if engine == "sqlite":
        yield str(folder / "study.db")
        return
    templates: pg.Templates = request.getfixturevalue("pg_templates")
    with templates.copy(None) as url:
        yield url


@pytest.fixture
def targets(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], str]]:
    """Places for new studies on the test's engine: SQLite files, or fresh PostgreSQL databases."""
    with contextlib.ExitStack() as stack:

        def new() -> str:
            folder = Path(tempfile.mkdtemp(dir=tmp_path))
            return stack.enter_context(new_target(engine, request, folder))

        if engine != "sqlite":
            request.getfixturevalue("pg_templates")  # now, not during the test
        yield new


@pytest.fixture
def target(targets: Callable[[], str]) -> str:
    """A place for a new study on each engine: a SQLite file, or a fresh PostgreSQL database."""
    return targets()


# -- the study fixtures: each step is a function of the study, so that PostgreSQL can keep a
# -- template database per step and give each test a copy (much faster than redoing the steps)
def _new_study(target: str | Path) -> None:
    service.init_study(target, "tester", DATA / "codebook_small.yaml").close()


def _import_manual(target: str | Path) -> None:
    with Store.open(target) as opened:
        service.import_documents(opened, [DATA / "manual.md"], "tester", programme="Small Steps")


def write_codings(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """A codings CSV of (segment_id, coder, code) rows."""
    lines = ["segment_id,coder,code"] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _code_two_coders(target: str | Path) -> None:
    with Store.open(target) as opened, tempfile.TemporaryDirectory() as scratch:
        units = [s.id for s in opened.segments()]
        service.add_coders(opened, ["amira", "ben"], "tester")
        rows = [
            (units[1], "amira", "calm"),
            (units[2], "amira", "cues"),
            (units[2], "ben", "cues"),
            (units[3], "ben", "cues"),
        ]
        csv_path = write_codings(Path(scratch) / "codings.csv", rows)
        service.import_codings(opened, csv_path, "tester")


def _add_team(target: str | Path) -> None:
    from tests.ui_helpers import add_team

    add_team(target)


# name -> (the step it builds on, the step itself)
_STEPS: dict[str, tuple[str | None, Callable[[str | Path], None]]] = {
    "study": (None, _new_study),
    "corpus": ("study", _import_manual),
    "coded": ("corpus", _code_two_coders),
    "team": ("coded", _add_team),
}


def _on_engine(
    engine: str, request: pytest.FixtureRequest, step: str, on_sqlite: Callable[[], Path]
) -> Iterator[Path | str]:
    """The study after ``step``: built on SQLite, a copy of its template on PostgreSQL."""
    if engine == "sqlite":
        yield on_sqlite()
        return
    templates: pg.Templates = request.getfixturevalue("pg_templates")
    with templates.copy(step) as url:
        yield url


@pytest.fixture
def study(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path | str]:
    """An empty study with the small codebook (version 1): a file path, or a URL on PostgreSQL."""

    def on_sqlite() -> Path:
        path = tmp_path / "study.db"
        _new_study(path)
        return path

    yield from _on_engine(engine, request, "study", on_sqlite)


@pytest.fixture
def store(study: Path | str) -> Iterator[Store]:
    with Store.open(study) as opened:
        yield opened


@pytest.fixture
def corpus_db(engine: str, request: pytest.FixtureRequest) -> Iterator[Path | str]:
    """The small study with tests/data/manual.md imported (paragraph units)."""

    def on_sqlite() -> Path:
        path: Path = request.getfixturevalue("study")
        _import_manual(path)
        return path

    yield from _on_engine(engine, request, "corpus", on_sqlite)


@pytest.fixture
def coded_db(engine: str, request: pytest.FixtureRequest) -> Iterator[Path | str]:
    """Two coders, all units completed; they disagree on 'calm' in unit 1 and 'cues' in unit 3.

    Units (paragraphs) of manual.md: 0 intro, 1 phase-one stress/calm, 2 attunes/cues,
    3 check-in.
    """

    def on_sqlite() -> Path:
        path: Path = request.getfixturevalue("corpus_db")
        _code_two_coders(path)
        return path

    yield from _on_engine(engine, request, "coded", on_sqlite)


@pytest.fixture
def team_db(engine: str, request: pytest.FixtureRequest) -> Iterator[Path | str]:
    """The coded study with app users: amira, ben, chloe (coders), rosa (reviewer), admin."""

    def on_sqlite() -> Path:
        path: Path = request.getfixturevalue("coded_db")
        _add_team(path)
        return path

    yield from _on_engine(engine, request, "team", on_sqlite)


@pytest.fixture
def clear_streamlit_caches() -> Iterator[None]:
    """st.cache_data is shared by every AppTest in a process: start each test clean."""
    import streamlit as st

    st.cache_data.clear()
    yield
