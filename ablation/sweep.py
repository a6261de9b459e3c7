"""Entry point: `python -m ablation.sweep [-m] [overrides]` — train, reuse or skip one resolved config.

A multirun (`-m`) is planned by the ablation sweeper (hydra_plugins/ablation_sweeper), which hands each launcher
job back to this entry point; a job's life, from its claim to its record, is ablation.run.worker's.
"""

from __future__ import annotations

from typing import Any

import hydra
from omegaconf import DictConfig

from . import errors
from .run import context, placement, worker

placement.register_resolver()  # the launcher presets' ${gpus_per_job:${device}}, before Hydra reads them


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg: DictConfig) -> dict[str, Any] | list[dict[str, Any]]:
    multirun = context.multirun()
    with errors.one_line(enabled=not multirun):  # a multirun's jobs report to the sweeper, which lists their failures
        return worker.one_job(cfg, multirun)


if __name__ == "__main__":
    errors.entry(main)
