"""Rival explanations from the thread, judged on the runs: planted runs that agree with a rival turn its verdict."""

import pytest
from fakes import write_run, write_study

from ablation.report.load import load_runs
from ablation.report.rivals import conclusion, rivals, summary_line
from ablation.report.select import context, in_context
from ablation.report.verdicts import CONTRADICTED, NOT_MEASURED, SUPPORTED


def judged(results):
    runs = load_runs(results).runs
    return {r.key: r for r in rivals(in_context(runs), context(runs))}


def plant(study, accs, **cell):
    for s, a in enumerate(accs):
        write_run(study / "runs", seed=s, metrics={"test_acc": a}, **cell)


@pytest.fixture
def study(tmp_path):
    write_study(tmp_path, seeds=3, n=100)
    return tmp_path


def test_runs_like_the_study_contradict_every_rival_and_support_antisymmetry(study):
    rs = judged(study)
    assert {k: r.verdict for k, r in rs.items()} == {"a": CONTRADICTED, "b": CONTRADICTED, "c": CONTRADICTED}
    assert all(r.ours == SUPPORTED for r in rs.values())
    a = rs["a"]
    assert "|a−b| + dense, no hidden layer: " in a.predictions[0].numbers and "95 % CI" in a.predictions[0].numbers
    assert a.predictions[0].contrast is not None and "Holm-adjusted" in a.predictions[0].contrast.text
    text = conclusion(list(rs.values()))
    assert "contradict (a), (b), (c)" in text and "antisymmetry explanation is **supported**" in text
    assert "contradicted" in summary_line(a) and "but |a−b| + dense" in summary_line(a)


def test_the_answers_explanation_turns_supported_when_its_predictions_come_true(study):
    plant(study, [0.50, 0.51, 0.49], head="absdiff")  # |a−b| + dense at chance
    plant(study, [0.50, 0.52, 0.49], head="subtract", pair_order="sorted")  # the control fails too
    rs = judged(study)
    assert rs["a"].verdict == SUPPORTED and rs["a"].ours == CONTRADICTED
    assert "they support (a)" in conclusion(list(rs.values()))


def test_the_askers_explanation_turns_supported_when_its_predictions_come_true(study):
    plant(study, [0.90, 0.92, 0.91], head="subtract")  # subtract works with same → low
    plant(study, [0.50, 0.48, 0.51], head="absdiff", convention="similarity")  # |a−b| fails when flipped
    rs = judged(study)
    assert rs["b"].verdict == SUPPORTED and rs["b"].ours == CONTRADICTED


def test_the_cnn_explanation_turns_supported_when_the_cnn_fixes_subtract(study):
    plant(study, [0.90, 0.92, 0.91], head="subtract", encoder="cnn")
    plant(study, [0.50, 0.51, 0.49], head="subtract")
    rs = judged(study)
    assert rs["c"].verdict == SUPPORTED
    gain = rs["c"].predictions[1]
    assert gain.rival.verdict == SUPPORTED and "one-sided" in gain.numbers


def test_half_a_rival_is_not_a_verdict(study):
    plant(study, [0.50, 0.51, 0.49], head="absdiff")  # only one of (a)'s two predictions comes true
    assert judged(study)["a"].verdict == CONTRADICTED


def test_a_rival_without_its_runs_is_not_measured_with_the_command(tmp_path):
    from fakes import SEED_QUESTION
    write_study(tmp_path, [c for c in SEED_QUESTION if c.get("encoder") != "cnn"], seeds=3, n=100)
    c = judged(tmp_path)["c"]
    assert c.verdict == NOT_MEASURED
    assert "encoder=cnn" in c.predictions[0].rival.command
