"""A Ray cluster on 127.0.0.1 for the tests, started with `ray start --head --block` in a folder of the test's choice
and stopped by signalling that process (and only it)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

RAY_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # Ray's single-machine mode: every address is 127.0.0.1
    "RAY_USAGE_STATS_ENABLED": "0",
    # `ray start` (Ray 2.60) turns token authentication on and keeps the token in ~/.ray/auth_token; a driver
    # connects only in the same mode
    "RAY_AUTH_MODE": "token",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def short_tmp() -> str:
    """A fresh folder under /tmp with a short name: Ray's socket paths must fit in 107 characters."""
    return tempfile.mkdtemp(prefix="ray", dir="/tmp")


@contextlib.contextmanager
def cluster(cwd: Path, pythonpath: list[str], port: int | None = None, cpus: int = 2) -> Iterator[str]:
    """A running cluster started in `cwd` (its workers start there); yields its address. Bounded: 90 s to start."""
    port = port or free_port()
    tmp = short_tmp()
    env = {**os.environ, **RAY_ENV, "PYTHONPATH": os.pathsep.join([*pythonpath, os.environ.get("PYTHONPATH", "")])}
    env.pop("RAY_ADDRESS", None)
    head = subprocess.Popen(
        ["ray", "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={port}", f"--num-cpus={cpus}",
         "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={tmp}"],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    address = f"127.0.0.1:{port}"
    try:
        for _ in range(180):  # bounded: 90 s
            if head.poll() is not None:
                pytest.fail(f"ray start exited {head.returncode}: {head.stderr.read()[-2000:]}")
            if (Path(tmp) / "ray_current_cluster").exists() or list(Path(tmp).glob("session_*/node_ip_address.json")):
                break
            time.sleep(0.5)
        else:
            pytest.fail("ray start: the cluster was not up after 90 s")
        yield address
    finally:
        head.send_signal(signal.SIGTERM)  # `ray start --block` stops the processes it started
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
