"""The language model engine's prompt and the reading of its answers. Pure: text in, data out.

The codebook becomes one system prompt (definitions, inclusion and exclusion criteria,
indicators, examples, and the answer format); each unit is one user message. An answer is a
JSON object ``{"codes": [{"id", "confidence", "evidence"}]}``, read leniently (a fenced block,
text around the object, a bare list). Each evidence quote is looked up in the unit, exactly
and then with whitespace, quotes, dashes and case normalised; a quote that is not in the unit
is dropped and counted, and so is a code id the codebook does not have.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from coding.model import Code, Codebook

PROMPT_VERSION = "1"  # part of the prompt hash: a change of the wording re-asks every unit
UNIT_HEADER = "Unit to code:\n"
ANSWER_FORMAT = (
    'Answer with one JSON object and nothing else: {"codes": [{"id": "<code id>", '
    '"confidence": <number from 0 to 1>, "evidence": "<quote>"}]}.\n'
    "List only the codes that apply to the unit, by the ids above; leave out codes that do not "
    "apply. The evidence is the shortest passage of the unit that shows the code applies, "
    "copied from the unit word for word (same words, same spelling, no ellipsis). "
    'When no code applies, answer {"codes": []}.'
)
DEFAULT_CONFIDENCE = 0.5  # a code applied without a readable confidence
APPLIED_FLOOR = 0.01  # the lowest score of a code the model applied; codes it left out score 0
FENCED = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
QUOTE_CHARS = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u00a0": " ",
    }
)
TRIMMED = " \t\n\"'`.,;:\u2026"  # stripped from the ends of a quote before the normalised search


class AnswerError(ValueError):
    """An answer that holds no readable JSON object of codes."""


def _lines(title: str, items: Sequence[str]) -> list[str]:
    return [f"{title}:", *(f"- {item}" for item in items)] if items else []


def _code_block(code: Code) -> str:
    lines = [f"## {code.id}: {code.name}", f"Definition: {code.definition}"]
    if code.parent:
        lines.append(f"Part of: {code.parent}")
    lines += _lines("Apply when", code.inclusion)
    lines += _lines("Do not apply when", code.exclusion)
    if code.indicators:
        lines.append(f"Indicators (words that often signal it): {'; '.join(code.indicators)}")
    lines += _lines("Typical examples", code.examples.typical)
    lines += _lines("Borderline examples", code.examples.borderline)
    return "\n".join(lines)


def system_prompt(codebook: Codebook) -> str:
    """The system prompt: the task, every code of the codebook, and the answer format.

    >>> from coding.model import Code, Codebook
    >>> book = Codebook("b", "Book", (Code("calm", "Calm", "The parent calms down."),))
    >>> print(system_prompt(book).splitlines()[4])
    ## calm: Calm
    """
    head = (
        "You apply a deductive qualitative codebook to one unit of text at a time. Read the "
        "definitions and criteria carefully; a code applies only when the unit itself shows it."
    )
    book = f"Codebook: {codebook.name}" + (
        f"\n{codebook.description}" if codebook.description else ""
    )
    blocks = [_code_block(c) for c in codebook.codes]
    return "\n\n".join([head, book, *blocks, ANSWER_FORMAT])


def user_message(text: str) -> str:
    """The user message for one unit."""
    return UNIT_HEADER + text


def prompt_hash(system: str) -> str:
    """The hash of everything but the unit: the system prompt, the unit header, the version.

    >>> len(prompt_hash("x")), prompt_hash("x") == prompt_hash("y")
    (64, False)
    """
    blob = "\x1f".join((PROMPT_VERSION, system, UNIT_HEADER))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def text_hash(text: str) -> str:
    """The hash of a unit's text, the cache's key for the unit."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- answers ----------------------------------------------------------------------------------
def _candidates(content: str) -> Iterator[str]:
    """The answer as given, its fenced blocks, then the span from the first brace to the last."""
    yield content.strip()
    yield from (m.group(1).strip() for m in FENCED.finditer(content))
    for opening, closing in (("{", "}"), ("[", "]")):
        first, last = content.find(opening), content.rfind(closing)
        if 0 <= first < last:
            yield content[first : last + 1]


def parse_answer(content: str) -> list[object]:
    """The applied-code items of an answer: the list under "codes" (or a bare list).

    >>> parse_answer('Sure! ```json\\n{"codes": [{"id": "calm"}]}\\n```')
    [{'id': 'calm'}]
    >>> parse_answer('{"codes": []}')
    []
    """
    for candidate in _candidates(content):
        try:
            data = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and isinstance(data.get("codes"), list):
            return list(data["codes"])
        if isinstance(data, list):
            return data
    shown = content.strip().replace("\n", " ")
    raise AnswerError(f"no JSON object with a list of codes in the answer: {shown[:120]!r}")


def _confidence(value: object) -> float:
    """A confidence in [0, 1]; percentages are read as such, anything else is the default."""
    if isinstance(value, str):
        value = value.strip().removesuffix("%")
        try:
            value = float(value)
        except ValueError:
            return DEFAULT_CONFIDENCE
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return DEFAULT_CONFIDENCE
    number = float(value)
    if 1.0 < number <= 100.0:
        number /= 100.0
    return min(1.0, max(0.0, number))


def _normalised(text: str) -> tuple[str, list[int]]:
    """``text`` with quotes and dashes unified, whitespace runs made one space, lower case; and
    for each character of the result, the index in ``text`` it came from."""
    out: list[str] = []
    where: list[int] = []
    for i, char in enumerate(text.translate(QUOTE_CHARS)):
        if char.isspace():
            if out and out[-1] == " ":
                continue
            char = " "
        for piece in char.lower():
            out.append(piece)
            where.append(i)
    return "".join(out), where


def find_quote(quote: str, text: str) -> tuple[int, int] | None:
    """Where ``quote`` is in ``text`` (str indices), exactly or normalised; None if absent.

    >>> find_quote("calm down", "Staff help them calm down.")
    (16, 25)
    >>> find_quote("\u201cHelp  them\u201d", "Staff help them calm down.")
    (6, 15)
    >>> find_quote("panic", "Staff help them calm down.") is None
    True
    """
    if not quote.strip():
        return None
    exact = text.find(quote)
    if exact >= 0:
        return exact, exact + len(quote)
    needle, _ = _normalised(quote.translate(QUOTE_CHARS).strip(TRIMMED))
    if not needle.strip():
        return None
    haystack, where = _normalised(text)
    found = haystack.find(needle)
    if found < 0:
        return None
    return where[found], where[found + len(needle) - 1] + 1


@dataclass
class Reading:
    """What one answer says about one unit, after the checks.

    ``codes`` maps each applied code the codebook has to its confidence; ``spans`` to its
    evidence spans (str indices into the unit). ``unknown_codes`` lists ids the codebook does
    not have; ``dropped_quotes`` counts quotes that are not in the unit.
    """

    codes: dict[str, float] = field(default_factory=dict)
    spans: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    unknown_codes: list[str] = field(default_factory=list)
    dropped_quotes: int = 0


def _quotes(item: dict[str, object]) -> list[str]:
    evidence = item.get("evidence", item.get("quote"))
    if isinstance(evidence, str):
        return [evidence]
    if isinstance(evidence, list):
        return [q for q in evidence if isinstance(q, str)]
    return []


def read_answer(content: str, code_ids: Sequence[str], text: str) -> Reading:
    """Check an answer against the codebook and the unit; raise AnswerError if unreadable.

    >>> found = read_answer(
    ...     '{"codes": [{"id": "calm", "confidence": 0.9, "evidence": "calm down"},'
    ...     ' {"id": "panic", "confidence": 1, "evidence": "x"},'
    ...     ' {"id": "cues", "confidence": 0.4, "evidence": "not in the unit"}]}',
    ...     ["calm", "cues"],
    ...     "Staff help them calm down.",
    ... )
    >>> found.codes, found.spans, found.unknown_codes, found.dropped_quotes
    ({'calm': 0.9, 'cues': 0.4}, {'calm': [(16, 25)], 'cues': []}, ['panic'], 1)
    """
    known = set(code_ids)
    reading = Reading()
    for item in parse_answer(content):
        if not isinstance(item, dict):
            continue
        code_id = str(item.get("id", item.get("code", item.get("code_id", "")))).strip()
        if code_id not in known:
            reading.unknown_codes.append(code_id)
            continue
        confidence = max(APPLIED_FLOOR, _confidence(item.get("confidence")))
        reading.codes[code_id] = max(confidence, reading.codes.get(code_id, 0.0))
        spans = reading.spans.setdefault(code_id, [])
        for quote in _quotes(item):
            span = find_quote(quote, text)
            if span is None:
                reading.dropped_quotes += 1
            elif span not in spans:
                spans.append(span)
    return reading
