"""What every plot shares: the theme, the t interval as a seaborn errorbar, the chance line, a panel grid.

Figures use matplotlib's constrained layout and are saved without `bbox_inches="tight"`: one layout pass
per figure instead of three, which is most of the report's run time.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from ablation.store import atomic  # noqa: E402

from .stats import mean_ci  # noqa: E402

sns.set_theme(style="whitegrid", context="notebook")
CHANCE_KW = {"color": "black", "linestyle": "--", "linewidth": 1.2}
DPI = 100


def t_interval(x: pd.Series) -> tuple[float, float]:
    """seaborn errorbar callable: the 95 % t interval over seeds (the one in the tables)."""
    ci = mean_ci(x)
    return (ci.lo, ci.hi) if ci.n > 1 else (ci.mean, ci.mean)


def chance_line(ax: plt.Axes, label: bool = True) -> None:
    ax.axhline(50, **CHANCE_KW, label="chance (50 %)" if label else None)


def seeds_text(n: pd.Series) -> str:
    return f"{n.min()} seeds" if n.min() == n.max() else f"{n.min()}–{n.max()} seeds"


def grid(n: int, width: float, height: float, cols: int = 3, **kw) -> tuple[plt.Figure, list[plt.Axes]]:
    """n panels in rows of `cols`; unused cells hidden."""
    cols = min(cols, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False, layout="constrained", **kw)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def save(fig: plt.Figure, path: str | Path) -> None:
    atomic(Path(path), lambda tmp: fig.savefig(tmp, dpi=DPI, format="png"))
    plt.close(fig)
