"""A damaged run file (truncated, garbage, deleted) is found against its record's sizes and hashes: the report names
the run, the file and what it leaves out, and the sweep trains the run again, once."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import FAST, cli, records

from helpers.fakes import write_study

from ablation.report.build import make_report
from ablation.report.load import LEFT_OUT, load_runs, read_per_run
from ablation.run.record import RUN_FILES, damage, file_record, is_final, read_metrics

DAMAGED = ("config.yaml", "history.csv", "scores.csv.gz", "views.csv.gz")  # the files a completed run writes
KINDS = ("truncated", "garbage", "deleted")


def spoil(path: Path, kind: str) -> None:
    """Damage one file as a full disk, a stray editor or a clean-up script would."""
    if kind == "truncated":
        data = path.read_bytes()
        cut = len(data) // 2
        while data[cut - 1 : cut] == b"\n":  # cut inside a line, as a write cut short leaves it
            cut -= 1
        path.write_bytes(data[:cut])
    elif kind == "garbage":
        path.write_text("garbage\n")
    else:
        path.unlink()


def expected(kind: str) -> str:
    return {"truncated": "truncated", "garbage": "altered", "deleted": "deleted"}[kind]


def test_every_file_a_completed_run_writes_is_listed_in_its_record():
    assert set(DAMAGED) <= set(RUN_FILES) and set(LEFT_OUT) == set(RUN_FILES)


@pytest.mark.parametrize("kind", KINDS)
def test_damage_names_each_file_and_what_happened_to_it(tmp_path, kind):
    (folder,) = write_study(tmp_path / "results", cells=[{"head": "absdiff"}], seeds=1, n=200)
    rec = read_metrics(folder)
    assert set(rec["files"]) == set(DAMAGED)
    assert damage(folder, rec) == {} and damage(folder, rec, full=True) == {}
    for name in DAMAGED:
        spoil(folder / name, kind)
    assert damage(folder, rec) == {name: expected(kind) for name in DAMAGED}


def test_a_file_rewritten_in_place_is_found_by_its_hash(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "history.csv").write_text("epoch,loss\n1,0.25\n")
    rec = {"status": "completed", "files": file_record(folder)}
    (folder / "history.csv").write_text("epoch,loss\n1,0.99\n")  # same size, new modification time
    assert damage(folder, rec) == {"history.csv": "altered"}
    st = rec["files"]["history.csv"]
    os.utime(folder / "history.csv", ns=(st["mtime_ns"], st["mtime_ns"]))  # its old time put back
    assert damage(folder, rec) == {}  # the cheap check (the sweep's) trusts size and time ...
    assert damage(folder, rec, full=True) == {"history.csv": "altered"}  # ... the report hashes every file


def test_a_record_that_lists_no_files_is_taken_as_it_is(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "metrics.json").write_text(json.dumps({"status": "completed"}))
    assert is_final(folder) and damage(folder, read_metrics(folder)) == {}


@pytest.mark.parametrize("kind", KINDS)
def test_the_report_names_each_damaged_run_with_the_file_and_what_it_leaves_out(tmp_path, kind):
    results = tmp_path / "results"
    folders = write_study(results, cells=[{"head": "absdiff"}, {"head": "subtract"}], seeds=3, n=200)
    spoilt = dict(zip(DAMAGED, folders))  # one file of each kind, in four runs
    for name, folder in spoilt.items():
        spoil(folder / name, kind)
    loaded = load_runs(results)
    runs = loaded.runs.set_index("run_id")
    for name, folder in spoilt.items():
        assert runs.at[folder.name, "damaged"].startswith(f"{name} {expected(kind)}: {LEFT_OUT[name]}")
    assert runs["damaged"].notna().sum() == len(spoilt)
    # the figures read no damaged file: the others are read whole
    scores = read_per_run(loaded.runs_dir, [f.name for f in folders], "scores.csv.gz")
    assert set(scores["run_id"]) == {f.name for f in folders} - {spoilt["scores.csv.gz"].name}
    a, md = make_report(results, tmp_path / "report", plots=False)
    listed = md.read_text().split("## Runs not in the statistics")[1].split("##")[0]
    for name, folder in spoilt.items():
        assert folder.name in listed and f"{name} {expected(kind)}: {LEFT_OUT[name]}" in listed
    assert "score figures" in listed and "every run completed" not in listed
    assert a.runs["status"].eq("completed").all()  # their metrics still count: the records are intact


def test_a_report_says_when_runs_cannot_be_checked(tmp_path):
    results = tmp_path / "results"
    folders = write_study(results, cells=[{"head": "absdiff"}, {"head": "subtract"}], seeds=3, n=200)
    rec = json.loads((folders[0] / "metrics.json").read_text())
    del rec["files"]
    (folders[0] / "metrics.json").write_text(json.dumps(rec))
    _, md = make_report(results, tmp_path / "report", plots=False)
    assert "1 run was recorded before records listed their files' sizes and hashes" in md.read_text()


@pytest.mark.slow
def test_the_sweep_trains_a_damaged_run_again_once(results):
    args = ("-m", "head=absdiff", "seed=0,1,2,3", *FAST, f"results_dir={results}", "progress=false")
    p = cli(*args)
    assert p.returncode == 0, p.stderr
    first = records(results)
    for kind in KINDS:
        spoilt = dict(zip(DAMAGED, sorted(first)))  # one file of each kind, in the four runs
        for name, rid in spoilt.items():
            spoil(results / "runs" / rid / name, kind)
        p = cli(*args)
        assert p.returncode == 0, p.stderr
        assert "4 to train, 0 reused" in p.stdout and "4 completed" in p.stdout
        for name, rid in spoilt.items():
            assert f"redo: {name} {expected(kind)}" in p.stdout
        again = records(results)
        for rid, rec in again.items():  # the same results, recorded with their new files
            assert {k: v for k, v in rec["metrics"].items() if k != "wall_time_s"} == {
                k: v for k, v in first[rid]["metrics"].items() if k != "wall_time_s"}
            assert damage(results / "runs" / rid, rec, full=True) == {}
    p = cli(*args)  # once: the repaired runs are reused
    assert p.returncode == 0 and "0 to train, 4 reused" in p.stdout
    attempts = [len((results / "runs" / rid / "attempts.jsonl").read_text().splitlines()) for rid in first]
    assert attempts == [1 + len(KINDS)] * 4
    rec = json.loads((results / "runs" / sorted(first)[0] / "metrics.json").read_text())
    del rec["files"]  # a record from before records listed their files: reused, and said so
    (results / "runs" / sorted(first)[0] / "metrics.json").write_text(json.dumps(rec))
    (results / "runs" / sorted(first)[0] / "history.csv").write_text("garbage\n")
    p = cli(*args)
    assert p.returncode == 0 and "0 to train, 4 reused" in p.stdout
    assert "1 reused run(s) were recorded before records listed their files' sizes and hashes" in p.stdout
