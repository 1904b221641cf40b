"""The rules engine: lemma-level matching of each code's indicators, vetoed by its exclusions.

It needs no coding at all, so it can suggest from the first segment of a study. See
docs/suggestions.md for the conventions (wildcards, determiners, quoted veto phrases) and the
score.

Patterns are lemmas, but by default they are matched on the lower-case token text: each lemma
becomes the set of its surface forms (:func:`nlp.surface_forms`), so a text only needs the
tokenizer, not the lemmatizer. ``RuleMatcher(codebook, match_on="lemma")`` matches lemma against
lemma instead; the two give the same hits (tests compare them) and the lemma path is the
benchmark's baseline.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Self

import numpy as np
import pandas as pd
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from coding.errors import InvalidInput, Problem
from coding.model import Code, Codebook, Segment, Suggestion
from coding.suggest import nlp
from coding.suggest.base import SUGGESTERS, suggestions_from_scores, version_string

#: Words that may stand between the words of a multiword indicator: "attune to cues" also
#: matches "attuned to the cues" and "attune to their cues".
DETERMINERS = [
    *("a", "an", "the", "this", "that", "these", "those", "some", "any", "each", "every"),
    *("my", "your", "his", "her", "its", "our", "their"),
]

#: A phrase in single, double or curly quotes inside an exclusion criterion is a veto phrase.
#: A single quote only opens after a non-word character and only closes before one, so the
#: apostrophes in "parent's" or "baby's" are not taken for quotes.
QUOTED = re.compile(r"""(?<!\w)'(.+?)'(?!\w)|"(.+?)"|\u2018(.+?)\u2019|\u201c(.+?)\u201d""")

RULES_THRESHOLD = 0.5  # the score of a single hit: any unvetoed hit is suggested
REPEAT_WEIGHT = 0.25  # a repeated hit of the same indicator counts a quarter of a new one
#: A one-word pattern (such as "self-regulation", three tokens) is expanded into every sequence of
#: surface forms for the PhraseMatcher; past this many sequences it goes to the token Matcher.
MAX_FORM_SEQUENCES = 1000

MatchOn = Literal["lower", "lemma"]


@dataclass(frozen=True, slots=True)
class Pattern:
    """One indicator (or veto phrase) of a code, as lemma-level token specs.

    ``words`` holds one tuple of specs per whitespace-separated word; a spec is a lemma, or a
    lower-case prefix ending in "*" (a wildcard word such as "attun*").
    """

    code_id: str
    text: str
    veto: bool
    words: tuple[tuple[str, ...], ...]

    @property
    def needs_matcher(self) -> bool:
        """True for multiword or wildcard patterns (token Matcher); else the PhraseMatcher."""
        return len(self.words) > 1 or any(s.endswith("*") for w in self.words for s in w)


@dataclass(frozen=True, slots=True)
class Hit:
    """A matched span: character offsets into the text that was matched."""

    code_id: str
    start: int
    end: int
    text: str
    pattern: str


def rule_score(distinct: int, total: int) -> float:
    """Score for ``distinct`` indicators hit ``total`` times: 1 - 2^-(distinct + repeats / 4).

    Monotone in both; one hit gives 0.5, two different indicators 0.75, three 0.875.

    >>> rule_score(0, 0), rule_score(1, 1), rule_score(2, 2), rule_score(1, 5)
    (0.0, 0.5, 0.75, 0.75)
    """
    return float(1.0 - 2.0 ** -(distinct + REPEAT_WEIGHT * (total - distinct)))


def veto_phrases(code: Code) -> list[str]:
    """The quoted phrases in a code's exclusion criteria.

    >>> veto_phrases(Code("x", "X", "d", exclusion=("Not 'childcare logistics' or the parent's",)))
    ['childcare logistics']
    """
    found = []
    for criterion in code.exclusion:
        for match in QUOTED.finditer(criterion):
            phrase = next(g for g in match.groups() if g is not None).strip()
            if phrase:
                found.append(phrase)
    return found


def _word_specs(word: str) -> tuple[str, ...]:
    if word.endswith("*") and word.rstrip("*"):
        return (word.rstrip("*").lower() + "*",)
    return nlp.lemmatise(word)


def build_patterns(codebook: Codebook) -> list[Pattern]:
    """Indicator and veto patterns of every code; InvalidInput lists empty ones."""
    patterns: list[Pattern] = []
    problems: list[Problem] = []
    for code in codebook.codes:
        phrases = [(p, False) for p in code.indicators] + [(p, True) for p in veto_phrases(code)]
        for number, (phrase, veto) in enumerate(phrases, start=1):
            words = tuple(s for s in (_word_specs(w) for w in phrase.split()) if s)
            if not words:
                kind = "veto phrase" if veto else "indicator"
                problems.append(Problem(f"code {code.id}, {kind} {number}", "has no words"))
                continue
            patterns.append(Pattern(code.id, phrase.strip(), veto, words))
    if problems:
        raise InvalidInput(f"codebook {codebook.id}", problems)
    return patterns


def _lemma_spec(lemma: str, match_on: MatchOn) -> dict[str, object]:
    if match_on == "lemma":
        return {"LEMMA": lemma}
    forms = sorted(nlp.surface_forms(lemma))
    return {"LOWER": forms[0]} if len(forms) == 1 else {"LOWER": {"IN": forms}}


def _token_specs(pattern: Pattern, match_on: MatchOn) -> list[dict[str, object]]:
    tokens: list[dict[str, object]] = []
    for n, word in enumerate(pattern.words):
        if n > 0 and word[0] not in DETERMINERS:
            tokens.append({"LOWER": {"IN": DETERMINERS}, "OP": "?"})
        for spec in word:
            if spec.endswith("*"):
                tokens.append({"LOWER": {"REGEX": "^" + re.escape(spec[:-1])}})
            else:
                tokens.append(_lemma_spec(spec, match_on))
    return tokens


def _form_sequences(pattern: Pattern) -> Iterator[tuple[str, ...]]:
    """Every sequence of lower-case surface forms of a one-word pattern's lemmas."""
    return itertools.product(*(sorted(nlp.surface_forms(s)) for w in pattern.words for s in w))


def _sequence_count(pattern: Pattern) -> int:
    return math.prod(len(nlp.surface_forms(s)) for w in pattern.words for s in w)


class RuleMatcher:
    """Compiled indicator and veto patterns of one codebook.

    ``match_on="lower"`` (the default) matches the surface forms of each lemma on tokenizer
    output; ``"lemma"`` lemmatises every text and matches lemmas (the earlier implementation,
    kept as the reference). The hits are the same.

    spaCy's token Matcher, needed for multiword and wildcard patterns, calls Python for every
    token, so on the fast path each such pattern has a Matcher of its own that runs only on texts
    holding a surface form of every lemma in the pattern (found by the PhraseMatcher, which is
    cheap): a text without them cannot match.
    """

    def __init__(self, codebook: Codebook, *, match_on: MatchOn = "lower") -> None:
        self.patterns = build_patterns(codebook)
        self.match_on = match_on
        self._vocab = vocab = nlp.pipeline().vocab
        self._phrases = PhraseMatcher(vocab, attr=match_on.upper())
        self._tokens = Matcher(vocab)  # match_on="lemma": every token pattern, on every text
        self._gated: list[tuple[frozenset[int], Matcher]] = []  # (anchors needed, its Matcher)
        self._anchors: set[int] = set()
        self._by_key: dict[int, Pattern] = {}
        for n, pattern in enumerate(self.patterns):
            key = f"concord:{pattern.code_id}:{n}"
            self._by_key[vocab.strings.add(key)] = pattern
            if match_on == "lemma":
                if pattern.needs_matcher:
                    self._tokens.add(key, [_token_specs(pattern, match_on)])
                else:
                    lemmas = [s for w in pattern.words for s in w]
                    self._phrases.add(key, [Doc(vocab, words=lemmas, lemmas=lemmas)])
            elif pattern.needs_matcher or _sequence_count(pattern) > MAX_FORM_SEQUENCES:
                matcher = Matcher(vocab)
                matcher.add(key, [_token_specs(pattern, match_on)])
                self._gated.append((self._anchor_keys(pattern), matcher))
            else:
                self._phrases.add(
                    key, [Doc(vocab, words=list(w)) for w in _form_sequences(pattern)]
                )

    def _anchor_keys(self, pattern: Pattern) -> frozenset[int]:
        """PhraseMatcher keys for the surface forms of each (non-wildcard) lemma of a pattern."""
        keys = set()
        for lemma in {s for w in pattern.words for s in w if not s.endswith("*")}:
            name = f"concord-anchor:{lemma}"  # pattern keys start "concord:"
            key = self._vocab.strings.add(name)
            if key not in self._anchors:
                forms = sorted(nlp.surface_forms(lemma))
                self._phrases.add(name, [Doc(self._vocab, words=[f]) for f in forms])
                self._anchors.add(key)
            keys.add(key)
        return frozenset(keys)

    def hits(self, texts: Sequence[str]) -> list[list[Hit]]:
        """Unvetoed hits per text; offsets are character offsets into that text."""
        docs = nlp.token_docs(texts) if self.match_on == "lower" else nlp.lemma_docs(texts)
        return [self._doc_hits(doc) for doc in docs]

    def _matches(self, doc: Doc) -> list[tuple[int, int, int]]:
        """(key, start, end) of every pattern match, vetoes included, before any filtering."""
        raw: list[tuple[int, int, int]] = []
        if len(self._phrases):  # an empty matcher warns on every call
            raw.extend(self._phrases(doc))
        if self._anchors:
            present = {key for key, _, _ in raw if key in self._anchors}
            raw = [m for m in raw if m[0] not in self._anchors]
        else:
            present = set()
        for needed, matcher in self._gated:
            if needed <= present:
                raw.extend(matcher(doc))
        if len(self._tokens):
            raw.extend(self._tokens(doc))
        return raw

    def _doc_hits(self, doc: Doc) -> list[Hit]:
        found: dict[tuple[str, bool], list[tuple[int, int, Pattern]]] = {}
        for key, start, end in self._matches(doc):
            pattern = self._by_key[key]
            found.setdefault((pattern.code_id, pattern.veto), []).append((start, end, pattern))
        hits: list[Hit] = []
        for (code_id, veto), matches in found.items():
            if veto:
                continue
            kept = _longest_first(matches)
            vetoes = found.get((code_id, True))
            if vetoes:
                kept = _outside_vetoed_sentences(doc, kept, vetoes)
            for start, end, pattern in kept:
                span = doc[start:end]
                hits.append(Hit(code_id, span.start_char, span.end_char, span.text, pattern.text))
        hits.sort(key=lambda h: (h.start, h.end, h.code_id))
        return hits


def _longest_first(
    matches: list[tuple[int, int, Pattern]],
) -> list[tuple[int, int, Pattern]]:
    """Drop matches overlapping a longer (then earlier) match of the same code."""
    taken: set[int] = set()
    kept = []
    for start, end, pattern in sorted(matches, key=lambda m: (m[0] - m[1], m[0], m[2].text)):
        if taken.isdisjoint(range(start, end)):
            kept.append((start, end, pattern))
            taken.update(range(start, end))
    return sorted(kept, key=lambda m: m[0])


def _outside_vetoed_sentences(
    doc: Doc, kept: list[tuple[int, int, Pattern]], vetoes: list[tuple[int, int, Pattern]]
) -> list[tuple[int, int, Pattern]]:
    """Hits not in a sentence that also holds a veto phrase of the same code."""
    vetoed = [
        (s, e) for s, e in nlp.sentences(doc) if any(vs < e and ve > s for vs, ve, _ in vetoes)
    ]
    return [m for m in kept if not any(m[0] < e and m[1] > s for s, e in vetoed)]


class RulesSuggester:
    """Zero-shot suggestions from indicator hits. ``fit`` learns nothing; it exists for the
    protocol (the "auto" engine calibrates rule scores against reference labels)."""

    name = "rules"

    def __init__(self, codebook: Codebook, *, seed: int = 0) -> None:
        self.codebook = codebook
        self.seed = seed  # unused: the engine is deterministic
        self.matcher = RuleMatcher(codebook)
        with_patterns = {p.code_id for p in self.matcher.patterns if not p.veto}
        self._missing = [c for c in codebook.code_ids if c not in with_patterns]

    def fit(self, texts: Sequence[str], labels: pd.DataFrame, groups: Sequence[str]) -> Self:
        return self

    def _without_indicators(self) -> list[str]:
        return self._missing

    def thresholds(self) -> dict[str, float]:
        missing = self._without_indicators()
        return {c: RULES_THRESHOLD for c in self.codebook.code_ids if c not in missing}

    def reasons(self) -> dict[str, str]:
        return dict.fromkeys(self._without_indicators(), "the code has no indicators")

    @property
    def model_version(self) -> str:
        patterns = [(p.code_id, p.text, p.veto, p.words) for p in self.matcher.patterns]
        params = {"threshold": RULES_THRESHOLD, "repeat_weight": REPEAT_WEIGHT}
        return version_string(self.name, params, nlp.PIPELINE_VERSION, repr(patterns))

    def scores_from_hits(self, hits: Sequence[Sequence[Hit]]) -> pd.DataFrame:
        """One row per text, one column per code: :func:`rule_score` of its hits.

        A code without indicators gets NaN: the rules cannot say anything about it.
        """
        code_ids = list(self.codebook.code_ids)
        column = {c: j for j, c in enumerate(code_ids)}
        values = np.zeros((len(hits), len(code_ids)))
        for i, text_hits in enumerate(hits):
            per_code: dict[str, list[str]] = {}
            for hit in text_hits:
                per_code.setdefault(hit.code_id, []).append(hit.pattern)
            for code_id, patterns in per_code.items():
                values[i, column[code_id]] = rule_score(len(set(patterns)), len(patterns))
        for code_id in self._without_indicators():
            values[:, column[code_id]] = np.nan
        return pd.DataFrame(values, columns=code_ids)

    def scores(self, texts: Sequence[str]) -> pd.DataFrame:
        return self.scores_from_hits(self.matcher.hits(texts))

    def suggest(self, segments: Sequence[Segment]) -> list[Suggestion]:
        hits = self.matcher.hits([s.text for s in segments])
        scores = self.scores_from_hits(hits)

        def evidence(row: int, code_id: str) -> str:
            return spans_json(hits[row], code_id, segments[row].start)

        return suggestions_from_scores(
            segments, scores, self.thresholds(), evidence, self.name, self.model_version
        )


def spans_evidence(hits: Sequence[Hit], code_id: str, offset: int) -> list[dict[str, object]]:
    """A code's hits as evidence, with document offsets (``offset`` = the segment's start)."""
    return [
        {"start": h.start + offset, "end": h.end + offset, "text": h.text, "pattern": h.pattern}
        for h in hits
        if h.code_id == code_id
    ]


def spans_json(hits: Sequence[Hit], code_id: str, offset: int) -> str:
    """:func:`spans_evidence` as a JSON list."""
    return json.dumps(spans_evidence(hits, code_id, offset), ensure_ascii=False)


SUGGESTERS["rules"] = RulesSuggester
