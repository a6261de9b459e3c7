"""Plots from the runs table: accuracy by head × depth, the pair-order control, head × loss convention.

Each function takes measured runs (one context) and returns a matplotlib Figure, or None with nothing to show.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .labels import in_words, levels, setting, value_name  # noqa: E402
from .select import BASELINE, control_head, where  # noqa: E402
from .plotkit import chance_line, grid, seeds_text, t_interval  # noqa: E402
from .stats import mean_ci  # noqa: E402
from .verdicts import CEILING  # noqa: E402

def _order(df: pd.DataFrame, factor: str) -> list[str]:
    return [value_name(factor, v) for v in levels(df[factor], factor)]


def extra_text(df: pd.DataFrame, extra: list[str] | tuple[str, ...]) -> list[str]:
    """Per row, the extra cell keys in words ('train.lr=0.003'), '' without any: what splits a bar or panel further."""
    if not extra:
        return [""] * len(df)
    return [setting(dict(zip(extra, vals))) for vals in zip(*(df[k] for k in extra))]


def _extra_order(df: pd.DataFrame, extra: list[str] | tuple[str, ...]) -> list[str]:
    if not extra:
        return [""]
    keys = df[list(extra)].drop_duplicates()
    keys = keys.sort_values(list(extra), key=lambda c: c.astype("string") if c.dtype == object else c, kind="stable")
    return list(dict.fromkeys(extra_text(keys, extra)))


def accuracy_by_head(df: pd.DataFrame, extra: list[str] | tuple[str, ...] = ()) -> plt.Figure | None:
    """Plot 1: test accuracy by head × hidden layers, faceted by encoder and loss sign convention (and by every
    extra cell key, e.g. one panel per learning rate)."""
    d = where(df, loss="contrastive", pair_order="random")
    if d.empty:
        return None
    w = in_words(d, ["head", "depth", "encoder", "convention"]).assign(acc=100 * d["test_acc"])
    more = extra_text(d, extra)
    w["panel"] = [f"{e} · {c}" + (f"\n{x}" if x else "") for e, c, x in zip(w["encoder"], w["convention"], more)]
    panels = [f"{e} · {c}" + (f"\n{x}" if x else "") for x in _extra_order(d, extra) for c in _order(d, "convention")
              for e in _order(d, "encoder")]
    panels = [p for p in panels if (w["panel"] == p).any()]
    kw = dict(x="head", y="acc", hue="depth", order=_order(d, "head"), hue_order=_order(d, "depth"))
    fig, axes = grid(len(panels), 5.0, 3.8, cols=2, sharey=True)
    for ax, name in zip(axes, panels):
        p = w[w["panel"] == name]
        sns.barplot(p, ax=ax, errorbar=t_interval, capsize=0.15, alpha=0.8, legend=ax is axes[0], **kw)
        sns.stripplot(p, ax=ax, dodge=True, palette="dark:black", size=3.5, legend=False, **kw)
        chance_line(ax, label=ax is axes[0])
        shown = set(p["head"])
        for i, head in enumerate(kw["order"]):
            if head not in shown:
                ax.text(i, 4, "not run", ha="center", color="grey", fontsize=9)
        ax.set(ylim=(0, 102), xlabel="", ylabel="test accuracy (%)", title=name)
        ax.tick_params(axis="x", labelrotation=12)
    handles, labels = axes[0].get_legend_handles_labels()
    axes[0].get_legend().remove()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), frameon=False,
               title="hidden layers after the merge (dashed: chance)")
    n = d.groupby(["head", "depth", "encoder", "convention", *extra], dropna=False).size()
    fig.suptitle("Test accuracy by head and hidden layers (contrastive loss, random pair order)\n"
                 f"bars: mean over {seeds_text(n)}, whiskers: 95 % CI, dots: single seeds")
    return fig


def pair_order_control(df: pd.DataFrame, extra: list[str] | tuple[str, ...] = ()) -> plt.Figure | None:
    """Plot 5: an antisymmetric head (subtract) without a hidden layer, random vs sorted pairs, scored in each
    order and in both (one group per pair order and extra cell key)."""
    head = control_head(df)
    if head is None:
        return None
    d = where(df, **{k: v for k, v in BASELINE.items() if k != "pair_order"}, head=head)
    if d["pair_order"].nunique() < 2:
        d = where(df, head=head, depth=0)
    if d.empty:
        return None
    d = d.assign(group=[value_name("pair_order", o) + (f"\n{x}" if x else "")
                        for o, x in zip(d["pair_order"], extra_text(d, extra))])
    order = [value_name("pair_order", o) + (f"\n{x}" if x else "") for x in _extra_order(d, extra)
             for o in levels(d["pair_order"], "pair_order")]
    order = [g for g in order if (d["group"] == g).any()]
    scored = {"test_acc": "pairs as built", "test_acc_swapped": "inputs swapped", "test_acc_both_orders": "both orders"}
    long = d.melt(id_vars=["group", "run_id"], value_vars=list(scored), var_name="scored", value_name="acc")
    long = long.assign(acc=lambda x: 100 * x["acc"], scored=lambda x: x["scored"].map(scored))
    fig, ax = plt.subplots(figsize=(max(11, 3.4 * len(order) + 4), 4.8), layout="constrained")  # + legend
    kw = dict(x="group", y="acc", hue="scored", order=order, hue_order=list(scored.values()))
    sns.barplot(long, ax=ax, errorbar=t_interval, capsize=0.12, alpha=0.85, **kw)
    sns.stripplot(long, ax=ax, dodge=True, palette="dark:black", size=3.5, legend=False, **kw)
    chance_line(ax)
    ax.axhline(100 * CEILING, color="firebrick", linestyle=":", linewidth=1.4,
               label="75 %: most an antisymmetric head can score over both orders")
    ax.set(ylim=(0, 102), xlabel="order of the two digits in each training and test pair", ylabel="test accuracy (%)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), title="test pairs scored with")
    ax.set_title(f"The control: the same head ({value_name('head', head)}, no hidden layer) on pairs in random vs fixed order\n"
                 f"bars: mean over {seeds_text(d.groupby('group').size())}, whiskers: 95 % CI, dots: single seeds")
    return fig


def convention_grid(df: pd.DataFrame, skipped: pd.DataFrame | None = None,
                    extra: list[str] | tuple[str, ...] = ()) -> plt.Figure | None:
    """Plot 6: mean test accuracy of each head (one row per head and extra cell key) under each loss and sign
    convention (no hidden layer)."""
    d = where(df, depth=0, encoder="mlp", pair_order="random")
    if d.empty:
        return None
    more = extra_text(d, extra)
    d = in_words(d, ["head", "loss", "convention"]).assign(column=lambda x: x["loss"] + "\n" + x["convention"])
    d["head"] = [h + (f"\n{x}" if x else "") for h, x in zip(d["head"], more)]
    rows = [h + (f"\n{x}" if x else "") for h in _order(df, "head") for x in _extra_order(df, extra)]
    if extra:  # only the combinations that were run; without extra keys every head of the study has its row
        rows = [r for r in rows if (d["head"] == r).any()]
    g = d.groupby(["head", "column"])["test_acc"]
    cols = [f"{value_name('loss', lo)}\n{value_name('convention', c)}" for lo in levels(df["loss"], "loss")
            for c in levels(df["convention"], "convention")]
    mean = (g.mean().unstack() * 100).reindex(index=rows, columns=cols).dropna(how="all", axis=1)
    text = g.agg(lambda s: f"{100 * s.mean():.1f} %\n±{100 * mean_ci(s).half:.1f}" if len(s) > 1
                 else f"{100 * s.mean():.1f} %\n(1 seed)").unstack()
    if skipped is not None and len(skipped):
        s = where(skipped, depth=0)
        s_more = extra_text(s, extra)
        s = in_words(s, ["head", "loss", "convention"]).astype({"loss": str, "convention": str})
        s["head"] = [h + (f"\n{x}" if x else "") for h, x in zip(s["head"], s_more)]
        for h, c in zip(s["head"], s["loss"] + "\n" + s["convention"]):
            if h in mean.index and c in mean.columns and pd.isna(mean.loc[h, c]):
                text.loc[h, c] = "does not apply"
    text = text.reindex_like(mean).fillna("not run")
    fig, ax = plt.subplots(figsize=(2.3 * mean.shape[1] + 2.5, 0.9 * mean.shape[0] + 1.8), layout="constrained")
    sns.heatmap(mean, annot=text.to_numpy(), fmt="", cmap="RdYlGn", vmin=40, vmax=100, linewidths=1,
                cbar_kws={"label": "mean test accuracy (%)"}, ax=ax, annot_kws={"fontsize": 10})
    for (i, j), v in np.ndenumerate(mean.to_numpy()):
        if np.isnan(v):
            ax.text(j + 0.5, i + 0.5, text.iat[i, j], ha="center", va="center", fontsize=9, color="grey")
    ax.grid(False)
    ax.set(xlabel="loss and sign convention", ylabel="")
    ax.set_title("Head × loss sign convention (no hidden layer, MLP encoder, random pair order)\n"
                 "cell: mean test accuracy ± half-width of the 95 % CI over seeds; 50 % is chance")
    ax.tick_params(axis="y", rotation=0)
    return fig
