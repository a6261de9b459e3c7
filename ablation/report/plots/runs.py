"""Figures from the runs table: every run's interaction against its accuracy, accuracy by head × depth, the
pair-order control, head × loss convention.

Each takes the measured runs of the report's context (plus per-run files it does not use) and returns a
matplotlib Figure, or None with nothing to show. Heads are chosen by measured structure, never by name.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from ablation.mechanism import ADDITIVE_TOL, BOUND, FIXED, SWAP_SYMMETRIC  # noqa: E402

from ..judge import mean_ci  # noqa: E402
from ..select import Context, around_baseline, structured, where  # noqa: E402
from ..words import plural  # noqa: E402
from .kit import (CHANCE_KW, MARKERS, below, chance_line, extra_order, extra_text, grid, names, palette,  # noqa: E402
                  seeds_text, t_interval, title, wrap)

FLOOR = 1e-17  # an interaction that is exactly 0 is drawn here (the log axis has no 0)
MAX_DOTS = 10  # single-seed dots drawn per bar (the lowest seeds); the bar and its interval use every seed


def dots(ax: plt.Axes, df: pd.DataFrame, x: str, hue: str, y: str, order: list, hue_order: list) -> None:
    """The single seeds over dodged bars (seaborn's positions: width 0.8 split among the hue levels the panel
    holds), the MAX_DOTS lowest seeds of each bar, in one scatter: seaborn's stripplot costs a fraction of a
    second a panel. The axis keeps a slot for every category of `order`, run or not."""
    d = df.sort_values("seed", kind="stable").groupby([x, hue], observed=True, dropna=False).head(MAX_DOTS)
    present = [h for h in hue_order if h in set(df[hue])]
    col, slot, width = {v: i for i, v in enumerate(order)}, {v: i for i, v in enumerate(present)}, 0.8 / len(present)
    pos = d[x].map(col) - 0.4 + (d[hue].map(slot) + 0.5) * width
    jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(d)) * width
    ax.scatter(pos + jitter, d[y], s=9, color="black", zorder=3, linewidths=0)
    ax.set_xlim(-0.5, len(order) - 0.5)
    ax.set_xticks(range(len(order)), order)


def interaction_map(runs: pd.DataFrame, files: dict, ctx: Context) -> plt.Figure | None:
    """Every run: its measured interaction after training (log) against its test accuracy; colour = head,
    marker = pair order. Additive heads sit at rounding level on the left, at chance under random order. Narrow,
    with large type and the legend under the plot: the report's one figure, read on a phone too."""
    d = runs[runs["interaction"].notna()]
    if d.empty:
        return None
    heads, orders = ctx.words.levels(d["head"], "head"), ctx.words.levels(d["pair_order"], "pair_order")
    colours = dict(zip(heads, palette(len(heads))))
    marker = dict(zip(orders, MARKERS))
    fig, ax = plt.subplots(figsize=(5.4, 7.4), layout="constrained")
    for (h, o), g in d.groupby(["head", "pair_order"], observed=True, sort=False):
        ax.scatter(g["interaction"].clip(lower=FLOOR), 100 * g["test_acc"], s=60, alpha=0.85, color=colours[h],
                   marker=marker[o], edgecolors="white", linewidths=0.5, zorder=3)
    ax.axhline(50, **CHANCE_KW)
    ax.axhline(100 * BOUND, color="firebrick", linestyle=":", linewidth=1.4)
    ax.axvline(ADDITIVE_TOL, color="grey", linestyle="-.", linewidth=1)
    ax.set_xscale("log")
    ax.set(xlim=(FLOOR / 3, max(10.0, 3 * float(d["interaction"].max()))), ylim=(0, 102), ylabel="test accuracy (%)")
    ax.set_xlabel(wrap("interaction after training (mixed difference relative to the logit's spread; log scale)", 4.9,
                       plt.rcParams["axes.labelsize"]))
    dot = lambda colour, m, label: Line2D([], [], linestyle="", marker=m, color=colour, markersize=8, label=label)  # noqa: E731
    handles = ([dot(colours[h], "o", ctx.name("head", h)) for h in heads]
               + [dot("dimgrey", marker[o], ctx.name("pair_order", o)) for o in orders]
               + [Line2D([], [], **CHANCE_KW, label="chance (50 %)"),
                  Line2D([], [], color="firebrick", linestyle=":", linewidth=1.4,
                         label=f"{100 * BOUND:.0f} %: the most an additive head can reach on swap-symmetric pairs"),
                  Line2D([], [], color="grey", linestyle="-.", linewidth=1,
                         label=f"additive: interaction ≤ {ADDITIVE_TOL:g} (rounding ≈ 1e-16)")])
    size = 12
    below(fig, handles, [wrap(h.get_label(), 2.3, size) for h in handles], cols=2, fontsize=size)
    title(fig, "Every run: does its head compare the two images (x), and does it learn (y)?\n"
               f"{plural(len(d), 'run')}, {ctx.setting({k: v for k, v in ctx.fixed.items() if k in ('data', 'epochs')})}")
    return fig


def accuracy_by_head(runs: pd.DataFrame, files: dict, ctx: Context) -> plt.Figure | None:
    """Test accuracy by head × hidden layers, faceted by encoder and loss sign convention (and by every extra cell
    key, e.g. one panel per learning rate), under the Keras loss on random-order pairs."""
    d = runs[runs["pair_order"].isin(SWAP_SYMMETRIC)]
    d = where(d, **{k: v for k, v in ctx.baseline.items() if k == "loss"})
    if d.empty:
        return None
    extra = list(ctx.extra)
    w = ctx.words.in_words(d, ["head", "depth", "encoder", "convention"]).assign(acc=100 * d["test_acc"])
    more = extra_text(d, extra, ctx)
    w["panel"] = [f"{e} · {c}" + (f"\n{x}" if x else "") for e, c, x in zip(w["encoder"], w["convention"], more)]
    panels = [f"{e} · {c}" + (f"\n{x}" if x else "") for x in extra_order(d, extra, ctx)
              for c in names(d, "convention", ctx) for e in names(d, "encoder", ctx)]
    panels = [p for p in panels if (w["panel"] == p).any()]
    kw = dict(x="head", y="acc", hue="depth", order=names(d, "head", ctx), hue_order=names(d, "depth", ctx))
    n = d.groupby(["head", "depth", "encoder", "convention", *extra], dropna=False).size()
    entries = len(kw["hue_order"]) + 1  # the legend: each depth and the chance line, three to a row
    fig, axes = grid(len(panels), 5.6, 5.2, cols=2, title_lines=2 if extra else 1, top_lines=2,
                     bottom=0.45 + 0.25 * -(-entries // 3),
                     xticks=1.5, sharey=True, panel_titles=panels, suptitle=(
                         f"Test accuracy by head and hidden layers ({ctx.name('loss', ctx.baseline.get('loss'))}, random "
                         f"pair order)\nbars: mean over {seeds_text(n)}, whiskers: 95 % CI, dots: single seeds (at most "
                         f"{MAX_DOTS})"))
    for ax, name in zip(axes, panels):
        p = w[w["panel"] == name]
        sns.barplot(p, ax=ax, errorbar=t_interval, capsize=0.15, alpha=0.8, legend=ax is axes[0], **kw)
        dots(ax, p, "head", "depth", "acc", kw["order"], kw["hue_order"])
        chance_line(ax, label=ax is axes[0])
        for i, head in enumerate(kw["order"]):
            if head not in set(p["head"]):
                ax.text(i, 4, "not run", ha="center", color="grey", fontsize=9)
        ax.set(ylim=(0, 102), xlabel="", ylabel="test accuracy (%)")
        ax.tick_params(axis="x", labelrotation=30)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    handles, labels = axes[0].get_legend_handles_labels()
    axes[0].get_legend().remove()
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=min(len(labels), 3), frameon=False,
               title="hidden layers after the merge (dashed: chance)")
    return fig


def pair_order_control(runs: pd.DataFrame, files: dict, ctx: Context) -> plt.Figure | None:
    """The control: each additive head (measured) without a hidden layer on random vs fixed-order pairs, scored in
    the pairs' own order, swapped, and over both orders."""
    d = structured(around_baseline(runs, ctx, "pair_order"), additive=True)
    if d.empty or d["pair_order"].nunique() < 2:
        return None
    order_of = {o: i for i, o in enumerate(ctx.words.levels(d["pair_order"], "pair_order"))}
    groups = d[["head", "pair_order"]].drop_duplicates()
    groups = groups.assign(r=groups["pair_order"].map(order_of)).sort_values(["head", "r"])
    label = lambda h, o: f"{ctx.name('head', h)}\n{ctx.name('pair_order', o)}"  # noqa: E731
    order = [label(h, o) for h, o in zip(groups["head"], groups["pair_order"])]
    d = d.assign(group=[label(h, o) for h, o in zip(d["head"], d["pair_order"])])
    scored = {"test_acc": "pairs as built", "test_acc_swapped": "inputs swapped", "test_acc_both_orders": "both orders"}
    long = d.melt(id_vars=["group", "run_id", "seed"], value_vars=list(scored), var_name="scored", value_name="acc")
    long = long.assign(acc=lambda x: 100 * x["acc"], scored=lambda x: x["scored"].map(scored))
    fig, ax = plt.subplots(figsize=(max(11, 2.6 * len(order) + 4), 5.0), layout="constrained")
    kw = dict(x="group", y="acc", hue="scored", order=order, hue_order=list(scored.values()))
    sns.barplot(long, ax=ax, errorbar=t_interval, capsize=0.12, alpha=0.85, **kw)
    dots(ax, long, "group", "scored", "acc", kw["order"], kw["hue_order"])
    chance_line(ax)
    ax.axhline(100 * BOUND, color="firebrick", linestyle=":", linewidth=1.4,
               label=f"{100 * BOUND:.0f} %: most an additive head can score over both orders")
    ax.set(ylim=(0, 102), xlabel="", ylabel="test accuracy (%)")
    ax.tick_params(axis="x", labelsize=8)
    handles, labels = ax.get_legend_handles_labels()
    ax.get_legend().remove()
    below(fig, handles, labels, cols=3, fontsize=9, title="test pairs scored with")
    fixed = ", ".join(ctx.name("pair_order", o) for o in FIXED)
    title(fig, f"The control: additive heads (no hidden layer) on random-order pairs vs {fixed}\n"
               f"bars: mean over {seeds_text(d.groupby('group').size())}, whiskers: 95 % CI, dots: single seeds "
               f"(at most {MAX_DOTS})")
    return fig


def convention_grid(runs: pd.DataFrame, files: dict, ctx: Context) -> plt.Figure | None:
    """Mean test accuracy of each head (no hidden layer, default encoder, random order; a row per head and extra
    cell key) under each loss and sign convention."""
    d = where(runs[runs["pair_order"].isin(SWAP_SYMMETRIC)], depth=0,
              **{k: v for k, v in ctx.baseline.items() if k == "encoder"})
    if d.empty:
        return None
    extra = list(ctx.extra)
    more = extra_text(d, extra, ctx)
    w = ctx.words.in_words(d, ["head", "loss", "convention"]).assign(column=lambda x: x["loss"] + "\n" + x["convention"])
    w["head"] = [h + (f"\n{x}" if x else "") for h, x in zip(w["head"], more)]
    rows = [r for r in (h + (f"\n{x}" if x else "") for h in names(d, "head", ctx) for x in extra_order(d, extra, ctx))
            if (w["head"] == r).any()]
    g = w.groupby(["head", "column"])["test_acc"]
    cols = [f"{ctx.name('loss', lo)}\n{ctx.name('convention', c)}" for lo in ctx.words.levels(d["loss"], "loss")
            for c in ctx.words.levels(d["convention"], "convention")]
    mean = (g.mean().unstack() * 100).reindex(index=rows, columns=cols).dropna(how="all", axis=1)
    text = g.agg(lambda s: f"{100 * s.mean():.1f} %\n±{100 * mean_ci(s).half:.1f}" if len(s) > 1
                 else f"{100 * s.mean():.1f} %\n(1 seed)").unstack().reindex_like(mean).fillna("not run")
    fig, ax = plt.subplots(figsize=(2.3 * mean.shape[1] + 2.5, 0.9 * mean.shape[0] + 1.8), layout="constrained")
    sns.heatmap(mean, annot=text.to_numpy(), fmt="", cmap="RdYlGn", vmin=40, vmax=100, linewidths=1,
                cbar_kws={"label": "mean test accuracy (%)"}, ax=ax, annot_kws={"fontsize": 10})
    for (i, j), v in np.ndenumerate(mean.to_numpy()):
        if np.isnan(v):
            ax.text(j + 0.5, i + 0.5, text.iat[i, j], ha="center", va="center", fontsize=9, color="grey")
    ax.grid(False)
    ax.set(xlabel="loss and sign convention", ylabel="")
    title(fig, f"Head × loss sign convention (no hidden layer, {ctx.name('encoder', ctx.baseline.get('encoder'))}, "
               "random pair order)\ncell: mean test accuracy ± half-width of the 95 % CI over seeds; 50 % is chance")
    ax.tick_params(axis="y", rotation=0)
    return fig


