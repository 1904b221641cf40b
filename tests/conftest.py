"""Shared fixtures: a study with a small codebook, a small corpus, and a coded study."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from coding import service
from coding.store import Store

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


@pytest.fixture
def study(tmp_path: Path, small_codebook: Path) -> Path:
    """An empty study with the small codebook (version 1)."""
    path = tmp_path / "study.db"
    service.init_study(path, "tester", small_codebook).close()
    return path


@pytest.fixture
def store(study: Path) -> Iterator[Store]:
    with Store.open(study) as opened:
        yield opened


@pytest.fixture
def corpus_db(study: Path) -> Path:
    """The small study with tests/data/manual.md imported (paragraph units)."""
    with Store.open(study) as opened:
        service.import_documents(opened, [DATA / "manual.md"], "tester", programme="Small Steps")
    return study


def write_codings(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """A codings CSV of (segment_id, coder, code) rows."""
    lines = ["segment_id,coder,code"] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def coded_db(corpus_db: Path, tmp_path: Path) -> Path:
    """Two coders, all units completed; they disagree on 'calm' in unit 1 and 'cues' in unit 3.

    Units (paragraphs) of manual.md: 0 intro, 1 phase-one stress/calm, 2 attunes/cues,
    3 check-in.
    """
    with Store.open(corpus_db) as opened:
        units = [s.id for s in opened.segments()]
        service.add_coders(opened, ["amira", "ben"], "tester")
        rows = [
            (units[1], "amira", "calm"),
            (units[2], "amira", "cues"),
            (units[2], "ben", "cues"),
            (units[3], "ben", "cues"),
        ]
        csv_path = write_codings(tmp_path / "codings.csv", rows)
        service.import_codings(opened, csv_path, "tester")
    return corpus_db


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    from tests import pg

    reason = pg.why_unavailable()
    if reason and os.environ.get("CI"):
        pytest.fail(f"CI must run the PostgreSQL tests: {reason}", pytrace=False)
    if reason:
        pytest.skip(reason)
    with pg.server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A place for a new study on each engine: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "study.db")
    from tests import pg

    return pg.fresh_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def team_db(coded_db: Path) -> Path:
    """The coded study with app users: amira, ben, chloe (coders), rosa (reviewer), admin."""
    from tests.ui_helpers import add_team

    return add_team(coded_db)


@pytest.fixture
def clear_streamlit_caches() -> Iterator[None]:
    """st.cache_data is shared by every AppTest in a process: start each test clean."""
    import streamlit as st

    st.cache_data.clear()
    yield
