"""A sweep composes its grid's choices of config groups as Hydra composes them, reading each config file once."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.types import RunMode
from omegaconf import OmegaConf

from ablation.run.compose import Composer

CONF = Path(__file__).resolve().parents[2] / "conf"
CHOICES = [["head=distance", "encoder=mlp"], ["head=subtract", "encoder=cnn"], ["head=concat", "loss=bce"]]


@pytest.fixture()
def loader():
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        yield loader, loader.load_configuration("config", overrides=[], run_mode=RunMode.MULTIRUN)


def test_each_choice_composes_as_hydra_composes_it_and_each_file_is_read_once(loader, monkeypatch):
    loader, cfg = loader
    expected = [OmegaConf.to_yaml(OmegaConf.masked_copy(full, [k for k in full if k != "hydra"]))
                for full in (loader.load_sweep_config(cfg, c) for c in CHOICES)]
    reads: list[str] = []
    composer = Composer(cfg, loader)
    repository = composer.loader.repository.delegate
    original = type(repository).load_config
    monkeypatch.setattr(type(repository), "load_config", lambda self, path: reads.append(path) or original(self, path))
    got = [OmegaConf.to_yaml(composer.compose([*choice, "depth=1", "seed=3"])) for choice in CHOICES]
    assert [g.replace("depth: 1", "depth: 0").replace("seed: 3", "seed: 0") for g in got] == expected
    assert reads and len(reads) == len(set(reads))  # every file parsed once across all the compositions
    assert "config" in reads and "head/distance" in reads and "head/subtract" in reads
    assert composer.loader is not loader and loader.repository is not composer.loader.repository  # the launcher's
    # loader, handed on to the jobs, is left as it was


def test_a_file_read_once_is_handed_out_afresh_and_copies_share_what_was_read(loader):
    """Hydra merges a loaded file's nodes into the composition without copying them and then sets the job's
    values there: a file kept for later compositions must not be the one handed out."""
    loader, cfg = loader
    repository = Composer(cfg, loader).loader.repository
    first = repository.load_config("head/distance")
    first.config.clear()
    first.defaults_list.clear()
    again = copy.deepcopy(repository).load_config("head/distance")
    assert again.config._target_ == "ablation.heads.Distance" and again is not first
    assert copy.deepcopy(repository).kept is repository.kept and len(repository.kept) == 1
