"""What every plot shares: the theme, the t interval as a seaborn errorbar, the chance line, a panel grid, and
the columns that place a run in a panel.

Single-panel figures use matplotlib's constrained layout; the panel grids are laid out by fixed margins (`grid`),
and nothing is saved with `bbox_inches="tight"`: fitting the layout was most of the report's run time.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from ..judge import mean_ci  # noqa: E402
from ..select import Context  # noqa: E402

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


def grid(n: int, width: float, height: float, cols: int = 3, title_lines: int = 2, top_lines: int = 2,
         bottom: float = 0.0, xticks: float = 0.55, **kw) -> tuple[plt.Figure, list[plt.Axes]]:
    """n panels in rows of `cols` (unused cells hidden), each `width` × `height` inches with its title, laid out by
    fixed margins: the titles (`title_lines` a panel, `top_lines` for the figure's), the x tick labels and label
    (`xticks` inches) and a legend `bottom` inches high have known sizes, so no layout engine has to fit them —
    fitting was most of the time of saving a many-panel figure."""
    cols = min(cols, n)
    rows = -(-n // cols)
    title, gap_w = 0.19 * title_lines, 0.75  # inches: a panel's title; between two columns (tick labels, y label)
    gap_h = title + 0.2 + xticks  # between two rows: the lower panel's title, the upper one's x tick labels
    top, foot, left, right = 0.35 + 0.27 * top_lines + title, 0.1 + xticks + bottom, 1.05, 0.2
    axes_h, axes_w = height - gap_h, (width * cols - left - right - gap_w * (cols - 1)) / cols
    fig_h = rows * axes_h + (rows - 1) * gap_h + top + foot
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, fig_h), squeeze=False, **kw)
    fig.subplots_adjust(left=left / (width * cols), right=1 - right / (width * cols), top=1 - top / fig_h,
                        bottom=foot / fig_h, hspace=gap_h / axes_h, wspace=gap_w / axes_w)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    if kw.get("sharex") in (True, "all", "col"):  # a panel above a hidden cell is the last of its column
        for ax in flat[max(n - cols, 0) : (rows - 1) * cols]:
            ax.xaxis.set_tick_params(labelbottom=True)
    return fig, flat[:n]


def bottom_xlabel(axes: list[plt.Axes], label: str, cols: int = 3) -> None:
    """The x label once per column, under its lowest panel (a figure-wide label would sit on the legend)."""
    for i, ax in enumerate(axes):
        if i + min(cols, len(axes)) >= len(axes):
            ax.set_xlabel(label)


def figure_legend(fig: plt.Figure, axes: list[plt.Axes], **kw) -> None:
    """One legend below the panels for every label any panel has (instead of a legend per panel)."""
    entries: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    if entries:
        fig.legend(list(entries.values()), list(entries), loc="lower center", bbox_to_anchor=(0.5, 0.0),
                   ncol=min(len(entries), 4), frameon=False, markerscale=2, **kw)


def flag(df: pd.DataFrame, col: str) -> pd.Series:
    """A boolean column with NA (not measured, not declared) as False."""
    return df[col].astype("boolean").fillna(False).astype(bool) if col in df else pd.Series(False, index=df.index)


def extra_text(df: pd.DataFrame, extra: list[str] | tuple[str, ...], ctx: Context) -> list[str]:
    """Per row, the extra cell keys in words ('optimizer.lr=0.003'), '' without any: what splits a bar or panel further."""
    if not extra:
        return [""] * len(df)
    return [ctx.setting(dict(zip(extra, vals))) for vals in zip(*(df[k] for k in extra))]


def extra_order(df: pd.DataFrame, extra: list[str] | tuple[str, ...], ctx: Context) -> list[str]:
    if not extra:
        return [""]
    keys = df[list(extra)].drop_duplicates()
    keys = keys.sort_values(list(extra), key=lambda c: c.astype("string") if c.dtype == object else c, kind="stable")
    return list(dict.fromkeys(extra_text(keys, extra, ctx)))


def names(df: pd.DataFrame, factor: str, ctx: Context) -> list[str]:
    """A factor's levels in `df`, in reading order, in words."""
    return [ctx.name(factor, v) for v in ctx.words.levels(df[factor], factor)]
