"""A warm interpreter for `cli`: it imports torch, Hydra and the sweep once, then forks a child per command.

Each child is a process of its own, as `python -m MODULE ARGS` would be: its own working folder, environment,
CPU affinity, stdin from /dev/null, stdout and stderr to files, `sys.argv` and `sys.path` as the interpreter sets
them, the module run as `__main__`, and its exit as the interpreter's shutdown would end it: an uncaught exception's
traceback, then non-daemon threads joined, atexit handlers run, stdout and stderr flushed, and the exit code. Only
the modules' final teardown is left out: it shows nothing a test could read, and in a forked child it copies every
page it touches (about a third of a second a command). Only the imports are shared: they were done before any
command ran, so no cache or state of the package carries over from one command to the next.

Protocol: once its imports are done, one JSON line on stdout ({"imported": [top-level module names]}: a command
whose path would find another module under one of these names needs a fresh interpreter); then one JSON request
a line on stdin, one JSON answer a line on stdout. A command is run to its end ({"code": N} or {"timeout": true}: it
was killed), or started ({"detach": true}, optionally {"session": true}: in a session of its own, as
`start_new_session` would) and answered with {"pid": N} at once; {"wait": N} then answers for it as a run would,
except that a timeout leaves it running (as `Popen.wait`).
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import runpy
import signal
import sys
import threading
import time
import traceback
from typing import NoReturn

# torch._dynamo: torch.optim imports it at an optimizer's first use (over a second); ablation.report: seaborn
PRELOAD = ("torch", "torch._dynamo", "numpy", "pandas", "scipy.stats", "hydra", "omegaconf", "ablation.sweep",
           "ablation.run.multirun", "ablation.report.build")


def child(req: dict, base_path: list[str], own_path: list[str]) -> NoReturn:
    """Become the command, and end as its process would."""
    if req.get("session"):
        os.setsid()
    fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(fd, 0)
    os.close(fd)
    for n, path in ((1, req["out"]), (2, req["err"])):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, n)
        os.close(fd)
    os.chdir(req["cwd"])
    os.environ.clear()
    os.environ.update(req["env"])
    if req.get("cpus") is not None:
        os.sched_setaffinity(0, req["cpus"])
    signal.signal(signal.SIGINT, signal.default_int_handler)
    wanted = [p for p in req["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:] = [req["cwd"], *wanted, *[p for p in base_path if p not in own_path]]
    sys.argv = [req["module"], *req["args"]]
    sys.modules.pop(req["module"], None)  # run as __main__ only; an import of it makes a second copy, as with -m
    try:
        runpy.run_module(req["module"], run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as e:
        code = exit_code(e.code)
    except KeyboardInterrupt:
        traceback.print_exc()
        shut_down(1, by=signal.SIGINT)  # the interpreter ends itself by the signal, after its shutdown
    except BaseException:
        sys.excepthook(*sys.exc_info())
        code = 1
    shut_down(code)


def exit_code(code: object) -> int:
    """SystemExit's code as the interpreter reads it: None is 0, an int is itself, anything else is printed and 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def shut_down(code: int, by: signal.Signals | None = None) -> NoReturn:
    """What Python's shutdown does that a process can see (threads, atexit, stdio), then the exit (`by` a signal)."""
    threading._shutdown()  # joins the non-daemon threads, as the interpreter does before its atexit handlers
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    if by is not None:
        signal.signal(by, signal.SIG_DFL)
        os.kill(os.getpid(), by)
    os._exit(code)


def serve() -> None:
    for module in PRELOAD:
        __import__(module)
    gc.freeze()  # what was imported is shared with every child: its collections then never touch (and copy) it
    own = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    own_path = [sys.path[0], *own]  # this script's folder and the server's PYTHONPATH entries
    base_path = list(sys.path)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the pytest process stops the server by closing its stdin
    answer = sys.stdout
    answer.write(json.dumps({"imported": sorted({name.split(".")[0] for name in sys.modules})}) + "\n")
    answer.flush()
    for line in sys.stdin:
        req = json.loads(line)
        if "wait" in req:
            reply = wait(req["wait"], req["timeout"])
        else:
            pid = os.fork()
            if pid == 0:
                child(req, base_path, own_path)
            if req.get("detach"):
                reply = {"pid": pid}
            else:
                reply = wait(pid, req["timeout"])
                if reply.get("timeout"):
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
        answer.write(json.dumps(reply) + "\n")
        answer.flush()


def wait(pid: int, timeout: float) -> dict:
    """{"code": the child's exit code} once it ends, or {"timeout": true} while it still runs after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return {"code": os.waitstatus_to_exitcode(status)}
        if time.monotonic() > deadline:
            return {"timeout": True}
        time.sleep(0.02)


if __name__ == "__main__":
    serve()
