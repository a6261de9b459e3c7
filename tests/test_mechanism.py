"""The mechanism as code: residuals → structure → prediction, and the pre-flight line, for every structure."""

import math

import pytest

from ablation.mechanism import ADDITIVE_TOL, CHANCE, FAILS, LEARNS, classify, diagnosis, predict, predict_cell

ADDITIVE_SYM, ADDITIVE_ANTI, ADDITIVE = classify(1e-16, 0.0, 2.0), classify(1e-16, 2.0, 0.0), classify(1e-16, 1.4, 1.4)
INTERACTING = classify(0.7, 0.0, 2.0)


def test_residuals_at_or_below_the_tolerance_are_structure():
    assert classify(ADDITIVE_TOL, 0, 1).additive and not classify(ADDITIVE_TOL * 10, 0, 1).additive
    assert ADDITIVE_ANTI.words == "additive, antisymmetric" and ADDITIVE.symmetry == "neither"
    assert not classify(None, None, None).measured and classify(math.nan, 0, 0).words == "not measured"


@pytest.mark.parametrize("s, order, expect", [
    (ADDITIVE_SYM, "random", CHANCE), (ADDITIVE_ANTI, "random", CHANCE), (ADDITIVE, "random", CHANCE),
    (ADDITIVE_SYM, "sorted", CHANCE),  # symmetry is not the fix
    (ADDITIVE_ANTI, "sorted", LEARNS), (ADDITIVE, "sorted", LEARNS),  # the control rescues the others
    (INTERACTING, "random", LEARNS), (INTERACTING, "sorted", LEARNS),
])
def test_each_structure_predicts_by_the_theorems(s, order, expect):
    assert predict(s, order).expect == expect


def test_a_weightless_distance_under_the_flip_is_predicted_to_fail_and_unknown_orders_predict_nothing():
    assert predict_cell(INTERACTING, "random", weightless=True, same_high=True).expect == FAILS
    assert predict_cell(INTERACTING, "random", weightless=True, same_high=False).expect == LEARNS
    assert predict(ADDITIVE, "shuffled").expect is None and predict(classify(None, None, None), "random").expect is None


def test_the_preflight_line_names_the_structure_and_the_prediction_per_pair_order():
    line = diagnosis("concat", 0, ADDITIVE, ["random", "sorted"])
    assert line.startswith("concat, depth 0: additive in its two inputs → random order: predicted chance (cannot separate")
    assert "sorted order: predicted learns" in line and "75 %" in line
    line = diagnosis("sum", 0, ADDITIVE_SYM, ["random", "sorted"])
    assert "additive in its two inputs, symmetric → random order" in line and line.count("predicted chance") == 2
    assert diagnosis("product", 0, INTERACTING, ["random", "sorted"]).startswith(
        "product, depth 0: interacting (mixed difference 0.7 of its scale), symmetric → random and sorted order: "
        "predicted learns")
