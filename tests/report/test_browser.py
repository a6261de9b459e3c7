"""report.html in a real browser: Chromium (Playwright driving the system's browser, no download), every
request that is not a local file blocked. No page errors, every image loaded, the claim verdicts and the
tables there, no raw Markdown mark left in the text, the answer in words before the figure with the evidence
folded, and readable at a phone's width and at a desktop's (nothing
wider than the window but the tables, which scroll inside their own box). A user's head whose label holds a
script and an image with an onerror handler is shown as that text, and nothing of it runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FAST
from helpers.extras import missing, require

pytestmark = pytest.mark.slow

playwright = require("playwright.sync_api", "playwright is not installed: pip install -e '.[browser]'")
BROWSER = next((p for p in (os.environ.get("CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser"),
                            "/usr/bin/chromium") if p and os.path.exists(p)), None)
if BROWSER is None:
    missing("no Chromium installed (apt-get install chromium, or set CHROMIUM=/path/to/chrome)")

EVIL = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
HEAD = f'''
from ablation.heads import Sum


class Evil(Sum):  # a user's head (the sum's merge) whose label is markup
    name = "evil"
    label = {EVIL!r}
'''
RAW_MARKS = re.compile(r"\*\*|`|\[[^\]]*\]\([^)]*\)|(?<![\w*])\*[^*\s][^*]*\*(?![\w*])")
VERDICT = re.compile(r"^\d+\. .+: (holds|violated \(a bug\)|supported|contradicted|inconclusive|not testable|not measured)$")
FIRST_SCREEN = """() => ({
  text: document.body.innerText,
  answerTop: [...document.querySelectorAll('p strong')].map(e => e.getBoundingClientRect().top)[0],
  imageTop: document.images[0].getBoundingClientRect().top,
  closed: [...document.querySelectorAll('details')].filter(d => !d.open).length,
})"""
SIZES = {"phone": dict(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True, device_scale_factor=2),
         "desktop": dict(viewport={"width": 1280, "height": 900})}

MEASURE = """() => {
  document.querySelectorAll('details').forEach(d => d.open = true);  // every section, as a reader opens them
  const w = window.innerWidth;
  const box = e => e.getBoundingClientRect();
  const outside = [...document.body.querySelectorAll('*')]
    .filter(e => !(e.parentElement && e.parentElement.closest('.table, pre')))  // these scroll in their box
    .filter(e => box(e).width > 0 && box(e).right > w + 1)
    .map(e => e.tagName + (e.className ? '.' + e.className : ''));
  return {
    innerWidth: w,
    scrollWidth: document.documentElement.scrollWidth,
    outside: outside.slice(0, 10),
    images: [...document.images].map(i => ({complete: i.complete, natural: i.naturalWidth, shown: box(i).width})),
    verdicts: [...document.querySelectorAll('h3')].map(h => h.textContent.trim()),
    tables: [...document.querySelectorAll('table')].map(t => ({rows: t.rows.length, boxRight: box(t.closest('.table') || t).right})),
    fontPx: parseFloat(getComputedStyle(document.querySelector('p')).fontSize),
    text: document.body.innerText,
    scripts: document.querySelectorAll('script').length,
    pwned: window.pwned === undefined ? null : window.pwned,
    badImages: [...document.images].filter(i => !i.src.startsWith('data:')).length,
  };
}"""


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """The report of a tiny real sweep with a user's head from their own folder, with its plots."""
    proj = tmp_path_factory.mktemp("browser")
    (proj / "my_conf" / "head").mkdir(parents=True)
    (proj / "my_heads.py").write_text(HEAD)
    (proj / "my_conf" / "head" / "evil.yaml").write_text("_target_: my_heads.Evil\nhidden: 128\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(proj), os.environ.get("PYTHONPATH")) if p)}
    run = lambda module, *a: subprocess.run([sys.executable, "-m", module, *a], cwd=proj, env=env,  # noqa: E731
                                            capture_output=True, text=True, timeout=300)
    p = run("ablation.sweep", "-m", "--config-dir", "my_conf", "head=subtract,absdiff,evil", "seed=0,1", *FAST)
    assert p.returncode == 0, p.stderr
    r = run("ablation.report")
    assert r.returncode == 0, r.stderr
    return proj / "results" / "report" / "report.html"


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=BROWSER)  # as root Playwright adds --no-sandbox itself
        yield b
        b.close()


@pytest.mark.parametrize("size", SIZES)
def test_report_html_in_chromium(report, browser, size):
    context = browser.new_context(**SIZES[size])
    page = context.new_page()
    errors, console, blocked = [], [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)

    def only_local(route):
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(report.as_uri(), wait_until="load")
    first = page.evaluate(FIRST_SCREEN)
    m = page.evaluate(MEASURE)
    context.close()

    assert errors == [] and console == []
    # the answer in words comes first, before the figure; the evidence is folded, one click away
    assert first["answerTop"] < first["imageTop"] and first["closed"] >= 8
    assert "What fixes it." in first["text"] and "Each head: measured structure" in first["text"]
    if size == "desktop":
        assert first["answerTop"] < SIZES[size]["viewport"]["height"] / 2
    assert blocked == []  # self-contained: it asked for nothing outside the file
    assert len(m["images"]) >= 4, m["images"]
    for img in m["images"]:
        assert img["complete"] and img["natural"] > 0, img  # decoded, not a broken image
        assert 0 < img["shown"] <= m["innerWidth"], img  # scaled to the window
    verdicts = [v for v in m["verdicts"] if VERDICT.match(v)]
    assert len(verdicts) >= 5, m["verdicts"]
    assert "holds" in " ".join(verdicts)  # the sanity checks, measured on the real runs
    assert len(m["tables"]) >= 2 and all(t["rows"] >= 2 for t in m["tables"])
    # Laid out at the device's width (a phone without a viewport tag shows a 980 px page zoomed out)
    assert m["innerWidth"] == SIZES[size]["viewport"]["width"]
    # Readable: the page never scrolls sideways; only a wide table or command scrolls, inside its own box.
    assert m["scrollWidth"] <= m["innerWidth"], (m["scrollWidth"], m["outside"])
    assert m["outside"] == []
    assert all(t["boxRight"] <= m["innerWidth"] + 1 for t in m["tables"])
    assert m["fontPx"] >= 14  # body text not shrunk to fit (the viewport meta tag keeps phones at 1:1)
    # rendered Markdown: no mark of it is left in the text people read
    assert RAW_MARKS.findall(m["text"]) == []
    # the user's label is text: shown as typed, nothing of it runs or loads
    assert EVIL in m["text"] and m["scripts"] == 0 and m["pwned"] is None and m["badImages"] == 0
