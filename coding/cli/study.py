"""Commands that build a study: init, codebook, import, coders, assign, import-codings, migrate."""

from __future__ import annotations

import click
import pandas as pd

from coding import service
from coding.cli.common import (
    FORMAT,
    STUDY,
    actor,
    choice,
    echo_rows,
    flag,
    friendly,
    note,
    open_study,
    progress_shown,
    refusing,
)
from coding.cli.main import cli
from coding.service import standalone as codebook_io

# The options each completion mode ignores: given with it, they are refused rather than dropped.
IGNORED_BY = {"--complete auto": ("--yes",), "--complete none": ("--yes",)}


@cli.command()
@STUDY
@click.option(
    "--codebook",
    "codebook_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Codebook file (YAML, JSON or CSV) to load as version 1.",
)
@choice("--unit", ["paragraph", "sentence", "section"], "paragraph", help="The unit of coding.")
@friendly
def init(study: str, codebook_path: str | None, unit: str) -> None:
    """Create a study (a SQLite file, or a PostgreSQL URL).

    Example: coding init study.db --codebook codebooks/mechanisms.yaml
    """
    with service.init_study(study, actor(), codebook_path, unit) as store:
        version = store.codebook_versions()
    click.echo(
        f"created {study} (unit: {unit}; codebook: "
        f"{'v' + str(version[-1]) if version else 'none yet'})"
    )


@cli.group()
def codebook() -> None:
    """Validate codebook files and load new versions into a study."""


@codebook.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
@friendly
def codebook_validate(file: str) -> None:
    """Check a codebook file and report every problem with its place.

    Example: coding codebook validate codebooks/mechanisms.yaml
    """
    book, sha = codebook_io.read_codebook(file)
    click.echo(
        f"{file}: valid codebook {book.id!r} with {len(book.codes)} codes (sha256 {sha[:12]})"
    )


@codebook.command("load")
@STUDY
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@friendly
def codebook_load(study: str, file: str) -> None:
    """Load a codebook file into a study as a new version (if it changed).

    Example: coding codebook load study.db codebooks/mechanisms.yaml
    """
    with open_study(study) as store:
        result = service.load_codebook(store, file, actor())
    if result.unchanged:
        click.echo(f"unchanged: codebook v{result.version} already matches {file}")
        return
    click.echo(f"loaded codebook v{result.version}")
    for change in result.changes:
        click.echo(f"  - {change}")


@codebook.command("show")
@STUDY
@click.option("--version", "version", type=int, help="Codebook version (default: newest).")
@FORMAT("yaml", "json", "csv", default="yaml")
@friendly
def codebook_show(study: str, version: int | None, fmt: str) -> None:
    """Print a stored codebook version."""
    with open_study(study) as store:
        stored = store.codebook(version)
    click.echo(codebook_io.write_codebook(stored.codebook, fmt), nl=False)


@cli.command("import")
@STUDY
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--programme", default="", help="Programme name for these documents.")
@click.option("--title", default="", help="Title (default: the first heading or the file name).")
@click.option(
    "--manifest",
    type=click.Path(exists=True, dir_okay=False),
    help="CSV with file,document_id,programme,title per file.",
)
@friendly
def import_(
    study: str, files: tuple[str, ...], programme: str, title: str, manifest: str | None
) -> None:
    """Import documents (.txt .md .docx .pdf, or a pre-segmented .csv) and segment them.

    Example: coding import study.db corpus/*.md --manifest corpus/manifest.csv
    """
    with open_study(study) as store, progress_shown() as on_progress:
        results = service.import_documents(
            store,
            files,
            actor(),
            programme=programme,
            title=title,
            manifest=manifest,
            on_progress=on_progress,
        )
    for r in results:
        click.echo(f"{r.status:12} {r.document_id:28} {r.segments:5d} units  {r.source}")


@cli.group()
def coders() -> None:
    """List and add coders."""


@coders.command("add")
@STUDY
@click.argument("names", nargs=-1, required=True)
@friendly
def coders_add(study: str, names: tuple[str, ...]) -> None:
    """Add coders to a study.  Example: coding coders add study.db amira ben"""
    with open_study(study) as store:
        added = service.add_coders(store, list(names), actor())
    click.echo(f"added: {', '.join(added) or 'none (all present)'}")


@coders.command("list")
@STUDY
@friendly
def coders_list(study: str) -> None:
    """List a study's coders, one a line.

    Example: coding coders list study.db
    """
    with open_study(study) as store:
        names = store.coders()
    echo_rows(pd.DataFrame({"coder": names}))


@cli.command()
@STUDY
@click.option("--coder", required=True, help="The coder to give units to.")
@click.option(
    "--document",
    "documents",
    multiple=True,
    help="A document id (repeatable); default: every document.",
)
@friendly
def assign(study: str, coder: str, documents: tuple[str, ...]) -> None:
    """Give a coder the units of some documents to code.

    Example: coding assign study.db --coder chloe --document residential
    """
    with open_study(study) as store:
        added = service.assign(store, coder, actor(), list(documents))
    click.echo(f"assigned {added} new units to {coder}")


@cli.command("import-codings")
@STUDY
@click.argument("file", type=click.Path(dir_okay=False))
@choice(
    "--complete",
    ["auto", "documents", "segments", "none"],
    "auto",
    help="Units to mark as submitted by each coder in the file. auto: every unit of each "
    "document they coded, except documents where they have units open in the app; "
    "documents: those too; segments: only the units they coded; none: no unit.",
)
@flag(
    "--yes",
    "With --complete documents or segments: complete units that hold a coder's unsubmitted "
    "work in the app (codes or a memo).",
)
@flag("--add-coders", "Add coders not yet in the study.")
@click.option(
    "--min-overlap",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=0.5,
    show_default=True,
    help="A span codes a unit it overlaps by at least this share of the shorter of the two.",
)
@refusing(IGNORED_BY)
@friendly
def import_codings(
    study: str, file: str, complete: str, yes: bool, add_coders: bool, min_overlap: float
) -> None:
    """Import coders' codings from a long CSV (all rows or none).

    Columns: segment_id or document_id,start,end; coder; code; memo (optional).
    Units a coder has open in the app stay open unless --complete documents (or segments)
    says otherwise; completing units with drafts needs --yes.
    Example: coding import-codings study.db corpus/codings.csv
    """
    with open_study(study) as store:
        result = service.import_codings(
            store,
            file,
            actor(),
            complete=complete,
            add_new_coders=add_coders,
            min_overlap=min_overlap,
            allow_drafts=yes,
        )
    for done in result.completion:
        note(f"completed {done}")
    for held in result.left_open:
        note(f"left open (units open in the app; --complete documents completes them) {held}")
    click.echo(
        f"{result.rows} rows: {result.added} annotations added, "
        f"{result.already_present} already present; coders {', '.join(result.coders)}; "
        f"{result.completed_units} units marked complete"
    )


@cli.command()
@STUDY
@friendly
def migrate(study: str) -> None:
    """Bring a study's database schema up to date (also done on open)."""
    with open_study(study) as store:
        click.echo(f"schema v{store.schema_version()}")
    note("up to date")
