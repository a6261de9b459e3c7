"""Claims, in one process: who holds a run, when a claim is stale and taken over, and how a job waits for a run
another process holds. Stop signals: where they raise, and where they do not."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, replace
from pathlib import Path

import pytest
from conftest import TINY, make_cfg

from ablation.run import lock as runclaims, signals as interrupts
from ablation.config import ConfigError, run_id, validate
from ablation.run.record import read_metrics
from ablation.run.worker import execute
from ablation.store import run_dir, write_json


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def plant(folder: Path, age_s: float = 0.0, **holder: object) -> runclaims.Holder:
    """A claim file as another process would leave it, its heartbeat `age_s` old."""
    h = replace(runclaims.this_process(), **holder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / runclaims.CLAIM).write_text(json.dumps(asdict(h)))
    t = time.time() - age_s
    os.utime(folder / runclaims.CLAIM, (t, t))
    return h


def test_a_claim_names_its_holder_and_a_second_claim_is_refused(tmp_path):
    claim = runclaims.acquire(tmp_path, timeout_s=60)
    assert isinstance(claim, runclaims.Claim) and claim.held()
    seen = runclaims.look(tmp_path)
    assert seen.holder == claim.holder and seen.holder.pid == os.getpid() and seen.holder.host == runclaims.HOST
    assert seen.stale(60) is None  # this process is alive
    again = runclaims.acquire(tmp_path, timeout_s=60)
    assert isinstance(again, runclaims.Seen) and again.holder == claim.holder
    assert again.words().startswith(f"being trained by {runclaims.HOST}:{os.getpid()} since ")
    claim.release()
    assert runclaims.look(tmp_path) is None


def test_a_claim_whose_holder_died_on_this_machine_is_taken_over_at_once(tmp_path):
    plant(tmp_path, pid=dead_pid())
    assert "no longer running" in runclaims.look(tmp_path).stale(timeout_s=600)
    claim = runclaims.acquire(tmp_path, timeout_s=600)
    assert isinstance(claim, runclaims.Claim) and claim.holder.pid == os.getpid()


def test_a_reused_pid_is_not_taken_for_the_holder(tmp_path):
    plant(tmp_path, start=runclaims.this_process().start - 1)  # this pid, but a process started at another time
    assert isinstance(runclaims.acquire(tmp_path, timeout_s=600), runclaims.Claim)


def test_a_claim_from_another_host_is_stale_only_when_its_heartbeat_is_older_than_the_timeout(tmp_path):
    plant(tmp_path, age_s=5, host="elsewhere", pid=dead_pid())  # its pid means nothing here
    assert runclaims.look(tmp_path).stale(timeout_s=10) is None
    assert isinstance(runclaims.acquire(tmp_path, timeout_s=10), runclaims.Seen)
    assert "no heartbeat for 5 s" in runclaims.look(tmp_path).stale(timeout_s=4)
    claim = runclaims.acquire(tmp_path, timeout_s=4)
    assert isinstance(claim, runclaims.Claim) and claim.holder.host == runclaims.HOST


def test_the_heartbeat_keeps_a_claim_fresh_and_a_taken_over_claim_is_not_removed_by_its_old_holder(tmp_path):
    claim = runclaims.acquire(tmp_path, timeout_s=60)
    os.utime(tmp_path / runclaims.CLAIM, (time.time() - 50,) * 2)
    with runclaims.heartbeat([claim], every_s=0.05):
        time.sleep(0.3)
    assert runclaims.look(tmp_path).age_s < 1
    os.utime(tmp_path / runclaims.CLAIM, (time.time() - 100,) * 2)  # the holder stalled (e.g. Ctrl-Z) past the timeout
    taker = runclaims.acquire(tmp_path, timeout_s=60)
    assert isinstance(taker, runclaims.Claim) and not claim.held() and taker.held()
    claim.beat()  # touches its own (moved) file, not the taker's
    claim.release()
    assert runclaims.look(tmp_path).holder == taker.holder


def test_a_stale_claim_replaced_since_it_was_looked_at_is_left_alone(tmp_path):
    plant(tmp_path, pid=dead_pid())
    seen = runclaims.look(tmp_path)
    fresh = plant(tmp_path / "other", token="fresh")  # another taker's new claim, put in its place meanwhile
    os.replace(tmp_path / "other" / runclaims.CLAIM, tmp_path / runclaims.CLAIM)
    runclaims._remove_if_same(tmp_path, seen)
    assert runclaims.look(tmp_path).holder == fresh
    assert sorted(p.name for p in tmp_path.iterdir()) == [runclaims.CLAIM, "other"]  # nothing left aside


def test_an_unreadable_claim_counts_as_being_written_until_the_timeout(tmp_path):
    (tmp_path / runclaims.CLAIM).write_text("")
    seen = runclaims.look(tmp_path)
    assert seen.holder is None and seen.stale(60) is None and "being written" in seen.words()
    os.utime(tmp_path / runclaims.CLAIM, (time.time() - 120,) * 2)
    assert isinstance(runclaims.acquire(tmp_path, timeout_s=60), runclaims.Claim)


def finish_later(folder: Path, after_s: float, holder_beats: bool = True) -> threading.Thread:
    """Another process's training, played by a thread: heartbeats, then a finished record, then the claim gone."""
    def run() -> None:
        end = time.time() + after_s
        while time.time() < end:
            if holder_beats:
                os.utime(folder / runclaims.CLAIM)
            time.sleep(0.05)
        write_json(folder / "metrics.json", {"status": "completed", "metrics": {"test_acc": 0.5}})
        (folder / runclaims.CLAIM).unlink()

    t = threading.Thread(target=run)
    t.start()
    return t


def test_a_job_waits_for_a_run_claimed_elsewhere_and_reuses_it(results, capsys):
    cfg = make_cfg("head=subtract", *TINY, f"results_dir={results}", "claim_heartbeat_s=0.1", "claim_timeout_s=5")
    folder = run_dir(results, run_id(cfg))
    plant(folder, host="elsewhere", pid=4242)
    t0 = time.time()
    other = finish_later(folder, after_s=1.0)
    summary = execute(cfg, [])
    other.join(timeout=10)
    assert time.time() - t0 >= 1.0 and summary["status"] == "reused" and summary["metrics"] == {"test_acc": 0.5}
    assert "waiting for " + folder.name + ": being trained by elsewhere:4242 since " in capsys.readouterr().out
    assert not (folder / runclaims.ATTEMPTS).exists() and not (folder / "config.yaml").exists()  # wrote nothing


def test_a_job_takes_over_a_claim_whose_heartbeat_stopped_and_trains_the_run(results, capsys):
    cfg = make_cfg("head=subtract", *TINY, f"results_dir={results}", "claim_heartbeat_s=0.2", "claim_timeout_s=1")
    folder = run_dir(results, run_id(cfg))
    plant(folder, host="elsewhere", pid=4242)  # a holder on another machine that then went silent
    t0 = time.time()
    summary = execute(cfg, [])
    assert summary["status"] == "completed" and time.time() - t0 >= 1.0
    assert "being trained by elsewhere:4242" in capsys.readouterr().out
    (attempt,) = [json.loads(x) for x in (folder / runclaims.ATTEMPTS).read_text().splitlines()]
    assert attempt["pid"] == os.getpid() and read_metrics(folder)["status"] == "completed"
    assert runclaims.look(folder) is None  # released


def test_claim_keys_are_checked_and_are_not_part_of_a_runs_identity(results):
    base = run_id(make_cfg(f"results_dir={results}"))
    assert run_id(make_cfg(f"results_dir={results}", "claim_heartbeat_s=1", "claim_timeout_s=2")) == base
    with pytest.raises(ConfigError, match="claim_heartbeat_s must be a number > 0, got 0"):
        validate(make_cfg(f"results_dir={results}", "claim_heartbeat_s=0"))
    with pytest.raises(ConfigError, match="claim_timeout_s must be a number >= 2 x claim_heartbeat_s = 60, got 30"):
        validate(make_cfg(f"results_dir={results}", "claim_timeout_s=30"))


@pytest.fixture
def stop_state():
    interrupts.reset()
    yield
    interrupts.reset()


def test_a_stop_signal_raises_inside_a_job_only_and_not_in_a_shielded_section(stop_state):
    old = signal.getsignal(signal.SIGTERM)
    with pytest.raises(interrupts.Interrupted) as stop:
        with interrupts.job():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # interrupted, not slept through
    assert stop.value.exit_code == 143 and signal.getsignal(signal.SIGTERM) is old  # the job's handlers are gone
    with pytest.raises(interrupts.Interrupted):
        with interrupts.job():  # a job started after a stop stops at once
            pytest.fail("a job ran after the stop")
    interrupts.reset()
    done = []
    with pytest.raises(interrupts.Interrupted):
        with interrupts.job():
            with interrupts.shielded():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
                done.append("shielded part")  # not cut short: the stop is raised at its end
            done.append("after the shield")
    assert done == ["shielded part"] and interrupts.requested() == signal.SIGINT


def test_outside_a_job_a_worker_only_notes_the_stop_and_the_job_list_ends(stop_state):
    jobs = interrupts.until_stopped(["a", "b", "c"])
    seen = []
    interrupts.worker_init()
    try:
        for j in jobs:
            seen.append(j)
            if j == "a":
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)  # no KeyboardInterrupt here
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    assert seen == ["a"] and len(jobs) == 3 and interrupts.requested() == signal.SIGINT
