"""Errors the user can fix. Programming errors raise ValueError/TypeError and are not caught."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in an input, with where it is: ``Problem("row 14", "'code' is empty")``."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class CodingError(Exception):
    """A problem the user can fix (bad input, unknown id, conflicting write)."""


class InvalidInput(CodingError):
    """An input file or value has one or more problems; all of them are listed."""

    def __init__(self, source: str, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__(self._message())

    def _message(self) -> str:
        shown = self.problems[:20]
        lines = [f"{self.source}: {len(self.problems)} problem(s)"]
        lines += [f"  {p}" for p in shown]
        if len(self.problems) > len(shown):
            lines.append(f"  ... and {len(self.problems) - len(shown)} more")
        return "\n".join(lines)


class NotFound(CodingError):
    """A study, document, segment, code or coder that does not exist."""


class Conflict(CodingError):
    """A write that conflicts with what is stored (duplicate id, decision already made, ...)."""


class PermissionDenied(CodingError):
    """The acting user does not have the role this action needs."""
