"""Benchmark the suggestion engines on synthetic segments (prints figures; not a test).

    python benchmarks/suggest.py [--segments 10000] [--predict 100000] [--words 25] [--repeats 3]
    python benchmarks/suggest.py --only supervised     # fit, predict and evaluate alone

Segments are drawn from the words of the manuals in corpus/ (or a built-in list without them),
with indicator phrases of a synthetic 10-code codebook mixed in so that the rules fire and the
codes are learnable. Targets: rules >= 100,000 tokens/s; supervised training on 10,000 segments
< 5 s, prediction for 100,000 < 10 s, grouped 5-fold evaluation on 10,000 segments x 10 codes
< 30 s (2 cores); peak memory < 1 GB.

Every figure is the median of ``--repeats`` runs (with the range), and each fast path is timed
in the same run against the implementation it replaced: rule matching on lemmas
(``RuleMatcher(match_on="lemma")``), scikit-learn's ``TfidfVectorizer`` for word and char_wb
features, BLAS threads as the library picks them for the supervised fit and prediction, and
for evaluation also every fold featurising its own texts again (the engine without
``share``/``fit_rows``). The benchmark checks that fast and previous paths give the same
results. Other jobs may share the cores, so the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coding.model import Code, Codebook, Segment, segment_id_for
from coding.suggest import (
    SUGGESTERS,
    RuleMatcher,
    RulesSuggester,
    SupervisedSuggester,
    evaluate,
    grouped_folds,
    nlp,
    supervised,
)
from coding.suggest.baseline import baseline_scores
from coding.suggest.features import CharWbTfidf, WordTfidf, word_tfidf

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
FALLBACK = (  # noqa: SIM905 - a word list reads better as text
    "the parent and the baby meet with a worker each week to talk about care feeding sleep and"
    " the plans of the service for the family at home in the group or at the clinic"
).split()
CODES = {
    "caregiver_attunement": ["attuned", "attune to cues", "cues", "follow the baby's lead"],
    "emotion_regulation": ["calm", "soothe", "craving", "self-regulation", "urge surfing"],
    "relational_safety": ["trust", "safe", "non-judgemental", "without blame"],
    "reflective_functioning": ["wonder", "mind in mind", "what the baby feels"],
    "parent_child_attachment": ["bond", "secure base", "closeness", "attachment"],
    "family_involvement": ["grandparents", "siblings", "whole family"],
    "psychoeducation": ["explain development", "handout", "information about"],
    "peer_support": ["other parents", "group members", "peer"],
    "practical_help": ["transport", "housing", "benefits"],
    "staff_supervision": ["supervisor", "reflective supervision", "case review"],
}


def vocabulary() -> list[str]:
    words = [
        w for p in sorted(CORPUS.glob("*.md")) for w in re.findall(r"[A-Za-z']+", p.read_text())
    ]
    return words or FALLBACK


def codebook() -> Codebook:
    return Codebook(
        "bench",
        "Benchmark",
        tuple(Code(c, c, "synthetic", indicators=tuple(i)) for c, i in CODES.items()),
    )


def synthetic(n: int, words: int, seed: int) -> tuple[list[str], pd.DataFrame, list[str]]:
    """Texts, 0/1 labels (a code applies when one of its phrases was planted) and documents."""
    rng = np.random.default_rng(seed)
    vocab = np.array(vocabulary(), dtype=object)
    code_ids = list(CODES)
    texts, rows = [], []
    for _ in range(n):
        tokens = list(rng.choice(vocab, size=words))
        applied = rng.random(len(code_ids)) < 0.15
        for j in np.flatnonzero(applied):
            phrases = CODES[code_ids[j]]
            tokens.insert(int(rng.integers(len(tokens))), phrases[rng.integers(len(phrases))])
        if rng.random() < 0.1:  # label noise: an indicator without the code
            tokens.insert(0, CODES[code_ids[rng.integers(len(code_ids))]][0])
        texts.append(" ".join(tokens) + ".")
        rows.append(applied.astype(float))
    labels = pd.DataFrame(rows, columns=code_ids, index=[f"s{i}" for i in range(n)])
    groups = [f"doc{i // 50}" for i in range(n)]  # documents of 50 segments
    return texts, labels, groups


class Runs(list[float]):
    """Wall seconds of repeated runs, and the median CPU seconds of the process over them."""

    cpu: float | None = None


class Timer:
    """Medians (and ranges) of repeated runs, printed with a ratio to a baseline.

    Each line also gives the median CPU time of the process (every thread): on a machine whose
    cores other jobs share, wall time grows with their load and CPU time much less.
    """

    def __init__(self, repeats: int) -> None:
        self.repeats = repeats

    def runs(self, action: Callable[[], object]) -> Runs:
        runs, cpu = Runs(), []
        for _ in range(self.repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            action()
            runs.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        runs.cpu = statistics.median(cpu) if cpu else None
        return runs

    def line(self, label: str, runs: list[float], note: str = "") -> float:
        median = statistics.median(runs)
        spread = f"[{min(runs):.2f}-{max(runs):.2f}]"
        cpu = "" if getattr(runs, "cpu", None) is None else f"cpu {runs.cpu:6.2f} s"  # type: ignore[attr-defined]
        print(f"{label:34s} {median:6.2f} s {spread:13s} {cpu} {note}".rstrip())
        return median

    def versus(
        self,
        label: str,
        fast: Callable[[], object],
        baseline_label: str,
        baseline: Callable[[], object],
        note: str = "",
        baseline_runs: int | None = None,
    ) -> float:
        """Time fast and baseline alternately (so both see the same load); print both."""
        fast_runs, base_runs = Runs(), Runs()
        fast_cpu, base_cpu = [], []
        for n in range(self.repeats):
            fast_runs += (one := Timer(1).runs(fast))
            fast_cpu.append(one.cpu or 0.0)
            if n < (self.repeats if baseline_runs is None else baseline_runs):
                base_runs += (one := Timer(1).runs(baseline))
                base_cpu.append(one.cpu or 0.0)
        fast_runs.cpu = statistics.median(fast_cpu)
        base_runs.cpu = statistics.median(base_cpu) if base_cpu else None
        if not base_runs:  # --baseline-repeats 0
            return self.line(label, fast_runs, note)
        median = self.line(label, fast_runs, note)
        base = self.line(f"  vs {baseline_label}", base_runs)
        print(f"  {'':32s} {base / median:6.2f}x faster")
        return median


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def segments_of(texts: list[str]) -> list[Segment]:
    return [
        Segment(
            segment_id_for("bench", i * 1000, i * 1000 + len(t)),
            "bench",
            i * 1000,
            i * 1000 + len(t),
            t,
        )
        for i, t in enumerate(texts)
    ]


def rules_section(timer: Timer, book: Codebook, new_texts: list[str], tokens: int) -> None:
    segments = segments_of(new_texts)
    # -- rules -----------------------------------------------------------------------------
    rules = RulesSuggester(book)
    lemma_path = RuleMatcher(book, match_on="lemma")
    if rules.matcher.hits(new_texts) != lemma_path.hits(new_texts):
        raise SystemExit("the fast rule path and the lemma path disagree")
    seconds = timer.versus(
        "rules scores (fast path)",
        lambda: rules.scores(new_texts),
        "lemma path (previous)",
        lambda: rules.scores_from_hits(lemma_path.hits(new_texts)),
    )
    print(
        f"  {'':32s} {tokens / seconds:,.0f} tokens/s, {len(new_texts) / seconds:,.0f} segments/s"
    )
    runs = timer.runs(lambda: rules.suggest(segments))
    seconds = timer.line("rules suggest (with evidence)", runs)
    print(f"  {'':32s} {tokens / seconds:,.0f} tokens/s (target >= 100,000)")


def features_section(timer: Timer, texts: list[str], new_texts: list[str]) -> None:
    # -- features --------------------------------------------------------------------------
    words, sk_words = WordTfidf(2, 200_000), word_tfidf(2, 200_000)
    words.fit(texts)
    sk_words.fit(texts)
    if (words.transform(new_texts) != sk_words.transform(new_texts)).nnz:
        raise SystemExit("WordTfidf and TfidfVectorizer disagree")
    timer.versus(
        "word features, transform",
        lambda: words.transform(new_texts),
        "sklearn TfidfVectorizer",
        lambda: sk_words.transform(new_texts),
    )
    chars = CharWbTfidf(min_df=2)
    sk_chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2)
    timer.versus(
        "char_wb features, fit",
        lambda: chars.fit_transform(texts),
        "sklearn TfidfVectorizer char_wb",
        lambda: sk_chars.fit_transform(texts),
    )
    timer.versus(
        "char_wb features, transform",
        lambda: chars.transform(new_texts),
        "sklearn TfidfVectorizer char_wb",
        lambda: sk_chars.transform(new_texts),
    )


def with_blas_threads(threads: int | None, action: Callable[[], object]) -> Callable[[], object]:
    """``action`` run with the supervised engine's BLAS thread limit set to ``threads``."""
    return with_setting("BLAS_THREADS", threads, action)


def with_setting(name: str, value: object, action: Callable[[], object]) -> Callable[[], object]:
    """``action`` run with the supervised module's setting ``name`` set to ``value``."""

    def run() -> object:
        saved = getattr(supervised, name)
        setattr(supervised, name, value)
        try:
            return action()
        finally:
            setattr(supervised, name, saved)

    return run


class PerFold:
    """The supervised engine without ``share``/``fit_rows``: every fold featurises its texts."""

    def __init__(self, codebook: Codebook, *, seed: int = 0) -> None:
        self.engine = SupervisedSuggester(codebook, seed=seed)
        self.name = "supervised"

    def fit(self, texts: list[str], labels: pd.DataFrame, groups: list[str]) -> PerFold:
        self.engine.fit(texts, labels, groups)
        return self

    def scores(self, texts: list[str]) -> pd.DataFrame:
        return self.engine.scores(texts)

    def thresholds(self) -> dict[str, float]:
        return self.engine.thresholds()

    def reasons(self) -> dict[str, str]:
        return self.engine.reasons()


def supervised_section(timer: Timer, book: Codebook, args: argparse.Namespace) -> None:
    texts, labels, groups = synthetic(args.segments, args.words, seed=0)
    many, _, _ = synthetic(args.predict, args.words, seed=1)
    engine = SupervisedSuggester(book)
    previous = with_blas_threads(None, lambda: engine.fit(texts, labels, groups))
    timer.versus(
        f"supervised fit {len(texts):,}",
        lambda: engine.fit(texts, labels, groups),
        "BLAS threads as the library picks",
        previous,
        "(target < 5 s)",
        args.baseline_repeats,
    )
    in_turn = with_setting("FIT_THREADS", 1, lambda: engine.fit(texts, labels, groups))
    timer.versus(
        f"supervised fit {len(texts):,}",
        lambda: engine.fit(texts, labels, groups),
        "codes fitted one at a time",
        in_turn,
        "(two at a time in threads)",
        args.baseline_repeats,
    )
    threaded = engine.scores(many)
    in_turn()
    if not threaded.equals(engine.scores(many)):
        raise SystemExit("models fitted in threads and one at a time disagree")
    engine.fit(texts, labels, groups)
    scores = engine.scores(many)
    if not scores.equals(with_blas_threads(None, lambda: engine.scores(many))()):
        raise SystemExit("predictions with one and with many BLAS threads disagree")
    timer.versus(
        f"supervised predict {len(many):,}",
        lambda: engine.scores(many),
        "BLAS threads as the library picks",
        with_blas_threads(None, lambda: engine.scores(many)),
        "(target < 10 s; rules + features + models)",
        args.baseline_repeats,
    )
    segments = segments_of(many[: len(texts)])
    count = len(engine.suggest(segments))
    timer.line(
        f"supervised suggest {len(segments):,}",
        timer.runs(lambda: engine.suggest(segments)),
        f"({count:,} suggestions with evidence)",
    )
    evaluate_section(timer, book, (texts, labels, groups), args.baseline_repeats)


def evaluate_section(
    timer: Timer,
    book: Codebook,
    data: tuple[list[str], pd.DataFrame, list[str]],
    baseline_repeats: int,
) -> None:
    """Grouped 5-fold evaluation, timed against the per-fold path; both must agree."""
    SUGGESTERS["per-fold"] = PerFold  # type: ignore[assignment]
    reports: dict[str, dict[str, object]] = {}

    def evaluated(engine_name: str) -> None:
        reports[engine_name] = evaluate(*data, engine_name, codebook=book, folds=5)

    median = timer.line(
        f"supervised evaluate {len(data[0]):,} x {len(CODES)} codes",
        timer.runs(lambda: evaluated("supervised")),
        "(target < 30 s; 5 grouped folds, baseline included)",
    )
    splits = grouped_folds(data[2], 5, 0)
    y = data[1].to_numpy(dtype=float)
    timer.line(
        "  of which the TF-IDF + LR baseline",
        timer.runs(lambda: baseline_scores(data[0], y, splits)),
        "(same folds)",
    )
    if baseline_repeats == 0:
        return
    previous = with_blas_threads(None, lambda: evaluated("per-fold"))
    base = timer.line(
        "  vs per-fold features, library BLAS",
        Timer(baseline_repeats).runs(previous),
    )
    print(f"  {'':32s} {base / median:6.2f}x faster")
    if _metrics(reports["supervised"]) != _metrics(reports["per-fold"]):
        raise SystemExit("evaluation with shared and per-fold features disagree")


def _metrics(report: dict[str, object]) -> list[tuple[object, ...]]:
    """Every decided metric, rounded to 6 places (float32 features may differ in the last bit)."""
    codes = report["codes"]
    assert isinstance(codes, list)
    return [
        tuple(round(v, 6) if isinstance(v, float) else v for v in entry.values()) for entry in codes
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=10_000)
    parser.add_argument("--predict", type=int, default=100_000, help="segments to score")
    parser.add_argument("--words", type=int, default=25)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--baseline-repeats", type=int, default=1, help="runs of each baseline (0: none)"
    )
    parser.add_argument("--only", choices=["rules", "features", "supervised"])
    args = parser.parse_args()
    timer = Timer(args.repeats)
    book = codebook()
    texts, _, _ = synthetic(args.segments, args.words, seed=0)
    new_texts, _, _ = synthetic(args.segments, args.words, seed=1)
    tokens = sum(len(d) for d in nlp.token_docs(new_texts))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"{args.segments:,} segments, {tokens:,} tokens, {len(CODES)} codes; "
        f"median [min-max] of {args.repeats} runs (baselines: {args.baseline_repeats}); "
        f"{cores} cores, {load()} at start"
    )
    if args.only in (None, "rules"):
        rules_section(timer, book, new_texts, tokens)
    if args.only in (None, "features"):
        features_section(timer, texts, new_texts)
    if args.only in (None, "supervised"):
        supervised_section(timer, book, args)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak:6.0f} MB (target < 1024 MB)")
    print(f"{load()} at end; other jobs may share the cores, so compare the ratios")


if __name__ == "__main__":
    main()
