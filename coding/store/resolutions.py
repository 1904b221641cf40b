"""NLP suggestion runs and reviewers' decisions (resolutions) on coders' work."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, insert, select

from coding.errors import Conflict
from coding.model import Decision, Resolution, Suggestion
from coding.store import schema as t
from coding.store.base import StoreBase, serialise, timestamp
from coding.store.bulk import insert_many

if TYPE_CHECKING:
    import pandas as pd


class ResolutionMixin(StoreBase):
    """Suggestions proposed by NLP engines and the decisions reviewers record."""

    # -- suggestions -----------------------------------------------------------------------
    def add_suggestion_run(
        self,
        engine: str,
        model_version: str,
        codebook_version: int,
        params: dict[str, Any],
        suggestions: Sequence[Suggestion],
        actor: str,
    ) -> int:
        """Store one run of a suggestion engine with its provenance; return the run id."""
        revision = self.revision()
        detail = {"engine": engine, "model_version": model_version, "n": len(suggestions)}
        with self.transaction(actor, "suggest", engine, detail) as conn:
            run_id = conn.execute(
                insert(t.suggestion_runs)
                .values(
                    engine=engine,
                    model_version=model_version,
                    codebook_version=codebook_version,
                    data_revision=revision,
                    params=json.dumps(params, sort_keys=True),
                    created_at=timestamp(),
                )
                .returning(t.suggestion_runs.c.id)
            ).scalar_one()
            if suggestions:
                insert_many(conn, t.suggestions, _suggestion_rows(int(run_id), suggestions))
        return int(run_id)

    def suggestion_runs(self) -> pd.DataFrame:
        """Every suggestion run with its provenance, oldest first."""
        return self.frame(select(t.suggestion_runs).order_by(t.suggestion_runs.c.id))

    def suggestions_frame(self, engine: str | None = None) -> pd.DataFrame:
        """Suggestions of the newest run (of ``engine``, or of any engine), with provenance."""
        r, sg = t.suggestion_runs, t.suggestions
        newest = select(func.max(r.c.id))
        if engine is not None:
            newest = newest.where(r.c.engine == engine)
        query = (
            select(
                sg.c.segment_id,
                sg.c.code_id,
                sg.c.score,
                sg.c.evidence,
                r.c.id.label("run_id"),
                r.c.engine,
                r.c.model_version,
                r.c.codebook_version,
                r.c.data_revision,
            )
            .join(r, r.c.id == sg.c.run_id)
            .where(r.c.id == newest.scalar_subquery())
            .order_by(sg.c.segment_id, sg.c.score.desc(), sg.c.code_id)
        )
        return self.frame(query)

    # -- resolutions -----------------------------------------------------------------------
    def add_resolutions(
        self,
        resolutions: Sequence[Resolution],
        actor: str,
        expected: Mapping[tuple[str, str], int | None] | None = None,
    ) -> list[int]:
        """Record reviewer decisions; each supersedes the current one for its (segment, code).

        ``expected`` maps (segment, code) to the standing decision id the reviewer saw (None:
        none). If another decision was recorded since, nothing is written and Conflict says
        so: no reviewer overrides a decision they have not seen.
        """
        ids: list[int] = []
        detail = {
            "decisions": [[r.segment_id, r.code_id, str(r.decision)] for r in resolutions],
            "reviewers": sorted({r.reviewer for r in resolutions}),
        }
        with self.transaction(actor, "resolve", f"{len(resolutions)} decisions", detail) as conn:
            for res in resolutions:
                # one decider at a time per (unit, code) on PostgreSQL
                serialise(conn, f"resolution:{res.segment_id}:{res.code_id}")
                current = self._current_resolution(conn, res.segment_id, res.code_id)
                key = (res.segment_id, res.code_id)
                if expected is not None and key in expected and expected[key] != current:
                    raise Conflict(
                        f"segment {res.segment_id} code {res.code_id}: another decision "
                        f"(#{current}) was recorded meanwhile; reload and look again"
                        if current is not None
                        else f"segment {res.segment_id} code {res.code_id}: the decision you "
                        "saw was withdrawn meanwhile; reload and look again"
                    )
                if res.decision is Decision.WITHDRAW and current is None:
                    raise Conflict(f"segment {res.segment_id} code {res.code_id}: nothing to undo")
                new_id = conn.execute(
                    insert(t.resolutions)
                    .values(
                        segment_id=res.segment_id,
                        code_id=res.code_id,
                        codebook_version=res.codebook_version,
                        decision=str(res.decision),
                        reviewer=res.reviewer,
                        rationale=res.rationale,
                        at=timestamp(res.at),
                        supersedes=current,
                    )
                    .returning(t.resolutions.c.id)
                ).scalar_one()
                ids.append(int(new_id))
        return ids

    @staticmethod
    def _current_resolution(conn: Connection, segment_id: str, code_id: str) -> int | None:
        r = t.resolutions
        query = (
            select(r.c.id, r.c.decision)
            .where(r.c.segment_id == segment_id, r.c.code_id == code_id)
            .order_by(r.c.id.desc())
            .limit(1)
        )
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).first()
        return None if row is None or row.decision == Decision.WITHDRAW else int(row.id)

    def resolutions(self) -> list[Resolution]:
        """Every decision ever recorded, oldest first (the full history)."""
        frame = self.frame(select(t.resolutions).order_by(t.resolutions.c.id))
        return [
            Resolution(
                segment_id=r.segment_id,
                code_id=r.code_id,
                decision=Decision(r.decision),
                reviewer=r.reviewer,
                rationale=r.rationale,
                at=datetime.fromisoformat(r.at),
                id=int(r.id),
                codebook_version=int(r.codebook_version),
            )
            for r in frame.itertuples()
        ]

    def current_resolutions_frame(self) -> pd.DataFrame:
        """The standing decision per (segment, code): newest row unless it is a withdrawal."""
        frame = self.frame(select(t.resolutions).order_by(t.resolutions.c.id))
        if frame.empty:
            return frame
        newest = frame.groupby(["segment_id", "code_id"], sort=False).tail(1)
        return newest[newest["decision"] != Decision.WITHDRAW].reset_index(drop=True)


def _suggestion_rows(run_id: int, suggestions: Sequence[Suggestion]) -> pd.DataFrame:
    """The rows of a run's suggestions, one column at a time (in bulk, in the given order).
    Text columns stay Python objects: a string column would copy every evidence text."""
    import pandas as pd

    def texts(values: list[str]) -> pd.Series:
        return pd.Series(values, dtype=object)

    return pd.DataFrame(
        {
            "run_id": [run_id] * len(suggestions),
            "segment_id": texts([s.segment_id for s in suggestions]),
            "code_id": texts([s.code_id for s in suggestions]),
            "score": [s.score for s in suggestions],
            "evidence": texts([s.evidence for s in suggestions]),
        }
    )
