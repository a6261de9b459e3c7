"""A run's record, `metrics.json`: the one schema its writer (the worker) and its readers (the planner, the report,
the MLflow export, the test fakes) share.

Written last, so a folder without it is an interrupted run, never mistaken for a finished one. It lists each of the
run's files (RUN_FILES) with its size and sha256, so a run whose files were damaged afterwards is found (`damage`)
and trained again. Each record says its `version`; a record written before records did is version 1 and is read
by its own converter (`_from_v1`), which says what such a record may lack.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..store import sha256, write_json

VERSION = 2
FILE = "metrics.json"
# The files a run writes before its record, in the order it writes them
RUN_FILES = ("config.yaml", "history.csv", "scores.csv.gz", "views.csv.gz", "error.txt")
NOT_EXPORTED = ("views.csv.gz",)  # the image views: the raw data of one report figure, not a result to track
# What the MLflow export copies of a run folder: its files and its record, the record before error.txt (the order
# the export's digest of a folder has always read them in: another order would make every exported run look changed)
EXPORTED = tuple(f for f in (*RUN_FILES[:-1], FILE, RUN_FILES[-1]) if f not in NOT_EXPORTED)
STATUSES = ("completed", "skipped", "failed", "diverged")  # what a record can say
# Reused by a re-run. A diverged run is a result (the same config diverges again); a failed (an exception,
# perhaps a transient one) or interrupted run is redone.
FINAL = ("completed", "skipped", "diverged")
OUTCOME = ("reason", "metrics", "error", "device", "bundle")  # written only where the run has them (`to_json`)
EARLIER_RECIPE = {"optimizer": "rmsprop", "schedule": "none"}  # every run's recipe before the recipe was a factor
DECLARED_STRUCTURE = ("additive", "symmetric", "antisymmetric")  # declared by old heads; measured since


@dataclass(frozen=True)
class Record:
    """What a finished run records. Absent parts (None, empty) are those an older record did not hold."""

    run_id: str
    status: str
    factors: dict[str, Any] | None = None  # the study's factors by short name (ablation.factors)
    identity: dict[str, Any] | None = None  # what the run id covers, as dotted keys
    code: str | None = None  # the code fingerprint
    traits: dict[str, Any] = field(default_factory=dict)  # what its component classes declare
    overrides: list[str] = field(default_factory=list)
    config_dir: str | None = None  # the user's --config-dir, for the report's suggested commands
    versions: dict[str, Any] = field(default_factory=dict)  # ablation, torch, python
    finished_at: str | None = None
    files: dict[str, Any] | None = None  # each run file's size, sha256 and mtime; None: not listed (cannot be checked)
    threads: Any = 1  # part of the identity where it is not 1 (docs/runs.md)
    reason: str | None = None  # skipped: why
    metrics: dict[str, Any] | None = None  # trained: what it measured
    error: str | None = None  # trained or failed: what went wrong (None for a trained run that went well)
    device: str | None = None  # trained: where
    bundle: list[str] | None = None  # trained with these runs (how it was scheduled, not what it measured)
    version: int = VERSION

    def to_json(self) -> dict[str, Any]:
        """The record as written: an outcome's keys only where the run has them (a trained run's `error` always)."""
        out = asdict(self)
        for k in OUTCOME:
            if out[k] is None and not (k == "error" and self.metrics is not None):
                del out[k]
        return out

    @classmethod
    def from_json(cls, raw: Any) -> Record:
        """A record as read from its file; ValueError if it is none (no status), or of a version this code does
        not read. A part of the wrong type reads as absent."""
        if not isinstance(raw, dict) or not isinstance(raw.get("status"), str):
            raise ValueError("not a run record (no status)")
        version = raw.get("version", 1)
        if version == 1:
            raw = _from_v1(raw)
        elif version != VERSION:
            raise ValueError(f"a run record of version {version!r}; this code reads versions 1 and {VERSION}")

        def typed(k: str, kind: type, default: Any) -> Any:
            v = raw.get(k)
            return v if isinstance(v, kind) else default

        return cls(
            run_id=str(raw.get("run_id") or ""), status=raw["status"], factors=typed("factors", dict, None),
            identity=typed("identity", dict, None), code=typed("code", str, None), traits=typed("traits", dict, {}),
            overrides=typed("overrides", list, []), config_dir=raw.get("config_dir"),
            versions=typed("versions", dict, {}), finished_at=raw.get("finished_at"), files=typed("files", dict, None),
            threads=raw.get("threads", 1), reason=raw.get("reason"), metrics=typed("metrics", dict, None),
            error=raw.get("error"), device=raw.get("device"), bundle=raw.get("bundle"))

    @property
    def final(self) -> bool:
        """Whether a rerun reuses the run (its files permitting)."""
        return self.status in FINAL

    @property
    def verifiable(self) -> bool:
        """Whether the record lists its files (version 1 records written before runs did cannot be checked)."""
        return self.files is not None


def _from_v1(raw: dict[str, Any]) -> dict[str, Any]:
    """A record written before records had a version, in this version's terms. Such a record may lack, by the
    time it was written: its identity, code and traits (then only its factors are known), its files' sizes and
    hashes (then they cannot be checked), and the recipe among its factors (then it trained with EARLIER_RECIPE).
    Its traits may declare a structure, which is measured since and is not taken from the record; its code may
    stand in its identity alone."""
    out = dict(raw)
    if isinstance(raw.get("factors"), dict):
        out["factors"] = {**EARLIER_RECIPE, **raw["factors"]}
    if isinstance(raw.get("traits"), dict):
        out["traits"] = {k: v for k, v in raw["traits"].items() if k not in DECLARED_STRUCTURE}
    ident = raw.get("identity") if isinstance(raw.get("identity"), dict) else {}
    out["code"] = raw.get("code") or ident.get("code") or None
    return out


def read_metrics(folder: Path) -> dict[str, Any] | None:
    """The record's JSON as its file holds it, or None if the run never finished or its record is unreadable."""
    try:
        rec = json.loads((folder / FILE).read_text())
    except (OSError, ValueError):
        return None
    return rec if isinstance(rec, dict) and "status" in rec else None


def read(folder: Path) -> Record | None:
    """The run's record, or None if it never finished, or its record is unreadable or of a version this code does
    not read."""
    try:
        return Record.from_json(json.loads((folder / FILE).read_text()))
    except (OSError, ValueError):
        return None


def write(folder: Path, rec: Record) -> None:
    write_json(folder / FILE, rec.to_json())


def is_final(folder: Path) -> bool:
    """A finished run whose files are as its record lists them."""
    rec = read(folder)
    return rec is not None and rec.final and not damage(folder, rec)


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


def damage(folder: Path, rec: Record | dict[str, Any], full: bool = False) -> dict[str, str]:
    """The run files that differ from what the record (or its JSON) lists: name -> "deleted", "truncated" or
    "altered".

    A file's size is compared always; its sha256 when `full`, or when its modification time differs from the
    record's (a file rewritten in place keeps its size but not its time), so a check of unchanged files costs
    one stat each. Empty for a record that lists no files (`verifiable`)."""
    listed = (rec if isinstance(rec, Record) else Record.from_json(rec)).files or {}
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


def recorded(folder: Path, name: str) -> bool:
    """Whether a run file is the one its record lists (by its hash), or the record lists none to compare with."""
    rec = read(folder)
    if rec is None:
        return True  # a run without a readable record is not read for figures anyway
    want = rec.files.get(name) if rec.files is not None else None
    if not isinstance(want, dict):
        return rec.files is None  # a listed record without this file: it was written after the record
    try:
        return (folder / name).stat().st_size == want.get("size") and sha256(folder / name) == want.get("sha256")
    except OSError:
        return False
