"""A study as the exports see it: read once, its export tables built when first asked for."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from coding.export import document, figures, report, tables
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
        return tables.matrix(self.coded, self.segments, self.codebook.codebook)

    @cached_property
    def matrix_cells(self) -> pd.DataFrame:
        """The matrix export's cells: :attr:`cells`, or by the attribute of ``matrix_rows``."""
        if self.matrix_rows is None:
            return self.cells
        name, values = self.matrix_rows
        return tables.matrix_by(self.coded, self.segments, self.codebook.codebook, name, values)

    def matrix_figure(self, fmt: str) -> bytes:
        """The matrix export's heatmap (the theme report's, unless rows are by an attribute)."""
        if self.matrix_rows is None:
            return self.figure_png if fmt == "png" else self.figure_svg
        return figures.heatmap(self.matrix_cells, fmt, title=FIGURE_TITLE)

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
