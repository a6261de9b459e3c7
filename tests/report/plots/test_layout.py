"""Every figure reads at any grid size: drawn for a grid that gives it one or two panels and for the quick
start's many panels, every piece of text lies inside the canvas (titles are never cut off at the edges) and no
legend sits on a panel (where it would cover data or a note)."""

import matplotlib.pyplot as plt
import pytest
from helpers.fakes import QUESTION, write_study
from helpers.reports import context_of
from matplotlib.legend import Legend
from matplotlib.text import Text

from ablation.report.build import figure_inputs
from ablation.report.load import load_runs
from ablation.report.plots import FIGURES
from ablation.report.select import in_context, measured

GRIDS = {
    # 12 runs: one panel each, and the pair-order control's two bars (subtract on random and sorted pairs)
    "few panels": [{"head": "subtract"}, {"head": "absdiff"}, {"head": "distance"},
                   {"head": "subtract", "pair_order": "sorted"}],
    "many panels": QUESTION,
}


@pytest.fixture(scope="module", params=list(GRIDS))
def drawn(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(request.param.replace(" ", "_"))
    write_study(tmp, GRIDS[request.param], seeds=3, n=200)
    loaded = load_runs(tmp)
    runs = loaded.runs
    ctx = context_of(runs)
    plotted = measured(runs)
    inputs = figure_inputs(plotted, in_context(runs, ctx.fixed), loaded.runs_dir, ctx)
    figures = {fig.name: fig.draw(plotted, inputs[fig.name], ctx) for fig in FIGURES}
    yield {k: f for k, f in figures.items() if f is not None}
    for f in figures.values():
        if f is not None:
            plt.close(f)


def texts(fig):
    """Every text the figure draws: titles, labels, notes, legend entries, and the tick labels of the ticks drawn
    (an axis keeps Text objects for ticks outside its range, which are never drawn)."""
    ticks = {id(t) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis) for tick in axis.get_major_ticks()
             + axis.get_minor_ticks() for t in (tick.label1, tick.label2)}
    drawn = {id(t) for ax in fig.axes if ax.get_visible() for axis in (ax.xaxis, ax.yaxis)
             for tick in axis._update_ticks() for t in (tick.label1, tick.label2) if tick.get_visible() and t.get_visible()}
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()
            and not (t.axes is not None and not t.axes.get_visible()) and (id(t) not in ticks or id(t) in drawn)]


@pytest.mark.parametrize("name", [f.name for f in FIGURES])
def test_every_text_lies_inside_the_canvas_and_no_legend_covers_a_panel(drawn, name):
    assert name in drawn, f"{name}: nothing drawn for this grid"
    fig = drawn[name]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width, height = fig.canvas.get_width_height()
    for t in texts(fig):
        box = t.get_window_extent(renderer)
        assert box.x0 >= -1 and box.y0 >= -1 and box.x1 <= width + 1 and box.y1 <= height + 1, \
            (name, t.get_text()[:60], box.bounds, (width, height))
    panels = [ax.get_window_extent(renderer) for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    for legend in fig.findobj(Legend):
        box = legend.get_window_extent(renderer)
        assert not any(box.overlaps(p) for p in panels), (name, "a legend on a panel")
