"""The thread's table beside full-MNIST runs: each number agrees inside the CI, inside the range, or differs; its
cells are the thread preset's grids, read from the composed config."""

from helpers.fakes import write_run, write_study
from helpers.reports import context_of

from ablation.report.build import config_facts, make_report
from ablation.report.load import load_runs
from ablation.report.thread import AGREES_CI, AGREES_RANGE, DIFFERS, NOT_RUN, ONE_SEED, original_table


def table(results):
    runs = load_runs(results).runs
    return original_table(runs, config_facts()[2], context_of(runs))


def plant(results, head, convention, train, test):
    for s, (tr, te) in enumerate(zip(train, test)):
        write_run(results / "runs", data="mnist", head=head, convention=convention, seed=s,
                  metrics={"train_acc": tr, "test_acc": te})


def verdicts(results):
    rows = table(results)["rows"]
    return {(r.setup, r.metric, r.source.split(",")[0]): r.verdict for r in rows}


def test_without_full_mnist_runs_the_table_is_not_measured_with_the_command(tmp_path):
    write_study(tmp_path, [{"head": "distance"}], seeds=3, n=100)
    o = table(tmp_path)
    assert all(r.verdict == NOT_RUN for r in o["rows"])
    assert "+experiment=thread_table" in o["summary"]


def test_each_thread_number_is_judged_against_the_ci_and_the_range(tmp_path):
    # eight seeds: a CI narrower than the range of the runs
    plant(tmp_path, "distance", "distance", [0.9950, 0.9960, 0.9955, 0.9950, 0.9960, 0.9955, 0.9950, 0.9960],
          [0.971, 0.975, 0.975, 0.976, 0.975, 0.976, 0.975, 0.975])  # CI ≈ [97.34 %, 97.61 %], runs 97.1–97.6 %
    plant(tmp_path, "subtract", "similarity", [0.50, 0.50, 0.50], [0.47, 0.50, 0.49])
    v = verdicts(tmp_path)
    assert v[("keras", "train_acc", "the asker's run of the Keras example")] == AGREES_CI  # 99.55 %
    assert v[("keras", "test_acc", "the asker's run of the Keras example")] == AGREES_CI  # 97.42 %
    assert v[("keras", "test_acc", "the Keras example's docstring")] == AGREES_RANGE  # 97.2 %
    assert v[("asker", "train_acc", "the asker's variant")] == DIFFERS  # 48.64 % vs three runs at exactly 50 %
    assert v[("asker", "test_acc", "the asker's variant")] == AGREES_CI  # 48.29 % in [44.9 %, 52.1 %]
    plant(tmp_path, "distance", "distance", [0.9950] * 8, [0.980, 0.981, 0.982, 0.980, 0.981, 0.982, 0.980, 0.981])
    assert verdicts(tmp_path)[("keras", "test_acc", "the Keras example's docstring")] == DIFFERS


def test_one_seed_is_shown_but_not_judged_and_other_data_does_not_count(tmp_path):
    write_run(tmp_path / "runs", data="mnist", head="distance", metrics={"train_acc": 0.99, "test_acc": 0.97})
    write_run(tmp_path / "runs", data="mnist", head="distance", epochs=5, seed=1, metrics={"test_acc": 0.5})
    write_run(tmp_path / "runs", head="distance", seed=2, metrics={"test_acc": 0.5})  # mnist5k
    rows = table(tmp_path)["rows"]
    assert [r.verdict for r in rows if r.setup == "keras"] == [ONE_SEED] * 3
    assert all(r.n == 1 for r in rows if r.setup == "keras")


def test_the_report_section_shows_the_numbers(tmp_path):
    results = tmp_path / "results"
    write_study(results, seeds=3, n=100)
    plant(results, "distance", "distance", [0.9950, 0.9960, 0.9955], [0.9700, 0.9760, 0.9750])
    _, md = make_report(results, tmp_path / "r", plots=False)
    text = md.read_text()
    section = text.split("## The original table, reproduced")[1].split("\n## ")[0]
    assert "99.55 %" in section and "97.42 %" in section and "97.20 %" in section and "48.64 %" in section
    assert "agrees: inside the 95 % CI" in section and "not measured" in section
