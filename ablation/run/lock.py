"""Claims: each run is trained by one process at a time, whichever sweep, shell, SLURM task or Ray worker runs it.

A claim is the file `runs/<run_id>/.claim`, created with `O_CREAT | O_EXCL` (atomic on a local disk and on NFS v3
and later; `flock` is not honoured by every NFS setup). It names its holder: host, pid, the process's start time
(so that a reused pid is not taken for the holder), and when it was claimed. Its modification time is the holder's
heartbeat, refreshed every `claim_heartbeat_s` while the run trains. A claim is stale, and may be taken over, when
its holder is dead on this machine or its heartbeat is older than `claim_timeout_s` (the only sign of life that
reaches another host). The holder removes its claim on every exit but `kill -9`; see docs/runs.md.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

CLAIM = ".claim"
ATTEMPTS = "attempts.jsonl"  # one line per training started in the folder: who trained it, when


def settings(cfg: Any) -> tuple[Any, Any]:
    """The config's (claim_heartbeat_s, claim_timeout_s) as given (config.validate checks them), with the
    defaults of conf/config.yaml for a config that lacks them."""
    return cfg.get("claim_heartbeat_s", 30), cfg.get("claim_timeout_s", 600)


def timing(cfg: Any) -> tuple[float, float]:
    """(heartbeat, timeout) in seconds from a run's config: how often a holder refreshes its claim, and how old a
    heartbeat makes a claim abandoned."""
    beat, timeout = settings(cfg)
    return float(beat), float(timeout)


def _machine() -> str:
    """This kernel and pid namespace: a pid means the same process only where this is the same."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        return f"{boot}/{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        return ""


HOST, MACHINE = socket.gethostname(), _machine()


def _proc(pid: int) -> tuple[str, int] | None:
    """The state letter and start time (clock ticks since boot) of a process, from /proc (None: no such process)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": the comm may hold spaces
    return fields[0], int(fields[19])


@dataclass(frozen=True)
class Holder:
    """Who holds a claim."""

    host: str
    pid: int
    since: str  # when the claim was taken, local time
    token: str  # this claim's own name: a holder checks it is still the one on disk
    machine: str = ""
    start: int | None = None  # the process's start time, to tell it from a later process with the same pid

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}"

    def dead_here(self) -> bool:
        """True if the holder ran on this machine and its process is gone (exited, a zombie, or its pid reused).

        On another machine nothing is known: only the heartbeat's age tells."""
        if self.host != HOST or not MACHINE or not self.machine:
            return False
        if self.machine != MACHINE:  # same host name: rebooted since, or another pid namespace (a container)
            return self.machine.split("/")[0] != MACHINE.split("/")[0]
        proc = _proc(self.pid)
        return proc is None or proc[0] in "ZX" or (self.start is not None and proc[1] != self.start)


def this_process() -> Holder:
    """A new holder record for this process."""
    proc = _proc(os.getpid())
    return Holder(HOST, os.getpid(), time.strftime("%Y-%m-%d %H:%M:%S"), secrets.token_hex(8), MACHINE,
                  proc[1] if proc else None)


@dataclass(frozen=True)
class Seen:
    """A claim as found on disk: its holder (None while it is being written, or if it is corrupt) and its file."""

    holder: Holder | None
    age_s: float  # since the last heartbeat
    ino: int
    mtime_ns: int

    def stale(self, timeout_s: float) -> str | None:
        """Why this claim no longer protects a training, or None while it does."""
        if self.age_s > timeout_s:
            return f"no heartbeat for {self.age_s:.0f} s (claim_timeout_s={timeout_s:g})"
        if self.holder is not None and self.holder.dead_here():
            return f"its holder {self.holder} is no longer running"
        return None

    def words(self) -> str:
        """Who trains the run, for a person: 'being trained by host:pid since ...'."""
        h = self.holder
        return f"being trained by {h} since {h.since}" if h else "being claimed (its claim file is still being written)"


def look(folder: Path) -> Seen | None:
    """The claim on the run in `folder`, or None if there is none."""
    try:
        fd = os.open(folder / CLAIM, os.O_RDONLY)  # an open revalidates NFS's cached attributes (close-to-open)
    except FileNotFoundError:
        return None
    try:
        st = os.fstat(fd)
        raw = os.read(fd, 65536)
    finally:
        os.close(fd)
    try:
        holder: Holder | None = Holder(**json.loads(raw))
    except (ValueError, TypeError):
        holder = None
    return Seen(holder, time.time() - st.st_mtime, st.st_ino, st.st_mtime_ns)


class Claim:
    """A claim this process holds. Its file stays open: the heartbeat touches this very file, even if another
    process has meanwhile judged it stale and put its own claim in its place."""

    def __init__(self, folder: Path, holder: Holder, fd: int) -> None:
        self.folder, self.holder, self.fd = folder, holder, fd

    def beat(self) -> None:
        """Refresh the heartbeat (the file's modification time)."""
        try:
            os.utime(self.fd)
        except OSError:  # removed by a taker on another NFS client: held() says so before anything is written
            pass

    def held(self) -> bool:
        """Whether the claim on disk is still this one (not taken over as stale while this process stalled)."""
        seen = look(self.folder)
        return seen is not None and seen.holder is not None and seen.holder.token == self.holder.token

    def release(self) -> None:
        """Remove the claim if it is still this one; close its file."""
        if self.fd < 0:
            return
        mine = self.held()
        os.close(self.fd)
        self.fd = -1
        if mine:
            (self.folder / CLAIM).unlink(missing_ok=True)


def _create(folder: Path) -> Claim | None:
    """Create the claim file, or None if there is one already (O_EXCL: at most one creator wins)."""
    try:
        fd = os.open(folder / CLAIM, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o666)
    except FileExistsError:
        return None
    holder = this_process()
    try:
        os.write(fd, json.dumps(asdict(holder)).encode())
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        (folder / CLAIM).unlink(missing_ok=True)
        raise
    return Claim(folder, holder, fd)


def _remove_if_same(folder: Path, seen: Seen) -> None:
    """Remove the stale claim `seen`, unless another process replaced it since it was looked at.

    Moved aside first (rename is atomic), then compared: if what was moved is not `seen` (another taker put a
    fresh claim there meanwhile), it is linked back."""
    aside = folder / f"{CLAIM}.stale.{secrets.token_hex(4)}"
    try:
        os.rename(folder / CLAIM, aside)
    except FileNotFoundError:
        return  # removed by its holder or by another taker
    st = os.stat(aside)
    if (st.st_ino, st.st_mtime_ns) != (seen.ino, seen.mtime_ns):
        try:
            os.link(aside, folder / CLAIM)
        except OSError:  # a third process claimed it meanwhile: the one moved finds its claim gone (held())
            pass
    aside.unlink(missing_ok=True)


def acquire(folder: Path, timeout_s: float) -> Claim | Seen | None:
    """Claim the run in `folder` (taking over a stale claim); else the live claim that holds it.

    None when the claim changed hands too often to tell (a few tries): the caller looks again later."""
    folder.mkdir(parents=True, exist_ok=True)
    for _ in range(4):
        claim = _create(folder)
        if claim is not None:
            return claim
        seen = look(folder)
        if seen is None:
            continue  # released meanwhile
        if seen.stale(timeout_s) is None:
            return seen
        _remove_if_same(folder, seen)
    return None


def remove_if_dead(folder: Path) -> None:
    """Remove the claim on the run in `folder` if its holder is dead on this machine (a worker killed outright)."""
    seen = look(folder)
    if seen is not None and seen.holder is not None and seen.holder.dead_here():
        _remove_if_same(folder, seen)


def _beat_until(stop: threading.Event, claims: list[Claim], every_s: float) -> None:
    while not stop.wait(every_s):
        for c in claims:
            c.beat()


@contextmanager
def heartbeat(claims: Iterable[Claim], every_s: float) -> Iterator[None]:
    """Refresh the claims' heartbeat every `every_s` seconds on a background thread while the block runs."""
    stop = threading.Event()
    beater = threading.Thread(target=_beat_until, args=(stop, list(claims), every_s), name="claim-heartbeat",
                              daemon=True)
    beater.start()
    try:
        yield
    finally:
        stop.set()
        beater.join(timeout=10)


def wait_while_claimed(folder: Path, finished: Callable[[], bool], timeout_s: float, poll_s: float,
                       say: Callable[[str], None]) -> None:
    """Return once the run in `folder` is finished, or no live claim holds it (released unfinished, or stale: the
    caller then claims it). Says once per holder whom it waits for."""
    told: Any = ()
    while not finished():
        seen = look(folder)
        if seen is None or seen.stale(timeout_s):
            return
        if seen.holder != told:
            say(f"waiting for {folder.name}: {seen.words()}")
            told = seen.holder
        time.sleep(poll_s)
