"""A sweep's course, from its grid to its summary, as the Hydra sweeper runs it: plan every job before anything
trains (an invalid grid trains nothing), say what will happen (the pre-flight; on a dry run, the time it will
take), record the skipped runs, launch the bundles of runs to train on the configured launcher, and summarise.

SIGINT (Ctrl-C) or SIGTERM (a scheduler) stops it cleanly: the jobs stop and release their claims, then one line
says how many runs are finished, and the exit code is 130 or 143."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, NoReturn

from hydra.core.utils import JobStatus
from omegaconf import DictConfig

from ..estimate import estimate, parallel_jobs
from ..extras import launcher_problem
from ..store import BLOCKING, blocking
from . import lock, progress, record, signals
from .bundles import bundle_overrides, bundles
from .compose import Composer
from .outcomes import SweepFailed, outcome, summarise
from .placement import cpu_cores
from .plan import InvalidSweep, Job, Plan, expand, plan
from .preflight import preflight
from .worker import execute


def oversubscribed(n_jobs: Any, threads: int, cores: int) -> str | None:
    """A warning when parallel jobs × torch threads exceed the cores: the threads then spin-wait on each other
    (measured in benchmarks/README.md: many times slower than one thread a job)."""
    if not isinstance(n_jobs, int) or n_jobs == 0:
        return None
    jobs = max(cores + 1 + n_jobs, 1) if n_jobs < 0 else n_jobs  # joblib: -1 = all cores, -2 = all but one
    if jobs <= 1 or jobs * threads <= cores:
        return None
    return (f"warning: {jobs} parallel jobs x threads={threads} = {jobs * threads} torch threads on {cores} "
            f"CPU cores; oversubscribed runs are many times slower: use threads=1 with the parallel launcher")


def sweep(config: DictConfig, loader: Any, launcher: Any, arguments: list[str], grids: list[dict[str, Any]],
          params: dict[str, Any], bundle: int | None) -> Any:
    """The sweep of `arguments` (the command line's overrides) over `grids` and `params`, launched on `launcher`;
    `bundle`: runs per launcher job (0 or None: all seeds of a cell, 1: every run alone)."""
    planned: list[Job] = []  # filled once planned: a stop then says how many of them are finished
    with signals.sweeping():
        try:
            return _sweep(config, loader, launcher, arguments, grids, params, bundle, planned)
        except signals.Interrupted as stop:
            _stopped(stop, planned)


def _stopped(stop: signals.Interrupted, planned: list[Job]) -> NoReturn:
    """After a stop: claims of workers killed outright are removed, then the one line and the exit."""
    signals.end_workers()
    runs = {j.run_id: j.folder for j in planned if j.folder is not None}
    for folder in runs.values():
        lock.remove_if_dead(folder)
    finished = sum(record.is_final(folder) for folder in runs.values())
    signals.exit_stopped(stop, finished, len(runs) if planned else None)


def _sweep(config: DictConfig, loader: Any, launcher: Any, arguments: list[str], grids: list[dict[str, Any]],
           params: dict[str, Any], bundle: int | None, planned: list[Job]) -> Any:
    missing = launcher_problem(config.hydra.get("launcher"))
    if missing:  # before planning: nothing is written for a sweep that cannot start
        raise InvalidSweep(missing)
    t0 = time.time()
    composer = Composer(config, loader)  # the plan's compositions, reused to record the skipped runs
    the_plan = plan(expand(grids, params, arguments, loader), composer, config.hydra.get("launcher"),
                    str(config.hydra.runtime.cwd))
    jobs = the_plan.jobs
    planned.extend(jobs)
    _announce(the_plan, config, time.time() - t0)
    if config.dry_run:
        lines = estimate([(j.kind, j.epochs) for j in jobs if j.action == "train" and not j.elsewhere],
                         the_plan.samples, config.results_dir, parallel_jobs(config.hydra.launcher))
        if lines:
            print("\n".join(lines), flush=True)
        return []

    status = {j.run_id: j.action for j in jobs if j.action in ("reuse", "skip")}  # duplicates counted once
    outcomes: list[tuple[Job, dict[str, Any]]] = []
    for j in jobs:
        if j.action == "skip":  # recorded here: nothing to launch
            v = execute(composer.compose(j.overrides), list(j.overrides))
            if v["status"] == "failed":
                outcomes.append((j, v))
    to_run = [j for j in jobs if j.action == "train"]
    try:
        progress.start(Path(config.hydra.sweep.dir), len(to_run))
    except OSError as e:
        if blocking(e) is None:
            raise
        raise SweepFailed(BLOCKING[e.errno].format(where=config.results_dir)) from None
    groups = bundles(jobs, bundle or None)
    with signals.launching():  # after a stop the launcher is handed no further job
        results = launcher.launch(signals.until_stopped([bundle_overrides(b) for b in groups]),
                                  initial_job_idx=0) if groups else []
    signals.stop_if_asked()

    for group, r in zip(groups, results):
        if r.status == JobStatus.COMPLETED:
            values = r.return_value if isinstance(r.return_value, list) else [r.return_value]
        else:  # the job raised (or its worker died): each run is what its folder says
            values = [outcome(j, r._return_value) for j in group]
        outcomes.extend(zip(group, values))
    summarise(outcomes, status, time.time() - t0, config.results_dir)
    return [results]


def _announce(the_plan: Plan, config: DictConfig, seconds: float) -> None:
    """What the sweep will do, before it does anything: the counts, the runs not simply trained, the pre-flight
    and a warning where parallel jobs oversubscribe the cores."""
    jobs = the_plan.jobs
    counts = {a: sum(j.action == a for j in jobs) for a in ("train", "reuse", "skip", "duplicate")}
    print(f"sweep: {len(jobs)} runs: {counts['train']} to train, {counts['reuse']} reused, "
          f"{counts['skip']} skipped, {counts['duplicate']} duplicates "
          f"(planned in {seconds:.2f} s)", flush=True)
    for j in jobs:
        if j.action != "train" or config.dry_run or j.elsewhere or j.damaged:
            print(f"  {j.action:<9} {j.run_id}  {j.what}  {j.detail}", flush=True)
    unverified = sum(j.unverified for j in jobs)
    if unverified:
        print(f"  {unverified} reused run(s) were recorded before records listed their files' sizes and hashes: "
              "their files cannot be checked, they are taken as they are", flush=True)
    if the_plan.alone:
        print(f"optimizer {', '.join(sorted(the_plan.alone))}: its update is not element-wise (measured), so its runs "
              "train one at a time, not with the other seeds of their cell", flush=True)
    if the_plan.heads:
        t1 = time.time()
        lines = preflight(list(the_plan.heads.values()))
        print(f"structure at initialisation, measured on random images ({time.time() - t1:.2f} s; each run "
              "measures its own test images again):\n" + "\n".join(f"  {line}" for line in lines), flush=True)
    warning = oversubscribed(config.hydra.launcher.get("n_jobs"), int(config.threads), cpu_cores())
    if warning:
        print(warning, flush=True)
