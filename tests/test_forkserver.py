"""`cli`'s forked commands behave as fresh interpreters: a command is forked only where a fresh interpreter would
import the same modules (a user's folder put first on the path is, unless something in it would stand in for a
module imported before the command), and it ends as one would; a command `start`ed in a session of its own takes
SIGINT and SIGTERM as one would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import cli, start

pytestmark = pytest.mark.slow  # processes of their own

WHERE = "import sys\nimport pandas\nprint('torch' in sys.modules, pandas.__file__)\n"


@pytest.mark.parametrize("cwd", ["project", "elsewhere"])
def test_a_users_folder_is_forked_unless_it_shadows_a_module_already_imported(tmp_path, cwd):
    if os.environ.get("TESTS_FRESH_PROCESS") == "1":
        pytest.skip("TESTS_FRESH_PROCESS=1: every command runs in a fresh interpreter")
    proj, elsewhere = tmp_path / "proj", tmp_path / "elsewhere"
    proj.mkdir()
    elsewhere.mkdir()
    (proj / "where.py").write_text(WHERE)
    run = lambda: cli(module="where", cwd=proj if cwd == "project" else elsewhere, path=(proj,))  # noqa: E731
    p = run()
    assert p.returncode == 0, p.stderr
    warm, pandas = p.stdout.split()
    assert warm == "True" and pandas != str(proj / "pandas.py")  # forked: torch was there before the command
    (proj / "pandas.py").write_text("")  # the user's own pandas: what a fresh interpreter imports
    p = run()
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["False", str(proj / "pandas.py")]  # a fresh interpreter ran it


ENDING = '''import atexit, sys, threading, time
atexit.register(lambda: print("atexit ran"))
threading.Thread(target=lambda: (time.sleep(0.2), print("thread joined"))).start()
print("buffered", end=" ")
how = sys.argv[1]
if how == "code":
    sys.exit(3)
if how == "message":
    sys.exit("refused: in one line")
if how == "bug":
    raise ValueError("a real bug")
if how == "negative":
    sys.exit(-2)
if how == "interrupted":
    raise KeyboardInterrupt
'''


@pytest.mark.parametrize("how", ["returns", "code", "message", "bug", "negative", "interrupted"])
def test_a_forked_command_ends_as_a_fresh_interpreter_would(tmp_path, how):
    """Exit code, what it printed (buffered output, a thread joined, atexit handlers) and its traceback."""
    (tmp_path / "ending.py").write_text(ENDING)
    forked = cli(how, module="ending", cwd=tmp_path, path=(tmp_path,))
    fresh = subprocess.run([sys.executable, "-m", "ending", how], cwd=tmp_path, capture_output=True, text=True,
                           timeout=60)
    assert (forked.returncode, forked.stdout) == (fresh.returncode, fresh.stdout)
    assert fresh.stdout == "buffered thread joined\natexit ran\n"
    assert forked.stderr.splitlines()[-1:] == fresh.stderr.splitlines()[-1:]
    assert ("Traceback" in forked.stderr) == ("Traceback" in fresh.stderr) == (how in ("bug", "interrupted"))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_started_command_takes_a_signal_to_its_group_as_a_fresh_interpreter_would(tmp_path, sig):
    """SIGINT: KeyboardInterrupt's traceback, the atexit handlers, then the end by SIGINT; SIGTERM: killed at once."""
    ends = []
    for fresh in (False, True):
        out, err = tmp_path / f"out-{fresh}", tmp_path / f"err-{fresh}"
        p = start(out=out, err=err, fresh=fresh, session=True, module="helpers.signalled")
        deadline = time.monotonic() + 60
        while "ready" not in out.read_text() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert os.getsid(p.pid) == os.getpgid(p.pid) == p.pid  # a session and process group of its own
        os.killpg(p.pid, sig)
        ends.append((p.wait(timeout=60), out.read_text(), err.read_text().splitlines()[-1:]))
    assert ends[0] == ends[1]
    assert ends[1][0] == -sig and ends[1][1] == ("ready\natexit ran\n" if sig == signal.SIGINT else "ready\n")
