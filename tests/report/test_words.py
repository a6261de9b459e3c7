"""Names for what the runs hold: labels from the runs (per report, not global), reading order from the config's
defaults, and text from the runs made literal in Markdown."""

import pandas as pd
import pytest

from ablation.report.words import Words, md_escape, plain
from ablation.report.write import renderer


def test_labels_come_from_the_runs_of_each_report_and_nothing_is_shared():
    a = Words.from_runs(pd.DataFrame({"head": ["mine"], "head_label": ["my head"]}))
    b = Words.from_runs(pd.DataFrame({"head": ["mine"], "head_label": ["another label"]}))
    assert a.name("head", "mine") == "my head" and b.name("head", "mine") == "another label"
    assert Words().name("head", "mine") == "mine"  # no label known: the value itself
    assert a.name("depth", 0) == "no hidden layer" and a.name("depth", 2) == "2 hidden layers"
    assert a.name("optimizer.lr", 0.003) == "optimizer.lr=0.003" and a.name("epochs", 1) == "1 epoch"


def test_levels_list_the_config_default_first():
    w = Words(defaults={"head": "distance", "pair_order": "random"})
    assert w.levels(["sum", "distance", "absdiff"], "head") == ["distance", "absdiff", "sum"]
    assert w.levels([2, 0, 1], "depth") == [0, 1, 2]
    assert w.others("head") == [] and Words(defaults={"loss": "x"}, options={"loss": ["x", "y"]}).others("loss") == ["y"]


@pytest.mark.parametrize("text", ["*bold*", "**strong**", "`code`", "[link](http://x)", "<script>alert(1)</script>",
                                  "a_b_c", "|a−b| + dense", "<img src=x onerror=alert(1)>", "# heading", "~~x~~"])
def test_escaped_text_renders_as_exactly_that_text(text):
    html = renderer().render(md_escape(text)).strip()
    assert html.startswith("<p>") and html.endswith("</p>")
    inner = html[3:-4]
    assert "<" not in inner.replace("&lt;", "")  # no tag of any kind
    assert inner.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&") == text


def test_plain_writes_values_as_a_user_types_them():
    assert [plain(v) for v in (True, 3, 0.003, 20.0, "keras")] == ["true", "3", "0.003", "20", "keras"]
