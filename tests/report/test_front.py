"""The front page: the answer in plain words before the one figure, computed from the runs; on the quick start's
grid the page a reader sees without opening a section stays short and states each head's accuracy once."""

import re
from html.parser import HTMLParser

from helpers.fakes import QUESTION, skipped, write_run, write_study

from ablation.report.build import make_report
from ablation.report.document import TITLE, answer_text, markdown
from ablation.report.front import accuracies, head_name
from ablation.report.select import structured
from ablation.report.words import pct
from ablation.report.write import to_html

VISIBLE_WORDS = 1500


class Visible(HTMLParser):
    """The text a reader sees without opening anything: outside every <details> but its <summary>."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ("meta", "img", "br", "hr"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data):
        folded = "details" in self.stack and "summary" not in self.stack[self.stack.index("details"):]
        if not folded and not {"style", "title", "head"} & set(self.stack):
            self.text.append(data)


def visible(html: str) -> str:
    v = Visible()
    v.feed(html)
    return " ".join(v.text)


def words(text: str) -> int:
    return len([w for w in text.split() if re.search(r"\w", w)])


def test_the_quick_start_page_is_short_and_states_each_number_once(tmp_path):
    for i, cell in enumerate(QUESTION):  # the quick start's grid, each cell with accuracies of its own
        for seed in range(3):
            if skipped(cell):
                write_run(tmp_path / "runs", "skipped", seed=seed, **cell)
            else:
                write_run(tmp_path / "runs", seed=seed, n=400, metrics={"test_acc": 0.3 + i / 50 + seed / 1000}, **cell)
    a, md = make_report(tmp_path, tmp_path / "r", plots=False)
    html = to_html(markdown(a, "runs", {"interaction_map.png": True}), tmp_path, TITLE)  # with the front figure
    seen = visible(html)
    assert words(seen) <= VISIBLE_WORDS, words(seen)
    assert "What fixes it." in seen and "Each head: measured structure, prediction, verdict" in seen
    assert "Test accuracy per setting" in seen  # a folded section's summary
    assert "| head |" not in seen and "Welch" not in seen  # the tables and the tests are folded
    numbers = re.findall(r"\d+\.\d %", seen)
    assert len(numbers) >= 10 and len(numbers) == len(set(numbers)), numbers  # each stated once
    keras = a.heads[(a.heads["encoder"] == "mlp") & (a.heads["loss"] == "contrastive")
                    & (a.heads["convention"] == "distance")]
    for _, row in keras.iterrows():  # every head of the Keras setting, in each pair order: its accuracy
        assert f"{head_name(row, a.ctx)} {pct(row['test_acc'])}" in seen, row["head"]
    assert seen.index("What the failing head computes.") < seen.index("How sure.")
    assert html.index("What fixes it.") < html.index("interaction_map.png") < html.index("<details")


def test_the_console_opens_with_the_same_answer(tmp_path):
    write_study(tmp_path, [{"head": "subtract"}, {"head": "absdiff"}], seeds=3, n=400)
    a, md = make_report(tmp_path, tmp_path / "r", plots=False)
    text = answer_text(a)
    add = structured(a.heads, additive=True)
    assert text.startswith("Test accuracies below:") and accuracies(add, a.ctx) in text.replace("\n", " ")
    assert "one number and add the two" in text.replace("\n", " ") and "**" not in text


def test_the_answer_says_what_the_runs_cannot_show(tmp_path):
    write_run(tmp_path / "runs", head="absdiff", seed=0, n=400)  # one run of an interacting head
    a, md = make_report(tmp_path, tmp_path / "r", plots=False)
    text = answer_text(a).replace("\n", " ")
    assert "No head in these runs is additive" in text and "one seed each, so no interval yet" in text
    assert "nan" not in text.lower() and "(1 seed)" not in text  # said once, for every head


def test_additive_heads_only_in_a_fixed_order_are_still_named_as_additive(tmp_path):
    write_study(tmp_path, [{"head": "concat", "pair_order": "sorted"}, {"head": "absdiff"}], seeds=1, n=400)
    write_run(tmp_path / "runs", head="absdiff", seed=1, n=400)
    a, md = make_report(tmp_path, tmp_path / "r", plots=False)
    text = answer_text(a).replace("\n", " ")
    assert "None was run on pairs in random order, where it fails." in text
    assert "mean of 1 to 2 seeds" in text and "(1 seed)" in text  # the seeds differ: a single seed says so
