"""Optional parts (cluster launchers, MLflow, the browser): a test that needs one is skipped with the install
command where it is missing, but fails under CI (CI=true), which installs every extra: a green CI then means
these tests really ran."""

from __future__ import annotations

import importlib
import importlib.util
import os
from types import ModuleType

import pytest


def missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI installs it, so this is a broken CI setup)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def require(module: str, reason: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError:
        missing(reason)
        raise  # not reached


def need(module: str, extra: str) -> None:
    """Skip (fail under CI) unless `module`, which the project's extra `extra` installs, is importable."""
    if importlib.util.find_spec(module) is None:
        missing(f"{module} is not installed: pip install -e '.[{extra}]'")
