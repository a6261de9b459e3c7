"""Another revision of this repository beside this checkout, for the benchmarks that time both alternately."""

from __future__ import annotations

import statistics
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def worktree(ref: str) -> Iterator[Path]:
    """`ref` checked out (detached) into a temporary git worktree, removed again afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench_") as tmp:
        path = Path(tmp) / "old"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), ref], check=True,
                       capture_output=True)
        try:
            yield path
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], capture_output=True)


def verdict(times: dict[str, list[float]], ref: str | None, limit: float) -> int:
    """Print each checkout's median, the ratio this / ref (when there is a ref) and the target; 0 if it is met."""
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in med.items():
        print(f"median {k}: {v:.2f} s")
    if ref:
        print(f"ratio this / {ref}: {med['this checkout'] / med[ref]:.2f}")
    ok = med["this checkout"] <= limit
    print(f"target ≤ {limit:g} s: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1
