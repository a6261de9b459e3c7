"""One judgement per question: a rival's "learns" and additivity's "chance" about the same runs are judged on the
same evidence, so they cannot both stand. Runs whose accuracy is noisy (its interval over seeds straddles the
line) while every run's ROC AUC interval sits plainly at 0.5 carry no information: "learns" is contradicted."""

from helpers.fakes import write_run
from helpers.reports import context_of

from ablation.report.accounts import accounts
from ablation.report.judge import CONTRADICTED, LEARNS, NO_INFO, SUPPORTED, level, level_check, mean_ci
from ablation.report.load import load_runs
from ablation.report.select import in_context, structured
from ablation.report.tables import head_table

NOISY = [0.40, 0.47, 0.53]  # mean 46.7 %: its 95 % interval over three seeds reaches far above the chance band


def noisy_study(tmp_path):
    runs_dir = tmp_path / "runs"
    for seed, acc in enumerate(NOISY):  # the sum head: additive and symmetric; AUC 0.50 within ±0.02 in every run
        write_run(runs_dir, head="sum", seed=seed, n=400,
                  metrics={"test_acc": acc, "test_auc": 0.5, "test_auc_lo": 0.48, "test_auc_hi": 0.52})
        write_run(runs_dir, head="absdiff", seed=seed, n=400)
    runs = load_runs(tmp_path).runs
    ctx = context_of(runs)
    return in_context(runs, ctx.fixed), ctx


def test_runs_that_carry_no_information_contradict_learns_whatever_the_noisy_accuracy(tmp_path):
    df, ctx = noisy_study(tmp_path)
    add = structured(df, additive=True)
    assert len(add) == 3 and level(mean_ci(add["test_acc"]), LEARNS) != CONTRADICTED  # the accuracy alone is undecided
    check = level_check("learns", add, {}, ctx, LEARNS)
    assert check.verdict == CONTRADICTED and "no-information band" in check.evidence
    assert level_check("chance", add, {}, ctx, NO_INFO).verdict == SUPPORTED


def test_a_rivals_learns_and_additivitys_chance_on_the_same_runs_agree(tmp_path):
    df, ctx = noisy_study(tmp_path)
    symmetric = next(x for x in accounts(df, ctx) if x.key == "d")  # "a symmetric head is enough"
    first = symmetric.predictions[0]  # every symmetric head learns: judged on the sum's runs
    assert first.account.verdict == CONTRADICTED and first.additivity.verdict == SUPPORTED
    rows = head_table(df, ctx)
    assert rows.loc[rows["head"] == "sum", "verdict"].tolist() == [SUPPORTED]  # predicted chance: it is
