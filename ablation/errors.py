"""Expected failures as one line per problem on stderr and exit 1, without Hydra's wrapper; a real bug keeps its
traceback, and HYDRA_FULL_ERROR=1 still gives the full one.

Hydra prints every failure with "Error executing job with overrides" and a HYDRA_FULL_ERROR hint, and its own
composition errors over several lines. The entry points run under `entry`, which lets Hydra's exceptions through
to here; a task function wraps its body in `one_line`, since an exception leaving it is wrapped by Hydra before
this sees it (a SystemExit is not).
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

from hydra.core.global_hydra import GlobalHydra
from hydra.errors import CompactHydraException, ConfigCompositionException, MissingConfigException

from .process import exit_without_collecting

FULL = "HYDRA_FULL_ERROR"
_CANNOT_OVERRIDE = re.compile(r"^Could not override '([^']+)'\.")
_forced: set[str] = set()  # the keys `forced` made `++key=...` in this process
_asked: list[bool] = []  # set by `entry`: whether the user asked for full tracebacks before it set HYDRA_FULL_ERROR


def full_errors() -> bool:
    """Whether the user asked for full tracebacks (HYDRA_FULL_ERROR=1, as Hydra reads it)."""
    return _asked[-1] if _asked else os.environ.get(FULL) == "1"


def expected(e: BaseException) -> bool:
    """A failure the user can act on (the config, the data, a missing extra), not a bug."""
    from .data import DataError  # the modules that raise them; imported here so that this module stays light

    return isinstance(e, (CompactHydraException, DataError))


def lines(e: BaseException) -> str:
    """The failure as one line per problem."""
    if isinstance(e, MissingConfigException):
        return missing_option(e)
    text = str(e).strip()
    m = _CANNOT_OVERRIDE.match(text)
    if m and "No match in the defaults list" in text:  # a group no default chooses: it is added with +
        typed = next((a for a in sys.argv[1:] if a.split("=", 1)[0] == m.group(1)), f"{m.group(1)}=...")
        return f"{typed}: {m.group(1)} is not chosen by default, so it is added with +: write +{typed}"
    if isinstance(e, ConfigCompositionException):
        cause = e.__cause__
        detail = str(cause).splitlines()[0] if cause is not None and str(cause) else ""
        text = " ".join(s.strip() for s in text.splitlines() if s.strip() and not s.startswith("To append"))
        return text + (f" ({detail})" if detail and detail not in text else "")
    return text


def missing_option(e: MissingConfigException) -> str:
    """`head=substract` → one line naming the options that exist (the nearest first); a launcher preset whose Hydra
    plugin is not installed → the pip command that installs it."""
    from .extras import missing_plugin

    path = str(getattr(e, "missing_cfg_file", "") or "")
    group, _, name = path.rpartition("/")
    plugin = missing_plugin(path)
    if plugin:
        return plugin
    options = list(getattr(e, "options", None) or [])
    if not group or not options:
        return " ".join(str(e).split())
    near = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return (f"{group}={name}: no such option" + (f"; did you mean {group}={near[0]}?" if near else "")
            + f" (options: {', '.join(options)})")


def unknown_key(e: BaseException) -> str | None:
    """The key of a plain `key=value` override that Hydra refused because the config lacks it, or None."""
    if isinstance(e, ConfigCompositionException) and "\nTo append to your config use +" in str(e):
        m = _CANNOT_OVERRIDE.match(str(e))
        return m.group(1) if m else None
    return None  # a config group's override (not in the defaults list, say) is Hydra's to explain


def forced(overrides: list[str], key: str) -> list[str] | None:
    """`overrides` with the plain override of `key` made `++key=...` (add or override), or None if there is none.

    A key the composed config lacks is then added, and checked like any other (ablation/schema.py): refused with the
    nearest known key if nothing reads it, taken if its component takes it (`head.eps` of the distance head)."""
    if not key or key.startswith("hydra."):  # Hydra's own node: its keys are Hydra's to check
        return None
    for i, o in enumerate(overrides):
        if not o.startswith(("+", "~")) and o.split("=", 1)[0] == key:
            _forced.add(key)
            return [*overrides[:i], "++" + o, *overrides[i + 1 :]]
    return None


def as_typed(override: str) -> str:
    """An override as the user typed it (without the `++` that `forced` gave it)."""
    if override.startswith("++") and override[2:].split("=", 1)[0] in _forced:
        return override[2:]
    return override


def refuse(e: BaseException) -> NoReturn:
    print(lines(e), file=sys.stderr, flush=True)
    sys.exit(1)


@contextlib.contextmanager
def one_line(enabled: bool = True) -> Iterator[None]:
    """Inside a task function: an expected failure leaves as its lines and exit 1 (Hydra lets SystemExit pass)."""
    try:
        yield
    except Exception as e:
        if not enabled or full_errors() or not expected(e):
            raise
        refuse(e)


def entry(main: Callable[[], Any]) -> None:
    """Run a `@hydra.main` function as the command line: expected failures as one line per problem, exit 1.

    A plain `key=value` whose key the config lacks is retried as `++key=value`, so that the schema check names
    the nearest known key ("train.epoch: no such key; did you mean train.epochs?") instead of Hydra's hint to
    add it with `+`, which would then be accepted."""
    exit_without_collecting()
    full = full_errors()
    _asked.append(full)
    os.environ[FULL] = "1"  # Hydra then raises its errors instead of printing them with its wrapper
    try:
        while True:  # ends: each retry prefixes one more of the finitely many plain overrides
            try:
                main()
                return
            except ConfigCompositionException as e:
                retry = forced(sys.argv[1:], unknown_key(e) or "")
                if retry is None:
                    raise
                sys.argv[1:] = retry
                GlobalHydra.instance().clear()
    except Exception as e:
        if full or not expected(e):
            raise
        refuse(e)
    finally:
        _asked.pop()
        if not full:
            os.environ.pop(FULL, None)
