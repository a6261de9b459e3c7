"""What became of a sweep's runs once its launcher returned: each run's outcome, the summary line and, where any
run failed, the error that makes the sweep's exit code say so."""

from __future__ import annotations

from typing import Any

from hydra.errors import CompactHydraException

from ..store import BLOCKING, blocking
from . import record
from .plan import Job
from .job import INTERRUPTED


class SweepFailed(CompactHydraException):
    """Some runs of the sweep failed (raised); their records are on disk and a re-run redoes them."""


def outcome(job: Job, error: Any) -> dict[str, Any]:
    """A run of a launcher job that raised or was lost: finished if its folder holds its final record (a bundle's
    runs are written one by one), else failed with the job's error."""
    if job.folder is not None and record.is_final(job.folder):
        rec = record.read(job.folder)
        if rec is not None and rec.final:
            return {"run_id": job.run_id, "status": rec.status, "metrics": rec.metrics or {}, "error": rec.error}
    code = blocking(error) if isinstance(error, BaseException) else None
    return {"run_id": job.run_id, "status": "failed", "error": repr(error), **({"errno": code} if code else {})}


def summarise(outcomes: list[tuple[Job, dict[str, Any]]], status: dict[str, str], seconds: float,
              results_dir: str) -> None:
    """Print the sweep's summary (`status`: the runs decided before launching, by id) and its diverged runs; raise
    SweepFailed listing the failed and interrupted runs, and the disk problems that left runs unfinished."""
    failed: list[str] = []
    diverged: list[str] = []
    interrupted: list[str] = []
    blocked: dict[int, int] = {}  # errno -> runs it left unfinished
    for j, v in outcomes:
        status[j.run_id] = v["status"]
        line = f"  {v['status']:<9} {j.run_id}  {j.what}: {v.get('error')}"
        if v["status"] == "failed" and v.get("errno") in BLOCKING:  # said once, below; the run stays unfinished
            blocked[v["errno"]] = blocked.get(v["errno"], 0) + 1
            status[j.run_id] = "unfinished"
        elif v["status"] == "failed":
            failed.append(line)
        elif v["status"] == INTERRUPTED:  # its worker was stopped by a signal, this process was not
            interrupted.append(line)
        elif v["status"] == "diverged":
            diverged.append(line)
    tally = {s: sum(v == s for v in status.values()) for s in sorted(set(status.values()))}
    names = {"reuse": "reused", "skip": "skipped", "unfinished": "not finished"}
    print("sweep done in {:.1f} s: {}".format(
        seconds, ", ".join(f"{n} {names.get(s, s)}" for s, n in tally.items())), flush=True)
    if diverged:  # a result, not a failure: the same config diverges again, so re-runs reuse it
        print(f"{len(diverged)} run(s) diverged (recorded as results; the report counts them per cell):\n"
              + "\n".join(diverged), flush=True)
    problems = [BLOCKING[code].format(where=results_dir) + f" ({n} run(s) not finished)"
                for code, n in blocked.items()]
    problems += ([f"{len(failed)} run(s) failed (a run that raised has its traceback in error.txt in its folder):"] + failed if failed else []) + (
        [f"{len(interrupted)} run(s) interrupted (a signal stopped their worker); rerun the same command to resume:"]
        + interrupted if interrupted else [])
    if problems:
        raise SweepFailed("\n".join(problems))
