"""The document: text from the runs cannot become markup, the numbers come from the runs, figures come from the
registry with their captions."""

import pandas as pd
from helpers.fakes import write_run, write_study

from ablation.report.build import make_report
from ablation.report.document import code, md_table
from ablation.report.plots import FIGURES
from ablation.report.write import renderer

EVIL = "<script>alert(1)</script> *x* <img src=x onerror=alert(2)> [a](javascript:b) `c`"


def test_a_users_label_is_shown_as_text_everywhere_in_the_markdown(tmp_path):
    write_study(tmp_path, [{"head": "subtract"}], seeds=2, n=100)
    for s in (0, 1):
        write_run(tmp_path / "runs", head="evil", seed=s, n=100, traits={"head_label": EVIL})
    _, md = make_report(tmp_path, tmp_path / "r", plots=False)
    html = renderer().render(md.read_text())
    assert "<script>" not in html and "<img src=x" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; *x*" in html  # the label, literally


def test_code_spans_and_tables_hold_any_text_literally():
    assert renderer().render(code("a `b` c")).strip() == "<p><code>a `b` c</code></p>"
    html = renderer().render(md_table(pd.DataFrame({"head": ["|a−b| *x*"], "n": [3]})))
    assert "<td>|a−b| *x*</td>" in html and "<em>" not in html


def test_every_registered_figure_appears_with_its_caption(tmp_path):
    write_study(tmp_path, [{"head": "subtract"}, {"head": "absdiff"}], seeds=2, n=100)
    _, md = make_report(tmp_path, tmp_path / "r", workers=1)
    text = md.read_text()
    for fig in FIGURES:
        assert f"]({fig.name})" in text or f"`{fig.name}`: no runs to plot" in text
        if f"]({fig.name})" in text:
            assert text.count(fig.caption.split(".")[0]) >= 1
