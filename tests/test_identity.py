"""A run's identity covers what decides its result: the config, the data's content and the training code."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FAST, ROOT, make_cfg, write_idx_dataset

from ablation.identity import TRAINING_MODULES, code_fingerprint, identity, run_id, source_fingerprint

TRAIN_SRC = (ROOT / "ablation" / "train.py").read_text()


def test_comments_docstrings_and_layout_do_not_change_the_code_fingerprint():
    reworded = TRAIN_SRC.replace('"""Training: a plain PyTorch loop', '"""Training, reworded: a plain PyTorch loop', 1)
    reworded = reworded.replace("def train(", "# a new comment\n\n\ndef train(", 1)
    assert reworded != TRAIN_SRC
    assert source_fingerprint(reworded) == source_fingerprint(TRAIN_SRC)


def test_a_code_change_changes_the_code_fingerprint():
    changed = TRAIN_SRC.replace("perm = torch.randperm(n, generator=generator)",
                                "perm = torch.randperm(n, generator=generator).flip(0)", 1)
    assert changed != TRAIN_SRC
    assert source_fingerprint(changed) != source_fingerprint(TRAIN_SRC)


def _package_imports(module: str) -> set[str]:
    path = ROOT / (module.replace(".", "/") + ".py")
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is None:  # from . import x
            found.update(f"ablation.{a.name}" for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 1:
            found.add(f"ablation.{node.module}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ablation."):
            found.add(node.module)
    return found


def test_every_module_the_training_imports_is_fingerprinted():
    seen, todo = set(), ["ablation.train"]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo += sorted(_package_imports(m))
    assert seen <= set(TRAINING_MODULES), f"fingerprint these too: {sorted(seen - set(TRAINING_MODULES))}"
    assert "ablation.report" not in " ".join(TRAINING_MODULES)  # rewording the report never retrains


def test_a_user_component_module_is_part_of_the_code():
    assert code_fingerprint(["helpers.faulty.Exploding"]) != code_fingerprint([])


def test_data_identity_is_the_content_not_the_folder(tmp_path):
    write_idx_dataset(tmp_path / "a", seed=0)
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    write_idx_dataset(tmp_path / "c", seed=1)
    ids = {k: run_id(make_cfg("data=mnist", f"data.root={tmp_path / k}", *FAST)) for k in "abc"}
    assert ids["a"] == ids["b"]  # the same files elsewhere: the same run
    assert ids["a"] != ids["c"]  # other files at a similar path: another run
    ident = identity(make_cfg("data=mnist", f"data.root={tmp_path / 'a'}", *FAST))
    assert "data.root" not in ident and len(ident["data.content"]) == 16


def _sweep(pkg_root: Path, results: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ablation.sweep", "-m", "head=subtract,absdiff", *FAST,
                           f"results_dir={results}", *extra], cwd=pkg_root, capture_output=True, text=True,
                          timeout=240, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(pkg_root), "HOME": str(Path.home())})


@pytest.mark.slow
def test_a_sweep_reuses_runs_across_a_comment_change_but_not_across_a_code_change(tmp_path):
    pkg = tmp_path / "checkout"
    shutil.copytree(ROOT / "ablation", pkg / "ablation", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "conf", pkg / "conf")
    shutil.copytree(ROOT / "hydra_plugins", pkg / "hydra_plugins", ignore=shutil.ignore_patterns("__pycache__"))
    results = tmp_path / "results"
    first = _sweep(pkg, results)
    assert first.returncode == 0, first.stderr
    assert "2 to train" in first.stdout

    train_py = pkg / "ablation" / "train.py"
    train_py.write_text(train_py.read_text().replace("def train(", "# reworded comment\ndef train(", 1))
    again = _sweep(pkg, results, "dry_run=true")
    assert "0 to train, 2 reused" in again.stdout, again.stdout + again.stderr

    train_py.write_text(train_py.read_text().replace("perm = torch.randperm(n, generator=generator)",
                                                     "perm = torch.randperm(n, generator=generator).flip(0)", 1))
    changed = _sweep(pkg, results, "dry_run=true")
    assert "2 to train, 0 reused" in changed.stdout, changed.stdout + changed.stderr
    assert len(list((results / "runs").iterdir())) == 2  # the old code's runs stay on disk
