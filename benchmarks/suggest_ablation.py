"""What coders use matters: a generated counselling study where speaker and previous turn decide.

The study is built in a temporary folder, deterministic by seed, as a team would hand it in: a
codebook, a pre-segmented CSV with a ``speaker`` unit attribute, and one codings CSV per coder,
imported with ``coding init``, ``coding import`` and ``coding import-codings``. Then
``coding suggest evaluate --ablation`` runs on it, and on the demo study, and the script prints
the engine beside the baseline per code and macro, the ablation steps, the human-human kappa
and the wall time of each step.

Sessions alternate counsellor and client utterances, and each utterance has exactly one code,
from one of two exclusive groups (coders apply the group's parent too):

- ``counsellor``: open_question, closed_question, reflection, affirm, advise;
- ``client``: change (talk towards change), sustain (talk against it), neutral.

What decides the code, besides the words:

- the speaker: clients ask back and repeat the counsellor's words ("do you want to cut
  down", coded neutral), and counsellors echo the client's own words in reflections;
- the previous utterance: a counsellor's reflection follows a client's statement and repeats
  its words with "you" for "i", often without a cue such as "so" or "it sounds like"; a bare
  "yeah, exactly" is change or sustain talk after a reflection of change or sustain talk and a
  neutral answer after a closed question; advice draws sustain talk, a closed question a plain
  answer.

No label is written into a text: the words of a turn come from its true code (with cues
shared across codes) and from the previous turn only. Two coders each code from the truth with
errors between neighbouring codes of the same group (kappa about 0.6-0.7 between them); a
third of the sessions are coded by both, the rest by one of them, so the reference labels are
one coder's codes where a single coder coded (and the agreed codes where both did).

Run ``python benchmarks/suggest_ablation.py`` (``--sessions 120 --turns 40`` by default).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

COUNSELLOR = ("open_question", "closed_question", "reflection", "affirm", "advise")
CLIENT = ("change", "sustain", "neutral")
GROUPS = {"counsellor": COUNSELLOR, "client": CLIENT}
CODERS = ("maya", "tom")
#: P(counsellor code | previous client code), in COUNSELLOR's order.
AFTER_CLIENT = {
    None: (0.6, 0.4, 0.0, 0.0, 0.0),
    "change": (0.2, 0.05, 0.45, 0.2, 0.1),
    "sustain": (0.25, 0.1, 0.45, 0.05, 0.15),
    "neutral": (0.35, 0.25, 0.15, 0.05, 0.2),
}
#: P(client code | previous counsellor code) before the session's leaning, in CLIENT's order.
AFTER_COUNSELLOR = {
    "open_question": (0.35, 0.35, 0.3),
    "closed_question": (0.2, 0.2, 0.6),
    "affirm": (0.5, 0.2, 0.3),
    "advise": (0.25, 0.45, 0.3),
}
#: Codes a coder takes one code for, by mistake: the neighbours of each code in its group.
CONFUSED = {
    "open_question": ("closed_question", "reflection"),
    "closed_question": ("open_question", "reflection"),
    "reflection": ("advise", "closed_question", "affirm"),
    "affirm": ("reflection",),
    "advise": ("reflection", "closed_question"),
    "change": ("neutral", "sustain"),
    "sustain": ("neutral", "change"),
    "neutral": ("change", "sustain"),
}
TOPICS = (("drink", "drinking"), ("smoke", "smoking"), ("gamble", "gambling"))
CLIENT_SAYS = {  # {v}: the session's verb, {n}: its noun
    "change": (
        "i want to cut down on the {n}",
        "i need to stop {n} before it costs me my job",
        "i could try to {v} less at the weekend",
        "i am ready to change something",
        "it would be better for my kids if i stopped {n}",
        "i have been thinking about quitting",
        "i have done really well this week",
        "i care a lot about my kids",
    ),
    "sustain": (
        "i do not want to stop {n}",
        "i need to {v} to relax after work",
        "i could never cut down on the {n}",
        "i am not ready to change anything",
        "it is not really a problem for my kids",
        "everyone i know likes {n}",
    ),
    "neutral": (
        "i went to work and then home",
        "about twice a week i would say",
        "my sister came over on sunday",
        "i do not know really",
        "what do you think i should do",
        "it sounds like the weather will turn",
        "no i have not tried that",
    ),
}
AGREEING = ("yeah exactly", "yes that is right", "yeah", "mm right")
COUNSELLOR_SAYS = {
    "open_question": (
        "what do you think about the {n}",
        "how do you feel about your {n}",
        "tell me more about the week",
        "what would it take to {v} less",
    ),
    "closed_question": (
        "do you want to cut down",
        "did you {v} this week",
        "is it a problem at work",
        "have you tried to stop before",
    ),
    "affirm": (
        "you have done really well this week",
        "that took courage to say",
        "you care a lot about your kids",
        "it is good that you came today",
    ),
    "advise": (
        "you could try to {v} less at home",
        "i suggest you stop {n} for a week",
        "it may help to talk to your doctor",
        "you should think about your kids",
    ),
}
#: Neutral client turns that ask back or repeat the counsellor's words ("do you want to cut
#: down?"): the same words as a counsellor's question or advice, told apart by the speaker.
QUESTIONS_BACK = 0.4
REFLECTION_CUES = ("so", "it sounds like", "so you are saying")
FILLER = ("well", "um", "you know", "i mean", "really", "at the moment", "like", "okay")
YOU_FOR_I = {"i": "you", "my": "your", "me": "you", "am": "are", "i'm": "you're"}


@dataclass(frozen=True)
class Study:
    sessions: list[list[tuple[str, str]]]  # per session: (speaker, text) per utterance
    truth: list[list[str]]  # per session: the true code of each utterance
    coded: dict[str, dict[int, list[str]]]  # coder -> session -> the coder's codes

    def segment_ids(self, session: int) -> list[str]:
        return [f"s{session:04d}-{k:03d}" for k in range(len(self.sessions[session]))]


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return str(options[int(rng.integers(len(options)))])


def _echo(text: str) -> str:
    """The client's words as a counsellor reflects them: "i want" becomes "you want"."""
    return " ".join(YOU_FOR_I.get(w, w) for w in text.split())


def _padded(rng: np.random.Generator, text: str) -> str:
    """A filler word or two before or after, as people talk."""
    if rng.random() < 0.5:
        text = f"{_pick(rng, FILLER)} {text}"
    if rng.random() < 0.3:
        text = f"{text} {_pick(rng, FILLER)}"
    return text


def _counsellor_turn(
    rng: np.random.Generator, previous: tuple[str, str] | None, topic: tuple[str, str]
) -> tuple[str, str]:
    """A counsellor's code (given the previous client code) and words."""
    before = previous[0] if previous else None
    code = COUNSELLOR[int(rng.choice(len(COUNSELLOR), p=AFTER_CLIENT[before]))]
    if code == "reflection" and previous is not None and previous[1] in AGREEING:
        code = "open_question"  # a bare "yeah" gives nothing to reflect
    if code == "reflection":
        assert previous is not None
        echoed = _echo(previous[1])
        if rng.random() < 0.4:
            echoed = f"{_pick(rng, REFLECTION_CUES)} {echoed}"
        return code, _padded(rng, echoed)
    verb, noun = topic
    return code, _padded(rng, _pick(rng, COUNSELLOR_SAYS[code]).format(v=verb, n=noun))


def _client_turn(
    rng: np.random.Generator,
    previous: str,
    reflected: str | None,
    leaning: float,
    topic: tuple[str, str],
) -> tuple[str, str]:
    """A client's code (given the counsellor's code and, after a reflection, the client talk it
    reflected) and words: the content phrase, or after a reflection often only "yeah"."""
    if previous == "reflection":
        same = reflected if reflected in ("change", "sustain") else "neutral"
        code = same if rng.random() < 0.65 else _pick(rng, CLIENT)
        if code == same and rng.random() < 0.6:
            return code, _pick(rng, AGREEING)
    else:
        p = np.array(AFTER_COUNSELLOR[previous])
        p[:2] = p[:2].sum() * np.array([leaning, 1 - leaning])
        code = CLIENT[int(rng.choice(3, p=p))]
    verb, noun = topic
    says = CLIENT_SAYS[code]
    if code == "neutral" and rng.random() < QUESTIONS_BACK:
        says = COUNSELLOR_SAYS[_pick(rng, ("open_question", "closed_question", "advise"))]
    text = _pick(rng, says).format(v=verb, n=noun)
    if previous == "closed_question" and rng.random() < 0.5:
        text = f"{_pick(rng, ('yes', 'no'))} {text}"
    return code, _padded(rng, text)


def _session(rng: np.random.Generator, turns: int) -> tuple[list[tuple[str, str]], list[str]]:
    """One session's (speaker, text) utterances and their true codes."""
    topic = TOPICS[int(rng.integers(len(TOPICS)))]
    leaning = float(rng.beta(2, 2))  # the client's pull towards change over sustain talk
    utterances: list[tuple[str, str]] = []
    codes: list[str] = []
    for k in range(turns):
        if k % 2 == 0:
            last = (codes[-1], utterances[-1][1]) if codes else None
            code, text = _counsellor_turn(rng, last, topic)
            utterances.append(("counsellor", text))
        else:
            reflected = codes[-2] if k >= 2 else None
            code, text = _client_turn(rng, codes[-1], reflected, leaning, topic)
            utterances.append(("client", text))
        codes.append(code)
    return utterances, codes


def _coder(rng: np.random.Generator, truth: list[str], error: float) -> list[str]:
    """A coder's codes: the true one, or now and then a neighbouring code of its group."""
    return [_pick(rng, CONFUSED[code]) if rng.random() < error else code for code in truth]


def generate(
    sessions: int = 120, turns: int = 40, seed: int = 0, error: float = 0.17, double: float = 1 / 3
) -> Study:
    """A study of ``sessions`` sessions; ``double`` of them are coded by both coders."""
    rng = np.random.default_rng(seed)
    drawn = [_session(rng, turns) for _ in range(sessions)]
    coded: dict[str, dict[int, list[str]]] = {c: {} for c in CODERS}
    for s, (_, truth) in enumerate(drawn):
        both = s % round(1 / double) == 0
        for k, coder in enumerate(CODERS):
            if both or (s // 2 + k) % 2 == 0:
                coded[coder][s] = _coder(rng, truth, error)
    return Study([u for u, _ in drawn], [t for _, t in drawn], coded)


def codebook_yaml() -> str:
    lines = ["codebook: {id: counselling, name: Counselling behaviour}", "codes:"]
    for parent, children in GROUPS.items():
        lines.append(f"  - {{id: {parent}, name: {parent}, definition: d, exclusive: true}}")
        lines += [
            f"  - {{id: {parent}.{c}, name: {c}, definition: d, parent: {parent}}}"
            for c in children
        ]
    return "\n".join(lines) + "\n"


def parent_of(code: str) -> str:
    return "counsellor" if code in COUNSELLOR else "client"


def write_files(study: Study, folder: Path) -> tuple[Path, Path, list[Path]]:
    """The codebook, the pre-segmented units (with ``speaker``) and each coder's codings."""
    codebook = folder / "codebook.yaml"
    codebook.write_text(codebook_yaml(), encoding="utf-8")
    units = folder / "sessions.csv"
    with units.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["document_id", "segment_id", "text", "speaker"])
        for s, utterances in enumerate(study.sessions):
            for segment, (speaker, text) in zip(study.segment_ids(s), utterances, strict=True):
                writer.writerow([f"session{s:04d}", segment, text, speaker])
    codings = []
    for coder, by_session in study.coded.items():
        path = folder / f"codings-{coder}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["document_id", "segment_id", "coder", "code"])
            for s, codes in sorted(by_session.items()):
                for segment, code in zip(study.segment_ids(s), codes, strict=True):
                    parent = parent_of(code)
                    writer.writerow([f"session{s:04d}", segment, coder, parent])
                    writer.writerow([f"session{s:04d}", segment, coder, f"{parent}.{code}"])
        codings.append(path)
    return codebook, units, codings


def coding(*args: str | Path) -> tuple[str, float]:
    """Run the ``coding`` command line; its stdout and wall time in seconds."""
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "coding", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"coding {' '.join(map(str, args))} failed:\n{done.stderr}")
    return done.stdout, time.perf_counter() - began


def build(study: Study, folder: Path) -> tuple[Path, float]:
    """The study imported through the command line, and the seconds it took."""
    codebook, units, codings = write_files(study, folder)
    db = folder / "study.db"
    _, seconds = coding("init", db, "--codebook", codebook)
    seconds += coding("import", db, units)[1]
    for path in codings:
        seconds += coding("import-codings", db, path, "--add-coders")[1]
    return db, seconds


def leaves(codes: list[str]) -> list[str]:
    """Codes that are no other code's parent (ids are dotted paths here)."""
    return [c for c in codes if not any(o.startswith(c + ".") for o in codes)]


def _cell(value: object) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _mean(values: list[object]) -> float | None:
    known = [float(v) for v in values if isinstance(v, int | float)]
    return sum(known) / len(known) if known else None


def print_report(title: str, result: dict[str, object], seconds: float) -> None:
    """Per code: engine and baseline F1 and kappa, each ablation step's kappa, human kappa."""
    codes = result["codes"]
    base = result["baseline"]
    human = result["human"]
    steps = result.get("ablation") or []
    assert isinstance(codes, list) and isinstance(base, dict) and isinstance(human, dict)
    assert isinstance(steps, list)
    print(f"\n{title}: engine {result['engine']}, {result['folds']} folds grouped by document,")
    print(f"  {seconds:.1f} s wall for `coding suggest evaluate --ablation`")
    for step in steps:
        print(f"  {step['step']}: {step['features']}")
    names = ["engine_f1", "base_f1", "engine_k", "base_k", *(s["step"] for s in steps), "human_k"]
    print(f"  {'code':28s}" + "".join(f"{n:>13s}" for n in names))
    ids = [str(c["code"]) for c in codes]
    rows = {
        "engine_f1": [c["f1"] for c in codes],
        "base_f1": [c["f1"] for c in base["codes"]],
        "engine_k": [c["cohen_kappa"] for c in codes],
        "base_k": [c["cohen_kappa"] for c in base["codes"]],
        **{s["step"]: [c["cohen_kappa"] for c in s["codes"]] for s in steps},
        "human_k": [c["cohen_kappa"] for c in human["codes"]],
    }
    for i, code in enumerate(ids):
        print(f"  {code:28s}" + "".join(f"{_cell(rows[n][i]):>13s}" for n in names))
    kept = [i for i, c in enumerate(ids) if c in leaves(ids)]
    for label, at in (("macro", range(len(ids))), ("macro, leaf codes", kept)):
        means = [_mean([rows[n][i] for i in at]) for n in names]
        print(f"  {label:28s}" + "".join(f"{_cell(m):>13s}" for m in means))
    macro, base_macro = result["macro"], base["macro"]
    assert isinstance(macro, dict)
    print(
        f"  brier (calibration, lower is better): engine {_cell(macro['brier'])}, "
        f"baseline {_cell(base_macro['brier'])}; human: {human['units']} double-coded units"
    )


def evaluate(db: Path, *options: str) -> tuple[dict[str, object], float]:
    out, seconds = coding("suggest", "evaluate", db, "--ablation", "--format", "json", *options)
    return json.loads(out), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=120)
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-demo", action="store_true", help="Skip the demo study.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        study = generate(args.sessions, args.turns, args.seed)
        db, seconds = build(study, Path(tmp))
        units = sum(len(s) for s in study.sessions)
        print(
            f"generated study: {args.sessions} sessions, {units:,} utterances, seed "
            f"{args.seed}; generated and imported through the CLI in "
            f"{time.perf_counter() - began:.1f} s ({seconds:.1f} s in `coding`)"
        )
        result, seconds = evaluate(db, "--folds", str(args.folds))
        print_report("generated counselling study", result, seconds)
        if not args.no_demo:
            from coding.service.demo import build_demo

            demo = Path(tmp) / "demo.db"
            build_demo(demo, suggest=False)
            result, seconds = evaluate(demo, "--folds", str(args.folds))
            print_report("demo study", result, seconds)


if __name__ == "__main__":
    main()
