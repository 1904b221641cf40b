"""Zip and XML helpers for every reader and writer of zip-based files (.docx, .xlsx, .qdpx).

Reading an archive refuses entries that would escape it (``../``, absolute paths, drive
letters), caps the number of entries and the total decompressed size (counted while inflating,
never trusted from the header), and looks names up case-insensitively. Writing is deterministic
(fixed timestamps, given order), and :func:`xml_text` cleans every string an XML file will hold.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO

from coding.errors import InvalidInput, Problem

MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_ENTRIES = 20_000
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_CHUNK = 1 << 16
# Characters XML 1.0 cannot hold: C0 controls other than tab, line feed and carriage return,
# lone surrogates, and the non-characters U+FFFE and U+FFFF.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` with every character XML cannot hold replaced by a space (one for one, so
    lengths and offsets are kept). Every XML-based writer (XLSX, DOCX, HTML, .qdc, .qdpx)
    passes its strings through here.

    >>> xml_text("page\x0cbreak\x01!")
    'page break !'
    """
    return _XML_ILLEGAL.sub(" ", text)


@dataclass(frozen=True)
class Archive:
    """The files of an archive: original names, contents, and a case-insensitive index."""

    files: dict[str, bytes]
    ignored: tuple[str, ...] = ()
    _folded: dict[str, str] = field(default_factory=dict)

    def find(self, name: str) -> str | None:
        """The stored name matching ``name`` ignoring case and ``\\`` vs ``/``; None if absent."""
        return self._folded.get(_fold(name))

    def read(self, name: str) -> bytes | None:
        stored = self.find(name)
        return None if stored is None else self.files[stored]


def _fold(name: str) -> str:
    return name.replace("\\", "/").lstrip("/").casefold()


def _unsafe(name: str) -> bool:
    path = name.replace("\\", "/")
    parts = path.split("/")
    return (
        path.startswith("/")
        or ".." in parts
        or (len(path) > 1 and path[1] == ":")
        or "\x00" in path
    )


def _ignored(name: str) -> bool:
    base = name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return (
        name.endswith("/")
        or base in (".root", ".DS_Store", "Thumbs.db")
        or name.replace("\\", "/").startswith("__MACOSX/")
    )


def read_archive(
    data: bytes, source: str, max_total: int = MAX_TOTAL_BYTES, max_entries: int = MAX_ENTRIES
) -> Archive:
    """Every regular file of a zip archive, or InvalidInput saying why it was refused."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as err:
        raise InvalidInput(source, [Problem("archive", f"not a zip archive ({err})")]) from err
    with archive:
        infos = archive.infolist()
        if len(infos) > max_entries:
            raise InvalidInput(
                source, [Problem("archive", f"{len(infos)} entries; the limit is {max_entries}")]
            )
        bad = [i.filename for i in infos if _unsafe(i.filename)]
        if bad:
            raise InvalidInput(
                source, [Problem(name, "entry path escapes the archive; refused") for name in bad]
            )
        counts = Counter(i.filename for i in infos)
        twice = sorted(n for n, k in counts.items() if k > 1)
        if twice:
            raise InvalidInput(
                source,
                [Problem(n, "the archive holds two entries of this name; refused") for n in twice],
            )
        files: dict[str, bytes] = {}
        ignored: list[str] = []
        total = 0
        for info in infos:
            if _ignored(info.filename):
                ignored.append(info.filename)
                continue
            content, total = _inflate(archive, info, total, max_total, source)
            files[info.filename] = content
    folded: dict[str, str] = {}
    problems = []
    for name in files:
        if _fold(name) in folded:
            problems.append(Problem(name, f"same name as {folded[_fold(name)]!r} apart from case"))
        folded[_fold(name)] = name
    if problems:
        raise InvalidInput(source, problems)
    return Archive(files=files, ignored=tuple(ignored), _folded=folded)


def _inflate(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, total: int, max_total: int, source: str
) -> tuple[bytes, int]:
    out = io.BytesIO()
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                total += len(chunk)
                if total > max_total:
                    raise InvalidInput(
                        source,
                        [
                            Problem(
                                info.filename,
                                (
                                    f"decompressed size exceeds the limit of {max_total} "
                                    "bytes; refused (a zip bomb, or raise the limit)"
                                ),
                            )
                        ],
                    )
                out.write(chunk)
    except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError) as err:
        raise InvalidInput(source, [Problem(info.filename, f"cannot be read ({err})")]) from err
    return out.getvalue(), total


Member = tuple[str, bytes | Callable[[IO[bytes]], None]]  # a name, and its bytes or a writer


def write_archive(entries: Iterable[tuple[str, bytes]]) -> bytes:
    """A deflated zip of ``entries`` in the given order with fixed timestamps: same input,
    same bytes."""
    buffer = io.BytesIO()
    stream_archive(entries, buffer)
    return buffer.getvalue()


def stream_archive(entries: Iterable[Member], out: IO[bytes]) -> None:
    """:func:`write_archive` into the seekable stream ``out``, one member at a time.

    A member given as a function is written by it to a temporary file first, so that its
    size is known before its header is written: the archive is byte for byte the one the
    same member given as bytes makes (a member over 2 GiB gets its zip64 header either way).
    """
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            if isinstance(content, bytes):
                archive.writestr(info, content)
                continue
            with tempfile.TemporaryFile() as spool:
                content(spool)
                info.file_size = spool.tell()
                spool.seek(0)
                with archive.open(info, "w") as member:
                    shutil.copyfileobj(spool, member, _CHUNK * 16)


def fix_timestamps(data: bytes) -> bytes:
    """Rewrite a zip (an .xlsx or .docx, say) with fixed entry timestamps, same order."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = [(info.filename, archive.read(info)) for info in archive.infolist()]
    return write_archive(entries)
