"""Run folders on disk. Every file is written atomically (temp + rename); `metrics.json` is written
last, so a folder without it is an interrupted run, never mistaken for a finished one."""

from __future__ import annotations

import contextlib
import errno
import gzip
import hashlib
import json
import os
import secrets
import tempfile
import zlib
from pathlib import Path
from typing import Any, Callable

import pandas as pd

METRICS = "metrics.json"
# The files a run writes before its record; the record lists each one's size and sha256 (`files`), so a run
# whose files were damaged afterwards is found (`damage`) and trained again.
RUN_FILES = ("config.yaml", "history.csv", "scores.csv.gz", "views.csv.gz", "error.txt")
# Reused by a re-run. A diverged run is a result (the same config diverges again); a failed (an exception,
# perhaps a transient one) or interrupted run is redone.
FINAL = ("completed", "skipped", "diverged")


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


def write_csv(path: Path, df: pd.DataFrame) -> None:
    compression = "gzip" if path.suffix == ".gz" else None
    atomic(path, lambda tmp: df.to_csv(tmp, index=False, compression=compression, float_format="%.7g"))


def read_metrics(folder: Path) -> dict[str, Any] | None:
    """The run's record, or None if it never finished or its record is unreadable."""
    try:
        rec = json.loads((folder / METRICS).read_text())
    except (OSError, ValueError):
        return None
    return rec if isinstance(rec, dict) and "status" in rec else None


def is_final(folder: Path) -> bool:
    """A finished run whose files are as its record lists them."""
    rec = read_metrics(folder)
    return rec is not None and rec["status"] in FINAL and not damage(folder, rec)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_record(folder: Path) -> dict[str, dict[str, Any]]:
    """Each run file present in `folder`: its size, sha256 and modification time (for the record)."""
    out: dict[str, dict[str, Any]] = {}
    for name in RUN_FILES:
        try:
            st = (folder / name).stat()
            out[name] = {"size": st.st_size, "sha256": sha256(folder / name), "mtime_ns": st.st_mtime_ns}
        except FileNotFoundError:
            continue
    return out


def _cut_short(path: Path) -> bool:
    """Whether a file shorter than recorded ends as a cut write does: a gzip stream that stops early, or text
    without its last newline (every run file ends with one); else it was replaced by other content."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                while f.read(1 << 20):
                    pass
            return False
        if path.stat().st_size == 0:
            return True
        with open(path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            return f.read(1) != b"\n"
    except EOFError:
        return True
    except (OSError, zlib.error):
        return False


def verifiable(rec: dict[str, Any]) -> bool:
    """Whether a record lists its files (records written before runs did cannot be checked: taken as they are)."""
    return isinstance(rec.get("files"), dict)


def damage(folder: Path, rec: dict[str, Any], full: bool = False) -> dict[str, str]:
    """The run files that differ from what the record lists: name -> "deleted", "truncated" or "altered".

    A file's size is compared always; its sha256 when `full`, or when its modification time differs from the
    record's (a file rewritten in place keeps its size but not its time), so a check of unchanged files costs
    one stat each. Empty for a record that lists no files (`verifiable`)."""
    listed = rec.get("files") if verifiable(rec) else {}
    out: dict[str, str] = {}
    for name, want in listed.items():
        if not isinstance(want, dict):
            out[str(name)] = "altered"
            continue
        path = folder / str(name)
        try:
            st = path.stat()
        except FileNotFoundError:
            out[name] = "deleted"
            continue
        except OSError:
            out[name] = "unreadable"
            continue
        if st.st_size != want.get("size"):
            out[name] = "truncated" if st.st_size < (want.get("size") or 0) and _cut_short(path) else "altered"
        elif full or st.st_mtime_ns != want.get("mtime_ns"):
            try:
                if sha256(path) != want.get("sha256"):
                    out[name] = "altered"
            except OSError:
                out[name] = "unreadable"
    return out
