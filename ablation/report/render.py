"""Blocks → Markdown and self-contained HTML. A report is a list of blocks; both formats come from the same list."""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Para:
    text: str  # may use **bold** and `code`


@dataclass(frozen=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Table:
    df: pd.DataFrame


@dataclass(frozen=True)
class Image:
    file: str  # relative to the report folder
    caption: str


Block = Heading | Para | Bullets | Code | Table | Image


def _cell(v: object) -> str:
    return "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v).replace("|", "\\|").replace("\n", " ")


def md_table(df: pd.DataFrame) -> str:
    """A GitHub Markdown table (no tabulate dependency)."""
    head = "| " + " | ".join(_cell(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


def to_markdown(blocks: list[Block]) -> str:
    out = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append("#" * b.level + " " + b.text)
        elif isinstance(b, Para):
            out.append(b.text)
        elif isinstance(b, Bullets):
            out.append("\n".join(f"- {i}" for i in b.items))
        elif isinstance(b, Code):
            out.append(f"```\n{b.text}\n```")
        elif isinstance(b, Table):
            out.append(md_table(b.df))
        elif isinstance(b, Image):
            out.append(f"![{b.caption}]({b.file})\n\n*{b.caption}*")
    return "\n\n".join(out) + "\n"


def inline(text: str) -> str:
    """Escape, then the two inline marks the report uses: **bold** and `code`."""
    t = html.escape(text)
    t = re.sub(r"`([^`]+)`", r"<code>\1</code>", t)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", t)


CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45;color:#222}
table{border-collapse:collapse;font-size:.85em;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}
th{background:#f3f3f3}code,pre{background:#f6f6f6;padding:1px 4px;border-radius:3px}pre{padding:.6em;overflow-x:auto}
figure{margin:1.5em 0}img{max-width:100%;height:auto}figcaption{font-style:italic;color:#444}
body{overflow-wrap:break-word}.table{overflow-x:auto;max-width:100%}.table table{margin:0}.table{margin:1em 0}"""


def to_html(blocks: list[Block], folder: Path, title: str) -> str:
    """One HTML file with every image embedded as base64 (readable without the PNGs next to it)."""
    out = [f"<!doctype html><html><head><meta charset='utf-8'>"
           "<meta name='viewport' content='width=device-width, initial-scale=1'>"  # phones: no zoomed-out desktop page
           f"<title>{html.escape(title)}</title>"
           f"<style>{CSS}</style></head><body>"]
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"<h{b.level}>{inline(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            out.append(f"<p>{inline(b.text)}</p>")
        elif isinstance(b, Bullets):
            out.append("<ul>" + "".join(f"<li>{inline(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Code):
            out.append(f"<pre><code>{html.escape(b.text)}</code></pre>")
        elif isinstance(b, Table):
            table = b.df.to_html(index=False, na_rep="", border=0, escape=True)
            out.append(f"<div class='table'>{table}</div>")  # a wide table scrolls in its box, not the page
        elif isinstance(b, Image):
            data = base64.b64encode((folder / b.file).read_bytes()).decode()
            out.append(f"<figure><img alt='{html.escape(b.caption)}' src='data:image/png;base64,{data}'>"
                       f"<figcaption>{inline(b.caption)}</figcaption></figure>")
    out.append("</body></html>")
    return "\n".join(out)
