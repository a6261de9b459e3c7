"""A run's life, from a sweep's grid to the folder the report reads. Read in this order:

* `plan`: the grid → jobs (each composed by `compose`, validated, named by its identity; reused, skipped or
  trained), `bundles` of seeds trained together, and the `preflight` of each head's structure;
* `job`: the spec the sweeper hands each launcher job (its planned run ids, a bundle's seeds);
* `worker`: one launcher job: claim (`lock`), train, `record`; its `progress` line;
* `multirun`: the sweep's course around them (plan, launch, `outcomes`), which the Hydra sweeper calls;
* `signals`: Ctrl-C and SIGTERM as resumable stops; `placement`: the planner's side of a run's device;
* `overrides`, `context` and `hydra_private`: what this package reads of Hydra.

Nothing here is part of a run's code fingerprint (ablation.identity.TRAINING_MODULES): changing how runs are
planned, claimed or recorded retrains nothing.
"""
