"""Read a user's file safely: size limits checked before reading, UTF-8 with a clear error.

Every file a user hands in is read through :func:`read_bytes` with the limit for its kind, so
memory stays bounded whatever the file holds. The limits are in megabytes (10^6 bytes) and can
be changed with environment variables, read at each call:

==========================  =======  ===========================================================
variable                    default  applies to
==========================  =======  ===========================================================
``CONCORD_MAX_CODEBOOK_MB``       5  a codebook file (.yaml, .json, .csv)
``CONCORD_MAX_CSV_MB``          200  a CSV (codings, pre-segmented documents, manifest, layouts)
``CONCORD_MAX_DOCUMENT_MB``      50  a .txt/.md file, and the text taken out of a .docx or .pdf
``CONCORD_MAX_DOCX_MB``         200  a .docx or .pdf file, and a .docx once unpacked
==========================  =======  ===========================================================
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, fields
from pathlib import Path

from coding.errors import CodingError, InvalidInput, Problem

MB = 1_000_000
_NEWLINES = re.compile(r"\r\n?|\u2028|\u2029")


@dataclass(frozen=True, slots=True)
class Limits:
    """Largest accepted inputs, in megabytes (see the module docstring for the variables)."""

    codebook: float = 5
    csv: float = 200
    document: float = 50
    docx: float = 200

    def bytes(self, kind: str) -> int:
        """The limit for ``kind`` (a field name) in bytes."""
        return int(float(getattr(self, kind)) * MB)


ENV_VARS = {f.name: f"CONCORD_MAX_{f.name.upper()}_MB" for f in fields(Limits)}


def limits() -> Limits:
    """The limits in force: the defaults, overridden by any ``CONCORD_MAX_*_MB`` variable."""
    values: dict[str, float] = {}
    for name, var in ENV_VARS.items():
        raw = os.environ.get(var, "").strip()
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not value > 0:
            raise CodingError(f"{var}={raw!r}: give a positive number of megabytes")
        values[name] = value
    return Limits(**values)


def too_large(source: str, size: int, kind: str, what: str) -> InvalidInput:
    """The error for an input of ``size`` bytes over the ``kind`` limit."""
    limit = limits().bytes(kind)
    return InvalidInput(
        source,
        [
            Problem(
                "file",
                f"{what} is {size / MB:.1f} MB; the limit is {limit / MB:g} MB "
                f"(set {ENV_VARS[kind]} to change it)",
            )
        ],
    )


def read_bytes(path: str | Path, kind: str, what: str = "the file") -> bytes:
    """The bytes of a file, refused before reading when larger than the ``kind`` limit."""
    path = Path(path)
    limit = limits().bytes(kind)
    try:
        size = path.stat().st_size
        if size > limit:
            raise too_large(str(path), size, kind, what)
        with path.open("rb") as handle:
            raw = handle.read(size + 1)  # a buffer the file's size, not the limit's
            if len(raw) > size:  # it grew since stat: read on, up to just past the limit
                raw += handle.read(limit + 1 - len(raw))
    except OSError as err:
        raise InvalidInput(str(path), [Problem("file", err.strerror or str(err))]) from err
    if len(raw) > limit:
        raise too_large(str(path), len(raw), kind, what)
    return raw


def decode(raw: bytes, source: str) -> str:
    """UTF-8 text of a file (a BOM is dropped), or InvalidInput naming the first bad byte.

    >>> decode(b"\\xef\\xbb\\xbfok", "f.txt")
    'ok'
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise InvalidInput(
            source,
            [
                Problem(
                    f"line {line}, byte {err.start}",
                    "not valid UTF-8; save the file as UTF-8 and retry",
                )
            ],
        ) from err


def normalise(text: str) -> str:
    """NFC, "\\n" newlines, no BOM.

    >>> normalise("\\ufeffa\\r\\nb\\rc")
    'a\\nb\\nc'
    """
    return unicodedata.normalize("NFC", _NEWLINES.sub("\n", text.removeprefix("\ufeff")))
