"""The report's factors come from the runs: every identity key that varies is a level of the cells, runs of
other code are set aside, a user's head is read by its label and its measured structure (never a declared one),
lost runs are counted per cell."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from helpers.fakes import write_run
from helpers.reports import context_of

from ablation.report.build import make_report
from ablation.report.load import ReportError, load_runs
from ablation.report.plots.files import _side, panel_runs
from ablation.report.select import apply_filter, cell_keys, context, in_context, structured, varying
from ablation.report.tables import factor_effects, summary, summary_words
from ablation.report.words import Words


def lr_sweep(results, seeds=(0, 1), heads=("subtract", "absdiff"), lrs=(1e-3, 3e-3), **kw):
    """What `python -m ablation.sweep -m head=subtract,absdiff optimizer.lr=1e-3,3e-3 seed=0,1 train.epochs=2` writes."""
    return [write_run(results / "runs", head=h, seed=s, epochs=2, n=60, identity={"optimizer.lr": lr}, **kw)
            for h in heads for lr in lrs for s in seeds]


def test_a_learning_rate_sweep_gives_two_cells_per_head_with_two_seeds_each(tmp_path):
    lr_sweep(tmp_path)
    runs = load_runs(tmp_path).runs
    assert "optimizer.lr" in varying(runs) and "optimizer.lr" in cell_keys(runs)
    assert "head._target_" not in cell_keys(runs)  # it follows the head: a column, not another level
    s = summary(runs)
    assert len(s) == 4 and list(s["n"]) == [2, 2, 2, 2]
    assert sorted(zip(s["head"], s["optimizer.lr"])) == [("absdiff", 0.001), ("absdiff", 0.003),
                                                     ("subtract", 0.001), ("subtract", 0.003)]
    words = summary_words(s, Words())
    assert list(words["seeds"]) == ["2 seeds"] * 4 and "optimizer.lr" in words.columns
    # the verdicts compare runs at one learning rate; the effects table tests the learning rate itself
    ctx = context(runs)
    assert ctx["optimizer.lr"] == 0.001 and set(in_context(runs)["optimizer.lr"]) == {0.001}
    eff = factor_effects(runs, context_of(runs)).set_index("effect")
    assert "main effect of optimizer.lr" in eff.index and "head × optimizer.lr interaction" in eff.index
    assert eff.loc["main effect of the head", "where"].endswith("optimizer.lr=0.001")


def test_the_report_folder_shows_the_learning_rate_cells(tmp_path):
    lr_sweep(tmp_path)
    a, md = make_report(tmp_path, tmp_path / "report", plots=False)
    runs = pd.read_csv(tmp_path / "report" / "runs.csv")
    assert {"optimizer.lr", "head._target_", "code", "code_current", "symmetric", "same_high", "head_label"} <= set(runs.columns)
    summary_csv = pd.read_csv(tmp_path / "report" / "summary.csv")
    assert len(summary_csv) == 4 and set(summary_csv["n"]) == {2}
    assert "optimizer.lr" in (tmp_path / "report" / "summary.md").read_text()
    assert a.ctx.extra == ("optimizer.lr",)


def test_one_seed_twice_in_a_cell_is_flagged_not_averaged(tmp_path):
    folders = lr_sweep(tmp_path, heads=("subtract",), lrs=(1e-3,))
    shutil.copytree(folders[0], tmp_path / "runs" / "copied000000")  # the same run under a second name
    a, _ = make_report(tmp_path, tmp_path / "r", plots=False)
    row = a.summary.iloc[0]
    assert row["n"] == 3 and row["duplicate_seeds"] == "seed 0 ×2" and np.isnan(row["acc_mean"])
    words = summary_words(a.summary, a.ctx.words).iloc[0]
    assert words["seeds"] == "3 runs: seed 0 ×2, not averaged" and words["test accuracy, 95 % CI"] == "not averaged"
    assert a.runs["duplicate_seed"].sum() == 2


@pytest.mark.parametrize("filters", [{"optimizer": {"lr": 0.003}}, {"optimizer.lr": 0.003}, {"optimizer.lr": "3e-3"}])
def test_where_filters_on_any_dotted_key(tmp_path, filters):
    lr_sweep(tmp_path)
    a, _ = make_report(tmp_path, tmp_path / "r", filters, plots=False)
    assert set(a.runs["optimizer.lr"]) == {0.003} and len(a.runs) == 4
    assert "optimizer.lr" not in a.cell  # one value left: no longer a factor


def test_where_filters_on_short_names_and_their_dotted_keys_and_rejects_unknown_keys(tmp_path):
    lr_sweep(tmp_path)
    write_run(tmp_path / "runs", head="distance", epochs=2, n=60)
    runs = load_runs(tmp_path).runs
    assert set(apply_filter(runs, {"head": ["subtract", "absdiff"]})["head"]) == {"subtract", "absdiff"}
    assert set(apply_filter(runs, {"train": {"epochs": 2}, "depth": 0})["epochs"]) == {2}
    assert len(apply_filter(runs, {"head": {"_target_": "ablation.heads.Distance"}})) == 1
    with pytest.raises(ReportError, match="where.heads: no run has this key.*optimizer.lr"):
        make_report(tmp_path, tmp_path / "r", {"heads": "subtract"}, plots=False)


def test_runs_of_other_code_are_listed_and_left_out_unless_asked_for(tmp_path):
    lr_sweep(tmp_path, lrs=(1e-3,))
    old = [write_run(tmp_path / "runs", head="subtract", seed=s, epochs=2, n=60, code="0123456789ab",
                     metrics={"test_acc": 0.9}) for s in (0, 1)]
    legacy = write_run(tmp_path / "runs", head="absdiff", seed=0, epochs=2, n=60, legacy=True)
    a, md = make_report(tmp_path, tmp_path / "r", plots=False)
    assert not set(a.runs["run_id"]) & {f.name for f in [*old, legacy]}
    assert list(a.summary["n"]) == [2, 2] and "code" not in a.cell
    listing = a.other_code.set_index("code")
    assert listing.loc["0123456789ab", "runs"] == 2 and listing.loc["unknown", "runs"] == 1
    text = md.read_text()
    assert "0123456789ab" in text and "code=all" in text
    # code=all: every run, the code a factor: the old code's subtract runs are their own cell
    a, _ = make_report(tmp_path, tmp_path / "r2", plots=False, code="all")
    assert "code" in a.cell and len(a.runs) == 7
    sub = a.summary[a.summary["head"] == "subtract"].set_index("code")
    assert sub.loc["0123456789ab", "n"] == 2 and sub.loc["0123456789ab", "acc_mean"] == pytest.approx(0.9)
    assert (a.summary["n"] <= 2).all()
    row = a.runs.set_index("run_id").loc[legacy.name]  # a record from before traits: its built-in class declares them
    assert row["code"] == "unknown" and row["bounded"] and row["head_label"] == "|a−b| + dense" and not row["code_current"]
    assert pd.isna(row["additive"]) and pd.isna(row["symmetric"])  # but nothing was measured: structure unknown
    with pytest.raises(ReportError, match="code="):
        make_report(tmp_path, tmp_path / "r3", plots=False, code="newest")


def test_a_user_head_is_read_by_its_label_and_its_measured_structure_not_a_declared_one(tmp_path):
    for s in (0, 1):  # an older record that declares "symmetric": the fake head measures "interacting, neither"
        write_run(tmp_path / "runs", head="cosine", seed=s, n=60, traits={"head_label": "cosine similarity", "symmetric": True})
        write_run(tmp_path / "runs", head="subtract", seed=s, n=60)
    a, md = make_report(tmp_path, tmp_path / "r", plots=False)
    runs = a.runs.set_index("head")
    assert not runs.loc["cosine", "symmetric"].any() and not runs.loc["cosine", "additive"].any()
    assert runs.loc["subtract", "additive"].all() and runs.loc["subtract", "antisymmetric"].all()
    assert runs.loc["cosine", "head._target_"].iloc[0] == "user_heads.Cosine"
    assert runs["code_current"].all()  # its own module is part of its code fingerprint
    assert a.ctx.name("head", "cosine") == "cosine similarity"
    assert "cosine similarity" in set(summary_words(a.summary, a.ctx.words)["head"])
    completed = a.runs[a.runs["status"] == "completed"]
    sel = panel_runs(completed, a.ctx)
    assert set(sel["head"]) == {"cosine", "subtract"} and sel["bounded"].all()
    assert set(structured(completed, additive=True)["head"]) == {"subtract"}


def test_a_cell_that_lost_runs_says_how_many(tmp_path):
    for s in (0, 1):
        write_run(tmp_path / "runs", head="subtract", seed=s, n=60)
    write_run(tmp_path / "runs", "failed", head="subtract", seed=2)
    write_run(tmp_path / "runs", "diverged", head="subtract", seed=3)
    for s in (0, 1):  # a cell where every run diverged keeps its row
        write_run(tmp_path / "runs", "diverged", head="subtract", seed=s, identity={"optimizer.lr": 1.0})
    a, _ = make_report(tmp_path, tmp_path / "r", plots=False)
    s = a.summary.set_index("optimizer.lr")
    assert (s.loc[0.001, "n"], s.loc[0.001, "failed"], s.loc[0.001, "diverged"], s.loc[0.001, "lost"]) == (2, 1, 1, 2)
    assert (s.loc[1.0, "n"], s.loc[1.0, "lost"]) == (0, 2) and np.isnan(s.loc[1.0, "acc_mean"])
    words = summary_words(a.summary, a.ctx.words)
    assert list(words["seeds"]) == ["2 seeds (1 failed, 1 diverged)", "0 seeds (2 diverged)"]
    assert words["test accuracy, 95 % CI"].iloc[1] == "no run finished"


def test_score_axes_follow_each_runs_loss_convention():
    assert _side(pd.Series([True, True])) == "same → high" and _side(pd.Series([False])) == "same → low"
    assert _side(pd.Series([True, False])).startswith("mixed")


def test_effect_sizes_of_one_kind_per_column(tmp_path):
    for s in range(3):
        for h in ("subtract", "absdiff"):
            write_run(tmp_path / "runs", head=h, seed=s, n=60)
        write_run(tmp_path / "runs", head="subtract", seed=s, n=60, pair_order="sorted")
    runs = load_runs(tmp_path).runs
    eff = factor_effects(runs, context_of(runs)).set_index("effect")
    head, order = eff.loc["main effect of the head"], eff.loc["main effect of pair order"]
    assert head["test"] == "one-way ANOVA" and 0 < head["partial_eta_sq"] <= 1 and np.isnan(head["mean_diff"])
    assert order["test"] == "Welch t-test" and order["mean_diff"] > 0.3 and np.isnan(order["partial_eta_sq"])


def test_verdicts_see_one_level_per_cell_and_no_cell_is_dropped(tmp_path):
    for s in (0, 1, 2):
        write_run(tmp_path / "runs", head="subtract", seed=s, n=60, identity={"optimizer.lr": 1e-3})
    for s in (0, 1):
        write_run(tmp_path / "runs", head="subtract", seed=s, n=60, identity={"optimizer.lr": 3e-3})
        write_run(tmp_path / "runs", head="absdiff", seed=s, n=60, identity={"optimizer.lr": 1e-2})  # never at 1e-3
    runs = load_runs(tmp_path).runs
    ctx = context(runs)
    assert ctx["optimizer.lr"] == 0.001
    df = in_context(runs, ctx)
    assert set(zip(df["head"], df["optimizer.lr"])) == {("subtract", 0.001), ("absdiff", 0.01)}


def test_library_versions_are_read_and_named_when_they_differ(tmp_path):
    for s, torch in ((0, "2.12.0"), (1, "2.13.0"), (2, "2.13.0")):
        f = write_run(tmp_path / "runs", head="subtract", seed=s, n=60)
        rec = json.loads((f / "metrics.json").read_text())
        rec["versions"] = {"ablation": "0.1.0", "torch": torch, "python": "3.11.7"}
        (f / "metrics.json").write_text(json.dumps(rec))
    a, md = make_report(tmp_path, tmp_path / "r", plots=False)
    assert set(a.runs["torch_version"]) == {"2.12.0", "2.13.0"} and "torch_version" not in a.cell
    assert "torch 2.13.0 (2 runs), 2.12.0 (1 run)" in md.read_text()
