"""What a process of this package does at its exit.

Python's exit collects every object still alive: with torch, pandas and Hydra imported, several million, about a
second of each command's time (and of each parallel worker's, which the sweep waits for). Everything this package
writes is written and closed before then, and no object of ours needs a collection to finish its work, so the
objects are frozen instead (`gc.freeze`): left to the process's end, as the operating system frees them anyway."""

from __future__ import annotations

import atexit
import gc

_registered: list[bool] = []


def exit_without_collecting() -> None:
    """At this process's exit (after the exit handlers registered before this one), skip the final collection."""
    if not _registered:
        _registered.append(True)
        atexit.register(gc.freeze)
