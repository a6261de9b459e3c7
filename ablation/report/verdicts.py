"""Verdicts: the named thresholds, the check/claim records, and the command that would measure a gap."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Every threshold a verdict uses; the report prints them next to the verdicts.
CHANCE = 0.5
CHANCE_MARGIN = 0.05  # "at chance": mean test accuracy within 5 points of 50 %
WORKS_ACC = 0.80  # "works" / "learns": mean test accuracy of at least 80 %
ANTISYM_TOL = 1e-4  # |z(a,b) + z(b,a) − 2c| this small is float32 rounding, i.e. exact
SWAP_TOL = 1e-4  # a symmetric head's mean |s(a,b) − s(b,a)| this small is rounding
SYMMETRY_TOL = 0.05  # random pair order: smaller digit first in 50 % ± 5 points of the different pairs
CEILING = 0.75  # best accuracy over both input orders of an antisymmetric head (§2.3)
CEILING_TOL = 0.005  # slack for test sets that are not exactly balanced
COLLAPSE_STD = 0.05  # a sigmoid output whose std over test pairs is below this answers (almost) the same for every pair
REPLICATES = "0,1,2"  # seeds a suggested sweep command runs

THRESHOLDS = {
    "CHANCE_MARGIN": (CHANCE_MARGIN, "at chance = mean test accuracy within this of 50 %"),
    "WORKS_ACC": (WORKS_ACC, "works / learns = mean test accuracy at least this"),
    "ANTISYM_TOL": (ANTISYM_TOL, "largest |z(a,b) + z(b,a) − 2c| counted as exact (float32 rounding)"),
    "SWAP_TOL": (SWAP_TOL, "largest mean |s(a,b) − s(b,a)| counted as order-independent"),
    "SYMMETRY_TOL": (SYMMETRY_TOL, "random order = smaller digit first in 50 % ± this of the different pairs"),
    "CEILING": (CEILING, "ceiling of accuracy over both input orders for an antisymmetric head"),
    "CEILING_TOL": (CEILING_TOL, "slack on the ceiling for a test set that is not exactly balanced"),
    "COLLAPSE_STD": (COLLAPSE_STD, "collapsed = std of the sigmoid output over test pairs below this"),
}

SUPPORTED, CONTRADICTED, NOT_MEASURED = "supported", "contradicted", "not measured"


@dataclass(frozen=True)
class Check:
    """One measurable part of a claim: its verdict and the numbers behind it."""

    what: str
    verdict: str
    evidence: str
    command: str | None = None  # the sweep that would measure it, when not measured


@dataclass(frozen=True)
class Claim:
    number: int
    title: str
    statement: str
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # measured context that is not a check

    @property
    def verdict(self) -> str:
        """Contradicted if any check is; otherwise not measured if any check is; otherwise supported."""
        verdicts = {c.verdict for c in self.checks}
        if CONTRADICTED in verdicts:
            return CONTRADICTED
        if NOT_MEASURED in verdicts or not verdicts:
            return NOT_MEASURED
        return SUPPORTED


# factor → (override key, the config default it is left out at)
OVERRIDES: dict[str, tuple[str, Any]] = {
    "head": ("head", None), "depth": ("depth", 0), "encoder": ("encoder", "mlp"), "loss": ("loss", "contrastive"),
    "convention": ("loss.convention", "distance"), "pair_order": ("data.pair_order", "random"),
    "data": ("data", "mnist5k"), "epochs": ("train.epochs", 20),
}


def sweep_command(levels: dict[str, Any], context: dict[str, Any]) -> str:
    """The `python -m ablation.sweep -m ...` that runs the given levels (lists become sweeps) in the context."""
    args = []
    for f, v in {**levels, **context}.items():
        if f not in OVERRIDES or v is None:
            continue
        key, default = OVERRIDES[f]
        values = list(v) if isinstance(v, (list, tuple)) else [v]
        explicit = f == "convention" and levels.get("loss") == "bce"  # bce's own default convention differs
        if values == [default] and not explicit:
            continue
        args.append(f"{key}={','.join(str(x) for x in values)}")
    if "convention" not in levels and levels.get("loss") == "bce":
        args.append("loss.convention=distance")
    return " ".join(["python -m ablation.sweep -m", *args, f"seed={REPLICATES}"])
