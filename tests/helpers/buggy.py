"""A data source with a bug in its own code: what a real bug looks like to the sweep (a traceback, not one line)."""

from dataclasses import dataclass

from ablation.data import Mnist5k


@dataclass
class Buggy(Mnist5k):
    def fingerprint(self) -> str:
        return {}["no such entry"]  # a KeyError: a bug, not a problem of the user's config
