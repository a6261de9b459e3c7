"""The study's vocabulary: its named factors, each with the config key behind it, its words, its place in the
report's order and its role. Defined here once; the record's factors, the progress line, the config check and the
report's words, tables, selection and judging read them from here, so a new factor is one row of FACTORS.

Light on purpose (no torch, no Hydra): the report imports it.
"""

from __future__ import annotations

from dataclasses import dataclass

# Roles: what the study does with a factor.
VARIED = "varied"  # the study compares its values: a cell is one value of each
RECIPE = "recipe"  # the training recipe, varied too: the claims are judged under each one apart
CONTEXT = "context"  # held fixed by the verdicts (the most common setting, stated in the report)
REPLICATE = "replicate"  # names a run within its cell: the seed


@dataclass(frozen=True)
class Factor:
    name: str  # the short name: the record's key, the report's column, the progress line's word
    key: str  # the dotted config key behind it, as a sweep command overrides it
    words: str  # the factor in words
    role: str  # VARIED, RECIPE, CONTEXT or REPLICATE
    group: str | None = None  # the config group that chooses it (`group=option`), if any
    labelled: bool = False  # its values are classes that declare a label (the record's traits: `<name>_label`)
    number: bool = False  # its values are whole numbers

    @property
    def text(self) -> bool:
        return not self.number


FACTORS = (  # in the report's order
    Factor("head", "head._target_", "head", VARIED, "head", labelled=True),
    Factor("depth", "depth", "hidden layers after the merge", VARIED, number=True),
    Factor("encoder", "encoder._target_", "encoder", VARIED, "encoder", labelled=True),
    Factor("loss", "loss._target_", "loss", VARIED, "loss", labelled=True),
    Factor("convention", "loss.convention", "loss sign convention", VARIED),
    Factor("pair_order", "data.pair_order", "pair order", VARIED),
    Factor("optimizer", "optimizer._target_", "optimizer", RECIPE, "optimizer"),
    Factor("schedule", "schedule._target_", "learning-rate schedule", RECIPE, "schedule"),
    Factor("data", "data._target_", "data set", CONTEXT, "data", labelled=True),
    Factor("seed", "seed", "seed", REPLICATE, number=True),
    Factor("epochs", "train.epochs", "epochs", CONTEXT, number=True),
)
BY_NAME = {f.name: f for f in FACTORS}
SUBJECT = "head"  # what the study asks about; each comparison holds every other varied factor at its baseline

NAMES = tuple(f.name for f in FACTORS)
CELL = tuple(f.name for f in FACTORS if f.role != REPLICATE)  # the known factors of a cell
CONTEXTS = tuple(f.name for f in FACTORS if f.role == CONTEXT)
RECIPES = tuple(f.name for f in FACTORS if f.role == RECIPE)
COMPARED = tuple(f.name for f in FACTORS if f.role in (VARIED, RECIPE))  # what the effect tables compare
BASELINE = tuple(f.name for f in FACTORS if f.role == VARIED and f.name != SUBJECT)  # the Keras setting's factors
# chosen by a config group (`group=option`): the components, then the recipe
GROUPS = tuple(f.name for f in FACTORS if f.group and f.role != RECIPE) + RECIPES
LABELLED = tuple(f.name for f in FACTORS if f.labelled)  # values are classes with a declared label
NUMBERS = tuple(f.name for f in FACTORS if f.number)
TEXTS = tuple(f.name for f in FACTORS if f.text)
DOTTED = {f.name: f.key for f in FACTORS}  # short name → the identity key behind it
SHORT = {f.key: f.name for f in FACTORS}  # dotted identity key → short name
WORDS = {f.name: f.words for f in FACTORS}

# The progress line names a run by these, in this order (a line users read and grep, kept as it was)
PROGRESS = ("head", "depth", "loss", "convention", "encoder", "pair_order", "seed")
