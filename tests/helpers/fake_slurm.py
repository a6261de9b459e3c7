"""A stand-in for SLURM's commands on one machine, enough for submitit's SLURM executor (the `slurm` preset):
`sbatch` (job arrays with `--array=0-N%P`, at most FAKE_SLURM_CPUS tasks at a time), `srun`, `sacct`,
`scancel`. The batch script submitit writes runs as it would on a node, with SLURM's environment variables.

Used by the tests through wrappers named after the commands (see `install`); state lives in FAKE_SLURM_DIR.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = ("sbatch", "srun", "sacct", "scancel")


def install(bin_dir: Path) -> None:
    """Write one executable wrapper per command into `bin_dir` (put it first on PATH)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in COMMANDS:
        w = bin_dir / name
        w.write_text(f"#!/bin/sh\nexec {sys.executable} {Path(__file__).resolve()} {name} \"$@\"\n")
        w.chmod(0o755)


def state_dir() -> Path:
    d = Path(os.environ["FAKE_SLURM_DIR"])
    d.mkdir(parents=True, exist_ok=True)
    return d


def sbatch(args: list[str]) -> int:
    script = Path(args[-1]).resolve()
    text = script.read_text()
    m = re.search(r"^#SBATCH --array=(\d+)-(\d+)(?:%(\d+))?", text, re.M)
    first, last, par = (int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)) if m else (0, 0, 1)
    d = state_dir()
    for _ in range(1000):  # a fresh job id
        jid = 1000 + len(list(d.glob("job_*")))
        try:
            (d / f"job_{jid}").mkdir()
            break
        except FileExistsError:
            continue
    tasks = list(range(first, last + 1)) if m else [None]
    for t in tasks:
        (d / f"{jid}_{t}" if t is not None else d / str(jid)).write_text("PENDING")
    subprocess.Popen([sys.executable, __file__, "_run", str(jid), str(script), str(par), *map(str, tasks)],
                     cwd=os.getcwd(), start_new_session=True, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"Submitted batch job {jid}")
    return 0


def _run(args: list[str]) -> int:
    """The scheduler for one submission: its tasks, at most min(%P, FAKE_SLURM_CPUS) at a time."""
    jid, script, par, tasks = args[0], args[1], int(args[2]), args[3:]
    slots = max(1, min(par, int(os.environ.get("FAKE_SLURM_CPUS", "2"))))
    d = state_dir()
    running: dict[str, subprocess.Popen] = {}
    queue = list(tasks)
    deadline = time.time() + 3600
    while (queue or running) and time.time() < deadline:
        while queue and len(running) < slots:
            t = queue.pop(0)
            env = {**os.environ, "SLURM_JOB_ID": f"{jid}{t if t != 'None' else ''}", "SLURM_NTASKS": "1",
                   "SLURM_JOB_NUM_NODES": "1", "SLURM_NODEID": "0", "SLURM_PROCID": "0", "SLURM_LOCALID": "0",
                   "SLURM_JOB_NODELIST": "localhost"}
            if t != "None":
                env.update(SLURM_ARRAY_JOB_ID=jid, SLURM_ARRAY_TASK_ID=t)
            name = f"{jid}_{t}" if t != "None" else jid
            (d / name).write_text("RUNNING")
            running[name] = subprocess.Popen(["bash", script], env=env, stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for name, p in list(running.items()):
            if p.poll() is not None:
                (d / name).write_text("COMPLETED" if p.returncode == 0 else "FAILED")
                del running[name]
        time.sleep(0.2)
    return 0


def srun(args: list[str]) -> int:
    out = err = None
    i = 0
    while i < len(args) and args[i].startswith("-"):
        if args[i] in ("--output", "--error"):
            out, err = (args[i + 1], err) if args[i] == "--output" else (out, args[i + 1])
            i += 2
        else:
            i += 1
    env = os.environ

    def expand(p: str) -> str:
        return (p.replace("%A", env.get("SLURM_ARRAY_JOB_ID", env["SLURM_JOB_ID"]))
                 .replace("%a", env.get("SLURM_ARRAY_TASK_ID", "0")).replace("%j", env["SLURM_JOB_ID"])
                 .replace("%t", "0"))

    fo = open(expand(out), "a") if out else None
    fe = open(expand(err), "a") if err else fo
    return subprocess.call(args[i:], stdout=fo, stderr=fe)


def sacct(args: list[str]) -> int:
    ids = [args[i + 1] for i, a in enumerate(args) if a == "-j"]
    print("JobID|State|NodeList")
    d = state_dir()
    for jid in ids:
        for f in sorted(d.glob(f"{jid}_*")) + ([d / jid] if (d / jid).is_file() else []):
            print(f"{f.name}|{f.read_text().strip()}|localhost")
    return 0


if __name__ == "__main__":
    cmd, rest = sys.argv[1], sys.argv[2:]
    sys.exit({"sbatch": sbatch, "srun": srun, "sacct": sacct, "_run": _run,
              "scancel": lambda a: 0}[cmd](rest))
