"""The mechanism, drawn from recorded runs (docs/mechanism.md, 4. Collapse and 5. Fixes and the control).

* `image_views`: the head's 1-D view w·f(x) of each test image by digit class. Subtract without a hidden layer
  sees an image only through this one number (z(a,b) = w·f(a) − w·f(b) + c): under random pair order every
  class collapses onto one value; under the sorted-order control the classes spread out in order.
* `collapse_over_training`: the spread of the output over the test pairs per epoch, subtract vs symmetric heads.

The numbers the text quotes come from `view_stats`, the same tables the figures draw.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from scipy import stats as sps  # noqa: E402

from .claims import traits  # noqa: E402
from .labels import value_name  # noqa: E402
from .load import read_per_run  # noqa: E402
from .plotkit import seeds_text, t_interval  # noqa: E402
from .select import BASELINE, where  # noqa: E402
from .verdicts import COLLAPSE_STD  # noqa: E402

VIEWS_FILE = "views.csv.gz"
ORDER_NAMES = {"random": "random pair order (Keras)", "sorted": "smaller digit first (control)"}


MAX_VIEW_SEEDS = 5


def view_runs(df: pd.DataFrame) -> pd.DataFrame:
    """The runs the view figure shows: an antisymmetric head without a hidden layer, Keras setting, random vs sorted."""
    t = traits(df)
    t = t[t["antisymmetric"] & (t["depth"] == 0)]
    t = where(t, **{k: v for k, v in BASELINE.items() if k != "pair_order"})
    # The lowest MAX_VIEW_SEEDS seeds of each pair order: enough to show seed-to-seed spread; reading every
    # seed's views.csv.gz of a large study would cost seconds for nothing the figure can show.
    return t.sort_values("seed", kind="stable").groupby("pair_order", observed=True).head(MAX_VIEW_SEEDS)


def read_views(df: pd.DataFrame, runs_dir: Path) -> pd.DataFrame:
    """views.csv.gz of the runs `view_runs` picks, joined with their pair order and seed (empty if none recorded)."""
    runs = view_runs(df)
    if runs.empty:
        return pd.DataFrame()
    v = read_per_run(runs_dir, list(runs["run_id"]), VIEWS_FILE)
    if v.empty or "view" not in v:
        return pd.DataFrame()
    return v.merge(runs[["run_id", "pair_order", "seed", "head"]], on="run_id")


def view_stats(views: pd.DataFrame) -> pd.DataFrame:
    """Per run: how far apart the digit classes are in w·f(x) (std of the 10 class means), how wide one class is
    (mean within-class std), and the rank correlation of digit and class mean (±1: the classes in order)."""
    rows = []
    for (order, seed, rid), g in views.groupby(["pair_order", "seed", "run_id"], observed=True):
        means = g.groupby("label")["view"].mean()
        rho = sps.spearmanr(means.index, means.to_numpy()).statistic if means.std() > 0 else np.nan
        rows.append({"pair_order": order, "seed": seed, "run_id": rid, "between": float(means.std(ddof=0)),
                     "within": float(g.groupby("label")["view"].std(ddof=0).mean()), "rho": float(rho)})
    return pd.DataFrame(rows, columns=["pair_order", "seed", "run_id", "between", "within", "rho"])


def view_words(views: pd.DataFrame) -> str:
    """The figure's numbers in one sentence per pair order (means over seeds)."""
    if views.empty:
        return ""
    s = view_stats(views)
    parts = []
    for order, g in s.groupby("pair_order"):
        name = ORDER_NAMES.get(order, order)
        parts.append(f"{name[:1].upper() + name[1:]}: the 10 digit classes' mean w·f(x) spread by "
                     f"{g['between'].mean():.3g} (std over the classes; within a class {g['within'].mean():.3g}), "
                     f"rank correlation of digit and class mean {g['rho'].mean():+.2f} ({len(g)} seeds)")
    return ". ".join(parts) + "."


def image_views(views: pd.DataFrame) -> plt.Figure | None:
    """w·f(x) of the test images by digit class: random pair order vs the sorted-order control, one shared axis."""
    if views.empty:
        return None
    v = views.copy()
    v["centred"] = v["view"] - v.groupby("run_id")["view"].transform("median")  # c cancels: only differences matter
    orders = [o for o in ("random", "sorted") if o in set(v["pair_order"])] + sorted(set(v["pair_order"]) - {"random", "sorted"})
    fig, axes = plt.subplots(1, len(orders), figsize=(6.2 * len(orders), 4.6), sharey=True, squeeze=False,
                             layout="constrained")
    digits = sorted(v["label"].unique())
    for ax, order in zip(axes[0], orders):
        p = v[v["pair_order"] == order]
        sns.boxplot(p, x="label", y="centred", order=digits, color="#9ecae1", showfliers=False, whis=(5, 95), ax=ax)
        means = p.groupby(["seed", "label"])["centred"].mean().reset_index()
        sns.stripplot(means, x="label", y="centred", order=digits, hue="seed", palette="dark:black", size=5,
                      jitter=0.15, marker="D", ax=ax, legend=False)
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set(xlabel="digit class of the test image", ylabel="w·f(x) − median of the run",
               title=f"{ORDER_NAMES.get(order, order)}\n{seeds_text(p.groupby('label')['run_id'].nunique())}")
    fig.suptitle("What subtract + a single dense layer knows of an image: one number, w·f(x)\n"
                 "(z(a,b) = w·f(a) − w·f(b) + c, no hidden layer)\n"
                 "boxes: the test images of each digit (5–95 %), pooled over seeds; diamonds: each seed's class mean")
    return fig


def spread_curves(hist: pd.DataFrame) -> pd.DataFrame:
    """The histories the collapse figure draws: sigmoid heads only, one named curve per head, depth and pair order."""
    if hist.empty or "test_score_std" not in hist:
        return pd.DataFrame()
    h = traits(hist.assign(convention=hist["convention"] if "convention" in hist else "distance"))
    h = h[~h["weightless"]]  # a distance is not a probability: its spread is on another scale
    return h.assign(curve=[f"{value_name('head', hd)}, {value_name('depth', d)}"
                           + (", smaller digit first" if o == "sorted" else "")
                           for hd, d, o in zip(h["head"], h["depth"], h["pair_order"])])


def collapse_words(hist: pd.DataFrame) -> str:
    """The figure's numbers: the spread after the first and after the last epoch, per curve (means over seeds)."""
    h = spread_curves(hist)
    if h.empty:
        return ""
    parts = []
    for curve, g in h.groupby("curve"):
        first, last = g["epoch"].min(), g["epoch"].max()
        a, b = g.loc[g["epoch"] == first, "test_score_std"].mean(), g.loc[g["epoch"] == last, "test_score_std"].mean()
        parts.append(f"{curve}: {a:.3f} after epoch {first}, {b:.3f} after epoch {last}")
    return ("Spread of the output over the test pairs (std; collapsed below " f"{COLLAPSE_STD}): " + "; ".join(parts)
            + ". The histories record the end of each epoch, so a collapse within the first epoch shows as a curve "
              "that starts low.")


def collapse_over_training(hist: pd.DataFrame) -> plt.Figure | None:
    """The spread (std) of the sigmoid output over the test pairs per epoch: subtract vs symmetric heads, seeds as bands."""
    h = spread_curves(hist)
    if h.empty:
        return None
    order = sorted(h["curve"].unique(), key=lambda c: (not c.startswith("subtract"), "smaller" in c, c))
    fig, ax = plt.subplots(figsize=(9.5, 5), layout="constrained")
    sns.lineplot(h.assign(spread=h["test_score_std"].clip(lower=1e-5)), x="epoch", y="spread", hue="curve",
                 hue_order=order, errorbar=t_interval, ax=ax)
    ax.axhline(COLLAPSE_STD, color="black", linestyle="--", linewidth=1, label=f"collapsed below {COLLAPSE_STD}")
    ax.set(yscale="log", xlabel="epoch", ylabel="std of the sigmoid output (log scale)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    n = h.groupby("curve")["run_id"].nunique()
    fig.suptitle("Collapse over training: the output's spread over the test pairs, per epoch\n"
                 f"MLP encoder, contrastive loss, same → low; line: mean over {seeds_text(n)}, band: 95 % CI")
    return fig
