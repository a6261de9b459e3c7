"""The planner hands each job the paths it reads and writes as absolute paths of the user's folder, so that a job's
files do not depend on where its worker process started (the Ray launcher's tests run that case end to end)."""

from __future__ import annotations

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from ablation.run.bundles import absolute_paths, bundle_overrides
from ablation.run.plan import Job


def test_relative_paths_are_resolved_against_the_users_folder_and_replace_the_users_overrides():
    cfg = OmegaConf.create({"results_dir": "results", "data": {"root": "../data/mnist"}})
    paths = absolute_paths(cfg, "/home/u/study")
    assert paths == ["results_dir=/home/u/study/results", "data.root=/home/u/data/mnist"]
    job = Job(["head=absdiff", "results_dir=results"], "0123456789ab", "train", paths=paths)
    assert bundle_overrides([job]) == ["head=absdiff", "results_dir=/home/u/study/results",
                                       "data.root=/home/u/data/mnist", "+run_ids=['0123456789ab']"]


def test_absolute_paths_are_left_as_they_are_and_any_path_survives_the_override_grammar():
    assert absolute_paths(OmegaConf.create({"results_dir": "/srv/results", "data": {}}), "/home/u") == []
    odd = OmegaConf.create({"results_dir": "my results, 'v2'=final", "data": {"root": "data"}})
    parsed = OverridesParser.create().parse_overrides(absolute_paths(odd, "/home/u"))
    assert [o.value() for o in parsed] == ["/home/u/my results, 'v2'=final", "/home/u/data"]
