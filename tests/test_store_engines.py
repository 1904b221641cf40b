"""The same store code on SQLite and PostgreSQL: the whole workflow, rollback, concurrency."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from coding import service
from coding.errors import Conflict
from coding.model import Annotation
from coding.service import access
from coding.store import Store
from coding.store.migrations import MIGRATIONS
from tests.conftest import DATA, write_codings


def test_the_workflow_runs_end_to_end(target: str, tmp_path: Path) -> None:
    with service.init_study(target, "t", DATA / "codebook_small.yaml") as store:
        assert store.schema_version() == len(MIGRATIONS)
        service.import_documents(store, [DATA / "manual.md"], "t")
        units = [s.id for s in store.segments()]
        service.add_coders(store, ["amira", "ben"], "t")
        path = write_codings(
            tmp_path / "c.csv", [(units[1], "amira", "calm"), (units[2], "ben", "cues")]
        )
        service.import_codings(store, path, "t")
        found = service.disagreements(store)
        assert len(found) == 2
        access.add_user(store, "rosa", "reviewer", "pw-test-8", "t")
        service.resolve(store, "rosa", units[1], "calm", "apply", "Parent calms herself")
        info = service.study_overview(store, service.Operator("tests")).as_dict()
    assert (info["documents"], info["segments"], info["annotations"]) == (1, 4, 2)
    assert (info["disagreements_open"], info["disagreements_resolved"]) == (1, 1)
    with Store.open(target) as reopened:
        assert reopened.current_resolutions_frame()["decision"].tolist() == ["apply"]


def test_a_failed_write_rolls_back_on_each_engine(target: str) -> None:
    with service.init_study(target, "t", DATA / "codebook_small.yaml") as store:
        service.import_documents(store, [DATA / "manual.md"], "t")
        service.add_coders(store, ["amira"], "t")
        before = store.revision()
        one = Annotation(store.segments()[0].id, "calm", "amira", codebook_version=1)
        with pytest.raises(Conflict):
            store.add_annotations([one, one], "t")
        assert store.revision() == before and store.count("annotations") == 0


def test_creating_twice_is_refused_on_each_engine(target: str) -> None:
    service.init_study(target, "t").close()
    with pytest.raises(Conflict):
        Store.open(target, create=True)


def test_concurrent_writers_lose_nothing_on_each_engine(target: str) -> None:
    service.init_study(target, "t").close()
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with Store.open(target) as store:
                for i in range(15):
                    store.set_setting(f"w{n}-{i}", str(i), f"writer{n}")
        except BaseException as err:  # collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    with Store.open(target) as store:
        assert sum(k.startswith("w") for k in store.settings()) == 90


def test_a_decision_made_meanwhile_is_not_overridden_unseen(target: str, tmp_path: Path) -> None:
    from coding.model import Decision, Resolution, utcnow

    with service.init_study(target, "t", DATA / "codebook_small.yaml") as store:
        service.import_documents(store, [DATA / "manual.md"], "t")
        unit = store.segments()[1].id

        def decision(reviewer: str, choice: Decision) -> Resolution:
            return Resolution(unit, "calm", choice, reviewer, "why", utcnow(), codebook_version=1)

        # Both reviewers looked while no decision stood; the first one to record wins.
        first = store.add_resolutions(
            [decision("rosa", Decision.APPLY)], "rosa", expected={(unit, "calm"): None}
        )
        with pytest.raises(Conflict, match=f"another decision \\(#{first[0]}\\)"):
            store.add_resolutions(
                [decision("sam", Decision.REJECT)], "sam", expected={(unit, "calm"): None}
            )
        # Having seen it, the second reviewer may supersede it.
        store.add_resolutions(
            [decision("sam", Decision.REJECT)], "sam", expected={(unit, "calm"): first[0]}
        )
        assert store.current_resolutions_frame()["reviewer"].tolist() == ["sam"]
        assert [r.decision for r in store.resolutions()] == [Decision.APPLY, Decision.REJECT]
