"""Tune: Optuna studies over the workbench's model families, every trial an MLflow child run.

Modules (heavy libraries are imported inside functions, so ``import core.tune`` is light):

``space``     search spaces per family, JSON round-trip, validation, grid derivation, ``suggest``
``metrics``   metric names, directions and fold scoring
``storage``   Optuna storages (journal file default, RDB URLs with heartbeat), study listing
``objective`` training data checks and the cross-validated, pruning-aware objective
``study``     ``StudyConfig``, ``create_or_load_study``, ``run_trials``, ``finalize_study``, ``StudyResult``
``records``   one MLflow child run per finished trial; recovery after a dead worker
``worker``    starting / stopping detached ``tune-worker`` processes
``inspect``   progress, trials table and plotly figures for the page
``commands``  ``python -m core tune`` and ``tune-worker``
"""
