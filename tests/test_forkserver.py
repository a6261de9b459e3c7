"""`cli` forks a command from the warm interpreter only where a fresh interpreter would import the same modules:
a user's folder put first on the path is forked, unless something in it would stand in for a module the warm
interpreter imported before the command."""

from __future__ import annotations

import pytest
from conftest import cli

pytestmark = pytest.mark.slow  # processes of their own

WHERE = "import sys\nimport pandas\nprint('torch' in sys.modules, pandas.__file__)\n"


@pytest.mark.parametrize("cwd", ["project", "elsewhere"])
def test_a_users_folder_is_forked_unless_it_shadows_a_module_already_imported(tmp_path, cwd):
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
