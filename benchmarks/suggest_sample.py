"""How much the supervised engine gains from more reference units: the learning curve behind
``SupervisedParams.max_training`` (prints figures; not a test).

    python benchmarks/suggest_sample.py [--units 100000] [--caps 2500,5000,10000,20000,40000,0]

The study is ``benchmarks/dialogue.py``'s generated counselling study (sessions of 40 turns;
speaker, previous turn and section decide several codes), deterministic by seed. The models
learn from one simulated coder's codes, which err at a few per cent as a real coder does;
a fifth of the sessions (grouped by session, seeded) are held out. For each cap the engine
is fitted on the other sessions' units with ``max_training`` set to the cap (0: all of
them), and the script prints the wall time of the fit and the held-out macro Cohen's kappa
per code, against the coder's codes and against the true codes.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dialogue

from coding.suggest import SupervisedParams, SupervisedSuggester, cohen_kappa


def macro_kappa(reference: np.ndarray, decided: np.ndarray) -> float:
    """Mean per-code Cohen's kappa of 0/1 decisions (a code without decisions counts 0)."""
    kappas = []
    for j in range(reference.shape[1]):
        a, b = reference[:, j].astype(bool), np.nan_to_num(decided[:, j]).astype(bool)
        value = cohen_kappa(
            int((a & b).sum()), int((a & ~b).sum()), int((~a & b).sum()), int((~a & ~b).sum())
        )
        kappas.append(0.0 if value is None else value)
    return float(np.mean(kappas))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--caps", default="2500,5000,10000,20000,40000,0")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    study = dialogue.study(args.units, seed=args.seed)
    coder = study.coders[0]
    sessions = sorted(set(study.groups))
    rng = np.random.default_rng(args.seed)
    held = set(rng.choice(sessions, size=len(sessions) // 5, replace=False).tolist())
    test = np.array([g in held for g in study.groups])
    train_at, test_at = np.flatnonzero(~test), np.flatnonzero(test)
    labels = study.labels.copy()
    labels.loc[:, :] = coder
    print(
        f"{args.units:,} units in {len(sessions)} sessions, {len(study.codebook.codes)} codes;"
        f" training on {len(train_at):,} units of {len(sessions) - len(held)} sessions,"
        f" held out {len(test_at):,} units of {len(held)} sessions"
    )
    header = ("max_training", "fitted on", "fit s", "kappa/coder", "kappa/true")
    print(" ".join(f"{h:>{w}s}" for h, w in zip(header, (13, 10, 8, 12, 11), strict=True)))
    for cap in (int(c) for c in args.caps.split(",")):
        params = replace(SupervisedParams(seed=args.seed), max_training=cap or None)
        engine = SupervisedSuggester(study.codebook, seed=args.seed, params=params)
        start = time.perf_counter()
        engine.fit(
            [study.texts[i] for i in train_at],
            labels.iloc[train_at],
            [study.groups[i] for i in train_at],
            [study.units[i] for i in train_at],
        )
        fit = time.perf_counter() - start
        prediction = engine.predict(
            [study.texts[i] for i in test_at], [study.units[i] for i in test_at]
        )
        decided = engine.decide(prediction.scores)[1].to_numpy(dtype=float)
        truth = study.labels.to_numpy()[test_at]
        print(
            f"{cap or 'all':>13} {engine.training['fitted_on']:>10,} {fit:>8.1f}"
            f" {macro_kappa(coder[test_at], decided):>12.3f} {macro_kappa(truth, decided):>11.3f}"
        )


if __name__ == "__main__":
    main()
