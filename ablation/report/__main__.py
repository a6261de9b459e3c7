"""`python -m ablation.report`: tables, plots and the written answer from every run under results/.

Hydra, like the sweep: the same `key=value` overrides (results_dir=..., code=all), no output folders of its own
(conf/report.yaml). `where` is open: `where.<factor or dotted identity key>=value` (or `[v1,v2]`) keeps only the
runs with that value, e.g. `where.head=[subtract,absdiff] where.optimizer.lr=0.003`; a key no run has is an error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from ablation import errors
from ablation.identity import flatten
from ablation.store import unwritable

from .build import make_report
from .document import Analysis, answer_text
from .judge import HOLDS, SUPPORTED
from .load import ReportError
from .select import where
from .tables import runs_text
from .words import CONTEXT, pct


def open_where(args: list[str]) -> list[str]:
    """`where.optimizer.lr=0.003` → `++where.optimizer.lr=0.003`: `where` starts empty and takes any key, which Hydra's
    struct mode would otherwise refuse (unknown keys elsewhere are still rejected)."""
    return [f"++{a}" if a.startswith("where.") else a for a in args]


def terminal_table(a: Analysis) -> str:
    """A compact view of the cells at the common (data, epochs): setting, seeds, mean test accuracy ± CI half-width."""
    t = where(a.summary, **{k: v for k, v in a.ctx.fixed.items() if k in CONTEXT})
    varying = [f for f in a.cell if f not in CONTEXT and t[f].nunique(dropna=False) > 1] or ["head"]
    view = t[varying].astype(str).copy()
    view["seeds"] = [runs_text(int(n), int(f), int(d), dup) for n, f, d, dup in
                     zip(t["n"], t["failed"], t["diverged"], t["duplicate_seeds"])]
    view["test acc"] = [pct(m) + (f" ± {100 * (hi - m):.1f}" if n > 1 else "") for m, hi, n in zip(t["acc_mean"], t["acc_hi"], t["n"])]
    view["both orders"] = [pct(v) for v in t["test_acc_both_orders"]]
    return view.to_string(index=False)


def terminal_summary(a: Analysis, report: str) -> str:
    fixed = a.ctx.fixed
    ctx = ", ".join(f"{k}={v}" for k, v in fixed.items() if k in CONTEXT)
    lines = [answer_text(a), "", f"Test accuracy over seeds (mean ± 95 % CI half-width; {ctx}):", terminal_table(a), "",
             "Claims of the mechanism" + (f" (at {', '.join(f'{k}={v}' for k, v in fixed.items() if k not in CONTEXT)})"
                                          if any(k not in CONTEXT for k in fixed) else "") + ":"]
    for c in a.claims:
        lines.append(f"  {c.number}. {c.title:<72} {c.verdict.upper()}")
        lines += [f"       {k.verdict:<12} {k.what}" + (f"\n                    measure it: {k.command}" if k.command else "")
                  for k in c.checks if k.verdict not in (SUPPORTED, HOLDS)]
    for recipe, claims in a.recipes:
        lines.append(f"Under {a.ctx.setting(recipe)}: " + ", ".join(f"{c.number}. {c.verdict}" for c in claims))
    lines.append("Accounts: " + "; ".join(f"({x.key}) {x.statement}: {x.verdict}" for x in a.accounts))
    problems = a.runs["status"].value_counts().drop("completed", errors="ignore")
    if len(problems):
        lines.append("Not in the statistics: " + ", ".join(f"{n} {s}" for s, n in problems.items()) + " (listed in the report)")
    if len(a.other_code):
        lines.append(f"Set aside: {int(a.other_code['runs'].sum())} runs made by other code "
                     f"({', '.join(map(str, a.other_code['code']))}); code=all includes them")
    lines.append(f"Report: {report}")
    return "\n".join(lines)


OPTIONS = ("results_dir", "out_dir", "plots", "workers", "code", "where")  # conf/report.yaml: what main reads


def unknown_option(key: str, value: object) -> str:
    """The line for an option the report does not take: a misspelt option, or a filter written the sweep's way
    (`head=subtract`), which is the report's `where.head=subtract`."""
    import difflib

    near = difflib.get_close_matches(key, OPTIONS, n=1, cutoff=0.75)
    if near:
        return f"{key}={value}: no such option; did you mean {near[0]}={value}?"
    return (f"{key}={value}: no such option (the report takes {', '.join(OPTIONS[:-1])}, where.<key>); to keep only "
            f"the runs with {key}={value}, write where.{key}={value}")


def check_args(args: list[str]) -> None:
    """Refuse, before Hydra composes anything, an override of a key the report does not take: `head=subtract` names a
    config group of the sweep's folder, which Hydra would compose into the report's config, filtering nothing."""
    for a in args:
        if a.startswith("-") or "=" not in a:
            continue
        key, value = a.lstrip("+~").split("=", 1)
        if key.split(".")[0] not in (*OPTIONS, "hydra") and key.split("/")[0] != "hydra":
            raise ReportError(unknown_option(key, value))


def check_options(cfg: DictConfig) -> None:
    """Refuse a bad option with one line before any run is read (the others are checked where they are used:
    `code` and `where`'s keys by make_report, results_dir by load_runs)."""
    extra = {k: cfg[k] for k in cfg if k not in OPTIONS and k != "hydra"}
    for key, value in flatten({k: OmegaConf.to_container(v) if OmegaConf.is_config(v) else v
                               for k, v in extra.items()}).items():
        raise ReportError(unknown_option(key, value))
    if not isinstance(cfg.plots, bool):
        raise ReportError(f"plots={cfg.plots!r}: must be true or false")
    if isinstance(cfg.workers, bool) or not isinstance(cfg.workers, int) or cfg.workers < 1:
        raise ReportError(f"workers={cfg.workers!r}: must be an integer >= 1 (processes drawing the plots)")
    if cfg.where is not None and not OmegaConf.is_dict(cfg.where):
        raise ReportError(f"where={cfg.where!r}: must be filters such as where.head=subtract or where.seed=[0,1]")
    problem = unwritable(Path(str(cfg.out_dir)), "out_dir", keep=False)  # made only once there are runs to report
    if problem:
        raise ReportError(problem)


@hydra.main(version_base="1.3", config_path="../conf", config_name="report")
def main(cfg: DictConfig) -> None:
    with errors.one_line():
        check_options(cfg)
        pd.set_option("display.width", 200)
        filters = OmegaConf.to_container(cfg.where, resolve=True) if cfg.where is not None else {}
        a, path = make_report(cfg.results_dir, cfg.out_dir, filters, plots=cfg.plots, workers=cfg.workers,
                              code=cfg.code)
        print(terminal_summary(a, str(path)))


if __name__ == "__main__":
    try:
        check_args(sys.argv[1:])
    except ReportError as e:
        errors.refuse(e)
    sys.argv[1:] = open_where(sys.argv[1:])
    errors.entry(main)
