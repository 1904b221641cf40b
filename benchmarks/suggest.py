"""Benchmark the suggestion engines on synthetic segments (prints figures; not a test).

    python benchmarks/suggest.py [--segments 10000] [--words 25] [--repeats 5]

Segments are drawn from the words of the manuals in corpus/ (or a built-in list without them),
with indicator phrases of a synthetic codebook mixed in so that the rules fire and the codes are
learnable. Targets: rules >= 100,000 tokens/s; supervised training on 10,000 segments < 5 s and
prediction for 10,000 < 1 s; peak memory < 1 GB.

Every figure is the median of ``--repeats`` runs (with the range), and each fast path is timed
in the same run against the implementation it replaced: rule matching on lemmas
(``RuleMatcher(match_on="lemma")``), scikit-learn's ``TfidfVectorizer`` for word and char_wb
features; the benchmark checks that both give the same results. Other jobs may share the cores,
so the load average is printed before and after.
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
from coding.suggest import RuleMatcher, RulesSuggester, SupervisedSuggester, nlp
from coding.suggest.features import CharWbTfidf, WordTfidf, word_tfidf

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
FALLBACK = [
    "the",
    "parent",
    "and",
    "the",
    "baby",
    "meet",
    "with",
    "a",
    "worker",
    "each",
    "week",
    "to",
    "talk",
    "about",
    "care",
    "feeding",
    "sleep",
    "and",
    "the",
    "plans",
    "of",
    "the",
    "service",
    "for",
    "the",
    "family",
    "at",
    "home",
    "in",
    "the",
    "group",
    "or",
    "at",
    "the",
    "clinic",
]
CODES = {
    "caregiver_attunement": ["attuned", "attune to cues", "cues", "follow the baby's lead"],
    "emotion_regulation": ["calm", "soothe", "craving", "self-regulation", "urge surfing"],
    "relational_safety": ["trust", "safe", "non-judgemental", "without blame"],
    "reflective_functioning": ["wonder", "mind in mind", "what the baby feels"],
    "parent_child_attachment": ["bond", "secure base", "closeness", "attachment"],
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


class Timer:
    """Medians (and ranges) of repeated runs, printed with a ratio to a baseline."""

    def __init__(self, repeats: int) -> None:
        self.repeats = repeats

    def runs(self, action: Callable[[], object]) -> list[float]:
        runs = []
        for _ in range(self.repeats):
            start = time.perf_counter()
            action()
            runs.append(time.perf_counter() - start)
        return runs

    def line(self, label: str, runs: list[float], note: str = "") -> float:
        median = statistics.median(runs)
        spread = f"[{min(runs):.2f}-{max(runs):.2f}]"
        print(f"{label:34s} {median:6.2f} s {spread:13s} {note}".rstrip())
        return median

    def versus(
        self,
        label: str,
        fast: Callable[[], object],
        baseline_label: str,
        baseline: Callable[[], object],
        note: str = "",
    ) -> float:
        """Time fast and baseline alternately (so both see the same load); print both."""
        fast_runs, base_runs = [], []
        for _ in range(self.repeats):
            fast_runs += Timer(1).runs(fast)
            base_runs += Timer(1).runs(baseline)
        median = self.line(label, fast_runs, note)
        base = self.line(f"  vs {baseline_label}", base_runs)
        print(f"  {'':32s} {base / median:6.2f}x faster")
        return median


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=10_000)
    parser.add_argument("--words", type=int, default=25)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    timer = Timer(args.repeats)

    book = codebook()
    texts, labels, groups = synthetic(args.segments, args.words, seed=0)
    new_texts, _, _ = synthetic(args.segments, args.words, seed=1)
    segments = [
        Segment(
            segment_id_for("bench", i * 1000, i * 1000 + len(t)),
            "bench",
            i * 1000,
            i * 1000 + len(t),
            t,
        )
        for i, t in enumerate(new_texts)
    ]
    tokens = sum(len(d) for d in nlp.token_docs(new_texts))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"{args.segments:,} segments, {tokens:,} tokens, {len(CODES)} codes; "
        f"median [min-max] of {args.repeats} runs; {cores} cores, {load()} at start"
    )

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

    # -- supervised ------------------------------------------------------------------------
    engine = SupervisedSuggester(book)
    previous = SupervisedSuggester(book)
    previous.rules.matcher = lemma_path
    timer.versus(
        "supervised fit",
        lambda: engine.fit(texts, labels, groups),
        "with lemma-path rule features",
        lambda: previous.fit(texts, labels, groups),
        "(target < 5 s)",
    )
    previous._words = word_tfidf(2, 200_000).fit(texts)  # the vocabulary WordTfidf learnt
    if not engine.scores(new_texts).equals(previous.scores(new_texts)):
        raise SystemExit("the fast and the previous supervised predictions disagree")
    timer.versus(
        "supervised predict",
        lambda: engine.scores(new_texts),
        "lemma path + sklearn word transform",
        lambda: previous.scores(new_texts),
        "(target < 1 s; rules + features + models)",
    )
    count = len(engine.suggest(segments))
    timer.line(
        "supervised suggest",
        timer.runs(lambda: engine.suggest(segments)),
        f"({count:,} suggestions with evidence)",
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak:6.0f} MB (target < 1024 MB)")
    print(f"{load()} at end; other jobs may share the cores, so compare the ratios")


if __name__ == "__main__":
    main()
