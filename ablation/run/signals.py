"""Ctrl-C (SIGINT) and a scheduler's SIGTERM as clean, resumable stops.

In a process that runs jobs, the first signal raises `Interrupted` inside the job it is running. It is a
BaseException, so a run's failure isolation (`except Exception`) does not record it as that run's failure: the
job's claims are released on the way out and its unfinished runs stay unfinished on disk, for a rerun to redo.
Outside a job the signal only marks the process as stopping, and a job started later stops at once; claim files
are created and removed in `shielded()` sections, which a signal does not cut short. The sweep's own process also
passes SIGTERM on to its worker processes (a `kill <pid>` reaches it alone), stops handing jobs to the launcher
(`until_stopped`), and waits up to `GRACE_S` for the launcher to return before it stops waiting.
"""

from __future__ import annotations

import _thread
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

SIGNALS = (signal.SIGINT, signal.SIGTERM)
GRACE_S = 2.0  # how long the sweep waits for its workers to stop before it stops waiting for them

T = TypeVar("T")


class Interrupted(BaseException):
    """The process was asked to stop by SIGINT or SIGTERM."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as a shell reports a process stopped by it: 130 for SIGINT, 143 for SIGTERM."""
        return 128 + self.signum


@dataclass
class _State:
    signum: int | None = None  # the first stop signal received
    jobs: int = 0  # nesting depth of job() sections
    raised: bool = False  # Interrupted raised in the current job: once is enough
    shield: int = 0  # nesting depth of shielded() sections
    deferred: bool = False  # a raise held back by a shield
    sweep: bool = False  # this process runs the sweep
    launching: bool = False  # the sweep is waiting for its launcher
    stopping: bool = False  # Interrupted was raised in the sweep's process: it is stopping, once is enough
    timer: threading.Timer | None = None


_state = _State()


def requested() -> int | None:
    """The signal that asked this process to stop, or None."""
    return _state.signum


def stop_if_asked() -> None:
    """Raise Interrupted if a stop was asked for (the sweep, once its launcher has returned)."""
    if _state.signum is not None:
        _state.stopping = True
        raise Interrupted(_state.signum)


def reset() -> None:
    """Forget a stop (for a process that goes on after one, such as a test)."""
    global _state
    if _state.timer:
        _state.timer.cancel()
    _state = _State()


def _due(first: bool) -> bool:
    """Whether a stop raises now: inside a job (once); in the sweep's process outside a launch, or when its
    launcher did not return within GRACE_S (or a second signal came)."""
    if _state.jobs:
        return not _state.raised
    return _state.sweep and not _state.stopping and (not _state.launching or not first)


def _raise_if_due(first: bool) -> None:
    if _state.signum is None or not _due(first):
        return
    if _state.shield:
        _state.deferred = True
        return
    if _state.jobs:
        _state.raised = True
    else:  # the grace timer or another signal must not raise again while the sweep ends its workers
        _state.stopping = True
    raise Interrupted(_state.signum)


def _handler(signum: int, frame: Any) -> None:
    first = _state.signum is None
    if first:
        _state.signum = signum
        if _state.sweep:
            _stop_workers()
            _state.timer = threading.Timer(GRACE_S, _thread.interrupt_main, (signum,))  # calls this handler again
            _state.timer.daemon = True
            _state.timer.start()
    _raise_if_due(first)


def _signal_workers(signum: int) -> list[multiprocessing.process.BaseProcess]:
    """Send `signum` to this process's worker processes (joblib/loky's); returns them."""
    children = multiprocessing.active_children()
    for child in children:
        try:
            os.kill(child.pid, signum)
        except (ProcessLookupError, TypeError):
            pass
    return children


def end_workers() -> None:
    """SIGKILL this process's worker processes once they have stopped their jobs: idle, they hold no claim, and
    waiting for each to tear down torch would cost the stop a second or more."""
    for child in _signal_workers(signal.SIGKILL):
        child.join(timeout=5)


def _stop_workers() -> None:
    """SIGTERM to this process's worker processes, which stop their jobs as this process does."""
    _signal_workers(signal.SIGTERM)


def _install() -> dict[int, Any] | None:
    """This module's handlers for SIGINT and SIGTERM; the ones they replace (None: already installed, or not
    the main thread, where Python delivers signals)."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is _handler:
        return None
    old = {s: signal.getsignal(s) for s in SIGNALS}
    for s in SIGNALS:
        signal.signal(s, _handler)
    return old


def _restore(old: dict[int, Any] | None) -> None:
    for s, h in (old or {}).items():
        signal.signal(s, h)


def worker_init() -> None:
    """A worker process's start (loky's `initializer`): stop signals are handled from its first moment, so an idle
    worker neither prints a KeyboardInterrupt nor dies and breaks its pool.

    tqdm's default lock is a multiprocessing semaphore, which a worker killed outright (a launcher that did not
    stop within GRACE_S) leaves to the resource tracker's "leaked semaphore" warning; a worker's epoch bar is its
    own, so a thread lock serves."""
    _install()
    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())


@contextmanager
def job() -> Iterator[None]:
    """A job's section: a stop raises Interrupted here (at once if one was asked for already)."""
    old = _install()  # in a launcher's own worker (Ray, submitit): for this job only
    _state.jobs += 1
    try:
        if _state.signum is not None:
            _state.raised = True
            raise Interrupted(_state.signum)
        yield
    finally:
        _state.jobs -= 1
        if not _state.jobs:
            _state.raised = False
        _restore(old)


@contextmanager
def shielded() -> Iterator[None]:
    """A section a stop does not cut short (a claim being created or removed): it raises at its end instead."""
    _state.shield += 1
    try:
        yield
    finally:
        _state.shield -= 1
        if not _state.shield and _state.deferred:
            _state.deferred = False
            _raise_if_due(first=True)


@contextmanager
def sweeping() -> Iterator[None]:
    """The sweep's process: a stop raises Interrupted at once, except while `launching()`."""
    old = _install()
    _state.sweep = True
    try:
        yield
    finally:
        if _state.timer:
            _state.timer.cancel()
        _state.sweep = False
        _restore(old)


@contextmanager
def launching() -> Iterator[None]:
    """The sweep waits for its launcher: a first stop lets the workers stop their jobs and the launcher return."""
    _state.launching = True
    try:
        yield
    finally:
        _state.launching = False


class until_stopped(Sequence[T]):
    """A launcher's job list that ends early once a stop was asked for: no job is started after it."""

    def __init__(self, items: Sequence[T]) -> None:
        self.items = list(items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: Any) -> Any:
        return self.items[i]

    def __iter__(self) -> Iterator[T]:
        for item in self.items:
            if _state.signum is not None:
                return
            yield item


def exit_stopped(stop: Interrupted, finished: int, total: int | None) -> NoReturn:
    """The one line a stopped sweep prints (`total` None: stopped while planning), then its exit: 130 for SIGINT,
    143 for SIGTERM."""
    done = "before any run started" if total is None else f"{finished} of {total} runs finished"
    print(f"interrupted: {done}; rerun the same command to resume", file=sys.stderr, flush=True)
    raise SystemExit(stop.exit_code)
