"""A study as the exports see it: read once, its export tables built when first asked for."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from coding.export import document, figures, matrix, report, tables
from coding.model import CodebookVersion, Document
from coding.refi.cases import StudyAttributes

FIGURE_TITLE = "Share of segments with each final code"
_FIGURE = document.Figure("")  # where the theme report's figure goes


@dataclass
class StudyData:
    """Everything an export needs (only human coders' completed work counts)."""

    name: str
    revision: int
    codebook: CodebookVersion
    documents: list[Document]
    segments: pd.DataFrame
    annotations: pd.DataFrame
    assignments: pd.DataFrame
    resolutions: pd.DataFrame
    history: pd.DataFrame
    events: pd.DataFrame  # the exportable event trail (audit.audit_events)
    coders: list[str]
    reliability: report.Reliability
    attributes: StudyAttributes = field(default_factory=StudyAttributes)
    # the matrix export's rows: by programme, or by an attribute (segment id -> value)
    matrix_rows: tuple[str, dict[str, str]] | None = None
    # its columns: the codes, or an attribute's values (the codes then are the rows, unless
    # ``matrix_code`` names the one code counted in cells of rows x columns)
    matrix_columns: tuple[str, dict[str, str]] | None = None
    matrix_code: str | None = None

    @cached_property
    def coded(self) -> pd.DataFrame:
        return tables.coded_segments(
            self.segments,
            self.annotations,
            self.assignments,
            self.resolutions,
            self.codebook.codebook,
            self.codebook.version,
            self.coders,
        )

    @cached_property
    def cells(self) -> pd.DataFrame:
        return matrix.matrix(self.coded, self.segments, self.codebook.codebook)

    @cached_property
    def matrix_cells(self) -> pd.DataFrame:
        """The matrix export's cells: :attr:`cells`, or by the attributes of ``matrix_rows``
        and ``matrix_columns``."""
        codebook = self.codebook.codebook
        if self.matrix_columns is not None and self.matrix_code is not None:
            rows = self.matrix_rows or ("programme", self._programmes)
            return matrix.matrix_of_code(
                self.coded, self.segments, codebook, self.matrix_code, rows, self.matrix_columns
            )
        by = self.matrix_columns or self.matrix_rows
        if by is None:
            return self.cells
        return matrix.matrix_by(self.coded, self.segments, codebook, *by)

    @property
    def _programmes(self) -> dict[str, str]:
        programmes = self.segments["programme"].replace("", tables.NO_PROGRAMME)
        return dict(zip(self.segments["segment_id"], programmes, strict=True))

    @property
    def matrix_axes(self) -> tuple[str, str]:
        """The columns of :attr:`matrix_cells` whose values are the matrix's rows and
        columns."""
        first = str(self.matrix_cells.columns[0])
        if self.matrix_columns is None:
            return first, "code_id"
        name = self.matrix_columns[0]
        return (first, name) if self.matrix_code is not None else ("code_id", name)

    def matrix_figure(self, fmt: str) -> bytes:
        """The matrix export's heatmap (the theme report's, unless by attributes)."""
        if self.matrix_rows is None and self.matrix_columns is None:
            return self.figure_png if fmt == "png" else self.figure_svg
        rows, columns = (a.replace("code_id", "code_name") for a in self.matrix_axes)
        title, share_of = FIGURE_TITLE, None
        if self.matrix_code is not None:
            name = self.codebook.codebook.code(self.matrix_code).name
            title, share_of = f"Share of segments with the final code {name}", "cell"
        elif self.matrix_columns is not None:
            share_of = _value_of(self.matrix_columns[0])
        return figures.heatmap(self.matrix_cells, fmt, title, rows, columns, share_of)

    @cached_property
    def audit(self) -> pd.DataFrame:
        return tables.audit_log(self.history, self.annotations, self.assignments, self.segments)

    @cached_property
    def figure_png(self) -> bytes:
        return figures.heatmap(self.cells, "png", title=FIGURE_TITLE)

    @cached_property
    def figure_svg(self) -> bytes:
        return figures.heatmap(self.cells, "svg", title=FIGURE_TITLE)

    @property
    def theme(self) -> report.ThemeStudy:
        return report.ThemeStudy(
            study=self.name,
            revision=self.revision,
            codebook=self.codebook.codebook,
            codebook_version=self.codebook.version,
            coded=self.coded,
            cells=self.cells,
            reliability=self.reliability,
            coders=self.coders,
        )

    def theme_blocks(self, figure: document.Figure, excerpts: int | None) -> list[document.Block]:
        """The theme report's blocks with ``figure`` in its place: built once per excerpt
        cap, shared by the Markdown, HTML and Word reports."""
        if excerpts not in self._theme_blocks:
            self._theme_blocks[excerpts] = report.theme_blocks(self.theme, _FIGURE, excerpts)
        return [figure if block is _FIGURE else block for block in self._theme_blocks[excerpts]]

    @cached_property
    def _theme_blocks(self) -> dict[int | None, list[document.Block]]:
        return {}


def _value_of(name: str) -> str:
    return "programme" if name == "programme" else f"{name} value"
