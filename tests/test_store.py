"""Run-folder files: all or nothing, and with a normal file's permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ablation.run.record import read_metrics
from ablation.store import atomic, write_json


def test_written_files_follow_the_umask(tmp_path: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    write_json(tmp_path / "metrics.json", {"status": "completed"})
    # not mkstemp's private 0600: others may read results, as with any file the user writes
    assert stat.S_IMODE((tmp_path / "metrics.json").stat().st_mode) == 0o666 & ~umask


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    write_json(path, {"status": "completed", "test_acc": 0.9})

    def half_written(tmp: str) -> None:
        Path(tmp).write_text('{"status": "comp')
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic(path, half_written)
    assert read_metrics(tmp_path) == {"status": "completed", "test_acc": 0.9}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]
