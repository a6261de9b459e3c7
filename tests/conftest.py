"""Shared test helpers: compose configs in-process, run the real CLI in a subprocess, write tiny IDX files.

`cli` is the one way a test runs `python -m ablation.sweep` (or `module=`) as a user would: a process of its own,
forked from a warm interpreter (helpers/forkserver.py) so that it does not pay torch's imports each time. Tests
that need the process itself while it runs (its pid, signals, several at once) `start` it, forked the same way or,
for one case of each such test, in a fresh interpreter. The suite runs
over every core (pytest-xdist, `-n auto --dist loadgroup` in pyproject.toml): a test keeps what it writes under
its own `tmp_path`, binds ports as 0 on 127.0.0.1, and a module's tests that share a module-scoped fixture are kept
in one worker (`pytest_collection_modifyitems` below), and the tests that start or join a Ray cluster share the
group "ray": `ray.init()` joins any cluster running on the machine, so two of them at once would cross.
"""

from __future__ import annotations

import atexit
import gzip
import json
import os
import signal
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
TESTS = Path(__file__).resolve().parent
FAST = ["train.epochs=1"]  # one epoch of mnist5k pairs: ~0.3 s of training
# One epoch of 500 training digits (the other 4,500 are test digits): 980 pairs, 10 steps of 100, the last one
# short (80) as the full 7,980 pairs' 80th step is: the padded case. For tests of how runs are scheduled, placed
# or stepped, which no data size changes; tests of what runs learn use FAST.
TINY = ["train.epochs=1", "train.batch_size=100", "data.test_fraction=0.9"]


def make_cfg(*overrides: str) -> DictConfig:
    """The config a run would get, via Hydra's compose API (no hydra node, no output dirs)."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def subprocess_path() -> dict[str, str]:
    """PYTHONPATH for a subprocess: the tests' modules (conftest, `helpers.*`) and the project importable."""
    return {"PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT), os.environ.get("PYTHONPATH", "")])}


def cli(*args: str, cwd: Path | None = None, timeout: float = 240, module: str = "ablation.sweep",
        cpus: set[int] | None = None, path: tuple[Path, ...] = (), env: dict[str, str] | None = None,
        ) -> subprocess.CompletedProcess:
    """Run `python -m ablation.sweep ARGS` as a user would; the test components of `helpers.faulty` are importable.
    `cpus`: the CPUs the process may run on (its affinity, as `taskset` would set it); `path`: folders put first
    on its PYTHONPATH (a user's own modules); `env`: variables set for it (HYDRA_FULL_ERROR is otherwise unset).

    The process is forked from a warm interpreter (helpers/forkserver.py: imports done once, nothing run) where
    that is the same as a fresh one: it would import this checkout's package, no variable that acts on imports
    changed, and nothing in `path` or the working folder stands in for a module imported before the command
    (tests/test_forkserver.py). Elsewhere, and everywhere with TESTS_FRESH_PROCESS=1, a fresh interpreter runs it."""
    env = _command_env(path, env)
    cwd = Path(cwd or ROOT)
    if _forkable(cwd, env):
        return _server().run(module, list(args), cwd, env, cpus, timeout)
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus is not None else None
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
        preexec_fn=pin,
    )


def start(*args: str, out: Path, err: Path, fresh: bool = False, session: bool = False,
          module: str = "ablation.sweep") -> subprocess.Popen | _Forked:
    """Start `python -m ablation.sweep ARGS` from ROOT as `cli` runs it, without waiting for it: its stdout and
    stderr go to the files `out` and `err` (readable while it runs); `session`: in a session (and process group) of
    its own, as a terminal's job is, SIGINT at its default; `fresh`: in a fresh interpreter even where a fork would
    do. The answer has Popen's `pid`, `wait(timeout)` and `returncode`."""
    env = _command_env()
    with open(out, "w") as o, open(err, "w") as e:  # there (and empty) once this returns, as a Popen's are
        if not fresh and _forkable(ROOT, env):
            return _server().start(module, list(args), ROOT, env, out, err, session)
        return subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT, env=env, text=True,
                                stdin=subprocess.DEVNULL, stdout=o, stderr=e, start_new_session=session,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _command_env(path: tuple[Path, ...] = (), given: dict[str, str] | None = None) -> dict[str, str]:
    """A test command's environment: this process's, `path` then the tests' PYTHONPATH, HYDRA_FULL_ERROR unset
    unless `given` (set last) sets it."""
    env = {**os.environ, **subprocess_path()}
    if path:
        env["PYTHONPATH"] = os.pathsep.join([*map(str, path), env["PYTHONPATH"]])
    env.pop("HYDRA_FULL_ERROR", None)
    return {**env, **(given or {})}


# Variables read when torch, numpy or Python itself start: a command that changes one needs a fresh interpreter.
IMPORT_TIME = ("PYTHON", "ATEN_", "MKL_", "OMP_", "KMP_", "TORCH", "OPENBLAS", "LD_", "CUDA", "MPLBACKEND")


def _resolves_here(cwd: Path, env: dict[str, str]) -> bool:
    """Whether a fresh `python -m` from `cwd` with `env` would import this checkout's package and plugins: the
    first folder of its path (cwd, then PYTHONPATH) that holds `ablation` or the sweeper plugin is ROOT."""
    path = [cwd, *(Path(p) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)]
    for name in ("ablation/__init__.py", "hydra_plugins/ablation_sweeper"):
        first = next((p for p in path if (p / name).exists()), None)
        if first is None or first.resolve() != ROOT:
            return False
    return True


def _forkable(cwd: Path, env: dict[str, str]) -> bool:
    if os.environ.get("TESTS_FRESH_PROCESS") == "1" or not _resolves_here(cwd.resolve(), env):
        return False
    server_env = {**os.environ, **subprocess_path()}
    keys = {k for k in (*env, *server_env) if k.startswith(IMPORT_TIME) and k != "PYTHONPATH"}
    if not all(env.get(k) == server_env.get(k) for k in keys):
        return False
    ours, theirs = server_env["PYTHONPATH"], env.get("PYTHONPATH", "")
    if theirs != ours and not theirs.endswith(os.pathsep + ours):
        return False
    # A user's folders put first (their own heads, optimizers): the same as a fresh interpreter where nothing in
    # them, or in the working folder, stands in for a module the warm interpreter imported before the command.
    folders = [Path(p) for p in theirs[: len(theirs) - len(ours)].split(os.pathsep) if p]
    if cwd.resolve() != ROOT:
        folders.append(cwd)
    imported = _server().imported
    return not any(_top_level_names(f) & imported for f in folders)


def _top_level_names(folder: Path) -> set[str]:
    """What `import NAME` could find in a folder: its modules, packages and namespace folders."""
    if not folder.is_dir():
        return set()
    return {p.name.split(".")[0] for p in folder.iterdir() if p.is_dir() or p.suffix in (".py", ".pyc", ".so")}


class _ForkServer:
    """This pytest process's warm interpreter (one per xdist worker), started at its first command."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, str(TESTS / "helpers" / "forkserver.py")], cwd=ROOT,
                                     env={**os.environ, **subprocess_path()}, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()  # once its imports are done: the top-level names it imported
        if not line:
            raise RuntimeError("the tests' fork server did not start")
        # and what else a folder on the path could hand a fresh process: its start-up customisation, Hydra's plugins
        self.imported = {*json.loads(line)["imported"], "sitecustomize", "usercustomize", "hydra_plugins"}

    def ask(self, req: dict) -> dict:
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the tests' fork server is gone")
        return json.loads(line)

    def run(self, module: str, args: list[str], cwd: Path, env: dict[str, str], cpus: set[int] | None,
            timeout: float) -> subprocess.CompletedProcess:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="cli") as d:
            out, err = Path(d) / "out", Path(d) / "err"
            reply = self.ask({"module": module, "args": args, "cwd": str(cwd), "env": env, "out": str(out),
                              "err": str(err), "cpus": sorted(cpus) if cpus is not None else None,
                              "timeout": timeout})
            argv = [sys.executable, "-m", module, *args]
            stdout, stderr = out.read_text(errors="replace"), err.read_text(errors="replace")
        if reply.get("timeout"):
            raise subprocess.TimeoutExpired(argv, timeout, stdout, stderr)
        return subprocess.CompletedProcess(argv, reply["code"], stdout, stderr)

    def start(self, module: str, args: list[str], cwd: Path, env: dict[str, str], out: Path, err: Path,
              session: bool) -> _Forked:
        reply = self.ask({"module": module, "args": args, "cwd": str(cwd), "env": env, "out": str(out),
                          "err": str(err), "detach": True, "session": session})
        return _Forked(self, reply["pid"], [sys.executable, "-m", module, *args])

    def close(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class _Forked:
    """A command the fork server started (`start`): Popen's `pid`, `wait` and `returncode` (the server is its parent
    and reaps it)."""

    def __init__(self, server: _ForkServer, pid: int, args: list[str]) -> None:
        self.server, self.pid, self.args, self.returncode = server, pid, args, None

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            reply = self.server.ask({"wait": self.pid, "timeout": 1e9 if timeout is None else timeout})
            if reply.get("timeout"):
                raise subprocess.TimeoutExpired(self.args, timeout)
            self.returncode = reply["code"]
        return self.returncode


_SERVER: list[_ForkServer] = []


def _server() -> _ForkServer:
    if not _SERVER or _SERVER[0].proc.poll() is not None:
        _SERVER[:] = [_ForkServer()]
        atexit.register(_SERVER[0].close)
    return _SERVER[0]


def records(results: Path) -> dict[str, dict]:
    """run_id → metrics.json of every finished run under `results`."""
    out = {}
    for f in sorted((results / "runs").glob("*/metrics.json")):
        out[f.parent.name] = json.loads(f.read_text())
    return out


def write_idx(path: Path, array: np.ndarray, gz: bool = True) -> None:
    """Write `array` (uint8) in LeCun's IDX format."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(np.uint8).tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


def write_idx_dataset(root: Path, n_train: int = 60, n_test: int = 30, gz: bool = True, seed: int = 0) -> None:
    """A tiny MNIST-shaped data set: 10 classes, each drawn around its own template image."""
    rng = np.random.default_rng(seed)
    templates = rng.integers(0, 256, size=(10, 28, 28))
    root.mkdir(parents=True, exist_ok=True)
    for part, n in (("train", n_train), ("t10k", n_test)):
        y = np.arange(n) % 10
        x = np.clip(templates[y] + rng.normal(0, 20, size=(n, 28, 28)), 0, 255)
        write_idx(root / f"{part}-images-idx3-ubyte", x, gz)
        write_idx(root / f"{part}-labels-idx1-ubyte", y, gz)


@pytest.fixture
def one_thread():
    """torch at one thread (as a run sets it) for a test that trains without a run's config; restored after."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def results(tmp_path: Path) -> Path:
    return tmp_path / "results"


@pytest.fixture
def question(tmp_path):
    """Fake runs of the quick-start preset's cells, 3 seeds, 2,000 test pairs a run (decidable AUC intervals):
    (measured runs at the report's context, its Context)."""
    from helpers.reports import study

    return study(tmp_path)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`--dist loadgroup`), the tests of a module that share a module-scoped fixture (a sweep
    made once for them) run in one worker, so that the fixture is made once; every other test goes wherever a
    worker is free."""
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:  # a group of its own (the Ray tests: one at a time)
            continue
        defs = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
        if any(d and d[-1].scope == "module" for d in defs.values()):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


LOADGROUP_LOST = ("pytest-xdist's --dist loadgroup does not group on pytest {version}: each module's shared sweep "
                  "would be made in every worker and Ray tests would share a cluster; pip install 'pytest<9.2' "
                  "(pytest-dev/pytest-xdist#1386)")


class _GroupsHeld:
    """On a pytest-xdist worker: whether `--dist loadgroup` really groups. pytest-xdist 3.8 marks a group by
    suffixing the test's id, which pytest 9.2 no longer lets it change (pytest-dev/pytest-xdist#1386): the groups
    would be dealt out test by test. pyproject.toml keeps pytest below 9.2; where another pytest got in, each
    grouped test fails with the line saying so (an error in a worker's collection would not show its message)."""

    def __init__(self) -> None:
        self.lost: set[str] = set()

    @pytest.hookimpl(trylast=True)  # after pytest-xdist's own, which suffixes the ids
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        self.lost = {i.nodeid for i in items if i.get_closest_marker("xdist_group") is not None and "@" not in i.nodeid}

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if item.nodeid in self.lost:
            pytest.fail(LOADGROUP_LOST.format(version=pytest.__version__), pytrace=False)


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") and getattr(config.option, "loadgroup", False):  # a pytest-xdist worker
        config.pluginmanager.register(_GroupsHeld(), "groups-held")
