"""The document: everything the report says (`Analysis`, computed by the pure `analyse`), written out as Markdown.

Every sentence with a number takes it from the runs. The analysis holds plain text; this module adds the only
markup (headings, bold verdicts, code spans, tables, images) and escapes every piece of text that comes from the
runs (a head's label, a config value, a folder name), so none of it can become markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from math import prod
from typing import Any

import pandas as pd

from . import accounts as acc
from .claims import check_claims
from .judge import (ALPHA, CONTRADICTED, MIN_SEEDS, NOT_MEASURED, PREDICTION_VERDICTS, SUPPORTED, THRESHOLDS, Claim,
                    covers, grid_of)
from .plots import FIGURES
from .plots.files import collapse_words, view_words
from .select import Context, in_context, measured, recipes, where
from .tables import effects_words, factor_effects, head_table, head_table_words, summary, summary_words
from .thread import COMMAND, original_table

from .front import answer, answer_text as front_text
from .words import CELL, CONTEXT, RECIPE, md_escape, plural

DOC = "docs/mechanism.md"
THREAD_PRESET = "+experiment=thread_table"
TITLE = "Why subtract + a single dense layer fails: what the runs show"


@dataclass
class Analysis:
    runs: pd.DataFrame  # every run folder that passes the filter, whatever its status
    ctx: Context  # the setting verdicts and plots hold fixed, and the report's words
    cell: list[str]  # the levels of a cell (select.cell_keys)
    summary: pd.DataFrame
    effects: pd.DataFrame
    heads: pd.DataFrame  # one row per head × depth × pair order: structure, prediction, verdict
    claims: list[Claim]
    accounts: list[acc.Account]
    proposals: list[tuple[str, str]]
    original: dict[str, Any] = field(default_factory=dict)  # the thread's table beside the full-MNIST runs
    other_code: pd.DataFrame = field(default_factory=pd.DataFrame)  # runs set aside as other code, per code
    code: str = "current"  # which code's runs are in the statistics: current or all
    mechanism: str = ""  # the mechanism figures' numbers in words
    recipes: list[tuple[dict[str, Any], list[Claim]]] = field(default_factory=list)  # the claims under each other recipe


def analyse(runs: pd.DataFrame, ctx: Context, cell: list[str], thread_cells: list[dict[str, Any]],
            files: dict[str, pd.DataFrame] | None = None) -> Analysis:
    """Everything the report says, from tables in memory. `files`: the per-run tables the mechanism figures read
    (history.csv, views.csv.gz), for their numbers in words."""
    df = in_context(runs, ctx.fixed)
    files = files or {}
    a = Analysis(runs, ctx, cell, summary(runs, cell), factor_effects(where(measured(runs), **{k: ctx.fixed[k] for k in
                 CONTEXT if k in ctx.fixed}), ctx), head_table(df, ctx), check_claims(df, ctx), acc.accounts(df, ctx),
                 acc.proposals(df, ctx), original_table(runs, thread_cells, ctx))
    a.mechanism = " ".join(t for t in (view_words(files.get("views.csv.gz", pd.DataFrame()), ctx),
                                       collapse_words(files.get("history.csv", pd.DataFrame()), ctx)) if t)
    for recipe in recipes(runs, ctx.fixed, ctx.words):  # theorem 4 is about the optimum: does each recipe find it?
        other = Context({**ctx.fixed, **recipe}, ctx.words, ctx.extra)
        a.recipes.append((recipe, check_claims(in_context(runs, other.fixed), other)))
    return a


# ---------------------------------------------------------------- Markdown pieces


def code(text: str) -> str:
    """A code span that holds any text literally (its fence is longer than any run of backticks inside)."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}" if longest else f"`{text}`"


def md_table(df: pd.DataFrame) -> str:
    """A GitHub Markdown table of plain-text cells (escaped: `|` and every mark)."""
    cell = lambda v: "" if v is None or (isinstance(v, float) and pd.isna(v)) else md_escape(v).replace("\n", " ")  # noqa: E731
    head = "| " + " | ".join(cell(c) for c in df.columns) + " |"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, "|" + "|".join("---" for _ in df.columns) + "|", *rows])


def check_item(verdict: str, what: str, evidence: str, command: str | None, numbers: dict[str, int]) -> str:
    text = f"**{verdict}** — {md_escape(what)}: {md_escape(evidence)}"
    return text + (f". Measured by command {numbers[command]} under \"{MEASURE}\"" if command in numbers else "")


MEASURE = "What is not measured, and the commands that measure it"


def commands(a: Analysis) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Each command that measures something not measured, once, with what it measures (claims, then accounts); a
    command whose runs another one makes too is folded into it. Returns (command → what it measures, each check's
    command → the command listed for it)."""
    raw: dict[str, list[str]] = {}
    for c in a.claims:
        for k in c.checks:
            if k.command and k.verdict == NOT_MEASURED:
                raw.setdefault(k.command, []).append(f"claim {c.number}: {k.what}")
    for x in a.accounts:
        for p in x.predictions:
            if p.account.command and p.account.verdict == NOT_MEASURED:
                raw.setdefault(p.account.command, []).append(f"({x.key}) {p.what}")
    size = {c: prod(len(v) for v in g[1].values()) if (g := grid_of(c)) else 0 for c in raw}
    kept: dict[str, list[str]] = {}
    home: dict[str, str] = {}
    for cmd in sorted(raw, key=lambda c: -size[c]):  # the largest grids first: a smaller one inside them is folded
        home[cmd] = next((k for k in kept if covers(k, cmd, a.ctx)), cmd)
        kept.setdefault(home[cmd], []).extend(raw[cmd])
    return {c: kept[c] for c in raw if c in kept}, home


def numbered(a: Analysis) -> dict[str, int]:
    """Each check's command → the number of the command listed for it."""
    listed, home = commands(a)
    number = {cmd: i for i, cmd in enumerate(listed, 1)}
    return {cmd: number[h] for cmd, h in home.items()}


def measure_section(a: Analysis) -> list[str]:
    cmds, _ = commands(a)
    if not cmds:
        return []
    items = "\n".join(f"{i}. {code(cmd)}  \n   measures {md_escape('; '.join(dict.fromkeys(what)))}"
                       for i, (cmd, what) in enumerate(cmds.items(), 1))
    return [f"## {MEASURE}",
            md_escape("Each command runs the smallest grid that fills what is missing, with 3 seeds a cell; a run "
                      "already made is reused, not trained again. Then run python -m ablation.report again."), items]


def image(name: str, caption: str, drawn: dict[str, bool]) -> str:
    if not drawn.get(name):
        return f"{code(name)}: no runs to plot."
    return f"![{md_escape(caption)}]({name})\n\n*{md_escape(caption)}*"


# ---------------------------------------------------------------- sections


def provenance(a: Analysis, runs_dir: str) -> str:
    status = ", ".join(f"{n} {s}" for s, n in a.runs["status"].value_counts().items())
    m = measured(a.runs)
    inside = in_context(a.runs, a.ctx.fixed)
    text = (f"Generated from {plural(len(a.runs), 'run folder')} under {code(runs_dir)} ({md_escape(status)}). Verdicts "
            f"and plots use the {plural(len(inside), 'completed run')} with the most common setting "
            f"({md_escape(a.ctx.setting(a.ctx.fixed))}).")
    if len(m) > len(inside):
        text += (f" {plural(len(m) - len(inside), 'completed run')} with other settings "
                 f"{'appears' if len(m) - len(inside) == 1 else 'appear'} in the test-accuracy table only (listed under "
                 "\"Runs not in the statistics\").")
    return text


def claims_count(a: Analysis) -> str:
    """How the predictions and the sanity checks fared, in a clause."""
    preds = [k.verdict for c in a.claims if not c.sanity for k in c.checks]
    counts = ", ".join(f"{preds.count(v)} {v}" for v in PREDICTION_VERDICTS if preds.count(v) or v in (SUPPORTED, CONTRADICTED))
    text = f"{plural(len(preds), 'prediction')}, each judged with at least {MIN_SEEDS} seeds per setting: {counts}"
    bad = [f"{c.number} ({md_escape(c.title)})" for c in a.claims if not c.sanity and c.verdict == CONTRADICTED]
    if bad:
        text += f"; **the runs contradict claim{'s' if len(bad) > 1 else ''} {', '.join(bad)}**"
    return text


def head_section(a: Analysis) -> list[str]:
    if a.heads.empty:
        return ["No completed run in the report's setting."]
    return [f"Each head's structure is measured on the model at initialisation (`ablation/structure.py`: interaction, "
            f"symmetry and antisymmetry of its logit, relative to its spread); the prediction follows from that "
            f"structure and the pair order ({code(DOC)}); the verdict judges it on the runs: *learns* by the accuracy's "
            f"95 % CI over seeds, *chance* by every run's ROC AUC interval over its test pairs.",
            md_table(head_table_words(a.heads, a.ctx.words))]


def claim_section(claims: list[Claim], numbers: dict[str, int]) -> list[str]:
    out = []
    for c in claims:
        out.append(f"### {c.number}. {md_escape(c.title)}: {c.verdict}")
        out.append(f"*{'By construction' if c.sanity else 'Prediction'}* ({code(DOC)}): {md_escape(c.statement)}")
        out.append("\n".join(f"- {check_item(k.verdict, k.what, k.evidence, k.command, numbers)}" for k in c.checks))
        out.extend(md_escape(n) for n in c.notes)
    return out


def recipe_section(a: Analysis) -> list[str]:
    """The claims' verdicts under each training recipe the runs have: the optimizer and the schedule change the way
    to the optimum, not where it is (docs/mechanism.md, theorem 4), so each recipe's runs are judged on their own."""
    if not a.recipes:
        return []
    keys = [k for k in RECIPE if k in a.ctx.fixed]
    name = lambda levels: a.ctx.setting({k: levels[k] for k in keys})  # noqa: E731
    table = pd.DataFrame({"claim": [f"{c.number}. {c.title}" for c in a.claims],
                          name(a.ctx.fixed) + " (the report's)": [c.verdict for c in a.claims],
                          **{name(r): [c.verdict for c in claims] for r, claims in a.recipes}})
    return ["## The claims under each training recipe",
            md_escape(f"The sections above judge the runs trained with {name(a.ctx.fixed)}. The theorems are about the "
                      "optimum, not the way to it, so the claims are judged again on the runs of each other recipe "
                      "alone (the same rules, no pooling):"), md_table(table)]


def rules() -> list[str]:
    rows = [{"name": k, "value": v if isinstance(v, str) else f"{v:g}", "meaning": m} for k, (v, m) in THRESHOLDS.items()]
    return [f"How a prediction is judged (`ablation/report/judge.py`). It needs at least {MIN_SEEDS} seeds in every "
            "setting it uses, else it is *not measured* (with the command that measures it). *Learns*: the 95 % CI of "
            "the test accuracy over seeds lies above the chance band. *Carries no information*: every run's ROC AUC "
            "interval over its own test pairs lies inside the no-information band (it narrows with more test pairs). "
            "A level is *contradicted* when the interval lies wholly on the wrong side, *inconclusive* when it "
            "straddles the line. A contrast is *supported* only when a one-sided Welch t-test in the predicted "
            f"direction is significant at α = {ALPHA:g} after Holm's correction within its claim, *contradicted* when "
            "significant the other way, *not testable* without variance. A check combines its parts: contradicted, "
            "else not measured, else not testable, else inconclusive, else supported. Sanity checks are per run: one "
            "run that breaks them is a bug. No line depends on the training budget.", md_table(pd.DataFrame(rows))]


def account_section(a: Analysis) -> list[str]:
    out = [md_escape("Each account predicts something about runs this study has; each prediction is judged like the "
                     "claims, beside what additivity predicts for the same runs. " + acc.conclusion(a.accounts))]
    items = []
    for x in a.accounts:
        bad = [p for p in x.predictions if p.account.verdict == CONTRADICTED]
        line = f"({x.key}) {md_escape(x.source)}, “{md_escape(x.statement)}”: **{x.verdict}**"
        if bad:
            line += " — " + md_escape("; ".join(f"it predicts that {p.what}, but {p.numbers}" for p in bad[:2])) + "."
        items.append(f"- {line}")
    out.append("\n".join(items))
    rows = [{"account": f"({x.key}) {x.source}", "predicts": p.what, "judged on": p.runs, "runs": p.numbers,
             "verdict": p.account.verdict, "additivity predicts": p.additivity.verdict if p.additivity else "(its own)",
             "contrast": p.contrast.text if p.contrast is not None else ""}
            for x in a.accounts for p in x.predictions]
    numbers = numbered(a)
    todo = list(dict.fromkeys(numbers[p.account.command] for x in a.accounts for p in x.predictions
                              if p.account.command in numbers))
    if todo:
        out.append(f"What is not measured here is measured by command{'s' if len(todo) > 1 else ''} "
                   f"{', '.join(map(str, todo))} under \"{MEASURE}\".")
    out.append(md_table(pd.DataFrame(rows)))
    return out


def original_section(a: Analysis) -> list[str]:
    o = a.original
    text = md_escape("The thread's numbers beside the same runs measured here on full MNIST by the Keras protocol "
                     f"({THREAD_PRESET}). A number agrees when it lies inside the 95 % CI of the seeds, or failing that "
                     "inside the range of the single runs. " + o["summary"])
    for literal in (COMMAND, THREAD_PRESET):  # commands as code spans
        text = text.replace(md_escape(literal), code(literal))
    out = [text]
    if any(r.n for r in o["rows"]):
        out.append(md_table(o["table"]))
    return out


def problem_table(a: Analysis) -> pd.DataFrame:
    """The runs not (or not wholly) in the statistics: not completed, or a run file that differs from its record."""
    damaged = a.runs["damaged"].notna()
    bad = a.runs[(a.runs["status"] != "completed") | damaged]
    known = [f for f in CELL if f != "data"]
    return pd.DataFrame({
        "run": bad["run_id"], "status": [s if pd.isna(d) else f"{s}, files damaged" for s, d in zip(bad["status"], bad["damaged"])],
        "setting": [a.ctx.setting({f: r[f] for f in known if pd.notna(r[f])}) or "unknown" for _, r in bad.iterrows()],
        "seed": ["" if pd.isna(v) else str(int(v)) if isinstance(v, (int, float)) else str(v) for v in bad["seed"]],
        "detail": [str(d) if pd.notna(d) else str(t)[:200] if pd.notna(t) else "" for d, t in zip(bad["damaged"], bad["detail"])],
    })


def unchecked_text(a: Analysis) -> str | None:
    n = int((a.runs["files_checked"] == False).sum())  # noqa: E712 - NA (no record) is neither
    return md_escape(f"{plural(n, 'run')} {'was' if n == 1 else 'were'} recorded before records listed their files' sizes and hashes: their "
                     "files cannot be checked and are taken as they are.") if n else None


def elsewhere(a: Analysis) -> pd.DataFrame:
    """Completed runs outside the report's setting (another data set, number of epochs, value of an extra key):
    in the test-accuracy table only. One row per setting, with how many runs."""
    m = measured(a.runs)
    out = m[~m["run_id"].isin(set(in_context(a.runs, a.ctx.fixed)["run_id"]))]
    keys = [k for k in a.ctx.fixed if k in out]
    if out.empty or not keys:
        return pd.DataFrame(columns=["setting", "runs"])
    g = out.groupby(keys, dropna=False, sort=True).size()
    return pd.DataFrame({"setting": [a.ctx.setting(dict(zip(keys, k if isinstance(k, tuple) else (k,)))) for k in g.index],
                         "runs": g.to_numpy()})


def other_code_text(a: Analysis) -> str | None:
    if a.other_code.empty:
        return None
    n = int(a.other_code["runs"].sum())
    codes = "; ".join(f"code {r.code}: {plural(int(r.runs), 'run')} ({r.statuses}; heads {r.heads or 'unknown'})"
                      for r in a.other_code.itertuples())
    return (md_escape(f"{plural(n, 'run folder')} made by other code than the current one (or before runs recorded "
                      f"their code) are kept on disk and left out of every table, plot and verdict: {codes}. ")
            + f"{code('python -m ablation.report code=all')} includes them, with the code as a factor.")


def versions_text(a: Analysis) -> str | None:
    m = measured(a.runs)
    parts = []
    for col in ("torch_version", "python_version", "ablation_version"):
        counts = m[col].value_counts() if col in m else pd.Series(dtype=int)
        if len(counts) > 1:
            parts.append(f"{col.removesuffix('_version')} " + ", ".join(f"{v} ({plural(n, 'run')})" for v, n in counts.items()))
    return md_escape("The completed runs were made with different library versions (not part of a run's identity, so "
                     "not a factor): " + "; ".join(parts) + ".") if parts else None


def front_page(a: Analysis) -> list[str]:
    """The answer in plain words (front.answer), as Markdown paragraphs."""
    return [(f"**{md_escape(p.lead)}** " if p.lead else "") + md_escape(p.text) for p in answer(a)]


def answer_text(a: Analysis) -> str:
    """The answer in plain words as plain text: what the console summary opens with."""
    return front_text(a)


def markdown(a: Analysis, runs_dir: str, drawn: dict[str, bool], plots: bool = True) -> str:
    """The whole report as Markdown; `drawn` says which figure files exist. What comes before the first `##`
    heading is the front page (the answer and the one figure); every `##` section is evidence the HTML folds."""
    figs = {f.section: [] for f in FIGURES}
    for f in FIGURES:
        figs[f.section].append(image(f.name, f.caption, drawn) if plots else "")
    sanity, predictions = [c for c in a.claims if c.sanity], [c for c in a.claims if not c.sanity]
    blocks = [f"# {TITLE}", *front_page(a), *figs["first"], provenance(a, runs_dir),
              "## Each head: measured structure, prediction, verdict", *head_section(a),
              "## The claims: what holds by construction",
              f"The mechanism of {code(DOC)}, claim by claim. Claims 1–3 are sanity checks: they follow from its theorems, "
              "so they cannot be findings; they are measured to catch a bug.", *claim_section(sanity, numbered(a)),
              "## The claims: what the runs could contradict",
              f"Claims 4–7 are predictions the runs could contradict ({claims_count(a)}). How each is judged: the "
              "section \"How a prediction is judged\".", *claim_section(predictions, numbered(a)),
              *recipe_section(a),
              "## Other explanations the runs decide between", *account_section(a),
              "## The mechanism, drawn", md_escape(a.mechanism) or "No run in the figures' setting recorded what they draw.",
              *figs["mechanism"],
              "## The asker's two proposals", *(f"**{md_escape(q)}** {md_escape(t)}" for q, t in a.proposals),
              "## The original table, reproduced", *original_section(a),
              "## More plots", *(figs["plots"] if plots else ["Plots were not drawn (`plots=false`)."]),
              "## Test accuracy per setting",
              "Mean over seeds with its 95 % confidence interval (Student's t, n − 1 degrees of freedom); 'both input "
              "orders' scores every test pair as (a, b) and as (b, a). Also in `summary.csv`.",
              md_table(summary_words(a.summary, a.ctx.words)),
              "## Factor effects",
              "Each factor changed alone from the Keras setting (the head always varies). Two-way ANOVA (head × factor, "
              "type II sums of squares, by least squares) where at least two heads were run at two of its levels, else "
              "Welch's t-test or a one-way ANOVA; effect size: partial η² (ANOVA) or the difference of means (t-test). "
              "Also in `effects.csv`.",
              md_table(effects_words(a.effects)) if len(a.effects) else "No factor was varied.",
              "## How a prediction is judged", *rules(),
              "## Runs not in the statistics"]
    problems, other = problem_table(a), elsewhere(a)
    blocks.append(md_table(problems) if len(problems) else "Every run completed.")
    if len(other):
        blocks += [md_escape(f"{plural(int(other['runs'].sum()), 'completed run')} at other settings than the report's "
                             f"({a.ctx.setting(a.ctx.fixed)}): in the test-accuracy table, not in the verdicts or plots."),
                   md_table(other)]
    elif not len(problems):
        blocks[-1] = "None: every run completed, in the report's setting."
    blocks += [t for t in (unchecked_text(a), other_code_text(a), versions_text(a)) if t]
    blocks += measure_section(a)
    blocks += ["## Files",
               "`runs.csv` (one row per run: factors, status, structure, every metric), `heads.csv` (the per-head "
               "table), `summary.csv`/`summary.md`, `effects.csv`/`effects.md`, the PNG plots, this report "
               "(`report.md`, and `report.html` with the images embedded).",
               "The study's sweep and this report:",
               "```\npython -m ablation.sweep -m +experiment=question hydra/launcher=parallel\npython -m ablation.report\n```"]
    return "\n\n".join(b for b in blocks if b) + "\n"
