"""A command's process leaves its objects uncollected at exit (gc.freeze): the exit then takes a fraction of the
second that collecting torch's, pandas' and Hydra's objects takes, and everything written before is intact."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT, subprocess_path

CODE = """
import atexit, gc, sys
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0, flush=True))  # runs after the freeze
import ablation.process as p
if sys.argv[1] == "yes":
    p.exit_without_collecting()
    p.exit_without_collecting()  # once per process, however often asked
print("handlers:", len(p._registered), flush=True)
"""


@pytest.mark.slow  # a fresh interpreter
def test_a_process_that_asks_leaves_its_objects_frozen_at_exit_and_one_that_does_not_collects_them():
    for asked, frozen in (("yes", True), ("no", False)):
        p = subprocess.run([sys.executable, "-c", CODE, asked], cwd=ROOT, env={**subprocess_path(), "PATH": "/usr/bin"},
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert p.stdout.splitlines() == [f"handlers: {int(frozen)}", f"frozen at exit: {frozen}"]
