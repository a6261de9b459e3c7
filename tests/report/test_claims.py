"""The claims registry on fake studies: all hold on runs that behave as the mechanism says; each check fails the
way it should when a run contradicts it; heads are picked by measured structure, a user's head included."""

import re
from pathlib import Path

from conftest import ROOT
from helpers.fakes import write_run
from helpers.reports import study

from ablation.report.claims import CLAIMS, check_claims
from ablation.report.judge import CONTRADICTED, HOLDS, NOT_MEASURED, SUPPORTED, VIOLATED


def verdicts(claims):
    return {c.number: c.verdict for c in claims}


def test_every_claim_holds_or_is_supported_on_runs_that_follow_the_mechanism(question):
    df, ctx = question
    claims = check_claims(df, ctx)
    assert verdicts(claims) == {1: HOLDS, 2: HOLDS, 3: HOLDS, 4: SUPPORTED, 5: SUPPORTED, 6: SUPPORTED, 7: SUPPORTED}
    assert all(k.command is None for c in claims for k in c.checks)


def test_the_claim_titles_are_the_headings_of_the_mechanism_document():
    doc = (ROOT / "docs" / "mechanism.md").read_text()
    headings = re.findall(r"^### (\d+)\. (.+)$", doc.split("## The claims")[1].split("\n## ")[0], flags=re.M)
    assert [(int(n), t) for n, t in headings] == [(s.number, s.title) for s in sorted(CLAIMS, key=lambda s: s.number)]


def test_a_user_head_is_judged_by_what_it_measures_not_by_its_name(tmp_path):
    # "mysum" from a user's module: additive and symmetric by its residuals, nothing declared about structure
    cells = [{"head": "mysum", "pair_order": o} for o in ("random", "sorted")] + [{"head": "absdiff"}]
    df, ctx = study(tmp_path, cells)
    df.loc[df["head"] == "mysum", ["interaction_init", "symmetry_residual_init", "antisymmetry_residual_init"]] = \
        [3e-16, 0.0, 2.0]
    from ablation.report.load import structure
    df[["additive", "symmetric", "antisymmetric"]] = structure(df)
    claims = {c.number: c for c in check_claims(df, ctx)}
    sym = next(k for k in claims[6].checks if "symmetric additive heads" in k.what)
    assert "mysum" in sym.evidence  # chosen as a symmetric additive head: its measured structure, not its name


def test_an_additive_run_that_gets_a_rectangle_right_is_a_bug(tmp_path):
    def plant(runs_dir: Path) -> None:
        write_run(runs_dir, head="subtract", seed=7, n=2000, metrics={"rectangles_all_right": 0.01})
    df, ctx = study(tmp_path, [{"head": "subtract"}, {"head": "absdiff"}], more=[plant])
    check = next(k for k in check_claims(df, ctx)[0].checks if "rectangle" in k.what)
    assert check.verdict == VIOLATED and "0.01" in check.evidence


def test_an_additive_run_whose_auc_carries_information_contradicts_claim_4(tmp_path):
    def plant(runs_dir: Path) -> None:
        write_run(runs_dir, head="subtract", seed=7, n=2000, metrics={"test_auc": 0.8, "test_auc_lo": 0.77,
                                                                       "test_auc_hi": 0.83})
    df, ctx = study(tmp_path, [{"head": "subtract"}, {"head": "absdiff"}], more=[plant])
    claim4 = next(c for c in check_claims(df, ctx) if c.number == 4)
    assert claim4.verdict == CONTRADICTED and "carries information" in " ".join(k.evidence for k in claim4.checks)


def test_a_symmetric_additive_head_that_learns_on_sorted_pairs_contradicts_claim_6(tmp_path):
    def plant(runs_dir: Path) -> None:
        for s in range(3):
            write_run(runs_dir, head="sum", pair_order="sorted", seed=s, n=2000,
                      metrics={"test_acc": 0.85 + 0.01 * s, "test_auc": 0.9, "test_auc_lo": 0.88, "test_auc_hi": 0.92})
    df, ctx = study(tmp_path, [{"head": "sum"}, {"head": "subtract", "pair_order": "sorted"}, {"head": "subtract"}],
                    more=[plant])
    claim6 = next(c for c in check_claims(df, ctx) if c.number == 6)
    assert claim6.verdict == CONTRADICTED


def test_without_the_heads_a_claim_needs_it_is_not_measured_with_a_command(tmp_path):
    df, ctx = study(tmp_path, [{"head": "absdiff"}])
    claims = {c.number: c for c in check_claims(df, ctx)}
    assert claims[4].verdict == NOT_MEASURED
    assert all(k.command and k.command.startswith("python -m ablation.sweep -m") for k in claims[4].checks)
    # no additive head known: the heads not run yet (the sweep measures their structure first), never the preset
    assert claims[4].checks[0].command.startswith("python -m ablation.sweep -m head=concat,distance,")
    assert "loss=bce" in claims[4].checks[0].command and "+experiment" not in claims[4].checks[0].command
