"""Stands in for Ray where it is not installed: put this folder first on PYTHONPATH and `import ray` fails as then."""

raise ModuleNotFoundError("No module named 'ray'", name="ray")
