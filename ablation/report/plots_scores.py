"""Plots from per-run files: learning curves, score distributions and the swap plot, one panel per head.

Inputs are long tables already joined with the runs' factors (see `select_runs`); outputs are Figures.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from .labels import levels, setting, value_name  # noqa: E402
from .plotkit import bottom_xlabel, chance_line, figure_legend, grid, seeds_text  # noqa: E402
from .select import BASELINE, control_head, where  # noqa: E402
from .stats import LEVEL  # noqa: E402

SEEDS_PER_PANEL = 3  # score plots pool at most this many seeds per panel (the lowest), to stay fast and legible
SWAP_POINTS = 800  # points drawn per swap-plot panel
PAIR_COLORS = {"same digit": "#1b9e77", "different digits": "#d95f02"}
CONTROL = "smaller digit first (control)"


TRAIT_COLUMNS = ("same_high", "threshold", "bounded", "antisymmetric")  # how each run's score reads


def panel_name(head: str, depth: int, pair_order: str = "random", extra: str = "") -> str:
    name = f"{value_name('head', head)}\n{value_name('depth', depth)}"
    name += f", {value_name('pair_order', pair_order)}" if pair_order != "random" else ""
    return name + (f"\n{extra}" if extra else "")


def select_runs(df: pd.DataFrame, seeds: int | None = SEEDS_PER_PANEL, control: bool = True,
                extra: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """The runs the per-head panels show: each head × depth at the Keras baseline (+ the pair-order control of
    the antisymmetric head), one panel per extra cell key's value too: runs in a panel differ only in the seed."""
    keep = where(df, **{k: v for k, v in BASELINE.items() if k != "depth"})
    head = control_head(df) if control else None
    if head is not None:
        ctl = where(df, **{k: v for k, v in BASELINE.items() if k != "pair_order"}, head=head, pair_order="sorted")
        keep = pd.concat([keep, ctl])
    keep = keep.sort_values("seed", kind="stable")
    if seeds is not None:
        keep = keep.groupby(["head", "depth", "pair_order", *extra], observed=True, dropna=False).head(seeds)
    more = [setting(dict(zip(extra, v))) for v in zip(*(keep[k] for k in extra))] if extra else [""] * len(keep)
    keep = keep.assign(panel=[panel_name(h, d, o, x) for h, d, o, x in zip(keep["head"], keep["depth"], keep["pair_order"], more)],
                       extra=more)
    traits = [c for c in TRAIT_COLUMNS if c in keep]
    return keep[["run_id", "head", "depth", "pair_order", "seed", "head_bias", "panel", "extra", "test_auc", "score_std", *traits]]


def panel_order(runs: pd.DataFrame) -> list[str]:
    """Heads in reading order, then depth, the control last; then the extra cell keys."""
    keys = runs[["head", "depth", "pair_order", "extra", "panel"]].drop_duplicates() if "extra" in runs \
        else runs[["head", "depth", "pair_order", "panel"]].drop_duplicates().assign(extra="")
    rank = {h: i for i, h in enumerate(levels(keys["head"], "head"))}
    keys = keys.assign(r=keys["head"].map(rank)).sort_values(["pair_order", "r", "depth", "extra"])
    return list(keys["panel"])


def side_text(same_high: pd.Series) -> str:
    """Which side of the score means 'same' for these runs (their loss convention)."""
    sides = set(same_high.dropna().astype(bool))
    if sides == {True}:
        return "same → high"
    if sides == {False}:
        return "same → low"
    return "mixed: same → low or high" if sides else "side of 'same' unknown"


def score_axis(p: pd.DataFrame) -> str:
    """The x label of a score panel: what the score is (its head's class) and which side means 'same'."""
    bounded = p["bounded"].dropna().astype(bool) if "bounded" in p else pd.Series(dtype=bool)
    what = ("sigmoid output s(a, b)" if len(bounded) and bounded.all()
            else f"score s(a, b): {value_name('head', p['head'].iloc[0])}")
    return f"{what} ({side_text(p['same_high']) if 'same_high' in p else 'side of same unknown'})"


def learning_curves(hist: pd.DataFrame) -> plt.Figure | None:
    """Plot 2: training and test accuracy per epoch, per head (mean over seeds, 95 % CI band)."""
    if hist.empty or "test_acc" not in hist:
        return None
    splits = {"train_acc": ("training pairs (running, with dropout)", "C0"), "test_acc": ("test pairs", "C1")}
    long = hist.melt(id_vars=["panel", "epoch"], value_vars=list(splits), var_name="split", value_name="acc")
    g = long.groupby(["panel", "split", "epoch"])["acc"].agg(["mean", "std", "count"]).reset_index()
    half = stats.t.ppf((1 + LEVEL) / 2, np.maximum(g["count"] - 1, 1)) * g["std"].fillna(0) / np.sqrt(g["count"])
    g["lo"], g["hi"] = 100 * (g["mean"] - half), 100 * (g["mean"] + half)
    g["mean"] *= 100
    panels = panel_order(hist)
    fig, axes = grid(len(panels), 4.2, 3.0, sharex=True, sharey=True)
    for ax, name in zip(axes, panels):
        for split, (label, color) in splits.items():
            p = g[(g["panel"] == name) & (g["split"] == split)]
            ax.plot(p["epoch"], p["mean"], color=color, label=label)
            ax.fill_between(p["epoch"], p["lo"], p["hi"], color=color, alpha=0.2, linewidth=0)
        chance_line(ax, label=False)
        ax.set(ylim=(30, 101))
        ax.set_title(name, fontsize=10)
    axes[0].xaxis.set_major_locator(MaxNLocator(integer=True))  # shared by every panel
    fig.supxlabel("epoch")
    fig.supylabel("accuracy (%)")
    axes[0].legend(fontsize=8, loc="lower right", title="accuracy on:", title_fontsize=8)
    n = hist.groupby("panel")["run_id"].nunique()
    fig.suptitle("Learning curves per head (MLP encoder, contrastive loss, same → low score)\n"
                 f"line: mean over {seeds_text(n)}, band: 95 % CI; dashed: chance")
    return fig


def _pairs(scores: pd.DataFrame) -> pd.DataFrame:
    return scores.assign(pair=np.where(scores["label"] > 0.5, "same digit", "different digits"))


def score_distributions(scores: pd.DataFrame) -> plt.Figure | None:
    """Plot 3: how the scores of same and different pairs are distributed, per head (x range fitted per panel)."""
    if scores.empty:
        return None
    s = _pairs(scores)
    panels = panel_order(s)
    fig, axes = grid(len(panels), 4.2, 3.4)
    for ax, name in zip(axes, panels):
        p = s[s["panel"] == name]
        edges = np.histogram_bin_edges(p["s_ab"].to_numpy(), bins=40)
        for pair, color in PAIR_COLORS.items():  # each class's density, as a filled step outline
            x = p.loc[p["pair"] == pair, "s_ab"].to_numpy()
            if len(x):
                dens, _ = np.histogram(x, bins=edges, density=True)
                ax.stairs(dens, edges, fill=True, color=color, alpha=0.35, linewidth=0)
                ax.stairs(dens, edges, color=color, linewidth=1.2, label=pair if ax is axes[0] else None)
        thresholds = sorted(set(p["threshold"].dropna())) if "threshold" in p else [0.5]
        for t in thresholds:  # each run's loss says where its decision threshold is
            ax.axvline(t, color="black", linestyle="--", linewidth=1, label=f"decision threshold {t:g}")
        lo, hi = p["s_ab"].min(), p["s_ab"].max()
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(score_axis(p))
        ax.set_ylabel("density")
        auc = p.groupby("run_id")["test_auc"].first().mean()
        ax.text(0.02, 0.97, f"scores from {lo:.3g} to {hi:.3g}\nROC AUC {auc:.2f}", transform=ax.transAxes,
                va="top", fontsize=8, bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
    axes[0].legend(loc="upper right", fontsize=8)
    n = s.groupby("panel")["run_id"].nunique()
    side = side_text(s["same_high"]) if "same_high" in s else "side of same unknown"
    thr = sorted(set(s["threshold"].dropna())) if "threshold" in s else [0.5]
    thr_text = f"threshold {thr[0]:g}" if len(thr) == 1 else "each panel's decision threshold"
    fig.suptitle(f"Scores of same-digit vs different-digit test pairs, per head ({side}; dashed: {thr_text})\n"
                 f"pooled over {seeds_text(n)}; where the two colours overlap, the score cannot tell the pairs apart")
    return fig


def _antisym_curve(c: float, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """s(b,a) as a function of s(a,b) when z(b,a) = 2c − z(a,b): the line every antisymmetric pair lies on."""
    s = np.linspace(max(lo, 1e-6), min(hi, 1 - 1e-6), 200)
    return s, 1 / (1 + np.exp(-(2 * c - np.log(s / (1 - s)))))


def swap_plot(scores: pd.DataFrame) -> plt.Figure | None:
    """Plot 4: s(a,b) against s(b,a), one seed per head: the diagonal of symmetric heads vs subtract's antisymmetric line."""
    if scores.empty:
        return None
    s = _pairs(scores)
    first = s.sort_values("seed", kind="stable").groupby("panel")["run_id"].first()
    panels = panel_order(s)
    fig, axes = grid(len(panels), 4.0, 4.0)
    for ax, name in zip(axes, panels):
        p = s[s["run_id"] == first[name]]
        p = p.sample(min(len(p), SWAP_POINTS), random_state=0)
        for pair, color in PAIR_COLORS.items():  # plain scatter: seaborn's per-call overhead was most of this figure
            q = p[p["pair"] == pair]
            ax.scatter(q["s_ab"], q["s_ba"], s=10, color=color, alpha=0.6, linewidths=0, label=pair)
        lo, hi = min(p["s_ab"].min(), p["s_ba"].min()), max(p["s_ab"].max(), p["s_ba"].max())
        pad = 0.05 * (hi - lo or 1)
        lo, hi = lo - pad, hi + pad
        ax.plot([lo, hi], [lo, hi], color="grey", linestyle="--", linewidth=1, label="s(b,a) = s(a,b): symmetric")
        row = p.iloc[0]
        anti = bool(row["antisymmetric"]) if "antisymmetric" in row and pd.notna(row["antisymmetric"]) else False
        if anti and row["depth"] == 0 and pd.notna(row["head_bias"]):  # the class declares z(a,b) + z(b,a) = 2c
            x, y = _antisym_curve(float(row["head_bias"]), lo, hi)
            ax.plot(x, y, color="firebrick", linewidth=1.2, zorder=1, label="z(b,a) = 2c − z(a,b): antisymmetric")
        ax.set(xlim=(lo, hi), ylim=(lo, hi), aspect="equal")
        ax.set_title(f"{name}\n(seed {int(row['seed'])})", fontsize=9)
    bottom_xlabel(axes, "score, pair as built: s(a, b)")
    fig.supylabel("score, inputs swapped: s(b, a)")
    figure_legend(fig, axes)
    fig.suptitle("Does the answer depend on the input order? Each dot is one test pair scored both ways.\n"
                 "Symmetric heads lie on the dashed diagonal; antisymmetric ones (subtract) without a hidden layer on the red line\n"
                 "z(b,a) = 2c − z(a,b), drawn with the run's own output bias c (axes zoomed to each head's range)")
    return fig
