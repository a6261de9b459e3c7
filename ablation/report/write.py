"""The writer: the report folder's files, each written atomically, and report.html rendered from report.md.

The HTML is the Markdown rendered by markdown-it-py (CommonMark with tables) with raw HTML turned off, so that text
from the runs shows as text, and every image embedded as a data URI so that the file is readable on its own.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from markdown_it import MarkdownIt
from matplotlib.figure import Figure

from ablation.store import atomic, unwritable, write_text

from .load import ReportError
from .plots.kit import DPI

CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45;color:#222;
overflow-wrap:break-word}table{border-collapse:collapse;font-size:.85em;margin:0}td,th{border:1px solid #ccc;
padding:3px 6px;text-align:left}th{background:#f3f3f3}code,pre{background:#f6f6f6;padding:1px 4px;border-radius:3px}
pre{padding:.6em;overflow-x:auto}img{max-width:100%;height:auto}.table{overflow-x:auto;max-width:100%;margin:1em 0}
details{border-top:1px solid #ddd;padding:.3em 0}summary{cursor:pointer}summary h2{display:inline;font-size:1.2em}
details[open]>summary{margin-bottom:.5em}"""


def writable(out: Path) -> None:
    """Raise a ReportError naming the problem if the report folder cannot be created and written."""
    problem = unwritable(out, "out_dir")
    if problem:
        raise ReportError(problem)


def renderer() -> MarkdownIt:
    """CommonMark plus tables, no raw HTML (markdown-it-py's own presets would pass raw HTML through)."""
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def folded(md: MarkdownIt, tokens: list) -> str:
    """The rendered page: what comes before the first level-2 heading as it is (the front page), every level-2
    section as a closed `<details>` whose summary is its heading (the evidence, one click away)."""
    starts = [i for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h2" and t.level == 0]
    render = lambda part: md.renderer.render(part, md.options, {})  # noqa: E731
    parts = [render(tokens[: starts[0] if starts else len(tokens)])]
    for i, end in zip(starts, [*starts[1:], len(tokens)]):
        title = md.renderer.renderInline(tokens[i + 1].children or [], md.options, {})
        anchor = re.sub(r"[^a-z0-9]+", "-", html.unescape(re.sub(r"<[^>]+>", "", title)).lower()).strip("-")
        parts.append(f"<details id='{anchor}'><summary><h2>{title}</h2></summary>\n{render(tokens[i + 3 : end])}</details>\n")
    return "".join(parts)


def to_html(markdown: str, folder: Path, title: str) -> str:
    """report.md → one self-contained HTML page: images embedded, wide tables scrolling in their own box, each
    `##` section folded."""
    md = renderer()
    tokens = md.parse(markdown)
    for t in tokens:
        for child in t.children or ():
            if child.type == "image":
                src = str(child.attrGet("src") or "")
                path = folder / src
                if src and "/" not in src and path.is_file():
                    child.attrSet("src", "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode())
    body = folded(md, tokens)
    body = body.replace("<table>", "<div class='table'><table>").replace("</table>", "</table></div>")
    return ("<!doctype html><html><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>\n{body}</body></html>\n")


def write_tables(out: Path, tables: dict[str, pd.DataFrame | str]) -> None:
    """Tables as CSV, and text (Markdown tables) as it is."""
    for name, t in tables.items():
        write_text(out / name, t if isinstance(t, str) else t.to_csv(index=False))


def write_report(out: Path, markdown: str, title: str) -> Path:
    write_text(out / "report.md", markdown)
    write_text(out / "report.html", to_html(markdown, out, title))
    return out / "report.md"


def save_figure(fig: Figure, path: Path) -> None:
    """A drawn figure as PNG, atomically, then closed (drawing a figure is the plots' job, writing it this one's)."""
    atomic(path, lambda tmp: fig.savefig(tmp, dpi=DPI, format="png"))
    plt.close(fig)
