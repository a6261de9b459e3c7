"""The writer: report.html is report.md rendered by markdown-it-py, raw HTML off, images embedded."""

import base64

import pytest

from ablation.report.load import ReportError
from ablation.report.write import to_html, writable

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")


def test_markdown_is_rendered_and_images_are_embedded(tmp_path):
    (tmp_path / "a.png").write_bytes(PNG)
    html = to_html("# T\n\n*em* **b** `c` [l](https://x)\n\n| h |\n|---|\n| v |\n\n![cap](a.png)\n\n<b>raw</b>\n",
                   tmp_path, "T")
    assert "<em>em</em>" in html and "<strong>b</strong>" in html and "<code>c</code>" in html
    assert "<table>" in html and "<div class='table'>" in html
    assert 'src="data:image/png;base64,' in html and 'src="a.png"' not in html
    assert "&lt;b&gt;raw&lt;/b&gt;" in html  # raw HTML is text
    assert "<title>T</title>" in html and "viewport" in html


def test_an_unwritable_folder_is_a_report_error(tmp_path):
    with pytest.raises(ReportError, match="not writable"):
        writable(tmp_path / "file" / "sub") if (tmp_path / "file").write_text("x") else None
    writable(tmp_path / "ok" / "sub")
    assert (tmp_path / "ok" / "sub").is_dir()
