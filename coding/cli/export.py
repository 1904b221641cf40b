"""``coding export``, ``coding import-qdpx``, ``coding export-qdc`` and ``coding import-qdc``."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import IO

import click

from coding.cli.common import STUDY, actor, friendly, note, open_study
from coding.cli.main import cli
from coding.errors import CodingError
from coding.model import ProgressEvent
from coding.service import export as export_service
from coding.service import refi as refi_service


def _split(value: str | None) -> list[str]:
    return [v.strip().lower() for v in value.split(",") if v.strip()] if value else []


class ProgressBar:
    """A progress line on stderr, redrawn in place (stage, bar, steps done, item), and wiped
    when the command ends; nothing at all where stderr is not a terminal (a log, a pipe)."""

    WIDTH = 24

    def __init__(self, stream: IO[str] | None = None, shown: bool | None = None) -> None:
        self.stream: IO[str] = stream if stream is not None else sys.stderr
        self.shown = self.stream.isatty() if shown is None else shown
        self.drawn = 0  # length of the line on screen

    def __call__(self, event: ProgressEvent) -> None:
        if not self.shown:
            return
        if event.total:
            filled = round(self.WIDTH * min(event.done, event.total) / event.total)
            bar = f"[{'#' * filled}{'-' * (self.WIDTH - filled)}] {event.done}/{event.total}"
        else:
            bar = f"[{'.' * self.WIDTH}]"
        line = f"{event.stage:<9} {bar} {event.item}".rstrip()
        line = line[: max(20, shutil.get_terminal_size().columns - 1)]
        self.stream.write("\r" + line.ljust(self.drawn))
        self.stream.flush()
        self.drawn = len(line)

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r" + " " * self.drawn + "\r")
            self.stream.flush()
            self.drawn = 0


def _excerpts(value: str) -> int | None:
    if value.strip().lower() == "all":
        return None
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise CodingError(f"--excerpts takes a number of 0 or more, or 'all'; not {value!r}")
    return number


@cli.command("export")
@STUDY
@click.option(
    "--to",
    "directory",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder to write into (created if missing): a new or empty one, or one holding only "
    "an earlier export. It is replaced in one step: a killed export leaves the earlier files.",
)
@click.option(
    "--only", help=f"Comma-separated exports: {', '.join(export_service.KINDS)} (default: all)."
)
@click.option(
    "--format",
    "formats",
    help="Comma-separated formats to write, e.g. csv,html (default: every format of each export).",
)
@click.option(
    "--matrix-rows",
    metavar="ATTRIBUTE",
    help="The matrix's rows: the values of this attribute of units or documents "
    "(default: programme).",
)
@click.option(
    "--matrix-columns",
    metavar="ATTRIBUTE",
    help="The matrix's columns: the values of this attribute (default: the codes); the codes "
    "then are its rows, unless --matrix-code names one code to count by rows x columns.",
)
@click.option(
    "--matrix-code",
    metavar="CODE",
    help="With --matrix-columns: the one code the matrix counts, in cells of the rows' values "
    "(--matrix-rows, default programme) x the columns' values.",
)
@click.option(
    "--excerpts",
    default=str(export_service.EXCERPTS),
    show_default=True,
    help="Most excerpts the theme report quotes per code and programme, or 'all'. It says "
    "how many it left out; coded_segments lists every one.",
)
@friendly
def export(
    study: str,
    directory: str,
    only: str | None,
    formats: str | None,
    matrix_rows: str | None,
    matrix_columns: str | None,
    matrix_code: str | None,
    excerpts: str,
) -> None:
    """Export coded segments, theme report, matrix, agreement, audit log, .qdc and .qdpx.

    Final codes use the reviewer's consensus decisions where they exist. Only work on units a
    coder has completed is exported. All files are written beside the folder first, then
    swapped in at once, so the folder never holds a mix of two exports. A progress bar shows
    on stderr when it is a terminal.

    Example: coding export study.db --to exports/
    """
    kinds = _split(only)
    unknown = [k for k in kinds if k not in export_service.KINDS]
    if unknown:
        raise CodingError(
            f"unknown export(s): {', '.join(unknown)}; choose from "
            f"{', '.join(export_service.KINDS)}"
        )
    cap = _excerpts(excerpts)
    bar = ProgressBar()
    try:
        with open_study(study) as store:
            written = export_service.export_study(
                store,
                directory,
                kinds or None,
                _split(formats) or None,
                excerpts=cap,
                on_progress=bar,
                matrix_rows=matrix_rows,
                matrix_columns=matrix_columns,
                matrix_code=matrix_code,
            )
    finally:
        bar.close()
    for path in written:
        click.echo(f"{path.stat().st_size:>9,d}  {path}")


@cli.command("import-qdpx")
@STUDY
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--positions",
    type=click.Choice(["auto", "utf16", "codepoints"]),
    default="auto",
    show_default=True,
    help="How the file counts positions (NVivo: UTF-16 code units).",
)
@click.option(
    "--min-overlap",
    type=float,
    default=0.5,
    show_default=True,
    help="A coding goes to a unit it overlaps by at least this share of the shorter of the two.",
)
@friendly
def import_qdpx(study: str, file: str, positions: str, min_overlap: float) -> None:
    """Import a REFI-QDA project: sources, codebook, users as coders, codings (all or none).

    Example: coding import-qdpx study.db nvivo-export.qdpx
    """
    with open_study(study) as store:
        result = refi_service.import_qdpx(
            store, file, actor(), positions=positions, min_overlap=min_overlap
        )
    for line in result.notes:
        note(f"note: {line}")
    click.echo(
        f"documents: {len(result.documents_added)} added, {len(result.documents_reused)} "
        f"already present; coders added: {', '.join(result.coders_added) or 'none'}; "
        f"codebook v{result.codebook_version} "
        f"({len(result.codes_added)} new codes)"
    )
    click.echo(
        f"{result.codings} codings -> {result.annotations} annotations "
        f"({result.unmatched} matched no unit); {result.completed_units} units marked "
        "complete"
    )


@cli.command("export-qdc")
@STUDY
@click.argument("file", type=click.Path(dir_okay=False))
@friendly
def export_qdc(study: str, file: str) -> None:
    """Write the study's current codebook as a REFI-QDA codebook (.qdc).

    Example: coding export-qdc study.db codebook.qdc
    """
    with open_study(study) as store:
        _name, content = export_service.export_bytes(store, "qdc", "qdc")
    Path(file).write_bytes(content)
    click.echo(f"wrote {file}")


@cli.command("import-qdc")
@STUDY
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@friendly
def import_qdc(study: str, file: str) -> None:
    """Load a REFI-QDA codebook (.qdc) as the study's next codebook version.

    Example: coding import-qdc study.db codebook.qdc
    """
    with open_study(study) as store:
        version, changes, warnings = refi_service.import_qdc(store, file, actor())
    for line in warnings:
        note(f"note: {line}")
    if not changes:
        click.echo(f"unchanged: codebook v{version} already matches {file}")
        return
    click.echo(f"loaded codebook v{version}")
    for change in changes:
        click.echo(f"  - {change}")
