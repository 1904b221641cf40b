"""The theme report and the agreement report, as document blocks for any renderer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from coding.export.document import Block, Figure, Heading, Para, Quote, Table
from coding.export.tables import BASIS, location
from coding.model import Codebook

FINAL_CODES_NOTE = (
    "Final codes: where the reviewer recorded a consensus decision, that decision is used "
    "(labelled 'resolved', with its rationale in the coded segments export); otherwise a code "
    "stands when every coder who completed the segment applied it ('agreed'), or when only one "
    "coder completed the segment ('single'). Open disagreements are counted but not quoted. "
    "Only work on segments a coder has completed is included."
)
EXCERPTS = 50  # the theme report quotes at most this many segments per code and programme
FULL_LIST = "the full list is in the coded segments export (coded_segments.csv)"
RELIABILITY_COLUMNS = {
    "n_units": "units",
    "prevalence": "prevalence",
    "percent_agreement": "% agreement",
    "krippendorff_alpha": "alpha",
    "cohen_kappa": "kappa",
    "gwet_ac1": "AC1",
    "alpha_band": "alpha band",
}
METHOD_NOTES = (
    "Unit of analysis: the segment. For each code, every coder who completed a segment gives "
    "it a 1 (applied) or 0 (not applied); segments not completed by a coder are missing, not 0, "
    "and a segment enters a code's figures only when at least two coders completed it.",
    "Krippendorff's alpha (nominal) is the primary figure: 0.800 or more is reliable, 0.667 to "
    "0.800 supports tentative conclusions only. Cohen's kappa and Gwet's AC1 are given beside "
    "it; AC1 is less affected by rare codes (low prevalence), where alpha and kappa can be low "
    "even when coders agree on nearly every segment. Percent agreement is not chance-corrected.",
    "Before consensus: the coders compared with each other. After consensus: each coder "
    "compared with the consensus coding (reviewer decisions plus codes all coders agreed on), "
    "on segments with no open disagreement left.",
    "Confidence intervals, when shown, are percentile bootstrap intervals over segments.",
    "Units: on a code's row, the segments compared; on a row that pools the codes ('overall', "
    "and '*' per document), the (segment, code) pairs compared: segments times codes.",
)


@dataclass(frozen=True)
class Reliability:
    """The agreement engine's tables; ``missing`` says why a table is absent."""

    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    missing: str = ""

    @property
    def by_code(self) -> pd.DataFrame | None:
        return self.tables.get("by_code")


def reliability_columns(frame: pd.DataFrame) -> pd.DataFrame:
    keep = [
        c
        for c in ("pair", "coder", "code_id", "document_id", *RELIABILITY_COLUMNS, "note")
        if c in frame.columns
    ]
    return frame[keep].rename(columns=RELIABILITY_COLUMNS)


def _reliability_line(by_code: pd.DataFrame | None, code_id: str, missing: str) -> str:
    if by_code is None or "code_id" not in by_code:
        return f"Reliability: not available ({missing or 'no agreement table'})."
    rows = by_code[by_code["code_id"] == code_id]
    if rows.empty:
        return "Reliability: no segment was completed by two coders."
    row = rows.iloc[0]
    parts = []
    for column, label in (
        ("krippendorff_alpha", "alpha"),
        ("cohen_kappa", "kappa"),
        ("gwet_ac1", "AC1"),
        ("percent_agreement", "agreement"),
    ):
        if column in row and pd.notna(row[column]):
            parts.append(f"{label} {float(row[column]):.3f}")
        elif column in row:
            parts.append(f"{label} undefined")
    if "n_units" in row:
        parts.append(f"{int(row['n_units'])} double-coded units")
    if "alpha_band" in row and isinstance(row["alpha_band"], str) and row["alpha_band"]:
        parts.append(f"band: {row['alpha_band']}")
    note = (
        f" Note: {row['note']}"
        if "note" in row and isinstance(row["note"], str) and row["note"]
        else ""
    )
    return "Reliability (before consensus): " + ", ".join(parts) + "." + note


def summary_table(
    coded: pd.DataFrame, cells: pd.DataFrame, codebook: Codebook, by_code: pd.DataFrame | None
) -> pd.DataFrame:
    programmes = list(dict.fromkeys(cells["programme"]))
    counted = {
        (p, c): int(n)
        for p, c, n in zip(cells["programme"], cells["code_id"], cells["segments"], strict=True)
    }
    finals = _count_by_code(coded, "yes")
    opens = _count_by_code(coded, "open")
    rows = []
    for code in codebook.codes:
        row: dict[str, object] = {"code": code.name, "final segments": finals.get(code.id, 0)}
        for programme in programmes:
            row[programme] = counted.get((programme, code.id), 0)
        row["open disagreements"] = opens.get(code.id, 0)
        if by_code is not None and "code_id" in by_code:
            found = by_code[by_code["code_id"] == code.id]
            row["alpha"] = (
                float(found["krippendorff_alpha"].iloc[0])
                if not found.empty and pd.notna(found["krippendorff_alpha"].iloc[0])
                else None
            )
        rows.append(row)
    return pd.DataFrame(rows)


def _count_by_code(coded: pd.DataFrame, final: str) -> dict[str, int]:
    """Rows of each code whose final label is ``final`` ("yes", "no" or "open")."""
    if coded.empty:
        return {}
    return {
        str(k): int(v) for k, v in coded[coded["final"] == final].groupby("code_id").size().items()
    }


@dataclass(frozen=True)
class ThemeStudy:
    """What the theme report describes: the study, its codebook, and the export tables."""

    study: str
    revision: int
    codebook: Codebook
    codebook_version: int
    coded: pd.DataFrame
    cells: pd.DataFrame
    reliability: Reliability
    coders: Sequence[str]


def theme_blocks(data: ThemeStudy, figure: Figure, excerpts: int | None = EXCERPTS) -> list[Block]:
    """Summary table, matrix figure, then per code: definition, counts, reliability and
    excerpts: at most ``excerpts`` per code and programme (None: all), in document order,
    with a count of those left out (the coded segments export lists every one)."""
    codebook, coded = data.codebook, data.coded
    final = coded[coded["final"] == "yes"] if not coded.empty else coded
    per_cell = final.groupby(["code_id", "programme"]).size() if not final.empty else None
    left_out = (
        int((per_cell - excerpts).clip(lower=0).sum())
        if per_cell is not None and excerpts is not None
        else 0
    )
    blocks: list[Block] = [
        Heading(f"Theme report: {codebook.name}", 1),
        Para(
            f"Study {data.study}, revision {data.revision}; codebook {codebook.id} "
            f"v{data.codebook_version}; coders: {', '.join(data.coders) or 'none'}."
        ),
        Para(FINAL_CODES_NOTE),
    ]
    if left_out:
        blocks.append(
            Para(
                f"Excerpts: at most {excerpts:,d} per code and programme, in document order; "
                f"{left_out:,d} of {len(final):,d} excerpts are not quoted here; "
                f"{FULL_LIST}."
            )
        )
    blocks += [
        Heading("Summary", 2),
        Table(summary_table(coded, data.cells, codebook, data.reliability.by_code)),
        figure,
    ]
    by_code = dict(tuple(coded.groupby("code_id", sort=False))) if not coded.empty else {}
    for code in codebook.codes:
        blocks += _code_blocks(data, code.id, by_code.get(code.id, coded.iloc[:0]), excerpts)
    blocks.append(Heading("Legend", 2))
    blocks.append(Table(pd.DataFrame({"basis": list(BASIS), "meaning": list(BASIS.values())})))
    return blocks


def _code_blocks(
    data: ThemeStudy, code_id: str, mine: pd.DataFrame, excerpts: int | None
) -> list[Block]:
    """One code's section: definition, counts per programme, reliability, excerpts."""
    code = data.codebook.code(code_id)
    cells, reliability = data.cells, data.reliability
    blocks: list[Block] = [Heading(f"{code.name} ({code.id})", 2), Para(code.definition)]
    counts = cells[cells["code_id"] == code.id][
        ["programme", "segments", "programme_segments", "share"]
    ]
    blocks.append(Table(counts.rename(columns={"programme_segments": "of segments"})))
    blocks.append(Para(_reliability_line(reliability.by_code, code.id, reliability.missing)))
    open_count = int((mine["final"] == "open").sum()) if not mine.empty else 0
    if open_count:
        blocks.append(
            Para(
                f"{open_count} open disagreement(s) on this code are not quoted "
                "until the reviewer decides them."
            )
        )
    final = mine[mine["final"] == "yes"] if not mine.empty else mine
    if final.empty:
        blocks.append(Para("No segment has this code as a final code."))
        return blocks
    for programme, group in final.groupby("programme", sort=True):
        blocks.append(Heading(f"{programme} ({len(group)} segment(s))", 3))
        shown = group if excerpts is None else group.head(excerpts)
        for row in shown.to_dict("records"):
            basis = str(row["status"])
            where = f"{row['title']} \u2014 {location(row)} \u2014 {basis}"
            if basis == "resolved" and row["rationale"]:
                where += f": {row['rationale']}"
            blocks.append(Quote(where, str(row["text"])))
        if len(shown) < len(group):
            blocks.append(
                Para(f"Showing {len(shown):,d} of {len(group):,d} excerpts; {FULL_LIST}.")
            )
    return blocks


def agreement_blocks(*, study: str, revision: int, reliability: Reliability) -> list[Block]:
    """The agreement engine's tables with the method notes."""
    blocks: list[Block] = [
        Heading("Agreement report", 1),
        Para(f"Study {study}, revision {revision}."),
    ]
    titles = {
        "by_code": "Per code (before consensus)",
        "by_document": "Per document (before consensus)",
        "overall": "Overall (before consensus)",
        "vs_consensus": "After consensus: each coder against the consensus coding",
    }
    if reliability.missing:
        blocks.append(Para(f"Not available: {reliability.missing}"))
    for key, frame in reliability.tables.items():
        blocks += [Heading(titles.get(key, key), 2), Table(reliability_columns(frame))]
    blocks.append(Heading("Method notes", 2))
    blocks += [Para(note) for note in METHOD_NOTES]
    return blocks
