"""Files on disk, each written atomically (temp + rename): a reader never sees half a file. The run folder's
layout and its record are ablation.run.record's."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any, Callable

import pandas as pd


def unwritable(path: Path, what: str, keep: bool = True) -> str | None:
    """None if files can be created under `path` (made if missing; `keep=False` removes again the folders the
    check made), else why not, naming the option (`what`) as a user sets it."""
    made = [d for d in (path, *path.parents) if not d.exists()]
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path, prefix=".write-test-")
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        return f"{what}={str(path)!r} is not writable: {e.strerror or e}"
    finally:
        for d in made if not keep else ():
            with contextlib.suppress(OSError):
                d.rmdir()
    return None


# Write failures that hit every later run as well (the folder, not the run, is at fault): reported once, in words,
# with what to do; the runs they stopped stay unfinished, and a rerun resumes them.
BLOCKING = {
    errno.ENOSPC: "no space left under {where}: free space and rerun to resume",
    errno.EDQUOT: "disk quota exceeded under {where}: free space (or raise the quota) and rerun to resume",
    errno.EACCES: "permission denied under {where}: make it writable and rerun to resume",
    errno.EPERM: "permission denied under {where}: make it writable and rerun to resume",
    errno.EROFS: "{where} is on a read-only file system: make it writable (or set results_dir=) and rerun to resume",
}


def blocking(e: BaseException) -> int | None:
    """The errno of a write failure that every later run would meet too (BLOCKING), else None."""
    return e.errno if isinstance(e, OSError) and e.errno in BLOCKING else None


def run_dir(results_dir: str | Path, run_id: str) -> Path:
    return Path(results_dir) / "runs" / run_id


def atomic(path: Path, write: Callable[[str], None]) -> None:
    """`write(tmp)` into a temporary file beside `path`, then rename it over `path` (all or nothing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = str(path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # Created like any new file (mode 0666 less the umask), not mkstemp's private 0600.
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: Path, text: str) -> None:
    def w(tmp: str) -> None:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())

    atomic(path, w)


def append_line(path: Path, line: str) -> None:
    """Append one line to a log (O_APPEND: one short write, whole or not at all, even over NFS for one writer)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, (line.rstrip("\n") + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: Path, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


FLOAT_FORMAT = "%.7g"  # a run's tables: 7 significant digits, float32's precision


def write_csv(path: Path, df: pd.DataFrame) -> None:
    compression = "gzip" if path.suffix == ".gz" else None
    atomic(path, lambda tmp: df.to_csv(tmp, index=False, compression=compression, float_format=FLOAT_FORMAT))


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
