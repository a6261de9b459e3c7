"""The optional parts a launcher preset needs, and the one line that says how to install a missing one."""

from __future__ import annotations

import importlib
import sys
from typing import Any

# a launcher's class (by the start of its `_target_`) → the module it imports to launch, and the extra installing it
LAUNCHER_MODULES = {"hydra_plugins.ablation_ray_launcher.": ("ray", "ray"),
                    "hydra_plugins.hydra_submitit_launcher.": ("submitit", "slurm")}
# a Hydra launcher plugin whose configs (hydra/launcher/<name>...) a preset extends → the extra installing it
LAUNCHER_PLUGINS = {"submitit": "slurm"}


def preset(default: str) -> str:
    """The launcher preset as the user chose it on the command line (else `default`)."""
    return next((a for a in sys.argv[1:] if a.lstrip("+").startswith("hydra/launcher=")), default)


def launcher_problem(launcher: Any) -> str | None:
    """Why the configured launcher cannot start its jobs here (its extra is not installed), or None."""
    target = str(launcher.get("_target_", "")) if launcher is not None else ""
    for prefix, (module, extra) in LAUNCHER_MODULES.items():
        if target.startswith(prefix):
            try:
                importlib.import_module(module)
            except ImportError:
                return (f"{preset(target)} needs {module}, which is not installed here: "
                        f'pip install -e ".[{extra}]"')
    return None


def missing_plugin(config_path: str) -> str | None:
    """The line for a launcher preset whose Hydra plugin is missing (its config `hydra/launcher/<name>` is not
    found), or None for any other missing config."""
    group, _, name = config_path.rpartition("/")
    if group != "hydra/launcher":
        return None
    for plugin, extra in LAUNCHER_PLUGINS.items():
        if name.startswith(plugin):
            return (f"{preset('hydra/launcher=' + name)} needs Hydra's {plugin} launcher, which is not installed "
                    f'here: pip install -e ".[{extra}]"')
    return None
