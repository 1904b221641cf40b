"""Progress of a long command on stderr: a bar per stage, notes once the bar is done."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

import click

from coding.model import OnProgress, ProgressEvent

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar


def note(message: str) -> None:
    """Progress and notes go to stderr, data to stdout."""
    click.echo(message, err=True)


@contextmanager
def progress_shown() -> Iterator[OnProgress]:
    """An ``on_progress`` for a service that shows its events on stderr.

    Events with a total move a progress bar labelled with their stage (showing the item at
    hand); a note prints as "note: ..." (once the bar is done, so it does not cut through
    it); any other event prints as a line, "STAGE ITEM".
    """
    shown = _ProgressShown()
    try:
        yield shown
    finally:
        shown.close()


class _ProgressShown:
    def __init__(self) -> None:
        self.bars = ExitStack()
        self.bar: ProgressBar[str | None] | None = None
        self.notes: list[str] = []

    def __call__(self, event: ProgressEvent) -> None:
        if event.note:
            self.notes.append(f"note: {event.note}")
            if self.bar is None:
                self.close()
        elif event.total is None:
            self.close()
            note(f"{event.stage} {event.item}".strip())
        else:
            self.step(event)

    def step(self, event: ProgressEvent) -> None:
        bar = self.bar
        if bar is None or bar.label != event.stage:
            self.close()
            bar = self.bar = self.bars.enter_context(
                click.progressbar(
                    length=event.total,
                    label=event.stage,
                    file=sys.stderr,
                    item_show_func=lambda item: item or None,
                )
            )
        bar.current_item = event.item
        if event.done > bar.pos:
            bar.update(event.done - bar.pos)
        else:
            bar.render_progress()

    def close(self) -> None:
        """Finish the bar, if one is drawn, then print the notes held back."""
        self.bars.close()
        self.bar = None
        for text in self.notes:
            note(text)
        self.notes.clear()
