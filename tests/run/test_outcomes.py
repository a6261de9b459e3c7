"""Each run's outcome is its own: a run written before a later member of its bundle failed is finished, and a failure
every later run would meet (a full disk) is said once, in words, with what to do."""

from __future__ import annotations

import errno
import re
import subprocess
from pathlib import Path

import pytest
from conftest import FAST, TINY, cli, make_cfg

from ablation import store
from ablation.config import run_id
from ablation.run.job import members as bundle_members
from ablation.run.outcomes import outcome
from ablation.run.plan import Job
from ablation.run.record import file_record, is_final, read_metrics
from ablation.run.worker import execute_bundle

FULL = "no space left under {}: free space and rerun to resume"


def test_a_run_written_before_the_disk_filled_is_finished_and_the_next_is_left_unfinished(tmp_path, monkeypatch):
    base = make_cfg("head=absdiff", *TINY, f"results_dir={tmp_path / 'results'}", "progress=false",
                    "+bundle_seeds=[0,1,2]")
    cfgs, overrides = bundle_members(base, ["head=absdiff", "+bundle_seeds=[0,1,2]"])
    ids = [run_id(c) for c in cfgs]
    real = store.atomic
    full = []

    def disk(path: Path, write) -> None:  # fills up as the third run's results are written
        if path.parent.name == ids[2] and path.name != "config.yaml":
            full.append(path.name)
        if full:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, write)

    monkeypatch.setattr(store, "atomic", disk)
    summaries = execute_bundle(cfgs, overrides)
    assert [s["status"] for s in summaries] == ["completed", "completed", "failed"]
    assert summaries[2]["errno"] == errno.ENOSPC and "No space left" in summaries[2]["error"]
    folders = [tmp_path / "results" / "runs" / i for i in ids]
    assert is_final(folders[0]) and is_final(folders[1])
    assert not (folders[2] / "metrics.json").exists()  # nothing recorded: unfinished, a rerun trains it
    assert len((folders[2] / "attempts.jsonl").read_text().splitlines()) == 1  # a full disk is not retried


def test_a_lost_job_is_charged_only_to_its_unfinished_runs(tmp_path):
    done, lost = tmp_path / "done", tmp_path / "lost"
    store.write_text(done / "history.csv", "epoch\n1\n")
    store.write_json(done / "metrics.json", {"status": "completed", "metrics": {"test_acc": 0.9},
                                             "files": file_record(done)})
    err = OSError(errno.ENOSPC, "No space left on device")
    assert outcome(Job([], "done", "train", folder=done), err)["status"] == "completed"
    assert outcome(Job([], "lost", "train", folder=lost), err) == {
        "run_id": "lost", "status": "failed", "error": repr(err), "errno": errno.ENOSPC}
    assert "errno" not in outcome(Job([], "lost", "train", folder=lost), RuntimeError("worker died"))


@pytest.fixture
def small_disk(tmp_path):
    """A 400 KB tmpfs (root only): about five one-epoch runs fit."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mnt)], capture_output=True, text=True)
    if p.returncode:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {p.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


@pytest.mark.slow
def test_a_disk_that_fills_mid_sweep_is_said_once_and_the_summary_matches_the_folders(small_disk):
    results = small_disk / "results"
    args = ("-m", "head=absdiff,product", "seed=0,1,2,3", *FAST, f"results_dir={results}", "progress=false")
    p = cli(*args)
    assert p.returncode == 1
    finished = [f for f in (results / "runs").iterdir() if is_final(f)]
    assert 0 < len(finished) < 8
    done = re.search(r"sweep done in [\d.]+ s: (.*)", p.stdout).group(1)
    assert done == f"{len(finished)} completed, {8 - len(finished)} not finished"
    assert p.stderr.count("no space left") == 1 and FULL.format(results) in p.stderr
    assert "Traceback" not in p.stderr and "run(s) failed" not in p.stderr
    assert all(read_metrics(f)["status"] == "completed" for f in finished)
    subprocess.run(["mount", "-o", "remount,size=4m", str(small_disk)], check=True)  # space freed
    p = cli(*args)
    assert p.returncode == 0, p.stderr
    assert f"{8 - len(finished)} completed, {len(finished)} reused" in p.stdout
