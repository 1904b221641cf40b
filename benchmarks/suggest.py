"""Benchmark the suggestion engines on synthetic segments (prints figures; not a test).

    python benchmarks/suggest.py [--segments 10000] [--words 25] [--repeats 3]

Segments are drawn from the words of the manuals in corpus/ (or a built-in list without them),
with indicator phrases of a synthetic codebook mixed in so that the rules fire and the codes are
learnable. Targets: rules >= 100,000 tokens/s; supervised training on 10,000 segments < 5 s and
prediction for 10,000 < 1 s; peak memory < 1 GB.
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coding.model import Code, Codebook, Segment, segment_id_for
from coding.suggest import RulesSuggester, SupervisedSuggester, nlp

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


def timed(action: Callable[[], object], repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=10_000)
    parser.add_argument("--words", type=int, default=25)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

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
    tokens = sum(len(d) for d in nlp.lemma_docs(new_texts))
    print(
        f"{args.segments:,} segments, {tokens:,} tokens, {len(CODES)} codes; "
        f"median of {args.repeats} runs"
    )

    rules = RulesSuggester(book)
    rules.scores(new_texts[:100])  # warm the pipeline
    seconds = timed(lambda: rules.scores(new_texts), args.repeats)
    print(
        f"rules scores:          {seconds:6.2f} s  {tokens / seconds:10,.0f} tokens/s  "
        f"{len(new_texts) / seconds:8,.0f} segments/s"
    )
    seconds = timed(lambda: rules.suggest(segments), args.repeats)
    print(
        f"rules suggest:         {seconds:6.2f} s  {tokens / seconds:10,.0f} tokens/s  "
        f"(with evidence)"
    )

    engine = SupervisedSuggester(book)
    seconds = timed(lambda: engine.fit(texts, labels, groups), args.repeats)
    print(f"supervised fit:        {seconds:6.2f} s  (target < 5 s)")
    seconds = timed(lambda: engine.scores(new_texts), args.repeats)
    print(f"supervised predict:    {seconds:6.2f} s  (target < 1 s; rules + features + models)")
    seconds = timed(lambda: engine.suggest(segments), args.repeats)
    count = len(engine.suggest(segments))
    print(f"supervised suggest:    {seconds:6.2f} s  ({count:,} suggestions with evidence)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak:6.0f} MB (target < 1024 MB)")


if __name__ == "__main__":
    main()
