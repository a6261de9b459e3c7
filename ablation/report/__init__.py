"""The report: run folders → one tidy table → judged claims and accounts, tables, figures → report.md and .html.

`python -m ablation.report` (`__main__.py`). The data flows through the modules in this order:

  load       run folders → the runs table (reads files)
  select     cells, the common context, the user's filter, selections by measured structure
  judge      statistics, the named thresholds, levels and contrasts → verdicts
  claims     the registry of claims (docs/mechanism.md), each judged on the runs
  accounts   the accounts the runs decide between, and the asker's two proposals
  tables     per head, per cell, factor effects;  thread: the original thread's table
  plots/     the registry of figures (plots/__init__.py) and their functions
  front      the answer in plain words: the report's front page and the console summary's first lines
  document   what the report says (`Analysis`), as Markdown: the front page, then the evidence in sections
  build      the pipeline end to end (reads the composed config and per-run files; draws the figures)
  write      the report folder's files, and the HTML rendered from the Markdown, each section folded (writes files)

Only `load`, `build` and `write` do I/O; every other module is pure (tables in, tables / figures / text out),
and `words` names things for all of them.
"""
