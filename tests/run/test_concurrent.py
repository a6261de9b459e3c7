"""Sweeps that share a results folder, for real: each run is trained once (counted from the runs' own
attempts.jsonl), a claim left by `kill -9` is taken over, and Ctrl-C / SIGTERM stop a sweep cleanly and resumably."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import FAST, cli, records, start

from ablation.run.lock import ATTEMPTS, CLAIM

pytestmark = pytest.mark.slow

CLAIMS = ("claim_heartbeat_s=0.2", "claim_timeout_s=3")  # tiny: a silent holder is given up after 3 s
TIMING = ("wall_time_s",)


class Sweep:
    """`python -m ablation.sweep ARGS` in a session and process group of its own, SIGINT at its default (as a
    terminal's foreground job has it: a script's background job would ignore it); its output goes to files, readable
    while it runs. Forked from the tests' warm interpreter (conftest.start), or `fresh`: each test below runs one
    case in fresh interpreters, as a user's shell starts them."""

    def __init__(self, logs: Path, *args: str, fresh: bool = False) -> None:
        logs.mkdir(parents=True, exist_ok=True)
        self.out_path, self.err_path = logs / "stdout", logs / "stderr"
        self.p = start(*args, out=self.out_path, err=self.err_path, fresh=fresh, session=True)

    def out(self) -> str:
        return self.out_path.read_text()

    def finish(self, timeout: float = 240) -> tuple[int, str, str]:
        """Wait for the sweep (killed, and the test failed, after `timeout`): exit code, stdout, stderr."""
        try:
            self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.p.pid, signal.SIGKILL)
            self.p.wait(timeout=30)
            pytest.fail(f"sweep still running after {timeout} s:\n{self.out()[-2000:]}\n"
                        f"{self.err_path.read_text()[-2000:]}")
        return self.p.returncode, self.out(), self.err_path.read_text()


def until(condition, timeout: float = 120, what: str = "") -> None:
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def attempts(results: Path) -> dict[str, list[dict]]:
    """run_id → the trainings started in its folder (attempts.jsonl), from the runs' own records."""
    return {f.parent.name: [json.loads(x) for x in f.read_text().splitlines()]
            for f in (results / "runs").glob(f"*/{ATTEMPTS}")}


def measured(results: Path) -> dict[str, tuple[str, dict]]:
    return {rid: (rec["status"], {k: v for k, v in rec.get("metrics", {}).items() if k not in TIMING})
            for rid, rec in records(results).items()}


def tally(out: str) -> dict[str, int]:
    """The sweep's summary line as counts: 'sweep done in 3.1 s: 2 completed, 2 reused' → {...}."""
    (line,) = re.findall(r"^sweep done in .* s: (.*)$", out, re.M)
    return {s: int(n) for n, s in (part.split(" ", 1) for part in line.split(", "))}


def alive(pgid: int) -> list[str]:
    """The processes of a process group that still run (zombies aside)."""
    ps = subprocess.run(["ps", "-o", "stat=,args=", "-g", str(pgid)], capture_output=True, text=True).stdout
    return [line for line in ps.splitlines() if line.strip() and not line.lstrip().startswith("Z")]


@pytest.fixture(scope="module")
def alone(tmp_path_factory) -> dict[str, tuple[str, dict]]:
    """Every run of the tests below, made by one sweep alone."""
    results = tmp_path_factory.mktemp("alone") / "results"
    p = cli("-m", "head=distance,subtract,absdiff", "seed=0,1", *FAST, f"results_dir={results}")
    assert p.returncode == 0, p.stderr
    return measured(results)


@pytest.mark.parametrize("grids,interpreter", [(("head=distance,subtract", "head=distance,subtract"), "fresh"),
                                               (("head=distance,subtract", "head=subtract,absdiff"), "forked")],
                         ids=["same", "overlapping"])
def test_sweeps_started_together_on_one_folder_train_each_run_once(tmp_path, grids, interpreter, alone):
    shared = tmp_path / "shared"
    sweeps = [Sweep(tmp_path / f"log{i}", "-m", grid, "seed=0,1", *FAST, *CLAIMS, f"results_dir={shared}",
                    fresh=interpreter == "fresh") for i, grid in enumerate(grids)]
    done = [s.finish() for s in sweeps]
    for rc, out, err in done:
        assert rc == 0, err
    union = {h for g in grids for h in g.removeprefix("head=").split(",")}
    runs = attempts(shared)
    assert len(runs) == 2 * len(union) and all(len(a) == 1 for a in runs.values()), runs  # each trained once
    assert measured(shared) == {rid: alone[rid] for rid in runs}  # the same metrics as one sweep
    counts = [tally(out) for _, out, _ in done]
    assert sum(c.get("completed", 0) for c in counts) == 2 * len(union)  # the two sweeps trained the union once
    assert all(sum(c.values()) == 4 for c in counts)  # each sweep accounts for all of its runs
    assert not list(shared.glob(f"runs/*/{CLAIM}*"))


@pytest.mark.parametrize("launcher,holder,interpreter", [("basic", "elsewhere", "fresh"),
                                                        ("parallel", "elsewhere", "forked"),
                                                        ("parallel", "here", "forked")])
def test_a_claim_left_by_kill_9_is_taken_over_and_the_run_trained_once_more(tmp_path, launcher, holder, interpreter):
    """The holder is killed with its whole process group. On this machine its claim is taken over at once (its
    pid is gone). "elsewhere": the claim is rewritten to name another host, whose heartbeat the test keeps up
    until the second sweep waits for it and then stops: the run is taken over claim_timeout_s after the last beat."""
    results = tmp_path / "results"
    grid = ("-m", "head=subtract", "seed=0", "train.epochs=3", f"hydra/launcher={launcher}", *CLAIMS,
            f"results_dir={results}")
    fresh = interpreter == "fresh"
    first = Sweep(tmp_path / "first", *grid, fresh=fresh)
    until(lambda: len(attempts(results)) == 1, what="the first sweep to start training")
    os.killpg(first.p.pid, signal.SIGKILL)
    first.finish(timeout=30)
    (rid,) = attempts(results)
    folder = results / "runs" / rid
    if (folder / "metrics.json").exists():
        pytest.fail("the run finished before it could be killed")
    claim = json.loads((folder / CLAIM).read_text())  # left behind: kill -9 runs no clean-up
    if holder == "elsewhere":
        (folder / CLAIM).write_text(json.dumps({**claim, "host": "elsewhere"}))
    second = Sweep(tmp_path / "second", *grid, fresh=fresh)
    waited = f"waiting for {rid}: being trained by elsewhere:{claim['pid']} since {claim['since']}"
    if holder == "elsewhere":
        def beat_until_waited() -> bool:
            os.utime(folder / CLAIM)  # the other host's heartbeat, until the second sweep waits for it
            return waited in second.out()

        until(beat_until_waited, what="the second sweep to wait for the claim")
        last_beat = time.time()
        until(lambda: len(attempts(results)[rid]) == 2, timeout=60, what="the claim to be taken over")
        assert time.time() - last_beat >= 3  # not before claim_timeout_s
    rc, out, err = second.finish()
    assert rc == 0, err
    assert (waited in out) == (holder == "elsewhere")
    assert tally(out) == {"completed": 1}
    first_try, again = attempts(results)[rid]  # trained once more, by the second sweep
    assert first_try["pid"] == claim["pid"] and again["pid"] != claim["pid"]
    assert records(results)[rid]["status"] == "completed" and not (folder / CLAIM).exists()


@pytest.mark.parametrize("launcher,sig,to,interpreter", [("parallel", signal.SIGINT, "group", "fresh"),
                                                        ("parallel", signal.SIGTERM, "main", "forked"),
                                                        ("basic", signal.SIGTERM, "main", "forked")])
def test_ctrl_c_and_sigterm_stop_a_sweep_cleanly_and_a_rerun_resumes(tmp_path, launcher, sig, to, interpreter):
    results = tmp_path / "results"
    grid = ("-m", "head=subtract,absdiff", "seed=0,1", "train.epochs=3", "hydra.sweeper.bundle=1",
            f"hydra/launcher={launcher}", f"results_dir={results}")
    sweep = Sweep(tmp_path / "log", *grid, fresh=interpreter == "fresh")
    p = sweep.p
    until(lambda: len(list(results.glob("runs/*/metrics.json"))) >= 1 and list(results.glob(f"runs/*/{CLAIM}")),
          what="a finished run and one in training")
    t0 = time.time()
    os.killpg(p.pid, sig) if to == "group" else os.kill(p.pid, sig)  # Ctrl-C reaches the group; kill <pid> one
    rc, out, err = sweep.finish(timeout=60)
    took = time.time() - t0
    left = alive(p.pid)
    assert rc == 128 + sig and took < 5, (rc, took, err)
    assert not [x for x in left if "LokyProcess" in x or "ablation.sweep" in x], left  # no worker outlives it
    finished = {f.parent.name: f.stat().st_mtime_ns for f in results.glob("runs/*/metrics.json")}
    assert err.strip() == f"interrupted: {len(finished)} of 4 runs finished; rerun the same command to resume", err
    assert "Traceback" not in out and 1 <= len(finished) < 4
    assert not list(results.glob(f"runs/*/{CLAIM}*"))  # every claim released
    unfinished = [d for d in results.glob("runs/*") if not (d / "metrics.json").exists()]
    assert unfinished  # the run in training was left unfinished, not recorded
    until(lambda: not alive(p.pid), timeout=10, what="the resource trackers to exit")

    before = attempts(results)
    again = cli(*grid)
    assert again.returncode == 0, again.stderr
    assert f"{4 - len(finished)} to train, {len(finished)} reused" in again.stdout
    assert {rid: (results / "runs" / rid / "metrics.json").stat().st_mtime_ns for rid in finished} == finished
    after = attempts(results)
    assert len(after) == 4 and all(len(after[rid]) == len(before.get(rid, [])) + (rid not in finished) for rid in after)
