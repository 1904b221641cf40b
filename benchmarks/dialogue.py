"""A synthetic counselling study where context, speaker and codebook structure matter.

Each document is a session of alternating counsellor and client turns in three sections
(opening, exploration, planning). Codes and what decides them:

- counsellor acts (open_question, closed_question, reflection, affirmation, advice): a cue
  phrase, but clients use the question and reflection cues too and are never coded for them,
  so the speaker attribute decides;
- client_talk.change / client_talk.sustain: an exclusive group under client_talk (a client turn
  is one or the other or neither); coders apply the parent with either child;
- answer: a client turn straight after a counsellor question (context decides);
- accepts_advice: a client "okay"/"yes" straight after counsellor advice (context decides);
- goal_setting: change talk in the planning section (the heading decides).

Two simulated coders each miss or add a code at a small rate, so human kappa is below 1; the
reference is the true coding (as after consensus review).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from coding.model import Code, Codebook
from coding.suggest.context import UnitContext, unit_contexts

FILLER = (  # noqa: SIM905 - a word list reads better as text
    "the week was long and work kept me busy with family things at home and the kids needed"
    " help with school so there was little time to think about anything else really"
).split()
COUNSELLOR_WORDS = [
    "let",
    "us",
    "look",
    "at",
    "this",
    "together",
    "today",
    "and",
    "see",
    "where",
    "you",
    "are",
    "with",
    "it",
]
CUES = {
    "open_question": ["what do you", "how do you feel about", "tell me more about"],
    "closed_question": ["did you", "is it", "have you"],
    "reflection": ["it sounds like", "you feel", "so you are saying"],
    "affirmation": ["well done", "that took courage", "you worked hard"],
    "advice": ["you could try", "i suggest", "it may help to"],
    "client_talk.change": ["i want to stop", "i could cut down", "i am ready to"],
    "client_talk.sustain": ["i like drinking", "it helps me relax", "i cannot stop"],
}
AGREE = ["okay", "yes", "alright then"]
ACTS = ("open_question", "closed_question", "reflection", "affirmation", "advice")
ACT_P = (0.3, 0.15, 0.25, 0.1, 0.2)
SECTIONS = ("Session > Opening", "Session > Exploration", "Session > Planning")


def codebook() -> Codebook:
    def code(code_id: str, parent: str | None = None, exclusive: bool = False) -> Code:
        return Code(code_id, code_id, "synthetic", parent=parent, exclusive=exclusive)

    return Codebook(
        "dialogue",
        "Synthetic counselling",
        (
            *(code(a) for a in ACTS),
            code("client_talk", exclusive=True),
            code("client_talk.change", "client_talk"),
            code("client_talk.sustain", "client_talk"),
            code("answer"),
            code("accepts_advice"),
            code("goal_setting"),
        ),
    )


@dataclass(frozen=True)
class Study:
    texts: list[str]
    labels: pd.DataFrame  # the reference (true coding)
    groups: list[str]  # document of each unit
    units: list[UnitContext]
    codebook: Codebook
    coders: tuple[np.ndarray, np.ndarray]  # two coders' 0/1 codes, units x codes


def _words(rng: np.random.Generator, pool: list[str], n: int) -> list[str]:
    return [str(w) for w in rng.choice(pool, size=n)]


def _turn(rng: np.random.Generator, counsellor: bool, section: int) -> tuple[str, dict[str, int]]:
    """One turn's text and true codes (before context-dependent codes are added)."""
    codes: dict[str, int] = {}
    words = _words(rng, COUNSELLOR_WORDS + FILLER if counsellor else FILLER, 12)
    if counsellor:
        act = ACTS[int(rng.choice(len(ACTS), p=ACT_P))]
        codes[act] = 1
        if rng.random() < 0.85:
            words.insert(int(rng.integers(4)), str(rng.choice(CUES[act])))
        return " ".join(words), codes
    kind = rng.choice(3, p=(0.3, 0.25, 0.45))
    if kind < 2:
        child = ("client_talk.change", "client_talk.sustain")[kind]
        codes[child] = codes["client_talk"] = 1
        if rng.random() < 0.85:
            words.insert(int(rng.integers(4)), str(rng.choice(CUES[child])))
        if kind == 0 and section == 2:
            codes["goal_setting"] = 1
    if rng.random() < 0.25:  # clients ask and reflect too, uncoded
        words.insert(0, str(rng.choice(CUES["open_question"] + CUES["reflection"])))
    if rng.random() < 0.4:
        words.insert(0, str(rng.choice(AGREE)))
    return " ".join(words), codes


def study(n_units: int, seed: int = 0, turns: int = 40, noise: float = 0.06) -> Study:
    rng = np.random.default_rng(seed)
    book = codebook()
    code_ids = list(book.code_ids)
    texts, rows, groups, speakers, positions, headings = [], [], [], [], [], []
    for i in range(n_units):
        document, position = i // turns, i % turns
        counsellor = position % 2 == 0
        section = min(2, position * 3 // turns)
        text, codes = _turn(rng, counsellor, section)
        if not counsellor and rows:
            previous = rows[-1]
            if previous.get("open_question") or previous.get("closed_question"):
                codes["answer"] = 1
            if previous.get("advice") and text.split()[0] in {"okay", "yes", "alright"}:
                codes["accepts_advice"] = 1
        texts.append(text)
        rows.append(codes)
        groups.append(f"session{document:04d}")
        speakers.append("counsellor" if counsellor else "client")
        positions.append(position)
        headings.append(SECTIONS[section])
    truth = np.array([[r.get(c, 0) for c in code_ids] for r in rows], dtype=float)
    labels = pd.DataFrame(truth, columns=code_ids, index=[f"u{i}" for i in range(n_units)])
    site = [f"site{int(g[-4:]) % 3}" for g in groups]
    attributes = [{"speaker": s, "site": t} for s, t in zip(speakers, site, strict=True)]
    units = unit_contexts(texts, groups, positions, headings, attributes)
    coders = tuple(np.abs(truth - (rng.random(truth.shape) < noise * (0.3 + truth))) for _ in "ab")
    return Study(texts, labels, groups, units, book, (coders[0], coders[1]))


def _kappas(study_: Study) -> list[float | None]:
    """Per-code Cohen's kappa of the two simulated coders."""
    from coding.suggest import cohen_kappa

    a, b = (c.astype(bool) for c in study_.coders)
    return [
        cohen_kappa(
            int((a[:, j] & b[:, j]).sum()),
            int((a[:, j] & ~b[:, j]).sum()),
            int((~a[:, j] & b[:, j]).sum()),
            int((~a[:, j] & ~b[:, j]).sum()),
        )
        for j in range(a.shape[1])
    ]


def _cell(value: object) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def print_report(report: dict[str, object], human: list[float | None]) -> None:
    """Engine, baseline and human kappa per code, and the ablation, as a plain table."""
    codes, base = report["codes"], report["baseline"]
    steps = report.get("ablation") or []
    assert isinstance(codes, list) and isinstance(base, dict) and isinstance(steps, list)
    valid = [h for h in human if h is not None]
    human_rows = [*human, sum(valid) / len(valid) if valid else None]
    print(f"features: {report['features']}")
    header = ["code", "engine", "baseline", *(s["step"] for s in steps), "human"]
    print("  ".join(f"{h:>14s}" if i else f"{h:22s}" for i, h in enumerate(header)))
    rows = [*codes, {"code": "macro", **report["macro"]}]  # type: ignore[dict-item]
    bases = [*base["codes"], base["macro"]]
    for i, row in enumerate(rows):
        cells = [row["cohen_kappa"], bases[i]["cohen_kappa"]]
        cells += [[*s["codes"], s["macro"]][i]["cohen_kappa"] for s in steps]
        print(
            f"{row['code']:22s}  " + "  ".join(f"{_cell(c):>14s}" for c in [*cells, human_rows[i]])
        )


def main() -> None:
    import argparse
    import time

    from coding.suggest import evaluate

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--context", type=int, default=None)
    args = parser.parse_args()
    data = study(args.units)
    start, cpu = time.perf_counter(), time.process_time()
    from coding.suggest import SupervisedParams

    params = None if args.context is None else SupervisedParams(context=args.context)
    report = evaluate(
        data.texts,
        data.labels,
        data.groups,
        "supervised",
        codebook=data.codebook,
        units=data.units,
        params=params,
        ablation=True,
    )
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"{args.units:,} units, {len(data.codebook.codes)} codes, 5 grouped folds; "
        f"evaluate with ablation {wall:.1f} s wall, {cpu:.1f} s CPU"
    )
    print_report(report, _kappas(data))


if __name__ == "__main__":
    main()
