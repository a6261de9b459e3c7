"""Every command a small off-preset report suggests runs as pasted: each one, with `dry_run=true` and a results
folder of its own, plans its grid and exits 0. A user's head from their own config folder: the command names the
folder its runs recorded, never a placeholder."""

from __future__ import annotations

import re
import shlex

import pytest
from conftest import FAST, cli

pytestmark = pytest.mark.slow  # a tiny sweep, then one dry run per suggested command

HEAD = '''
from ablation.heads import Sum


class Mine(Sum):  # a user's head: the sum's merge, from their own module
    name = "mine"
    label = "my sum"
'''


def test_every_suggested_command_runs_as_pasted(tmp_path):
    proj = tmp_path / "proj"
    (proj / "my_conf" / "head").mkdir(parents=True)
    (proj / "my_heads.py").write_text(HEAD)
    (proj / "my_conf" / "head" / "mine.yaml").write_text("_target_: my_heads.Mine\nhidden: 128\n")
    run = lambda module, *a, cwd=proj: cli(*a, module=module, cwd=cwd, path=(proj,), timeout=300)  # noqa: E731
    p = run("ablation.sweep", "-m", "--config-dir", "my_conf", "head=distance,subtract,mine", "seed=0", *FAST,
            "progress=false")
    assert p.returncode == 0, p.stderr
    r = run("ablation.report", "plots=false")
    assert r.returncode == 0, r.stderr
    text = (proj / "results" / "report" / "report.md").read_text()
    commands = list(dict.fromkeys(re.findall(r"`(python -m ablation\.sweep [^`]+)`", text)))
    listed = re.findall(r"^\d+\. `(python -m ablation\.sweep [^`]+)`", text, flags=re.M)
    assert len(listed) >= 5 and len(listed) == len(set(listed))  # the list of what is missing: each command once
    assert not [c for c in commands if "<" in c or ">" in c]  # no placeholder a shell would take for a redirect
    assert any(f"--config-dir={proj / 'my_conf'}" in c and "head=" in c and "mine" in c for c in listed), listed
    assert "+experiment=question train.epochs" not in text  # never the 60-run preset for a few cells
    runs = sorted(p.name for p in (proj / "results" / "runs").iterdir())
    elsewhere = tmp_path / "elsewhere"  # pasted in another folder: the recorded config folder is absolute
    elsewhere.mkdir()
    for cmd in commands:
        if "data.root=" in cmd or "hydra/launcher=parallel" in cmd:
            continue  # the full-MNIST and whole-study commands: not this grid's gaps
        for one in cmd.split(" && "):
            args = shlex.split(one, comments=True)[2:]  # after `python -m`
            # the runs of the sweep above: what the command would add to (and the dry run's time is measured by)
            d = run(*args, "dry_run=true", f"results_dir={proj / 'results'}", "progress=false", cwd=elsewhere)
            assert d.returncode == 0, (one, d.stderr[-2000:])
            assert "estimated time on this machine" in d.stdout, (one, d.stdout[-2000:])
    assert sorted(p.name for p in (proj / "results" / "runs").iterdir()) == runs  # a dry run writes no run
