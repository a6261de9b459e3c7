"""Entry point: `python -m ablation.sweep [-m] [overrides]` — train, reuse or skip one resolved config.

Each job writes `results/runs/<run_id>/`: config.yaml, history.csv, scores.csv.gz and, last,
metrics.json. A run that raises or diverges is recorded with its error and never stops a sweep.
"""

from __future__ import annotations

import copy
import json
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import hydra
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.errors import CompactHydraException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf, open_dict

from . import __version__, errors, interrupts, placement, runclaims
from .config import component_name, factors, skip_reason, validate
from .contract import traits
from .identity import identity, identity_hash, resolved, run_id
from .mechanism import Structure, classify, diagnosis
from .store import (FINAL, METRICS, RUN_FILES, append_line, blocking, damage, file_record, read_metrics, run_dir,
                    write_csv, write_json, write_text)
from .structure import at_init, quadruples
from .train import build, train_bundle

PREFLIGHT_IMAGES = 256  # random images the pre-flight measures each head on (a run measures its test images)

PROGRESS_FILE = "progress.jsonl"  # one line per finished job, appended by every worker
PLAN_FILE = "sweep.json"  # written by the sweeper: how many jobs and when the sweep started
PLANNED = "run_ids"  # a launcher job's key: the ids the sweeper planned for its runs (part of no run)
INTERRUPTED = "interrupted"  # a job stopped by SIGINT/SIGTERM: its unfinished runs are left for a rerun

placement.register_resolver()  # the launcher presets' ${gpus_per_job:${device}}, before Hydra reads them


class RunFailed(CompactHydraException):
    """A single (non-multirun) run failed: its record is on disk, the exit code says so."""


class PlanMismatch(CompactHydraException):
    """This worker names a run otherwise than the sweep's planner did: nothing is trained or written."""


def _hydra() -> Any | None:
    return HydraConfig.get() if HydraConfig.initialized() else None


def config_dir() -> str | None:
    """The user's own config folder (`--config-dir`, absolute), recorded so that a sweep the report suggests for
    their component can name it."""
    hc = _hydra()
    paths = [str(c.path) for c in hc.runtime.config_sources if c.provider == "command-line"] if hc else []
    return paths[0].removeprefix("file://") if paths else None


def task_overrides() -> list[str]:
    """The job's overrides as the user's runs have them (the sweeper's planned ids left out)."""
    hc = _hydra()
    return [o for o in hc.overrides.task if o.split("=", 1)[0].lstrip("+~") != PLANNED] if hc else []


def job_number() -> int:
    """This launcher job's number (0 outside a sweep): it places runs planned for `cuda` among several GPUs."""
    hc = _hydra()
    return int(hc.job.get("num") or 0) if hc else 0


def planned_ids(cfg: DictConfig) -> list[str] | None:
    """Take the sweeper's planned run ids out of a job's config (None for a run not planned by a sweep)."""
    if PLANNED not in cfg:
        return None
    with open_dict(cfg):
        return [str(i) for i in cfg.pop(PLANNED)]


def check_plan(idents: list[dict[str, Any]], planned: list[str] | None) -> None:
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


def record(folder: Path, cfg: DictConfig, status: str, overrides: list[str], ident: dict[str, Any],
           **extra: Any) -> dict[str, Any]:
    rec = {
        "run_id": folder.name,
        "status": status,
        "factors": factors(cfg),
        "identity": ident,  # what the run id covers, as dotted keys: the report's factors come from here
        "code": ident["code"],
        "traits": traits(cfg),
        "overrides": overrides,
        "config_dir": config_dir(),  # the user's --config-dir, for the report's suggested commands
        "versions": {"ablation": __version__, "torch": torch.__version__, "python": platform.python_version()},
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "files": file_record(folder),  # each file's size and hash: a run damaged later is found and redone
        "threads": cfg.get("threads", 1),  # part of the identity where it is not 1 (docs/runs.md)
        **extra,
    }
    write_json(folder / METRICS, rec)  # last: its presence marks the run as finished
    return rec


def execute(cfg: DictConfig, overrides: list[str] | None = None) -> dict[str, Any]:
    """Run one config with failure isolation; returns a short summary for the sweep."""
    overrides = task_overrides() if overrides is None else overrides
    return execute_bundle([cfg], [overrides])[0]


def bundle_members(cfg: DictConfig, overrides: list[str]) -> tuple[list[DictConfig], list[list[str]]]:
    """A bundle job's runs: its config with `bundle_seeds` taken out and each seed put in, and each run's overrides.

    `bundle_seeds` is how the sweeper hands the launcher one job for several runs; it is not part of any run.
    """
    seeds = list(cfg.bundle_seeds)
    base = copy.deepcopy(cfg)
    with open_dict(base):
        del base["bundle_seeds"]
    own = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") != "bundle_seeds"]
    at = next((i for i, o in enumerate(own) if o.split("=", 1)[0].lstrip("+~") == "seed"), len(own))
    cfgs, overs = [], []
    for s in seeds:
        member = copy.deepcopy(base)
        member.seed = s
        cfgs.append(member)
        overs.append(own[:at] + [f"seed={s}"] + own[at + 1 :])  # the run's own overrides, as a lone job has them
    return cfgs, overs


def execute_bundle(cfgs: list[DictConfig], overrides: list[list[str]],
                   idents: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Runs that differ only in their seed, trained together (ablation.stacked); each recorded in its own folder.

    Finished runs are reused. Every other run is claimed (ablation.runclaims) before anything is written to its
    folder, so that each run is trained once however many sweeps share the results folder: the runs claimed here
    are trained (skips recorded), then this job waits for the runs other processes hold, and reuses them once they
    are finished (or claims and trains those left unfinished). So a job returns only when all its runs are final.
    """
    idents = idents or [identity(cfg) for cfg in cfgs]  # `idents`: computed already (main, for its plan check)
    folders = [run_dir(cfg.results_dir, identity_hash(ident)) for cfg, ident in zip(cfgs, idents)]
    heartbeat_s, timeout_s = runclaims.timing(cfgs[0])
    summaries: dict[int, dict[str, Any]] = {}
    pending = list(range(len(cfgs)))
    while pending:
        held: dict[int, runclaims.Claim] = {}
        theirs: list[int] = []
        try:
            for i in pending:
                reused = _reused(folders[i]) or ({"run_id": folders[i].name, "status": "dry_run"}
                                                 if cfgs[i].dry_run else None)
                if reused:
                    summaries[i] = reused
                    continue
                with interrupts.shielded():  # a claim is never left behind half made
                    got = runclaims.acquire(folders[i], timeout_s)
                    if isinstance(got, runclaims.Claim):
                        held[i] = got
                if not isinstance(got, runclaims.Claim):
                    theirs.append(i)
                elif reused := _reused(folders[i]):  # finished by another process just before this claim
                    summaries[i] = reused
                    _release(held.pop(i))
            with runclaims.heartbeat(held.values(), heartbeat_s):
                summaries.update(train_claimed(cfgs, overrides, idents, held))
        finally:
            for claim in held.values():
                _release(claim)
        lost = [i for i in held if i not in summaries]  # taken over as stale while this process stalled
        for i in theirs + lost:
            runclaims.wait_while_claimed(folders[i], lambda f=folders[i]: _reused(f) is not None, timeout_s,
                                      min(heartbeat_s, WAIT_POLL_S), lambda line: print(line, flush=True))
        pending = theirs + lost
    return [summaries[i] for i in range(len(cfgs))]


WAIT_POLL_S = 2.0  # how often a job waiting for another process's run looks at it (at most)


def _reused(folder: Path) -> dict[str, Any] | None:
    """The summary of a finished run that is reused, or None if it is not finished (or its files are damaged)."""
    prev = read_metrics(folder)
    if prev is None or prev["status"] not in FINAL or damage(folder, prev):
        return None
    return {"run_id": folder.name, "status": "reused", "metrics": prev.get("metrics", {})}


def _release(claim: runclaims.Claim) -> None:
    with interrupts.shielded():
        claim.release()


def train_claimed(cfgs: list[DictConfig], overrides: list[list[str]], idents: list[dict[str, Any]],
                  held: dict[int, runclaims.Claim]) -> dict[int, dict[str, Any]]:
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
            for stale in (METRICS, *(f for f in RUN_FILES if f != "config.yaml")):  # an earlier attempt's
                (folder / stale).unlink(missing_ok=True)
            reason = skip_reason(cfg)
            if reason:
                record(folder, cfg, "skipped", overrides[i], idents[i], reason=reason)
                summaries[i] = {"run_id": folder.name, "status": "skipped", "reason": reason}
                continue
            append_line(folder / runclaims.ATTEMPTS, json.dumps({"host": claim.holder.host, "pid": claim.holder.pid,
                                                              "started": claim.holder.since}))
        except Exception as e:  # noqa: BLE001 - this run's folder could not be written: its failure alone
            summaries[i] = _failed(folder, cfg, overrides[i], idents[i], e)
            continue
        todo.append(i)
    if not todo:
        return summaries
    group = [cfgs[i] for i in todo]
    try:
        results = train_bundle(group, progress=group[0].progress and sys.stderr.isatty(), job=job_number())
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
            # how it was scheduled (not what it measured): the runs it was trained with
            extra = {"device": result.device, **({"bundle": bundle} if bundle else {})}
            record(folder, cfg, result.status, overrides[i], idents[i], metrics=result.metrics, error=result.error,
                   **extra)
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
        record(folder, cfg, "failed", overrides, ident, error=err)
    except OSError:
        pass
    code = blocking(e)  # the sweep says such a failure once, in words
    return {"run_id": folder.name, "status": "failed", "error": err, **({"errno": code} if code is not None else {})}


def head_structure(cfg: DictConfig) -> Structure:
    """A head × depth's structure at initialisation, measured before anything trains: the config's model, built
    and initialised as a run would be, on random images (each run measures its own test images again)."""
    with torch.random.fork_rng():  # the planner's random state is left as it was
        torch.manual_seed(0)
        model, _ = build(cfg)
        x = torch.rand(PREFLIGHT_IMAGES, 784)
        m = at_init(model, x, quadruples(PREFLIGHT_IMAGES, 0))
    return classify(m["interaction_init"], m["symmetry_residual_init"], m["antisymmetry_residual_init"])


def preflight(heads: list[tuple[DictConfig, list[str]]]) -> list[str]:
    """One line per head × depth of a grid (its config and the pair orders it is run on): its measured structure
    and what the mechanism predicts for those orders. A head is named by its short name, and by its class too
    where two classes of the grid share that name."""
    names = {cfg.head._target_: component_name(cfg.head) for cfg, _ in heads}
    clash = {n for n in names.values() if list(names.values()).count(n) > 1}
    label = lambda cfg: names[cfg.head._target_] + (f" ({cfg.head._target_})" if names[cfg.head._target_] in clash else "")  # noqa: E731
    return [diagnosis(label(cfg), int(cfg.depth), head_structure(cfg), orders) for cfg, orders in heads]


def announce(summary: dict[str, Any], cfg: DictConfig) -> None:
    """Print one line per finished run; in a multirun also count it (progress.jsonl) for [k/N] and the ETA."""
    print(_progress_line(summary, cfg), flush=True)


def _progress_line(summary: dict[str, Any], cfg: DictConfig) -> str:
    f = factors(cfg)
    what = " ".join(f"{k}={f[k]}" for k in ("head", "depth", "loss", "convention", "encoder", "pair_order", "seed"))
    m = summary.get("metrics") or {}
    key = f"test_acc={m['test_acc']:.3f}" if "test_acc" in m else summary.get("error") or summary.get("reason") or ""
    secs = f" ({m['wall_time_s']:.1f} s)" if summary["status"] != "reused" and "wall_time_s" in m else ""
    line = f"{summary['status']:<9} {summary['run_id']}  {what}  {key}{secs}"
    hc = _hydra()
    if hc is None or hc.mode != RunMode.MULTIRUN:
        return line
    sweep = Path(hc.sweep.dir)
    try:
        with open(sweep / PROGRESS_FILE, "a") as fh:  # O_APPEND: short lines from parallel workers don't interleave
            fh.write(json.dumps({"run_id": summary["run_id"], "status": summary["status"]}) + "\n")
    except OSError:  # progress only (a full disk): the run's own outcome is in its folder and its summary
        return line
    try:
        plan = json.loads((sweep / PLAN_FILE).read_text())
        k = sum(1 for _ in open(sweep / PROGRESS_FILE))
        elapsed = time.time() - plan["t0"]
        eta = elapsed / k * (plan["n"] - k)
        return f"[{k}/{plan['n']}] {line}  | elapsed {_hms(elapsed)}, ETA {_hms(eta)}"
    except (OSError, ValueError, KeyError, ZeroDivisionError):
        return line


def _hms(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg: DictConfig) -> dict[str, Any] | list[dict[str, Any]]:
    hc = _hydra()
    multirun = hc is not None and hc.mode == RunMode.MULTIRUN
    with errors.one_line(enabled=not multirun):  # a multirun's jobs report to the sweeper, which lists their failures
        return one_job(cfg, multirun)


def one_job(cfg: DictConfig, multirun: bool) -> dict[str, Any] | list[dict[str, Any]]:
    """One launcher job: a run, or a bundle of runs of one cell (planned by the sweeper)."""
    if not multirun:
        validate(cfg)  # a multirun's grid was validated as a whole by the sweeper
    planned = planned_ids(cfg)
    bundle = "bundle_seeds" in cfg  # one launcher job for several runs (planned by the sweeper)
    cfgs, overrides = bundle_members(cfg, task_overrides()) if bundle else ([cfg], [task_overrides()])
    idents = [identity(c) for c in cfgs]
    check_plan(idents, planned)
    try:
        with interrupts.job():
            summaries = execute_bundle(cfgs, overrides, idents)
    except interrupts.Interrupted as stop:
        if not multirun:
            interrupts.exit_stopped(stop, int(_reused(run_dir(cfg.results_dir, run_id(cfg))) is not None), 1)
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


if __name__ == "__main__":
    errors.entry(main)
