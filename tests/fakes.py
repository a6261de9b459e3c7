"""Synthetic run folders in the exact format of ablation/sweep.py, for report tests and the speed benchmark.

Scores follow the mechanism of docs/mechanism.md (symmetric heads separate the pairs; subtract without a hidden
layer is antisymmetric and collapsed on random-order pairs, and learns on sorted pairs); the metrics are computed
from those scores with the real `ablation.diagnostics.diagnose`, so a fake run is internally consistent. Runs of
subtract without a hidden layer also get the head's 1-D view of each test image (views.csv.gz).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ablation.diagnostics import diagnose

BASE = {"head": "distance", "depth": 0, "encoder": "mlp", "loss": "contrastive", "convention": "distance",
        "pair_order": "random", "data": "mnist5k", "seed": 0, "epochs": 20}


def fake_id(factors: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(factors, sort_keys=True).encode()).hexdigest()[:12]


def fake_scores(f: dict[str, Any], n: int = 200, rng: np.random.Generator | None = None) -> pd.DataFrame:
    """Test-pair scores in both orders that behave as docs/mechanism.md predicts for the run's factors."""
    rng = rng or np.random.default_rng(f["seed"])
    label = np.tile([1, 0], n // 2)
    same = label == 1
    sign = 1.0 if f["convention"] == "similarity" else -1.0  # high score means "same" under similarity
    if f["head"] == "distance":
        works = f["convention"] == "distance"
        d = np.where(same, rng.gamma(2, 0.1, n), rng.normal(1.1, 0.25, n).clip(0.05)) if works else rng.gamma(2, 0.3, n)
        return pd.DataFrame({"a": np.arange(n), "b": np.arange(n) + n, "label": label, "s_ab": d, "s_ba": d,
                             "z_ab": np.nan, "z_ba": np.nan})
    c = sign * rng.uniform(0.005, 0.02) if f["head"] == "subtract" and f["depth"] == 0 else rng.normal(0, 0.5)
    if f["head"] == "subtract" and f["depth"] == 0:
        # the control learns (≈ 95 %), random order collapses: |u| < |c| for almost every pair, so one answer for all
        informative, noise = (4.0, 1.2) if f["pair_order"] == "sorted" else (0.0, 0.002)
        u = rng.normal(0, noise, n) + informative * sign * np.where(same, 1, -1) * rng.uniform(0.3, 1, n)
        z_ab = c + u
        z_ba = 2 * c - z_ab  # exactly antisymmetric
    else:
        z_ab = c + 5 * sign * np.where(same, 1, -1) * rng.uniform(0.2, 1, n) + rng.normal(0, 0.5, n)
        z_ba = z_ab.copy() if f["head"] != "subtract" else z_ab + rng.normal(0, 0.3, n)
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    return pd.DataFrame({"a": np.arange(n), "b": np.arange(n) + n, "label": label, "s_ab": sig(z_ab), "s_ba": sig(z_ba),
                         "z_ab": z_ab, "z_ba": z_ba, "_c": c})


def fake_metrics(f: dict[str, Any], scores: pd.DataFrame) -> dict[str, Any]:
    c = float(scores["_c"].iloc[0]) if "_c" in scores and f["depth"] == 0 else None
    z = scores["z_ab"].to_numpy() if scores["z_ab"].notna().all() else None
    m = diagnose(scores["s_ab"].to_numpy(), scores["s_ba"].to_numpy(), scores["label"].to_numpy(), f["convention"],
                 z_ab=z, z_ba=None if z is None else scores["z_ba"].to_numpy(), bias=c)
    return {**m, "train_acc": min(1.0, m["test_acc"] + 0.04), "final_loss": 0.1, "epochs_run": f["epochs"],
            "n_train_pairs": 4 * len(scores), "n_test_pairs": len(scores), "n_params": 133633,
            "neg_smaller_first": 1.0 if f["pair_order"] == "sorted" else 0.5 + 0.005 * (f["seed"] % 3 - 1),
            "wall_time_s": 5.0}


TARGETS = {  # short name → the component class the sweep records in `identity` (others: a user's module)
    "head": {"distance": "ablation.heads.Distance", "subtract": "ablation.heads.Subtract", "absdiff": "ablation.heads.AbsDiff",
             "sqdiff": "ablation.heads.SqDiff", "concat": "ablation.heads.Concat"},
    "encoder": {"mlp": "ablation.encoders.MLP", "cnn": "ablation.encoders.CNN"},
    "loss": {"contrastive": "ablation.losses.Contrastive", "bce": "ablation.losses.BCE"},
    "data": {"mnist5k": "ablation.data.Mnist5k", "mnist": "ablation.data.Mnist", "fashion_mnist": "ablation.data.FashionMnist"},
}
TRAIN = {"train.lr": 0.001, "train.batch_size": 128, "train.rho": 0.9, "train.eps": 1e-07, "train.init": "keras"}


def target(group: str, name: str) -> str:
    return TARGETS[group].get(name, f"user_{group}s.{name.capitalize()}")


def fake_identity(f: dict[str, Any], extra: dict[str, Any] | None = None, code: str | None = None) -> dict[str, Any]:
    """The `identity` the sweep would record for these factors (dotted keys), with `extra` keys changed or added."""
    from ablation.identity import code_fingerprint

    targets = {g: target(g, f[g]) for g in ("data", "encoder", "head", "loss")}
    ident: dict[str, Any] = {**{f"{g}._target_": t for g, t in targets.items()}, "depth": f["depth"], "seed": f["seed"],
                             "loss.convention": f["convention"], "data.pair_order": f["pair_order"],
                             "train.epochs": f["epochs"], **TRAIN, "data.content": f"fake-{f['data']}"}
    if f["head"] != "distance":
        ident["head.hidden"] = 128
    ident.update(extra or {})
    ident["code"] = code or code_fingerprint(ident[f"{g}._target_"] for g in ("data", "encoder", "head", "loss"))
    return ident


def fake_traits(f: dict[str, Any], ident: dict[str, Any], traits: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `traits` the sweep would record: from the built-in classes, or `traits` for a user's component."""
    from hydra.utils import get_class

    from ablation.contract import HEAD_FLAGS, label_of

    out: dict[str, Any] = {"weightless": False, "bounded": True, "symmetric": False, "antisymmetric": False}
    for g in ("head", "encoder", "loss", "data"):
        try:
            cls = get_class(ident[f"{g}._target_"])
        except Exception:  # noqa: BLE001 - a user's class that only exists in the record
            out[f"{g}_label"] = f[g]
            continue
        out[f"{g}_label"] = label_of(cls)
        if g == "head":
            out.update({flag: bool(getattr(cls, flag, False)) for flag in HEAD_FLAGS})
    out.update({"same_high": f["convention"] == "similarity", "threshold": 0.5})
    return {**out, **(traits or {})}


def fake_views(f: dict[str, Any], n: int = 200) -> pd.DataFrame:
    """w·f(x) per test image for subtract without a hidden layer: one value (random order) or ordered by class (sorted)."""
    rng = np.random.default_rng(f["seed"] + 1)
    label = np.arange(n) % 10
    sign = 1.0 if f["convention"] == "similarity" else -1.0
    view = sign * 0.8 * label + rng.normal(0, 0.4, n) if f["pair_order"] == "sorted" else 0.3 + rng.normal(0, 0.003, n)
    return pd.DataFrame({"image": np.arange(n), "label": label, "view": view})


def write_run(runs_dir: Path, status: str = "completed", metrics: dict | None = None, scores: bool = True,
              history: bool = True, n: int = 200, identity: dict | None = None, traits: dict | None = None,
              code: str | None = None, legacy: bool = False, **factors: Any) -> Path:
    """One run folder; `metrics` overrides the computed metrics (e.g. to plant a contradicting run).

    `identity` changes or adds identity keys (e.g. {"train.lr": 0.003}), `traits` the declared traits (a user's
    head), `code` the code fingerprint (default: the current code's); `legacy` writes a record from before runs
    had an identity, code and traits.
    """
    f = {**BASE, **factors}
    ident = fake_identity(f, identity, code)
    key = {**f, **(identity or {}), **({"_code": code} if code else {}), **({"_legacy": True} if legacy else {})}
    rid = fake_id({**key, "_status": status}) if status != "completed" else fake_id(key)
    folder = runs_dir / rid
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(f"head:\n  _target_: {ident['head._target_']}\ndepth: {f['depth']}\n"
                                        f"seed: {f['seed']}\n")
    rec: dict[str, Any] = {"run_id": rid, "status": status, "factors": f, "overrides": [], "versions": {},
                           "finished_at": "2026-01-01T00:00:00+0000"}
    if not legacy:
        rec.update({"identity": ident, "code": ident["code"], "traits": fake_traits(f, ident, traits)})
    if status == "completed":
        s = fake_scores(f, n)
        rec["metrics"] = {**fake_metrics(f, s), **(metrics or {})}
        rec["error"] = None
        if scores:
            s.drop(columns="_c", errors="ignore").to_csv(folder / "scores.csv.gz", index=False)
        if history:
            ep = np.arange(1, f["epochs"] + 1)
            final = rec["metrics"]["test_acc"]
            grow = 0.5 + (final - 0.5) * (1 - np.exp(-ep / 3))
            spread = rec["metrics"]["score_std"] + (0.1 - rec["metrics"]["score_std"]) * np.exp(-ep / 3)
            pd.DataFrame({"epoch": ep, "loss": 1 / ep, "train_acc": np.minimum(grow + 0.03, 1), "test_acc": grow,
                          "test_score_std": spread, "seconds": 0.3}).to_csv(folder / "history.csv", index=False)
        if f["head"] == "subtract" and f["depth"] == 0:
            fake_views(f, n).to_csv(folder / "views.csv.gz", index=False)
    elif status == "skipped":
        rec["reason"] = "does not apply"
    else:
        rec["error"] = "RuntimeError: boom"
        (folder / "error.txt").write_text("Traceback ...\nRuntimeError: boom\n")
    (folder / "metrics.json").write_text(json.dumps(rec))
    return folder


SEED_QUESTION = (  # the cells of conf/experiment/seed_question.yaml
    [{"head": h, "depth": d} for h in ("distance", "subtract", "absdiff") for d in (0, 1)]
    + [{"head": h, "convention": "similarity"} for h in ("distance", "subtract", "absdiff")]
    + [{"head": "subtract", "pair_order": "sorted"}]
    + [{"head": h, "encoder": "cnn"} for h in ("distance", "subtract")]
    + [{"head": h, "loss": "bce", "convention": c} for h in ("subtract", "absdiff") for c in ("distance", "similarity")]
)


def skipped(f: dict[str, Any]) -> bool:
    return f.get("head") == "distance" and (f.get("depth", 0) > 0 or f.get("loss") == "bce")


def write_study(results: Path, cells: list[dict] = SEED_QUESTION, seeds: int = 3, n: int = 200) -> list[Path]:
    """Every cell × seed as a run folder (weightless-head cells that make no sense as skipped runs)."""
    runs_dir = results / "runs"
    return [write_run(runs_dir, "skipped" if skipped(c) else "completed", n=n, seed=s, **c)
            for c in cells for s in range(seeds)]


def full_grid() -> list[dict]:
    keys = ("head", "depth", "encoder", "loss", "convention", "pair_order")
    values = (("distance", "subtract", "absdiff", "sqdiff"), (0, 1, 2), ("mlp", "cnn"), ("contrastive", "bce"),
              ("distance", "similarity"), ("random", "sorted"))
    return [dict(zip(keys, v)) for v in itertools.product(*values)]


def write_broken(runs_dir: Path, k: int = 0) -> list[Path]:
    """One of each kind of run the report must list without crashing: partial, corrupt, failed, diverged."""
    out = []
    partial = runs_dir / f"partial{k:06d}"
    partial.mkdir(parents=True, exist_ok=True)
    (partial / "config.yaml").write_text("head:\n  _target_: ablation.heads.AbsDiff\ndepth: 1\nseed: 0\n")
    out.append(partial)
    corrupt = runs_dir / f"corrupt{k:06d}"
    corrupt.mkdir(parents=True, exist_ok=True)
    (corrupt / "metrics.json").write_text('{"status": "completed", "factors": {"head": ')  # truncated write
    out.append(corrupt)
    out.append(write_run(runs_dir, "failed", head="subtract", seed=100 + k))
    out.append(write_run(runs_dir, "diverged", head="absdiff", seed=100 + k))
    return out
