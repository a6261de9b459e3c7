"""The job spec the sweeper hands a launcher job is decoded by the worker as it was encoded."""

from __future__ import annotations

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from ablation.run.job import JobSpec, members


def test_a_spec_survives_its_overrides():
    for spec in (JobSpec(("0123456789ab",)), JobSpec(("000000000001", "0a0000000002"), (3, 4))):
        parsed = OverridesParser.create().parse_overrides(spec.overrides())
        cfg = OmegaConf.create({o.key_or_group: o.value() for o in parsed} | {"seed": 0})
        assert JobSpec.read(cfg) == spec


def test_a_bundles_members_are_its_seeds_each_with_its_own_overrides():
    cfg = OmegaConf.create({"seed": 0, "head": "x", "bundle_seeds": [1, 2], "run_ids": ["a", "b"]})
    cfgs, overs = members(cfg, ["head=x", "seed=0", "+bundle_seeds=[1,2]", "+run_ids=['a','b']"])
    assert [c.seed for c in cfgs] == [1, 2] and all("bundle_seeds" not in c and "run_ids" not in c for c in cfgs)
    assert overs == [["head=x", "seed=1"], ["head=x", "seed=2"]]
