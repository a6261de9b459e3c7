"""One launcher job: claim each of its runs (ablation.run.lock), train it, record it (ablation.run.record).

Each job writes `results/runs/<run_id>/`: config.yaml, history.csv, scores.csv.gz, views.csv.gz and, last, its
record metrics.json. A run that raises or diverges is recorded with its error and never stops a sweep.
"""

from __future__ import annotations

import json
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import torch
from hydra.errors import CompactHydraException
from omegaconf import DictConfig, OmegaConf

from .. import __version__
from ..config import factors, skip_reason, validate
from ..contract import traits
from ..identity import identity, identity_hash, resolved
from ..process import exit_without_collecting
from ..store import append_line, blocking, run_dir, write_csv, write_text
from ..train import train_bundle
from . import context, lock, record, signals
from .job import INTERRUPTED, JobSpec, members
from .progress import announce

WAIT_POLL_S = 2.0  # how often a job waiting for another process's run looks at it (at most)


class RunFailed(CompactHydraException):
    """A single (non-multirun) run failed: its record is on disk, the exit code says so."""


class PlanMismatch(CompactHydraException):
    """This worker names a run otherwise than the sweep's planner did: nothing is trained or written."""


def check_plan(idents: list[dict[str, Any]], planned: list[str] | tuple[str, ...] | None) -> None:
    """Refuse a job whose runs (their identities, `idents`) this worker would name otherwise than the planner did:
    their folders would be ones the planner never looks in, so every sweep would train them again."""
    if planned is None:
        return
    for ident, rid in zip(idents, planned, strict=True):
        mine = identity_hash(ident)
        if mine != rid:
            raise PlanMismatch(
                f"the sweep planned run {rid}, but this worker's identity of its config is run {mine} "
                f"(device={ident.get('device')}, code={ident['code']}, data.content={ident['data.content']}): "
                "the planner and this worker differ in code, data or device; nothing was trained")


def write_record(folder: Path, cfg: DictConfig, status: str, overrides: list[str], ident: dict[str, Any],
                 **outcome: Any) -> record.Record:
    """The run's record, written last: its presence marks the run as finished."""
    rec = record.Record(
        run_id=folder.name, status=status, factors=factors(cfg), identity=ident, code=ident["code"],
        traits=traits(cfg), overrides=overrides, config_dir=context.config_dir(),
        versions={"ablation": __version__, "torch": torch.__version__, "python": platform.python_version()},
        finished_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        files=record.file_record(folder),  # each file's size and hash: a run damaged later is found and redone
        threads=cfg.get("threads", 1), **outcome)
    record.write(folder, rec)
    return rec


def execute(cfg: DictConfig, overrides: list[str] | None = None) -> dict[str, Any]:
    """Run one config with failure isolation; returns a short summary for the sweep."""
    overrides = context.task_overrides() if overrides is None else overrides
    return execute_bundle([cfg], [overrides])[0]


def execute_bundle(cfgs: list[DictConfig], overrides: list[list[str]],
                   idents: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Runs that differ only in their seed, trained together (ablation.stacked); each recorded in its own folder.

    Finished runs are reused. Every other run is claimed (ablation.run.lock) before anything is written to its
    folder, so that each run is trained once however many sweeps share the results folder: the runs claimed here
    are trained (skips recorded), then this job waits for the runs other processes hold, and reuses them once they
    are finished (or claims and trains those left unfinished). So a job returns only when all its runs are final.
    """
    idents = idents or [identity(cfg) for cfg in cfgs]  # `idents`: computed already (one_job, for its plan check)
    folders = [run_dir(cfg.results_dir, identity_hash(ident)) for cfg, ident in zip(cfgs, idents)]
    heartbeat_s, timeout_s = lock.timing(cfgs[0])
    summaries: dict[int, dict[str, Any]] = {}
    pending = list(range(len(cfgs)))
    while pending:
        held: dict[int, lock.Claim] = {}
        theirs: list[int] = []
        try:
            for i in pending:
                reused = _reused(folders[i]) or ({"run_id": folders[i].name, "status": "dry_run"}
                                                 if cfgs[i].dry_run else None)
                if reused:
                    summaries[i] = reused
                    continue
                with signals.shielded():  # a claim is never left behind half made
                    got = lock.acquire(folders[i], timeout_s)
                    if isinstance(got, lock.Claim):
                        held[i] = got
                if not isinstance(got, lock.Claim):
                    theirs.append(i)
                elif reused := _reused(folders[i]):  # finished by another process just before this claim
                    summaries[i] = reused
                    _release(held.pop(i))
            with lock.heartbeat(held.values(), heartbeat_s):
                summaries.update(train_claimed(cfgs, overrides, idents, held))
        finally:
            for claim in held.values():
                _release(claim)
        lost = [i for i in held if i not in summaries]  # taken over as stale while this process stalled
        for i in theirs + lost:
            lock.wait_while_claimed(folders[i], lambda f=folders[i]: _reused(f) is not None, timeout_s,
                                    min(heartbeat_s, WAIT_POLL_S), lambda line: print(line, flush=True))
        pending = theirs + lost
    return [summaries[i] for i in range(len(cfgs))]


def _reused(folder: Path) -> dict[str, Any] | None:
    """The summary of a finished run that is reused, or None if it is not finished (or its files are damaged)."""
    prev = record.read(folder)
    if prev is None or not prev.final or record.damage(folder, prev):
        return None
    return {"run_id": folder.name, "status": "reused", "metrics": prev.metrics or {}}


def _release(claim: lock.Claim) -> None:
    with signals.shielded():
        claim.release()


def train_claimed(cfgs: list[DictConfig], overrides: list[list[str]], idents: list[dict[str, Any]],
                  held: dict[int, lock.Claim]) -> dict[int, dict[str, Any]]:
    """Train (or record as skipped) the runs `held` by this process's claims, trained together in one stack at
    threads=1, each alone at more threads (where a stacked product may round otherwise than a lone one).

    Each run's outcome is its own: a run whose files and record were written is finished whatever happens to the
    next one. If training the stack raises, each of its runs is retried alone, so a failure is recorded only for
    the run it belongs to; a failure every run would meet (a full disk: `store.BLOCKING`) is not retried. A run
    whose claim was taken over meanwhile is not written (and has no summary)."""
    summaries: dict[int, dict[str, Any]] = {}
    if len(held) > 1 and any(cfgs[i].get("threads", 1) != 1 for i in held):  # trained together only at 1 thread
        for i in held:
            summaries.update(train_claimed(cfgs, overrides, idents, {i: held[i]}))
        return summaries
    todo: list[int] = []
    for i, claim in held.items():
        cfg, folder = cfgs[i], claim.folder
        try:
            write_text(folder / "config.yaml", OmegaConf.to_yaml(resolved(cfg)))
            for stale in (record.FILE, *(f for f in record.RUN_FILES if f != "config.yaml")):  # an earlier attempt's
                (folder / stale).unlink(missing_ok=True)
            reason = skip_reason(cfg)
            if reason:
                write_record(folder, cfg, "skipped", overrides[i], idents[i], reason=reason)
                summaries[i] = {"run_id": folder.name, "status": "skipped", "reason": reason}
                continue
            append_line(folder / lock.ATTEMPTS, json.dumps({"host": claim.holder.host, "pid": claim.holder.pid,
                                                            "started": claim.holder.since}))
        except Exception as e:  # noqa: BLE001 - this run's folder could not be written: its failure alone
            summaries[i] = _failed(folder, cfg, overrides[i], idents[i], e)
            continue
        todo.append(i)
    if not todo:
        return summaries
    group = [cfgs[i] for i in todo]
    try:
        results = train_bundle(group, progress=group[0].progress and sys.stderr.isatty(), job=context.job_number())
    except Exception as e:  # noqa: BLE001 - isolate any failure to its own run
        if len(todo) > 1 and blocking(e) is None:  # retry alone: which run (if not all) the failure belongs to
            for i in todo:
                summaries.update(train_claimed(cfgs, overrides, idents, {i: held[i]}))
            return summaries
        for i in todo:
            if held[i].held():
                summaries[i] = _failed(held[i].folder, cfgs[i], overrides[i], idents[i], e)
        return summaries
    bundle = [held[i].folder.name for i in todo] if len(todo) > 1 else None
    for i, result in zip(todo, results):
        cfg, folder = cfgs[i], held[i].folder
        if not held[i].held():
            continue
        try:
            write_csv(folder / "history.csv", result.history)
            if not result.scores.empty:
                write_csv(folder / "scores.csv.gz", result.scores)
            if not result.views.empty:
                write_csv(folder / "views.csv.gz", result.views)
            if result.error:
                write_text(folder / "error.txt", result.error + "\n")
            write_record(folder, cfg, result.status, overrides[i], idents[i], metrics=result.metrics,
                         error=result.error, device=result.device, bundle=bundle)
        except Exception as e:  # noqa: BLE001 - writing this run failed: the runs written before it stay finished
            summaries[i] = _failed(folder, cfg, overrides[i], idents[i], e)
            continue
        summaries[i] = {"run_id": folder.name, "status": result.status, "metrics": result.metrics, "error": result.error}
    return summaries


def _failed(folder: Path, cfg: DictConfig, overrides: list[str], ident: dict[str, Any],
            e: Exception) -> dict[str, Any]:
    """Record a run as failed (its traceback in error.txt) and summarise it. Where the folder cannot take even
    that (a full disk), nothing is written: the run stays unfinished, and a rerun trains it."""
    err = f"{type(e).__name__}: {e}"
    tb = "".join(traceback.format_exception(e))
    try:
        write_text(folder / "error.txt", tb)
        write_record(folder, cfg, "failed", overrides, ident, error=err)
    except OSError:
        pass
    code = blocking(e)  # the sweep says such a failure once, in words
    return {"run_id": folder.name, "status": "failed", "error": err, **({"errno": code} if code is not None else {})}


def one_job(cfg: DictConfig, multirun: bool) -> dict[str, Any] | list[dict[str, Any]]:
    """One launcher job: a run, or a bundle of runs of one cell (planned by the sweeper)."""
    exit_without_collecting()  # a parallel worker's exit too, which the sweep waits for
    if not multirun:
        validate(cfg)  # a multirun's grid was validated as a whole by the sweeper
    spec = JobSpec.read(cfg)
    cfgs, overrides = members(cfg, context.task_overrides())
    idents = [identity(c) for c in cfgs]
    check_plan(idents, spec.run_ids)
    bundle = spec.seeds is not None
    try:
        with signals.job():
            summaries = execute_bundle(cfgs, overrides, idents)
    except signals.Interrupted as stop:
        if not multirun:
            signals.exit_stopped(stop, int(_reused(run_dir(cfgs[0].results_dir, identity_hash(idents[0]))) is not None), 1)
        # the launcher collects this like any result; the sweep says how many runs are finished
        interrupted = [{"status": INTERRUPTED} for _ in cfgs]
        return interrupted if bundle else interrupted[0]
    for member, summary in zip(cfgs, summaries):
        announce(summary, member)
    if bundle:
        return summaries
    (summary,) = summaries
    if summary["status"] == "failed" and not multirun:
        raise RunFailed(f"run {summary['run_id']} {summary['status']}: {summary.get('error')}")
    return summary
