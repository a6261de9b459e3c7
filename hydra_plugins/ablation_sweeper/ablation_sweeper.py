"""Hydra's basic sweeper, made fit for ablations (Hydra 1.3 itself has neither resume nor a dry run).

Before anything trains it composes every job of the grid, validates all of them (every problem is
reported, exit 1), and names each by its run identity. Runs already finished are reused and
meaningless combinations recorded as skipped, both without launching anything; the rest go to
whichever Hydra launcher is configured. At the end: a summary, and a non-zero exit if any run failed.
"""


import copy
import functools
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, NoReturn, Optional, Sequence, Tuple

from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import OverrideType
from hydra.core.utils import JobStatus
from hydra.errors import CompactHydraException, ConfigCompositionException, HydraException
from omegaconf import DictConfig, OmegaConf


from ablation.schema import RUNTIME as RUNTIME_KEYS

# The paths a job reads or writes. The planner resolves them against the user's folder and hands the worker
# absolute paths, so that a job's files do not depend on where its worker process started (a Ray cluster started
# in another folder, a SLURM job's working directory).
PATH_KEYS = ("results_dir", "data.root")


class SweepFailed(CompactHydraException):
    """Some runs of the sweep failed (raised); their records are on disk and a re-run redoes them."""


class InvalidSweep(CompactHydraException):
    """Some jobs of the grid have an invalid config; nothing was trained."""


def oversubscribed(n_jobs: Any, threads: int, cores: int) -> Optional[str]:
    """A warning when parallel jobs × torch threads exceed the cores: the threads then spin-wait on each other
    (measured in benchmarks/README.md: many times slower than one thread a job)."""
    if not isinstance(n_jobs, int) or n_jobs == 0:
        return None
    jobs = max(cores + 1 + n_jobs, 1) if n_jobs < 0 else n_jobs  # joblib: -1 = all cores, -2 = all but one
    if jobs <= 1 or jobs * threads <= cores:
        return None
    return (f"warning: {jobs} parallel jobs x threads={threads} = {jobs * threads} torch threads on {cores} "
            f"CPU cores; oversubscribed runs are many times slower: use threads=1 with the parallel launcher")


@dataclass
class Job:
    overrides: List[str]
    run_id: str
    action: str  # train | reuse | skip | duplicate
    detail: str = ""
    cell: str = ""  # the identity minus the seed: runs of one cell are trained together
    seed: int = 0
    cost: float = 1.0  # relative training time (epochs x encoder cost), to launch the longest bundles first
    max_stack: int = 0  # the encoder's limit on runs trained together (0 = none)
    folder: Optional[Path] = None  # the run folder
    elsewhere: bool = False  # another process holds a live claim on it: this sweep will wait for the run
    kind: Tuple[str, ...] = ()  # (head, encoder, data) by short name: what its time is estimated by
    epochs: int = 0
    damaged: bool = False  # finished, but its files differ from its record: trained again
    paths: List[str] = field(default_factory=list)  # PATH_KEYS as absolute paths, overrides for the launched job
    unverified: bool = False  # reused, but its record lists no files' sizes and hashes (written before records did)

    @property
    def what(self) -> str:
        """The overrides that say what the run measures (runtime keys such as results_dir left out)."""
        return " ".join(o for o in self.overrides if o.split("=", 1)[0].lstrip("+~") not in RUNTIME_KEYS)


def cell_key(cfg: DictConfig, ident: Dict[str, Any]) -> str:
    """What a run measures except its seed (`ident`: its identity): runs with the same key have the same shapes,
    hyperparameters, data content and code, so they can be trained together."""
    d = {k: v for k, v in ident.items() if k != "seed"}
    return json.dumps(d, sort_keys=True, default=str) + json.dumps(
        {k: cfg.get(k) for k in ("device", "threads")}, default=str)  # the stack runs on one device, one thread count


def affected(jobs: List[List[str]], total: int) -> str:
    """The runs a problem affects, as cells (their overrides but the seed) with their seeds: 'all 6 runs', or
    '3 of 6 runs: head=distance seed=0,1,2' (the first few cells named)."""
    if len(jobs) == total:
        return f"all {total} runs" if total > 1 else "the run"
    cells: Dict[str, List[str]] = {}
    key = lambda o: o.split("=", 1)[0].lstrip("+~")  # noqa: E731
    for overrides in jobs:
        seeds = [o.split("=", 1)[1] for o in overrides if key(o) == "seed"]
        rest = " ".join(o for o in overrides if key(o) != "seed" and key(o) not in RUNTIME_KEYS)
        cells.setdefault(rest, []).extend(seeds)
    named = [f"{c} seed={','.join(s)}".strip() if s else c for c, s in cells.items()]
    more = f" and {len(named) - 3} more cells" if len(named) > 3 else ""
    return f"{len(jobs)} of {total} runs: " + "; ".join(named[:3]) + more


def interpolates(cfg: DictConfig) -> bool:
    """Whether any value of the config is an interpolation (`${...}`), which could depend on the seed."""
    return "${" in json.dumps(OmegaConf.to_container(cfg, resolve=False), default=str)


def run_cost(cfg: DictConfig) -> float:
    from hydra.utils import get_class

    return float(cfg.train.epochs) * float(getattr(get_class(cfg.encoder._target_), "relative_cost", 1.0))


@functools.lru_cache(maxsize=None)
def short_name(target: str) -> str:
    from ablation.contract import name_of
    from hydra.utils import get_class

    return name_of(get_class(target))


def kind_of(ident: Dict[str, Any]) -> Tuple[str, ...]:
    """(head, encoder, data) by short name, from a run's identity: what the dry run estimates its time by."""
    return tuple(short_name(str(ident[f"{g}._target_"])) for g in ("head", "encoder", "data"))


def max_stack(cfg: DictConfig) -> int:
    """The most runs of a cell trained together (0 = no limit): the encoder's limit at one thread, and 1 (every
    run alone) at several, where a product's sums may be split among the threads by the stack's shape, or where the
    optimizer's update is not element-wise (measured by ablation.recipe: one optimizer over a stack would mix its
    runs)."""
    from hydra.utils import get_class

    from ablation import presets

    if cfg.get("threads", 1) != 1 or not presets.elementwise(cfg):
        return 1
    return int(getattr(get_class(cfg.encoder._target_), "max_stack", 0))


def bundles(jobs: List[Job], size: Optional[int] = None) -> List[List[Job]]:
    """The train jobs grouped by cell (all but the seed; at most `size` runs a bundle, or the encoder's
    `max_stack`), longest bundle first.

    Each bundle is one launcher job whose runs are trained together (ablation.stacked); at one thread a run's
    result is the same in a bundle as alone, so this changes only how long the sweep takes.
    """
    groups: Dict[str, List[Job]] = {}
    for j in jobs:
        if j.action == "train":
            groups.setdefault(j.cell, []).append(j)
    out: List[List[Job]] = []
    for members in groups.values():
        step = min(n for n in (size, members[0].max_stack, len(members)) if n)
        out.extend(members[i : i + step] for i in range(0, len(members), step))
    return sorted(out, key=lambda b: -sum(j.cost for j in b))  # stable: grid order among equals


def absolute_paths(cfg: DictConfig, where: str) -> List[str]:
    """Overrides that set each relative path of PATH_KEYS in `cfg` to that path under `where` (the user's folder)."""
    out = []
    for key in PATH_KEYS:
        value = OmegaConf.select(cfg, key)
        if isinstance(value, str) and value and not os.path.isabs(value):
            path = os.path.normpath(os.path.join(where, value))
            plain = all(c.isalnum() or c in "/._-" for c in path)
            out.append(f"{key}={path}" if plain else "{}='{}'".format(key, path.replace("\\", "\\\\").replace("'", "\\'")))
    return out


def with_values(overrides: List[str], values: List[str]) -> List[str]:
    """`overrides` with each `key=value` of `values` put in place of an override of that key, else appended."""
    key = lambda o: o.split("=", 1)[0].lstrip("+~")  # noqa: E731
    new = {key(v): v for v in values}
    out = [new.pop(key(o)) if key(o) in new else o for o in overrides]
    return out + list(new.values())


def bundle_overrides(bundle: List[Job]) -> List[str]:
    """The launcher job of a bundle: the first run's overrides (its paths made absolute) plus the seeds of all its
    runs, and the ids planned for them (`run_ids`, quoted: an id of digits is no number), which the worker checks
    against its own."""
    ids = "+run_ids=[{}]".format(",".join(f"'{j.run_id}'" for j in bundle))
    first = with_values(list(bundle[0].overrides), bundle[0].paths)
    if len(bundle) == 1:
        return first + [ids]
    seeds = ",".join(str(j.seed) for j in bundle)
    return first + [f"+bundle_seeds=[{seeds}]", ids]


def outcome(job: Job, error: Any) -> Dict[str, Any]:
    """A run of a launcher job that raised or was lost: finished if its folder holds its final record (a bundle's
    runs are written one by one), else failed with the job's error."""
    from ablation.store import FINAL, blocking, is_final, read_metrics

    if job.folder is not None and is_final(job.folder):
        rec = read_metrics(job.folder) or {}
        if rec.get("status") in FINAL:
            return {"run_id": job.run_id, "status": rec["status"], "metrics": rec.get("metrics", {}),
                    "error": rec.get("error")}
    code = blocking(error) if isinstance(error, BaseException) else None
    return {"run_id": job.run_id, "status": "failed", "error": repr(error), **({"errno": code} if code else {})}


def stoppable(sweep: Callable[..., Any]) -> Callable[..., Any]:
    """A sweep that SIGINT (Ctrl-C) or SIGTERM (a scheduler) stops cleanly: the jobs stop and release their claims
    (ablation.interrupts), then one line says how many runs are finished, and the exit code is 130 or 143."""

    @functools.wraps(sweep)
    def wrapper(self: "AblationSweeper", arguments: List[str]) -> Any:
        from ablation import interrupts

        self.planned = []
        with interrupts.sweeping():
            try:
                return sweep(self, arguments)
            except interrupts.Interrupted as stop:
                self.stopped(stop)

    return wrapper


class AblationSweeper(BasicSweeper):
    def __init__(
        self,
        max_batch_size: Optional[int] = None,
        params: Optional[Dict[str, str]] = None,
        grids: Optional[Sequence[Dict[str, Any]]] = None,
        bundle: Optional[int] = 0,
    ) -> None:
        super().__init__(max_batch_size=max_batch_size, params=params)
        self.grids = [dict(g) for g in grids] if grids else [{}]
        self.bundle = bundle  # runs per bundle: 0 = all seeds of a cell, 1 = every run alone
        self.planned: List[Job] = []

    def setup(self, *, hydra_context: Any, task_function: Any, config: DictConfig) -> None:
        super().setup(hydra_context=hydra_context, task_function=task_function, config=config)
        joblib_kwargs = getattr(self.launcher, "joblib", None)  # Hydra's joblib launcher: joblib.Parallel's arguments
        if isinstance(joblib_kwargs, dict):
            from ablation.interrupts import worker_init

            joblib_kwargs.setdefault("initializer", worker_init)  # loky workers handle Ctrl-C/SIGTERM from their start

    def stopped(self, stop: Any) -> NoReturn:
        """After a stop: claims of workers killed outright are removed, then the one line and the exit."""
        from ablation import interrupts, runclaims
        from ablation.store import is_final

        interrupts.end_workers()
        runs = {j.run_id: j.folder for j in self.planned if j.folder is not None}
        for folder in runs.values():
            runclaims.remove_if_dead(folder)
        finished = sum(is_final(folder) for folder in runs.values())
        interrupts.exit_stopped(stop, finished, len(runs) if self.planned else None)

    def expand(self, arguments: List[str]) -> List[List[str]]:
        """Union of cartesian products: each grid's params, then `params`, then the command line."""
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        jobs: List[List[str]] = []
        for grid in self.grids:
            strings = [f"{k}={v}" for k, v in grid.items()] + self._parse_config() + list(arguments)
            for batch in self.split_arguments(parser.parse_overrides(strings), None):
                jobs.extend(batch)
        return jobs

    def compose_forcing(self, overrides: List[str],
                        cache: Dict[Any, Any]) -> Tuple[List[str], Tuple[DictConfig, tuple]]:
        """compose_cell, with a plain `key=value` whose key the config lacks made `++key=value` (and the job's
        overrides so changed returned): the key is then checked like any other, and refused with the nearest known
        key if nothing reads it (ablation/schema.py), instead of Hydra's hint to add it with `+`."""
        from ablation.errors import forced, unknown_key

        while True:  # ends: each retry prefixes one more of the finitely many plain overrides
            try:
                return overrides, self.compose_cell(overrides, cache)
            except ConfigCompositionException as e:
                retry = forced(overrides, unknown_key(e) or "")
                if retry is None:
                    raise
                overrides = retry

    def compose(self, overrides: List[str], cache: Dict[Any, Any]) -> DictConfig:
        return self.compose_cell(overrides, cache)[0]

    def compose_cell(self, overrides: List[str], cache: Dict[Any, Any]) -> Tuple[DictConfig, tuple]:
        """A job's config without Hydra's node, as `load_sweep_config` makes it, composed once per
        choice of config groups and once per cell.

        Hydra composes the groups' defaults first and applies plain `key=value` overrides last, so
        the group part can be cached and only the values re-applied, a fraction of a full composition a job.
        Jobs that differ only in their seed (a cell's replicates) share one config whose `seed` is set
        for each: the config returned is valid until the next call with the same cache.
        """
        loader = self.hydra_context.config_loader
        for o in overrides:
            if o not in cache:  # parsed, and whether it picks a config group
                (p,) = OverridesParser.create().parse_overrides([o])
                cache[o] = p, p.key_or_group.startswith("hydra") or loader.repository.group_exists(p.key_or_group)
        parsed, is_group = [cache[o][0] for o in overrides], [cache[o][1] for o in overrides]
        groups = tuple(o for o, g in zip(overrides, is_group) if g)
        if groups not in cache:
            full = loader.load_sweep_config(self.config, list(groups))
            cache[groups] = OmegaConf.masked_copy(full, [k for k in full if k != "hydra"])
        values = [(o, p) for o, p, g in zip(overrides, parsed, is_group) if not g]
        seed = [p for _, p in values if p.key_or_group == "seed" and p.type == OverrideType.CHANGE]
        rest = [(o, p) for o, p in values if not (seed and p is seed[-1])]
        cell = ("cell", groups, tuple(o for o, _ in rest))
        if cell not in cache:
            cfg = copy.deepcopy(cache[groups])
            ConfigLoaderImpl._apply_overrides_to_config([p for _, p in rest], cfg)
            cache[cell] = (cfg, cfg.get("seed"))
        cfg, default_seed = cache[cell]
        if "seed" in cfg:
            cfg.seed = seed[-1].value() if seed else default_seed
        return cfg, cell

    def plan(self, jobs: List[List[str]]) -> List[Job]:
        """Every job composed, validated and named by its run id; one config per head × depth kept in
        `self.heads` (for the pre-flight diagnosis) with the pair orders the grid runs it on."""
        from ablation import presets, runclaims
        from ablation.config import config_problems, seed_problem, skip_reason
        from ablation.data import DataError
        from ablation.errors import as_typed, lines
        from ablation.identity import identity, identity_hash
        from ablation.placement import decide, register_resolver, with_device, workers_of
        from ablation.store import FINAL, damage, read_metrics, run_dir, verifiable

        register_resolver()
        workers = workers_of(self.config.hydra.get("launcher"))  # what its jobs get: the device is checked against it
        planned: List[Job] = []
        problems: Dict[str, List[List[str]]] = {}  # each distinct problem → the jobs it affects
        seen: Dict[str, str] = {}
        cache: Dict[Any, Any] = {}  # compose_cell's: parsed overrides, group configs, cells
        checked: Dict[tuple, Dict[str, Any]] = {}  # per cell: what its first valid seed gave (seed-free parts)
        self.heads: Dict[str, Tuple[DictConfig, List[str]]] = {}
        self.samples: Dict[Tuple[str, ...], DictConfig] = {}  # a config per (head, encoder, data): for the estimate
        self.alone: set = set()  # optimizers whose update is not element-wise: their runs train one at a time
        for i, overrides in enumerate(jobs):
            typed = [as_typed(o) for o in overrides]  # as the user typed them: how a problem names its runs
            try:
                overrides, (cfg, cell) = self.compose_forcing(list(overrides), cache)
                if cfg.get("device") == "auto":  # decided here, once: the job carries the decision to its worker
                    overrides = with_device(list(overrides), decide("auto", workers))
                    cfg, cell = self.compose_cell(overrides, cache)
            except HydraException as e:
                problems.setdefault(lines(e), []).append(typed)
                continue
            known = checked.get(cell)
            if known is not None:  # another seed of a cell already checked: only the seed is new
                problem = seed_problem(cfg.seed)
                if problem:
                    problems.setdefault(problem, []).append(typed)
                    continue
                ident = {**known["ident"], "seed": cfg.seed}
            else:
                found = config_problems(cfg, check_output=i == 0, workers=workers)
                try:
                    ident = identity(cfg) if not found else {}
                except DataError as e:  # the data's content (a download, say) is part of the identity
                    found = [str(e)]
                for problem in found:
                    problems.setdefault(problem, []).append(typed)
                if found:
                    continue
                known = {"ident": ident, "skip": skip_reason(cfg), "cell": cell_key(cfg, ident), "cost": run_cost(cfg),
                         "max_stack": max_stack(cfg), "epochs": int(ident["train.epochs"]), "kind": kind_of(ident)}
                if not known["skip"] and known["kind"] not in self.samples:
                    self.samples[known["kind"]] = copy.deepcopy(cfg)
                if not known["skip"]:
                    head = json.dumps([OmegaConf.to_container(cfg.head, resolve=True), cfg.depth], sort_keys=True)
                    if head not in self.heads:  # one config per head × depth (a copy: cells share theirs)
                        self.heads[head] = (copy.deepcopy(cfg), [])
                    orders = self.heads[head][1]
                    if cfg.data.pair_order not in orders:
                        orders.append(cfg.data.pair_order)
                if not presets.elementwise(cfg):
                    self.alone.add(str(cfg.optimizer.get("_target_")))
                if not interpolates(cfg):  # else a value may follow the seed: each seed is checked in full
                    checked[cell] = known
            rid = identity_hash(ident)
            if rid in seen:
                planned.append(Job(overrides, rid, "duplicate", f"same run as: {seen[rid]}"))
                continue
            seen[rid] = Job(overrides, rid, "").what
            folder = run_dir(cfg.results_dir, rid)
            prev = read_metrics(folder)
            damaged = damage(folder, prev) if prev is not None and prev["status"] in FINAL else {}
            if prev is not None and prev["status"] in FINAL and not damaged:
                planned.append(Job(overrides, rid, "reuse", prev["status"], folder=folder, unverified=not verifiable(prev)))
            elif known["skip"]:
                planned.append(Job(overrides, rid, "skip", known["skip"], folder=folder))
            else:
                claim = runclaims.look(folder)  # another sweep's live claim: this sweep will wait for the run
                held = claim is not None and not claim.stale(runclaims.timing(cfg)[1])
                redo = ", ".join(f"{name} {what}" for name, what in damaged.items()) if damaged else prev and prev["status"]
                detail = claim.words() + " (this sweep waits for it)" if held else "redo: " + redo if prev else ""
                planned.append(Job(overrides, rid, "train", detail, cell=known["cell"], seed=int(cfg.seed),
                                   cost=known["cost"], max_stack=known["max_stack"], folder=folder, elsewhere=held,
                                   kind=known["kind"], epochs=known["epochs"], damaged=bool(damaged),
                                   paths=absolute_paths(cfg, str(self.config.hydra.runtime.cwd))))
        if problems:
            raise InvalidSweep("\n".join(f"{p} [{affected(js, len(jobs))}]" for p, js in problems.items()))
        return planned

    @stoppable
    def sweep(self, arguments: List[str]) -> Any:
        from ablation.interrupts import launching, stop_if_asked, until_stopped
        from ablation.sweep import INTERRUPTED, PLAN_FILE, execute

        from ablation.extras import launcher_problem

        missing = launcher_problem(self.config.hydra.get("launcher"))
        if missing:  # before planning: nothing is written for a sweep that cannot start
            raise InvalidSweep(missing)
        t0 = time.time()
        jobs = self.planned = self.plan(self.expand(arguments))
        counts = {a: sum(j.action == a for j in jobs) for a in ("train", "reuse", "skip", "duplicate")}
        print(f"sweep: {len(jobs)} runs: {counts['train']} to train, {counts['reuse']} reused, "
              f"{counts['skip']} skipped, {counts['duplicate']} duplicates "
              f"(planned in {time.time() - t0:.2f} s)", flush=True)
        for j in jobs:
            if j.action != "train" or self.config.dry_run or j.elsewhere or j.damaged:
                print(f"  {j.action:<9} {j.run_id}  {j.what}  {j.detail}", flush=True)
        unverified = sum(j.unverified for j in jobs)
        if unverified:
            print(f"  {unverified} reused run(s) were recorded before records listed their files' sizes and hashes: "
                  "their files cannot be checked, they are taken as they are", flush=True)
        if self.alone:
            print(f"optimizer {', '.join(sorted(self.alone))}: its update is not element-wise (measured), so its runs "
                  "train one at a time, not with the other seeds of their cell", flush=True)
        if self.heads:
            from ablation.sweep import preflight

            t1 = time.time()
            lines = preflight(list(self.heads.values()))
            print(f"structure at initialisation, measured on random images ({time.time() - t1:.2f} s; each run "
                  "measures its own test images again):\n" + "\n".join(f"  {line}" for line in lines), flush=True)
        from ablation.placement import cpu_cores

        warning = oversubscribed(self.config.hydra.launcher.get("n_jobs"), int(self.config.threads), cpu_cores())
        if warning:
            print(warning, flush=True)
        if self.config.dry_run:
            from ablation.estimate import estimate, parallel_jobs

            lines = estimate([(j.kind, j.epochs) for j in jobs if j.action == "train" and not j.elsewhere],
                             self.samples, self.config.results_dir, parallel_jobs(self.config.hydra.launcher))
            if lines:
                print("\n".join(lines), flush=True)
            return []

        from ablation.store import BLOCKING, blocking

        status = {j.run_id: j.action for j in jobs if j.action in ("reuse", "skip")}  # duplicates counted once
        outcomes: List[Tuple[Job, Dict[str, Any]]] = []
        for j in jobs:
            if j.action == "skip":  # recorded here: nothing to launch
                v = execute(self.compose(j.overrides, {}), list(j.overrides))
                if v["status"] == "failed":
                    outcomes.append((j, v))
        sweep_dir = Path(self.config.hydra.sweep.dir)
        to_run = [j for j in jobs if j.action == "train"]
        try:
            sweep_dir.mkdir(parents=True, exist_ok=True)
            (sweep_dir / PLAN_FILE).write_text(json.dumps({"n": len(to_run), "t0": time.time()}))
        except OSError as e:
            if blocking(e) is None:
                raise
            raise SweepFailed(BLOCKING[e.errno].format(where=self.config.results_dir)) from None
        groups = bundles(jobs, self.bundle or None)
        with launching():  # after a stop the launcher is handed no further job
            results = self.launcher.launch(until_stopped([bundle_overrides(b) for b in groups]),
                                           initial_job_idx=0) if groups else []
        stop_if_asked()

        for group, r in zip(groups, results):
            if r.status == JobStatus.COMPLETED:
                values = r.return_value if isinstance(r.return_value, list) else [r.return_value]
            else:  # the job raised (or its worker died): each run is what its folder says
                values = [outcome(j, r._return_value) for j in group]
            outcomes.extend(zip(group, values))
        failed: List[str] = []
        diverged: List[str] = []
        interrupted: List[str] = []
        blocked: Dict[int, int] = {}  # errno -> runs it left unfinished
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
            time.time() - t0, ", ".join(f"{n} {names.get(s, s)}" for s, n in tally.items())), flush=True)
        if diverged:  # a result, not a failure: the same config diverges again, so re-runs reuse it
            print(f"{len(diverged)} run(s) diverged (recorded as results; the report counts them per cell):\n"
                  + "\n".join(diverged), flush=True)
        problems = [BLOCKING[code].format(where=self.config.results_dir) + f" ({n} run(s) not finished)"
                    for code, n in blocked.items()]
        problems += ([f"{len(failed)} run(s) failed (a run that raised has its traceback in error.txt in its folder):"] + failed if failed else []) + (
            [f"{len(interrupted)} run(s) interrupted (a signal stopped their worker); rerun the same command to resume:"]
            + interrupted if interrupted else [])
        if problems:
            raise SweepFailed("\n".join(problems))
        return [results]
