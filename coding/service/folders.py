"""Write a folder of files all at once: build it beside the target, then swap it in.

The guarantee, for a process killed at any point: the target folder holds the complete
earlier set of files or the complete new one, never a mix. On Linux the two folders are
exchanged in one step (``renameat2`` with ``RENAME_EXCHANGE``). Where that is not available
the earlier folder is first moved aside (``.NAME.old-PID-TOKEN``) and the new one renamed into
place; a kill between those two renames leaves no target folder, with the earlier one intact
beside it, and the next write to that folder puts it back before it starts. Work folders of a
killed run (``.NAME.staging-PID-TOKEN``) are removed by the next run, once their process is
gone. (A power cut is another matter: files are not flushed to disk one by one.)
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import shutil
import sys
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import IO

from coding.errors import CodingError
from coding.model import OnProgress, ProgressEvent, no_progress
from coding.store.base import crash_point, process_gone

Content = bytes | Callable[[IO[bytes]], None]  # a file's bytes, or what writes them
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def write_folder(
    directory: str | Path,
    files: Sequence[tuple[str, Content]],
    ours: Collection[str],
    on_progress: OnProgress = no_progress,
) -> list[Path]:
    """Write ``files`` (name, content) into ``directory`` as one step; return their paths.

    A content is bytes, or a function that writes the file to the open binary stream it is
    given (so a large file never has to be held in memory). ``ours`` names every file this
    kind of folder may hold: files of an earlier run that this one does not write are kept;
    a folder holding anything else (or sub-folders) is refused, so no one's other files are
    ever moved. The current working folder, or one that contains it, is refused too.
    ``on_progress`` hears of each file as it starts ("writing", files done, files in all).
    """
    out = Path(directory)
    real = out.resolve()
    if real == Path.cwd().resolve() or real in Path.cwd().resolve().parents:
        raise CodingError(f"{out}: give a folder of its own, not the current folder")
    real.parent.mkdir(parents=True, exist_ok=True)
    _recover(real)
    kept = _earlier_files(real, out, ours) - {name for name, _ in files}
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    staging = real.with_name(f".{real.name}.staging-{token}")
    staging.mkdir()
    try:
        for name in sorted(kept):
            _carry(real / name, staging / name)
        for number, (name, content) in enumerate(files):
            on_progress(ProgressEvent("writing", number, len(files), name))
            with open(staging / name, "wb") as stream:
                if isinstance(content, bytes):
                    stream.write(content)
                else:
                    content(stream)
            if number == 0:
                crash_point("export-after-first-file")
        on_progress(ProgressEvent("writing", len(files), len(files)))
        crash_point("export-before-swap")
        _swap(staging, real, token)
        crash_point("export-before-cleanup")
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # after an exchange: the earlier files
    return [out / name for name, _ in files]


def _earlier_files(real: Path, shown: Path, ours: Collection[str]) -> set[str]:
    if not real.exists():
        return set()
    if not real.is_dir():
        raise CodingError(f"{shown}: not a folder")
    entries = list(real.iterdir())
    foreign = sorted(
        e.name for e in entries if e.name not in ours or e.is_symlink() or not e.is_file()
    )
    if foreign:
        listed = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise CodingError(
            f"{shown}: holds files that no export writes ({listed}); give a new or empty "
            "folder, or one holding only an earlier export"
        )
    return {e.name for e in entries}


def _carry(source: Path, target: Path) -> None:
    """Keep an earlier file in the new folder: a hard link (no copy), else a copy."""
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links
        shutil.copy2(source, target)


def _swap(staging: Path, target: Path, token: str) -> None:
    """Put ``staging`` in ``target``'s place; afterwards ``staging`` holds what was there."""
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
    if not target.exists():
        os.rename(staging, target)
        return
    if _exchange(staging, target):
        return
    aside = target.with_name(f".{target.name}.old-{token}")
    os.rename(target, aside)
    crash_point("export-between-renames")
    os.rename(staging, target)
    os.rename(aside, staging)  # removed with the staging folder


def _exchange(first: Path, second: Path) -> bool:
    """Swap two folders in one step (Linux renameat2); False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # a C library without renameat2
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    done = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # kernel or file system
        return False
    raise OSError(code, os.strerror(code), str(second))


def _recover(target: Path) -> None:
    """Clean up after a killed earlier run: put a folder moved aside back if the target is
    missing, and remove work folders whose process is gone."""
    if not target.parent.is_dir():
        return
    for prefix in (f".{target.name}.old-", f".{target.name}.staging-"):
        for leftover in sorted(target.parent.iterdir()):
            if not leftover.name.startswith(prefix):
                continue
            pid = leftover.name.removeprefix(prefix).split("-", 1)[0]
            if not (pid.isdigit() and process_gone(int(pid))):
                continue
            if prefix.endswith(".old-") and not target.exists():
                os.rename(leftover, target)
            else:
                shutil.rmtree(leftover, ignore_errors=True)
