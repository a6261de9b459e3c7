"""The accounts the runs decide between, on fake runs that follow the mechanism: the rivals are contradicted by
the runs their own predictions pick, additivity is supported; the asker's proposals are answered from the runs."""

from helpers.fakes import write_run
from helpers.reports import study

from ablation.report.accounts import accounts, additivity_verdict, conclusion, proposals
from ablation.report.judge import CONTRADICTED, NOT_MEASURED, SUPPORTED


def test_the_rivals_are_contradicted_and_additivity_is_supported(question):
    df, ctx = question
    accs = {a.key: a for a in accounts(df, ctx)}
    assert [accs[k].verdict for k in "abcde"] == [CONTRADICTED] * 4 + [SUPPORTED]
    assert accs["e"].ours and not any(accs[k].ours for k in "abcd")
    assert additivity_verdict(list(accs.values())) == SUPPORTED
    # (d) is contradicted by a symmetric additive head, whatever its name
    bad = [p for p in accs["d"].predictions if p.account.verdict == CONTRADICTED]
    assert bad and "sum a+b + dense" in bad[0].numbers
    assert "The runs contradict (a), (b), (c), (d); they support (e)." in conclusion(list(accs.values()))


def test_the_zeros_in_account_is_judged_on_heads_whose_merge_vanishes_for_identical_inputs(tmp_path):
    # a head that measures z(a,a) constant and interacting: a user's |a−b| under another name
    def plant(runs_dir):
        for s in range(3):
            write_run(runs_dir, head="mydiff", seed=s, n=2000, metrics={"identical_spread_init": 0.0, "test_acc": 0.9 + s / 100})
    df, ctx = study(tmp_path, [{"head": "subtract"}], more=[plant])
    first = accounts(df, ctx)[0].predictions[0]
    assert "mydiff" in first.numbers and first.account.verdict == CONTRADICTED


def test_without_the_runs_an_account_needs_its_predictions_are_not_measured(tmp_path):
    df, ctx = study(tmp_path, [{"head": "absdiff"}])
    accs = {a.key: a for a in accounts(df, ctx)}
    assert accs["c"].predictions[0].account.verdict == NOT_MEASURED
    answers = dict(proposals(df, ctx))
    assert answers["A CNN encoder?"].startswith("Not measured") and answers["More dense layers?"].startswith("Not measured")


def test_the_proposals_are_answered_from_the_runs(question):
    df, ctx = question
    answers = dict(proposals(df, ctx))
    assert "CNN encoder" in answers["A CNN encoder?"] and "the head decides" in answers["A CNN encoder?"]
    assert "1 hidden layer" in answers["More dense layers?"] and "interaction" in answers["More dense layers?"]
