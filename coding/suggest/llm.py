"""The "llm" engine: a language model on the team's own server reads the codebook and each unit.

Nothing is trained: the codebook is the prompt (:mod:`coding.suggest.llm_prompt`) and every
unit is one question to an OpenAI-compatible server (:mod:`coding.suggest.llm_client`). A code
the model applies scores its confidence (at least ``APPLIED_FLOOR``), a code it leaves out
scores 0, and every applied code is suggested. Evidence is the model's quote, found in the unit
and given as document offsets, like the rules' matched spans. Answers already known (a cache
the caller keeps, by model, prompt hash and unit text hash) are not asked again. A unit whose
question failed has no scores (NaN) and no suggestions; :class:`Tally` counts it.

The engine needs a server, so it is not in ``SUGGESTERS``; the service builds it with
:class:`LLMSession`, which ``evaluate`` takes through its ``factory`` argument.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Self

import numpy as np
import pandas as pd

from coding.model import Codebook, OnProgress, ProgressEvent, Segment, Suggestion, no_progress
from coding.suggest.base import suggestions_from_scores
from coding.suggest.llm_client import ChatClient, LLMSettings, ask_all, shown_url
from coding.suggest.llm_prompt import (
    APPLIED_FLOOR,
    AnswerError,
    Reading,
    parse_answer,
    prompt_hash,
    read_answer,
    system_prompt,
    text_hash,
    user_message,
)

SAVE_EVERY = 100  # answers held before they are handed to ``save``
FEATURES = "the codebook as a prompt to a language model (no training)"
Known = Callable[[str], Mapping[str, str]]  # prompt hash -> {text hash: answer content}
Save = Callable[[str, dict[str, str]], None]  # prompt hash, {text hash: answer content}


@dataclass
class Tally:
    """What a session did: questions sent, answers from the cache, failures and checks."""

    sent: int = 0
    from_cache: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # text hash -> why
    dropped_quotes: int = 0
    unknown_codes: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "from_cache": self.from_cache,
            "failed": len(self.failed),
            "dropped_quotes": self.dropped_quotes,
            "unknown_codes": dict(sorted(self.unknown_codes.items())),
        }


class LLMSession:
    """Asks one model about units through a cache of known answers, and tallies what happened.

    ``known(prompt_hash)`` gives the answers already kept for this model and prompt, by unit
    text hash; ``save(prompt_hash, answers)`` receives new answers in batches (and the last
    ones when asking ends, even on an error), on the calling thread.
    """

    def __init__(
        self,
        codebook: Codebook,
        settings: LLMSettings,
        known: Known,
        save: Save,
        on_progress: OnProgress = no_progress,
    ) -> None:
        self.codebook = codebook
        self.settings = settings
        self.system = system_prompt(codebook)
        self.prompt_hash = prompt_hash(self.system)
        self.client = ChatClient(settings, self.system)
        self.answers = dict(known(self.prompt_hash))
        self.save = save
        self.on_progress = on_progress
        self.tally = Tally()

    @property
    def model_version(self) -> str:
        return f"llm:{self.settings.model}@{self.prompt_hash[:12]}"

    @property
    def url(self) -> str:
        return shown_url(self.client.url)

    def readings(self, texts: Sequence[str]) -> list[Reading | None]:
        """What the model says of each text (None where asking failed), asking only the texts
        whose answer is not known yet, each distinct text once."""
        hashes = [text_hash(t) for t in texts]
        todo = {h: t for h, t in zip(hashes, texts, strict=True) if h not in self.answers}
        self.tally.from_cache += len(set(hashes)) - len(todo)
        if todo:
            self._ask(todo)
        code_ids = self.codebook.code_ids
        out: list[Reading | None] = []
        for h, text in zip(hashes, texts, strict=True):
            content = self.answers.get(h)
            if content is None:
                out.append(None)
                continue
            try:
                reading = read_answer(content, code_ids, text)
            except AnswerError as err:  # a kept answer that an older reading accepted
                self.tally.failed[h] = str(err)
                out.append(None)
                continue
            self.tally.dropped_quotes += reading.dropped_quotes
            self.tally.unknown_codes.update(reading.unknown_codes)
            out.append(reading)
        return out

    def _ask(self, todo: dict[str, str]) -> None:
        total, pending = len(todo), {}
        sending = f"{total} unit texts to {self.url} (model {self.settings.model})"
        self.on_progress(ProgressEvent("sending", item=sending))
        self.on_progress(ProgressEvent("asking the model", 0, total))

        def answered(key: str, content: str) -> None:
            self.answers[key] = pending[key] = content
            self.tally.sent += 1
            step()

        def failed(key: str, reason: str) -> None:
            self.tally.failed[key] = reason
            step()

        def step() -> None:
            done = self.tally.sent + len(self.tally.failed)
            self.on_progress(ProgressEvent("asking the model", done, total))
            if len(pending) >= SAVE_EVERY:
                self._flush(pending)

        questions = [(h, user_message(t)) for h, t in todo.items()]
        try:
            ask_all(self.client, questions, parse_answer, answered, failed)
        finally:
            self._flush(pending)

    def _flush(self, pending: dict[str, str]) -> None:
        if pending:
            self.save(self.prompt_hash, dict(pending))
            pending.clear()

    def suggester(self, codebook: Codebook, *, seed: int = 0) -> LLMSuggester:
        """A suggester asking through this session (a ``SuggesterFactory`` for ``evaluate``)."""
        return LLMSuggester(codebook, self)


class LLMSuggester:
    """Engine "llm": the Suggester protocol over an :class:`LLMSession`. ``fit`` learns nothing;
    ``share`` asks about every text once, for every fold of an evaluation."""

    name = "llm"

    def __init__(self, codebook: Codebook, session: LLMSession) -> None:
        self.codebook = codebook
        self.session = session

    def fit(self, texts: Sequence[str], labels: pd.DataFrame, groups: Sequence[str]) -> Self:
        return self

    def share(self, texts: Sequence[str]) -> list[Reading | None]:
        return self.session.readings(texts)

    def fit_rows(
        self,
        shared: list[Reading | None],
        rows: Sequence[int] | np.ndarray,
        labels: pd.DataFrame,
        groups: Sequence[str],
    ) -> Self:
        return self

    def _frame(self, readings: Sequence[Reading | None]) -> pd.DataFrame:
        code_ids = list(self.codebook.code_ids)
        values = np.zeros((len(readings), len(code_ids)))
        for i, reading in enumerate(readings):
            if reading is None:
                values[i] = np.nan
                continue
            for j, code_id in enumerate(code_ids):
                values[i, j] = reading.codes.get(code_id, 0.0)
        return pd.DataFrame(values, columns=code_ids)

    def scores(self, texts: Sequence[str]) -> pd.DataFrame:
        return self._frame(self.session.readings(texts))

    def scores_rows(
        self, shared: list[Reading | None], rows: Sequence[int] | np.ndarray
    ) -> pd.DataFrame:
        return self._frame([shared[int(i)] for i in rows])

    def thresholds(self) -> dict[str, float]:
        return dict.fromkeys(self.codebook.code_ids, APPLIED_FLOOR)

    def reasons(self) -> dict[str, str]:
        return {}

    @property
    def model_version(self) -> str:
        return self.session.model_version

    def suggest(self, segments: Sequence[Segment]) -> list[Suggestion]:
        return self._suggest(self.session.readings([s.text for s in segments]), segments)

    def suggest_rows(
        self,
        shared: list[Reading | None],
        rows: Sequence[int] | np.ndarray,
        segments: Sequence[Segment],
    ) -> list[Suggestion]:
        return self._suggest([shared[int(i)] for i in rows], segments)

    def _suggest(
        self, readings: Sequence[Reading | None], segments: Sequence[Segment]
    ) -> list[Suggestion]:
        def evidence(row: int, code_id: str) -> str:
            reading, segment = readings[row], segments[row]
            assert reading is not None  # a failed unit scores NaN and is never suggested
            return llm_evidence(reading, code_id, segment, self.session.settings.model)

        return suggestions_from_scores(
            segments,
            self._frame(readings),
            self.thresholds(),
            evidence,
            self.name,
            self.model_version,
        )


def llm_evidence(reading: Reading, code_id: str, segment: Segment, model: str) -> str:
    """The evidence JSON of one suggestion: the quotes found, as document offsets.

    >>> seg = Segment("s", "d", 10, 26, "Staff calm down.")
    >>> json.loads(llm_evidence(Reading({"calm": 0.8}, {"calm": [(6, 10)]}), "calm", seg, "m"))
    ... # doctest: +NORMALIZE_WHITESPACE
    {'source': 'llm', 'model': 'm', 'scores': {'llm': 0.8},
     'spans': [{'start': 16, 'end': 20, 'text': 'calm'}]}
    """
    spans = [
        {"start": segment.start + a, "end": segment.start + b, "text": segment.text[a:b]}
        for a, b in reading.spans.get(code_id, [])
    ]
    out: dict[str, object] = {
        "source": "llm",
        "model": model,
        "scores": {"llm": round(reading.codes[code_id], 6)},
        "spans": spans,
    }
    if not spans:
        out["reason"] = "the model quoted nothing that is in the unit"
    return json.dumps(out, ensure_ascii=False)
