"""`hydra/launcher=ablation_ray` for Hydra's launcher conformance suites: the project's Ray launcher as a plain Hydra
launcher, without the project's preset (`conf/hydra/launcher/ray.yaml` reads `device`, which the suites' apps do not
have). On the path only of the tests that run the suites (tests/plugins), as Hydra finds a plugin's configs."""

from hydra.core.config_store import ConfigStore

ConfigStore.instance().store(
    group="hydra/launcher", name="ablation_ray", provider="siamese-ablation tests",
    node={"_target_": "hydra_plugins.ablation_ray_launcher.ray_launcher.RayLauncher", "address": "auto", "init": {},
          "remote": {"num_cpus": 1}},
)
