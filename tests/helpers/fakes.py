"""Synthetic run folders in the exact format of a sweep's (their records as ablation.run.record writes them), for
report tests and the speed benchmark.

A fake run records the structure its head would measure (STRUCTURES: the residuals the built-in heads measure at
initialisation; a hidden layer makes any merge interacting) and behaves as docs/mechanism.md predicts from it:
additive heads carry no information on random-order pairs, additive heads that are not symmetric learn on sorted
pairs, interacting heads learn (a weightless head only under "same → low"). The metrics are computed from those
scores with the real `ablation.diagnostics.diagnose`, so a fake run is internally consistent. Every completed
run also writes history.csv, scores.csv.gz and views.csv.gz.
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
from ablation.run.record import Record, file_record
from ablation.store import FLOAT_FORMAT

RECIPE = {"optimizer": "rmsprop", "schedule": "none"}  # the recipe of TRAIN, by option name: in every record's factors
BASE = {"head": "distance", "depth": 0, "encoder": "mlp", "loss": "contrastive", "convention": "distance",
        "pair_order": "random", "data": "mnist5k", "seed": 0, "epochs": 20}


# (interaction, symmetry residual, antisymmetry residual, identical-input spread) at initialisation, depth 0, as the
# built-in heads measure them (ablation/structure.py); a head of a user's module defaults to "interacting, neither".
STRUCTURES = {
    "distance": (1.3, 0.0, 1.9, 0.0), "subtract": (2.7e-16, 2.0, 0.0, 0.0), "absdiff": (1.5, 0.0, 1.9, 0.0),
    "sqdiff": (1.5, 0.0, 1.9, 0.0), "concat": (4.7e-16, 1.4, 1.4, 0.9), "sum": (8.7e-16, 0.0, 2.1, 1.4),
    "product": (0.7, 0.0, 2.0, 1.4),
}
INTERACTING = (0.8, 1.2, 1.0, 1.1)
STRUCTURE_METRICS = ("interaction", "symmetry_residual", "antisymmetry_residual", "identical_spread", "logit_scale",
                     "rectangles", "test_auc_", "swap_center")


def residuals(f: dict[str, Any]) -> tuple[float, float, float, float]:
    """What a fake run's head measures at initialisation: any hidden layer makes it interacting."""
    inter, sym, anti, ident = STRUCTURES.get(f["head"], INTERACTING)
    if f["depth"] > 0:
        inter, anti = max(inter, 0.5), max(anti, 1.0)
    return inter, sym, anti, ident


def learns(f: dict[str, Any]) -> bool:
    """What the mechanism predicts for the fake run's factors (so fakes are consistent with the theory)."""
    inter, sym, _, _ = residuals(f)
    if f["head"] == "distance":
        return f["convention"] == "distance"
    if inter > 1e-9:
        return True
    return f["pair_order"] == "sorted" and sym > 1e-9


def fake_id(factors: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(factors, sort_keys=True).encode()).hexdigest()[:12]


def fake_scores(f: dict[str, Any], n: int = 200, rng: np.random.Generator | None = None) -> pd.DataFrame:
    """Test-pair scores in both orders that behave as docs/mechanism.md predicts for the run's factors."""
    rng = rng or np.random.default_rng(f["seed"])
    label = np.tile([1, 0], n // 2)
    same = label == 1
    sign = 1.0 if f["convention"] == "similarity" else -1.0  # high score means "same" under similarity
    inter, sym, anti, _ = residuals(f)
    if f["head"] == "distance":
        d = np.where(same, rng.gamma(2, 0.1, n), rng.normal(1.1, 0.25, n).clip(0.05)) if learns(f) else rng.gamma(2, 0.3, n)
        return pd.DataFrame({"a": np.arange(n), "b": np.arange(n) + n, "label": label, "s_ab": d, "s_ba": d,
                             "z_ab": np.nan, "z_ba": np.nan})
    c = sign * rng.uniform(0.005, 0.02)
    strength = (4.0 if inter <= 1e-9 else 5.0) if learns(f) else 0.0
    u = rng.normal(0, 1.2 if learns(f) else 0.002, n) + strength * sign * np.where(same, 1, -1) * rng.uniform(0.3, 1, n)
    z_ab = c + u
    if anti == 0.0:
        z_ba = 2 * c - z_ab
    elif sym == 0.0:
        z_ba = z_ab.copy()
    elif inter <= 1e-9:  # additive, ranking the digits: a swapped different pair lands on the wrong side (theorem 2)
        z_ba = np.where(same, z_ab, 2 * c - z_ab)
    else:
        z_ba = z_ab + rng.normal(0, 0.3, n)
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    return pd.DataFrame({"a": np.arange(n), "b": np.arange(n) + n, "label": label, "s_ab": sig(z_ab), "s_ba": sig(z_ba),
                         "z_ab": z_ab, "z_ba": z_ba})


def fake_metrics(f: dict[str, Any], scores: pd.DataFrame) -> dict[str, Any]:
    z = scores["z_ab"].to_numpy() if scores["z_ab"].notna().all() else None
    m = diagnose(scores["s_ab"].to_numpy(), scores["s_ba"].to_numpy(), scores["label"].to_numpy(), f["convention"],
                 z_ab=z, z_ba=None if z is None else scores["z_ba"].to_numpy())
    inter, sym, anti, ident = residuals(f)
    measured = {"interaction": inter, "symmetry_residual": sym, "antisymmetry_residual": anti, "identical_spread": ident,
                "logit_scale": 1.0}
    structure = {**{f"{k}_init": v for k, v in measured.items()}, **measured,
                 "rectangles_all_right": 0.0 if inter <= 1e-9 else (0.7 if learns(f) else 0.02)}
    return {**m, **structure, "train_acc": min(1.0, m["test_acc"] + 0.04), "final_loss": 0.1, "epochs_run": f["epochs"],
            "n_train_pairs": 4 * len(scores), "n_test_pairs": len(scores), "n_params": 133633,
            "neg_smaller_first": 1.0 if f["pair_order"] == "sorted" else 0.5 + 0.005 * (f["seed"] % 3 - 1),
            "wall_time_s": 5.0}


TARGETS = {  # short name → the component class the sweep records in `identity` (others: a user's module)
    "head": {"distance": "ablation.heads.Distance", "subtract": "ablation.heads.Subtract", "absdiff": "ablation.heads.AbsDiff",
             "sqdiff": "ablation.heads.SqDiff", "concat": "ablation.heads.Concat", "sum": "ablation.heads.Sum",
             "product": "ablation.heads.Product"},
    "encoder": {"mlp": "ablation.encoders.MLP", "cnn": "ablation.encoders.CNN"},
    "loss": {"contrastive": "ablation.losses.Contrastive", "bce": "ablation.losses.BCE"},
    "data": {"mnist5k": "ablation.data.Mnist5k", "mnist": "ablation.data.Mnist", "fashion_mnist": "ablation.data.FashionMnist"},
}
TRAIN = {"train.batch_size": 128, "train.init": "keras", "optimizer._target_": "torch.optim.RMSprop",
         "optimizer._partial_": True, "optimizer.lr": 0.001, "optimizer.alpha": 0.9, "optimizer.eps": 1e-07,
         "optimizer.weight_decay": 0.0, "optimizer.momentum": 0.0, "optimizer.centered": False}


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

    out: dict[str, Any] = {"weightless": False, "bounded": True, "loss_convex": f["loss"] == "bce"}
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
    """z(x, r) and z(r, x) per test image: for an additive head one value for every class (it learns nothing) or
    ordered by class (sorted pairs, a head that is not symmetric); noise for an interacting head."""
    rng = np.random.default_rng(f["seed"] + 1)
    label = np.arange(n) % 10
    sign = 1.0 if f["convention"] == "similarity" else -1.0
    first = sign * 0.8 * label + rng.normal(0, 0.4, n) if learns(f) else 0.3 + rng.normal(0, 0.003, n)
    return pd.DataFrame({"image": np.arange(n), "label": label, "first": first, "second": -first + 0.1})


# As a run writes its tables (ablation.store.write_csv's FLOAT_FORMAT), compressed at gzip's fastest level:
# a study of many runs is written in a fraction of the time, and read back the same.
CSV = {"index": False, "float_format": FLOAT_FORMAT, "compression": {"method": "gzip", "compresslevel": 1}}


def write_run(runs_dir: Path, status: str = "completed", metrics: dict | None = None, scores: bool = True,
              history: bool = True, n: int = 200, identity: dict | None = None, traits: dict | None = None,
              code: str | None = None, legacy: bool = False, **factors: Any) -> Path:
    """One run folder; `metrics` overrides the computed metrics (e.g. to plant a contradicting run).

    `identity` changes or adds identity keys (e.g. {"optimizer.lr": 0.003}), `traits` the declared traits (a user's
    head), `code` the code fingerprint (default: the current code's); `legacy` writes a record from before runs
    had an identity, code, traits and its files' hashes.
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
        rec.update({"factors": {**RECIPE, **f}, "identity": ident, "code": ident["code"],
                    "traits": fake_traits(f, ident, traits)})
    if status == "completed":
        s = fake_scores(f, n)
        rec["metrics"] = {**fake_metrics(f, s), **(metrics or {})}
        if legacy:  # written before runs measured their head's structure and the AUC's interval
            rec["metrics"] = {k: v for k, v in rec["metrics"].items() if not k.startswith(STRUCTURE_METRICS)}
        rec["error"] = None
        if scores:
            s.to_csv(folder / "scores.csv.gz", **CSV)
        if history:
            ep = np.arange(1, f["epochs"] + 1)
            final = rec["metrics"]["test_acc"]
            grow = 0.5 + (final - 0.5) * (1 - np.exp(-ep / 3))
            spread = rec["metrics"]["score_std"] + (0.1 - rec["metrics"]["score_std"]) * np.exp(-ep / 3)
            pd.DataFrame({"epoch": ep, "loss": 1 / ep, "train_acc": np.minimum(grow + 0.03, 1), "test_acc": grow,
                          "test_score_std": spread, "seconds": 0.3}).to_csv(folder / "history.csv", index=False)
        fake_views(f, n).to_csv(folder / "views.csv.gz", **CSV)
    elif status == "skipped":
        rec["reason"] = "does not apply"
    else:
        rec["error"] = "RuntimeError: boom"
        (folder / "error.txt").write_text("Traceback ...\nRuntimeError: boom\n")
    if not legacy:  # each file's size and hash, as a sweep records them; written as this version's record
        rec = Record(**rec, files=file_record(folder)).to_json()
    (folder / "metrics.json").write_text(json.dumps(rec))  # legacy: as records were written before they had a version
    return folder


QUESTION = (  # the cells of conf/experiment/question.yaml
    [{"head": h, "depth": d} for h in ("distance", "subtract", "absdiff") for d in (0, 1)]
    + [{"head": h, "convention": "similarity"} for h in ("distance", "subtract", "absdiff")]
    + [{"head": "subtract", "pair_order": "sorted"}]
    + [{"head": h, "encoder": "cnn"} for h in ("distance", "subtract")]
    + [{"head": h, "loss": "bce", "convention": c} for h in ("subtract", "absdiff") for c in ("distance", "similarity")]
    + [{"head": h, "pair_order": o} for h in ("sum", "concat") for o in ("random", "sorted")]
    + [{"head": "product"}]
)


def skipped(f: dict[str, Any]) -> bool:
    return f.get("head") == "distance" and (f.get("depth", 0) > 0 or f.get("loss") == "bce")


def write_study(results: Path, cells: list[dict] = QUESTION, seeds: int = 3, n: int = 200) -> list[Path]:
    """Every cell × seed as a run folder (weightless-head cells that make no sense as skipped runs)."""
    runs_dir = results / "runs"
    return [write_run(runs_dir, "skipped" if skipped(c) else "completed", n=n, seed=s, **c)
            for c in cells for s in range(seeds)]


def full_grid() -> list[dict]:
    keys = ("head", "depth", "encoder", "loss", "convention", "pair_order")
    values = (("distance", "subtract", "absdiff", "sqdiff", "concat", "sum", "product"), (0, 1, 2), ("mlp", "cnn"), ("contrastive", "bce"),
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
