"""Every sweep command in README.md and docs/*.md plans as written (a dry run: planning is where a command is
refused), in a folder holding what the docs tell the user to create first (their own module and config folder)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from conftest import ROOT
from helpers.planning import plan

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def blocks(doc: Path) -> list[tuple[str, str]]:
    return FENCE.findall(doc.read_text())


def sweep_commands() -> list[tuple[str, str]]:
    """(document, command) for every `python -m ablation.sweep` in a code block or inline code of the docs (a
    placeholder such as `...` or `<folder>` is prose, not a command)."""
    found = []
    for doc in DOCS:
        text = doc.read_text()
        code = [line for _, body in blocks(doc) for line in body.splitlines()] + re.findall(r"`([^`\n]+)`", text)
        for line in code:
            for part in line.split("#", 1)[0].split("&&"):
                part = part.strip()
                if part.startswith("python -m ablation.sweep") and "..." not in part and "<" not in part:
                    found.append((doc.name, part))
    return list(dict.fromkeys(found))


def user_files(folder: Path) -> None:
    """What the docs have the user write before their commands: a Python block that starts with `# <file>.py`, and
    the `mkdir ... && echo ... > file` lines."""
    for doc in DOCS:
        for lang, body in blocks(doc):
            first = body.splitlines()[0] if body else ""
            if lang == "python" and re.fullmatch(r"# [\w/]+\.py", first):
                (folder / first[2:]).write_text(body)
            for line in body.splitlines() if lang == "bash" else ():
                if line.startswith("mkdir -p ") and "&& echo " in line:
                    make, echo = line.split("&& echo ", 1)
                    (folder / make.split()[-1]).mkdir(parents=True, exist_ok=True)
                    text, target = echo.rsplit(">", 1)
                    (folder / target.strip()).write_text(shlex.split(text)[0] + "\n")


COMMANDS = sweep_commands()
PRESETS = ("+experiment=question", "+experiment=full")  # hundreds of runs to plan: seconds each, with the slow tests


def test_the_docs_have_sweep_commands():
    assert len(COMMANDS) >= 6 and any("--config-dir" in c for _, c in COMMANDS) and len(transcripts()) >= 3


@pytest.mark.parametrize("doc,command", [pytest.param(d, c, marks=[pytest.mark.slow] if any(p in c for p in PRESETS)
                                                       else []) for d, c in COMMANDS], ids=[c for _, c in COMMANDS])
def test_every_sweep_command_in_the_docs_plans_as_written(doc, command, tmp_path, monkeypatch):
    user_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    args = shlex.split(command)[3:]
    if "--config-dir" in args:  # the command line's --config-dir: first on Hydra's search path
        i = args.index("--config-dir")
        args[i : i + 2] = [f"hydra.searchpath=[file://{tmp_path / args[i + 1]}]"]
    args = [a for a in args if a not in ("-m", "--multirun")]
    jobs = plan(*args, f"results_dir={tmp_path / 'results'}")
    assert jobs and all(j.action in ("train", "skip") for j in jobs), doc


def transcripts() -> list[tuple[str, str]]:
    """(command, what it prints) for each `$ python -m ablation.sweep ...` line of a code block, and the lines after
    it up to the next `$`."""
    found = []
    for doc in DOCS:
        for _, body in blocks(doc):
            for chunk in re.split(r"^\$ ", body, flags=re.M)[1:]:
                command, *out = chunk.strip().splitlines()
                if command.startswith("python -m ablation.sweep"):
                    found.append((command, "\n".join(out)))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("command,printed", transcripts(), ids=[c for c, _ in transcripts()])
def test_every_refusal_shown_in_the_docs_is_what_the_command_prints(command, printed, tmp_path):
    from conftest import cli

    p = cli(*shlex.split(command)[3:], f"results_dir={tmp_path / 'results'}")
    assert p.returncode == 1 and p.stderr.strip() == printed, p.stderr
    assert not (tmp_path / "results").exists()
