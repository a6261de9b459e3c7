"""The training recipe in the report: the optimizer is a factor of the summary and of the effects, runs with
different optimizers are never pooled, and the claims are judged under each optimizer on its runs alone."""

from helpers.fakes import write_run

from ablation.report.build import make_report
from ablation.report.judge import CONTRADICTED, SUPPORTED

ADAM = {"optimizer": "adam", "identity": {"optimizer._target_": "torch.optim.Adam"}}
INFORMATIVE = {"test_acc": 0.8, "test_auc": 0.9, "test_auc_lo": 0.88, "test_auc_hi": 0.92}  # an additive run that learnt


def write(tmp_path, rmsprop: bool = True):
    """subtract (additive) and |a−b| (interacting), 3 seeds, under RMSprop (the default) and Adam; the Adam runs of
    subtract planted to carry information, which contradicts claim 4 under Adam alone."""
    runs = tmp_path / "results" / "runs"
    for seed in range(3):
        for head in ("subtract", "absdiff"):
            if rmsprop:
                write_run(runs, head=head, seed=seed, n=2000)
            write_run(runs, head=head, seed=seed, n=2000, metrics=INFORMATIVE if head == "subtract" else None, **ADAM)
    return tmp_path / "results"


def claim(claims, number):
    return next(c for c in claims if c.number == number)


def contrastive(claims):
    """Claim 4's check on the runs of this study: additive heads under the contrastive loss."""
    return next(k for k in claim(claims, 4).checks if "not convex" in k.what)


def test_the_claims_are_judged_under_each_optimizer_on_its_own_runs(tmp_path):
    a, md = make_report(write(tmp_path), tmp_path / "report", plots=False)
    assert a.ctx.fixed["optimizer"] == "rmsprop"  # as many runs each: the default recipe is the report's
    check = contrastive(a.claims)  # the additive runs at the report's setting carry no information
    assert check.verdict == SUPPORTED and "subtract" in check.evidence
    (recipe, adam), = a.recipes
    assert recipe == {"optimizer": "adam"} and contrastive(adam).verdict == CONTRADICTED
    assert claim(adam, 4).verdict == CONTRADICTED
    text = md.read_text()
    assert "## The claims under each training recipe" in text and "| rmsprop (the report's) | adam |" in text


def test_the_optimizer_is_a_factor_of_the_summary_and_the_effects_and_never_pooled(tmp_path):
    a, _ = make_report(write(tmp_path), tmp_path / "report", plots=False)
    assert set(a.summary["optimizer"]) == {"rmsprop", "adam"} and set(a.summary["n"]) == {3}
    assert {"main effect of optimizer", "head × optimizer interaction"} <= set(a.effects["effect"])
    depth_free = a.effects[a.effects["factor"] != "optimizer"]
    assert all("adam" not in str(m) for m in depth_free["means"])  # other effects hold the optimizer fixed


def test_a_report_on_another_optimizer_alone_says_so_and_its_commands_carry_it(tmp_path):
    a, md = make_report(write(tmp_path, rmsprop=False), tmp_path / "report", plots=False)
    assert a.ctx.fixed["optimizer"] == "adam" and not a.recipes
    commands = [k.command for c in a.claims for k in c.checks if k.command]
    assert commands and all("optimizer=adam" in c for c in commands)
