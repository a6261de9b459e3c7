"""Figures from per-run files (history.csv, scores.csv.gz, views.csv.gz): learning curves, score distributions,
the swap plot, what an additive head knows of an image, and the output's spread over training.

Each figure has a selection: which runs' files it reads, with the columns that place a run in a panel (the
builder reads the files and joins them). Runs are chosen by measured structure and the config's defaults.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from scipy import stats as sps  # noqa: E402

from ablation.mechanism import FIXED, SWAP_SYMMETRIC  # noqa: E402

from ..judge import LEVEL, t_half  # noqa: E402
from ..select import Context, around_baseline, structured  # noqa: E402
from ..words import plural  # noqa: E402
from .kit import (MARKERS, below, bottom_xlabel, chance_line, extra_text, figure_legend, flag, grid, palette,  # noqa: E402
                  seeds_text, title, wrap)

SEEDS_PER_PANEL = 3  # score plots pool at most this many seeds per panel (the lowest), to stay fast and legible
MAX_VIEW_SEEDS = 5  # the view figure: enough seeds to show their spread, without reading every seed of a study
SWAP_POINTS = 800  # points drawn per swap-plot panel
PAIR_COLORS = {"same digit": "#1b9e77", "different digits": "#d95f02"}
RUN_COLUMNS = ("run_id", "head", "depth", "pair_order", "seed", "same_high", "threshold", "bounded", "additive",
               "antisymmetric", "swap_center", "test_auc", "score_std")


# ---------------------------------------------------------------- which runs the figures read


def panel_runs(runs: pd.DataFrame, ctx: Context, seeds: int | None = SEEDS_PER_PANEL) -> pd.DataFrame:
    """The per-head panels at the Keras setting: every head without a hidden layer, the shallowest hidden layer
    of each merge that is additive without one (the fix), and the additive heads on fixed-order pairs (the
    control); at most `seeds` seeds each (None: all), a panel per value of an extra cell key too. Deeper variants
    are in the accuracy figure and the tables: a panel each would only repeat the interacting heads' picture."""
    base = around_baseline(runs, ctx, "depth")
    flat = base[base["depth"] == 0]
    additive = set(structured(flat, additive=True)["head._target_"])
    deeper = base[(base["depth"] > 0) & base["head._target_"].isin(additive)]
    deeper = deeper[deeper["depth"] == deeper.groupby("head._target_")["depth"].transform("min")]
    ctl = structured(around_baseline(runs, ctx, "pair_order"), additive=True)
    keep = pd.concat([flat, deeper, ctl[ctl["pair_order"].isin(FIXED)]]).sort_values("seed", kind="stable")
    extra = list(ctx.extra)
    if seeds is not None:
        keep = keep.groupby(["head", "depth", "pair_order", *extra], observed=True, dropna=False).head(seeds)
    more = extra_text(keep, extra, ctx)
    panel = [f"{ctx.name('head', h)}\n{ctx.name('depth', d)}" + ("" if o in SWAP_SYMMETRIC else f", {ctx.name('pair_order', o)}")
             + (f"\n{x}" if x else "") for h, d, o, x in zip(keep["head"], keep["depth"], keep["pair_order"], more)]
    keep = keep.assign(panel=panel, extra=more)
    rank = {h: i for i, h in enumerate(ctx.words.levels(keep["head"], "head"))}
    keep = keep.assign(_r=keep["head"].map(rank), _o=~keep["pair_order"].isin(SWAP_SYMMETRIC))
    keep = keep.sort_values(["_o", "_r", "depth", "extra", "seed"], kind="stable")
    return keep[[c for c in (*RUN_COLUMNS, "panel", "extra") if c in keep]]


def all_panel_runs(runs: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    return panel_runs(runs, ctx, None)


def view_runs(runs: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Additive heads without a hidden layer at the Keras setting, in each pair order (at most MAX_VIEW_SEEDS seeds)."""
    d = structured(around_baseline(runs, ctx, "pair_order"), additive=True).sort_values("seed", kind="stable")
    d = d.groupby(["head", "pair_order"], observed=True).head(MAX_VIEW_SEEDS)
    return d[[c for c in RUN_COLUMNS if c in d]]


def panels(df: pd.DataFrame) -> list[str]:
    """The panels in the order the selection sorted them."""
    return list(dict.fromkeys(df["panel"]))


# ---------------------------------------------------------------- figures


def learning_curves(runs: pd.DataFrame, files: dict, ctx: Context) -> plt.Figure | None:
    """Training and test accuracy per epoch, per head (mean over seeds, 95 % CI band)."""
    hist = files.get("history.csv", pd.DataFrame())
    if hist.empty or "test_acc" not in hist:
        return None
    splits = {"train_acc": ("training pairs (running, with dropout)", "C0"), "test_acc": ("test pairs", "C1")}
    long = hist.melt(id_vars=["panel", "epoch"], value_vars=list(splits), var_name="split", value_name="acc")
    g = long.groupby(["panel", "split", "epoch"])["acc"].agg(["mean", "std", "count"]).reset_index()
    half = t_half(g["std"].fillna(0), g["count"], LEVEL)
    g["lo"], g["hi"], g["mean"] = 100 * (g["mean"] - half), 100 * (g["mean"] + half), 100 * g["mean"]
    order = panels(hist)
    fig, axes = grid(len(order), 4.2, 3.3, title_lines=3 if ctx.extra else 2, sharex=True, sharey=True, bottom=0.5,
                     panel_titles=order, panel_size=10, suptitle=(
                         f"Learning curves per head ({ctx.setting({k: ctx.baseline[k] for k in ('encoder', 'loss', 'convention') if k in ctx.baseline})})\n"
                         f"line: mean over {seeds_text(hist.groupby('panel')['run_id'].nunique())}, band: 95 % CI; "
                         "dashed: chance"))
    for ax, name in zip(axes, order):
        for split, (label, color) in splits.items():
            p = g[(g["panel"] == name) & (g["split"] == split)]
            ax.plot(p["epoch"], p["mean"], color=color, label=label)
            ax.fill_between(p["epoch"], p["lo"], p["hi"], color=color, alpha=0.2, linewidth=0)
        chance_line(ax, label=False)
        ax.set(ylim=(30, 101))
    axes[0].xaxis.set_major_locator(MaxNLocator(integer=True))  # shared by every panel
    bottom_xlabel(axes, "epoch")
    fig.supylabel("accuracy (%)")
    figure_legend(fig, axes, markerscale=1, title="accuracy on:")
    return fig


def _pairs(scores: pd.DataFrame) -> pd.DataFrame:
    return scores.assign(pair=np.where(scores["label"] > 0.5, "same digit", "different digits"))


def _side(same_high: pd.Series) -> str:
    sides = set(same_high.dropna().astype(bool))
    return {frozenset({True}): "same → high", frozenset({False}): "same → low"}.get(frozenset(sides),
                                                                                    "mixed: same → low or high")


def score_distributions(runs: pd.DataFrame, files: dict, ctx: Context) -> plt.Figure | None:
    """How the scores of same and different pairs are distributed, per head (x range fitted per panel)."""
    scores = files.get("scores.csv.gz", pd.DataFrame())
    if scores.empty:
        return None
    s = _pairs(scores)
    order = panels(s)
    notes = {name: f"scores {p['s_ab'].min():.2f} to {p['s_ab'].max():.2f}, ROC AUC "
                   f"{p.groupby('run_id')['test_auc'].first().mean():.2f}" for name, p in s.groupby("panel", sort=False)}
    fig, axes = grid(len(order), 4.2, 3.8, title_lines=4 if ctx.extra else 3, bottom=0.5, panel_size=10,
                     panel_titles=[f"{name}\n{notes[name]}" for name in order], suptitle=(
                         f"Scores of same-digit vs different-digit test pairs, per head ({_side(s['same_high'])}; "
                         f"dashed: the decision threshold)\npooled over {seeds_text(s.groupby('panel')['run_id'].nunique())}; "
                         "where the two colours overlap, the score cannot tell the pairs apart"))
    for ax, name in zip(axes, order):
        p = s[s["panel"] == name]
        edges = np.histogram_bin_edges(p["s_ab"].to_numpy(), bins=40)
        for pair, color in PAIR_COLORS.items():  # each class's density, as a filled step outline
            x = p.loc[p["pair"] == pair, "s_ab"].to_numpy()
            if len(x):
                dens, _ = np.histogram(x, bins=edges, density=True)
                ax.stairs(dens, edges, fill=True, color=color, alpha=0.35, linewidth=0)
                ax.stairs(dens, edges, color=color, linewidth=1.2, label=pair)
        for t in sorted(set(p["threshold"].dropna())):  # each run's loss says where its decision threshold is
            ax.axvline(t, color="black", linestyle="--", linewidth=1, label=f"decision threshold {t:g}")
        bounded = flag(p, "bounded").all()
        ax.set_xlabel(f"{'sigmoid output' if bounded else 'score'} s(a, b) ({_side(p['same_high'])})")
        ax.set_ylabel("density")
    figure_legend(fig, axes, markerscale=1)
    return fig


def _antisym_curve(c: float, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """s(b,a) as a function of s(a,b) when z(b,a) = 2c − z(a,b): the line every antisymmetric pair lies on."""
    s = np.linspace(max(lo, 1e-6), min(hi, 1 - 1e-6), 200)
    return s, 1 / (1 + np.exp(-(2 * c - np.log(s / (1 - s)))))


def swap_plot(runs: pd.DataFrame, files: dict, ctx: Context) -> plt.Figure | None:
    """s(a,b) against s(b,a), one seed per head: the diagonal of symmetric heads, the antisymmetric line of heads
    measured antisymmetric (drawn with the run's own centre c)."""
    scores = files.get("scores.csv.gz", pd.DataFrame())
    if scores.empty:
        return None
    s = _pairs(scores)
    first = s.sort_values("seed", kind="stable").groupby("panel")["run_id"].first()
    order = panels(s)
    seed = {name: int(s.loc[s["run_id"] == first[name], "seed"].iloc[0]) for name in order}
    fig, axes = grid(len(order), 4.0, 4.4, title_lines=4 if ctx.extra else 3, top_lines=3, bottom=0.75,
                     panel_size=9, panel_titles=[f"{name}\n(seed {seed[name]})" for name in order], suptitle=(
                         "Does the answer depend on the input order? Each dot is one test pair scored both ways.\n"
                         "Symmetric heads (measured) lie on the dashed diagonal; antisymmetric ones on the red line\n"
                         "z(b,a) = 2c − z(a,b), drawn with the run's own centre c (axes zoomed to each head's range)"))
    for ax, name in zip(axes, order):
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
        if flag(p, "antisymmetric").iloc[0] and flag(p, "bounded").iloc[0] and pd.notna(row["swap_center"]):
            x, y = _antisym_curve(float(row["swap_center"]), lo, hi)
            ax.plot(x, y, color="firebrick", linewidth=1.2, zorder=1, label="z(b,a) = 2c − z(a,b): antisymmetric")
        ax.set(xlim=(lo, hi), ylim=(lo, hi), aspect="equal")
    bottom_xlabel(axes, "score, pair as built: s(a, b)")
    fig.supylabel("score, inputs swapped: s(b, a)")
    figure_legend(fig, axes, ncol=2)
    return fig


def view_stats(views: pd.DataFrame) -> pd.DataFrame:
    """Per run: how far apart the digit classes are in g(x) (std of the 10 class means), how wide one class is (mean
    within-class std), and the rank correlation of digit and class mean (±1: the classes in order)."""
    rows = []
    for (head, order, seed, rid), g in views.groupby(["head", "pair_order", "seed", "run_id"], observed=True):
        means = g.groupby("label")["first"].mean()
        rho = sps.spearmanr(means.index, means.to_numpy()).statistic if means.std() > 0 else np.nan
        rows.append({"head": head, "pair_order": order, "seed": seed, "run_id": rid, "between": float(means.std(ddof=0)),
                     "within": float(g.groupby("label")["first"].std(ddof=0).mean()), "rho": float(rho)})
    return pd.DataFrame(rows, columns=["head", "pair_order", "seed", "run_id", "between", "within", "rho"])


def view_words(views: pd.DataFrame, ctx: Context) -> str:
    """The view figure's numbers, one sentence per head × pair order (means over seeds)."""
    if views.empty or "first" not in views:
        return ""
    parts = []
    for (head, order), g in view_stats(views).groupby(["head", "pair_order"], observed=True):
        parts.append(f"{ctx.name('head', head)}, {ctx.name('pair_order', order)}: the 10 digit classes' mean g(x) spread "
                     f"by {g['between'].mean():.3g} (within a class {g['within'].mean():.3g}), rank correlation of "
                     f"digit and class mean {g['rho'].mean():+.2f} ({plural(len(g), 'seed')})")
    return ". ".join(parts) + "."


def image_views(runs: pd.DataFrame, files: dict, ctx: Context) -> plt.Figure | None:
    """g(x), all an additive head knows of its first image, for the test images by digit class: one panel per
    additive head and pair order, on one shared axis."""
    views = files.get("views.csv.gz", pd.DataFrame())
    if views.empty or "first" not in views:
        return None
    v = views.assign(centred=views["first"] - views.groupby("run_id")["first"].transform("median"))  # constants cancel
    keys = v[["head", "pair_order"]].drop_duplicates()
    rank = {o: i for i, o in enumerate(ctx.words.levels(keys["pair_order"], "pair_order"))}
    keys = keys.assign(r=keys["pair_order"].map(rank)).sort_values(["head", "r"])
    titles = [f"{ctx.name('head', h)}, {ctx.name('pair_order', o)}\n"
              f"{seeds_text(v[(v['head'] == h) & (v['pair_order'] == o)].groupby('label')['run_id'].nunique())}"
              for h, o in zip(keys["head"], keys["pair_order"])]
    fig, axes = grid(len(keys), 5.4, 4.2, cols=2, top_lines=3, sharey=True, panel_titles=titles, suptitle=(
        "What an additive head knows of an image: one number, g(x) (z(a,b) = g(a) + h(b) + c)\n"
        "boxes: the test images of each digit (5–95 %), pooled over seeds; diamonds: each seed's class mean"))
    digits = sorted(v["label"].unique())
    for ax, (head, order) in zip(axes, zip(keys["head"], keys["pair_order"])):
        p = v[(v["head"] == head) & (v["pair_order"] == order)]
        sns.boxplot(p, x="label", y="centred", order=digits, color="#9ecae1", showfliers=False, whis=(5, 95), ax=ax)
        means = p.groupby(["seed", "label"])["centred"].mean().reset_index()  # one diamond per seed and digit
        slot = {d: i for i, d in enumerate(digits)}
        jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(means))
        ax.scatter(means["label"].map(slot) + jitter, means["centred"], marker="D", s=16, color="black", zorder=3)
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set(xlabel="digit class of the test image", ylabel="g(x) − median of the run")
    return fig


def spread_curves(hist: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """The histories the spread figure draws: sigmoid outputs only (a distance is on another scale), one named
    curve per head, depth and pair order, with its structure."""
    if hist.empty or "test_score_std" not in hist:
        return pd.DataFrame()
    h = hist[flag(hist, "bounded")]
    kind = np.where(flag(h, "additive"), "additive", "interacting")
    return h.assign(curve=[p.replace("\n", ", ") for p in h["panel"]], structure=kind)


def collapse_words(hist: pd.DataFrame, ctx: Context) -> str:
    """The spread figure's numbers: the spread after the first and the last epoch, per curve (means over seeds)."""
    h = spread_curves(hist, ctx)
    if h.empty:
        return ""
    parts = []
    for curve, g in h.groupby("curve", sort=False):
        first, last = g["epoch"].min(), g["epoch"].max()
        a, b = g.loc[g["epoch"] == first, "test_score_std"].mean(), g.loc[g["epoch"] == last, "test_score_std"].mean()
        parts.append(f"{curve} ({g['structure'].iloc[0]}): {a:.3f} after epoch {first}, {b:.3f} after epoch {last}")
    return ("Spread of the sigmoid output over the test pairs (std): " + "; ".join(parts) + ". The histories record "
            "the end of each epoch, so a collapse within the first epoch shows as a curve that starts low.")


def collapse_over_training(runs: pd.DataFrame, files: dict, ctx: Context) -> plt.Figure | None:
    """The spread (std) of the sigmoid output over the test pairs per epoch, one line per head (mean over seeds,
    band: their range): additive heads dashed, heads with an interaction term solid; each line its own colour and
    marker, and the legend lists only what is drawn."""
    h = spread_curves(files.get("history.csv", pd.DataFrame()), ctx)
    if h.empty:
        return None
    h = h.assign(spread=h["test_score_std"].clip(lower=1e-5))  # a log axis: a spread of 0 drawn at 1e-5
    curves = list(dict.fromkeys(h["curve"]))
    colours, fig = palette(len(curves)), plt.figure(figsize=(9, 6.2), layout="constrained")
    ax = fig.add_subplot()
    for i, curve in enumerate(curves):
        g = h[h["curve"] == curve].groupby("epoch")["spread"]
        stats_ = g.agg(["mean", "min", "max"]).reset_index()
        additive = h.loc[h["curve"] == curve, "structure"].iloc[0] == "additive"
        ax.plot(stats_["epoch"], stats_["mean"], color=colours[i], marker=MARKERS[i % len(MARKERS)], markersize=5,
                markevery=max(1, len(stats_) // 8), linestyle="--" if additive else "-", linewidth=1.6,
                label=f"{curve} ({'additive' if additive else 'interacting'})")
        ax.fill_between(stats_["epoch"], stats_["min"], stats_["max"], color=colours[i], alpha=0.12, linewidth=0)
    ax.set(yscale="log", xlabel="epoch", ylabel="std of the sigmoid output over test pairs (log scale)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles, labels = ax.get_legend_handles_labels()
    below(fig, handles, [wrap(lb, 4.2, 9) for lb in labels], cols=2, fontsize=9)
    title(fig, "The output's spread over the test pairs per epoch\nadditive heads dashed, interacting solid; line: mean "
               f"over {seeds_text(h.groupby('curve')['run_id'].nunique())}, band: their range")
    return fig
