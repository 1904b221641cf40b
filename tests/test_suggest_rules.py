"""The rules engine: lemma-level indicator patterns, exclusion vetoes, scores and evidence."""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from coding.codebook import read_codebook
from coding.errors import InvalidInput
from coding.model import Code, Codebook, Segment, segment_id_for
from coding.suggest import (
    RuleMatcher,
    RulesSuggester,
    build_patterns,
    lemmatise,
    nlp,
    rule_score,
    veto_phrases,
)

ATTUNEMENT = Code(
    "caregiver_attunement",
    "Caregiver attunement",
    "Reading and responding to the infant's signals.",
    exclusion=("Routine 'childcare logistics' with no reading of the infant's cues: do not code.",),
    indicators=("attuned", "attune to cues", "cues", "follow the baby's lead"),
)
CALM = Code("emotion_regulation", "Emotion regulation", "d", indicators=("calm", "self-regulation"))
CODEBOOK = Codebook("rules", "Rules", (ATTUNEMENT, CALM))


@pytest.fixture(scope="module")
def rules() -> RulesSuggester:
    return RulesSuggester(CODEBOOK)


def matched(rules: RulesSuggester, text: str) -> list[tuple[str, str]]:
    return [(h.text, h.pattern) for h in rules.matcher.hits([text])[0]]


def segment(text: str, document_id: str = "doc", start: int = 0) -> Segment:
    end = start + len(text)
    return Segment(segment_id_for(document_id, start, end), document_id, start, end, text)


def test_lookup_lemmatizer_lowercases_before_lookup() -> None:
    assert lemmatise("Attuned Cues attuning") == ("attune", "cue", "attune")


@pytest.mark.parametrize("word", ["attuned", "attunes", "attuning", "Attune", "ATTUNED"])
def test_indicator_matches_lemma_variants(rules: RulesSuggester, word: str) -> None:
    assert matched(rules, f"She {word} quickly.") == [(word, "attuned")]


def test_indicator_in_the_plural_matches_the_singular(rules: RulesSuggester) -> None:
    assert matched(rules, "One cue was missed.") == [("cue", "cues")]


def test_multiword_indicator_matches_inflected_phrase(rules: RulesSuggester) -> None:
    assert matched(rules, "He attunes to cues.") == [("attunes to cues", "attune to cues")]


def test_multiword_indicator_skips_a_determiner(rules: RulesSuggester) -> None:
    assert matched(rules, "attuned to their cues") == [("attuned to their cues", "attune to cues")]


def test_multiword_indicator_needs_its_words_together(rules: RulesSuggester) -> None:
    hits = matched(rules, "attuned quickly to cues")
    assert ("attuned quickly to cues", "attune to cues") not in hits
    assert hits == [("attuned", "attuned"), ("cues", "cues")]


def test_longest_match_wins_over_the_words_inside_it(rules: RulesSuggester) -> None:
    assert [p for _, p in matched(rules, "attuned to the cues")] == ["attune to cues"]


def test_possessive_multiword_indicator(rules: RulesSuggester) -> None:
    assert matched(rules, "Parents followed the baby's lead.") == [
        ("followed the baby's lead", "follow the baby's lead")
    ]


def test_hyphenated_indicator_matches_as_one_phrase(rules: RulesSuggester) -> None:
    assert matched(rules, "Self-regulation grows.") == [("Self-regulation", "self-regulation")]


def test_wildcard_indicator_matches_derived_forms() -> None:
    code = Code("attune", "A", "d", indicators=("attun*",))
    engine = RulesSuggester(Codebook("w", "W", (code,)))
    assert [h.text for h in engine.matcher.hits(["Attunement and attuning."])[0]] == [
        "Attunement",
        "attuning",
    ]


@pytest.mark.parametrize(
    ("criterion", "phrases"),
    [
        ("Routine 'childcare logistics': do not code.", ["childcare logistics"]),
        ('Not "drug testing" or "dosing".', ["drug testing", "dosing"]),
        ("Not \u2018rotas\u2019 nor \u201cparking\u201d.", ["rotas", "parking"]),
        ("The parent's own skills; the baby's cues.", []),
        ("Prompts such as 'check the baby's nappy' only.", ["check the baby's nappy"]),
    ],
)
def test_veto_phrases_are_the_quoted_phrases_of_exclusions(
    criterion: str, phrases: list[str]
) -> None:
    assert veto_phrases(Code("x", "X", "d", exclusion=(criterion,))) == phrases


def test_build_patterns_marks_veto_patterns() -> None:
    vetoes = [p for p in build_patterns(CODEBOOK) if p.veto]
    assert [(p.code_id, p.words) for p in vetoes] == [
        ("caregiver_attunement", (("childcare",), ("logistic",)))
    ]


def test_veto_phrase_removes_hits_in_its_sentence(rules: RulesSuggester) -> None:
    text = "Cues about childcare logistics are listed. The mother reads her baby's cues."
    hits = rules.matcher.hits([text])[0]
    assert [(h.text, h.start) for h in hits] == [("cues", text.rindex("cues"))]


def test_veto_phrase_alone_vetoes_every_hit_of_its_sentence(rules: RulesSuggester) -> None:
    assert rules.scores(["Cues and childcare logistics."]).loc[0, "caregiver_attunement"] == 0


def test_veto_applies_only_to_its_own_code(rules: RulesSuggester) -> None:
    hits = rules.matcher.hits(["Stay calm about childcare logistics."])[0]
    assert [h.code_id for h in hits] == ["emotion_regulation"]


def test_indicator_without_words_is_reported() -> None:
    code = Code("x", "X", "d", indicators=("ok", "  "))
    with pytest.raises(InvalidInput, match="code x, indicator 2"):
        build_patterns(Codebook("b", "B", (code,)))


@pytest.mark.parametrize(
    ("distinct", "total", "score"),
    [(0, 0, 0.0), (1, 1, 0.5), (2, 2, 0.75), (3, 3, 0.875), (1, 5, 0.75)],
)
def test_rule_score_values(distinct: int, total: int, score: float) -> None:
    assert rule_score(distinct, total) == pytest.approx(score)


def test_rule_score_rises_with_hits() -> None:
    scores = [rule_score(d, t) for d in range(1, 5) for t in range(d, 8)]
    assert all(0 < s < 1 for s in scores)
    assert rule_score(2, 2) > rule_score(1, 2) > rule_score(1, 1)


def test_code_without_indicators_gets_no_score() -> None:
    codebook = Codebook("b", "B", (CALM, Code("other", "O", "d")))
    engine = RulesSuggester(codebook)
    assert math.isnan(engine.scores(["calm"]).loc[0, "other"])
    assert "other" not in engine.thresholds()
    assert engine.reasons() == {"other": "the code has no indicators"}


def test_evidence_offsets_point_into_the_document(rules: RulesSuggester) -> None:
    document = (
        "Intro.\n\nShe attuned to the cues and stayed calm. Then she followed the baby's lead."
    )
    start = document.index("She")
    [*suggestions] = rules.suggest([segment(document[start:], start=start)])
    spans = [span for s in suggestions for span in json.loads(s.evidence)]
    assert len(spans) == 3
    for span in spans:
        assert document[span["start"] : span["end"]] == span["text"]


def test_suggestions_sorted_by_score_then_code(rules: RulesSuggester) -> None:
    segments = [segment("calm"), segment("attuned to cues; calm, self-regulation", start=10)]
    suggestions = rules.suggest(segments)
    keys = [(-s.score, s.code_id) for s in suggestions]
    assert keys == sorted(keys)
    assert {s.engine for s in suggestions} == {"rules"}
    assert all(s.model_version.startswith("rules:") for s in suggestions)


def test_model_version_changes_with_the_indicators() -> None:
    changed = Code(CALM.id, CALM.name, CALM.definition, indicators=("calm", "soothe"))
    assert (
        RulesSuggester(Codebook("b", "B", (CALM,))).model_version
        != RulesSuggester(Codebook("b", "B", (changed,))).model_version
    )


WORDS = ["She", "attuned", "to", "the", "cues", "calm", "childcare", "logistics", "baby", "."]


def sentences(words: list[str]) -> list[list[str]]:
    """The words split as the sentencizer splits them: after each run of full stops."""
    found: list[list[str]] = [[]]
    for before, word in itertools.pairwise([None, *words]):
        if before == "." and word != ".":
            found.append([])
        found[-1].append(word)
    return found


def has_veto(sentence: list[str]) -> bool:
    """'childcare logistics' is in the sentence, perhaps with a determiner between its words."""
    joined = " ".join(sentence)
    return "childcare logistics" in joined or "childcare the logistics" in joined


def attunement_expected(words: list[str]) -> bool:
    """An attunement indicator stands in a sentence without the veto 'childcare logistics'."""
    return any(
        ("cues" in sentence or "attuned" in sentence) and not has_veto(sentence)
        for sentence in sentences(words)
    )


@example(words=["She", "attuned", "to", "the", "cues", "."], prefix="ab\n")  # has evidence
@example(words=["cues", "childcare", "logistics"], prefix="")  # vetoed: no evidence
@example(words=["cues", ".", "childcare", "logistics"], prefix="")  # veto in another sentence
@given(
    words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=25),
    prefix=st.text(alphabet="ab \n", max_size=8),
)
def test_every_evidence_span_is_the_document_text(words: list[str], prefix: str) -> None:
    engine = RulesSuggester(CODEBOOK)
    text = " ".join(words)
    document = prefix + text
    suggestions = engine.suggest([segment(text, start=len(prefix))])
    for suggestion in suggestions:
        for span in json.loads(suggestion.evidence):
            assert document[span["start"] : span["end"]] == span["text"]
    # exclusion phrases veto their own sentence only: an unvetoed indicator is always suggested
    suggested = {s.code_id for s in suggestions}
    assert ("caregiver_attunement" in suggested) == attunement_expected(words)


# -- the fast path (surface forms on LOWER) gives the lemma path's hits ---------------------------

ROOT = Path(__file__).resolve().parents[1]
STRESS = Codebook(
    "stress",
    "Stress",
    (
        ATTUNEMENT,
        CALM,
        Code(
            "tricky",
            "Tricky",
            "Determiners, short lemmas, wildcards, possessives and hyphens.",
            exclusion=("Not 'be a parent' or \u201cthe baby's feeding\u201d.",),
            indicators=(
                "be safe",
                "a bond",
                "the",
                "attun* to cues",
                "feel*",
                "the baby's lead",
                "non-judgemental",
                "mind in mind",
                "is",
                "co-regulation",
            ),
        ),
    ),
)


def manual_texts() -> list[str]:
    """The demo corpus: each manual whole, and each of its paragraphs."""
    texts = []
    for path in sorted((ROOT / "corpus").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        texts += [text, *(p for p in re.split(r"\n\s*\n", text) if p.strip())]
    return texts


def fixture_texts() -> list[str]:
    import pandas as pd

    frame = pd.read_csv(ROOT / "tests/data/suggest/segments.csv", keep_default_na=False)
    return list(frame["text"])


def codebooks() -> dict[str, Codebook]:
    return {
        "rules": CODEBOOK,
        "stress": STRESS,
        "mechanisms": read_codebook(ROOT / "codebooks/mechanisms.yaml")[0],
    }


@pytest.mark.parametrize("lemma", ["attune", "cue", "feel", "follow", "baby", "lead", "calm"])
def test_surface_forms_lemmatise_to_their_lemma(lemma: str) -> None:
    forms = nlp.surface_forms(lemma)
    assert lemma in forms and len(forms) > 1
    assert {lemmatise(f) for f in forms} == {(lemma,)}


def test_a_form_the_table_maps_elsewhere_is_not_its_own_form() -> None:
    assert "an" in nlp.surface_forms("a") and "an" not in nlp.surface_forms("an")


@pytest.mark.parametrize("corpus", ["fixtures", "corpus"])
@pytest.mark.parametrize("book", ["rules", "stress", "mechanisms"])
def test_fast_path_gives_the_lemma_paths_hits(corpus: str, book: str) -> None:
    codebook = codebooks()[book]
    texts = fixture_texts() if corpus == "fixtures" else manual_texts()
    fast = RuleMatcher(codebook).hits(texts)
    assert fast == RuleMatcher(codebook, match_on="lemma").hits(texts)
    assert sum(map(len, fast)) > 0


def test_fast_path_gives_the_lemma_paths_evidence() -> None:
    texts = manual_texts()[4:60]
    starts = [1000 * i for i in range(len(texts))]
    segments = [segment(t, start=s) for t, s in zip(texts, starts, strict=True)]
    fast = RulesSuggester(STRESS)
    lemma = RulesSuggester(STRESS)
    lemma.matcher = RuleMatcher(STRESS, match_on="lemma")
    suggestions = fast.suggest(segments)
    assert suggestions and suggestions == lemma.suggest(segments)


def test_fast_path_matches_a_wildcard_inside_a_multiword_pattern() -> None:
    matcher = RuleMatcher(STRESS)
    text = "Parents attuning to cues. Attunement, the cue."
    assert [(h.text, h.pattern) for h in matcher.hits([text])[0] if h.code_id == "tricky"] == [
        ("attuning to cues", "attun* to cues"),
        ("the", "the"),
    ]


STRESS_WORDS = [
    *("She", "is", "was", "be", "safe", "a", "an", "as", "bond", "bonds", "the", "The"),
    *("attuned", "attuning", "to", "cues", "cue", "feeling", "Felt", "baby's", "lead", "led"),
    *("non-judgemental", "mind", "minds", "in", "co-regulation", "parent", "feeding", "."),
]


@given(words=st.lists(st.sampled_from(STRESS_WORDS), min_size=1, max_size=30))
def test_fast_path_equals_lemma_path_on_random_text(words: list[str]) -> None:
    text = " ".join(words)
    assert _FAST.hits([text]) == _LEMMA.hits([text])


_FAST = RuleMatcher(STRESS)
_LEMMA = RuleMatcher(STRESS, match_on="lemma")
