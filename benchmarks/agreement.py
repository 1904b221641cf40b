"""Benchmark of the agreement engine.  Run: python benchmarks/agreement.py [--quick]

Prints medians over repeats for a study of 100,000 segments x 10 codes x 2 coders:

1. the full per-code report (every coefficient, 1,000 bootstrap replicates per code, plus the
   overall row with set-valued alpha), once per alpha CI method: resampling units (the report's
   default) and Krippendorff's algorithm;
2. per-code nominal alpha against ``krippendorff.alpha`` (same data, same run), with the
   largest difference between the two;
3. peak memory (tracemalloc) of the report at three sizes, per unit x code x coder;
4. with ``--study-sizes``, the study path (``agreement_study.py``): read + arrays + report from
   a stored study, cold and after one edit, with the engine in memory as the floor.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from collections.abc import Callable

import krippendorff
import numpy as np
import pandas as pd
from agreement_study import bench_study_path

from coding.agreement import agreement_table, code_matrices, krippendorff_alpha

CODERS = ("ana", "ben")


def make_study(
    n_segments: int, n_codes: int, seed: int = 7
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str]]:
    """A synthetic double-coded study: coder 2 copies coder 1's code 90% of the time."""
    rng = np.random.default_rng(seed)
    segment_ids = np.array([f"s{i:07d}" for i in range(n_segments)], dtype=object)
    document_ids = np.array([f"d{i // 1000:04d}" for i in range(n_segments)], dtype=object)
    starts = (np.arange(n_segments) % 1000) * 100
    code_ids = [f"code_{k}" for k in range(n_codes)]
    segments = pd.DataFrame(
        {
            "segment_id": segment_ids,
            "document_id": document_ids,
            "start": starts,
            "end": starts + 90,
            "text": "...",
        }
    )
    assignments = pd.DataFrame(
        {
            "segment_id": np.tile(segment_ids, len(CODERS)),
            "document_id": np.tile(document_ids, len(CODERS)),
            "coder": np.repeat(np.array(CODERS, dtype=object), n_segments),
            "completed": True,
        }
    )
    parts = []
    for k, code_id in enumerate(code_ids):
        first = rng.random(n_segments) < 0.05 + 0.45 * k / max(1, n_codes - 1)
        second = np.where(rng.random(n_segments) < 0.9, first, ~first)
        for coder, applied in zip(CODERS, (first, second), strict=True):
            idx = np.flatnonzero(applied)
            parts.append(
                pd.DataFrame(
                    {
                        "segment_id": segment_ids[idx],
                        "document_id": document_ids[idx],
                        "coder": coder,
                        "code_id": code_id,
                        "start": starts[idx],
                        "end": starts[idx] + 90,
                    }
                )
            )
    return pd.concat(parts, ignore_index=True), assignments, segments, code_ids


def median_seconds(func: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        begin = time.perf_counter()
        func()
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


def peak_bytes(func: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument(
        "--study-sizes", default="", help="e.g. 20000,100000: also bench the study path"
    )
    parser.add_argument("--study-only", action="store_true", help="only the study path")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    sizes = [int(s) for s in args.study_sizes.split(",") if s.strip()]
    if args.study_only:
        bench_study_path(sizes, repeats)
        return
    n_segments, n_codes = 100_000, 10
    annotations, assignments, segments, code_ids = make_study(n_segments, n_codes)
    print(
        f"study: {n_segments:,} segments x {n_codes} codes x {len(CODERS)} coders, "
        f"{len(annotations):,} annotations; medians over {repeats} runs"
    )

    tables = {}
    for method in ("units", "krippendorff"):

        def report(method: str = method) -> pd.DataFrame:
            return agreement_table(
                annotations, assignments, segments, code_ids, bootstrap=1000, alpha_ci=method
            )

        tables[method] = report()
        seconds = median_seconds(report, repeats)
        print(
            f"1. full per-code report, all coefficients, 1,000 bootstrap replicates per code "
            f"(+ overall), alpha_ci={method!r}: {seconds:.3f} s (target < 1 s)"
        )
    table = tables["units"]
    table["kalpha_ci_low"] = tables["krippendorff"]["krippendorff_alpha_ci_low"]
    table["kalpha_ci_high"] = tables["krippendorff"]["krippendorff_alpha_ci_high"]
    print(
        table[
            [
                "code_id",
                "prevalence",
                "percent_agreement",
                "cohen_kappa",
                "krippendorff_alpha",
                "krippendorff_alpha_ci_low",
                "krippendorff_alpha_ci_high",
                "kalpha_ci_low",
                "kalpha_ci_high",
                "cohen_kappa_ci_low",
                "cohen_kappa_ci_high",
            ]
        ]
        .rename(
            columns={
                "percent_agreement": "agree",
                "krippendorff_alpha": "alpha",
                "krippendorff_alpha_ci_low": "units_lo",
                "krippendorff_alpha_ci_high": "units_hi",
                "kalpha_ci_low": "kalpha_lo",
                "kalpha_ci_high": "kalpha_hi",
                "cohen_kappa_ci_low": "kappa_lo",
                "cohen_kappa_ci_high": "kappa_hi",
            }
        )
        .round(3)
        .to_string(index=False)
    )
    overall = table.iloc[-1]
    print(
        f"   overall set-valued alpha over {int(overall['n_units_sets']):,} segments: "
        f"MASI {overall['krippendorff_alpha_masi']:.3f}, "
        f"Jaccard {overall['krippendorff_alpha_jaccard']:.3f}"
    )

    matrices = [m.to_numpy() for m in code_matrices(annotations, assignments, code_ids).values()]
    ours = [krippendorff_alpha(m) for m in matrices]
    theirs = [
        krippendorff.alpha(reliability_data=m, level_of_measurement="nominal") for m in matrices
    ]
    worst = max(abs(float(a) - b) for a, b in zip(ours, theirs, strict=True) if a is not None)
    mine = median_seconds(lambda: [krippendorff_alpha(m) for m in matrices], repeats)
    ref = median_seconds(
        lambda: [
            krippendorff.alpha(reliability_data=m, level_of_measurement="nominal") for m in matrices
        ],
        repeats,
    )
    print(
        f"2. nominal alpha for {n_codes} codes (2 x {n_segments:,} matrices): "
        f"coding.agreement {mine * 1000:.1f} ms, krippendorff.alpha {ref * 1000:.1f} ms, "
        f"ratio {ref / mine:.1f}x faster; max |difference| {worst:.1e} (required <= 1e-9)"
    )

    print("3. peak traced memory of the report with 1,000 replicates:")
    for size in (25_000, 50_000, 100_000):
        ann, asg, seg, codes = make_study(size, n_codes)
        peak = peak_bytes(
            lambda a=ann, b=asg, s=seg, c=codes: agreement_table(a, b, s, c, bootstrap=1000)
        )
        cells = size * n_codes * len(CODERS)
        print(
            f"   {size:>7,} segments: {peak / 2**20:7.1f} MiB peak, "
            f"{peak / cells:5.1f} bytes per segment x code x coder"
        )
    if sizes:
        bench_study_path(sizes, repeats)


if __name__ == "__main__":
    main()
