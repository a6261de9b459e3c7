"""The run record's schema: written with only the outcome's keys a run has, and read back the same; an older record
(no version) through its converter; a version this code does not know refused, never guessed."""

from __future__ import annotations

import json

import pytest

from ablation.run.record import EXPORTED, RUN_FILES, VERSION, Record, read


def test_each_outcome_writes_the_keys_it_always_wrote_and_reads_back_the_same():
    base = {"run_id": "0123456789ab", "factors": {"head": "subtract"}, "identity": {"code": "c"}, "code": "c"}
    skipped = Record(status="skipped", reason="does not apply", **base).to_json()
    assert "reason" in skipped and not {"metrics", "error", "device", "bundle"} & set(skipped)
    failed = Record(status="failed", error="RuntimeError: boom", **base).to_json()
    assert failed["error"] and not {"metrics", "reason", "device"} & set(failed)
    trained = Record(status="completed", metrics={"test_acc": 0.9}, device="cpu", **base).to_json()
    assert trained["error"] is None and "bundle" not in trained and trained["version"] == VERSION
    for rec in (skipped, failed, trained):
        assert Record.from_json(json.loads(json.dumps(rec))).to_json() == rec


def test_a_record_without_a_version_is_read_by_its_converter(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps(
        {"status": "completed", "factors": {"head": "sum"}, "traits": {"bounded": True, "additive": True},
         "identity": {"code": "abc"}}))
    rec = read(tmp_path)
    assert rec.factors == {"optimizer": "rmsprop", "schedule": "none", "head": "sum"}  # before the recipe was a factor
    assert rec.traits == {"bounded": True}  # a declared structure is not taken: it is measured
    assert rec.code == "abc" and not rec.verifiable


def test_a_record_of_an_unknown_version_is_refused(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps({"status": "completed", "version": VERSION + 1}))
    assert read(tmp_path) is None
    with pytest.raises(ValueError, match="version"):
        Record.from_json({"status": "completed", "version": VERSION + 1})


def test_the_export_copies_the_run_files_but_the_image_views():
    assert set(EXPORTED) == (set(RUN_FILES) - {"views.csv.gz"}) | {"metrics.json"}
