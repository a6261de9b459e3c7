"""What every plot shares: the theme, the t interval as a seaborn errorbar, the chance line, a panel grid, and
the columns that place a run in a panel.

Single-panel figures use matplotlib's constrained layout; the panel grids are laid out by fixed margins (`grid`),
and nothing is saved with `bbox_inches="tight"`: fitting the layout was most of the report's run time.
"""

from __future__ import annotations

import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from ..judge import mean_ci  # noqa: E402
from ..select import Context  # noqa: E402
from ..words import plural  # noqa: E402

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
    return plural(int(n.min()), "seed") if n.min() == n.max() else f"{n.min()}–{n.max()} seeds"


MARKERS = ("o", "X", "s", "^", "D", "v", "P", "*", "<", ">")  # with colour, up to 10 lines or groups stay apart


def palette(n: int) -> list:
    """n colours that stay apart: the 10 of tab10, more from husl."""
    return sns.color_palette("tab10" if n <= 10 else "husl", n)


CHAR_WIDTH = 0.6  # a character's mean width in DejaVu Sans, in units of the font size (a little generous)


def points(size: object) -> float:
    """A font size (10, "large", ...) in points."""
    return FontProperties(size=size).get_size_in_points()


def wrap(text: str, inches: float, size: object) -> str:
    """Text wrapped, line by line, to fit `inches` at font size `size`: a title never runs past the canvas."""
    per_line = max(12, int(inches * 72 / (points(size) * CHAR_WIDTH)))
    text = text.replace(" %", "\u00a0%")  # a number keeps its unit (textwrap breaks only at ASCII spaces)
    return "\n".join(textwrap.fill(line, per_line, break_on_hyphens=False) or line for line in text.split("\n"))


def lines(text: str) -> int:
    return text.count("\n") + 1


def title(fig: plt.Figure, text: str, inches: float | None = None) -> None:
    """The figure's title, wrapped to its width (for figures laid out by constrained layout)."""
    fig.suptitle(wrap(text, (inches or fig.get_figwidth()) - 0.3, plt.rcParams["figure.titlesize"]))


def below(fig: plt.Figure, handles: list, labels: list[str], cols: int | None = None, **kw) -> None:
    """A legend under the plot, never on it (for figures laid out by constrained layout)."""
    fig.legend(handles, labels, loc="outside lower center", ncol=cols or max(1, min(len(labels), 3)), frameon=False, **kw)


def grid(n: int, width: float, height: float, cols: int = 3, title_lines: int = 2, top_lines: int = 2,
         bottom: float = 0.0, xticks: float = 0.55, suptitle: str = "", panel_titles: list[str] | None = None,
         panel_size: object = None, **kw) -> tuple[plt.Figure, list[plt.Axes]]:
    """n panels in rows of `cols` (unused cells hidden), each `width` × `height` inches with its title, laid out by
    fixed margins: the titles (`title_lines` a panel, `top_lines` for the figure's), the x tick labels and label
    (`xticks` inches) and a legend `bottom` inches high have known sizes, so no layout engine has to fit them —
    fitting was most of the time of saving a many-panel figure. `suptitle` and `panel_titles` are wrapped to the
    figure's and a panel's width first, and the margins grow with their lines."""
    cols = min(cols, n)
    rows = -(-n // cols)
    left, right, gap_w = 1.05, 0.2, 0.75  # inches; between two columns: tick labels, y label
    axes_w = (width * cols - left - right - gap_w * (cols - 1)) / cols
    if suptitle:
        suptitle = wrap(suptitle, width * cols - 0.3, plt.rcParams["figure.titlesize"])
        top_lines = max(top_lines, lines(suptitle))
    if panel_titles:
        size = panel_size or plt.rcParams["axes.titlesize"]
        panel_titles = [wrap(t, axes_w + 0.4, size) for t in panel_titles]
        title_lines = max(title_lines, *(lines(t) * points(size) / 10 for t in panel_titles))
    title = 0.19 * title_lines  # inches: a panel's title
    gap_h = title + 0.2 + xticks  # between two rows: the lower panel's title, the upper one's x tick labels
    top, foot = 0.35 + 0.27 * top_lines + title, 0.1 + xticks + bottom
    axes_h = height - gap_h
    fig_h = rows * axes_h + (rows - 1) * gap_h + top + foot
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, fig_h), squeeze=False, **kw)
    fig.subplots_adjust(left=left / (width * cols), right=1 - right / (width * cols), top=1 - top / fig_h,
                        bottom=foot / fig_h, hspace=gap_h / axes_h, wspace=gap_w / axes_w)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    if suptitle:
        fig.suptitle(suptitle)
    for ax, t in zip(flat, panel_titles or []):
        ax.set_title(t, fontsize=panel_size)
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
                   ncol=min(len(entries), kw.pop("ncol", 4)), frameon=False, **{"markerscale": 2, **kw})


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
