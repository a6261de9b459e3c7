"""The report's analysis on any subset of a grid (hypothesis): it always finishes, every claim and every account's
prediction is judged or "not measured" with the command that measures it (the smallest grid: never a preset), and no additive head is ever offered as
one that learns."""

from __future__ import annotations

import itertools

import pytest
from helpers.fakes import write_run
from helpers.reports import context_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ablation.report.build import config_facts
from ablation.report.document import analyse, markdown
from ablation.report.judge import NOT_MEASURED, PRECEDENCE, PREDICTION_VERDICTS, HOLDS
from ablation.report.load import load_runs
from ablation.report.select import cell_keys, duplicated_seeds, in_context, measured

pytestmark = pytest.mark.slow  # 30 generated grids, about a second each

HEADS = ("distance", "subtract", "absdiff", "concat", "sum", "product", "mine")  # "mine": a user's own head
VERDICTS = set(PRECEDENCE) | set(PREDICTION_VERDICTS) | {HOLDS}


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    """One folder per cell of a mixed grid and seed 0–2, plus failed, diverged and skipped runs: the runs table."""
    runs_dir = tmp_path_factory.mktemp("pool") / "runs"
    cells = [dict(zip(("head", "depth", "pair_order", "convention", "loss", "encoder"), c)) for c in itertools.product(
        HEADS, (0, 1), ("random", "sorted"), ("distance", "similarity"), ("contrastive", "bce"), ("mlp", "cnn"))]
    cells = [c for i, c in enumerate(cells) if i % 5 == 0 or (c["loss"], c["encoder"], c["convention"]) ==
             ("contrastive", "mlp", "distance")]  # the Keras setting in full, a fifth of the rest
    for i, c in enumerate(cells):
        skip = c["head"] == "distance" and (c["depth"] or c["loss"] == "bce")
        for seed in range(1 + i % 3):
            write_run(runs_dir, "skipped" if skip else "completed", seed=seed, n=400, **c)
    for k, status in enumerate(("failed", "diverged", "failed", "diverged")):
        write_run(runs_dir, status, head=HEADS[k], seed=10 + k)
    return load_runs(runs_dir.parent).runs


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_analysis_finishes_on_any_subset_and_leaves_nothing_unjudged_without_a_command(pool, data):
    rows = data.draw(st.sets(st.integers(0, len(pool) - 1), min_size=1, max_size=len(pool)))
    runs = pool.iloc[sorted(rows)].reset_index(drop=True)
    if measured(runs).empty:
        return  # the report refuses this with a clear error (tested elsewhere)
    cell = cell_keys(runs)
    runs = runs.assign(duplicate_seed=duplicated_seeds(runs, cell))
    ctx = context_of(runs)
    a = analyse(runs, ctx, cell, config_facts()[2])
    markdown(a, "runs", {}, plots=False)
    for c in a.claims:
        for k in c.checks:
            assert k.verdict in VERDICTS
            if k.verdict == NOT_MEASURED:  # a command, or (every head of the config run) why there is none
                assert (k.command and k.command.startswith("python -m ablation.sweep -m") and "<" not in k.command
                        and "+experiment" not in k.command) or "head of your own" in k.evidence, (c.title, k.what)
    for x in a.accounts:
        for p in x.predictions:
            assert p.account.verdict in VERDICTS
    df = in_context(runs, ctx.fixed)
    additive = df[df["additive"].astype("boolean").fillna(False).astype(bool) & (df["pair_order"] == "random")]
    learn = next(c for c in a.claims if c.number == 5).checks[0].evidence.split(" (learns = ")[0]
    for head, depth in set(zip(additive["head"], additive["depth"])):
        assert f"{ctx.setting({'head': head, 'depth': depth})}:" not in learn  # an additive head never "learns"
    if len(a.heads):
        rnd = a.heads[(a.heads["pair_order"] == "random") & a.heads["additive"].astype("boolean").fillna(False)]
        assert set(rnd["prediction"]) <= {"chance"}
