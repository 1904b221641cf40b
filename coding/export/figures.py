"""The programme x code heatmap (share of a programme's segments with the final code)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FORMATS = ("png", "svg")


def _label_cells(ax: Any, values: np.ndarray, count: pd.DataFrame) -> None:
    """Each cell's share and count, white on the dark cells."""
    limit = float(np.nanmax(values))
    for i, j in np.ndindex(values.shape):
        colour = "white" if values[i, j] > 0.6 * limit else "black"
        text = f"{values[i, j]:.0%}\n(n={int(count.iat[i, j])})"
        ax.text(j, i, text, ha="center", va="center", fontsize=8, color=colour)


def heatmap(
    cells: pd.DataFrame,
    fmt: str = "png",
    title: str = "",
    rows: str | None = None,
    columns: str = "code_name",
    share_of: str | None = None,
) -> bytes:
    """Heatmap of ``matrix`` cells as PNG or SVG bytes; identical input gives identical bytes.
    Rows are the values of the cells' column ``rows`` (default: the first, programme or an
    attribute), columns those of ``columns``; ``share_of`` says whose segments a share counts
    (default: the rows')."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown figure format {fmt!r}")
    rows = str(cells.columns[0]) if rows is None else rows
    programmes = list(dict.fromkeys(cells[rows]))
    codes = list(dict.fromkeys(cells[columns]))
    share = cells.pivot(index=rows, columns=columns, values="share")
    share = share.loc[programmes, codes]
    count = cells.pivot(index=rows, columns=columns, values="segments")
    count = count.loc[programmes, codes]
    values = share.to_numpy(dtype=float)
    # Imported here: matplotlib costs a quarter of a second, which every other command would
    # pay at start-up. Figure (not pyplot) needs no backend or global figure registry.
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with rc_context(
        # text.parse_math off: a code or programme name with "$" is text, never mathtext
        {
            "svg.hashsalt": "concord",
            "svg.fonttype": "path",
            "font.family": "DejaVu Sans",
            "text.parse_math": False,
        }
    ):
        fig = Figure(
            figsize=(1.6 + 1.5 * max(len(codes), 1), 1.2 + 0.6 * max(len(programmes), 1)),
            dpi=120,
        )
        ax = fig.subplots()
        if not values.size:  # nothing coded yet: say so rather than draw an empty axis
            ax.set_axis_off()
            ax.text(0.5, 0.5, "no coded segments yet", ha="center", va="center", fontsize=9)
            return _save(fig, fmt)
        image = ax.imshow(
            values,
            cmap="Blues",
            vmin=0.0,
            vmax=max(0.01, float(np.nanmax(values))),
            aspect="auto",
        )
        ax.set_xticks(range(len(codes)), [c.replace(" ", "\n", 1) for c in codes], fontsize=8)
        ax.set_yticks(range(len(programmes)), programmes, fontsize=9)
        _label_cells(ax, values, count)
        label = share_of or ("programme" if rows == "programme" else f"{rows} value")
        fig.colorbar(image, ax=ax, label=f"share of the {label}'s segments", shrink=0.8)
        if title:
            ax.set_title(title, fontsize=10)
        return _save(fig, fmt)


def _save(fig: Figure, fmt: str) -> bytes:
    fig.tight_layout()
    buffer = io.BytesIO()
    metadata: dict[str, str | None] = (
        {"Date": None, "Creator": "Concord"} if fmt == "svg" else {"Software": "Concord"}
    )
    fig.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()
