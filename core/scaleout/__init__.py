"""Scale-out: which backends the workbench uses (embedded or team servers) and whether they answer.

The switch itself is two environment variables read once in :mod:`core.config`:
``MLFLOW_TRACKING_URI`` (an ``mlflow server`` URL instead of the SQLite file) and
``OPTUNA_STORAGE`` (a PostgreSQL URL instead of the journal file). Nothing else changes.

``status``    describe and probe both backends (:func:`backend_status`) — the ``status`` command
``commands``  ``python -m core status``
"""
