"""`python -m ablation.report`: tables, plots and the written answer from every run under results/.

Hydra, like the sweep: the same `key=value` overrides (results_dir=..., where.head=[subtract,absdiff]),
unknown keys rejected by the config's struct mode, no output folders of its own (conf/report.yaml).
"""

from __future__ import annotations

import hydra
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from .build import Analysis, make_report
from .labels import CELL, pct
from .select import where


def terminal_table(a: Analysis) -> str:
    """A compact view of the cells the verdicts use: setting, seeds, mean test accuracy ± CI half-width."""
    t = where(a.summary, **a.ctx)
    varying = [f for f in CELL if f not in a.ctx and t[f].nunique() > 1] or ["head"]
    view = t[varying].astype(str).copy()
    view["seeds"] = t["n"].astype(int)
    view["test acc"] = [pct(m) + (f" ± {100 * (hi - m):.1f}" if n > 1 else "") for m, hi, n in zip(t["acc_mean"], t["acc_hi"], t["n"])]
    view["both orders"] = [pct(v) for v in t["test_acc_both_orders"]]
    return view.to_string(index=False)


def terminal_summary(a: Analysis, report: str) -> str:
    ctx = ", ".join(f"{k}={v}" for k, v in a.ctx.items())
    lines = [f"Test accuracy over seeds (mean ± 95 % CI half-width; {ctx}):", terminal_table(a), "", "Claims of DESIGN §2:"]
    for c in a.claims:
        lines.append(f"  {c.number}. {c.title:<48} {c.verdict.upper()}")
        lines += [f"       {k.verdict:<12} {k.what}" + (f"\n                    measure it: {k.command}" if k.command else "")
                  for k in c.checks if k.verdict != "supported"]
    problems = a.runs["status"].value_counts().drop("completed", errors="ignore")
    if len(problems):
        lines.append("Not in the statistics: " + ", ".join(f"{n} {s}" for s, n in problems.items()) + " (listed in the report)")
    lines.append(f"Report: {report}")
    return "\n".join(lines)


@hydra.main(version_base="1.3", config_path="../conf", config_name="report")
def main(cfg: DictConfig) -> None:
    pd.set_option("display.width", 200)
    filters = OmegaConf.to_container(cfg.where, resolve=True)
    a, path = make_report(cfg.results_dir, cfg.out_dir, filters, plots=cfg.plots, workers=cfg.workers)
    print(terminal_summary(a, str(path)))


if __name__ == "__main__":
    main()
