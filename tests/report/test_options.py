"""Every bad option of `python -m ablation.report` is refused with one line and exit 1, before anything is read."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CONF, cli
from hydra import compose, initialize_config_dir

from ablation.report.__main__ import check_options
from ablation.report.build import make_report
from ablation.report.load import ReportError

HYDRA_FRAME = ("Error executing job with overrides:", "Set the environment variable HYDRA_FULL_ERROR=1")


def report_cfg(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name="report", overrides=list(overrides))


@pytest.mark.parametrize("option,message", [
    ("out_dir=/proc/report", "out_dir='/proc/report' is not writable: No such file or directory"),
    ("out_dir={file}/report", "out_dir='{file}/report' is not writable: Not a directory"),
    ("workers=0", "workers=0: must be an integer >= 1"),
    ("workers=abc", "workers='abc': must be an integer >= 1"),
    ("workers=1.5", "workers=1.5: must be an integer >= 1"),
    ("plots=maybe", "plots='maybe': must be true or false"),
    ("where=5", "where=5: must be filters such as where.head=subtract"),
])
def test_a_bad_option_is_refused_with_one_line(tmp_path, option, message):
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    cfg = report_cfg(f"results_dir={tmp_path}", option.format(file=a_file))
    with pytest.raises(ReportError) as e:
        check_options(cfg)
    assert str(e.value).startswith(message.format(file=a_file)) and "\n" not in str(e.value)


def test_the_default_options_pass_and_the_check_leaves_nothing_behind(tmp_path):
    check_options(report_cfg(f"results_dir={tmp_path / 'missing'}"))  # a mistyped results_dir is not created
    assert not (tmp_path / "missing").exists()
    (tmp_path / "report").mkdir()
    check_options(report_cfg(f"results_dir={tmp_path}"))
    assert not list((tmp_path / "report").iterdir())  # the probe is gone


def test_the_options_checked_where_they_are_used_are_refused_with_one_line(tmp_path):
    with pytest.raises(ReportError, match=r"^code='newest': must be one of current, all$"):
        make_report(tmp_path, tmp_path / "out", code="newest")
    (tmp_path / "a_file").write_text("")
    with pytest.raises(ReportError, match="does not exist") as e:
        make_report(tmp_path / "a_file", tmp_path / "out")
    assert "\n" not in str(e.value)


def message_lines(stderr: str) -> list[str]:
    """stderr without Hydra's frame around a job's error."""
    return [x for x in stderr.splitlines() if x.strip() and not x.startswith(HYDRA_FRAME)]


@pytest.mark.slow
def test_an_unwritable_out_dir_exits_1_with_one_line(tmp_path):
    r = cli(f"results_dir={tmp_path}", "out_dir=/proc/x", module="ablation.report")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert message_lines(r.stderr) == ["out_dir='/proc/x' is not writable: No such file or directory"], r.stderr
    r = cli(f"results_dir={tmp_path}", f"out_dir={tmp_path / 'r'}", "workers=0", module="ablation.report")
    assert r.returncode == 1 and message_lines(r.stderr) == ["workers=0: must be an integer >= 1 (processes drawing "
                                                             "the plots)"], r.stderr
    r = cli(f"results_dir={tmp_path}", "frobnicate=1", module="ablation.report")  # no option of the report
    assert r.returncode == 1 and r.stderr.startswith("frobnicate=1: no such option") and "Traceback" not in r.stderr
