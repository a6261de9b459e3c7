"""`python -m ablation.export`: the run folders (and the report) into an MLflow tracking store.

Hydra, like the report (conf/export.yaml). Needs the optional extra: pip install -e ".[mlflow]".
Then browse: mlflow ui --backend-store-uri sqlite:///results/mlflow/mlflow.db
"""

from __future__ import annotations

import time

import hydra
from hydra.errors import CompactHydraException
from omegaconf import DictConfig

from . import errors
from .tracking import ExportError, default_uri, export


class ExportFailed(CompactHydraException):
    """Printed without a traceback; exit code 1."""


@hydra.main(version_base="1.3", config_path="../conf", config_name="export")
def main(cfg: DictConfig) -> None:
    t0 = time.time()
    uri = cfg.tracking_uri or default_uri(cfg.results_dir)
    try:
        out = export(cfg.results_dir, uri, cfg.experiment, report_dir=cfg.report_dir,
                     artifact_dir=cfg.artifact_dir, artifacts=cfg.artifacts)
    except ExportError as e:
        with errors.one_line():
            raise ExportFailed(str(e)) from e
    print(f"MLflow export to {uri} (experiment {cfg.experiment!r}, id {out.experiment_id}) "
          f"in {time.time() - t0:.1f} s: {out.summary()}")
    print(f"report: {'logged on parent run ' + out.parent_id if out.report else 'none at ' + str(cfg.report_dir) + ' (python -m ablation.report first)'}")
    if uri.startswith("sqlite:///"):
        print(f"browse: mlflow ui --backend-store-uri {uri}")


if __name__ == "__main__":
    errors.entry(main)
