"""The report's text: blocks built from the analysis. Every sentence with a number takes it from the runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ablation.store import write_text

from .build import FIGURES, Analysis
from .labels import CELL, pct, setting, value_name
from .render import Block, Bullets, Code, Heading, Image, Para, Table, to_html, to_markdown
from .select import BASELINE, measured, where
from .stats import mean_ci
from .tables import effects_words, summary_words
from .verdicts import CONTRADICTED, NOT_MEASURED, SUPPORTED, THRESHOLDS

TITLE = "Why subtract + a single dense layer fails: what the runs show"


def provenance(a: Analysis, results_dir: Path) -> str:
    counts = a.runs["status"].value_counts()
    status = ", ".join(f"{n} {s}" for s, n in counts.items())
    m = measured(a.runs)
    inside = where(m, **a.ctx)
    ctx = ", ".join(value_name(k, v) for k, v in a.ctx.items())
    text = (f"Generated from {len(a.runs)} run folders under `{results_dir / 'runs'}` ({status}). Verdicts and plots use "
            f"the {len(inside)} completed runs with the most common setting ({ctx}).")
    if len(m) > len(inside):
        text += f" {len(m) - len(inside)} completed runs with other settings appear in the summary table only."
    return text


def in_short(a: Analysis) -> str:
    df = where(measured(a.runs), **a.ctx)
    base = where(df, **BASELINE)
    parts = []
    for head in ("subtract", "distance", "absdiff"):
        ci = mean_ci(where(base, head=head)["test_acc"])
        if ci.n:
            parts.append(f"{value_name('head', head)} {pct(ci.mean)}")
    verdicts = [c.verdict for c in a.claims]
    text = ""
    if parts:
        text = f"Mean test accuracy without a hidden layer, in the Keras setting: {'; '.join(parts)} (chance is 50 %). "
    text += (f"Of the {len(a.claims)} predictions of DESIGN §2, {verdicts.count(SUPPORTED)} are supported, "
             f"{verdicts.count(CONTRADICTED)} contradicted and {verdicts.count(NOT_MEASURED)} not measured by these runs.")
    bad = [f"{c.number} ({c.title})" for c in a.claims if c.verdict == CONTRADICTED]
    if bad:
        text += f" **The runs contradict claim{'s' if len(bad) > 1 else ''} {', '.join(bad)}**: see below."
    return text


def claim_blocks(a: Analysis) -> list[Block]:
    out: list[Block] = []
    for c in a.claims:
        out.append(Heading(3, f"{c.number}. {c.title}: {c.verdict}"))
        out.append(Para(f"*Prediction:* {c.statement}"))
        items = []
        for k in c.checks:
            item = f"**{k.verdict}** — {k.what}: {k.evidence}"
            if k.command:
                item += f". To measure it: `{k.command}`"
            items.append(item)
        out.append(Bullets(items))
        out.extend(Para(n) for n in c.notes)
    rows = [{"name": k, "value": f"{v:g}", "meaning": m} for k, (v, m) in THRESHOLDS.items()]
    out += [Para("Thresholds used by the verdicts (`ablation/report/verdicts.py`); a check is *supported* when every run "
                 "it covers meets them, *contradicted* when any does not, *not measured* without runs:"),
            Table(pd.DataFrame(rows))]
    return out


def problem_table(runs: pd.DataFrame) -> pd.DataFrame:
    bad = runs[runs["status"] != "completed"]
    known = [f for f in CELL if f != "data"]
    return pd.DataFrame({
        "run": bad["run_id"], "status": bad["status"],
        "setting": [setting({f: r[f] for f in known if pd.notna(r[f])}) or "unknown" for _, r in bad.iterrows()],
        "detail": [str(d)[:200] if pd.notna(d) else "" for d in bad["detail"]],
    })


def document(a: Analysis, results_dir: Path, drawn: dict[str, bool] | None = None) -> list[Block]:
    """The whole report; `drawn` says which figure files exist (none if not given)."""
    drawn = drawn or {}
    blocks: list[Block] = [Heading(1, TITLE), Para(provenance(a, results_dir)), Heading(2, "In short"), Para(in_short(a)),
                           Heading(2, "Why subtract + a single dense layer fails"),
                           Para("Each claim of DESIGN §2 as a prediction, then checked against the runs."),
                           *claim_blocks(a), Heading(2, "The asker's two proposals"), *(Para(t) for t in a.answers),
                           Heading(2, "Plots")]
    if not a.figures:
        blocks.append(Para("Plots were not drawn (`plots=false`)."))
    for name, caption in FIGURES.items() if a.figures else ():
        blocks.append(Image(name, caption) if drawn.get(name) else Para(f"*{name}: no runs to plot.*"))
    blocks += [Heading(2, "Test accuracy per setting"),
               Para("Mean over seeds with its 95 % confidence interval (Student's t, n − 1 degrees of freedom); "
                    "'both input orders' scores every test pair as (a, b) and as (b, a). Also in `summary.csv`."),
               Table(summary_words(a.summary)),
               Heading(2, "Factor effects"),
               Para("Each factor changed alone from the Keras setting (the head always varies). Two-way ANOVA "
                    "(head × factor, type II sums of squares, by least squares) where at least two heads were run at two "
                    "of its levels, else Welch's t-test or a one-way ANOVA; effect size: partial η² (ANOVA) or the "
                    "difference of means (t-test). Also in `effects.csv`."),
               Table(effects_words(a.effects)) if len(a.effects) else Para("No factor was varied."),
               Heading(2, "Runs not in the statistics")]
    problems = problem_table(a.runs)
    blocks.append(Table(problems) if len(problems) else Para("None: every run completed."))
    blocks += [Para(t) for t in [a.other_code_text(), a.versions_text()] if t]  # other code: listed, not counted
    blocks += [Heading(2, "Files"), Para("`runs.csv` (one row per run: factors, status, every metric), `summary.csv`/"
                                         "`summary.md`, `effects.csv`/`effects.md`, the PNG plots, this report "
                                         "(`report.md`, and `report.html` with the images embedded)."),
               Code("python -m ablation.sweep -m +experiment=seed_question hydra/launcher=parallel\npython -m ablation.report")]
    return blocks


def write_document(blocks: list[Block], out: Path) -> Path:
    write_text(out / "report.md", to_markdown(blocks))
    write_text(out / "report.html", to_html(blocks, out, TITLE))
    return out / "report.md"
