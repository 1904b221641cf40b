"""The supervised engine: training, calibration, grouped folds, fallbacks, evidence."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from coding.model import Code, Codebook, Segment
from coding.suggest import SupervisedParams, SupervisedSuggester, explain
from coding.suggest.context import UnitContext, unit_contexts
from coding.suggest.explain import Explainer
from coding.suggest.features import CharWbTfidf, NgramCounts, WordTfidf, word_tfidf
from coding.suggest.supervised import best_threshold, grouped_splits

DATA = Path(__file__).parent / "data" / "suggest"


def load_codebook() -> Codebook:
    raw = json.loads((DATA / "codebook.json").read_text(encoding="utf-8"))
    codes = tuple(
        Code(
            c["id"],
            c["name"],
            c["definition"],
            exclusion=tuple(c["exclusion"]),
            indicators=tuple(c["indicators"]),
        )
        for c in raw["codes"]
    )
    return Codebook(raw["id"], raw["name"], codes)


def load_segments() -> pd.DataFrame:
    return pd.read_csv(DATA / "segments.csv", keep_default_na=False)


def labels_for(frame: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    return pd.DataFrame(
        {c: [float(c in codes.split(";")) for codes in frame["codes"]] for c in codebook.code_ids},
        index=frame["segment_id"],
    )


def segments_of(frame: pd.DataFrame) -> list[Segment]:
    return [
        Segment(r.segment_id, r.document_id, 0, len(r.text), r.text)
        for r in frame.itertuples(index=False)
    ]


CODEBOOK = load_codebook()
FRAME = load_segments()
TRAIN = FRAME[FRAME["document_id"] <= "doc07"]
TEST = FRAME[FRAME["document_id"] > "doc07"]


def fit(frame: pd.DataFrame = TRAIN, seed: int = 0) -> SupervisedSuggester:
    return SupervisedSuggester(CODEBOOK, seed=seed).fit(
        list(frame["text"]), labels_for(frame, CODEBOOK), list(frame["document_id"])
    )


@pytest.fixture(scope="module")
def engine() -> SupervisedSuggester:
    return fit()


def test_codes_with_enough_labels_get_calibrated_models(engine: SupervisedSuggester) -> None:
    calibrated = [c for c, m in engine.code_models.items() if m.calibrated]
    assert calibrated == ["caregiver_attunement", "emotion_regulation", "relational_safety"]
    assert all(0 < engine.thresholds()[c] < 1 for c in calibrated)


def test_code_with_too_few_positives_has_a_reason_and_no_scores(
    engine: SupervisedSuggester,
) -> None:
    assert "too few reference labels: 2 positive" in engine.reasons()["family_involvement"]
    assert "family_involvement" not in engine.thresholds()
    assert engine.scores(list(TEST["text"]))["family_involvement"].isna().all()
    assert all(s.code_id != "family_involvement" for s in engine.suggest(segments_of(TEST)))


def test_scores_are_probabilities(engine: SupervisedSuggester) -> None:
    values = engine.scores(list(TEST["text"])).drop(columns="family_involvement").to_numpy()
    assert ((values >= 0) & (values <= 1)).all()


def test_held_out_documents_are_scored_well(engine: SupervisedSuggester) -> None:
    scores = engine.scores(list(TEST["text"]))
    truth = labels_for(TEST, CODEBOOK)
    for code_id in ["caregiver_attunement", "emotion_regulation", "relational_safety"]:
        decided = scores[code_id].to_numpy() >= engine.thresholds()[code_id]
        accuracy = (decided == truth[code_id].to_numpy().astype(bool)).mean()
        assert accuracy >= 0.85, code_id


def test_calibrated_scores_track_the_rate_of_positives(engine: SupervisedSuggester) -> None:
    scores = engine.scores(list(TEST["text"])).drop(columns="family_involvement")
    truth = labels_for(TEST, CODEBOOK)[scores.columns]
    brier = float(np.mean((scores.to_numpy() - truth.to_numpy()) ** 2))
    assert brier < 0.1


def test_grouped_splits_never_share_a_document() -> None:
    y = labels_for(FRAME, CODEBOOK)["relational_safety"].to_numpy().astype(int)
    groups = FRAME["document_id"].to_numpy(dtype=object)
    splits = grouped_splits(y, groups, folds=3, seed=0)
    assert splits is not None and len(splits) == 3
    for train, test in splits:
        assert set(groups[train]).isdisjoint(groups[test])
    tested = np.concatenate([test for _, test in splits])
    assert sorted(tested) == list(range(len(y)))


def test_grouped_splits_are_none_when_positives_sit_in_one_document() -> None:
    y = np.array([1, 1, 0, 0, 0, 0])
    groups = np.array(["a", "a", "a", "b", "b", "c"], dtype=object)
    assert grouped_splits(y, groups, folds=3, seed=0) is None


def test_positives_in_one_document_give_an_uncalibrated_model_with_a_reason() -> None:
    frame = FRAME.copy()
    frame["codes"] = ["relational_safety" if doc == "doc01" else "" for doc in frame["document_id"]]
    engine = fit(frame)
    model = engine.code_models["relational_safety"]
    assert model.models and not model.calibrated
    assert model.threshold == 0.5
    assert "not calibrated" in engine.reasons()["relational_safety"]


def test_best_threshold_maximises_f1() -> None:
    y = np.array([0, 0, 1, 1, 1, 0])
    scores = np.array([0.1, 0.2, 0.6, 0.7, 0.9, 0.65])
    assert best_threshold(y, scores) == 0.6


def test_same_seed_gives_identical_suggestions() -> None:
    first = fit(seed=3).suggest(segments_of(TEST))
    second = fit(seed=3).suggest(segments_of(TEST))
    assert first == second
    assert first


def test_suggestions_are_sorted_and_versioned(engine: SupervisedSuggester) -> None:
    suggestions = engine.suggest(segments_of(TEST))
    keys = [(-s.score, s.code_id, s.segment_id) for s in suggestions]
    assert keys == sorted(keys)
    assert {s.model_version for s in suggestions} == {engine.model_version}
    assert engine.model_version.startswith("supervised:")


def test_model_version_depends_on_params_and_data() -> None:
    base = fit().model_version
    other_params = SupervisedSuggester(CODEBOOK, params=SupervisedParams(c=0.5)).fit(
        list(TRAIN["text"]), labels_for(TRAIN, CODEBOOK), list(TRAIN["document_id"])
    )
    assert other_params.model_version != base
    assert fit(TRAIN.iloc[:-1]).model_version != base


def test_evidence_names_terms_and_neighbours_with_codes(engine: SupervisedSuggester) -> None:
    suggestion = engine.suggest(segments_of(TEST))[0]
    evidence = json.loads(suggestion.evidence)
    assert evidence["calibrated"] is True
    assert evidence["terms"] and all(t["weight"] > 0 for t in evidence["terms"])
    assert all(t["term"].startswith(("word:", "rule:")) for t in evidence["terms"])
    neighbours = evidence["neighbours"]
    assert 1 <= len(neighbours) <= 3
    assert all(n["segment_id"] in set(TRAIN["segment_id"]) for n in neighbours)
    assert all(isinstance(n["codes"], list) for n in neighbours)


def test_a_segment_is_never_its_own_neighbour(engine: SupervisedSuggester) -> None:
    suggestions = engine.suggest(segments_of(TRAIN.iloc[:10]))
    assert suggestions  # training segments are suggested, so the check below has cases
    for suggestion in suggestions:
        neighbours = json.loads(suggestion.evidence)["neighbours"]
        assert suggestion.segment_id not in {n["segment_id"] for n in neighbours}


def _units_of(frame: pd.DataFrame) -> list[UnitContext]:
    positions = frame.groupby("document_id").cumcount().tolist()
    speakers = [{"speaker": f"s{i % 3}"} for i in range(len(frame))]
    return unit_contexts(
        list(frame["text"]), list(frame["document_id"]), positions, attributes=speakers
    )


@pytest.mark.parametrize("with_context", [False, True])
def test_evidence_computed_in_one_batch_equals_evidence_pair_by_pair(
    with_context: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    units = _units_of(FRAME) if with_context else None
    in_train = FRAME["document_id"] <= "doc07"
    train_units = [u for u, keep in zip(units or [], in_train, strict=False) if keep]
    engine = SupervisedSuggester(CODEBOOK, seed=0).fit(
        list(TRAIN["text"]),
        labels_for(TRAIN, CODEBOOK),
        list(TRAIN["document_id"]),
        train_units or None,
    )
    prediction = engine.predict(list(FRAME["text"]), units)
    assert (prediction.extra is not None) == with_context  # the context block is covered
    ids = list(FRAME["segment_id"])
    scores, decided = engine.decide(prediction.scores)
    wanted = scores.where(decided == 1).notna()
    # Every code's pairs, also those of codes without a model and undecided pairs.
    wanted.iloc[::7] = True
    one_by_one = Explainer(engine, prediction, ids)
    batched = Explainer(engine, prediction, ids)
    batched.prepare(wanted)
    monkeypatch.setattr(batched, "terms", None)  # every pair's terms come from the batch
    pairs = [(r, str(c)) for c in wanted.columns for r in np.flatnonzero(wanted[c])]
    assert sum(bool(batched(r, c)["terms"]) for r, c in pairs) > len(pairs) // 3
    assert sum(bool(batched(r, c)["neighbours"]) for r, c in pairs) > len(pairs) // 3
    for row, code_id in pairs:
        assert batched(row, code_id) == one_by_one(row, code_id)


def test_a_large_reference_is_searched_for_neighbours_in_an_even_sample(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(explain, "NEAR_MAX_REFERENCES", 10)
    engine = fit()
    near = engine.neighbours
    train_ids = list(TRAIN["segment_id"])
    assert len(train_ids) > 20
    assert near.ids == [train_ids[i * len(train_ids) // 10] for i in range(10)]
    assert near.train_t.shape[1] == 10
    suggestions = engine.suggest(segments_of(TEST))
    found = [n["segment_id"] for s in suggestions for n in json.loads(s.evidence)["neighbours"]]
    assert found and set(found) <= set(near.ids)


def test_predicting_before_fit_is_an_error() -> None:
    with pytest.raises(ValueError, match="fit"):
        SupervisedSuggester(CODEBOOK).scores(["text"])


def test_fit_without_reference_labels_gives_reasons_not_scores() -> None:
    engine = SupervisedSuggester(CODEBOOK).fit([], pd.DataFrame(columns=["x"]).iloc[:, :0], [])
    assert set(engine.reasons()) == set(CODEBOOK.code_ids)
    assert math.isnan(engine.scores(["calm"]).iloc[0, 0])


def test_fit_rejects_misaligned_input() -> None:
    with pytest.raises(ValueError, match="differ"):
        SupervisedSuggester(CODEBOOK).fit(["a", "b"], labels_for(TRAIN.iloc[:1], CODEBOOK), ["d"])


def test_fit_rejects_labels_outside_zero_and_one() -> None:
    labels = labels_for(TRAIN, CODEBOOK) * 2
    with pytest.raises(ValueError, match="0, 1 or NaN"):
        SupervisedSuggester(CODEBOOK).fit(list(TRAIN["text"]), labels, list(TRAIN["document_id"]))


def test_char_features_equal_scikit_learn_char_wb() -> None:
    texts = list(FRAME["text"])
    ours = CharWbTfidf(min_df=2, dtype=np.float64)
    theirs = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2)
    fitted = abs(ours.fit_transform(texts[:80]) - theirs.fit_transform(texts[:80])).max()
    new = ["Unseen wörds here.", *texts[80:]]
    assert fitted < 1e-12
    assert abs(ours.transform(new) - theirs.transform(new)).max() < 1e-12


@pytest.mark.parametrize("max_features", [None, 150])
def test_word_features_equal_scikit_learn_tfidf(max_features: int | None) -> None:
    texts = list(FRAME["text"])
    ours, theirs = WordTfidf(2, max_features), word_tfidf(2, max_features)
    assert (ours.fit_transform(texts[:80]) != theirs.fit_transform(texts[:80])).nnz == 0
    assert list(ours.get_feature_names_out()) == list(theirs.get_feature_names_out())
    new = ["Unseen wörds here, and the baby's cues: cues cues.", "", "a", *texts[80:]]
    transformed = ours.transform(new)
    assert transformed.dtype == np.float32 and transformed.has_sorted_indices
    assert (transformed != theirs.transform(new)).nnz == 0


def test_folds_sharing_texts_fit_as_if_on_their_own_texts(engine: SupervisedSuggester) -> None:
    texts = list(FRAME["text"])
    train = np.flatnonzero(FRAME["document_id"] <= "doc07")
    test = np.flatnonzero(FRAME["document_id"] > "doc07")
    shared = SupervisedSuggester(CODEBOOK).share(texts)
    rows = SupervisedSuggester(CODEBOOK).fit_rows(
        shared, train, labels_for(TRAIN, CODEBOOK), list(TRAIN["document_id"])
    )
    assert rows.thresholds() == engine.thresholds()
    assert rows.model_version == engine.model_version
    expected = engine.scores(list(TEST["text"]))
    assert np.allclose(rows.scores_rows(shared, test), expected, atol=1e-6, equal_nan=True)
    by_texts = engine.suggest(segments_of(TEST))
    by_rows = rows.suggest_rows(shared, test, segments_of(TEST))
    assert [(s.segment_id, s.code_id) for s in by_rows] == [
        (s.segment_id, s.code_id) for s in by_texts
    ]


@pytest.mark.parametrize("max_features", [None, 150])
def test_features_from_shared_counts_equal_fitting_on_the_rows(max_features: int | None) -> None:
    texts = ["Unseen wörds here, and the baby's cues: cues cues.", "", *FRAME["text"]]
    rows, other = np.arange(0, 90, 2), np.arange(1, len(texts), 2)
    counts = NgramCounts.of(texts)
    fitted_words = WordTfidf(2, max_features)
    by_texts = fitted_words.fit_transform([texts[i] for i in rows])
    words = WordTfidf(2, max_features)
    assert (words.fit_rows(counts, rows) != by_texts).nnz == 0
    assert list(words.get_feature_names_out()) == list(fitted_words.get_feature_names_out())
    new = [texts[i] for i in other]
    assert (words.transform_rows(counts, other) != fitted_words.transform(new)).nnz == 0
    fitted_chars, chars = CharWbTfidf(min_df=2), CharWbTfidf(min_df=2)
    assert (
        chars.fit_rows(counts, rows) != fitted_chars.fit_transform([texts[i] for i in rows])
    ).nnz == 0
    assert chars.vocabulary_ == fitted_chars.vocabulary_
    assert abs(chars.transform_rows(counts, other) - fitted_chars.transform(new)).max() < 1e-6


def test_one_product_scores_every_code_as_its_calibrated_model_does(
    engine: SupervisedSuggester,
) -> None:
    texts = list(TEST["text"])
    prediction = engine.predict(texts)
    features = sp.hstack(
        [
            engine._words.transform(texts),
            engine._chars.transform(texts),
            sp.csr_matrix(prediction.rules),
            *([] if prediction.extra is None else [prediction.extra]),
        ],
        format="csr",
    )
    for code_id, model in engine.code_models.items():
        if model.models:
            expected = model.models[0].predict_proba(features)[:, 1]
            assert np.array_equal(prediction.scores[code_id].to_numpy(), expected), code_id


def test_neighbours_are_left_out_when_every_ngram_is_common() -> None:
    words = ["calm", "soothe", "the", "baby", "parent", "trust"]
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(words, 12)) for _ in range(120)]
    frame = pd.DataFrame(
        {
            "segment_id": [f"s{i}" for i in range(120)],
            "document_id": [f"doc{i // 10:02d}" for i in range(120)],
            "text": texts,
            "codes": ["emotion_regulation" if "calm" in t else "" for t in texts],
        }
    )
    suggestions = fit(frame).suggest(segments_of(frame))
    assert suggestions
    assert all(json.loads(s.evidence)["neighbours"] == [] for s in suggestions)
