"""The report: run folders → one tidy table → statistics, plots and a written, measured answer.

`python -m ablation.report` (see `__main__.py`). Every module but `load` and `build` is pure:
DataFrames in, DataFrames / figures / text out.
"""
