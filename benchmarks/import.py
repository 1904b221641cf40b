"""Import + segmentation of a generated 200-page manual: time and peak memory.

Target (2 cores): under 10 s and 500 MB. Run: python benchmarks/import.py [--pages 200]
Prints medians of --repeat runs for each unit kind, and the naive baseline of segmenting
every paragraph with a separate spaCy call (what nlp.pipe batching saves).
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from coding import service
from coding.segment import by_paragraph, by_sentence, sentence_pipeline

WORDS = [
    "parent",
    "infant",
    "caregiver",
    "attunement",
    "regulation",
    "recovery",
    "treatment",
    "session",
    "staff",
    "safety",
    "reflective",
    "feelings",
    "cues",
    "soothe",
    "craving",
    "relapse",
    "attachment",
    "bond",
    "nursery",
    "home",
    "visit",
    "practitioner",
    "therapist",
    "mother",
    "father",
    "child",
    "family",
    "stress",
    "calm",
    "notice",
    "respond",
    "trust",
    "shame",
    "support",
    "group",
    "plan",
    "review",
    "supervision",
    "outcome",
]


def manual(pages: int, seed: int = 7) -> str:
    """About 500 words a page: a heading every 2 pages, paragraphs of 3-6 sentences."""
    rng = random.Random(seed)
    parts = ["# Generated Programme Manual"]
    for page in range(pages):
        if page % 2 == 0:
            parts.append(f"## Section {page // 2 + 1}")
        words = 0
        while words < 500:
            sentences = []
            for _ in range(rng.randint(3, 6)):
                n = rng.randint(8, 22)
                sentence = " ".join(rng.choice(WORDS) for _ in range(n))
                sentences.append(sentence.capitalize() + rng.choice([".", ".", "?", "!"]))
                words += n
            parts.append(" ".join(sentences))
    return "\n\n".join(parts) + "\n"


def run_once(text_path: Path, unit: str, trace: bool = False) -> tuple[float, float, int]:
    """Seconds, peak traced MB (only when ``trace``: tracing slows the run), units."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        store = service.init_study(db, "bench", unit=unit)
        if trace:
            tracemalloc.start()
        began = time.perf_counter()
        results = service.import_documents(store, [text_path], "bench")
        elapsed = time.perf_counter() - began
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
        tracemalloc.stop()
        store.close()
    return elapsed, peak / 2**20, results[0].segments


def batched_sentences(text: str) -> float:
    began = time.perf_counter()
    by_sentence(text)
    return time.perf_counter() - began


def naive_sentences(text: str) -> float:
    """Baseline: one spaCy call per paragraph instead of nlp.pipe batches."""
    nlp = sentence_pipeline()
    began = time.perf_counter()
    for start, end, _ in by_paragraph(text):
        list(nlp(text[start:end]).sents)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    text = manual(args.pages)
    sentence_pipeline()  # load once, outside the timings
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "manual.md"
        path.write_text(text, encoding="utf-8")
        print(f"manual: {args.pages} pages, {len(text.split()):,} words, {len(text):,} chars")
        for unit in ("paragraph", "sentence", "section"):
            runs = [run_once(path, unit) for _ in range(args.repeat)]
            seconds = statistics.median(r[0] for r in runs)
            peak = run_once(path, unit, trace=True)[1]
            print(
                f"{unit:10} import+segment+store: median {seconds:6.2f} s over {args.repeat} "
                f"runs, {runs[0][2]:6,d} units, peak traced memory {peak:7.1f} MB"
            )
        batched = statistics.median(batched_sentences(text) for _ in range(args.repeat))
        naive = statistics.median(naive_sentences(text) for _ in range(args.repeat))
        print(
            f"sentence segmentation alone: nlp.pipe batches {batched:.3f} s vs one spaCy call "
            f"per paragraph {naive:.3f} s (ratio {naive / batched:.2f}x)"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS: {rss:.0f} MB (target < 500 MB); Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
