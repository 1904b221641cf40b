"""The study path of agreement: read + matrix + report from a stored study, cold and after one
edit, beside the engine on the same data in memory (the floor).

Run through ``python benchmarks/agreement.py --study-sizes 20000,100000``. For each size a
study is generated (``studygen``: documents of 1,000 units, 10 codes, 2 coders, ~90%
agreement) and stored through the Store in bulk, with a suggestion run (NLP agrees with the
first coder on ~85% of decisions) and reviewer decisions on 1% of the disputed pairs; the
second coder leaves 20 units unsubmitted for the edits. Printed, medians over repeats:

* the engine alone on the frames in memory (``agreement_table``), the floor;
* ``AgreementData.read`` (the read and the unit x code x coder arrays), ``agreement_report``
  on it (what ``coding agreement`` computes) and ``pairwise_report`` (``--pairwise``), each
  with a fresh read;
* the Agreement page's service (``agreement_views``, every view, 1,000 bootstrap replicates)
  cold, and with its kept data after one coder submits one unit and after a reviewer records
  one decision, with the rows recomputed and reused.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import studygen

from coding.agreement import agreement_table
from coding.model import Decision, Resolution, Suggestion, utcnow
from coding.service import access, disagreements
from coding.service import agreement as agreement_service
from coding.service import coder as coder_service
from coding.store import Store
from coding.store import schema as tables

OPERATOR = access.Operator("bench")
VIEWS = list(agreement_service.AgreementView)
OPEN_UNITS = 20


def _median(func: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        func()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def build(size: int, folder: Path, seed: int = 7) -> tuple[str, studygen.Study]:
    """The stored study of ``size`` units with suggestions, decisions and open units."""
    study = studygen.generate(size, seed)
    files = studygen.write_files(study, folder / "files")
    target = str(folder / "study.db")
    studygen.build_store(study, target, files.codebook)
    rng = np.random.default_rng(seed)
    with Store.open(target) as store:
        units = store.segment_spans()
        version = store.codebook_versions()[-1]
        first = study.applied[studygen.CODERS[0]]
        ids = units.sort_values(["document_id", "position"])["segment_id"].to_numpy()
        # segment_spans orders units as studygen made them: by document, then position
        noisy = first ^ (rng.random(first.shape) < 0.15)
        found = [
            Suggestion(ids[u], study.code_ids[k], 0.9, "bench")
            for u, k in zip(*np.nonzero(noisy), strict=True)
        ]
        documents = sorted(set(units["document_id"]))
        params = {"scored_documents": documents}
        store.add_suggestion_run("bench", "v1", version, params, found, "bench")
        disputed = disagreements(store)
        picked = disputed.sample(frac=0.01, random_state=seed)
        decisions = [
            Resolution(s, c, Decision.APPLY, "rita", "bench", utcnow(), None, version)
            for s, c in zip(picked["segment_id"], picked["code_id"], strict=True)
        ]
        store.add_resolutions(decisions, "bench")
        access.add_user(store, "ben", "coder", "ben-password-1", "bench")
        reopen = [str(s) for s in ids[:: max(1, size // OPEN_UNITS)][:OPEN_UNITS]]
        asg = tables.assignments
        with store.transaction("bench", "reopen", f"{len(reopen)} units") as conn:
            conn.execute(
                asg.update()
                .where(asg.c.coder == "ben", asg.c.segment_id.in_(reopen))
                .values(completed_at=None)
            )
    return target, study


def _page_after_edits(target: str, repeats: int) -> tuple[float, float, float, str]:
    """The page cold, then after one submission and after one decision (medians)."""
    live = agreement_service.LiveAgreement()
    cold = []
    with Store.open(target) as store:
        for _ in range(repeats):
            live = agreement_service.LiveAgreement()
            began = time.perf_counter()
            agreement_service.agreement_views(store, OPERATOR, VIEWS, 1000, live=live)
            cold.append(time.perf_counter() - began)
        asg = store.assignments_frame(["ben"])
        open_units = asg.loc[~asg["completed"], "segment_id"].tolist()
        codes = list(store.codebook().codebook.code_ids)
        submitted, decided = [], []
        counts = []
        for i in range(repeats):
            coder_service.save_unit(store, "ben", open_units[i], codes[: 1 + i % 4], submit=True)
            memo = live.data.memo if live.data else None
            before = (memo.computed, memo.reused) if memo else (0, 0)
            began = time.perf_counter()
            agreement_service.agreement_views(store, OPERATOR, VIEWS, 1000, live=live)
            submitted.append(time.perf_counter() - began)
            if memo is not None:
                counts.append((memo.computed - before[0], memo.reused - before[1]))
            pair = disagreements(store, open_only=True).iloc[i]
            store.add_resolutions(
                [
                    Resolution(
                        pair["segment_id"],
                        pair["code_id"],
                        Decision.REJECT,
                        "rita",
                        "bench",
                        utcnow(),
                        None,
                        1,
                    )
                ],
                "rita",
            )
            began = time.perf_counter()
            agreement_service.agreement_views(store, OPERATOR, VIEWS, 1000, live=live)
            decided.append(time.perf_counter() - began)
    rows = f"{counts[0][0]} rows recomputed, {counts[0][1]} reused" if counts else ""
    return (
        statistics.median(cold),
        statistics.median(submitted),
        statistics.median(decided),
        rows,
    )


def bench_study_path(sizes: list[int], repeats: int) -> None:
    print(f"4. the study path (SQLite, medians of {repeats}; the machine's load shows in these):")
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            _bench_size(size, Path(tmp), repeats)


def _bench_size(size: int, folder: Path, repeats: int) -> None:
    target, study = build(size, folder)
    ann, asg, seg, codes = studygen.frames(study)
    floor = _median(lambda: agreement_table(ann, asg, seg, codes), repeats)
    with Store.open(target) as store:
        read = _median(lambda: agreement_service.AgreementData.read(store), repeats)
        report = _median(
            lambda: agreement_service.agreement_report(agreement_service.AgreementData.read(store)),
            repeats,
        )
        pairwise = _median(lambda: agreement_service.pairwise_report(store), repeats)
    cold, submit, decide, rows = _page_after_edits(target, repeats)
    print(
        f"   {size:>7,} units: engine floor {floor:.3f} s | read + arrays {read:.3f} s, "
        f"read + report {report:.3f} s ({report / floor:.1f}x floor), "
        f"read + pairwise {pairwise:.3f} s\n"
        f"            Agreement page (4 views, 1,000 replicates): cold {cold:.3f} s, "
        f"after one submission {submit:.3f} s ({rows}), after one decision {decide:.3f} s"
    )
