"""A suggestion's evidence read for people: spans to highlight and plain-text lines.

Every engine's evidence JSON (the rules' list of matched spans; the supervised engine's terms,
neighbours and threshold; the "auto" engine's scores, spans and either of those) becomes places
in the text to highlight plus short sentences. Nothing here is ever shown as raw JSON, and
nothing needs Streamlit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

WORD_PREFIX, RULE_PREFIX = "word:", "rule:"
SHORTEST_SHOWN = 4  # terms of short words only ("to", "and to") are listed, not highlighted


@dataclass(frozen=True)
class Evidence:
    """Where the evidence is in the text (document offsets) and what else it says."""

    spans: list[tuple[int, int, str]] = field(default_factory=list)  # start, end, why
    lines: list[str] = field(default_factory=list)


def read_evidence(
    evidence: str, text: str, start: int, names: Mapping[str, str] | None = None
) -> Evidence:
    """Evidence of one suggestion on a unit whose ``text`` starts at document offset ``start``.

    ``names`` maps code ids to names for the sentences.

    >>> rules = '[{"start": 14, "end": 18, "text": "calm", "pattern": "calm"}]'
    >>> read_evidence(rules, "She was calm.", 6)
    Evidence(spans=[(14, 18, 'matched "calm"')], lines=['Matched: "calm".'])
    >>> found = read_evidence('{"terms": [{"term": "word:calm"}]}', "She was calm.", 6)
    >>> found.spans, found.lines
    ([(14, 18, 'weighs for the code: "calm"')], ['Words that raised the score: calm.'])
    >>> read_evidence("{not json", "x", 0).lines
    ['The evidence of this suggestion cannot be read.']
    """
    try:
        data = json.loads(evidence) if evidence else None
    except json.JSONDecodeError:
        return Evidence(lines=["The evidence of this suggestion cannot be read."])
    if data is None or data == []:
        return Evidence(lines=["No evidence recorded."])
    if isinstance(data, list):
        return _matched(data)
    if not isinstance(data, dict):
        return Evidence(lines=["The evidence of this suggestion cannot be read."])
    found = _matched(data.get("spans") or []) if data.get("spans") else Evidence()
    spans, lines = list(found.spans), list(found.lines)
    lines[:0] = _scores(data)
    term_spans, term_lines = _terms(data.get("terms") or [], text, start, names or {})
    spans += term_spans
    lines += term_lines
    lines += _neighbours(data.get("neighbours") or [], names or {})
    lines += _calibration(data)
    if data.get("reason"):
        lines.append(f"Note: {data['reason']}.")
    return Evidence(spans, lines or ["No evidence recorded."])


def _matched(items: list[Any]) -> Evidence:
    """The rules' evidence: matched spans with document offsets."""
    spans, shown = [], []
    for item in items:
        if not isinstance(item, dict) or "start" not in item or "end" not in item:
            continue
        matched = str(item.get("text", ""))
        spans.append((int(item["start"]), int(item["end"]), f'matched "{matched}"'))
        pattern = str(item.get("pattern", ""))
        same = not pattern or pattern.lower() == matched.lower()
        shown.append(f'"{matched}"' if same else f'"{matched}" (indicator "{pattern}")')
    lines = [f"Matched: {'; '.join(dict.fromkeys(shown))}."] if shown else []
    return Evidence(spans, lines)


def _scores(data: dict[str, Any]) -> list[str]:
    """The "auto" engine: which engine's score counts, and both scores."""
    scores = data.get("scores")
    if not isinstance(scores, dict):
        return []
    parts = [
        f"{engine} {float(value):.2f}"
        for engine, value in scores.items()
        if isinstance(value, int | float)
    ]
    source = data.get("source")
    lead = f"Scored by the {source} engine" if source else "Scores"
    return [f"{lead} ({', '.join(parts)})."] if parts else []


def _terms(
    terms: list[Any], text: str, start: int, names: Mapping[str, str]
) -> tuple[list[tuple[int, int, str]], list[str]]:
    """Supervised evidence: the words (highlighted where they occur, unless all of a term's
    words are short) and the rule features that raised the score most."""
    words, rules, spans = [], [], []
    for item in terms:
        term = str(item.get("term", "")) if isinstance(item, dict) else ""
        if term.startswith(WORD_PREFIX):
            word = term.removeprefix(WORD_PREFIX)
            words.append(word)
            if max((len(w) for w in word.split()), default=0) < SHORTEST_SHOWN:
                continue
            spans += [
                (start + a, start + b, f'weighs for the code: "{word}"')
                for a, b in find_term(word, text)
            ]
        elif term.startswith(RULE_PREFIX):
            code_id = term.removeprefix(RULE_PREFIX)
            rules.append(names.get(code_id, code_id))
    lines = []
    if words:
        lines.append(f"Words that raised the score: {', '.join(words)}.")
    if rules:
        lines.append(f"Indicator matches of {', '.join(rules)} raised the score.")
    return spans, lines


def find_term(term: str, text: str) -> list[tuple[int, int]]:
    """Where a word n-gram of the supervised engine occurs in ``text`` (case ignored; the
    engine's tokens are words of two or more characters, so one-character words between the
    two words of a pair are skipped, as the engine skipped them).

    >>> find_term("took breath", "She took a breath. Took breath!")
    [(4, 17), (19, 30)]
    """
    parts = [re.escape(w) for w in term.split()]
    if not parts:
        return []
    pattern = r"\b" + r"\W+(?:\w\W+)*".join(parts) + r"\b"
    return [(m.start(), m.end()) for m in re.finditer(pattern, text, flags=re.IGNORECASE)]


def _neighbours(items: list[Any], names: Mapping[str, str]) -> list[str]:
    shown = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("similarity"), int | float):
            continue
        codes = [names.get(str(c), str(c)) for c in item.get("codes") or []]
        shown.append(
            f"similarity {float(item['similarity']):.2f} ({', '.join(codes) or 'no codes'})"
        )
    return [f"Most similar coded units: {'; '.join(shown)}."] if shown else []


def _calibration(data: dict[str, Any]) -> list[str]:
    lines = []
    threshold = data.get("threshold")
    if isinstance(threshold, int | float):
        kind = "calibrated" if data.get("calibrated") else "not calibrated"
        lines.append(f"Suggested from a score of {float(threshold):.2f} up ({kind} model).")
    calibration = data.get("calibration")
    if isinstance(calibration, dict) and calibration.get("hits"):
        lines.append(
            f"On the coded units, coders applied the code on {calibration.get('applied', 0)} "
            f"of {calibration['hits']} units where its indicators matched."
        )
    return lines
