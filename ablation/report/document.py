"""The report's text: blocks built from the analysis. Every sentence with a number takes it from the runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ablation.store import write_text

from .analysis import FIGURES, MECHANISM_FIGURES, Analysis
from .labels import CELL, pct, setting, value_name
from .render import Block, Bullets, Code, Heading, Image, Para, Table, to_html, to_markdown
from .rivals import conclusion, summary_line
from .select import BASELINE, measured, where
from .stats import mean_ci
from .tables import effects_words, summary_words
from .verdicts import (ALPHA, CONTRADICTED, HOLDS, INCONCLUSIVE, MIN_SEEDS, NOT_MEASURED, NOT_TESTABLE, SUPPORTED,
                       THRESHOLDS, VIOLATED, Claim)

DOC = "docs/mechanism.md"
SECTIONS = {1: "1. Antisymmetry", 2: "2. Swap-symmetric data", 3: "3. The 75 % ceiling", 4: "4. Collapse",
            5: "5. Fixes and the control", 6: "6. The loss sign convention"}
PREDICTION_VERDICTS = (SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_TESTABLE, NOT_MEASURED)

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
    text = ""
    if parts:
        text = f"Mean test accuracy without a hidden layer, in the Keras setting: {'; '.join(parts)} (chance is 50 %). "
    preds = [k.verdict for c in a.claims if not c.sanity for k in c.checks]
    counts = ", ".join(f"{preds.count(v)} {v}" for v in PREDICTION_VERDICTS if preds.count(v) or v in (SUPPORTED, CONTRADICTED))
    numbers = ", ".join(str(c.number) for c in a.claims if not c.sanity)
    text += (f"Claims {numbers} make {len(preds)} predictions that the runs could contradict, each judged with at least "
             f"{MIN_SEEDS} seeds per setting by its 95 % CI and one-sided tests: {counts}.")
    bad = [f"{c.number} ({c.title})" for c in a.claims if not c.sanity and c.verdict == CONTRADICTED]
    if bad:
        text += f" **The runs contradict claim{'s' if len(bad) > 1 else ''} {', '.join(bad)}**: see below."
    sanity = [k.verdict for c in a.claims if c.sanity for k in c.checks]
    text += (f" Apart from these, {sanity.count(HOLDS)} of {len(sanity)} sanity checks (true by construction) hold"
             + (f"; **{sanity.count(VIOLATED)} violated: a bug**" if VIOLATED in sanity else "")
             + (f"; {sanity.count(NOT_MEASURED)} not measured" if NOT_MEASURED in sanity else "") + ".")
    if a.rivals:
        text += " Rival explanations from the thread: " + "; ".join(
            f"({r.key}) {r.statement} — {r.verdict}" for r in a.rivals) + "."
    return text


def claim_blocks(claims: list[Claim]) -> list[Block]:
    out: list[Block] = []
    for c in claims:
        out.append(Heading(3, f"{c.number}. {c.title}: {c.verdict}"))
        out.append(Para(f"*{'By construction' if c.sanity else 'Prediction'}* (`{DOC}`, {SECTIONS.get(c.number, c.title)}): "
                        f"{c.statement}"))
        items = []
        for k in c.checks:
            item = f"**{k.verdict}** — {k.what}: {k.evidence}"
            if k.command:
                item += f". To measure it: `{k.command}`"
            items.append(item)
        out.append(Bullets(items))
        out.extend(Para(n) for n in c.notes)
    return out


def rules() -> list[Block]:
    rows = [{"name": k, "value": v if isinstance(v, str) else f"{v:g}", "meaning": m} for k, (v, m) in THRESHOLDS.items()]
    return [Para(f"How a prediction is judged (`ablation/report/verdicts.py`). It needs at least {MIN_SEEDS} seeds in "
                 f"every setting it uses, else it is *not measured* (with the command that measures it). A level is "
                 "*supported* when the 95 % CI (Student's t over seeds) clears its line, *contradicted* when the CI lies "
                 "wholly on the wrong side, *inconclusive* when it straddles the line. A contrast is *supported* only "
                 f"when a one-sided Welch t-test in the predicted direction is significant at α = {ALPHA:g} after Holm's "
                 "correction across the contrasts of its claim, *contradicted* when it is significant the other way, "
                 "*inconclusive* otherwise, and *not testable* when every seed gave the same accuracy in both groups "
                 "(no variance, no p-value). A check combines its parts: contradicted, else not measured, else not "
                 "testable, else inconclusive, else supported. Sanity checks are per run: one run that breaks them is a bug."),
            Table(pd.DataFrame(rows))]


def rival_blocks(a: Analysis) -> list[Block]:
    if not a.rivals:
        return [Para("No rival explanation was tested.")]
    out: list[Block] = [Para("The original thread offers other explanations. Each predicts something about runs this study "
                             "has; each prediction is judged like the claims above, beside what the antisymmetry "
                             "explanation predicts for the same runs. " + conclusion(a.rivals)),
                        Bullets([summary_line(r) for r in a.rivals])]
    rows = []
    for r in a.rivals:
        for p in r.predictions:
            rows.append({"explanation": f"({r.key}) {r.source}", "predicts": f"{p.what} ({p.rule})", "runs": p.numbers,
                         "verdict for it": p.rival.verdict,
                         "antisymmetry explanation": f"{p.ours.verdict} ({p.our_rule})" if p.ours is not None else "",
                         "contrast": p.contrast.text if p.contrast is not None else ""})
    commands = [p.rival.command for r in a.rivals for p in r.predictions if p.rival.command]
    if commands:
        out.append(Para("To measure what is missing: " + "; ".join(f"`{c}`" for c in dict.fromkeys(commands))))
    out += [Para("Each prediction of each explanation, the runs it is judged on, and the antisymmetry explanation's "
                 "prediction for the same runs:"), Table(pd.DataFrame(rows))]
    return out


def mechanism_blocks(a: Analysis, drawn: dict[str, bool]) -> list[Block]:
    out: list[Block] = [Para("Subtract + a single dense layer sees each image only through one number, w·f(x): "
                             "z(a,b) = w·f(a) − w·f(b) + c. Each run records that number for every test image "
                             "(`views.csv.gz`); the first figure draws it by digit class, the second the spread of the "
                             "output per epoch (`history.csv`). "
                             + (a.mechanism or "No run in the figures' setting recorded them (runs from before the "
                                "recording: delete them and sweep again)."))]
    for name, caption in MECHANISM_FIGURES.items() if a.figures else ():
        out.append(Image(name, caption) if drawn.get(name) else Para(f"*{name}: no recorded runs to plot.*"))
    return out


def original_blocks(a: Analysis) -> list[Block]:
    o = a.original
    if not o:
        return []
    out: list[Block] = [Para("The thread's numbers beside the same runs measured here on full MNIST by the Keras protocol "
                             "(`+experiment=seed_table`). A number agrees when it lies inside the 95 % CI of the seeds, or "
                             "failing that inside the range of the single runs. " + o["summary"])]
    if any(r.n for r in o["rows"]):
        out.append(Table(o["table"]))
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
    sanity, predictions = [c for c in a.claims if c.sanity], [c for c in a.claims if not c.sanity]
    blocks: list[Block] = [Heading(1, TITLE), Para(provenance(a, results_dir)), Heading(2, "In short"), Para(in_short(a)),
                           Heading(2, "Why subtract + a single dense layer fails"),
                           Para(f"The mechanism of `{DOC}`, claim by claim. Claims 1–3 are sanity checks: they follow "
                                "from algebra and from how the pairs are built, so they cannot be findings; they are "
                                "measured to catch a bug. Claims 4–6 are predictions the runs could contradict."),
                           Heading(2, "Sanity checks: what holds by construction"), *claim_blocks(sanity),
                           Heading(2, "Predictions: what the runs could contradict"), *rules(), *claim_blocks(predictions),
                           Heading(2, "Rival explanations"), *rival_blocks(a),
                           Heading(2, "The mechanism, drawn"), *mechanism_blocks(a, drawn),
                           Heading(2, "The original table, reproduced"), *original_blocks(a),
                           Heading(2, "The asker's two proposals"), *(Para(t) for t in a.answers),
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
               Code("python -m ablation.sweep -m +experiment=seed_question hydra/launcher=parallel\npython -m ablation.report\n"
                    "# the original table, on full MNIST (the four IDX files in data.root, or data.download=true online):\n"
                    "python -m ablation.sweep -m +experiment=seed_table hydra/launcher=parallel data.root=data/mnist")]
    return blocks


def write_document(blocks: list[Block], out: Path) -> Path:
    write_text(out / "report.md", to_markdown(blocks))
    write_text(out / "report.html", to_html(blocks, out, TITLE))
    return out / "report.md"
